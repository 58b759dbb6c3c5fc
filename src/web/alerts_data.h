/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_data.h - a site's open alerts, as the site page and
 * /api/v1/sites/{site}/alerts show them (alerts_data.c).
 */
#ifndef OFFICEMETER_WEB_ALERTS_DATA_H
#define OFFICEMETER_WEB_ALERTS_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/alerts/record.h"
#include "web.h"

typedef struct {
    bool evaluated;          /* the alert tables exist: the evaluator has run */
    om_alert_record *rows;   /* open alerts of the site, newest first */
    size_t n;
} web_alerts;

/* Returns 0, or -1 with err. */
int web_open_alerts(web_ctx *w, const char *site, web_alerts *out, char *err, size_t errlen);
void web_alerts_free(web_alerts *a);

#endif
