/* SPDX-License-Identifier: Apache-2.0 */
/*
 * explain.h - one figure of the report walked back to where it comes from,
 * with the arithmetic, for an auditor's sampling: the KPI, the sites it
 * covers and what each contributes, the factor and how it was chosen, the
 * floor area or headcount it divides by, each site's months, each meter's
 * month with the readings at its boundaries and the interpolation, and
 * each bill's part. Readings come in through om_rollup_source.
 */
#ifndef OFFICEMETER_EXPLAIN_H
#define OFFICEMETER_EXPLAIN_H

#include <stdio.h>

#include "officemeter/report/kpi.h"

/* Writes the walk for `kpi` (a KPI key) of the report, for every site it
 * covers or only `site` (NULL: all). Returns 0, -1 when writing or reading
 * failed, -2 when the key or the site is not the report's. */
int om_explain(const om_report *r, const char *kpi, const char *site,
               const om_rollup_source *src, FILE *out);

#endif
