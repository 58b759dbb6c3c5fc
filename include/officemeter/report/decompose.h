/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decompose.h - why a figure moved: the change of a total against the
 * previous year split into additive effects (pure).
 *
 * Each site's value is area x intensity (x factor for emissions):
 *     V = A x (V / A)                   energy, water
 *     V = A x (E / A) x (V / E)         emissions, E the energy behind them
 * The change of a site covered in both years is split by the additive
 * log-mean Divisia index (LMDI-I):
 *     effect_x = L(V1, V0) x ln(x1 / x0),   L(a, b) = (a - b) / (ln a - ln b)
 * which adds up to V1 - V0 with no residual term. Sites covered in one year
 * only are the "sites added or removed" effect. Where a site declares its
 * headcount in both years, its area is headcount x area per employee, and
 * the part of its floor-area effect that headcount explains is reported
 * (within the floor-area effect, not beside it). docs/methodology.md, "Why
 * it moved", has the rules for zeros and a worked example.
 */
#ifndef OFFICEMETER_DECOMPOSE_H
#define OFFICEMETER_DECOMPOSE_H

#include <stdbool.h>
#include <stddef.h>

/* The effects; they add up to the change. */
typedef enum {
    OM_EFFECT_SITES,     /* sites added or removed */
    OM_EFFECT_AREA,      /* floor area */
    OM_EFFECT_INTENSITY, /* consumption per m²: efficiency */
    OM_EFFECT_FACTOR,    /* emission factor (emissions only; zero when restated) */
    OM_EFFECT__COUNT
} om_effect_kind;

/* One site in the two years. */
typedef struct {
    bool in0, in1;          /* covered by the figure in the previous, this year */
    double area0, area1;    /* m² */
    double heads0, heads1;  /* employees; 0 when not declared */
    double activity0, activity1; /* MWh or m³ (the energy behind emissions) */
    double factor0, factor1;     /* emissions per unit of activity; 1 for energy and water */
    double value0, value1;  /* the site's contribution: activity x factor as the figure adds it */
} om_decomp_site;

typedef struct {
    double effects[OM_EFFECT__COUNT];
    double area_headcount; /* the part of the floor-area effect headcount explains */
    bool has_headcount;    /* some site covered both years declares headcount in both */
    size_t added, removed, continuing;
} om_decomp_result;

/* Splits total1 - total0 (the figure's two values, each the sum of its
 * sites' values) into effects. `emissions` adds the factor effect. The
 * floating-point residual (a few units in the last place) is carried by the
 * intensity effect. */
void om_decompose(const om_decomp_site *sites, size_t n, bool emissions, double total0,
                  double total1, om_decomp_result *out);

/* Rounds x[0..n) to `decimals` so that the rounded values add up to
 * `total` rounded the same way (largest remainders): what the human formats
 * print for the effects of a change. out[] is in units of 10^-decimals. */
void om_round_to_total(const double *x, size_t n, double total, int decimals, long long *out);

/* "floor area", "intensity per m²", ... */
const char *om_effect_name(om_effect_kind e);

#endif
