/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_data.c - a site's open alerts for the site page and the API
 * (docs/alerts.md, "The web view"): read from the alert tables the
 * evaluator (officemeter alerts evaluate) keeps in the same database. A
 * database where no alert was ever evaluated has no such tables: no alerts,
 * and the page says the evaluator has not run.
 */
#include "alerts_data.h"

#include <stdio.h>
#include <string.h>

#include "officemeter/store/alertdb.h"

int web_open_alerts(web_ctx *w, const char *site, web_alerts *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    web_conn *c = web_conn_get(w);
    bool missing = false;
    om_alertdb *db = om_alertdb_open(c->st, &missing, err, errlen);
    int rc = 0;
    if (!db) {
        rc = missing ? 0 : -1; /* missing: never evaluated here */
    } else {
        out->evaluated = true;
        om_alertdb_filter f = {.site = site, .open_only = true};
        if (om_alertdb_list(db, &f, web_now(w), &out->rows, &out->n) < 0) {
            snprintf(err, errlen, "alerts: %s", om_alertdb_errmsg(db));
            rc = -1;
        }
        om_alertdb_close(db);
    }
    web_conn_put(w, c);
    return rc;
}

void web_alerts_free(web_alerts *a)
{
    om_alert_records_free(a->rows, a->n);
    memset(a, 0, sizeof *a);
}
