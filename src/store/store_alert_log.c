/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_alert_log.c - alerts, their history (the delivery queue),
 * acknowledgements, silences, delivery targets and the retained lists
 * last published.
 *
 * A change is recorded by om_alertdb_change only: it numbers the change,
 * snapshots the alert's summary and evidence, and builds the event body
 * that every target will deliver, byte for byte the same on every attempt.
 */
#include "store_alert_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"

/* Column order of ALERT_COLS (store_alerts.c). */
static void read_record(sqlite3_stmt *s, om_alert_record *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(s, 0);
    snprintf(a->site, sizeof a->site, "%s", alertdb_text(s, 1));
    om_alert_rule_from_name(alertdb_text(s, 2), &a->rule);
    snprintf(a->subject, sizeof a->subject, "%s", alertdb_text(s, 3));
    a->gateway = sqlite3_column_int(s, 4) != 0;
    om_alert_severity_from_name(alertdb_text(s, 5), &a->severity);
    a->open = strcmp(alertdb_text(s, 6), "open") == 0;
    a->fired_at = sqlite3_column_int64(s, 7);
    a->detected_at = sqlite3_column_int64(s, 8);
    a->resolved_at = sqlite3_column_int64(s, 9);
    a->resolved_detected_at = sqlite3_column_int64(s, 10);
    snprintf(a->summary, sizeof a->summary, "%s", alertdb_text(s, 11));
    if (sqlite3_column_type(s, 12) != SQLITE_NULL)
        a->evidence = strdup(alertdb_text(s, 12));
    a->changes = (unsigned)sqlite3_column_int(s, 13);
    snprintf(a->acked_by, sizeof a->acked_by, "%s", alertdb_text(s, 14));
    a->acked_at = sqlite3_column_int64(s, 15);
    snprintf(a->ack_note, sizeof a->ack_note, "%s", alertdb_text(s, 16));
    a->silenced_until = sqlite3_column_int64(s, 17);
}

static int one_record(om_alertdb *db, sqlite3_stmt *s, om_alert_record *out, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_record(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : alertdb_fail(db, "%s", what);
}

int om_alertdb_find_open(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, om_alert_record *out)
{
    sqlite3_stmt *s = alertdb_q(db, A_FIND_OPEN);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, om_alert_rule_name(rule), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, 0);
    return one_record(db, s, out, "finding an open alert");
}

int om_alertdb_get(om_alertdb *db, int64_t id, int64_t now, om_alert_record *out)
{
    sqlite3_stmt *s = alertdb_q(db, A_GET);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 9, now);
    return one_record(db, s, out, "reading an alert");
}

int om_alertdb_insert(om_alertdb *db, const om_alert_record *a, int64_t *id)
{
    sqlite3_stmt *s = alertdb_q(db, A_INSERT);
    sqlite3_bind_text(s, 1, a->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, om_alert_rule_name(a->rule), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->subject, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, a->gateway);
    sqlite3_bind_text(s, 5, om_alert_severity_name(a->severity), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, a->fired_at);
    sqlite3_bind_int64(s, 7, a->detected_at);
    sqlite3_bind_text(s, 8, a->summary, -1, SQLITE_STATIC);
    if (a->evidence)
        sqlite3_bind_text(s, 9, a->evidence, -1, SQLITE_STATIC);
    if (alertdb_done(db, s, "recording an alert") < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(db->st->db);
    return 0;
}

int om_alertdb_resolve(om_alertdb *db, int64_t id, int64_t at, int64_t detected,
                       const char *summary, const char *evidence)
{
    sqlite3_stmt *s = alertdb_q(db, A_RESOLVE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_int64(s, 3, detected);
    sqlite3_bind_text(s, 4, summary, -1, SQLITE_STATIC);
    if (evidence)
        sqlite3_bind_text(s, 5, evidence, -1, SQLITE_STATIC);
    return alertdb_done(db, s, "resolving an alert");
}

int om_alertdb_set_ack(om_alertdb *db, int64_t id, const char *who, int64_t at,
                       const char *note)
{
    sqlite3_stmt *s = alertdb_q(db, A_ACK);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, at);
    if (note)
        sqlite3_bind_text(s, 4, note, -1, SQLITE_STATIC);
    return alertdb_done(db, s, "acknowledging an alert");
}

int om_alertdb_change(om_alertdb *db, int64_t id, om_alert_change_name change, int64_t t,
                      int64_t recorded, const char *who, const char *note, bool notify,
                      int64_t now, unsigned *seq)
{
    sqlite3_stmt *s = alertdb_q(db, A_BUMP);
    sqlite3_bind_int64(s, 1, id);
    if (alertdb_done(db, s, "numbering a change") < 0)
        return -1;
    om_alert_record a;
    int found = om_alertdb_get(db, id, now, &a);
    if (found <= 0) {
        if (found == 0)
            snprintf(db->err, sizeof db->err, "%s: no alert %lld", om_store_path(db->st),
                     (long long)id);
        return -1;
    }
    om_alert_change_info info = {change, a.changes, t, recorded, who, note};
    char *body = om_alert_event_json(db->instance, &a, &info);
    if (!body) {
        om_alert_record_free(&a);
        snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
    }
    s = alertdb_q(db, A_HISTORY_ADD);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, (int)a.changes);
    sqlite3_bind_text(s, 3, om_alert_change_text(change), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, t);
    sqlite3_bind_int64(s, 5, recorded);
    if (who)
        sqlite3_bind_text(s, 6, who, -1, SQLITE_STATIC);
    if (note)
        sqlite3_bind_text(s, 7, note, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, a.summary, -1, SQLITE_STATIC);
    if (a.evidence)
        sqlite3_bind_text(s, 9, a.evidence, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 10, notify);
    sqlite3_bind_text(s, 11, body, -1, SQLITE_STATIC);
    int rc = alertdb_done(db, s, "recording a change");
    if (rc == 0 && seq)
        *seq = a.changes;
    free(body);
    om_alert_record_free(&a);
    return rc;
}

/* ---- lists -------------------------------------------------------------------------- */

typedef struct {
    om_alert_record *v;
    size_t n, cap;
} record_buf;

int om_alertdb_list(om_alertdb *db, const om_alertdb_filter *f, int64_t now,
                    om_alert_record **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    /* The columns of ALERT_COLS: see store_alerts.c (the silence subquery
     * takes the time as ?9). */
    static const char sql[] =
        "SELECT a.id, a.site, a.rule, a.subject, a.gateway, a.severity, a.state, a.fired_at, "
        "a.detected_at, coalesce(a.resolved_at, 0), coalesce(a.resolved_detected_at, 0), "
        "a.summary, a.evidence, a.changes, a.acked_by, coalesce(a.acked_at, 0), a.ack_note, "
        "coalesce((SELECT max(s.until) FROM alert_silences s WHERE s.site = a.site AND "
        "(s.subject IS NULL OR s.subject = a.subject) AND (s.rule IS NULL OR s.rule = a.rule) "
        "AND s.until > ?9), 0) FROM alerts a WHERE (?1 IS NULL OR a.site = ?1) AND "
        "(?2 = 0 OR a.state = 'open') AND (?3 = 0 OR a.fired_at >= ?3 OR "
        "coalesce(a.resolved_at, 0) >= ?3) ORDER BY a.id DESC LIMIT ?4";
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return alertdb_fail(db, "listing alerts");
    if (f->site)
        sqlite3_bind_text(s, 1, f->site, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, f->open_only);
    sqlite3_bind_int64(s, 3, f->since);
    sqlite3_bind_int64(s, 4, f->limit ? (int64_t)f->limit : -1);
    sqlite3_bind_int64(s, 9, now);
    record_buf b = {0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_alert_record *grown = om_grow(b.v, &b.cap, b.n, sizeof *grown);
        if (!grown)
            break;
        b.v = grown;
        read_record(s, &b.v[b.n++]);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        om_alert_records_free(b.v, b.n);
        return alertdb_fail(db, "listing alerts");
    }
    *rows = b.v;
    *n = b.n;
    return 0;
}

void om_alertdb_changes_free(om_alertdb_change_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].evidence);
        free(rows[i].body);
    }
    free(rows);
}

/* Column order of CHANGE_COLS (store_alerts.c). */
static int read_changes(om_alertdb *db, sqlite3_stmt *s, om_alertdb_change_row **rows,
                        size_t *n)
{
    om_alertdb_change_row *v = NULL;
    size_t cap = 0, k = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_alertdb_change_row *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown)
            break;
        v = grown;
        om_alertdb_change_row *r = &v[k++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        r->alert = sqlite3_column_int64(s, 1);
        r->seq = (unsigned)sqlite3_column_int(s, 2);
        om_alert_change_from_text(alertdb_text(s, 3), &r->change);
        r->t = sqlite3_column_int64(s, 4);
        r->recorded = sqlite3_column_int64(s, 5);
        snprintf(r->who, sizeof r->who, "%s", alertdb_text(s, 6));
        snprintf(r->note, sizeof r->note, "%s", alertdb_text(s, 7));
        snprintf(r->summary, sizeof r->summary, "%s", alertdb_text(s, 8));
        r->evidence = strdup(alertdb_text(s, 9));
        r->notify = sqlite3_column_int(s, 10) != 0;
        om_alert_severity_from_name(alertdb_text(s, 11), &r->severity);
        snprintf(r->site, sizeof r->site, "%s", alertdb_text(s, 12));
        r->body = strdup(alertdb_text(s, 13));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        om_alertdb_changes_free(v, k);
        return alertdb_fail(db, "reading changes");
    }
    *rows = v;
    *n = k;
    return 0;
}

int om_alertdb_history(om_alertdb *db, int64_t alert, om_alertdb_change_row **rows, size_t *n)
{
    sqlite3_stmt *s = alertdb_q(db, A_HISTORY);
    sqlite3_bind_int64(s, 1, alert);
    return read_changes(db, s, rows, n);
}

int om_alertdb_changes_after(om_alertdb *db, int64_t after, size_t limit,
                             om_alertdb_change_row **rows, size_t *n)
{
    sqlite3_stmt *s = alertdb_q(db, A_AFTER);
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, limit ? (int64_t)limit : -1);
    return read_changes(db, s, rows, n);
}

int om_alertdb_last_change(om_alertdb *db, int64_t *id)
{
    sqlite3_stmt *s = alertdb_q(db, A_LAST);
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : alertdb_fail(db, "reading changes");
}

/* ---- silences ----------------------------------------------------------------------- */

typedef struct {
    int64_t id;
    char subject[OM_ID_MAX];
    char rule[32];
} covered;

/* The open alerts of a site a silence (subject, rule: NULL for any) covers. */
static int open_covered(om_alertdb *db, const char *site, const char *subject, const char *rule,
                        covered **out, size_t *n)
{
    sqlite3_stmt *s = alertdb_q(db, A_OPEN_COVERED);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    if (subject)
        sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    if (rule)
        sqlite3_bind_text(s, 3, rule, -1, SQLITE_STATIC);
    covered *v = NULL;
    size_t cap = 0, k = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        covered *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown)
            break;
        v = grown;
        v[k].id = sqlite3_column_int64(s, 0);
        snprintf(v[k].subject, sizeof v[k].subject, "%s", alertdb_text(s, 1));
        snprintf(v[k].rule, sizeof v[k].rule, "%s", alertdb_text(s, 2));
        k++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return alertdb_fail(db, "open alerts of %s", site);
    }
    *out = v;
    *n = k;
    return 0;
}

int om_alertdb_silence_add(om_alertdb *db, const om_alertdb_silence *si, int64_t now,
                           int64_t *id)
{
    const char *subject = si->subject[0] ? si->subject : NULL;
    const char *rule = si->rule[0] ? si->rule : NULL;
    sqlite3_stmt *s = alertdb_q(db, A_SILENCE_ADD);
    sqlite3_bind_text(s, 1, si->site, -1, SQLITE_STATIC);
    if (subject)
        sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    if (rule)
        sqlite3_bind_text(s, 3, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, si->until);
    sqlite3_bind_text(s, 5, si->who, -1, SQLITE_STATIC);
    if (si->note[0])
        sqlite3_bind_text(s, 6, si->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, si->created);
    if (alertdb_done(db, s, "recording a silence") < 0)
        return -1;
    if (id)
        *id = sqlite3_last_insert_rowid(db->st->db);
    covered *v;
    size_t n;
    if (open_covered(db, si->site, subject, rule, &v, &n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = om_alertdb_change(db, v[i].id, OM_CHANGE_SILENCED, si->created, si->created, si->who,
                               si->note[0] ? si->note : NULL, true, now, NULL);
    free(v);
    return rc;
}

int om_alertdb_silenced_until(om_alertdb *db, const char *site, const char *subject,
                              om_alert_rule rule, int64_t now, int64_t *until)
{
    sqlite3_stmt *s = alertdb_q(db, A_SILENCED_UNTIL);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, om_alert_rule_name(rule), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    int rc = sqlite3_step(s);
    *until = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : alertdb_fail(db, "silences");
}

typedef struct {
    int64_t id;
    char site[OM_ID_MAX];
    char subject[OM_ID_MAX];
    char rule[32];
    bool any_subject, any_rule;
} due_silence;

int om_alertdb_silences_end(om_alertdb *db, int64_t now, int64_t recorded)
{
    sqlite3_stmt *s = alertdb_q(db, A_SILENCES_DUE);
    sqlite3_bind_int64(s, 1, now);
    due_silence *due = NULL;
    size_t cap = 0, n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        due_silence *grown = om_grow(due, &cap, n, sizeof *grown);
        if (!grown)
            break;
        due = grown;
        due_silence *d = &due[n++];
        d->id = sqlite3_column_int64(s, 0);
        snprintf(d->site, sizeof d->site, "%s", alertdb_text(s, 1));
        d->any_subject = sqlite3_column_type(s, 2) == SQLITE_NULL;
        snprintf(d->subject, sizeof d->subject, "%s", alertdb_text(s, 2));
        d->any_rule = sqlite3_column_type(s, 3) == SQLITE_NULL;
        snprintf(d->rule, sizeof d->rule, "%s", alertdb_text(s, 3));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(due);
        return alertdb_fail(db, "silences");
    }
    rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        s = alertdb_q(db, A_SILENCE_END);
        sqlite3_bind_int64(s, 1, due[i].id);
        if ((rc = alertdb_done(db, s, "ending a silence")) < 0)
            break;
        covered *v;
        size_t k;
        if ((rc = open_covered(db, due[i].site, due[i].any_subject ? NULL : due[i].subject,
                               due[i].any_rule ? NULL : due[i].rule, &v, &k)) < 0)
            break;
        for (size_t j = 0; rc == 0 && j < k; j++) {
            om_alert_rule rule;
            int64_t until = 0;
            if (om_alert_rule_from_name(v[j].rule, &rule) < 0)
                continue;
            rc = om_alertdb_silenced_until(db, due[i].site, v[j].subject, rule, now, &until);
            if (rc == 0 && until == 0)
                rc = om_alertdb_change(db, v[j].id, OM_CHANGE_UNSILENCED, now, recorded, NULL,
                                       NULL, true, now, NULL);
        }
        free(v);
    }
    free(due);
    return rc;
}

int om_alertdb_silences(om_alertdb *db, bool all, om_alertdb_silence **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s = alertdb_q(db, A_SILENCES);
    sqlite3_bind_int(s, 1, all);
    om_alertdb_silence *v = NULL;
    size_t cap = 0, k = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_alertdb_silence *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown)
            break;
        v = grown;
        om_alertdb_silence *r = &v[k++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        snprintf(r->site, sizeof r->site, "%s", alertdb_text(s, 1));
        snprintf(r->subject, sizeof r->subject, "%s", alertdb_text(s, 2));
        snprintf(r->rule, sizeof r->rule, "%s", alertdb_text(s, 3));
        r->until = sqlite3_column_int64(s, 4);
        snprintf(r->who, sizeof r->who, "%s", alertdb_text(s, 5));
        snprintf(r->note, sizeof r->note, "%s", alertdb_text(s, 6));
        r->created = sqlite3_column_int64(s, 7);
        r->ended = sqlite3_column_int(s, 8) != 0;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return alertdb_fail(db, "silences");
    }
    *rows = v;
    *n = k;
    return 0;
}

/* ---- delivery targets and retained lists --------------------------------------------- */

static void read_target(sqlite3_stmt *s, int first, om_alertdb_target *t)
{
    t->upto = sqlite3_column_int64(s, first);
    t->failures = (unsigned)sqlite3_column_int(s, first + 1);
    t->next_try = sqlite3_column_int64(s, first + 2);
    snprintf(t->last_error, sizeof t->last_error, "%s", alertdb_text(s, first + 3));
    t->last_attempt = sqlite3_column_int64(s, first + 4);
    t->last_success = sqlite3_column_int64(s, first + 5);
}

int om_alertdb_target_get(om_alertdb *db, const char *target, int64_t now,
                          om_alertdb_target *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->target, sizeof out->target, "%s", target);
    sqlite3_stmt *s = alertdb_q(db, A_TARGET_GET);
    sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_target(s, 0, out);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return alertdb_fail(db, "delivery target %s", target);
    if (om_alertdb_last_change(db, &out->upto) < 0)
        return -1;
    out->next_try = now;
    return om_alertdb_target_put(db, out);
}

int om_alertdb_target_put(om_alertdb *db, const om_alertdb_target *t)
{
    sqlite3_stmt *s = alertdb_q(db, A_TARGET_PUT);
    sqlite3_bind_text(s, 1, t->target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, t->upto);
    sqlite3_bind_int(s, 3, (int)t->failures);
    sqlite3_bind_int64(s, 4, t->next_try);
    if (t->last_error[0])
        sqlite3_bind_text(s, 5, t->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, t->last_attempt);
    sqlite3_bind_int64(s, 7, t->last_success);
    return alertdb_done(db, s, "saving a delivery target");
}

int om_alertdb_targets(om_alertdb *db, om_alertdb_target **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s = alertdb_q(db, A_TARGETS);
    om_alertdb_target *v = NULL;
    size_t cap = 0, k = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        om_alertdb_target *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown)
            break;
        v = grown;
        memset(&v[k], 0, sizeof v[k]);
        snprintf(v[k].target, sizeof v[k].target, "%s", alertdb_text(s, 0));
        read_target(s, 1, &v[k]);
        k++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return alertdb_fail(db, "delivery targets");
    }
    *rows = v;
    *n = k;
    return 0;
}

int om_alertdb_published_get(om_alertdb *db, const char *site, char *digest, size_t len)
{
    digest[0] = '\0';
    sqlite3_stmt *s = alertdb_q(db, A_PUB_GET);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snprintf(digest, len, "%s", alertdb_text(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : alertdb_fail(db, "published lists");
}

int om_alertdb_published_put(om_alertdb *db, const char *site, const char *digest, int64_t t)
{
    sqlite3_stmt *s = alertdb_q(db, A_PUB_PUT);
    sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, t);
    return alertdb_done(db, s, "saving a published list");
}
