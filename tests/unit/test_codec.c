/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_codec.c - register codec: every type in every word order.
 *
 * The decode tables are register values written out by hand from the
 * big-endian bytes of each value (see the comment on every row), never
 * produced by the encoder, so an encoder and decoder that agree on a wrong
 * order would still fail here. Round-trip tests then check decode(encode(x))
 * over the extremes of each type, and the error tests pin down what a bad
 * spec, a short buffer, a sentinel or a NaN pattern does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "officemeter/base/codec.h"
#include "testutil.h"

#define NORDERS OM_ORDER__COUNT
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const om_order all_orders[NORDERS] = {OM_ORDER_ABCD, OM_ORDER_CDAB, OM_ORDER_BADC,
                                             OM_ORDER_DCBA};

/* ---- helpers ------------------------------------------------------------ */

static om_regspec make_spec(om_type type, om_order order, double scale)
{
    om_regspec spec;
    memset(&spec, 0, sizeof spec);
    spec.type = type;
    spec.order = order;
    spec.scale = scale;
    return spec;
}

static void add_sentinel(om_regspec *spec, uint64_t pattern)
{
    spec->sentinels[spec->nsentinels++] = pattern;
}

static void add_part(om_regspec *spec, uint16_t offset, om_type type, int64_t multiplier)
{
    spec->parts[spec->nparts++] = (om_part){offset, type, multiplier};
}

/* Whole m³ (u32, registers 0-1) plus mL (u32, registers 2-3): the Dynaflox
 * ultraD total, canonical value in m³. */
static om_regspec water_composite(om_order order)
{
    om_regspec spec = make_spec(OM_TYPE_COMPOSITE, order, 1e-6);
    add_part(&spec, 0, OM_TYPE_U32, 1000000);
    add_part(&spec, 2, OM_TYPE_U32, 1);
    return spec;
}

static const char *label(const om_regspec *spec, const char *what)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s/%s %s", om_type_name(spec->type), om_order_name(spec->order),
             what);
    return buf;
}

static void check_regs(const uint16_t *got, const uint16_t *want, size_t n, const char *ctx)
{
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i])
            fail_msg("%s: register %zu is 0x%04X, want 0x%04X", ctx, i, (unsigned)got[i],
                     (unsigned)want[i]);
    }
}

static void check_i64(int64_t got, int64_t want, const char *ctx)
{
    if (got != want)
        fail_msg("%s: got %" PRId64 ", want %" PRId64, ctx, got, want);
}

/* Exact equality, including the sign of zero. */
static void check_double(double got, double want, const char *ctx)
{
    if (got != want || signbit(got) != signbit(want))
        fail_msg("%s: got %.17g, want %.17g", ctx, got, want);
}

static void check_status(om_decode_status got, om_decode_status want, const char *ctx)
{
    if (got != want)
        fail_msg("%s: status %d, want %d", ctx, (int)got, (int)want);
}

/* ---- decoding known patterns ------------------------------------------- */

/* Registers as they arrive on the wire for each order, ABCD CDAB BADC DCBA. */
typedef struct {
    const char *what;
    om_type type;
    double scale;
    uint16_t regs[NORDERS][4];
    int64_t raw;
    bool exact;
    double value;
    bool encodes; /* encoding raw (exact) or value gives back exactly these registers */
} known_pattern;

static const known_pattern known[] = {
    /* u16: only the byte swap matters */
    {"0x1234", OM_TYPE_U16, 1, {{0x1234}, {0x1234}, {0x3412}, {0x3412}}, 4660, true, 4660, true},
    {"0xFFFF", OM_TYPE_U16, 1, {{0xFFFF}, {0xFFFF}, {0xFFFF}, {0xFFFF}}, 65535, true, 65535, true},
    {"0x00FF x0.5", OM_TYPE_U16, 0.5, {{0x00FF}, {0x00FF}, {0xFF00}, {0xFF00}}, 255, true, 127.5,
     true},
    {"0", OM_TYPE_U16, 1, {{0}, {0}, {0}, {0}}, 0, true, 0, true},
    /* s16 */
    {"-2 = 0xFFFE", OM_TYPE_S16, 1, {{0xFFFE}, {0xFFFE}, {0xFEFF}, {0xFEFF}}, -2, true, -2, true},
    {"-12345 = 0xCFC7 x0.1", OM_TYPE_S16, 0.1, {{0xCFC7}, {0xCFC7}, {0xC7CF}, {0xC7CF}}, -12345,
     true, -1234.5, true},
    {"min 0x8000", OM_TYPE_S16, 1, {{0x8000}, {0x8000}, {0x0080}, {0x0080}}, -32768, true, -32768,
     true},
    {"max 0x7FFF", OM_TYPE_S16, 1, {{0x7FFF}, {0x7FFF}, {0xFF7F}, {0xFF7F}}, 32767, true, 32767,
     true},
    /* u32 */
    {"0x12345678", OM_TYPE_U32, 1,
     {{0x1234, 0x5678}, {0x5678, 0x1234}, {0x3412, 0x7856}, {0x7856, 0x3412}}, 305419896, true,
     305419896, true},
    {"0x00010002", OM_TYPE_U32, 1,
     {{0x0001, 0x0002}, {0x0002, 0x0001}, {0x0100, 0x0200}, {0x0200, 0x0100}}, 65538, true, 65538,
     true},
    {"max 0xFFFFFFFF, no sentinel", OM_TYPE_U32, 1,
     {{0xFFFF, 0xFFFF}, {0xFFFF, 0xFFFF}, {0xFFFF, 0xFFFF}, {0xFFFF, 0xFFFF}}, 4294967295,
     true, 4294967295.0, true},
    /* s32 */
    {"-12345 = 0xFFFFCFC7 x0.1", OM_TYPE_S32, 0.1,
     {{0xFFFF, 0xCFC7}, {0xCFC7, 0xFFFF}, {0xFFFF, 0xC7CF}, {0xC7CF, 0xFFFF}}, -12345, true,
     -1234.5, true},
    {"-123456789 = 0xF8A432EB", OM_TYPE_S32, 1,
     {{0xF8A4, 0x32EB}, {0x32EB, 0xF8A4}, {0xA4F8, 0xEB32}, {0xEB32, 0xA4F8}}, -123456789, true,
     -123456789, true},
    {"kWh x10 1234567 = 0x0012D687", OM_TYPE_S32, 0.1,
     {{0x0012, 0xD687}, {0xD687, 0x0012}, {0x1200, 0x87D6}, {0x87D6, 0x1200}}, 1234567, true,
     1234567 * 0.1, true},
    {"min 0x80000000", OM_TYPE_S32, 1,
     {{0x8000, 0x0000}, {0x0000, 0x8000}, {0x0080, 0x0000}, {0x0000, 0x0080}}, INT32_MIN, true,
     -2147483648.0, true},
    /* u64 */
    {"0x0102030405060708", OM_TYPE_U64, 1,
     {{0x0102, 0x0304, 0x0506, 0x0708},
      {0x0708, 0x0506, 0x0304, 0x0102},
      {0x0201, 0x0403, 0x0605, 0x0807},
      {0x0807, 0x0605, 0x0403, 0x0201}},
     72623859790382856, true, 72623859790382856.0, true},
    {"Wh 123456789012345 = 0x00007048860DDF79", OM_TYPE_U64, 0.001,
     {{0x0000, 0x7048, 0x860D, 0xDF79},
      {0xDF79, 0x860D, 0x7048, 0x0000},
      {0x0000, 0x4870, 0x0D86, 0x79DF},
      {0x79DF, 0x0D86, 0x4870, 0x0000}},
     123456789012345, true, 123456789012345 * 0.001, true},
    {"2^53+1 = 0x0020000000000001", OM_TYPE_U64, 1,
     {{0x0020, 0x0000, 0x0000, 0x0001},
      {0x0001, 0x0000, 0x0000, 0x0020},
      {0x2000, 0x0000, 0x0000, 0x0100},
      {0x0100, 0x0000, 0x0000, 0x2000}},
     9007199254740993, true, 9007199254740992.0, true},
    {"2^63+2^11 = 0x8000000000000800 (above INT64_MAX)", OM_TYPE_U64, 1,
     {{0x8000, 0x0000, 0x0000, 0x0800},
      {0x0800, 0x0000, 0x0000, 0x8000},
      {0x0080, 0x0000, 0x0000, 0x0008},
      {0x0008, 0x0000, 0x0000, 0x0080}},
     0, false, 9223372036854777856.0, true},
    {"2^63+1 = 0x8000000000000001 (not a double)", OM_TYPE_U64, 1,
     {{0x8000, 0x0000, 0x0000, 0x0001},
      {0x0001, 0x0000, 0x0000, 0x8000},
      {0x0080, 0x0000, 0x0000, 0x0100},
      {0x0100, 0x0000, 0x0000, 0x0080}},
     0, false, 9223372036854775808.0, false},
    {"max, no sentinel", OM_TYPE_U64, 1,
     {{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}},
     0, false, 18446744073709551616.0, false},
    /* s64 */
    {"Wh 123456789012345 = 0x00007048860DDF79", OM_TYPE_S64, 0.001,
     {{0x0000, 0x7048, 0x860D, 0xDF79},
      {0xDF79, 0x860D, 0x7048, 0x0000},
      {0x0000, 0x4870, 0x0D86, 0x79DF},
      {0x79DF, 0x0D86, 0x4870, 0x0000}},
     123456789012345, true, 123456789012345 * 0.001, true},
    {"-123456789012345 = 0xFFFF8FB779F22087", OM_TYPE_S64, 1,
     {{0xFFFF, 0x8FB7, 0x79F2, 0x2087},
      {0x2087, 0x79F2, 0x8FB7, 0xFFFF},
      {0xFFFF, 0xB78F, 0xF279, 0x8720},
      {0x8720, 0xF279, 0xB78F, 0xFFFF}},
     -123456789012345, true, -123456789012345.0, true},
    {"2^53+1 = 0x0020000000000001", OM_TYPE_S64, 1,
     {{0x0020, 0x0000, 0x0000, 0x0001},
      {0x0001, 0x0000, 0x0000, 0x0020},
      {0x2000, 0x0000, 0x0000, 0x0100},
      {0x0100, 0x0000, 0x0000, 0x2000}},
     9007199254740993, true, 9007199254740992.0, true},
    {"-(2^53+1) = 0xFFDFFFFFFFFFFFFF", OM_TYPE_S64, 1,
     {{0xFFDF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFDF},
      {0xDFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xDFFF}},
     -9007199254740993, true, -9007199254740992.0, true},
    {"min 0x8000000000000000", OM_TYPE_S64, 1,
     {{0x8000, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0x8000},
      {0x0080, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0x0080}},
     INT64_MIN, true, -9223372036854775808.0, true},
    {"max 0x7FFFFFFFFFFFFFFF, no sentinel", OM_TYPE_S64, 1,
     {{0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0x7FFF},
      {0xFF7F, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFF7F}},
     INT64_MAX, true, 9223372036854775807.0, true},
    {"-1", OM_TYPE_S64, 1,
     {{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}},
     -1, true, -1.0, true},
    /* f32 */
    {"230.5 = 0x43668000", OM_TYPE_F32, 1,
     {{0x4366, 0x8000}, {0x8000, 0x4366}, {0x6643, 0x0080}, {0x0080, 0x6643}}, 0, false, 230.5,
     true},
    {"-1234.5677490234375 = 0xC49A522B", OM_TYPE_F32, 1,
     {{0xC49A, 0x522B}, {0x522B, 0xC49A}, {0x9AC4, 0x2B52}, {0x2B52, 0x9AC4}}, 0, false,
     -1234.5677490234375, true},
    {"230.5 W = 0x43668000 x0.001", OM_TYPE_F32, 0.001,
     {{0x4366, 0x8000}, {0x8000, 0x4366}, {0x6643, 0x0080}, {0x0080, 0x6643}}, 0, false,
     230.5 * 0.001, false},
    {"-0.0 = 0x80000000", OM_TYPE_F32, 1,
     {{0x8000, 0x0000}, {0x0000, 0x8000}, {0x0080, 0x0000}, {0x0000, 0x0080}}, 0, false, -0.0,
     true},
    /* f64 */
    {"230.5 = 0x406CD00000000000", OM_TYPE_F64, 1,
     {{0x406C, 0xD000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0xD000, 0x406C},
      {0x6C40, 0x00D0, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x00D0, 0x6C40}},
     0, false, 230.5, true},
    {"-1234.5678 = 0xC0934A456D5CFAAD", OM_TYPE_F64, 1,
     {{0xC093, 0x4A45, 0x6D5C, 0xFAAD},
      {0xFAAD, 0x6D5C, 0x4A45, 0xC093},
      {0x93C0, 0x454A, 0x5C6D, 0xADFA},
      {0xADFA, 0x5C6D, 0x454A, 0x93C0}},
     0, false, -1234.5678, true},
};

static void test_decode_known_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(known); i++) {
        const known_pattern *k = &known[i];
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec(k->type, all_orders[o], k->scale);
            size_t n = om_type_register_count(k->type);
            om_value v;
            check_status(om_codec_decode(&spec, k->regs[o], n, &v), OM_DECODE_OK,
                         label(&spec, k->what));
            check_double(v.value, k->value, label(&spec, k->what));
            assert_int_equal(v.exact, k->exact);
            if (k->exact)
                check_i64(v.raw, k->raw, label(&spec, k->what));
        }
    }
}

/* The same rows from the other side: the encoder must produce exactly the
 * hand-written registers. */
static void test_encode_known_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(known); i++) {
        const known_pattern *k = &known[i];
        if (!k->encodes)
            continue;
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec(k->type, all_orders[o], k->scale);
            size_t n = om_type_register_count(k->type);
            uint16_t regs[4] = {0xAAAA, 0xAAAA, 0xAAAA, 0xAAAA};
            int rc = k->exact ? om_codec_encode_raw(&spec, k->raw, regs, n)
                              : om_codec_encode(&spec, k->value, regs, n);
            if (rc != 0)
                fail_msg("%s: encode failed", label(&spec, k->what));
            check_regs(regs, k->regs[o], n, label(&spec, k->what));
            if (k->exact && k->raw <= (INT64_C(1) << 53) && k->raw >= -(INT64_C(1) << 53)) {
                /* encoding the scaled value rounds back to the same raw */
                memset(regs, 0xAA, sizeof regs);
                assert_int_equal(om_codec_encode(&spec, k->value, regs, n), 0);
                check_regs(regs, k->regs[o], n, label(&spec, k->what));
            }
        }
    }
}

/* The tables above must keep a row for every non-composite type (each row
 * covers the four orders); composites have their own table below. */
static void test_known_patterns_cover_every_type(void **state)
{
    (void)state;
    for (int t = 0; t < OM_TYPE__COUNT; t++) {
        if (t == OM_TYPE_COMPOSITE)
            continue;
        size_t rows = 0, encoded = 0;
        for (size_t i = 0; i < ARRAY_LEN(known); i++) {
            if (known[i].type == (om_type)t) {
                rows++;
                encoded += known[i].encodes;
            }
        }
        if (rows < 2 || encoded < 2)
            fail_msg("type %s: %zu decode rows, %zu encode rows", om_type_name((om_type)t), rows,
                     encoded);
    }
}

/* A decoder that ignored the order would read ABCD's registers the same in
 * every order; reading each order's registers in the wrong order must give a
 * different value (for a pattern whose words and bytes all differ). */
static void test_wrong_order_differs(void **state)
{
    (void)state;
    const uint16_t regs[4] = {0x0102, 0x0304, 0x0506, 0x0708};
    for (size_t a = 0; a < NORDERS; a++) {
        om_regspec spec = make_spec(OM_TYPE_U64, all_orders[a], 1);
        om_value v;
        assert_int_equal(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_OK);
        for (size_t b = 0; b < a; b++) {
            om_regspec other = make_spec(OM_TYPE_U64, all_orders[b], 1);
            om_value w;
            assert_int_equal(om_codec_decode(&other, regs, 4, &w), OM_DECODE_OK);
            assert_true(v.raw != w.raw);
        }
    }
}

/* Registers beyond the spec's count are not read. */
static void test_decode_ignores_extra_registers(void **state)
{
    (void)state;
    const uint16_t regs[6] = {0x4366, 0x8000, 0xFFFF, 0xFFFF, 0x7FC0, 0x0000};
    om_regspec spec = make_spec(OM_TYPE_F32, OM_ORDER_ABCD, 1);
    om_value v;
    assert_int_equal(om_codec_decode(&spec, regs, 6, &v), OM_DECODE_OK);
    check_double(v.value, 230.5, "f32 with trailing registers");
}

/* ---- non-finite floats -------------------------------------------------- */

typedef struct {
    const char *what;
    om_type type;
    uint16_t regs[NORDERS][4];
} float_pattern;

static const float_pattern non_finite[] = {
    {"f32 +Inf 0x7F800000", OM_TYPE_F32,
     {{0x7F80, 0x0000}, {0x0000, 0x7F80}, {0x807F, 0x0000}, {0x0000, 0x807F}}},
    {"f32 -Inf 0xFF800000", OM_TYPE_F32,
     {{0xFF80, 0x0000}, {0x0000, 0xFF80}, {0x80FF, 0x0000}, {0x0000, 0x80FF}}},
    {"f32 quiet NaN 0x7FC00000", OM_TYPE_F32,
     {{0x7FC0, 0x0000}, {0x0000, 0x7FC0}, {0xC07F, 0x0000}, {0x0000, 0xC07F}}},
    {"f32 signalling NaN 0x7F800001", OM_TYPE_F32,
     {{0x7F80, 0x0001}, {0x0001, 0x7F80}, {0x807F, 0x0100}, {0x0100, 0x807F}}},
    {"f32 negative NaN 0xFFC00000", OM_TYPE_F32,
     {{0xFFC0, 0x0000}, {0x0000, 0xFFC0}, {0xC0FF, 0x0000}, {0x0000, 0xC0FF}}},
    {"f32 all ones 0xFFFFFFFF", OM_TYPE_F32,
     {{0xFFFF, 0xFFFF}, {0xFFFF, 0xFFFF}, {0xFFFF, 0xFFFF}, {0xFFFF, 0xFFFF}}},
    {"f64 +Inf 0x7FF0000000000000", OM_TYPE_F64,
     {{0x7FF0, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0x7FF0},
      {0xF07F, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0xF07F}}},
    {"f64 -Inf 0xFFF0000000000000", OM_TYPE_F64,
     {{0xFFF0, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0xFFF0},
      {0xF0FF, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0xF0FF}}},
    {"f64 quiet NaN 0x7FF8000000000000", OM_TYPE_F64,
     {{0x7FF8, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0x7FF8},
      {0xF87F, 0x0000, 0x0000, 0x0000},
      {0x0000, 0x0000, 0x0000, 0xF87F}}},
    {"f64 signalling NaN 0x7FF0000000000001", OM_TYPE_F64,
     {{0x7FF0, 0x0000, 0x0000, 0x0001},
      {0x0001, 0x0000, 0x0000, 0x7FF0},
      {0xF07F, 0x0000, 0x0000, 0x0100},
      {0x0100, 0x0000, 0x0000, 0xF07F}}},
    {"f64 all ones", OM_TYPE_F64,
     {{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}}},
};

static void test_decode_rejects_non_finite(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(non_finite); i++) {
        const float_pattern *p = &non_finite[i];
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec(p->type, all_orders[o], 1);
            om_value v = {.value = 42, .exact = true, .raw = 42};
            check_status(om_codec_decode(&spec, p->regs[o], om_type_register_count(p->type), &v),
                         OM_DECODE_NOT_FINITE, label(&spec, p->what));
            check_double(v.value, 0, label(&spec, "output cleared"));
            assert_false(v.exact);
        }
    }
}

/* Read in the wrong order, an infinity is a small finite number: proof that
 * the NaN test looks at the bits after the order is undone. */
static void test_non_finite_only_in_its_order(void **state)
{
    (void)state;
    const uint16_t inf_abcd[2] = {0x7F80, 0x0000};
    om_regspec spec = make_spec(OM_TYPE_F32, OM_ORDER_CDAB, 1);
    om_value v;
    assert_int_equal(om_codec_decode(&spec, inf_abcd, 2, &v), OM_DECODE_OK);
    assert_true(isfinite(v.value));
}

static void test_decode_scaled_overflow_is_not_finite(void **state)
{
    (void)state;
    /* DBL_MAX = 0x7FEFFFFFFFFFFFFF, times 10 overflows */
    const uint16_t regs[4] = {0x7FEF, 0xFFFF, 0xFFFF, 0xFFFF};
    om_regspec spec = make_spec(OM_TYPE_F64, OM_ORDER_ABCD, 10);
    om_value v;
    assert_int_equal(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_NOT_FINITE);
    spec.scale = 1;
    assert_int_equal(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_OK);
    check_double(v.value, DBL_MAX, "f64 max");
}

/* ---- sentinels ---------------------------------------------------------- */

typedef struct {
    const char *what;
    om_type type;
    om_order order;
    uint64_t sentinels[2];
    size_t nsentinels;
    uint16_t regs[4];
    om_decode_status status;
    int64_t raw; /* when OK and integer */
} sentinel_case;

static const sentinel_case sentinel_cases[] = {
    {"u16 0xFFFF", OM_TYPE_U16, OM_ORDER_ABCD, {0xFFFF}, 1, {0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u16 0xFFFF", OM_TYPE_U16, OM_ORDER_BADC, {0xFFFF}, 1, {0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u16 0xFFFE", OM_TYPE_U16, OM_ORDER_BADC, {0xFFFF}, 1, {0xFFFE}, OM_DECODE_OK, 0xFEFF},
    {"u32 0xFFFFFFFF", OM_TYPE_U32, OM_ORDER_ABCD, {0xFFFFFFFF}, 1, {0xFFFF, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"u32 0xFFFFFFFF", OM_TYPE_U32, OM_ORDER_CDAB, {0xFFFFFFFF}, 1, {0xFFFF, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"u32 0xFFFFFFFF", OM_TYPE_U32, OM_ORDER_BADC, {0xFFFFFFFF}, 1, {0xFFFF, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"u32 0xFFFFFFFF", OM_TYPE_U32, OM_ORDER_DCBA, {0xFFFFFFFF}, 1, {0xFFFF, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"u32 0xFFFFFFFE is a value", OM_TYPE_U32, OM_ORDER_ABCD, {0xFFFFFFFF}, 1, {0xFFFF, 0xFFFE},
     OM_DECODE_OK, 4294967294},
    {"u32 zero as sentinel", OM_TYPE_U32, OM_ORDER_ABCD, {0}, 1, {0, 0}, OM_DECODE_NOT_AVAILABLE,
     0},
    /* s32 0x7FFFFFFF: compared after the order is undone */
    {"s32 0x7FFFFFFF", OM_TYPE_S32, OM_ORDER_ABCD, {0x7FFFFFFF}, 1, {0x7FFF, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"s32 0x7FFFFFFF", OM_TYPE_S32, OM_ORDER_CDAB, {0x7FFFFFFF}, 1, {0xFFFF, 0x7FFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"s32 0x7FFFFFFF", OM_TYPE_S32, OM_ORDER_BADC, {0x7FFFFFFF}, 1, {0xFF7F, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"s32 0x7FFFFFFF", OM_TYPE_S32, OM_ORDER_DCBA, {0x7FFFFFFF}, 1, {0xFFFF, 0xFF7F},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"s32 ABCD registers read as CDAB = 0xFFFF7FFF", OM_TYPE_S32, OM_ORDER_CDAB, {0x7FFFFFFF}, 1,
     {0x7FFF, 0xFFFF}, OM_DECODE_OK, -32769},
    {"s32 CDAB registers read as ABCD = 0xFFFF7FFF", OM_TYPE_S32, OM_ORDER_ABCD, {0x7FFFFFFF}, 1,
     {0xFFFF, 0x7FFF}, OM_DECODE_OK, -32769},
    {"s32 second sentinel 0x80000000", OM_TYPE_S32, OM_ORDER_ABCD, {0x7FFFFFFF, 0x80000000}, 2,
     {0x8000, 0x0000}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u64 all ones", OM_TYPE_U64, OM_ORDER_ABCD, {UINT64_MAX}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u64 all ones", OM_TYPE_U64, OM_ORDER_CDAB, {UINT64_MAX}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u64 all ones", OM_TYPE_U64, OM_ORDER_BADC, {UINT64_MAX}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u64 all ones", OM_TYPE_U64, OM_ORDER_DCBA, {UINT64_MAX}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"u64 one bit short", OM_TYPE_U64, OM_ORDER_ABCD, {UINT64_MAX}, 1,
     {0x0FFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_OK, 0x0FFFFFFFFFFFFFFF},
    {"s64 0x7FFF...", OM_TYPE_S64, OM_ORDER_ABCD, {0x7FFFFFFFFFFFFFFF}, 1,
     {0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"s64 0x7FFF...", OM_TYPE_S64, OM_ORDER_CDAB, {0x7FFFFFFFFFFFFFFF}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0x7FFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"s64 0x7FFF...", OM_TYPE_S64, OM_ORDER_BADC, {0x7FFFFFFFFFFFFFFF}, 1,
     {0xFF7F, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
    {"s64 0x7FFF...", OM_TYPE_S64, OM_ORDER_DCBA, {0x7FFFFFFFFFFFFFFF}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0xFF7F}, OM_DECODE_NOT_AVAILABLE, 0},
    /* a sentinel wider than the type can never match */
    {"u16 with a 32-bit sentinel", OM_TYPE_U16, OM_ORDER_ABCD, {0xFFFFFFFF}, 1, {0xFFFF},
     OM_DECODE_OK, 65535},
    /* a declared sentinel wins over the NaN test */
    {"f32 0xFFFFFFFF declared", OM_TYPE_F32, OM_ORDER_ABCD, {0xFFFFFFFF}, 1, {0xFFFF, 0xFFFF},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"f32 quiet NaN declared", OM_TYPE_F32, OM_ORDER_DCBA, {0x7FC00000}, 1, {0x0000, 0xC07F},
     OM_DECODE_NOT_AVAILABLE, 0},
    {"f32 other NaN not declared", OM_TYPE_F32, OM_ORDER_ABCD, {0x7FC00000}, 1, {0xFFFF, 0xFFFF},
     OM_DECODE_NOT_FINITE, 0},
    {"f64 all ones declared", OM_TYPE_F64, OM_ORDER_CDAB, {UINT64_MAX}, 1,
     {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE, 0},
};

static om_regspec sentinel_spec(const sentinel_case *c)
{
    om_regspec spec = make_spec(c->type, c->order, 1);
    for (size_t s = 0; s < c->nsentinels; s++)
        add_sentinel(&spec, c->sentinels[s]);
    return spec;
}

static void test_sentinels(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(sentinel_cases); i++) {
        const sentinel_case *c = &sentinel_cases[i];
        om_regspec spec = sentinel_spec(c);
        om_value v;
        check_status(om_codec_decode(&spec, c->regs, om_type_register_count(c->type), &v),
                     c->status, label(&spec, c->what));
        if (c->status == OM_DECODE_OK && om_type_is_integer(c->type))
            check_i64(v.raw, c->raw, label(&spec, c->what));
        if (c->status == OM_DECODE_NOT_AVAILABLE)
            check_double(v.value, 0, label(&spec, "output cleared"));
        /* The probe names the pattern it saw: exactly when decode says so. */
        uint64_t pattern = 0;
        bool shown = om_codec_sentinel_shown(&spec, c->regs, om_type_register_count(c->type),
                                             &pattern);
        if (shown != (c->status == OM_DECODE_NOT_AVAILABLE))
            fail_msg("%s: sentinel_shown %d, decode %d", label(&spec, c->what), shown, c->status);
        if (shown && pattern != spec.sentinels[0] && pattern != spec.sentinels[spec.nsentinels - 1])
            fail_msg("%s: pattern 0x%llx is not one of the spec's", label(&spec, c->what),
                     (unsigned long long)pattern);
    }
}

/* Where the first sentinel is the one on the wire, encoding it gives the
 * same registers. */
static void test_encode_sentinel_patterns(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t i = 0; i < ARRAY_LEN(sentinel_cases); i++) {
        const sentinel_case *c = &sentinel_cases[i];
        if (c->status != OM_DECODE_NOT_AVAILABLE || c->nsentinels != 1)
            continue;
        om_regspec spec = sentinel_spec(c);
        uint16_t regs[4] = {0x1111, 0x1111, 0x1111, 0x1111};
        size_t n = om_type_register_count(c->type);
        assert_int_equal(om_codec_encode_sentinel(&spec, regs, n), 0);
        check_regs(regs, c->regs, n, label(&spec, c->what));
        checked++;
    }
    assert_true(checked >= 10);
}

static void test_encode_sentinel_errors(void **state)
{
    (void)state;
    uint16_t regs[4] = {0};
    om_regspec spec = make_spec(OM_TYPE_U32, OM_ORDER_ABCD, 1);
    assert_int_equal(om_codec_encode_sentinel(&spec, regs, 2), -1); /* none declared */
    add_sentinel(&spec, 0xFFFFFFFF);
    assert_int_equal(om_codec_encode_sentinel(&spec, regs, 1), -1); /* too short */
    assert_int_equal(om_codec_encode_sentinel(&spec, NULL, 2), -1);
    spec.type = OM_TYPE_U16; /* the pattern does not fit 16 bits */
    assert_int_equal(om_codec_encode_sentinel(&spec, regs, 1), -1);
}

/* ---- composites --------------------------------------------------------- */

typedef struct {
    om_order order;
    uint16_t regs[4];
} order_regs;

/* 12345 m³ = 0x00003039 and 678901 mL = 0x000A5BF5. */
static const order_regs water_12345_678901[NORDERS] = {
    {OM_ORDER_ABCD, {0x0000, 0x3039, 0x000A, 0x5BF5}},
    {OM_ORDER_CDAB, {0x3039, 0x0000, 0x5BF5, 0x000A}},
    {OM_ORDER_BADC, {0x0000, 0x3930, 0x0A00, 0xF55B}},
    {OM_ORDER_DCBA, {0x3930, 0x0000, 0xF55B, 0x0A00}},
};

static void test_composite_known_pattern(void **state)
{
    (void)state;
    for (size_t o = 0; o < NORDERS; o++) {
        om_regspec spec = water_composite(water_12345_678901[o].order);
        om_value v;
        assert_int_equal(om_codec_register_count(&spec), 4);
        check_status(om_codec_decode(&spec, water_12345_678901[o].regs, 4, &v), OM_DECODE_OK,
                     label(&spec, "12345 m3 + 678901 mL"));
        assert_true(v.exact);
        check_i64(v.raw, 12345678901, label(&spec, "raw"));
        check_double(v.value, 12345678901 * 1e-6, label(&spec, "value"));
        om_test_assert_near(v.value, 12345.678901);

        uint16_t regs[4] = {0xAAAA, 0xAAAA, 0xAAAA, 0xAAAA};
        assert_int_equal(om_codec_encode_raw(&spec, 12345678901, regs, 4), 0);
        check_regs(regs, water_12345_678901[o].regs, 4, label(&spec, "encode raw"));
        memset(regs, 0xAA, sizeof regs);
        assert_int_equal(om_codec_encode(&spec, 12345.678901, regs, 4), 0);
        check_regs(regs, water_12345_678901[o].regs, 4, label(&spec, "encode value"));
    }
}

/* s32 whole part and u32 fraction: a negative total borrows from the whole
 * part so that the fraction stays positive. -1500001 = -2 * 10^6 + 499999:
 * -2 = 0xFFFFFFFE, 499999 = 0x0007A11F. */
static const order_regs signed_whole_neg[NORDERS] = {
    {OM_ORDER_ABCD, {0xFFFF, 0xFFFE, 0x0007, 0xA11F}},
    {OM_ORDER_CDAB, {0xFFFE, 0xFFFF, 0xA11F, 0x0007}},
    {OM_ORDER_BADC, {0xFFFF, 0xFEFF, 0x0700, 0x1FA1}},
    {OM_ORDER_DCBA, {0xFEFF, 0xFFFF, 0x1FA1, 0x0700}},
};

static void test_composite_negative_signed_whole(void **state)
{
    (void)state;
    for (size_t o = 0; o < NORDERS; o++) {
        om_regspec spec = make_spec(OM_TYPE_COMPOSITE, signed_whole_neg[o].order, 1e-6);
        add_part(&spec, 0, OM_TYPE_S32, 1000000);
        add_part(&spec, 2, OM_TYPE_U32, 1);
        om_value v;
        assert_int_equal(om_codec_decode(&spec, signed_whole_neg[o].regs, 4, &v), OM_DECODE_OK);
        check_i64(v.raw, -1500001, label(&spec, "decode"));
        uint16_t regs[4];
        assert_int_equal(om_codec_encode_raw(&spec, -1500001, regs, 4), 0);
        check_regs(regs, signed_whole_neg[o].regs, 4, label(&spec, "encode"));
    }
}

/* Both parts signed: each part carries the sign, -1 m³ and -500001 mL. */
static void test_composite_negative_signed_parts(void **state)
{
    (void)state;
    om_regspec spec = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 1e-6);
    add_part(&spec, 0, OM_TYPE_S32, 1000000);
    add_part(&spec, 2, OM_TYPE_S32, 1);
    /* -1 = 0xFFFFFFFF, -500001 = 0xFFF85EDF */
    const uint16_t want[4] = {0xFFFF, 0xFFFF, 0xFFF8, 0x5EDF};
    uint16_t regs[4];
    assert_int_equal(om_codec_encode_raw(&spec, -1500001, regs, 4), 0);
    check_regs(regs, want, 4, "s32+s32 -1500001");
    om_value v;
    assert_int_equal(om_codec_decode(&spec, want, 4, &v), OM_DECODE_OK);
    check_i64(v.raw, -1500001, "s32+s32 decode");
}

/* Parts with a gap between them (Dynaflox-like u16 x1000 at 0, u16 at 2):
 * the register in the gap is not read, and encoding writes it as zero. */
static void test_composite_gap(void **state)
{
    (void)state;
    om_regspec spec = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 0.001);
    add_part(&spec, 0, OM_TYPE_U16, 1000);
    add_part(&spec, 2, OM_TYPE_U16, 1);
    assert_int_equal(om_codec_register_count(&spec), 3);
    const uint16_t regs[3] = {0x0007, 0xBEEF, 0x0141}; /* 7 * 1000 + 321 */
    om_value v;
    assert_int_equal(om_codec_decode(&spec, regs, 3, &v), OM_DECODE_OK);
    check_i64(v.raw, 7321, "gap composite");
    check_double(v.value, 7321 * 0.001, "gap composite value");
    uint16_t out[3] = {0xAAAA, 0xAAAA, 0xAAAA};
    assert_int_equal(om_codec_encode_raw(&spec, 7321, out, 3), 0);
    const uint16_t want[3] = {0x0007, 0x0000, 0x0141};
    check_regs(out, want, 3, "gap composite encode");
}

/* Parts listed in any register order: the part at the higher address may be
 * the larger one. */
static void test_composite_parts_out_of_address_order(void **state)
{
    (void)state;
    om_regspec spec = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 1);
    add_part(&spec, 1, OM_TYPE_U16, 10000);
    add_part(&spec, 0, OM_TYPE_U16, 1);
    const uint16_t regs[2] = {0x04D2, 0x0003}; /* 1234 + 3 * 10000 */
    om_value v;
    assert_int_equal(om_codec_decode(&spec, regs, 2, &v), OM_DECODE_OK);
    check_i64(v.raw, 31234, "swapped parts");
}

static void test_composite_sentinel(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint16_t regs[4];
        om_decode_status status;
    } cases[] = {
        {"whole part all ones", {0xFFFF, 0xFFFF, 0x0000, 0x0001}, OM_DECODE_NOT_AVAILABLE},
        {"fraction part all ones", {0x0000, 0x0001, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE},
        {"both all ones", {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, OM_DECODE_NOT_AVAILABLE},
        {"straddling words", {0x0000, 0xFFFF, 0xFFFF, 0x0000}, OM_DECODE_OK},
    };
    for (size_t o = 0; o < NORDERS; o++) {
        om_regspec spec = water_composite(all_orders[o]);
        add_sentinel(&spec, 0xFFFFFFFF);
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            om_value v;
            check_status(om_codec_decode(&spec, cases[i].regs, 4, &v), cases[i].status,
                         label(&spec, cases[i].what));
        }
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            uint64_t pattern = 0;
            bool shown = om_codec_sentinel_shown(&spec, cases[i].regs, 4, &pattern);
            if (shown != (cases[i].status == OM_DECODE_NOT_AVAILABLE) ||
                (shown && pattern != 0xFFFFFFFF))
                fail_msg("%s: shown %d, pattern 0x%llx", label(&spec, cases[i].what), shown,
                         (unsigned long long)pattern);
        }
        uint16_t regs[4] = {0};
        assert_false(om_codec_sentinel_shown(&spec, regs, 3, &(uint64_t){0})); /* too few */
        assert_int_equal(om_codec_encode_sentinel(&spec, regs, 4), 0);
        const uint16_t ones[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
        check_regs(regs, ones, 4, label(&spec, "encoded sentinel"));
    }
}

/* A sentinel is compared at each part's own width: a 64-bit pattern never
 * matches a u32 part. */
static void test_composite_sentinel_width(void **state)
{
    (void)state;
    om_regspec spec = water_composite(OM_ORDER_ABCD);
    add_sentinel(&spec, UINT64_MAX);
    const uint16_t ones[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
    om_value v;
    assert_int_equal(om_codec_decode(&spec, ones, 4, &v), OM_DECODE_OK);
    check_i64(v.raw, 4294971589967295, "u32*1e6 + u32, all ones");
    uint16_t regs[4];
    assert_int_equal(om_codec_encode_sentinel(&spec, regs, 4), -1);

    /* u16 part and u32 part, 32-bit sentinel: only the u32 part holds it */
    om_regspec mixed = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_CDAB, 1);
    add_part(&mixed, 0, OM_TYPE_U32, 100000);
    add_part(&mixed, 2, OM_TYPE_U16, 1);
    add_sentinel(&mixed, 0xFFFFFFFF);
    memset(regs, 0xAA, sizeof regs);
    assert_int_equal(om_codec_encode_sentinel(&mixed, regs, 3), 0);
    const uint16_t want[3] = {0xFFFF, 0xFFFF, 0x0000};
    check_regs(regs, want, 3, "mixed composite sentinel");
    assert_int_equal(om_codec_decode(&mixed, regs, 3, &v), OM_DECODE_NOT_AVAILABLE);
}

static void test_composite_overflow_invalid(void **state)
{
    (void)state;
    om_value v;
    /* s64 x1000: INT64_MAX / 1000 + 1 = 9223372036854776 = 0x0020C49BA5E353F8 */
    om_regspec mul = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 1);
    add_part(&mul, 0, OM_TYPE_S64, 1000);
    add_part(&mul, 4, OM_TYPE_U16, 1);
    const uint16_t big[5] = {0x0020, 0xC49B, 0xA5E3, 0x53F8, 0x0000};
    assert_int_equal(om_codec_decode(&mul, big, 5, &v), OM_DECODE_INVALID);
    /* one less fits: 9223372036854775 * 1000 + 807 = INT64_MAX */
    const uint16_t max[5] = {0x0020, 0xC49B, 0xA5E3, 0x53F7, 0x0327};
    assert_int_equal(om_codec_decode(&mul, max, 5, &v), OM_DECODE_OK);
    check_i64(v.raw, INT64_MAX, "composite at INT64_MAX");
    const uint16_t past[5] = {0x0020, 0xC49B, 0xA5E3, 0x53F7, 0x0328};
    assert_int_equal(om_codec_decode(&mul, past, 5, &v), OM_DECODE_INVALID);

    /* negative side: -2^62 * 2 = INT64_MIN fits, minus one more does not */
    om_regspec sum = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 1);
    add_part(&sum, 0, OM_TYPE_S64, 2);
    add_part(&sum, 4, OM_TYPE_S16, 1);
    const uint16_t min[5] = {0xC000, 0x0000, 0x0000, 0x0000, 0x0000};
    assert_int_equal(om_codec_decode(&sum, min, 5, &v), OM_DECODE_OK);
    check_i64(v.raw, INT64_MIN, "composite at INT64_MIN");
    const uint16_t below[5] = {0xC000, 0x0000, 0x0000, 0x0000, 0xFFFF};
    assert_int_equal(om_codec_decode(&sum, below, 5, &v), OM_DECODE_INVALID);

    /* a u64 part above INT64_MAX has no exact int64 */
    om_regspec u64 = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 1);
    add_part(&u64, 0, OM_TYPE_U64, 1);
    const uint16_t high[4] = {0x8000, 0x0000, 0x0000, 0x0000};
    assert_int_equal(om_codec_decode(&u64, high, 4, &v), OM_DECODE_INVALID);
}

static void test_composite_encode_errors(void **state)
{
    (void)state;
    om_regspec spec = water_composite(OM_ORDER_ABCD);
    uint16_t regs[4] = {0x1234, 0x1234, 0x1234, 0x1234};
    const uint16_t untouched[4] = {0x1234, 0x1234, 0x1234, 0x1234};
    /* negative into unsigned parts */
    assert_int_equal(om_codec_encode_raw(&spec, -1, regs, 4), -1);
    /* whole part beyond u32: (2^32) * 10^6 */
    assert_int_equal(om_codec_encode_raw(&spec, 4294967296000000, regs, 4), -1);
    check_regs(regs, untouched, 4, "failed encode leaves registers alone");
    /* the largest value it holds */
    assert_int_equal(om_codec_encode_raw(&spec, 4294967295999999, regs, 4), 0);
    const uint16_t max[4] = {0xFFFF, 0xFFFF, 0x000F, 0x423F}; /* 999999 = 0xF423F */
    check_regs(regs, max, 4, "composite max");

    /* a smallest multiplier above 1 cannot express every raw */
    om_regspec coarse = make_spec(OM_TYPE_COMPOSITE, OM_ORDER_ABCD, 1);
    add_part(&coarse, 0, OM_TYPE_U32, 1000);
    add_part(&coarse, 2, OM_TYPE_U16, 10);
    assert_int_equal(om_codec_encode_raw(&coarse, 12340, regs, 3), 0);
    const uint16_t coarse_want[3] = {0x0000, 0x000C, 0x0022}; /* 12 * 1000 + 34 * 10 */
    check_regs(regs, coarse_want, 3, "coarse composite");
    assert_int_equal(om_codec_encode_raw(&coarse, 12345, regs, 3), -1);
    /* encode() rounds to the nearest raw first; 12345 still has a remainder */
    assert_int_equal(om_codec_encode(&coarse, 12345.2, regs, 3), -1);
    assert_int_equal(om_codec_encode(&coarse, 12339.6, regs, 3), 0);
    check_regs(regs, coarse_want, 3, "coarse composite from a value");
}

/* ---- round trips -------------------------------------------------------- */

static const int64_t u16_values[] = {0, 1, 2, 0x1234, 32767, 32768, 65534, 65535};
static const int64_t s16_values[] = {0, 1, -1, -12345, 12345, INT16_MIN, INT16_MAX};
static const int64_t u32_values[] = {0,          1,          65535,      65536,
                                     0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF};
static const int64_t s32_values[] = {0, 1, -1, -12345, 1234567, INT32_MIN, INT32_MAX, -65536};
static const int64_t u64_values[] = {0,
                                     1,
                                     0xFFFFFFFF,
                                     0x100000000,
                                     123456789012345,
                                     9007199254740993, /* 2^53 + 1 */
                                     9007199254740992,
                                     INT64_MAX - 1,
                                     INT64_MAX};
static const int64_t s64_values[] = {0,
                                     1,
                                     -1,
                                     123456789012345,
                                     -123456789012345,
                                     9007199254740993, /* 2^53 + 1 */
                                     -9007199254740993,
                                     INT64_MIN,
                                     INT64_MIN + 1,
                                     INT64_MAX,
                                     INT64_MAX - 1};

typedef struct {
    om_type type;
    const int64_t *values;
    size_t count;
} int_values;

static const int_values integer_values[] = {
    {OM_TYPE_U16, u16_values, ARRAY_LEN(u16_values)},
    {OM_TYPE_S16, s16_values, ARRAY_LEN(s16_values)},
    {OM_TYPE_U32, u32_values, ARRAY_LEN(u32_values)},
    {OM_TYPE_S32, s32_values, ARRAY_LEN(s32_values)},
    {OM_TYPE_U64, u64_values, ARRAY_LEN(u64_values)},
    {OM_TYPE_S64, s64_values, ARRAY_LEN(s64_values)},
};

static void round_trip_raw(const om_regspec *spec, int64_t raw)
{
    uint16_t regs[OM_CODEC_MAX_REGS];
    size_t n = om_codec_register_count(spec);
    char what[64];
    snprintf(what, sizeof what, "raw %" PRId64, raw);
    if (om_codec_encode_raw(spec, raw, regs, n) != 0)
        fail_msg("%s: encode_raw failed", label(spec, what));
    om_value v;
    check_status(om_codec_decode(spec, regs, n, &v), OM_DECODE_OK, label(spec, what));
    assert_true(v.exact);
    check_i64(v.raw, raw, label(spec, what));
    check_double(v.value, (double)raw * spec->scale, label(spec, what));
}

/* Exact raw integers, every integer type and order, scale 1 and 0.001. */
static void test_round_trip_integers_raw(void **state)
{
    (void)state;
    for (size_t t = 0; t < ARRAY_LEN(integer_values); t++) {
        const int_values *iv = &integer_values[t];
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec(iv->type, all_orders[o], 1);
            om_regspec scaled = make_spec(iv->type, all_orders[o], 0.001);
            for (size_t i = 0; i < iv->count; i++) {
                round_trip_raw(&spec, iv->values[i]);
                round_trip_raw(&scaled, iv->values[i]);
            }
        }
    }
}

/* encode(value) -> decode gives the value back wherever a double holds the
 * raw integer exactly (|raw| <= 2^53 at scale 1). With a scale, value/scale
 * carries up to about two units in the last place, which rounding to the
 * nearest integer absorbs while |raw| stays below 2^50. */
static void test_round_trip_integers_value(void **state)
{
    (void)state;
    const double scales[] = {1, 0.1, 0.01, 0.001, 10};
    for (size_t t = 0; t < ARRAY_LEN(integer_values); t++) {
        const int_values *iv = &integer_values[t];
        for (size_t o = 0; o < NORDERS; o++) {
            for (size_t s = 0; s < ARRAY_LEN(scales); s++) {
                om_regspec spec = make_spec(iv->type, all_orders[o], scales[s]);
                for (size_t i = 0; i < iv->count; i++) {
                    int64_t raw = iv->values[i];
                    int64_t limit = scales[s] == 1 ? INT64_C(1) << 53 : INT64_C(1) << 50;
                    if (raw > limit || raw < -limit)
                        continue;
                    double value = (double)raw * scales[s];
                    uint16_t regs[4];
                    char what[64];
                    snprintf(what, sizeof what, "value %.17g", value);
                    if (om_codec_encode(&spec, value, regs, 4) != 0)
                        fail_msg("%s: encode failed", label(&spec, what));
                    om_value v;
                    check_status(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_OK,
                                 label(&spec, what));
                    check_i64(v.raw, raw, label(&spec, what));
                    check_double(v.value, value, label(&spec, what));
                }
            }
        }
    }
}

/* A Wh counter in kWh: 123456789012.345 kWh at scale 0.001 is exactly
 * 123456789012345 Wh on the wire and back. */
static void test_round_trip_wh_counter(void **state)
{
    (void)state;
    const om_type wide[] = {OM_TYPE_U64, OM_TYPE_S64};
    for (size_t t = 0; t < ARRAY_LEN(wide); t++) {
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec(wide[t], all_orders[o], 0.001);
            uint16_t regs[4];
            assert_int_equal(om_codec_encode(&spec, 123456789012.345, regs, 4), 0);
            om_value v;
            assert_int_equal(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_OK);
            check_i64(v.raw, 123456789012345, label(&spec, "Wh counter"));
        }
    }
}

/* u64 values above INT64_MAX go through encode(value); those a double holds
 * come back exactly as doubles, with exact=false. */
static void test_round_trip_u64_above_int64(void **state)
{
    (void)state;
    const double values[] = {9223372036854775808.0, 9223372036854777856.0,
                             18446744073709549568.0 /* 2^64 - 2048, the largest below 2^64 */};
    for (size_t o = 0; o < NORDERS; o++) {
        om_regspec spec = make_spec(OM_TYPE_U64, all_orders[o], 1);
        for (size_t i = 0; i < ARRAY_LEN(values); i++) {
            uint16_t regs[4];
            assert_int_equal(om_codec_encode(&spec, values[i], regs, 4), 0);
            om_value v;
            assert_int_equal(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_OK);
            assert_false(v.exact);
            check_double(v.value, values[i], label(&spec, "u64 above INT64_MAX"));
        }
    }
}

static void test_round_trip_floats(void **state)
{
    (void)state;
    const double f32_values[] = {0.0,     -0.0,     1.0,      -1.0,         230.5,
                                 FLT_MAX, -FLT_MAX, FLT_MIN,  FLT_TRUE_MIN, -FLT_TRUE_MIN,
                                 (double)123456.78f, (double)0.1f, 16777216.0, -16777215.0};
    const double f64_values[] = {0.0,     -0.0,     1.0,          -1.0,          230.5,
                                 DBL_MAX, -DBL_MAX, DBL_MIN,      DBL_TRUE_MIN,  -DBL_TRUE_MIN,
                                 0.1,     -1234.5678, 123456789012.345, 9007199254740992.0};
    for (size_t o = 0; o < NORDERS; o++) {
        om_regspec f32 = make_spec(OM_TYPE_F32, all_orders[o], 1);
        om_regspec f64 = make_spec(OM_TYPE_F64, all_orders[o], 1);
        for (size_t i = 0; i < ARRAY_LEN(f32_values); i++) {
            uint16_t regs[2];
            om_value v;
            assert_int_equal(om_codec_encode(&f32, f32_values[i], regs, 2), 0);
            assert_int_equal(om_codec_decode(&f32, regs, 2, &v), OM_DECODE_OK);
            check_double(v.value, f32_values[i], label(&f32, "round trip"));
            assert_false(v.exact);
        }
        for (size_t i = 0; i < ARRAY_LEN(f64_values); i++) {
            uint16_t regs[4];
            om_value v;
            assert_int_equal(om_codec_encode(&f64, f64_values[i], regs, 4), 0);
            assert_int_equal(om_codec_decode(&f64, regs, 4, &v), OM_DECODE_OK);
            check_double(v.value, f64_values[i], label(&f64, "round trip"));
        }
        /* with a power-of-two scale the float keeps every bit */
        om_regspec scaled = make_spec(OM_TYPE_F32, all_orders[o], 0.5);
        uint16_t regs[2];
        om_value v;
        assert_int_equal(om_codec_encode(&scaled, 115.25, regs, 2), 0);
        assert_int_equal(om_codec_decode(&scaled, regs, 2, &v), OM_DECODE_OK);
        check_double(v.value, 115.25, label(&scaled, "scaled"));
    }
}

static void test_round_trip_composites(void **state)
{
    (void)state;
    const int64_t unsigned_raws[] = {0,           1,           999999,        1000000,
                                     1000001,     12345678901, 4294967295,    4294967295999999,
                                     999999999999};
    const int64_t signed_raws[] = {0,       1,        -1,         -1500001,
                                   1500001, -999999,  -1000000,   2147483647999999,
                                   -2147483648000000, -2147483647999999};
    for (size_t o = 0; o < NORDERS; o++) {
        om_regspec water = water_composite(all_orders[o]);
        for (size_t i = 0; i < ARRAY_LEN(unsigned_raws); i++)
            round_trip_raw(&water, unsigned_raws[i]);

        om_regspec sw = make_spec(OM_TYPE_COMPOSITE, all_orders[o], 1e-6);
        add_part(&sw, 0, OM_TYPE_S32, 1000000);
        add_part(&sw, 2, OM_TYPE_U32, 1);
        om_regspec ss = make_spec(OM_TYPE_COMPOSITE, all_orders[o], 1e-6);
        add_part(&ss, 0, OM_TYPE_S32, 1000000);
        add_part(&ss, 2, OM_TYPE_S32, 1);
        for (size_t i = 0; i < ARRAY_LEN(signed_raws); i++) {
            round_trip_raw(&sw, signed_raws[i]);
            round_trip_raw(&ss, signed_raws[i]);
        }

        /* three parts of mixed widths: kWh (u32) + Wh (u16) + mWh (u16) */
        om_regspec three = make_spec(OM_TYPE_COMPOSITE, all_orders[o], 1e-6);
        add_part(&three, 0, OM_TYPE_U32, 1000000);
        add_part(&three, 2, OM_TYPE_U16, 1000);
        add_part(&three, 3, OM_TYPE_U16, 1);
        assert_int_equal(om_codec_register_count(&three), 4);
        round_trip_raw(&three, 987654321123);
        round_trip_raw(&three, 999);

        /* and through encode(value) */
        uint16_t regs[4];
        om_value v;
        assert_int_equal(om_codec_encode(&water, 12.000001, regs, 4), 0);
        assert_int_equal(om_codec_decode(&water, regs, 4, &v), OM_DECODE_OK);
        check_i64(v.raw, 12000001, label(&water, "encode value"));
    }
}

/* ---- encode rejections and rounding ------------------------------------- */

typedef struct {
    om_type type;
    double value;
    int rc;
    int64_t raw; /* decoded raw when rc == 0 */
} encode_case;

static const encode_case encode_cases[] = {
    {OM_TYPE_U16, 65535.0, 0, 65535},
    {OM_TYPE_U16, 65535.49, 0, 65535},
    {OM_TYPE_U16, 65535.5, -1, 0},
    {OM_TYPE_U16, 65536.0, -1, 0},
    {OM_TYPE_U16, -1.0, -1, 0},
    {OM_TYPE_U16, -0.4, 0, 0},
    {OM_TYPE_U16, 0.5, 0, 1}, /* halves round away from zero, like llround */
    {OM_TYPE_U16, 2.5, 0, 3},
    {OM_TYPE_S16, -32768.0, 0, -32768},
    {OM_TYPE_S16, -32768.5, -1, 0},
    {OM_TYPE_S16, 32767.4, 0, 32767},
    {OM_TYPE_S16, 32768.0, -1, 0},
    {OM_TYPE_S16, -2.5, 0, -3},
    {OM_TYPE_U32, 4294967295.0, 0, 4294967295},
    {OM_TYPE_U32, 4294967296.0, -1, 0},
    {OM_TYPE_U32, -1.0, -1, 0},
    {OM_TYPE_S32, 2147483647.0, 0, INT32_MAX},
    {OM_TYPE_S32, 2147483648.0, -1, 0},
    {OM_TYPE_S32, -2147483648.0, 0, INT32_MIN},
    {OM_TYPE_S32, -2147483649.0, -1, 0},
    {OM_TYPE_U64, -0.6, -1, 0},
    {OM_TYPE_U64, -1.0, -1, 0},
    {OM_TYPE_U64, 18446744073709551616.0, -1, 0}, /* 2^64 */
    {OM_TYPE_U64, 1e300, -1, 0},
    {OM_TYPE_S64, 9223372036854775808.0, -1, 0}, /* 2^63 */
    {OM_TYPE_S64, -9223372036854775808.0, 0, INT64_MIN},
    {OM_TYPE_S64, -1e19, -1, 0},
    {OM_TYPE_F32, 1e39, -1, 0},
    {OM_TYPE_F32, -1e39, -1, 0},
    {OM_TYPE_F32, DBL_MAX, -1, 0},
    {OM_TYPE_F32, FLT_MAX, 0, 0},
};

static void test_encode_range_and_rounding(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(encode_cases); i++) {
        const encode_case *c = &encode_cases[i];
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec(c->type, all_orders[o], 1);
            uint16_t regs[4] = {0x5555, 0x5555, 0x5555, 0x5555};
            const uint16_t untouched[4] = {0x5555, 0x5555, 0x5555, 0x5555};
            char what[64];
            snprintf(what, sizeof what, "encode %.17g", c->value);
            int rc = om_codec_encode(&spec, c->value, regs, 4);
            if (rc != c->rc)
                fail_msg("%s: rc %d, want %d", label(&spec, what), rc, c->rc);
            if (rc != 0) {
                check_regs(regs, untouched, 4, label(&spec, what));
                continue;
            }
            om_value v;
            assert_int_equal(om_codec_decode(&spec, regs, 4, &v), OM_DECODE_OK);
            if (om_type_is_integer(c->type))
                check_i64(v.raw, c->raw, label(&spec, what));
        }
    }
}

static void test_encode_raw_range(void **state)
{
    (void)state;
    static const struct {
        om_type type;
        int64_t raw;
        int rc;
    } cases[] = {
        {OM_TYPE_U16, 65536, -1},       {OM_TYPE_U16, -1, -1},         {OM_TYPE_S16, 32768, -1},
        {OM_TYPE_S16, -32769, -1},      {OM_TYPE_U32, 4294967296, -1}, {OM_TYPE_U32, -1, -1},
        {OM_TYPE_S32, 2147483648, -1},  {OM_TYPE_S32, -2147483649, -1}, {OM_TYPE_U64, -1, -1},
        {OM_TYPE_U64, INT64_MIN, -1},   {OM_TYPE_F32, 1, -1},          {OM_TYPE_F64, 1, -1},
        {OM_TYPE_S64, INT64_MIN, 0},    {OM_TYPE_U64, INT64_MAX, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        om_regspec spec = make_spec(cases[i].type, OM_ORDER_ABCD, 1);
        uint16_t regs[4];
        char what[64];
        snprintf(what, sizeof what, "encode_raw %" PRId64, cases[i].raw);
        int rc = om_codec_encode_raw(&spec, cases[i].raw, regs, 4);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", label(&spec, what), rc, cases[i].rc);
    }
}

static void test_encode_rejects_non_finite(void **state)
{
    (void)state;
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (int t = 0; t < OM_TYPE__COUNT; t++) {
        om_regspec spec = make_spec((om_type)t, OM_ORDER_ABCD, 1);
        if (t == OM_TYPE_COMPOSITE)
            spec = water_composite(OM_ORDER_ABCD);
        for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
            uint16_t regs[4] = {0};
            assert_int_equal(om_codec_encode(&spec, bad[i], regs, 4), -1);
        }
        /* a finite value that the scale blows up to infinity */
        spec.scale = 1e-300;
        uint16_t regs[4] = {0};
        assert_int_equal(om_codec_encode(&spec, 1e300, regs, 4), -1);
    }
}

/* ---- bad specs and short buffers ---------------------------------------- */

static om_regspec bad_spec(size_t which)
{
    om_regspec s = make_spec(OM_TYPE_U32, OM_ORDER_ABCD, 1);
    switch (which) {
    case 0: s.scale = 0; break;
    case 1: s.scale = NAN; break;
    case 2: s.scale = INFINITY; break;
    case 3: s.scale = -INFINITY; break;
    case 4: s.type = OM_TYPE__COUNT; break;
    case 5: s.type = (om_type)-1; break;
    case 6: s.order = OM_ORDER__COUNT; break;
    case 7: s.order = (om_order)-1; break;
    case 8: s.nsentinels = OM_CODEC_MAX_SENTINELS + 1; break;
    case 9: s.type = OM_TYPE_COMPOSITE; break; /* no parts */
    default: {
        s = water_composite(OM_ORDER_ABCD);
        switch (which) {
        case 10: s.parts[1].type = OM_TYPE_F32; break;
        case 11: s.parts[1].type = OM_TYPE_COMPOSITE; break;
        case 12: s.parts[1].type = OM_TYPE__COUNT; break;
        case 13: s.parts[1].multiplier = 0; break;
        case 14: s.parts[1].multiplier = -1; break;
        case 15: s.parts[1].multiplier = 1000000; break;  /* not strictly descending */
        case 16: s.parts[1].multiplier = 10000000; break; /* ascending */
        case 17: s.parts[1].offset = 1; break;            /* overlaps part 0 */
        case 18: s.parts[1].offset = OM_CODEC_MAX_REGS - 1; break; /* runs past the limit */
        case 19: s.parts[1].offset = UINT16_MAX; break;
        case 20: s.nparts = OM_CODEC_MAX_PARTS + 1; break;
        case 21: s.scale = 0; break;
        default: break;
        }
    }
    }
    return s;
}

#define NBAD_SPECS 22

static void test_invalid_specs(void **state)
{
    (void)state;
    for (size_t i = 0; i < NBAD_SPECS; i++) {
        om_regspec spec = bad_spec(i);
        if (spec.nsentinels == 0) /* so that encode_sentinel fails for the spec alone */
            add_sentinel(&spec, 0);
        uint16_t regs[OM_CODEC_MAX_REGS] = {0};
        om_value v = {.value = 1, .exact = true, .raw = 1};
        char what[32];
        snprintf(what, sizeof what, "bad spec %zu", i);
        if (om_codec_spec_problem(&spec) == NULL)
            fail_msg("%s: no problem reported", what);
        if (om_codec_register_count(&spec) != 0)
            fail_msg("%s: register count %zu", what, om_codec_register_count(&spec));
        check_status(om_codec_decode(&spec, regs, OM_CODEC_MAX_REGS, &v), OM_DECODE_INVALID, what);
        assert_int_equal(v.exact, false);
        assert_int_equal(om_codec_encode(&spec, 1, regs, OM_CODEC_MAX_REGS), -1);
        assert_int_equal(om_codec_encode_raw(&spec, 1, regs, OM_CODEC_MAX_REGS), -1);
        assert_int_equal(om_codec_encode_sentinel(&spec, regs, OM_CODEC_MAX_REGS), -1);
    }
    /* the base shapes the bad specs start from are themselves valid */
    om_regspec ok = make_spec(OM_TYPE_U32, OM_ORDER_ABCD, 1);
    assert_null(om_codec_spec_problem(&ok));
    assert_int_equal(om_codec_register_count(&ok), 2);
    ok = water_composite(OM_ORDER_ABCD);
    assert_null(om_codec_spec_problem(&ok));
    assert_int_equal(om_codec_register_count(&ok), 4);
    /* a part ending exactly at the register limit is fine */
    ok.parts[1].offset = OM_CODEC_MAX_REGS - 2;
    assert_int_equal(om_codec_register_count(&ok), OM_CODEC_MAX_REGS);
    /* negative scales are allowed (a meter counting the other way) */
    om_regspec neg = make_spec(OM_TYPE_S32, OM_ORDER_ABCD, -0.5);
    const uint16_t regs[2] = {0x0000, 0x0064};
    om_value v;
    assert_int_equal(om_codec_decode(&neg, regs, 2, &v), OM_DECODE_OK);
    check_double(v.value, -50.0, "negative scale");
}

/* The reason names the actual problem, for the catalogue loader's message. */
static void test_spec_problem_messages(void **state)
{
    (void)state;
    static const struct {
        size_t which;
        const char *contains;
    } cases[] = {
        {0, "scale"},      {1, "scale"},        {4, "type"},        {6, "order"},
        {8, "not_available"}, {9, "parts"},     {10, "integer"},    {11, "integer"},
        {13, "multiplier"}, {14, "multiplier"}, {15, "largest"},    {16, "largest"},
        {17, "overlap"},   {18, "limit"},       {20, "parts"},      {21, "scale"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        om_regspec spec = bad_spec(cases[i].which);
        const char *problem = om_codec_spec_problem(&spec);
        assert_non_null(problem);
        if (strstr(problem, cases[i].contains) == NULL)
            fail_msg("bad spec %zu: \"%s\" does not mention %s", cases[i].which, problem,
                     cases[i].contains);
    }
    assert_non_null(om_codec_spec_problem(NULL));
}

static void test_null_arguments(void **state)
{
    (void)state;
    om_regspec spec = make_spec(OM_TYPE_U16, OM_ORDER_ABCD, 1);
    uint16_t regs[1] = {7};
    om_value v;
    assert_int_equal(om_codec_register_count(NULL), 0);
    assert_int_equal(om_codec_decode(NULL, regs, 1, &v), OM_DECODE_INVALID);
    assert_int_equal(om_codec_decode(&spec, NULL, 1, &v), OM_DECODE_INVALID);
    assert_int_equal(om_codec_decode(&spec, regs, 1, NULL), OM_DECODE_INVALID);
    assert_int_equal(om_codec_encode(NULL, 1, regs, 1), -1);
    assert_int_equal(om_codec_encode(&spec, 1, NULL, 1), -1);
    assert_int_equal(om_codec_encode_raw(NULL, 1, regs, 1), -1);
    assert_int_equal(om_codec_encode_raw(&spec, 1, NULL, 1), -1);
    assert_int_equal(om_codec_encode_sentinel(NULL, regs, 1), -1);
}

static void test_too_few_registers(void **state)
{
    (void)state;
    for (int t = 0; t < OM_TYPE__COUNT; t++) {
        for (size_t o = 0; o < NORDERS; o++) {
            om_regspec spec = make_spec((om_type)t, all_orders[o], 1);
            if (t == OM_TYPE_COMPOSITE)
                spec = water_composite(all_orders[o]);
            add_sentinel(&spec, 0);
            size_t need = om_codec_register_count(&spec);
            assert_true(need > 0);
            uint16_t regs[OM_CODEC_MAX_REGS] = {0};
            om_value v;
            for (size_t n = 0; n < need; n++) {
                check_status(om_codec_decode(&spec, regs, n, &v), OM_DECODE_INVALID,
                             label(&spec, "short"));
                assert_int_equal(om_codec_encode(&spec, 1, regs, n), -1);
                assert_int_equal(om_codec_encode_raw(&spec, 1, regs, n), -1);
                assert_int_equal(om_codec_encode_sentinel(&spec, regs, n), -1);
            }
            /* exactly enough is enough */
            check_status(om_codec_decode(&spec, regs, need, &v), OM_DECODE_NOT_AVAILABLE,
                         label(&spec, "exact length"));
            assert_int_equal(om_codec_encode(&spec, 1, regs, need), 0);
        }
    }
}

/* ---- names and type properties ------------------------------------------ */

static void test_type_names(void **state)
{
    (void)state;
    static const char *const names[OM_TYPE__COUNT] = {"u16", "s16", "u32", "s32",      "u64",
                                                      "s64", "f32", "f64", "composite"};
    for (int t = 0; t < OM_TYPE__COUNT; t++) {
        om_type back = OM_TYPE__COUNT;
        assert_string_equal(om_type_name((om_type)t), names[t]);
        assert_int_equal(om_type_from_name(names[t], &back), 0);
        assert_int_equal(back, t);
    }
    const char *unknown[] = {"", "u8", "U16", "float", "int32", "f32 ", "composites"};
    for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
        om_type out = OM_TYPE_F64;
        assert_int_equal(om_type_from_name(unknown[i], &out), -1);
        assert_int_equal(out, OM_TYPE_F64); /* untouched on failure */
    }
    om_type out;
    assert_int_equal(om_type_from_name(NULL, &out), -1);
    assert_string_equal(om_type_name(OM_TYPE__COUNT), "?");
}

static void test_order_names(void **state)
{
    (void)state;
    static const char *const names[OM_ORDER__COUNT] = {"ABCD", "CDAB", "BADC", "DCBA"};
    for (int o = 0; o < OM_ORDER__COUNT; o++) {
        om_order back = OM_ORDER__COUNT;
        assert_string_equal(om_order_name((om_order)o), names[o]);
        assert_int_equal(om_order_from_name(names[o], &back), 0);
        assert_int_equal(back, o);
    }
    const char *unknown[] = {"", "abcd", "ABDC", "DCAB", "BIG", "ABCD "};
    for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
        om_order out = OM_ORDER_DCBA;
        assert_int_equal(om_order_from_name(unknown[i], &out), -1);
        assert_int_equal(out, OM_ORDER_DCBA);
    }
    om_order out;
    assert_int_equal(om_order_from_name(NULL, &out), -1);
    assert_string_equal(om_order_name(OM_ORDER__COUNT), "?");
}

static void test_type_properties(void **state)
{
    (void)state;
    static const struct {
        om_type type;
        bool integer, is_signed;
        size_t nregs;
    } props[] = {
        {OM_TYPE_U16, true, false, 1},  {OM_TYPE_S16, true, true, 1},
        {OM_TYPE_U32, true, false, 2},  {OM_TYPE_S32, true, true, 2},
        {OM_TYPE_U64, true, false, 4},  {OM_TYPE_S64, true, true, 4},
        {OM_TYPE_F32, false, false, 2}, {OM_TYPE_F64, false, false, 4},
        {OM_TYPE_COMPOSITE, false, false, 0},
    };
    assert_int_equal(ARRAY_LEN(props), OM_TYPE__COUNT);
    for (size_t i = 0; i < ARRAY_LEN(props); i++) {
        assert_int_equal(om_type_is_integer(props[i].type), props[i].integer);
        assert_int_equal(om_type_is_signed(props[i].type), props[i].is_signed);
        assert_int_equal(om_type_register_count(props[i].type), props[i].nregs);
        if (props[i].type != OM_TYPE_COMPOSITE) {
            om_regspec spec = make_spec(props[i].type, OM_ORDER_CDAB, 1);
            assert_int_equal(om_codec_register_count(&spec), props[i].nregs);
        }
    }
    assert_false(om_type_is_integer(OM_TYPE__COUNT));
    assert_false(om_type_is_signed(OM_TYPE__COUNT));
    assert_int_equal(om_type_register_count(OM_TYPE__COUNT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_known_patterns),
        cmocka_unit_test(test_encode_known_patterns),
        cmocka_unit_test(test_known_patterns_cover_every_type),
        cmocka_unit_test(test_wrong_order_differs),
        cmocka_unit_test(test_decode_ignores_extra_registers),
        cmocka_unit_test(test_decode_rejects_non_finite),
        cmocka_unit_test(test_non_finite_only_in_its_order),
        cmocka_unit_test(test_decode_scaled_overflow_is_not_finite),
        cmocka_unit_test(test_sentinels),
        cmocka_unit_test(test_encode_sentinel_patterns),
        cmocka_unit_test(test_encode_sentinel_errors),
        cmocka_unit_test(test_composite_known_pattern),
        cmocka_unit_test(test_composite_negative_signed_whole),
        cmocka_unit_test(test_composite_negative_signed_parts),
        cmocka_unit_test(test_composite_gap),
        cmocka_unit_test(test_composite_parts_out_of_address_order),
        cmocka_unit_test(test_composite_sentinel),
        cmocka_unit_test(test_composite_sentinel_width),
        cmocka_unit_test(test_composite_overflow_invalid),
        cmocka_unit_test(test_composite_encode_errors),
        cmocka_unit_test(test_round_trip_integers_raw),
        cmocka_unit_test(test_round_trip_integers_value),
        cmocka_unit_test(test_round_trip_wh_counter),
        cmocka_unit_test(test_round_trip_u64_above_int64),
        cmocka_unit_test(test_round_trip_floats),
        cmocka_unit_test(test_round_trip_composites),
        cmocka_unit_test(test_encode_range_and_rounding),
        cmocka_unit_test(test_encode_raw_range),
        cmocka_unit_test(test_encode_rejects_non_finite),
        cmocka_unit_test(test_invalid_specs),
        cmocka_unit_test(test_spec_problem_messages),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_too_few_registers),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_order_names),
        cmocka_unit_test(test_type_properties),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
