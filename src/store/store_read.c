/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_read.c - the SQLite backend's queries for the CLI: gateways, meters, rejects, quarantine,
 * totals and readings. Each prepares its statement on demand (readers are
 * short-lived processes) and copies rows out, so callers own plain arrays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"
#include "officemeter/base/array.h"

static void copy_text(char *dst, size_t len, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static int64_t int_or(sqlite3_stmt *s, int col, int64_t dflt)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? dflt : sqlite3_column_int64(s, col);
}

/* Runs `text` and hands each row to fill(row index); grows *rows by elem. */
typedef void (*fill_fn)(sqlite3_stmt *s, void *row);

static int collect(om_store *st, sqlite3_stmt *s, size_t elem, fill_fn fill, void **rows,
                   size_t *n)
{
    size_t cap = 0;
    char *out = NULL;
    int rc;
    *rows = NULL;
    *n = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char *grown = om_grow(out, &cap, *n, elem);
        if (!grown) {
            free(out);
            sqlite3_finalize(s);
            return store_failf(st, "out of memory");
        }
        out = grown;
        memset(out + *n * elem, 0, elem);
        fill(s, out + *n * elem);
        (*n)++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(out);
        *n = 0;
        return store_fail(st, "query");
    }
    *rows = out;
    return 0;
}

static sqlite3_stmt *prepare(om_store *st, const char *text)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK) {
        store_fail(st, "query");
        return NULL;
    }
    return s;
}

static void fill_gateway(sqlite3_stmt *s, void *p)
{
    om_store_gateway_row *r = p;
    copy_text(r->site, sizeof r->site, s, 0);
    copy_text(r->gateway, sizeof r->gateway, s, 1);
    copy_text(r->state, sizeof r->state, s, 2);
    r->state_t = int_or(s, 3, 0);
    r->last_seen = int_or(s, 4, 0);
    r->health_t = int_or(s, 5, 0);
    r->outbox_depth = int_or(s, 6, -1);
    r->errors = int_or(s, 7, -1);
}

int sqlite_gateways(om_store *st, om_store_gateway_row **rows, size_t *n)
{
    sqlite3_stmt *s = prepare(st, "SELECT site, gateway, state, state_t, last_seen, health_t, "
                                  "outbox_depth, errors FROM gateways ORDER BY site, gateway");
    return s ? collect(st, s, sizeof **rows, fill_gateway, (void **)rows, n) : -1;
}

static void fill_meter(sqlite3_stmt *s, void *p)
{
    om_store_meter_row *r = p;
    copy_text(r->site, sizeof r->site, s, 0);
    copy_text(r->meter, sizeof r->meter, s, 1);
    r->first_t = int_or(s, 2, 0);
    r->last_t = int_or(s, 3, 0);
    r->last_received = int_or(s, 4, 0);
}

int sqlite_meters(om_store *st, om_store_meter_row **rows, size_t *n)
{
    sqlite3_stmt *s = prepare(st, "SELECT site, meter, first_t, last_t, last_received "
                                  "FROM meters ORDER BY site, meter");
    return s ? collect(st, s, sizeof **rows, fill_meter, (void **)rows, n) : -1;
}

static void fill_reject(sqlite3_stmt *s, void *p)
{
    om_store_reject_row *r = p;
    r->id = sqlite3_column_int64(s, 0);
    r->received_ms = sqlite3_column_int64(s, 1);
    copy_text(r->topic, sizeof r->topic, s, 2);
    copy_text(r->site, sizeof r->site, s, 3);
    copy_text(r->gateway, sizeof r->gateway, s, 4);
    copy_text(r->code, sizeof r->code, s, 5);
    copy_text(r->reason, sizeof r->reason, s, 6);
    r->seq = int_or(s, 7, 0);
    copy_text(r->meter, sizeof r->meter, s, 8);
    r->rawlen = (size_t)sqlite3_column_bytes(s, 9);
    r->raw = malloc(r->rawlen + 1);
    if (r->raw) {
        if (r->rawlen)
            memcpy(r->raw, sqlite3_column_blob(s, 9), r->rawlen);
        r->raw[r->rawlen] = '\0';
    } else {
        r->rawlen = 0;
    }
    r->raw_bytes = (size_t)sqlite3_column_int64(s, 10);
}

int sqlite_rejects(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
                   size_t *n)
{
    sqlite3_stmt *s = prepare(st, "SELECT id, received, topic, site, gateway, code, reason, seq, "
                                  "meter, payload, payload_bytes FROM rejects "
                                  "WHERE received >= ?1 ORDER BY id DESC LIMIT ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, since_ms);
    sqlite3_bind_int64(s, 2, limit ? (sqlite3_int64)limit : -1);
    return collect(st, s, sizeof **rows, fill_reject, (void **)rows, n);
}

static void fill_count(sqlite3_stmt *s, void *p)
{
    om_store_reject_count *r = p;
    copy_text(r->site, sizeof r->site, s, 0);
    copy_text(r->gateway, sizeof r->gateway, s, 1);
    copy_text(r->code, sizeof r->code, s, 2);
    r->count = (uint64_t)sqlite3_column_int64(s, 3);
    r->last_received = sqlite3_column_int64(s, 4);
}

int sqlite_reject_counts(om_store *st, om_store_reject_count **rows, size_t *n)
{
    sqlite3_stmt *s = prepare(st, "SELECT site, gateway, code, count, last_received "
                                  "FROM reject_counts ORDER BY site, gateway, code");
    return s ? collect(st, s, sizeof **rows, fill_count, (void **)rows, n) : -1;
}

static void fill_quarantine(sqlite3_stmt *s, void *p)
{
    om_store_quarantine_row *r = p;
    r->id = sqlite3_column_int64(s, 0);
    r->received_ms = sqlite3_column_int64(s, 1);
    copy_text(r->site, sizeof r->site, s, 2);
    copy_text(r->gateway, sizeof r->gateway, s, 3);
    copy_text(r->epoch, sizeof r->epoch, s, 4);
    r->seq = sqlite3_column_int64(s, 5);
    copy_text(r->meter, sizeof r->meter, s, 6);
    r->t_ms = int_or(s, 7, 0);
    copy_text(r->code, sizeof r->code, s, 8);
    copy_text(r->reason, sizeof r->reason, s, 9);
    const unsigned char *j = sqlite3_column_text(s, 10);
    r->poll_json = strdup(j ? (const char *)j : "{}");
}

int sqlite_quarantined(om_store *st, om_store_quarantine_row **rows, size_t *n)
{
    sqlite3_stmt *s = prepare(st, "SELECT id, received, site, gateway, epoch, seq, meter, t, code, "
                                  "reason, poll FROM quarantine ORDER BY id");
    return s ? collect(st, s, sizeof **rows, fill_quarantine, (void **)rows, n) : -1;
}

static int count_of(om_store *st, const char *text, uint64_t *out)
{
    sqlite3_stmt *s = prepare(st, text);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : store_fail(st, text);
}

int sqlite_totals_get(om_store *st, om_store_totals *out)
{
    memset(out, 0, sizeof *out);
    if (count_of(st, "SELECT count(*) FROM readings", &out->readings) < 0 ||
        count_of(st, "SELECT count(*) FROM meters", &out->meters) < 0 ||
        count_of(st, "SELECT count(*) FROM conflicts", &out->conflicts) < 0 ||
        count_of(st, "SELECT coalesce(sum(count), 0) FROM reject_counts", &out->rejects) < 0 ||
        count_of(st, "SELECT count(*) FROM quarantine", &out->quarantined) < 0)
        return -1;
    return 0;
}

int sqlite_gateway_health_json(om_store *st, const char *site, const char *gateway,
                               char **json)
{
    *json = NULL;
    sqlite3_stmt *s = prepare(st, "SELECT health FROM gateways WHERE site = ?1 AND gateway = ?2");
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, gateway, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *json = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, "gateway health");
}

int sqlite_readings(om_store *st, const char *site, const char *meter, om_quantity quantity,
                    int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user)
{
    if ((int)quantity < 0 || quantity >= OM_Q__COUNT)
        return store_failf(st, "unknown quantity %d", (int)quantity);
    sqlite3_stmt *s = prepare(st, "SELECT r.t, r.value FROM readings r JOIN meters m "
                                  "ON m.id = r.meter WHERE m.site = ?1 AND m.meter = ?2 "
                                  "AND r.quantity = ?3 AND r.t >= ?4 AND r.t < ?5 ORDER BY r.t");
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, meter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, st->qid[quantity]);
    sqlite3_bind_int64(s, 4, from_ms);
    sqlite3_bind_int64(s, 5, to_ms);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1), user) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "readings");
}
