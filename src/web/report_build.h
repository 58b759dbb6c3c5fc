/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_build.h - the annual report as the web view serves it: the
 * builder `officemeter report` uses (portfolio/build.h) over the same
 * rows, written by the same writers (report_build.c).
 */
#ifndef OFFICEMETER_WEB_REPORT_BUILD_H
#define OFFICEMETER_WEB_REPORT_BUILD_H

#include <jansson.h>

#include "officemeter/portfolio/build.h"
#include "officemeter/report/kpi.h"
#include "web.h"

/* The report's scope from the `site` parameter: one site the user may
 * see, or (absent) the whole portfolio for a user with every site. Returns
 * 0, or -1 after answering 400, 403 or 404. */
int web_report_scope(web_ctx *w, const web_req *rq, web_resp *rs, const om_site **only);

/* Builds the report of `year` (only: one site, NULL: all) as `officemeter
 * report` does, with its approval section for an approved year (b->r).
 * Returns 0 (free with om_built_report_free), or -1 with err. */
int web_report_build(web_ctx *w, const om_site *only, int year, om_built_report *b, char *err,
                     size_t errlen);

/* The report JSON, byte for byte `officemeter report --format json`. */
int web_report_json(web_ctx *w, const om_site *only, int year, wbuf *out, char *err,
                    size_t errlen);

/* Appends the counter events of a meter with from <= t < to (gaps that
 * overlap) to events: {"t", "t_end", "kind", "quantity", "counted"}. */
void web_meter_events(web_ctx *w, const om_site *site, const om_meter *meter, int64_t from,
                      int64_t to, json_t *events);

/* Plans a downsampled series of at most `points` buckets over [*from, to):
 * returns 1 when the buckets are whole hours (then *from is moved back to
 * the hour and the aggregates answer), 0 when they are shorter (the
 * readings answer, grouped in SQL). */
int web_readings_plan(int64_t *from, int64_t to, unsigned points, int64_t *bucket_ms);

#endif
