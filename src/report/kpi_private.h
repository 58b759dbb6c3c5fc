/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_private.h - the parts of the KPI report shared by kpi.c and
 * kpi_notes.c (not a public API).
 */
#ifndef OFFICEMETER_KPI_PRIVATE_H
#define OFFICEMETER_KPI_PRIVATE_H

#include "officemeter/report/kpi.h"

/* One site's year: what the KPI figures are computed from. */
typedef struct {
    double area_m2; /* the policy's denominator area */
    double area_time_weighted, area_year_end;
    bool has_headcount;
    unsigned headcount;
    om_site_utility elec, water;
    om_site_ghg ghg;
} om_site_year;

/* Every site's year `year` (rows of r, bills of in) with the factors of
 * factor_year. months (12 per site, may be NULL) gets the year's months;
 * *parts (may be NULL) the bill parts, malloc'd. Returns 0 or -1. */
int om_kpi_site_years(const om_kpi_input *in, const om_report *r, int year, int factor_year,
                      om_site_year *ys, om_report_month *months, om_bill_month **parts,
                      size_t *nparts);
/* One KPI over the sites' years. f->covered is malloc'd. */
int om_kpi_compute_figure(const om_kpi_input *in, size_t nsites, const om_site_year *ys,
                          om_kpi_id id, om_kpi_figure *f);
/* A site's contribution to a KPI's numerator; false when not covered. */
bool om_kpi_site_value(om_kpi_id id, const om_site_year *ys, double *value);
/* Why energy, GHG and water moved (kpi_decompose.c). */
int om_kpi_decompose(om_report *r, const om_site_year *cur, const om_site_year *prev);
/* The policy's targets against this report (kpi_targets.c). */
int om_kpi_targets(const om_kpi_input *in, om_report *r, const om_site_year *cur,
                   const om_site_year *prev);

/* The factors the report applied, once each, in a stable order. */
int om_kpi_collect_factors(om_report *r);
/* The report's notes: method, coverage, data quality, factor caveats. */
int om_kpi_write_notes(const om_kpi_input *in, om_report *r);
/* Each site's estimates and flags. */
int om_kpi_write_flags(const om_kpi_input *in, om_report *r);
/* Marks the events listed one by one and counts every group of events
 * (kpi_notes.c); a gap across a month boundary is an event of both months
 * and counts once. */
int om_kpi_group_events(om_report *r);
/* A utility's time with data (metered or billed) over its time in service
 * or billed, or its estimated share, as the tables show them. */
double om_utility_share(const om_site_utility *u, bool estimated);
/* Where a month's figures come from: "electricity metered; water billed". */
void om_month_sources(const om_report_month *m, char *buf, size_t len);
/* A KPI value rounded as the human formats show it; "" when there is none. */
void om_kpi_format(const om_kpi *k, bool has, double v, char *buf, size_t len);

#endif
