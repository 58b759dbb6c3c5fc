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

/* Column order of ALERT_COLS (store_alerts.c, store_pg_alerts.c). */
static void read_record(const arows *r, om_alert_record *a)
{
    memset(a, 0, sizeof *a);
    a->id = arows_int(r, 0);
    snprintf(a->site, sizeof a->site, "%s", arows_text(r, 1));
    om_alert_rule_from_name(arows_text(r, 2), &a->rule);
    snprintf(a->subject, sizeof a->subject, "%s", arows_text(r, 3));
    a->gateway = arows_int(r, 4) != 0;
    om_alert_severity_from_name(arows_text(r, 5), &a->severity);
    a->open = strcmp(arows_text(r, 6), "open") == 0;
    a->fired_at = arows_int(r, 7);
    a->detected_at = arows_int(r, 8);
    a->resolved_at = arows_int(r, 9);
    a->resolved_detected_at = arows_int(r, 10);
    snprintf(a->summary, sizeof a->summary, "%s", arows_text(r, 11));
    if (!arows_null(r, 12))
        a->evidence = strdup(arows_text(r, 12));
    a->changes = (unsigned)arows_int(r, 13);
    snprintf(a->acked_by, sizeof a->acked_by, "%s", arows_text(r, 14));
    a->acked_at = arows_int(r, 15);
    snprintf(a->ack_note, sizeof a->ack_note, "%s", arows_text(r, 16));
    a->silenced_until = arows_int(r, 17);
}

/* Runs a statement of ALERT_COLS for at most one record: 1, 0 or -1. */
static int one_record(om_alertdb *db, int which, const aparam *p, int np, om_alert_record *out,
                      const char *what)
{
    arows r;
    if (arows_run(db, which, p, np, &r) < 0)
        return -1;
    bool found = arows_next(&r);
    if (found)
        read_record(&r, out);
    if (arows_end(&r, what) < 0) {
        if (found)
            om_alert_record_free(out);
        return -1;
    }
    return found ? 1 : 0;
}

/* The silence subquery of ALERT_COLS takes the time as parameter 9. */
#define NOW_PARAM 8

int om_alertdb_find_open(om_alertdb *db, const char *site, om_alert_rule rule,
                         const char *subject, om_alert_record *out)
{
    aparam p[NOW_PARAM + 1] = {AP_S(site), AP_S(om_alert_rule_name(rule)), AP_S(subject)};
    for (int i = 3; i < NOW_PARAM; i++)
        p[i] = AP_S(NULL);
    p[NOW_PARAM] = AP_I(0);
    return one_record(db, A_FIND_OPEN, p, NOW_PARAM + 1, out, "finding an open alert");
}

int om_alertdb_get(om_alertdb *db, int64_t id, int64_t now, om_alert_record *out)
{
    aparam p[NOW_PARAM + 1] = {AP_I(id)};
    for (int i = 1; i < NOW_PARAM; i++)
        p[i] = AP_S(NULL);
    p[NOW_PARAM] = AP_I(now);
    return one_record(db, A_GET, p, NOW_PARAM + 1, out, "reading an alert");
}

int om_alertdb_insert(om_alertdb *db, const om_alert_record *a, int64_t *id)
{
    aparam p[] = {AP_S(a->site),
                  AP_S(om_alert_rule_name(a->rule)),
                  AP_S(a->subject),
                  AP_I(a->gateway),
                  AP_S(om_alert_severity_name(a->severity)),
                  AP_I(a->fired_at),
                  AP_I(a->detected_at),
                  AP_S(a->summary),
                  AP_S(a->evidence)};
    return aint(db, A_INSERT, p, 9, 0, id, "recording an alert");
}

int om_alertdb_resolve(om_alertdb *db, int64_t id, int64_t at, int64_t detected,
                       const char *summary, const char *evidence)
{
    aparam p[] = {AP_I(id), AP_I(at), AP_I(detected), AP_S(summary), AP_S(evidence)};
    return aexec(db, A_RESOLVE, p, 5, "resolving an alert");
}

int om_alertdb_set_ack(om_alertdb *db, int64_t id, const char *who, int64_t at,
                       const char *note)
{
    aparam p[] = {AP_I(id), AP_S(who), AP_I(at), AP_S(note)};
    return aexec(db, A_ACK, p, 4, "acknowledging an alert");
}

int om_alertdb_change(om_alertdb *db, int64_t id, om_alert_change_name change, int64_t t,
                      int64_t recorded, const char *who, const char *note, bool notify,
                      int64_t now, unsigned *seq)
{
    aparam bump = AP_I(id);
    if (aexec(db, A_BUMP, &bump, 1, "numbering a change") < 0)
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
    aparam p[] = {AP_I(id),       AP_I(a.changes), AP_S(om_alert_change_text(change)),
                  AP_I(t),        AP_I(recorded),  AP_S(who),
                  AP_S(note),     AP_S(a.summary), AP_S(a.evidence),
                  AP_I(notify),   AP_S(body)};
    int rc = aexec(db, A_HISTORY_ADD, p, 11, "recording a change");
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
    aparam p[NOW_PARAM + 1] = {AP_S(f->site), AP_I(f->open_only), AP_I(f->since),
                               AP_I(f->limit ? (int64_t)f->limit : -1)};
    for (int i = 4; i < NOW_PARAM; i++)
        p[i] = AP_S(NULL);
    p[NOW_PARAM] = AP_I(now);
    arows r;
    if (arows_run(db, A_LIST, p, NOW_PARAM + 1, &r) < 0)
        return -1;
    record_buf b = {0};
    bool oom = false;
    while (!oom && arows_next(&r)) {
        om_alert_record *grown = om_grow(b.v, &b.cap, b.n, sizeof *grown);
        if (!grown) {
            oom = true;
            break;
        }
        b.v = grown;
        read_record(&r, &b.v[b.n++]);
    }
    if (arows_end(&r, "listing alerts") < 0 || oom) {
        om_alert_records_free(b.v, b.n);
        if (oom)
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
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

/* Column order of CHANGE_COLS (store_alerts.c, store_pg_alerts.c). */
static int read_changes(om_alertdb *db, int which, const aparam *p, int np,
                        om_alertdb_change_row **rows, size_t *n)
{
    arows q;
    if (arows_run(db, which, p, np, &q) < 0)
        return -1;
    om_alertdb_change_row *v = NULL;
    size_t cap = 0, k = 0;
    bool oom = false;
    while (arows_next(&q)) {
        om_alertdb_change_row *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown) {
            oom = true;
            break;
        }
        v = grown;
        om_alertdb_change_row *r = &v[k++];
        memset(r, 0, sizeof *r);
        r->id = arows_int(&q, 0);
        r->alert = arows_int(&q, 1);
        r->seq = (unsigned)arows_int(&q, 2);
        om_alert_change_from_text(arows_text(&q, 3), &r->change);
        r->t = arows_int(&q, 4);
        r->recorded = arows_int(&q, 5);
        snprintf(r->who, sizeof r->who, "%s", arows_text(&q, 6));
        snprintf(r->note, sizeof r->note, "%s", arows_text(&q, 7));
        snprintf(r->summary, sizeof r->summary, "%s", arows_text(&q, 8));
        r->evidence = strdup(arows_text(&q, 9));
        r->notify = arows_int(&q, 10) != 0;
        om_alert_severity_from_name(arows_text(&q, 11), &r->severity);
        snprintf(r->site, sizeof r->site, "%s", arows_text(&q, 12));
        r->body = strdup(arows_text(&q, 13));
    }
    if (arows_end(&q, "reading changes") < 0 || oom) {
        om_alertdb_changes_free(v, k);
        if (oom)
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
    }
    *rows = v;
    *n = k;
    return 0;
}

int om_alertdb_history(om_alertdb *db, int64_t alert, om_alertdb_change_row **rows, size_t *n)
{
    aparam p = AP_I(alert);
    return read_changes(db, A_HISTORY, &p, 1, rows, n);
}

int om_alertdb_changes_after(om_alertdb *db, int64_t after, size_t limit,
                             om_alertdb_change_row **rows, size_t *n)
{
    aparam p[] = {AP_I(after), AP_I(limit ? (int64_t)limit : -1)};
    return read_changes(db, A_AFTER, p, 2, rows, n);
}

int om_alertdb_last_change(om_alertdb *db, int64_t *id)
{
    return aint(db, A_LAST, NULL, 0, 0, id, "reading changes");
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
    aparam p[] = {AP_S(site), AP_S(subject), AP_S(rule)};
    arows r;
    if (arows_run(db, A_OPEN_COVERED, p, 3, &r) < 0)
        return -1;
    covered *v = NULL;
    size_t cap = 0, k = 0;
    bool oom = false;
    while (arows_next(&r)) {
        covered *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown) {
            oom = true;
            break;
        }
        v = grown;
        v[k].id = arows_int(&r, 0);
        snprintf(v[k].subject, sizeof v[k].subject, "%s", arows_text(&r, 1));
        snprintf(v[k].rule, sizeof v[k].rule, "%s", arows_text(&r, 2));
        k++;
    }
    char what[128];
    snprintf(what, sizeof what, "open alerts of %s", site);
    if (arows_end(&r, what) < 0 || oom) {
        free(v);
        if (oom)
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
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
    aparam p[] = {AP_S(si->site), AP_S(subject),  AP_S(rule),
                  AP_I(si->until), AP_S(si->who), AP_S(si->note[0] ? si->note : NULL),
                  AP_I(si->created)};
    int64_t added;
    if (aint(db, A_SILENCE_ADD, p, 7, 0, &added, "recording a silence") < 0)
        return -1;
    if (id)
        *id = added;
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
    aparam p[] = {AP_S(site), AP_S(subject), AP_S(om_alert_rule_name(rule)), AP_I(now)};
    return aint(db, A_SILENCED_UNTIL, p, 4, 0, until, "silences");
}

typedef struct {
    int64_t id;
    char site[OM_ID_MAX];
    char subject[OM_ID_MAX];
    char rule[32];
    bool any_subject, any_rule;
} due_silence;

static int silences_due(om_alertdb *db, int64_t now, due_silence **out, size_t *n)
{
    aparam p = AP_I(now);
    arows r;
    if (arows_run(db, A_SILENCES_DUE, &p, 1, &r) < 0)
        return -1;
    due_silence *due = NULL;
    size_t cap = 0, k = 0;
    bool oom = false;
    while (arows_next(&r)) {
        due_silence *grown = om_grow(due, &cap, k, sizeof *grown);
        if (!grown) {
            oom = true;
            break;
        }
        due = grown;
        due_silence *d = &due[k++];
        d->id = arows_int(&r, 0);
        snprintf(d->site, sizeof d->site, "%s", arows_text(&r, 1));
        d->any_subject = arows_null(&r, 2);
        snprintf(d->subject, sizeof d->subject, "%s", arows_text(&r, 2));
        d->any_rule = arows_null(&r, 3);
        snprintf(d->rule, sizeof d->rule, "%s", arows_text(&r, 3));
    }
    if (arows_end(&r, "silences") < 0 || oom) {
        free(due);
        if (oom)
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
    }
    *out = due;
    *n = k;
    return 0;
}

int om_alertdb_silences_end(om_alertdb *db, int64_t now, int64_t recorded)
{
    due_silence *due;
    size_t n;
    if (silences_due(db, now, &due, &n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        aparam p = AP_I(due[i].id);
        if ((rc = aexec(db, A_SILENCE_END, &p, 1, "ending a silence")) < 0)
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
    aparam p = AP_I(all);
    arows r;
    if (arows_run(db, A_SILENCES, &p, 1, &r) < 0)
        return -1;
    om_alertdb_silence *v = NULL;
    size_t cap = 0, k = 0;
    bool oom = false;
    while (arows_next(&r)) {
        om_alertdb_silence *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown) {
            oom = true;
            break;
        }
        v = grown;
        om_alertdb_silence *s = &v[k++];
        memset(s, 0, sizeof *s);
        s->id = arows_int(&r, 0);
        snprintf(s->site, sizeof s->site, "%s", arows_text(&r, 1));
        snprintf(s->subject, sizeof s->subject, "%s", arows_text(&r, 2));
        snprintf(s->rule, sizeof s->rule, "%s", arows_text(&r, 3));
        s->until = arows_int(&r, 4);
        snprintf(s->who, sizeof s->who, "%s", arows_text(&r, 5));
        snprintf(s->note, sizeof s->note, "%s", arows_text(&r, 6));
        s->created = arows_int(&r, 7);
        s->ended = arows_int(&r, 8) != 0;
    }
    if (arows_end(&r, "silences") < 0 || oom) {
        free(v);
        if (oom)
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
    }
    *rows = v;
    *n = k;
    return 0;
}

/* ---- delivery targets and retained lists --------------------------------------------- */

static void read_target(const arows *r, int first, om_alertdb_target *t)
{
    t->upto = arows_int(r, first);
    t->failures = (unsigned)arows_int(r, first + 1);
    t->next_try = arows_int(r, first + 2);
    snprintf(t->last_error, sizeof t->last_error, "%s", arows_text(r, first + 3));
    t->last_attempt = arows_int(r, first + 4);
    t->last_success = arows_int(r, first + 5);
}

int om_alertdb_target_get(om_alertdb *db, const char *target, int64_t now,
                          om_alertdb_target *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->target, sizeof out->target, "%s", target);
    aparam p = AP_S(target);
    arows r;
    if (arows_run(db, A_TARGET_GET, &p, 1, &r) < 0)
        return -1;
    bool found = arows_next(&r);
    if (found)
        read_target(&r, 0, out);
    char what[600];
    snprintf(what, sizeof what, "delivery target %s", target);
    if (arows_end(&r, what) < 0)
        return -1;
    if (found)
        return 0;
    if (om_alertdb_last_change(db, &out->upto) < 0)
        return -1;
    out->next_try = now;
    return om_alertdb_target_put(db, out);
}

int om_alertdb_target_put(om_alertdb *db, const om_alertdb_target *t)
{
    aparam p[] = {AP_S(t->target),       AP_I(t->upto),
                  AP_I(t->failures),     AP_I(t->next_try),
                  AP_S(t->last_error[0] ? t->last_error : NULL),
                  AP_I(t->last_attempt), AP_I(t->last_success)};
    return aexec(db, A_TARGET_PUT, p, 7, "saving a delivery target");
}

int om_alertdb_targets(om_alertdb *db, om_alertdb_target **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    arows r;
    if (arows_run(db, A_TARGETS, NULL, 0, &r) < 0)
        return -1;
    om_alertdb_target *v = NULL;
    size_t cap = 0, k = 0;
    bool oom = false;
    while (arows_next(&r)) {
        om_alertdb_target *grown = om_grow(v, &cap, k, sizeof *grown);
        if (!grown) {
            oom = true;
            break;
        }
        v = grown;
        memset(&v[k], 0, sizeof v[k]);
        snprintf(v[k].target, sizeof v[k].target, "%s", arows_text(&r, 0));
        read_target(&r, 1, &v[k]);
        k++;
    }
    if (arows_end(&r, "delivery targets") < 0 || oom) {
        free(v);
        if (oom)
            snprintf(db->err, sizeof db->err, "%s: out of memory", om_store_path(db->st));
        return -1;
    }
    *rows = v;
    *n = k;
    return 0;
}

int om_alertdb_published_get(om_alertdb *db, const char *site, char *digest, size_t len)
{
    digest[0] = '\0';
    aparam p = AP_S(site);
    arows r;
    if (arows_run(db, A_PUB_GET, &p, 1, &r) < 0)
        return -1;
    if (arows_next(&r))
        snprintf(digest, len, "%s", arows_text(&r, 0));
    return arows_end(&r, "published lists");
}

int om_alertdb_published_put(om_alertdb *db, const char *site, const char *digest, int64_t t)
{
    aparam p[] = {AP_S(site), AP_S(digest), AP_I(t)};
    return aexec(db, A_PUB_PUT, p, 3, "saving a published list");
}
