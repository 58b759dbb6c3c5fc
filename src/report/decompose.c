/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decompose.c - LMDI-I effects of a change, and rounding that keeps a
 * table's parts adding up to its total.
 *
 * Zeros: LMDI needs logarithms of positive values. A site covered in both
 * years whose value is zero in one of them (no water used, a zero factor)
 * cannot be split multiplicatively; its whole change goes to the factor
 * that is zero (the emission factor, else the intensity), which is the
 * limit the LMDI formula tends to as the value tends to zero.
 */
#include "officemeter/report/decompose.h"

#include <math.h>
#include <stdlib.h>

/* The logarithmic mean. */
static double logmean(double a, double b)
{
    if (a == b)
        return a;
    return (a - b) / (log(a) - log(b));
}

static void continuing(const om_decomp_site *s, bool emissions, om_decomp_result *out)
{
    double *e = out->effects;
    double v0 = s->value0, v1 = s->value1;
    if (v0 <= 0 || v1 <= 0) {
        bool zero_factor = emissions && (s->factor0 <= 0 || s->factor1 <= 0) &&
                           s->activity0 > 0 && s->activity1 > 0;
        e[zero_factor ? OM_EFFECT_FACTOR : OM_EFFECT_INTENSITY] += v1 - v0;
        return;
    }
    double w = logmean(v1, v0);
    double ln_area = log(s->area1 / s->area0);
    double ln_factor = emissions ? log(s->factor1 / s->factor0) : 0;
    /* The intensity is activity per m²: its log ratio is the activity's
     * less the area's. */
    double ln_activity = emissions && s->activity0 > 0 && s->activity1 > 0
                             ? log(s->activity1 / s->activity0)
                             : log(v1 / v0) - ln_factor;
    /* Area = headcount x area per employee: the same weight times the log
     * ratio of headcount is the part of the area effect headcount explains. */
    if (s->heads0 > 0 && s->heads1 > 0) {
        out->has_headcount = true;
        out->area_headcount += w * log(s->heads1 / s->heads0);
    }
    e[OM_EFFECT_AREA] += w * ln_area;
    e[OM_EFFECT_INTENSITY] += w * (ln_activity - ln_area);
    e[OM_EFFECT_FACTOR] += w * ln_factor;
}

void om_decompose(const om_decomp_site *sites, size_t n, bool emissions, double total0,
                  double total1, om_decomp_result *out)
{
    double *e = out->effects;
    for (int k = 0; k < OM_EFFECT__COUNT; k++)
        e[k] = 0;
    out->area_headcount = 0;
    out->has_headcount = false;
    out->added = out->removed = out->continuing = 0;
    for (size_t i = 0; i < n; i++) {
        const om_decomp_site *s = &sites[i];
        bool cont = s->in0 && s->in1 && s->area0 > 0 && s->area1 > 0;
        if (cont) {
            out->continuing++;
            continuing(s, emissions, out);
            continue;
        }
        /* Covered in one year only (or without floor area in one): an
         * office that opened, closed, or moved to a new site id. */
        if (s->in1) {
            out->added++;
            e[OM_EFFECT_SITES] += s->value1;
        }
        if (s->in0) {
            out->removed++;
            e[OM_EFFECT_SITES] -= s->value0;
        }
    }
    double sum = 0;
    for (int k = 0; k < OM_EFFECT__COUNT; k++)
        sum += e[k];
    e[OM_EFFECT_INTENSITY] += (total1 - total0) - sum;
}

/* ---- rounding to a total ------------------------------------------------------ */

typedef struct {
    size_t i;
    double rem;
} part_rem;

static int by_remainder(const void *pa, const void *pb)
{
    const part_rem *a = pa, *b = pb;
    if (a->rem != b->rem)
        return a->rem > b->rem ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

void om_round_to_total(const double *x, size_t n, double total, int decimals, long long *out)
{
    double scale = pow(10, decimals);
    long long want = llround(total * scale), have = 0;
    part_rem rem[16];
    for (size_t i = 0; i < n; i++) {
        double v = x[i] * scale;
        out[i] = (long long)floor(v);
        have += out[i];
        if (i < 16)
            rem[i] = (part_rem){i, v - floor(v)};
    }
    long long missing = want - have;
    size_t m = n < 16 ? n : 16;
    if (missing >= 0 && (size_t)missing <= m) {
        qsort(rem, m, sizeof *rem, by_remainder);
        for (long long k = 0; k < missing; k++)
            out[rem[k].i]++;
        return;
    }
    /* The parts do not add up to the total (they always do within floating
     * point); the largest part absorbs the difference so the table adds up. */
    size_t big = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(x[i]) > fabs(x[big]))
            big = i;
    if (n)
        out[big] += missing;
}

const char *om_effect_name(om_effect_kind e)
{
    switch (e) {
    case OM_EFFECT_SITES: return "sites added or removed";
    case OM_EFFECT_AREA: return "floor area";
    case OM_EFFECT_INTENSITY: return "intensity per m²";
    case OM_EFFECT_FACTOR: return "emission factor";
    default: return "?";
    }
}
