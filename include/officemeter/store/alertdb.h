/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alertdb.h - alerts in the aggregator's database: what the evaluator reads
 * (meters, gateways, counter readings), the rules' saved states, the alerts
 * with their history, acknowledgements and silences, and how far each
 * delivery target has got.
 *
 * The history is the delivery queue. Every change of an alert (fired,
 * resolved, acknowledged, silenced, unsilenced) is one history row, written
 * in the same transaction as the change itself, with the exact body to
 * deliver; each target (the MQTT event topic, each webhook) keeps the id of
 * the last row it has taken, and moves past a row only once the receiver
 * has it. So a change is never lost to a crash between the change and its
 * delivery, and a row sent again after a crash carries the same
 * idempotency key (docs/alerts.md, "Delivery").
 *
 * The tables have their own version (alert_meta 'schema'), like the rollup
 * tables, so the store's migrations and ours never wait on each other. The
 * interface speaks of sites, meters, gateways and alerts only: a PostgreSQL
 * backend implements the same functions. Functions return 0 or -1 (the
 * reason in om_alertdb_errmsg) unless said otherwise.
 */
#ifndef OFFICEMETER_STORE_ALERTDB_H
#define OFFICEMETER_STORE_ALERTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/alerts/record.h"
#include "officemeter/alerts/rules.h"
#include "officemeter/base/quantity.h"
#include "officemeter/report/consumption.h"
#include "officemeter/store/store.h"

#define OM_ALERTDB_SCHEMA 1

typedef struct om_alertdb om_alertdb;

/* Prepares the alert tables on an open store, creating them when the store
 * is writable and they are missing. On a read-only store without them:
 * NULL with *missing set (no alert was ever evaluated there). */
om_alertdb *om_alertdb_open(om_store *st, bool *missing, char *err, size_t errlen);
void om_alertdb_close(om_alertdb *db);
const char *om_alertdb_errmsg(const om_alertdb *db);
/* 16 hex digits made when the tables were created: the first part of every
 * idempotency key, so keys of two databases never meet. */
const char *om_alertdb_instance(const om_alertdb *db);

/* Savepoints inside a group (om_store_begin … om_store_commit): one site's
 * evaluation is kept or undone as a whole while a group holds several
 * sites, so that a cycle costs one fsync per group, not one per site. */
int om_alertdb_savepoint(om_alertdb *db);
int om_alertdb_release(om_alertdb *db);
void om_alertdb_rollback_to(om_alertdb *db);

/* ---- what the evaluator reads ---- */

int om_alertdb_meter_facts(om_alertdb *db, const char *site, const char *meter,
                           om_alert_meter_facts *out);
int om_alertdb_gateway_facts(om_alertdb *db, const char *site, const char *gateway,
                             om_alert_gateway_facts *out);
/* Counter readings of (site, meter, q) with t >= from, in time order, plus
 * the `context` readings before from; *samples is malloc'd. */
int om_alertdb_counter(om_alertdb *db, const char *site, const char *meter, om_quantity q,
                       int64_t from, unsigned context, om_sample **samples, size_t *n);

/* ---- the rules' states ---- */

/* *found false (and *state zeroed) when the rule never ran for the subject. */
int om_alertdb_state_get(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, om_alert_state *state, bool *found);
int om_alertdb_state_put(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, const om_alert_state *state, int64_t now);

/* ---- alerts and their changes ---- */

/* The open alert of (site, rule, subject): 1 (out filled), 0 when none. */
int om_alertdb_find_open(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, om_alert_record *out);
/* 1 with out filled, 0 when there is no such alert. silenced_until is
 * judged at now. */
int om_alertdb_get(om_alertdb *db, int64_t id, int64_t now, om_alert_record *out);

/* A new open alert (site, rule, subject, gateway, severity, fired_at,
 * detected_at, summary, evidence of a): its id in *id. Its "fired" change
 * is om_alertdb_change's to record. */
int om_alertdb_insert(om_alertdb *db, const om_alert_record *a, int64_t *id);
/* Resolves an open alert at `at` (detected at `detected`). */
int om_alertdb_resolve(om_alertdb *db, int64_t id, int64_t at, int64_t detected,
                       const char *summary, const char *evidence);
/* Records an acknowledgement on the alert (who, when, note). */
int om_alertdb_set_ack(om_alertdb *db, int64_t id, const char *who, int64_t at,
                       const char *note);

/* Records one change of an alert: its next number, the alert's summary and
 * evidence as they are now, and the event body for delivery (built here, so
 * that every writer builds it the same way). notify false keeps the change
 * from deliveries (the alert is silenced); *seq (optional) gets its number. */
int om_alertdb_change(om_alertdb *db, int64_t id, om_alert_change_name change, int64_t t,
                      int64_t recorded, const char *who, const char *note, bool notify,
                      int64_t now, unsigned *seq);

typedef struct {
    const char *site;  /* NULL: every site */
    bool open_only;
    int64_t since;     /* fired or changed at or after (0: any) */
    size_t limit;      /* 0: all */
} om_alertdb_filter;

/* Newest first. silenced_until judged at now. */
int om_alertdb_list(om_alertdb *db, const om_alertdb_filter *f, int64_t now,
                    om_alert_record **rows, size_t *n);

typedef struct {
    int64_t id;          /* the delivery order */
    int64_t alert;
    unsigned seq;
    om_alert_change_name change;
    int64_t t, recorded;
    char who[64];
    char note[256];
    char summary[320];
    char *evidence;      /* owned */
    bool notify;
    om_alert_severity severity;
    char site[OM_ID_MAX];
    char *body;          /* owned: the event JSON */
} om_alertdb_change_row;

void om_alertdb_changes_free(om_alertdb_change_row *rows, size_t n);
/* An alert's changes, oldest first. */
int om_alertdb_history(om_alertdb *db, int64_t alert, om_alertdb_change_row **rows, size_t *n);
/* Changes after history row `after`, oldest first, at most limit. */
int om_alertdb_changes_after(om_alertdb *db, int64_t after, size_t limit,
                             om_alertdb_change_row **rows, size_t *n);
/* The newest history row's id (0: none). */
int om_alertdb_last_change(om_alertdb *db, int64_t *id);

/* ---- silences ---- */

typedef struct {
    int64_t id;
    char site[OM_ID_MAX];
    char subject[OM_ID_MAX]; /* "" : every meter and gateway of the site */
    char rule[32];           /* "" : every rule */
    int64_t until;
    char who[64];
    char note[256];
    int64_t created;
    bool ended;
} om_alertdb_silence;

/* Adds a silence; each open alert it covers gets a "silenced" change. */
int om_alertdb_silence_add(om_alertdb *db, const om_alertdb_silence *s, int64_t now,
                           int64_t *id);
/* The end of the longest silence covering (site, subject, rule) at now;
 * 0 when none. */
int om_alertdb_silenced_until(om_alertdb *db, const char *site, const char *subject,
                              om_alert_rule rule, int64_t now, int64_t *until);
/* Silences that ran out by now are marked ended; each open alert one
 * covered and no other covers gets an "unsilenced" change. */
int om_alertdb_silences_end(om_alertdb *db, int64_t now, int64_t recorded);
int om_alertdb_silences(om_alertdb *db, bool all, om_alertdb_silence **rows, size_t *n);

/* ---- delivery targets ---- */

typedef struct {
    char target[512];    /* "mqtt", "webhook URL" */
    int64_t upto;        /* history rows up to here are delivered (or not for it) */
    unsigned failures;   /* in a row */
    int64_t next_try;    /* real clock, ms */
    char last_error[256];
    int64_t last_attempt, last_success;
} om_alertdb_target;

/* A target's progress; a target seen for the first time starts after the
 * newest change (it is not sent the past). */
int om_alertdb_target_get(om_alertdb *db, const char *target, int64_t now,
                          om_alertdb_target *out);
int om_alertdb_target_put(om_alertdb *db, const om_alertdb_target *t);
int om_alertdb_targets(om_alertdb *db, om_alertdb_target **rows, size_t *n);

/* What was last published as a site's retained list (a digest); "" when
 * nothing. */
int om_alertdb_published_get(om_alertdb *db, const char *site, char *digest, size_t len);
int om_alertdb_published_put(om_alertdb *db, const char *site, const char *digest, int64_t t);

#endif
