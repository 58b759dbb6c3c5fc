/* SPDX-License-Identifier: Apache-2.0 */
/*
 * numfmt.c - doubles as the shortest text that reads back as the same
 * double, for JSON (the readings payload, the report) and CSV.
 */
#include "officemeter/base/numfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fewest significant digits (15, 16 or 17) that read back as the same
 * double, with printf and strtod: the reference, and the path for values
 * outside the fast path's range below. */
static void format_double_printf(double value, char *buf, size_t len)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, value);
        if (strtod(buf, NULL) == value)
            break;
    }
    /* printf follows LC_NUMERIC; JSON always uses a point. */
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
}

__extension__ typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull};

static u128 pow10_u128(int p)
{
    return p < 20 ? pow10_u64[p] : (u128)pow10_u64[19] * pow10_u64[p - 19];
}

/* Digits before the point of mag (1e-4 <= mag < 1e15): d with 10^(d-1) <=
 * mag < 10^d, so 0 for 0.1 <= mag < 1 and -3 for 1e-4 <= mag < 1e-3. Exact:
 * the doubles 1e0..1e15 are exact and 1e-1..1e-4 are rounded up, so a
 * comparison with them is a comparison with the power of ten itself. */
static int int_digits(double mag)
{
    static const double below_one[] = {1e-1, 1e-2, 1e-3};
    int d = 0;
    if (mag >= 1.0) {
        while (d < 15 && mag >= (double)pow10_u64[d + 1])
            d++;
        return d + 1;
    }
    while (d < 3 && mag < below_one[d])
        d++;
    return -d;
}

/* The fast path: 1e-4 <= |value| < 1e15, where "%.Ng" writes plain decimals
 * (no exponent). The value is m * 2^-k exactly (m < 2^53, 3 <= k <= 66).
 * With p fractional digits, n = m * 10^p / 2^k rounded to the nearest
 * integer (ties to even, as printf) is the p-digit decimal nearest to the
 * value, and it reads back as the value when it lies within half a unit in
 * the last place (ties to an even m, as strtod; a quarter below a power of
 * two, whose lower neighbour is closer). All in exact 128-bit integers:
 * m * 10^p < 2^53 * 10^21 < 2^123. p starts at 15 significant digits and
 * grows to 17, as the printf loop does, and the zeros printf's %g strips
 * are stripped. Formatting a double this way costs a few dozen integer
 * operations instead of printf's and strtod's multi-precision arithmetic,
 * which was most of the agent's CPU per poll. Returns the length written,
 * or 0 to fall back to printf. */
static size_t format_double_fast(double value, char *buf)
{
    double mag = fabs(value);
    if (!(mag >= 1e-4 && mag < 1e15))
        return 0;
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
    int k = 1075 - biased; /* value = m * 2^-k; the range keeps k in 3..66 */
    bool pow2 = m == (UINT64_C(1) << 52);
    int p = 15 - int_digits(mag);
    if (p < 0)
        p = 0;
    u128 n = 0;
    for (;; p++) {
        if (p > 21)
            return 0;
        u128 ten = pow10_u128(p);
        u128 scaled = (u128)m * ten;  /* value * 10^p * 2^k */
        n = scaled >> k;              /* floor(value * 10^p) */
        u128 rem = scaled - (n << k); /* in units of 2^-k */
        u128 half = (u128)1 << (k - 1);
        if (rem > half || (rem == half && (n & 1)))
            n++;
        if (n >= (u128)pow10_u64[17]) /* more than 17 significant digits */
            return 0;
        /* |n * 2^k - m * 10^p| against half an ulp, 10^p / 2 in these units */
        u128 nk = n << k;
        bool above = nk >= scaled;
        u128 diff = above ? nk - scaled : scaled - nk;
        bool reads_back;
        if (!above && pow2)
            reads_back = 4 * diff <= ten; /* the gap below a power of two is half */
        else
            reads_back = 2 * diff < ten || (2 * diff == ten && !(m & 1));
        if (reads_back)
            break;
    }
    uint64_t v = (uint64_t)n;
    while (p > 0 && v % 10 == 0) {
        v /= 10;
        p--;
    }
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t len = 0;
    if (value < 0)
        buf[len++] = '-';
    if (nd <= p) { /* below 1: "0." and leading zeros */
        buf[len++] = '0';
        buf[len++] = '.';
        for (int z = 0; z < p - nd; z++)
            buf[len++] = '0';
        while (nd > 0)
            buf[len++] = digits[--nd];
    } else {
        while (nd > p)
            buf[len++] = digits[--nd];
        if (p > 0) {
            buf[len++] = '.';
            while (nd > 0)
                buf[len++] = digits[--nd];
        }
    }
    buf[len] = '\0';
    return len;
}

size_t om_format_double(double value, char *buf, size_t len)
{
    if (!isfinite(value) || len < 32)
        return 0;
    size_t n = format_double_fast(value, buf);
    if (n == 0) {
        format_double_printf(value, buf, len);
        n = strlen(buf);
    }
    /* Without a point or exponent, JSON parsers read an integer. */
    if (memchr(buf, '.', n) == NULL && memchr(buf, 'e', n) == NULL) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return n;
}
