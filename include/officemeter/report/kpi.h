/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi.h - the annual KPI report, computed from monthly rollups (pure).
 *
 * Totals come from main meters only (electricity net of export where a
 * site declares net_export); sub-meters are a breakdown, flagged when they
 * add up to more than their main meters. Emission factors are chosen per
 * region and year by the policy; the previous year is restated with the
 * current year's factors when the policy says so. Every KPI names the
 * sites it covers, their share of floor area and the share of time with
 * actual data, and intensities divide by the area (or headcount) of
 * exactly those sites unless the policy asks for the whole portfolio.
 * Methodology: docs/methodology.md; report JSON: docs/architecture.md and docs/methodology.md.
 */
#ifndef OFFICEMETER_KPI_H
#define OFFICEMETER_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "officemeter/config/bills.h"
#include "officemeter/config/factors.h"
#include "officemeter/report/billed.h"
#include "officemeter/report/decompose.h"
#include "officemeter/report/rollup.h"
#include "officemeter/config/site.h"

typedef enum {
    OM_KPI_ENERGY_TOTAL,
    OM_KPI_ENERGY_ELECTRICITY,
    OM_KPI_ENERGY_INTENSITY_M2,
    OM_KPI_ENERGY_INTENSITY_EMPLOYEE,
    OM_KPI_GHG_SCOPE1,
    OM_KPI_GHG_SCOPE2_LOCATION,
    OM_KPI_GHG_SCOPE2_MARKET,
    OM_KPI_GHG_TOTAL,
    OM_KPI_GHG_INTENSITY_M2,
    OM_KPI_GHG_INTENSITY_EMPLOYEE,
    OM_KPI_GHG_SCOPE3_CAT3,
    OM_KPI_GHG_SCOPE3_WATER,
    OM_KPI_WATER,
    OM_KPI_WATER_INTENSITY_M2,
    OM_KPI_WATER_INTENSITY_EMPLOYEE,
    OM_KPI__COUNT
} om_kpi_id;

/* One figure for one year over the sites it covers. */
typedef struct {
    bool has_value;
    double value;
    bool *covered;          /* per report site */
    size_t ncovered;
    double area_share;      /* covered floor area / portfolio floor area */
    double time_share;      /* time with data (metered or billed) / time in service or
                             * billed, covered sites */
    double estimated_share; /* interpolated across gaps or billed on estimated readings /
                             * total, for the numerator */
    double metered_share;   /* metered with actual data / total */
    double billed_share;    /* billed on actual readings / total */
    double denominator;     /* intensities: m² or employees; 0 otherwise */
} om_kpi_figure;

typedef struct {
    om_kpi_id id;
    const char *key;   /* "energy_total_mwh" */
    const char *label; /* "Energy consumption, total" */
    const char *unit;  /* "MWh" */
    const char *hkex;  /* "A2.1", "" when not an HKEX KPI */
    om_kpi_figure current;
    om_kpi_figure previous; /* restated when previous_restated */
    bool previous_restated;
} om_kpi;

/* A utility at a site over one year (or month). */
typedef struct {
    bool metered;        /* main meters in service during the year */
    bool covered;        /* ... with some actual data, or bills counted */
    double value;        /* kWh or m³ (electricity net of export where declared), bills
                          * included */
    double import_kwh;   /* electricity: import, export */
    double export_kwh;
    double estimated;
    int64_t expected_ms;
    int64_t actual_ms;
    double sub_value;    /* sum of the sub-meters */
    double billed;       /* part of value from bills (no main meter in service) */
    double billed_estimated; /* ... from bills on estimated readings */
    int64_t billed_ms;   /* time counted from bills */
} om_site_utility;

/* True when a utility has a figure: metered, or billed. */
bool om_site_utility_has(const om_site_utility *u);

typedef struct {
    double location_t;   /* scope 2, location-based */
    double market_t;     /* scope 2, market-based */
    double scope3_cat3_t;
    double scope3_water_t;
    bool has_location, has_cat3, has_water3;
    double instruments_mwh;
    const om_factor *grid, *residual, *td, *wtt_gen, *wtt_td, *w_supply, *w_treatment;
} om_site_ghg;

typedef struct {
    const om_site *site;
    double area_m2;            /* the policy's denominator area */
    double area_time_weighted;
    double area_year_end;
    bool has_headcount;
    unsigned headcount;
    om_site_utility elec, water;
    om_site_ghg ghg;
    /* previous year, for the restated column */
    double prev_area_m2;
    bool prev_has_headcount;
    unsigned prev_headcount;
    om_site_utility prev_elec, prev_water;
    om_site_ghg prev_ghg;
    char **flags; /* human lines: estimates and data-quality flags */
    size_t nflags;
} om_report_site;

/* One site's month. */
typedef struct {
    size_t site; /* index into sites */
    unsigned month;
    om_site_utility elec, water;
    bool sub_exceeds_main;
    bool provisional;
    uint32_t nevents;
} om_report_month;

typedef struct {
    const om_factor *factor;
    bool current;         /* applied to the report year's activity */
    bool previous;        /* applied to the previous year's (a restatement when the factor
                           * is the report year's) */
    const char *used_for; /* "scope 2 location-based", … */
} om_report_factor;

/* Events of one meter, quantity and kind over the year: how many, and the
 * consumption they concern (interpolated across gaps, counted across
 * wraps...). Only the first OM_REPORT_EVENTS_LISTED of a group are listed
 * one by one; the database keeps them all. */
#define OM_REPORT_EVENTS_LISTED 10

typedef struct {
    size_t site; /* index into sites */
    char meter[OM_ID_MAX];
    om_quantity quantity;
    om_counter_event_kind kind;
    size_t count;
    double counted;
} om_report_event_group;

/* A target of the policy against this report (docs/methodology.md,
 * "Targets"). */
typedef enum {
    OM_TARGET_ON_TRACK,   /* at or below the straight-line path */
    OM_TARGET_BEHIND,     /* above it */
    OM_TARGET_NOT_STARTED, /* the report year is before the baseline year */
    OM_TARGET_NO_DATA,    /* the baseline or this year has no value */
} om_target_status;

typedef struct {
    const om_target *target;
    om_kpi_id kpi;
    bool has_baseline, has_current;
    double baseline;          /* the baseline year's value (restated where the policy restates) */
    bool baseline_restated;
    size_t baseline_ncovered; /* sites the baseline covers */
    double current;           /* this year's value */
    double target_value;      /* baseline x (1 - reduction) */
    double path;              /* the straight line (through milestones) at the report year */
    double path_reduction_pct;
    double change_pct;        /* this year against the baseline */
    om_target_status status;
} om_report_target;

typedef struct {
    om_kpi_id kpi;
    bool has;                        /* both years have a value */
    double previous, current, change;
    double effects[OM_EFFECT__COUNT];
    bool applies[OM_EFFECT__COUNT];  /* the effects this KPI has */
    bool has_headcount;              /* area_headcount applies */
    double area_headcount;           /* the part of the floor-area effect headcount explains */
    size_t sites_added, sites_removed, sites_continuing;
    char *text;                      /* the plain explanation */
} om_decomposition;

#define OM_REPORT_DECOMPOSED 3 /* energy_total_mwh, ghg_total_t, water_t */

/* The approval of this year, when there is one, and what changed since
 * (docs/methodology.md, "Approval and restatement"). Set by the caller. */
typedef struct {
    char *what;     /* "kpis.energy_total_mwh.value" */
    char *approved; /* the approved figure, as JSON text; "null" when none */
    char *now;
} om_restated_figure;

typedef struct {
    char approved_at[40];
    char approved_by[128];
    char sha256[65];       /* of the approved report's JSON */
    char current_sha256[65];
    bool restated;         /* this report differs from the approved one */
    char **reasons;        /* what changed in the inputs */
    size_t nreasons;
    om_restated_figure *figures; /* what changed in the figures */
    size_t nfigures;
} om_report_approval;

typedef struct {
    int year;
    const char *organisation;
    const om_policy *policy;
    om_kpi kpis[OM_KPI__COUNT];
    om_report_site *sites;
    size_t nsites;
    om_report_month *months; /* by site, then month */
    size_t nmonths;
    om_report_factor *factors;
    size_t nfactors;
    char **notes;
    size_t nnotes;
    om_meter_month *rows;   /* the input rows, sorted (site, meter, quantity, year, month) */
    size_t nrows;
    om_month_event *events; /* the year's events, sorted (site, meter, quantity, time) */
    size_t nevents;
    bool *event_listed;     /* per event: listed one by one (not a repeat, within the cap) */
    om_report_event_group *groups;
    size_t ngroups;
    bool provisional; /* some month not over when computed */
    om_bill_month *bill_months; /* the year's bill parts (billed.h) */
    size_t nbill_months;
    const om_bill_set *bills;
    om_report_target *targets;
    size_t ntargets;
    om_decomposition decomposition[OM_REPORT_DECOMPOSED];
    const om_report_approval *approval; /* set by the caller; NULL: none */
} om_report;

typedef struct {
    const om_site *sites; /* the portfolio */
    size_t nsites;
    const om_factor_set *factors;
    const om_policy *policy;
    int year;
    const om_meter_month *rows; /* this year's and the previous year's */
    size_t nrows;
    const om_month_event *events; /* this year's */
    size_t nevents;
    const om_bill_set *bills;     /* NULL: none */
    /* Every site of the portfolio, when `sites` is a part of it (a report
     * of one site): a shared account's bills are split over all of them.
     * NULL: `sites` is the portfolio. */
    const om_site *portfolio;
    size_t nportfolio;
} om_kpi_input;

/* The years a report of `year` reads rows of: the previous one, its own,
 * and the baseline years of the policy's targets (at most cap). Returns
 * the count. */
size_t om_report_years(const om_policy *policy, int year, int *years, size_t cap);

/* Computes the report; the result does not depend on the order of the
 * input rows and events. Returns 0, or -1 (memory) with errno set. */
int om_report_compute(const om_kpi_input *in, om_report *out);
void om_report_free(om_report *r);

const om_kpi *om_report_kpi(const om_report *r, const char *key);
/* (current - previous) / previous x 100; false when not defined. */
bool om_kpi_change_pct(const om_kpi *k, double *pct);

/* Writers of the report (the xlsx writer lives with the CLI, which links
 * libxlsxwriter). JSON carries full precision (docs/methodology.md, report
 * schema); Markdown and CSV are rounded as shown. Return 0, or -1 when
 * writing failed. */
int om_report_write_json(const om_report *r, FILE *out);
int om_report_write_md(const om_report *r, FILE *out);
int om_report_write_csv(const om_report *r, FILE *out);

/* Rounding of the human formats: decimals shown for a KPI's unit. */
int om_kpi_decimals(const om_kpi *k);

/* The name of a target status ("on track"). */
const char *om_target_status_name(om_target_status s);

/* One line for an event: "2024-03-10T00:00:00.000Z..2024-03-17T00:00:00.000Z gap: 2016 kWh
 * interpolated (estimated)". */
void om_month_event_describe(const om_month_event *e, char *buf, size_t len);

#endif
