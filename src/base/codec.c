/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.c - Modbus registers <-> canonical values, for every type and word order.
 *
 * Every conversion goes through one intermediate form: the value's bits
 * assembled big-endian into a uint64_t ("A B C D ...", most significant byte
 * first), which is also how the catalogue writes its not_available patterns.
 * A word order only moves 16-bit words and swaps the bytes inside them, so it
 * is undone (assemble_bits) or applied (scatter_bits) in one place, and a type
 * is then only a way of reading those bits. Both directions share the helpers,
 * so a decode and an encode cannot disagree about an order.
 *
 * Integer values are kept as exact int64 raw numbers alongside the scaled
 * double: an int64 Wh counter above 2^53 would otherwise be rounded on its
 * way to the database. Integer arithmetic that could overflow (composite
 * sums) is checked before it is done, and floats are read with memcpy, so
 * nothing here relies on undefined behaviour.
 */
#include "officemeter/base/codec.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct {
    const char *name;
    size_t nregs;   /* 0 for composite: it depends on its parts */
    bool integer;   /* a fixed-width integer (a composite part may be one) */
    bool is_signed; /* two's complement */
} type_info;

static const type_info types[OM_TYPE__COUNT] = {
    [OM_TYPE_U16] = {"u16", 1, true, false},
    [OM_TYPE_S16] = {"s16", 1, true, true},
    [OM_TYPE_U32] = {"u32", 2, true, false},
    [OM_TYPE_S32] = {"s32", 2, true, true},
    [OM_TYPE_U64] = {"u64", 4, true, false},
    [OM_TYPE_S64] = {"s64", 4, true, true},
    [OM_TYPE_F32] = {"f32", 2, false, false},
    [OM_TYPE_F64] = {"f64", 4, false, false},
    [OM_TYPE_COMPOSITE] = {"composite", 0, false, false},
};

static const char *const order_names[OM_ORDER__COUNT] = {
    [OM_ORDER_ABCD] = "ABCD",
    [OM_ORDER_CDAB] = "CDAB",
    [OM_ORDER_BADC] = "BADC",
    [OM_ORDER_DCBA] = "DCBA",
};

/* 2^63 and 2^64 as doubles (both exact): the first values that do not fit. */
#define TWO_POW_63 9223372036854775808.0
#define TWO_POW_64 18446744073709551616.0

/* ---- names and type properties ---------------------------------------- */

static bool type_valid(om_type type)
{
    return (unsigned)type < OM_TYPE__COUNT;
}

static bool order_valid(om_order order)
{
    return (unsigned)order < OM_ORDER__COUNT;
}

const char *om_type_name(om_type type)
{
    return type_valid(type) ? types[type].name : "?";
}

const char *om_order_name(om_order order)
{
    return order_valid(order) ? order_names[order] : "?";
}

/* Names are matched exactly, as the catalogue documents them: a file that
 * says "abcd" is more likely a typo than a choice, and the loader reports it. */
int om_type_from_name(const char *name, om_type *out)
{
    if (name == NULL)
        return -1;
    for (unsigned i = 0; i < OM_TYPE__COUNT; i++) {
        if (strcmp(types[i].name, name) == 0) {
            if (out != NULL)
                *out = (om_type)i;
            return 0;
        }
    }
    return -1;
}

int om_order_from_name(const char *name, om_order *out)
{
    if (name == NULL)
        return -1;
    for (unsigned i = 0; i < OM_ORDER__COUNT; i++) {
        if (strcmp(order_names[i], name) == 0) {
            if (out != NULL)
                *out = (om_order)i;
            return 0;
        }
    }
    return -1;
}

/* True for the fixed-width integer types u16..s64; a composite is made of
 * them but is not one. */
bool om_type_is_integer(om_type type)
{
    return type_valid(type) && types[type].integer;
}

bool om_type_is_signed(om_type type)
{
    return type_valid(type) && types[type].is_signed;
}

size_t om_type_register_count(om_type type)
{
    return type_valid(type) ? types[type].nregs : 0;
}

/* ---- spec validation ---------------------------------------------------- */

/* Each check returns NULL or why the spec is unusable, so that the catalogue
 * loader can report the reason and the codec can refuse the same specs. */

static const char *part_problem(const om_part *part)
{
    if (!om_type_is_integer(part->type))
        return "a composite part must be an integer type (u16, s16, u32, s32, u64 or s64)";
    if (part->multiplier <= 0)
        return "a composite part's multiplier must be positive";
    if ((size_t)part->offset + types[part->type].nregs > OM_CODEC_MAX_REGS)
        return "a composite part ends beyond the 16-register limit";
    return NULL;
}

static bool parts_overlap(const om_part *a, const om_part *b)
{
    size_t a_end = (size_t)a->offset + types[a->type].nregs;
    size_t b_end = (size_t)b->offset + types[b->type].nregs;
    return a->offset < b_end && b->offset < a_end;
}

/* Composite parts: integer types, positive multipliers listed largest first
 * (encoding splits a raw value in that order), registers that do not
 * overlap. */
static const char *composite_problem(const om_regspec *spec)
{
    if (spec->nparts == 0 || spec->nparts > OM_CODEC_MAX_PARTS)
        return "a composite needs 1 to 4 parts";
    for (size_t i = 0; i < spec->nparts; i++) {
        const char *problem = part_problem(&spec->parts[i]);
        if (problem != NULL)
            return problem;
        for (size_t j = 0; j < i; j++) {
            if (parts_overlap(&spec->parts[i], &spec->parts[j]))
                return "composite parts overlap";
        }
        if (i > 0 && spec->parts[i].multiplier >= spec->parts[i - 1].multiplier)
            return "composite parts must be listed largest multiplier first, each smaller than "
                   "the one before";
    }
    return NULL;
}

const char *om_codec_spec_problem(const om_regspec *spec)
{
    if (spec == NULL)
        return "no spec";
    if (!type_valid(spec->type))
        return "unknown type";
    if (!order_valid(spec->order))
        return "unknown word order";
    if (!isfinite(spec->scale) || spec->scale == 0.0)
        return "scale must be finite and not zero";
    if (spec->nsentinels > OM_CODEC_MAX_SENTINELS)
        return "more than 4 not_available patterns";
    return spec->type == OM_TYPE_COMPOSITE ? composite_problem(spec) : NULL;
}

static bool spec_valid(const om_regspec *spec)
{
    return om_codec_spec_problem(spec) == NULL;
}

size_t om_codec_register_count(const om_regspec *spec)
{
    if (!spec_valid(spec))
        return 0;
    if (spec->type != OM_TYPE_COMPOSITE)
        return types[spec->type].nregs;
    size_t count = 0;
    for (size_t i = 0; i < spec->nparts; i++) {
        size_t end = (size_t)spec->parts[i].offset + types[spec->parts[i].type].nregs;
        if (end > count)
            count = end;
    }
    return count;
}

/* ---- word order --------------------------------------------------------- */

/* CDAB and DCBA put the least significant word in register 0. */
static bool order_reverses_words(om_order order)
{
    return order == OM_ORDER_CDAB || order == OM_ORDER_DCBA;
}

/* BADC and DCBA send the low byte of each word first. */
static bool order_swaps_bytes(om_order order)
{
    return order == OM_ORDER_BADC || order == OM_ORDER_DCBA;
}

static uint16_t swap_bytes(uint16_t word)
{
    return (uint16_t)((unsigned)word >> 8 | ((unsigned)word & 0xFFu) << 8);
}

/* The big-endian bit pattern of `nwords` registers stored in `order`. */
static uint64_t assemble_bits(const uint16_t *regs, size_t nwords, om_order order)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < nwords; i++) {
        size_t src = order_reverses_words(order) ? nwords - 1 - i : i;
        uint16_t word = order_swaps_bytes(order) ? swap_bytes(regs[src]) : regs[src];
        bits = bits << 16 | word;
    }
    return bits;
}

/* The inverse of assemble_bits: the low 16*nwords bits of `bits` into
 * registers in `order`. */
static void scatter_bits(uint64_t bits, size_t nwords, om_order order, uint16_t *regs)
{
    for (size_t i = 0; i < nwords; i++) {
        uint16_t word = (uint16_t)(bits >> (16 * (nwords - 1 - i)));
        size_t dst = order_reverses_words(order) ? nwords - 1 - i : i;
        regs[dst] = order_swaps_bytes(order) ? swap_bytes(word) : word;
    }
}

/* ---- integers ----------------------------------------------------------- */

static uint64_t width_mask(size_t nwords)
{
    return nwords >= 4 ? UINT64_MAX : (UINT64_C(1) << (16 * nwords)) - 1;
}

/* Two's complement of the low 16*nwords bits, without converting an
 * out-of-range unsigned value to a signed type. */
static int64_t sign_extend(uint64_t bits, size_t nwords)
{
    uint64_t mask = width_mask(nwords);
    uint64_t sign = UINT64_C(1) << (16 * nwords - 1);
    bits &= mask;
    if ((bits & sign) == 0)
        return (int64_t)bits;
    return -(int64_t)(~bits & mask) - 1;
}

/* Reads an integer type's bits into out->raw and (unscaled) out->value. */
static void integer_from_bits(om_type type, uint64_t bits, om_value *out)
{
    size_t nwords = types[type].nregs;
    if (types[type].is_signed) {
        out->raw = sign_extend(bits, nwords);
        out->exact = true;
        out->value = (double)out->raw;
    } else if (bits <= (uint64_t)INT64_MAX) {
        out->raw = (int64_t)bits;
        out->exact = true;
        out->value = (double)out->raw;
    } else {
        /* A u64 above INT64_MAX has no int64 raw; the double is the best we
         * have, and exact=false tells the caller not to trust raw. */
        out->raw = 0;
        out->exact = false;
        out->value = (double)bits;
    }
}

static bool raw_fits(om_type type, int64_t raw)
{
    switch (type) {
    case OM_TYPE_U16: return raw >= 0 && raw <= UINT16_MAX;
    case OM_TYPE_S16: return raw >= INT16_MIN && raw <= INT16_MAX;
    case OM_TYPE_U32: return raw >= 0 && raw <= (int64_t)UINT32_MAX;
    case OM_TYPE_S32: return raw >= INT32_MIN && raw <= INT32_MAX;
    case OM_TYPE_U64: return raw >= 0;
    case OM_TYPE_S64: return true;
    default: return false;
    }
}

/* The two's complement bits of raw (conversion to unsigned is defined as
 * modulo 2^64), cut to the type's width. */
static uint64_t bits_from_raw(om_type type, int64_t raw)
{
    return (uint64_t)raw & width_mask(types[type].nregs);
}

/* a * m for m > 0, or false when it would overflow. */
static bool mul_checked(int64_t a, int64_t m, int64_t *out)
{
    if (a > INT64_MAX / m || a < INT64_MIN / m)
        return false;
    *out = a * m;
    return true;
}

static bool add_checked(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        return false;
    *out = a + b;
    return true;
}

/* ---- decoding ----------------------------------------------------------- */

static bool is_sentinel(const om_regspec *spec, uint64_t bits)
{
    for (size_t i = 0; i < spec->nsentinels; i++) {
        if (spec->sentinels[i] == bits)
            return true;
    }
    return false;
}

static om_decode_status decode_integer(const om_regspec *spec, const uint16_t *regs,
                                       om_value *out)
{
    uint64_t bits = assemble_bits(regs, types[spec->type].nregs, spec->order);
    if (is_sentinel(spec, bits))
        return OM_DECODE_NOT_AVAILABLE;
    integer_from_bits(spec->type, bits, out);
    return OM_DECODE_OK;
}

/* A sentinel is checked before the NaN test: a meter that declares 0xFFFFFFFF
 * as "no value" means exactly that, even though the pattern is also a NaN. */
static om_decode_status decode_float(const om_regspec *spec, const uint16_t *regs, om_value *out)
{
    uint64_t bits = assemble_bits(regs, types[spec->type].nregs, spec->order);
    if (is_sentinel(spec, bits))
        return OM_DECODE_NOT_AVAILABLE;
    double value;
    if (spec->type == OM_TYPE_F32) {
        uint32_t bits32 = (uint32_t)bits;
        float f;
        memcpy(&f, &bits32, sizeof f);
        value = f;
    } else {
        memcpy(&value, &bits, sizeof value);
    }
    if (!isfinite(value))
        return OM_DECODE_NOT_FINITE;
    out->value = value;
    out->exact = false; /* a float has no exact integer raw */
    out->raw = 0;
    return OM_DECODE_OK;
}

static uint64_t part_bits(const om_regspec *spec, const om_part *part, const uint16_t *regs)
{
    return assemble_bits(regs + part->offset, types[part->type].nregs, spec->order);
}

/* Any part equal to a sentinel makes the whole value unavailable; only then
 * is the sum formed, with every step checked for int64 overflow. */
static om_decode_status decode_composite(const om_regspec *spec, const uint16_t *regs,
                                         om_value *out)
{
    for (size_t i = 0; i < spec->nparts; i++) {
        if (is_sentinel(spec, part_bits(spec, &spec->parts[i], regs)))
            return OM_DECODE_NOT_AVAILABLE;
    }
    int64_t sum = 0;
    for (size_t i = 0; i < spec->nparts; i++) {
        const om_part *part = &spec->parts[i];
        om_value pv = {0};
        int64_t term;
        integer_from_bits(part->type, part_bits(spec, part, regs), &pv);
        if (!pv.exact || !mul_checked(pv.raw, part->multiplier, &term) ||
            !add_checked(sum, term, &sum))
            return OM_DECODE_INVALID;
    }
    out->raw = sum;
    out->exact = true;
    out->value = (double)sum;
    return OM_DECODE_OK;
}

bool om_codec_sentinel_shown(const om_regspec *spec, const uint16_t *regs, size_t nregs,
                             uint64_t *pattern)
{
    size_t need = om_codec_register_count(spec);
    if (need == 0 || regs == NULL || nregs < need)
        return false;
    size_t nparts = spec->type == OM_TYPE_COMPOSITE ? spec->nparts : 1;
    for (size_t i = 0; i < nparts; i++) {
        uint64_t bits = spec->type == OM_TYPE_COMPOSITE
                            ? part_bits(spec, &spec->parts[i], regs)
                            : assemble_bits(regs, types[spec->type].nregs, spec->order);
        if (is_sentinel(spec, bits)) {
            *pattern = bits;
            return true;
        }
    }
    return false;
}

om_decode_status om_codec_decode(const om_regspec *spec, const uint16_t *regs, size_t nregs,
                                 om_value *out)
{
    if (out == NULL)
        return OM_DECODE_INVALID;
    *out = (om_value){0};
    size_t need = om_codec_register_count(spec);
    if (need == 0 || regs == NULL || nregs < need)
        return OM_DECODE_INVALID;

    om_value v = {0};
    om_decode_status status;
    switch (spec->type) {
    case OM_TYPE_F32:
    case OM_TYPE_F64: status = decode_float(spec, regs, &v); break;
    case OM_TYPE_COMPOSITE: status = decode_composite(spec, regs, &v); break;
    default: status = decode_integer(spec, regs, &v); break;
    }
    if (status != OM_DECODE_OK)
        return status;
    /* A huge f64 times a scale above 1 can still overflow to infinity. */
    v.value *= spec->scale;
    if (!isfinite(v.value))
        return OM_DECODE_NOT_FINITE;
    *out = v;
    return OM_DECODE_OK;
}

/* ---- encoding ----------------------------------------------------------- */

/* True when regs can hold the spec's registers; an invalid spec never fits. */
static bool encode_target_ok(const om_regspec *spec, const uint16_t *regs, size_t nregs)
{
    size_t need = om_codec_register_count(spec);
    return need != 0 && regs != NULL && nregs >= need;
}

/* Where the remainder left for the following parts goes negative and the
 * next part is unsigned, floor division keeps it non-negative (s32 whole m³
 * -2 plus u32 mL 499999 for -1.500001 m³); otherwise truncation gives every
 * part the sign of the value, which signed parts hold as they are. */
static void split_part(int64_t rem, int64_t mult, bool floor_div, int64_t *quot, int64_t *left)
{
    int64_t q = rem / mult;
    int64_t r = rem % mult;
    if (floor_div && r < 0) {
        q -= 1; /* r < 0 implies mult >= 2, so q > INT64_MIN / 2 */
        r += mult;
    }
    *quot = q;
    *left = r;
}

/* Built in a local buffer so that a value that does not fit leaves the
 * caller's registers untouched; gaps between parts are zero. */
static int encode_composite(const om_regspec *spec, int64_t raw, uint16_t *regs)
{
    uint16_t buf[OM_CODEC_MAX_REGS] = {0};
    int64_t rem = raw;
    for (size_t i = 0; i < spec->nparts; i++) {
        const om_part *part = &spec->parts[i];
        bool next_unsigned = i + 1 < spec->nparts && !om_type_is_signed(spec->parts[i + 1].type);
        int64_t value;
        split_part(rem, part->multiplier, next_unsigned, &value, &rem);
        if (!raw_fits(part->type, value))
            return -1;
        scatter_bits(bits_from_raw(part->type, value), types[part->type].nregs, spec->order,
                     buf + part->offset);
    }
    /* A remainder means the smallest multiplier cannot express raw. */
    if (rem != 0)
        return -1;
    memcpy(regs, buf, om_codec_register_count(spec) * sizeof *regs);
    return 0;
}

int om_codec_encode_raw(const om_regspec *spec, int64_t raw, uint16_t *regs, size_t nregs)
{
    if (!encode_target_ok(spec, regs, nregs))
        return -1;
    if (spec->type == OM_TYPE_COMPOSITE)
        return encode_composite(spec, raw, regs);
    if (!om_type_is_integer(spec->type) || !raw_fits(spec->type, raw))
        return -1;
    scatter_bits(bits_from_raw(spec->type, raw), types[spec->type].nregs, spec->order, regs);
    return 0;
}

static int encode_float(const om_regspec *spec, double raw, uint16_t *regs)
{
    uint64_t bits;
    if (spec->type == OM_TYPE_F32) {
        /* Converting a double outside float's range is undefined. */
        if (fabs(raw) > FLT_MAX)
            return -1;
        float f = (float)raw;
        uint32_t bits32;
        memcpy(&bits32, &f, sizeof bits32);
        bits = bits32;
    } else {
        memcpy(&bits, &raw, sizeof bits);
    }
    scatter_bits(bits, types[spec->type].nregs, spec->order, regs);
    return 0;
}

/* u64 has values above INT64_MAX that encode_raw cannot take, so it is
 * written from the rounded double directly. */
static int encode_u64(const om_regspec *spec, double rounded, uint16_t *regs)
{
    if (rounded < 0.0 || rounded >= TWO_POW_64)
        return -1;
    scatter_bits((uint64_t)rounded, 4, spec->order, regs);
    return 0;
}

int om_codec_encode(const om_regspec *spec, double value, uint16_t *regs, size_t nregs)
{
    if (!encode_target_ok(spec, regs, nregs) || !isfinite(value))
        return -1;
    double raw = value / spec->scale;
    if (!isfinite(raw))
        return -1;
    if (spec->type == OM_TYPE_F32 || spec->type == OM_TYPE_F64)
        return encode_float(spec, raw, regs);

    /* round() is llround() without its unspecified result out of range:
     * the range is checked on the double before any conversion. */
    double rounded = round(raw);
    if (spec->type == OM_TYPE_U64)
        return encode_u64(spec, rounded, regs);
    if (rounded < -TWO_POW_63 || rounded >= TWO_POW_63)
        return -1;
    return om_codec_encode_raw(spec, (int64_t)rounded, regs, nregs);
}

static bool sentinel_fits(uint64_t sentinel, size_t nwords)
{
    return (sentinel & ~width_mask(nwords)) == 0;
}

/* For a composite the pattern goes into every part wide enough for it, as a
 * meter filling its registers with 0xFF would; one such part is enough for
 * decoding to see "not available". */
int om_codec_encode_sentinel(const om_regspec *spec, uint16_t *regs, size_t nregs)
{
    if (!encode_target_ok(spec, regs, nregs) || spec->nsentinels == 0)
        return -1;
    uint64_t sentinel = spec->sentinels[0];
    if (spec->type != OM_TYPE_COMPOSITE) {
        size_t nwords = types[spec->type].nregs;
        if (!sentinel_fits(sentinel, nwords))
            return -1;
        scatter_bits(sentinel, nwords, spec->order, regs);
        return 0;
    }
    memset(regs, 0, om_codec_register_count(spec) * sizeof *regs);
    size_t written = 0;
    for (size_t i = 0; i < spec->nparts; i++) {
        const om_part *part = &spec->parts[i];
        size_t nwords = types[part->type].nregs;
        if (sentinel_fits(sentinel, nwords)) {
            scatter_bits(sentinel, nwords, spec->order, regs + part->offset);
            written++;
        }
    }
    return written > 0 ? 0 : -1;
}
