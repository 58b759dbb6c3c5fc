/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status_data.h - what `officemeter status` shows, for the pages, the API
 * and /metrics: every declared gateway and meter of the sites a user may
 * see (and what the database knows beyond them), last seen, age, errors,
 * outbox depth, stale or not; read in one snapshot (status_data.c).
 */
#ifndef OFFICEMETER_WEB_STATUS_DATA_H
#define OFFICEMETER_WEB_STATUS_DATA_H

#include <jansson.h>

#include "officemeter/store/hours.h"
#include "officemeter/store/store.h"
#include "web.h"

typedef struct {
    char site[64], gateway[64];
    const om_store_gateway_row *row; /* NULL: never heard of */
    bool declared, stale;
} web_gateway_status;

typedef struct {
    char site[64], meter[64], gateway[64];
    const om_store_meter_row *row;   /* NULL: no reading ever */
    int64_t errors;                  /* from the gateway's health; -1 unknown */
    uint64_t readings;               /* stored, all quantities */
    const char *status;              /* "ok", "STALE", "inactive", "undeclared" */
    bool stale;
} web_meter_status;

typedef struct {
    int64_t now, stale_ms;
    om_store_gateway_row *gw_rows;
    size_t ngw_rows;
    om_store_meter_row *meter_rows;
    size_t nmeter_rows;
    om_store_reading_count *counts;
    size_t ncounts;
    om_store_reject_count *rejects;
    size_t nrejects;
    om_store_quick_totals totals;
    bool all; /* the totals are the whole database's */
    web_gateway_status *gateways;
    size_t ngateways;
    web_meter_status *meters;
    size_t nmeters;
    size_t stale;
} web_status;

/* Loads the status of the sites the request's user may see (only_site:
 * of that one only). errors: read each meter's error count from its
 * gateway's health message (one JSON parse per meter). */
int web_status_load(web_ctx *w, const web_req *rq, const char *only_site, bool errors,
                    web_status *out, char *err, size_t errlen);
void web_status_free(web_status *s);
json_t *web_status_json(const web_status *s);

#endif
