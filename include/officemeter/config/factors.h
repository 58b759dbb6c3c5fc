/* SPDX-License-Identifier: Apache-2.0 */
/*
 * factors.h - emission factors and the reporting policy (sites/).
 *
 * A factor is unique by (region, kind, activity year, source) and carries
 * its publication date and verification status, so every tonne in a report
 * can name the document it came from. The policy holds the organisation's
 * reporting choices. Formats: docs/sites.md.
 */
#ifndef OFFICEMETER_FACTORS_H
#define OFFICEMETER_FACTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/diag.h"

typedef enum {
    OM_FACTOR_GRID_ELECTRICITY, /* scope 2, location-based */
    OM_FACTOR_RESIDUAL_MIX,     /* scope 2, market-based */
    OM_FACTOR_TD_LOSSES,        /* scope 3 category 3 */
    OM_FACTOR_WTT_GENERATION,
    OM_FACTOR_WTT_TD,
    OM_FACTOR_WATER_SUPPLY,     /* scope 3 */
    OM_FACTOR_WATER_TREATMENT,
    OM_FACTOR__COUNT
} om_factor_kind;

typedef enum {
    OM_UNIT_TCO2_PER_MWH,
    OM_UNIT_TCO2E_PER_MWH,
    OM_UNIT_KGCO2E_PER_KWH,
    OM_UNIT_KGCO2E_PER_M3,
    OM_UNIT_TCO2E_PER_M3,
} om_factor_unit;

typedef struct {
    char *id;
    char *region;
    om_factor_kind kind;
    double value;
    om_factor_unit unit;
    int activity_year;
    char *source;
    int32_t published; /* days since epoch */
    bool verified;
    char *note;
} om_factor;

typedef struct {
    om_factor *factors;
    size_t nfactors;
    char *path;
} om_factor_set;

typedef enum { OM_AREA_TIME_WEIGHTED, OM_AREA_YEAR_END } om_area_basis;
typedef enum { OM_SCOPE_COVERED_SITES, OM_SCOPE_WHOLE_PORTFOLIO } om_intensity_scope;

typedef struct {
    char *region;
    om_factor_kind kind;
    int year;
    char *factor_id;
} om_factor_choice;

typedef struct {
    char *organisation;
    bool restate_previous_year;
    om_area_basis intensity_area;
    om_intensity_scope intensity_scope;
    unsigned gap_intervals;
    om_factor_choice *choices;
    size_t nchoices;
    char *path;
    /* Counter plausibility (docs/methodology.md): the nominal interval
     * between readings, and the most a main incomer or a water meter can
     * plausibly draw. A step faster than that is a glitch or a jump, and a
     * wrap is believed only if it implies less. */
    unsigned poll_interval_s;
    double max_power_kw;
    double max_flow_m3h;
} om_policy;

int om_factors_load(const char *path, om_factor_set *out, om_diag *diag);
void om_factors_free(om_factor_set *set);
/* Load a policy; when factors is non-NULL its factor references are checked. */
int om_policy_load(const char *path, const om_factor_set *factors, om_policy *out, om_diag *diag);
void om_policy_free(om_policy *policy);

/* The factor to use for region, kind and activity year: an explicit choice
 * in the policy, else the factor of that region and kind with the latest
 * activity_year <= year. NULL when there is none. */
const om_factor *om_factors_select(const om_factor_set *set, const om_policy *policy,
                                   const char *region, om_factor_kind kind, int year);
/* The factor's value in tonnes CO2e per MWh (electricity) or per m³ (water). */
double om_factor_tonnes_per_unit(const om_factor *f);
const char *om_factor_kind_name(om_factor_kind kind);
const char *om_factor_unit_name(om_factor_unit unit);

#endif
