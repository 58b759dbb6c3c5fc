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
#include "officemeter/config/site.h"

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

/* Where bills count (docs/methodology.md, "Bills"): `fill` counts a bill
 * for the time no main meter of its utility is in service at the site and
 * never for the time one is; `reconcile_only` never counts it (it is only
 * compared with the meters). */
typedef enum { OM_BILLS_FILL, OM_BILLS_RECONCILE_ONLY } om_bill_use;

typedef struct {
    char *site;
    om_utility utility;
    om_bill_use use;
    size_t line, col; /* of its site, for messages */
} om_bill_rule;

typedef struct {
    char *site;
    double share;
} om_account_share;

/* An account that covers several sites: its bills (in the file of any one
 * of them) are split by floor area on each day, or by fixed shares. */
typedef struct {
    char *account;
    om_utility utility;
    char **sites; /* split by floor area */
    size_t nsites;
    om_account_share *shares; /* fixed shares, summing to 1 */
    size_t nshares;
    size_t line, col; /* where it is declared, for messages */
} om_bill_account;

typedef struct {
    char *folder; /* the bill files, relative to the policy's folder */
    om_bill_use use;
    om_bill_rule *rules;
    size_t nrules;
    om_bill_account *accounts;
    size_t naccounts;
    double reconcile_threshold_pct; /* `officemeter reconcile` flags variances above this */
} om_bill_policy;

typedef enum { OM_TARGET_ABSOLUTE, OM_TARGET_INTENSITY } om_target_type;

typedef struct {
    int year;
    double reduction_pct;
} om_milestone;

/* A reduction target on one KPI (HKEX A1.5, A2.3, A2.4): from the baseline
 * year's value, reduction_pct less by the target year, on the straight
 * line through the milestones. */
typedef struct {
    int kpi; /* index into om_policy_kpi_names */
    int baseline_year;
    int target_year;
    double reduction_pct;
    om_target_type type;
    om_milestone *milestones;
    size_t nmilestones;
    size_t line, col; /* where it is declared, for messages */
} om_target;

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
    om_bill_policy bills;
    om_target *targets;
    size_t ntargets;
} om_policy;

/* The KPI keys a target may name (the report's keys, docs/methodology.md),
 * NULL-terminated; om_policy_kpi_names[target.kpi] is a target's KPI. */
extern const char *const om_policy_kpi_names[];
/* How a site's bills of a utility are used. */
om_bill_use om_policy_bill_use(const om_policy *policy, const char *site, om_utility utility);
/* The account that covers several sites, or NULL. */
const om_bill_account *om_policy_account(const om_policy *policy, const char *account,
                                         om_utility utility);
/* The folder of the bill files: `bills.folder` relative to the policy's
 * own folder (malloc'd). */
char *om_policy_bills_folder(const om_policy *policy);
/* Checks the sites the policy names (bill rules and accounts) against the
 * portfolio; errors go to diag. Returns the number of errors added. */
size_t om_policy_check_sites(const om_policy *policy, const om_site *sites, size_t nsites,
                             om_diag *diag);

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
