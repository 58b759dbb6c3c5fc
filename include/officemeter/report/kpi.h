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

#include "officemeter/config/factors.h"
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
    double time_share;      /* time with actual data / time in service, covered sites */
    double estimated_share; /* interpolated across gaps / total, for the numerator */
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

/* A utility at a site over one year. */
typedef struct {
    bool metered;        /* main meters in service during the year */
    bool covered;        /* ... and some actual data */
    double value;        /* kWh or m³ (electricity net of export where declared) */
    double import_kwh;   /* electricity: import, export */
    double export_kwh;
    double estimated;
    int64_t expected_ms;
    int64_t actual_ms;
    double sub_value;    /* sum of the sub-meters */
} om_site_utility;

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
} om_kpi_input;

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

/* One line for an event: "2024-03-10T00:00:00.000Z..2024-03-17T00:00:00.000Z gap: 2016 kWh
 * interpolated (estimated)". */
void om_month_event_describe(const om_month_event *e, char *buf, size_t len);

#endif
