/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_alerts.c - the alert tables: creating them, the evaluator's reads
 * of the store's own tables (meters, gateways, reject counts, readings),
 * and the rules' saved states.
 *
 * The reads go straight to the store's tables, as the rollup's do: the
 * readings through their primary key (meter, quantity, t), a gateway's
 * latest health through the database's JSON functions (the aggregator
 * stored it only after checking it is a JSON object). Every statement of
 * the alert side is in a table per backend: SQLite's here (prepared once
 * when the tables are opened), PostgreSQL's in store_pg_alerts.c; the code
 * runs either through store_alert_sql.c.
 */
#include "store_alert_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/sql/sql.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS alert_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, site TEXT NOT NULL,"
    "  rule TEXT NOT NULL, subject TEXT NOT NULL, gateway INTEGER NOT NULL,"
    "  severity TEXT NOT NULL, state TEXT NOT NULL, fired_at INTEGER NOT NULL,"
    "  detected_at INTEGER NOT NULL, resolved_at INTEGER, resolved_detected_at INTEGER,"
    "  summary TEXT NOT NULL, evidence TEXT, changes INTEGER NOT NULL DEFAULT 0,"
    "  acked_by TEXT, acked_at INTEGER, ack_note TEXT);"
    "CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts(site, rule, subject)"
    "  WHERE state = 'open';"
    "CREATE INDEX IF NOT EXISTS alerts_site ON alerts(site, id);"
    "CREATE TABLE IF NOT EXISTS alert_history(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL, change TEXT NOT NULL, t INTEGER NOT NULL,"
    "  recorded INTEGER NOT NULL, who TEXT, note TEXT, summary TEXT NOT NULL, evidence TEXT,"
    "  notify INTEGER NOT NULL, body TEXT NOT NULL, UNIQUE(alert, seq));"
    "CREATE TABLE IF NOT EXISTS alert_silences(id INTEGER PRIMARY KEY, site TEXT NOT NULL,"
    "  subject TEXT, rule TEXT, until INTEGER NOT NULL, who TEXT NOT NULL, note TEXT,"
    "  created INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS alert_rule_state(site TEXT NOT NULL, rule TEXT NOT NULL,"
    "  subject TEXT NOT NULL, state TEXT NOT NULL, updated INTEGER NOT NULL,"
    "  PRIMARY KEY(site, rule, subject)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alert_targets(target TEXT PRIMARY KEY, upto INTEGER NOT NULL,"
    "  failures INTEGER NOT NULL, next_try INTEGER NOT NULL, last_error TEXT,"
    "  last_attempt INTEGER, last_success INTEGER) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alert_published(site TEXT PRIMARY KEY, digest TEXT NOT NULL,"
    "  t INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO alert_meta(key, value) VALUES ('schema', '1');"
    "INSERT OR IGNORE INTO alert_meta(key, value) VALUES ('instance', lower(hex(randomblob(8))));";

/* The columns of an alert record, in the order alertdb_read_record takes. */
#define ALERT_COLS                                                                             \
    "a.id, a.site, a.rule, a.subject, a.gateway, a.severity, a.state, a.fired_at, "            \
    "a.detected_at, coalesce(a.resolved_at, 0), coalesce(a.resolved_detected_at, 0), "         \
    "a.summary, a.evidence, a.changes, a.acked_by, coalesce(a.acked_at, 0), a.ack_note, "      \
    "coalesce((SELECT max(s.until) FROM alert_silences s WHERE s.site = a.site AND "          \
    "(s.subject IS NULL OR s.subject = a.subject) AND (s.rule IS NULL OR s.rule = a.rule) "    \
    "AND s.until > ?9), 0)"
#define CHANGE_COLS                                                                            \
    "h.id, h.alert, h.seq, h.change, h.t, h.recorded, h.who, h.note, h.summary, h.evidence, "  \
    "h.notify, a.severity, a.site, h.body"

/* The statements whose SQLite text is not the PostgreSQL one
 * (store_pg_alerts.c) with ?N for $N: JSON, date and dialect differences.
 * The others are made from the PostgreSQL texts (sqlite_texts). */
static const char *const sqlite_own[A__COUNT] = {
    [A_GATEWAY_FACTS] =
        "SELECT coalesce(state, ''), coalesce(state_t, 0), coalesce(last_seen, 0), "
        "coalesce(health_t, 0), coalesce(outbox_depth, -1), "
        "CASE WHEN json_valid(health) THEN json_extract(health, '$.t') END, "
        "CASE WHEN json_valid(health) THEN json_extract(health, '$.clock_ok') END "
        "FROM gateways WHERE site = ?1 AND gateway = ?2",
    [A_REJECTS] = "SELECT coalesce(sum(count), 0) FROM reject_counts WHERE site = ?1 AND "
                  "gateway = ?2",
    [A_AFTER] = "SELECT " CHANGE_COLS " FROM alert_history h JOIN alerts a ON a.id = h.alert "
                "WHERE h.id > ?1 ORDER BY h.id LIMIT ?2",
    [A_SILENCES] = "SELECT id, site, coalesce(subject, ''), coalesce(rule, ''), until, who, "
                   "coalesce(note, ''), created, ended FROM alert_silences WHERE ?1 OR ended = 0 "
                   "ORDER BY id",
    [A_PUB_PUT] = "INSERT INTO alert_published(site, digest, t) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT(site) DO UPDATE SET digest = excluded.digest, t = excluded.t",
    /* ?1 site (NULL: all), ?2 open only, ?3 since, ?4 limit (-1: all), ?9 now. */
    [A_LIST] = "SELECT " ALERT_COLS " FROM alerts a WHERE (?1 IS NULL OR a.site = ?1) AND "
               "(?2 = 0 OR a.state = 'open') AND (?3 = 0 OR a.fired_at >= ?3 OR "
               "coalesce(a.resolved_at, 0) >= ?3) ORDER BY a.id DESC LIMIT ?4",
};

/* ---- the handle --------------------------------------------------------------- */

const char *om_alertdb_errmsg(const om_alertdb *db)
{
    return db ? db->err : "out of memory";
}

const char *om_alertdb_instance(const om_alertdb *db)
{
    return db->instance;
}

/* ---- opening -------------------------------------------------------------------- */

static bool has_tables(sqlite3 *sdb)
{
    int64_t found = 0;
    return om_sql_int(sdb, "SELECT count(*) FROM sqlite_master WHERE name = 'alert_meta'",
                      &found) == 0 && found > 0;
}

/* A PostgreSQL text in SQLite's words: $N parameters become ?N (SQLite
 * reads $N as a named parameter numbered by first appearance). No text
 * holds a $ followed by a digit otherwise. */
static char *sqlite_text(const char *pg)
{
    char *out = strdup(pg);
    for (char *c = out; c && *c; c++)
        if (c[0] == '$' && c[1] >= '0' && c[1] <= '9')
            *c = '?';
    return out;
}

static int sqlite_texts(char *texts[A__COUNT])
{
    int rc = 0;
    for (size_t i = 0; i < A__COUNT; i++) {
        texts[i] = sqlite_own[i] ? strdup(sqlite_own[i]) : sqlite_text(alert_pg_queries[i]);
        if (!texts[i])
            rc = -1;
    }
    if (rc < 0)
        for (size_t i = 0; i < A__COUNT; i++)
            free(texts[i]);
    return rc;
}

/* SQLite: the tables (created for a writer) and the statements. */
static int sqlite_prepare(om_alertdb *db, bool *have)
{
    om_store *st = db->st;
    *have = has_tables(st->db);
    if (!*have && st->readonly)
        return 0;
    if (!*have) {
        char msg[512];
        if (om_sql_exec(st->db, schema_sql, "creating the alert tables", msg, sizeof msg) < 0) {
            snprintf(db->err, sizeof db->err, "%s: %s", om_store_path(st), msg);
            return -1;
        }
        *have = true;
    }
    char *texts[A__COUNT];
    if (sqlite_texts(texts) < 0)
        return alertdb_failf(db, "out of memory");
    size_t failed;
    int rc = om_sql_prepare_all(st->db, (const char *const *)texts, A__COUNT, db->q, &failed);
    if (rc < 0)
        alertdb_failf(db, "preparing %.120s: %s", texts[failed], sqlite3_errmsg(st->db));
    for (size_t i = 0; i < A__COUNT; i++)
        free(texts[i]);
    return rc < 0 ? -1 : 0;
}

/* The tables' version and the instance (alert_meta, text on both backends). */
static int check_meta(om_alertdb *db)
{
    arows r;
    aparam key = AP_S("schema");
    if (arows_run(db, A_META, &key, 1, &r) < 0)
        return -1;
    long long version = arows_next(&r) ? strtoll(arows_text(&r, 0), NULL, 10) : 0;
    if (arows_end(&r, "alert tables") < 0)
        return -1;
    if (version != OM_ALERTDB_SCHEMA) {
        snprintf(db->err, sizeof db->err,
                 "%s: alert tables are version %lld, this program needs %d%s",
                 om_store_path(db->st), version, OM_ALERTDB_SCHEMA,
                 version > OM_ALERTDB_SCHEMA ? "; upgrade officemeter" : "");
        return -1;
    }
    key = AP_S("instance");
    if (arows_run(db, A_META, &key, 1, &r) < 0)
        return -1;
    if (arows_next(&r))
        snprintf(db->instance, sizeof db->instance, "%s", arows_text(&r, 0));
    return arows_end(&r, "alert tables");
}

om_alertdb *om_alertdb_open(om_store *st, bool *missing, char *err, size_t errlen)
{
    if (missing)
        *missing = false;
    om_alertdb *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "%s: out of memory", om_store_path(st));
        return NULL;
    }
    db->st = st;
    db->pg = st->db == NULL;
    bool have;
    if ((db->pg ? alert_pg_prepare(db, &have) : sqlite_prepare(db, &have)) < 0)
        goto fail;
    if (!have) {
        if (missing)
            *missing = true;
        snprintf(db->err, sizeof db->err, "%s: no alerts yet (officemeter alerts evaluate "
                 "has not run on it)", om_store_path(st));
        goto fail;
    }
    if (check_meta(db) < 0)
        goto fail;
    return db;
fail:
    snprintf(err, errlen, "%s", db->err);
    om_alertdb_close(db);
    return NULL;
}

void om_alertdb_close(om_alertdb *db)
{
    if (!db)
        return;
    om_sql_finalize_all(db->q, A__COUNT);
    free(db);
}

/* ---- savepoints --------------------------------------------------------------------- */

int om_alertdb_savepoint(om_alertdb *db)
{
    return alertdb_exec(db, "SAVEPOINT alert_site", "savepoint");
}

int om_alertdb_release(om_alertdb *db)
{
    return alertdb_exec(db, "RELEASE alert_site", "release");
}

void om_alertdb_rollback_to(om_alertdb *db)
{
    alertdb_exec(db, "ROLLBACK TO alert_site", "rollback");
    alertdb_exec(db, "RELEASE alert_site", "rollback");
}

/* ---- the evaluator's reads ---------------------------------------------------------- */

int om_alertdb_meter_facts(om_alertdb *db, const char *site, const char *meter,
                           om_alert_meter_facts *out)
{
    memset(out, 0, sizeof *out);
    aparam p[] = {AP_S(site), AP_S(meter)};
    arows r;
    if (arows_run(db, A_METER_FACTS, p, 2, &r) < 0)
        return -1;
    if (arows_next(&r)) {
        out->first_t = arows_int(&r, 0);
        out->last_t = arows_int(&r, 1);
    }
    char what[160];
    snprintf(what, sizeof what, "meter %s/%s", site, meter);
    return arows_end(&r, what);
}

int om_alertdb_gateway_facts(om_alertdb *db, const char *site, const char *gateway,
                             om_alert_gateway_facts *out)
{
    memset(out, 0, sizeof *out);
    out->outbox_depth = -1;
    out->clock_ok = -1;
    aparam p[] = {AP_S(site), AP_S(gateway)};
    char what[160];
    snprintf(what, sizeof what, "gateway %s/%s", site, gateway);
    arows r;
    if (arows_run(db, A_GATEWAY_FACTS, p, 2, &r) < 0)
        return -1;
    if (arows_next(&r)) {
        out->known = true;
        snprintf(out->state, sizeof out->state, "%s", arows_text(&r, 0));
        out->state_t = arows_int(&r, 1);
        out->last_seen = arows_int(&r, 2);
        out->health_t = arows_int(&r, 3);
        out->outbox_depth = arows_int(&r, 4);
        /* Both statements give NULL unless the health's field is an integer. */
        if (!arows_null(&r, 5))
            out->health_sent_t = arows_int(&r, 5);
        if (!arows_null(&r, 6))
            out->clock_ok = arows_int(&r, 6) != 0;
    }
    if (arows_end(&r, what) < 0)
        return -1;
    int64_t rejects;
    snprintf(what, sizeof what, "rejects of %s/%s", site, gateway);
    if (aint(db, A_REJECTS, p, 2, 0, &rejects, what) < 0)
        return -1;
    out->rejects = (uint64_t)rejects;
    return 0;
}

typedef struct {
    om_sample *v;
    size_t n, cap;
} sample_buf;

static int collect(om_alertdb *db, int which, const aparam *p, int np, sample_buf *b)
{
    arows r;
    if (arows_run(db, which, p, np, &r) < 0)
        return -1;
    while (arows_next(&r)) {
        om_sample *grown = om_grow(b->v, &b->cap, b->n, sizeof *grown);
        if (!grown) {
            arows_end(&r, "reading readings");
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
            return -1;
        }
        b->v = grown;
        b->v[b->n++] = (om_sample){arows_int(&r, 0), arows_double(&r, 1)};
    }
    return arows_end(&r, "reading readings");
}

int om_alertdb_counter(om_alertdb *db, const char *site, const char *meter, om_quantity q,
                       int64_t from, unsigned context, om_sample **samples, size_t *n)
{
    *samples = NULL;
    *n = 0;
    int64_t qid = db->st->qid[q], mid;
    aparam who[] = {AP_S(site), AP_S(meter)};
    char what[160];
    snprintf(what, sizeof what, "meter %s/%s", site, meter);
    if (aint(db, A_METER_ID, who, 2, 0, &mid, what) < 0)
        return -1;
    if (mid == 0 || qid == 0)
        return 0;
    sample_buf b = {0};
    aparam before[] = {AP_I(mid), AP_I(qid), AP_I(from), AP_I(context)};
    if (collect(db, A_BEFORE, before, 4, &b) < 0)
        goto fail;
    /* Those came newest first. */
    for (size_t i = 0; i < b.n / 2; i++) {
        om_sample tmp = b.v[i];
        b.v[i] = b.v[b.n - 1 - i];
        b.v[b.n - 1 - i] = tmp;
    }
    if (collect(db, A_FROM, before, 3, &b) < 0)
        goto fail;
    *samples = b.v;
    *n = b.n;
    return 0;
fail:
    free(b.v);
    return -1;
}

/* ---- rule states ---------------------------------------------------------------- */

int om_alertdb_state_get(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, om_alert_state *state, bool *found)
{
    memset(state, 0, sizeof *state);
    *found = false;
    aparam p[] = {AP_S(site), AP_S(om_alert_rule_name(rule)), AP_S(subject)};
    arows r;
    if (arows_run(db, A_STATE_GET, p, 3, &r) < 0)
        return -1;
    if (arows_next(&r))
        /* A state that does not parse starts afresh (as if never run). */
        *found = om_alert_state_parse(arows_text(&r, 0), state) == 0;
    return arows_end(&r, "rule state");
}

int om_alertdb_state_put(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, const om_alert_state *state, int64_t now)
{
    char *text = om_alert_state_json(state);
    if (!text) {
        snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
    }
    aparam p[] = {AP_S(site), AP_S(om_alert_rule_name(rule)), AP_S(subject), AP_S(text),
                  AP_I(now)};
    int rc = aexec(db, A_STATE_PUT, p, 5, "saving a rule state");
    free(text);
    return rc;
}
