/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_build.c - the report for the report page, its downloads and the
 * API: the portfolio library's builder (portfolio/build.h, the one
 * `officemeter report` uses, approval section included) over rows from
 * web_year_rows (stored rollups, months computed in memory, never saved),
 * then the report library's own writers.
 */
#include "report_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/id.h"
#include "officemeter/base/isotime.h"
#include "wjson.h"

int web_report_scope(web_ctx *w, const web_req *rq, web_resp *rs, const om_site **only)
{
    const char *id = rq->arg(rq->argctx, "site");
    *only = NULL;
    if (!id) {
        if (!web_sees_all(rq)) {
            web_error(rq, rs, 403, "the portfolio report is for users with every site (all); "
                      "ask for one of your sites with site=");
            return -1;
        }
        return 0;
    }
    if (!om_id_valid(id)) {
        web_error(rq, rs, 400, "site: not a site id (got \"%.64s\")", id);
        return -1;
    }
    if (!web_may_see(rq, id)) {
        web_error(rq, rs, 403, "site %s: not one of your sites", id);
        return -1;
    }
    if (!(*only = om_portfolio_site(&w->pf, id))) {
        web_error(rq, rs, 404, "no site \"%s\" in the portfolio", id);
        return -1;
    }
    return 0;
}

int web_report_build(web_ctx *w, const om_site *only, int year, om_built_report *b, char *err,
                     size_t errlen)
{
    web_conn *c = web_conn_get(w);
    /* As the command: an approved year's stored months are checked against
     * their readings (recomputed here in memory when they changed). */
    int rc = om_built_report_begin(c->st, year, b, err, errlen);
    if (rc == 0)
        rc = web_year_rows(w, c, only, year, b->approved, &b->rows, err, errlen);
    web_conn_put(w, c);
    if (rc == 0)
        rc = om_built_report_finish(&w->pf, only, year, b, err, errlen);
    if (rc < 0)
        om_built_report_free(b);
    return rc;
}

int web_report_json(web_ctx *w, const om_site *only, int year, wbuf *out, char *err,
                    size_t errlen)
{
    om_built_report b;
    if (web_report_build(w, only, year, &b, err, errlen) < 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc = f && om_report_write_json(&b.r, f) == 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0)
        wb_putn(out, text, len);
    else
        snprintf(err, errlen, "cannot write the report");
    free(text);
    om_built_report_free(&b);
    return rc;
}

void web_meter_events(web_ctx *w, const om_site *site, const om_meter *meter, int64_t from,
                      int64_t to, json_t *events)
{
    int y0, y1;
    unsigned m;
    if (om_month_of(site->timezone, from, &y0, &m) < 0 ||
        om_month_of(site->timezone, to - 1, &y1, &m) < 0)
        return;
    web_conn *c = web_conn_get(w);
    for (int y = y0; y <= y1; y++) {
        om_year_rows rows = {0};
        char err[512];
        if (web_year_rows(w, c, site, y, false, &rows, err, sizeof err) < 0) {
            om_year_rows_free(&rows);
            continue;
        }
        for (size_t i = 0; i < rows.nevents; i++) {
            const om_month_event *e = &rows.events[i];
            if (strcmp(e->meter, meter->id) != 0 || !om_counter_event_in(&e->ev, from, to))
                continue;
            char t[40], t_end[40];
            json_array_append_new(
                events, json_pack("{s:s, s:s, s:s, s:s, s:o}", "t",
                                  om_format_iso8601(e->ev.t, t, sizeof t), "t_end",
                                  om_format_iso8601(e->ev.t_end, t_end, sizeof t_end), "kind",
                                  om_counter_event_name(e->ev.kind), "quantity",
                                  om_quantity_get(e->quantity)->name, "counted",
                                  web_json_num(e->ev.counted)));
        }
        om_year_rows_free(&rows);
    }
    web_conn_put(w, c);
}
