/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_private.h - the parts of the KPI report shared by kpi.c and
 * kpi_notes.c (not a public API).
 */
#ifndef OFFICEMETER_KPI_PRIVATE_H
#define OFFICEMETER_KPI_PRIVATE_H

#include "officemeter/report/kpi.h"

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
/* A KPI value rounded as the human formats show it; "" when there is none. */
void om_kpi_format(const om_kpi *k, bool has, double v, char *buf, size_t len);

#endif
