/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_codec.c - the register codec (codec.h) over every type, word order,
 * scale, sentinel set and composite layout the input describes, with
 * registers and a value from the input.
 *
 * Invariants: a spec the codec calls unusable is refused by every
 * function; a usable one decodes its registers, and too few registers are
 * refused; a decoded value is finite; an exact integer decodes back from
 * its encoding (fixed-width types: to the very same registers); a float
 * (scale 1) encodes back to the same registers; encoding any value and
 * decoding it gives it back within the type's resolution (half a step of
 * an integer type, a float's precision); a sentinel encodes to "not
 * available".
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/base/codec.h"

static double pick_scale(fuzz_input *in)
{
    static const double scales[] = {1, 0.001, 0.01, 0.1, 10, 1000, 1e-9, -1, 0.25, 0};
    uint8_t k = fuzz_u8(in);
    if (k < sizeof scales / sizeof scales[0])
        return scales[k];
    return fuzz_double(in);
}

static int64_t pick_multiplier(fuzz_input *in)
{
    static const int64_t mults[] = {1, 10, 100, 1000, 1000000, 0, -1, INT64_MAX, 65536};
    uint8_t k = fuzz_u8(in);
    if (k < sizeof mults / sizeof mults[0])
        return mults[k];
    return (int64_t)fuzz_u32(in);
}

static void read_spec(fuzz_input *in, om_regspec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->type = (om_type)(fuzz_u8(in) % (OM_TYPE__COUNT + 1));
    spec->order = (om_order)(fuzz_u8(in) % (OM_ORDER__COUNT + 1));
    spec->scale = pick_scale(in);
    spec->nsentinels = fuzz_u8(in) % (OM_CODEC_MAX_SENTINELS + 2);
    for (size_t i = 0; i < spec->nsentinels && i < OM_CODEC_MAX_SENTINELS; i++)
        spec->sentinels[i] = fuzz_u8(in) < 128 ? fuzz_u64(in) : UINT64_MAX >> (fuzz_u8(in) % 64);
    if (spec->type == OM_TYPE_COMPOSITE) {
        spec->nparts = fuzz_u8(in) % (OM_CODEC_MAX_PARTS + 2);
        for (size_t i = 0; i < spec->nparts && i < OM_CODEC_MAX_PARTS; i++) {
            spec->parts[i].offset = fuzz_u8(in) % 18;
            spec->parts[i].type = (om_type)(fuzz_u8(in) % OM_TYPE__COUNT);
            spec->parts[i].multiplier = pick_multiplier(in);
        }
    }
}

static bool same_regs(const uint16_t *a, const uint16_t *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* Decoding what was encoded from x gives x back within the resolution. */
static void check_encoded(const om_regspec *spec, double x, const uint16_t *regs, size_t n)
{
    om_value v;
    om_decode_status st = om_codec_decode(spec, regs, n, &v);
    if (st == OM_DECODE_NOT_AVAILABLE)
        return; /* the encoding happens to be a sentinel pattern */
    if (st == OM_DECODE_NOT_FINITE && fabs(x) > 1e307)
        return; /* x / scale * scale rounded past the largest double */
    FUZZ_CHECK(st == OM_DECODE_OK, "%s: encoded %.17g does not decode (%d)",
               om_type_name(spec->type), x, (int)st);
    double s = fabs(spec->scale), err = fabs(v.value - x), tol;
    switch (spec->type) {
    case OM_TYPE_F32: tol = fabs(x) * 1.2e-7 + s * 1.5e-45 * 2 + 1e-300; break;
    /* x / scale may fall among the subnormal doubles, or to zero: its
     * resolution there is 2^-1074, times the scale. */
    case OM_TYPE_F64: tol = fabs(x) * 4.5e-16 + s * 5e-324 * 2 + 1e-300; break;
    default: tol = s * 0.5 * (1 + 1e-9) + fabs(x) * 4.5e-16 + 1e-300; break;
    }
    FUZZ_CHECK(err <= tol, "%s scale %.17g: encoded %.17g, decoded %.17g",
               om_type_name(spec->type), spec->scale, x, v.value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    om_regspec spec;
    read_spec(&in, &spec);
    uint16_t regs[OM_CODEC_MAX_REGS], out[OM_CODEC_MAX_REGS];
    for (size_t i = 0; i < OM_CODEC_MAX_REGS; i++)
        regs[i] = fuzz_u16(&in);
    double x = fuzz_double(&in);
    int64_t raw_in = (int64_t)fuzz_u64(&in);
    om_value v;

    if (om_codec_spec_problem(&spec) != NULL) {
        FUZZ_CHECK(om_codec_register_count(&spec) == 0, "an unusable spec has registers");
        FUZZ_CHECK(om_codec_decode(&spec, regs, OM_CODEC_MAX_REGS, &v) == OM_DECODE_INVALID,
                   "an unusable spec decodes");
        FUZZ_CHECK(om_codec_encode(&spec, 1.0, out, OM_CODEC_MAX_REGS) == -1 &&
                       om_codec_encode_raw(&spec, 1, out, OM_CODEC_MAX_REGS) == -1,
                   "an unusable spec encodes");
        return 0;
    }
    size_t n = om_codec_register_count(&spec);
    FUZZ_CHECK(n >= 1 && n <= OM_CODEC_MAX_REGS, "register count %zu", n);
    FUZZ_CHECK(om_codec_decode(&spec, regs, n - 1, &v) == OM_DECODE_INVALID,
               "decoded from too few registers");

    om_decode_status st = om_codec_decode(&spec, regs, n, &v);
    if (st == OM_DECODE_OK) {
        FUZZ_CHECK(isfinite(v.value), "decoded a value that is not finite");
        if (v.exact && om_type_is_integer(spec.type)) {
            FUZZ_CHECK(om_codec_encode_raw(&spec, v.raw, out, n) == 0, "raw does not encode");
            FUZZ_CHECK(same_regs(regs, out, n), "%s %s: raw %lld encodes to other registers",
                       om_type_name(spec.type), om_order_name(spec.order), (long long)v.raw);
        } else if (v.exact && om_codec_encode_raw(&spec, v.raw, out, n) == 0) {
            om_value again;
            if (om_codec_decode(&spec, out, n, &again) == OM_DECODE_OK)
                FUZZ_CHECK(again.raw == v.raw, "composite raw %lld decodes back as %lld",
                           (long long)v.raw, (long long)again.raw);
        } else if ((spec.type == OM_TYPE_F32 || spec.type == OM_TYPE_F64) && spec.scale == 1.0) {
            FUZZ_CHECK(om_codec_encode(&spec, v.value, out, n) == 0, "a float does not encode");
            FUZZ_CHECK(same_regs(regs, out, n), "%s %s: %.17g encodes to other registers",
                       om_type_name(spec.type), om_order_name(spec.order), v.value);
        }
    } else {
        FUZZ_CHECK(st == OM_DECODE_NOT_AVAILABLE || st == OM_DECODE_NOT_FINITE ||
                       (st == OM_DECODE_INVALID && spec.type == OM_TYPE_COMPOSITE),
                   "status %d for a usable spec", (int)st);
    }
    uint64_t pattern;
    FUZZ_CHECK((st == OM_DECODE_NOT_AVAILABLE) == om_codec_sentinel_shown(&spec, regs, n, &pattern),
               "decode and sentinel_shown disagree");

    if (isfinite(x) && om_codec_encode(&spec, x, out, n) == 0)
        check_encoded(&spec, x, out, n);
    if (om_codec_encode_raw(&spec, raw_in, out, n) == 0) {
        om_value back;
        if (om_codec_decode(&spec, out, n, &back) == OM_DECODE_OK)
            FUZZ_CHECK(back.exact && back.raw == raw_in, "raw %lld decodes back as %lld",
                       (long long)raw_in, (long long)back.raw);
    }
    if (om_codec_encode_sentinel(&spec, out, n) == 0)
        FUZZ_CHECK(om_codec_decode(&spec, out, n, &v) == OM_DECODE_NOT_AVAILABLE,
                   "an encoded sentinel decodes as a value");
    return 0;
}
