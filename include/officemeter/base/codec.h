/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h - Modbus register values <-> canonical quantities.
 *
 * A meter stores a quantity in one or more 16-bit registers, in one of several
 * data types and word orders, scaled to some vendor unit. om_codec turns the
 * registers as they arrive on the wire into a canonical double (kWh, m³, kW,
 * V, m³/h) and, for integer types, also keeps the exact raw integer, so that
 * an int64 Wh counter is never rounded on its way to the database.
 *
 * Encoding is the inverse (the simulator uses it); decode(encode(x)) == x is
 * tested for every type and order.
 *
 * Word orders, named by where the bytes of a 32-bit big-endian value A B C D
 * land on the wire (register 0 high byte first):
 *   ABCD  big-endian, high word first            (Eastron, Schneider, ABB)
 *   CDAB  low word first, bytes big-endian       (Carlo Gavazzi, TUF-2000M)
 *   BADC  high word first, bytes swapped in word
 *   DCBA  fully little-endian
 * For 64-bit types the same rule extends to four words (CDAB = word order
 * reversed); for 16-bit types only the byte swap matters (ABCD = CDAB,
 * BADC = DCBA).
 */
#ifndef OFFICEMETER_CODEC_H
#define OFFICEMETER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OM_TYPE_U16,
    OM_TYPE_S16,
    OM_TYPE_U32,
    OM_TYPE_S32,
    OM_TYPE_U64,
    OM_TYPE_S64,
    OM_TYPE_F32,
    OM_TYPE_F64,
    OM_TYPE_COMPOSITE, /* sum of integer parts, e.g. whole m³ + mL */
    OM_TYPE__COUNT
} om_type;

typedef enum {
    OM_ORDER_ABCD,
    OM_ORDER_CDAB,
    OM_ORDER_BADC,
    OM_ORDER_DCBA,
    OM_ORDER__COUNT
} om_order;

#define OM_CODEC_MAX_PARTS 4
#define OM_CODEC_MAX_SENTINELS 4
#define OM_CODEC_MAX_REGS 16

/* One integer part of a composite value: `type` at register `offset` from the
 * quantity's address, worth `multiplier` raw units. Parts are listed with the
 * largest multiplier first. */
typedef struct {
    uint16_t offset;
    om_type type; /* an integer type */
    int64_t multiplier;
} om_part;

/* How one quantity is stored in registers. */
typedef struct {
    om_type type;
    om_order order;
    double scale; /* canonical value = raw * scale */
    /* composite only */
    size_t nparts;
    om_part parts[OM_CODEC_MAX_PARTS];
    /* "not available" patterns: the value assembled big-endian from the
     * registers (after word order), as bits, e.g. 0xFFFFFFFF or 0x7FFFFFFF.
     * For composites, compared against each part. */
    size_t nsentinels;
    uint64_t sentinels[OM_CODEC_MAX_SENTINELS];
} om_regspec;

typedef enum {
    OM_DECODE_OK = 0,
    OM_DECODE_NOT_AVAILABLE = 1, /* a sentinel pattern: the meter has no value */
    OM_DECODE_NOT_FINITE = 2,    /* NaN or infinity bit pattern */
    OM_DECODE_INVALID = -1       /* bad spec or too few registers */
} om_decode_status;

typedef struct {
    double value; /* canonical units: raw * scale */
    bool exact;   /* raw holds the exact integer (integer and composite types) */
    int64_t raw;  /* exact integer before scaling; for u64 above INT64_MAX, exact is false */
} om_value;

/* NULL for a usable spec, otherwise why it is not (unknown type or order,
 * scale zero or not finite, too many sentinels; for composites: part count,
 * a non-integer part, a multiplier not positive or not smaller than the one
 * before, overlapping parts, a part beyond OM_CODEC_MAX_REGS). Every codec
 * function refuses exactly these specs. */
const char *om_codec_spec_problem(const om_regspec *spec);

/* Number of registers a spec occupies (for composites: up to the end of the
 * last part). 0 for an invalid spec. */
size_t om_codec_register_count(const om_regspec *spec);

/* Decode `nregs` registers (as read from the wire, register 0 first). */
om_decode_status om_codec_decode(const om_regspec *spec, const uint16_t *regs, size_t nregs,
                                 om_value *out);

/* Encode a canonical value into registers: raw = value / scale, rounded to the
 * nearest integer for integer types. Returns 0, or -1 when the value does not
 * fit the type (out of range, NaN for an integer type) or regs is too short. */
int om_codec_encode(const om_regspec *spec, double value, uint16_t *regs, size_t nregs);

/* Encode an exact raw integer (integer and composite types only). */
int om_codec_encode_raw(const om_regspec *spec, int64_t raw, uint16_t *regs, size_t nregs);

/* True when the registers show one of the spec's "not available" patterns
 * (in any part of a composite), with the pattern in *pattern: what
 * om_codec_decode's OM_DECODE_NOT_AVAILABLE found, for messages. */
bool om_codec_sentinel_shown(const om_regspec *spec, const uint16_t *regs, size_t nregs,
                             uint64_t *pattern);

/* Encode the spec's first sentinel pattern (for simulating "not available").
 * Returns -1 when the spec has none. */
int om_codec_encode_sentinel(const om_regspec *spec, uint16_t *regs, size_t nregs);

/* Names as used in catalogue files: "u16", "f32", "composite"; "ABCD", ... */
const char *om_type_name(om_type type);
const char *om_order_name(om_order order);
int om_type_from_name(const char *name, om_type *out);
int om_order_from_name(const char *name, om_order *out);
bool om_type_is_integer(om_type type);
bool om_type_is_signed(om_type type);
size_t om_type_register_count(om_type type); /* 0 for composite */

#endif
