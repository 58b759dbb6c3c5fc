/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agg_group.c - hold judged messages, write them in one transaction, commit,
 * acknowledge.
 *
 * What each kind of message becomes:
 *   readings, envelope refused  -> one reject row (raw payload); no seq counted
 *   readings, envelope sound    -> per poll: readings, quarantine or a reject
 *                                  row; every readable seq and skipped range
 *                                  counted for the acknowledgement
 *   status                      -> gateway online/offline
 *   health                      -> gateway health, outbox depth, errors
 *   anything unparsable         -> one reject row
 */
#include "agg_group.h"
#include "officemeter/base/array.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/daemon/log.h"
#include "officemeter/proto/health.h"
#include "officemeter/proto/status.h"

/* A gateway's online/offline lines: at most one a minute per gateway. */
#define STATE_LOG_MS 60000

typedef struct {
    char *topic;
    char *payload;
    size_t len;
    int64_t received_ms;
    bool topic_ok;
    char topic_err[160];
    om_topic t;
    om_readings_msg rd;  /* readings */
    char state[16];      /* status */
    int64_t depth, errors; /* health */
    om_verdict verdict;  /* status and health */
} entry;

typedef struct {
    char site[OM_ID_MAX];
    char gateway[OM_ID_MAX];
    char epoch[OM_EPOCH_LEN + 1];
} touched;

struct agg_group {
    int64_t gap_close_ms; /* om_store_seq_close_gap; 0: never */
    entry *entries;
    size_t n, cap;
    size_t readings;
    size_t bytes;         /* payloads held */
    touched *acks;
    size_t nacks, acks_cap;
};

agg_group *agg_group_new(void)
{
    return calloc(1, sizeof(agg_group));
}

void agg_group_set_gap_close(agg_group *g, int64_t ms)
{
    g->gap_close_ms = ms > 0 ? ms : 0;
}

static void entry_free(entry *e)
{
    free(e->topic);
    free(e->payload);
    om_readings_msg_free(&e->rd);
}

static void clear(agg_group *g)
{
    for (size_t i = 0; i < g->n; i++)
        entry_free(&g->entries[i]);
    g->n = 0;
    g->readings = 0;
    g->bytes = 0;
    g->nacks = 0;
}

/* Forgets entries [0, k) (written or dropped); the rest move to the front. */
static void forget_first(agg_group *g, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        g->readings -= g->entries[i].rd.nreadings;
        g->bytes -= g->entries[i].len;
        entry_free(&g->entries[i]);
    }
    memmove(g->entries, g->entries + k, (g->n - k) * sizeof *g->entries);
    g->n -= k;
}

void agg_group_free(agg_group *g)
{
    if (!g)
        return;
    clear(g);
    free(g->entries);
    free(g->acks);
    free(g);
}

size_t agg_group_messages(const agg_group *g)
{
    return g->n;
}

size_t agg_group_readings(const agg_group *g)
{
    return g->readings;
}

size_t agg_group_bytes(const agg_group *g)
{
    return g->bytes;
}

static int judge(entry *e, const om_ingest_rules *rules)
{
    e->topic_ok = om_topic_parse(e->topic, &e->t, e->topic_err, sizeof e->topic_err) == 0;
    if (!e->topic_ok)
        return 0;
    switch (e->t.kind) {
    case OM_TOPIC_READINGS:
        return om_ingest_readings(rules, &e->t, e->payload, e->len, &e->rd);
    case OM_TOPIC_STATUS:
        om_status_parse(e->payload, e->len, rules->max_bytes, e->state, sizeof e->state,
                         &e->verdict);
        return 0;
    case OM_TOPIC_HEALTH:
        om_health_parse(e->payload, e->len, rules->max_bytes, &e->depth, &e->errors,
                         &e->verdict);
        return 0;
    case OM_TOPIC_ACK:
        return 0; /* our own acknowledgements, if a broker echoes them: nothing to do */
    }
    return 0;
}

struct agg_judged {
    entry e;
};

agg_judged *agg_judge(const om_ingest_rules *rules, const char *topic, const void *payload,
                      size_t len, int64_t received_ms)
{
    agg_judged *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    entry *e = &j->e;
    e->topic = strdup(topic);
    e->payload = malloc(len + 1);
    if (!e->topic || !e->payload) {
        agg_judged_free(j);
        return NULL;
    }
    memcpy(e->payload, payload, len);
    e->payload[len] = '\0';
    e->len = len;
    e->received_ms = received_ms;
    if (judge(e, rules) < 0) {
        agg_judged_free(j);
        return NULL;
    }
    return j;
}

void agg_judged_free(agg_judged *j)
{
    if (!j)
        return;
    entry_free(&j->e);
    free(j);
}

int agg_group_hold(agg_group *g, agg_judged *j)
{
    entry *grown = om_grow(g->entries, &g->cap, g->n, sizeof *grown);
    if (!grown) {
        agg_judged_free(j);
        return -1;
    }
    g->entries = grown;
    g->entries[g->n] = j->e; /* moved: the entry's memory is the group's now */
    g->readings += j->e.rd.nreadings;
    g->bytes += j->e.len;
    g->n++;
    free(j);
    return 0;
}

int agg_group_add(agg_group *g, const om_ingest_rules *rules, const char *topic,
                  const void *payload, size_t len, int64_t received_ms)
{
    agg_judged *j = agg_judge(rules, topic, payload, len, received_ms);
    return j ? agg_group_hold(g, j) : -1;
}

/* ---- writing one message ----------------------------------------------------- */

static int touch(agg_group *g, const om_topic *t, const char *epoch)
{
    for (size_t i = 0; i < g->nacks; i++)
        if (strcmp(g->acks[i].epoch, epoch) == 0 && strcmp(g->acks[i].gateway, t->gateway) == 0 &&
            strcmp(g->acks[i].site, t->site) == 0)
            return 0;
    touched *grown = om_grow(g->acks, &g->acks_cap, g->nacks, sizeof *grown);
    if (!grown)
        return -1;
    g->acks = grown;
    touched *a = &g->acks[g->nacks++];
    snprintf(a->site, sizeof a->site, "%s", t->site);
    snprintf(a->gateway, sizeof a->gateway, "%s", t->gateway);
    snprintf(a->epoch, sizeof a->epoch, "%s", epoch);
    return 0;
}

static void log_reject(const entry *e, const char *code, const char *reason, int64_t seq)
{
    char key[200];
    snprintf(key, sizeof key, "reject %s %s", e->topic, code);
    if (seq > 0)
        om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING, "rejected poll seq %" PRId64
                       " on %s: %s: %s", seq, e->topic, code, reason);
    else
        om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING, "rejected message on %s: %s: %s",
                       e->topic, code, reason);
}

static int reject_message(om_store *st, const entry *e, const char *code, const char *reason,
                          agg_counts *c)
{
    om_store_reject r = {
        .received_ms = e->received_ms,
        .topic = e->topic,
        .site = e->topic_ok ? e->t.site : NULL,
        .gateway = e->topic_ok ? e->t.gateway : NULL,
        .code = code,
        .reason = reason,
        .raw = e->payload,
        .rawlen = e->len,
    };
    log_reject(e, code, reason, 0);
    c->messages_rejected++;
    return om_store_reject_add(st, &r);
}

static int write_poll(om_store *st, const entry *e, const om_store_origin *o,
                      const om_ingest_poll *p, agg_counts *c)
{
    const om_verdict *v = &p->verdict;
    switch (v->fate) {
    case OM_FATE_STORE: {
        /* The readings' fate is counted after the commit (write_range):
         * a backend that writes at commit only knows it then. What is
         * known now (SQLite) names the poll in the log. */
        om_store_counts sc = {0};
        if (om_store_put_poll(st, o, &p->poll, &sc) < 0)
            return -1;
        c->polls++;
        c->conflicts += sc.conflicts;
        if (sc.conflicts) {
            char key[200];
            snprintf(key, sizeof key, "conflict %s %s", e->topic, p->poll.meter);
            om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                           "poll seq %" PRId64 " of meter %s on %s repeats %" PRIu64
                           " stored reading(s) with other values: kept the stored ones, "
                           "recorded the conflict", p->poll.seq, p->poll.meter, e->topic,
                           sc.conflicts);
        }
        return 0;
    }
    case OM_FATE_QUARANTINE: {
        char key[200];
        snprintf(key, sizeof key, "quarantine %s %s", e->topic, p->poll.meter);
        om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING, "quarantined poll seq %" PRId64
                       " on %s: %s", p->poll.seq, e->topic, v->reason);
        c->quarantined++;
        return om_store_quarantine(st, o, p->poll.seq, p->poll.meter, p->poll.t_ms, v->code,
                                   v->reason, p->json);
    }
    case OM_FATE_REJECT: {
        om_store_reject r = {
            .received_ms = e->received_ms,
            .topic = e->topic,
            .site = e->t.site,
            .gateway = e->t.gateway,
            .code = v->code,
            .reason = v->reason,
            .seq = p->has_seq ? p->poll.seq : 0,
            .meter = p->poll.meter,
            .raw = p->json,
            .rawlen = p->json ? strlen(p->json) : 0,
        };
        log_reject(e, v->code, v->reason, r.seq);
        c->polls_rejected++;
        return om_store_reject_add(st, &r);
    }
    }
    return 0;
}

static int write_readings(agg_group *g, om_store *st, const entry *e, agg_counts *c)
{
    const om_readings_msg *m = &e->rd;
    if (m->verdict.fate == OM_FATE_REJECT)
        return reject_message(st, e, m->verdict.code, m->verdict.reason, c);
    om_store_origin o = {e->t.site, e->t.gateway, m->epoch, e->received_ms};
    if (om_store_gateway_seen(st, e->t.site, e->t.gateway, e->received_ms) < 0)
        return -1;
    for (size_t i = 0; i < m->npolls; i++) {
        const om_ingest_poll *p = &m->polls[i];
        if (write_poll(st, e, &o, p, c) < 0)
            return -1;
        if (p->has_seq && om_store_seq_done(st, &o, p->poll.seq, p->poll.seq) < 0)
            return -1;
    }
    for (size_t i = 0; i < m->nskipped; i++)
        if (om_store_seq_skipped(st, &o, m->skipped[i].from, m->skipped[i].to) < 0)
            return -1;
    int64_t from, to;
    int closed = om_store_seq_close_gap(st, &o, g->gap_close_ms, &from, &to);
    if (closed < 0)
        return -1;
    if (closed)
        om_log(OM_LOG_ERROR,
               "gateway %s/%s epoch %s: seqs %lld..%lld never arrived in %lld s while newer "
               "polls did; recorded as lost (table lost_seqs) so acknowledgements move on "
               "(was the database restored from a backup?)",
               e->t.site, e->t.gateway, m->epoch, (long long)from, (long long)to,
               (long long)(g->gap_close_ms / 1000));
    return touch(g, &e->t, m->epoch);
}

static int write_entry(agg_group *g, om_store *st, const entry *e, agg_counts *c)
{
    if (!e->topic_ok)
        return reject_message(st, e, "bad_topic", e->topic_err, c);
    switch (e->t.kind) {
    case OM_TOPIC_READINGS:
        return write_readings(g, st, e, c);
    case OM_TOPIC_STATUS:
        if (e->verdict.fate == OM_FATE_REJECT)
            return reject_message(st, e, e->verdict.code, e->verdict.reason, c);
        if (!e->state[0])
            return 0;
        if (om_store_gateway_seen(st, e->t.site, e->t.gateway, e->received_ms) < 0)
            return -1;
        {
            /* Rate-limited per gateway: a flapping (or forged) status must not
             * write a line per message; the database has every state. */
            char key[160];
            snprintf(key, sizeof key, "state %s/%s", e->t.site, e->t.gateway);
            om_log_limited(key, STATE_LOG_MS, OM_LOG_INFO, "gateway %s/%s is %s", e->t.site,
                           e->t.gateway, e->state);
        }
        return om_store_gateway_state(st, e->t.site, e->t.gateway, e->state, e->received_ms);
    case OM_TOPIC_HEALTH:
        if (e->verdict.fate == OM_FATE_REJECT)
            return reject_message(st, e, e->verdict.code, e->verdict.reason, c);
        if (om_store_gateway_seen(st, e->t.site, e->t.gateway, e->received_ms) < 0)
            return -1;
        return om_store_gateway_health(st, e->t.site, e->t.gateway, e->received_ms, e->depth,
                                       e->errors, e->payload);
    case OM_TOPIC_ACK:
        return 0;
    }
    return 0;
}

/* ---- commit -------------------------------------------------------------------- */

static void send_acks(agg_group *g, om_store *st, agg_ack_fn ack, void *ctx)
{
    for (size_t i = 0; i < g->nacks; i++) {
        int64_t upto = 0;
        if (om_store_seq_upto(st, g->acks[i].site, g->acks[i].gateway, g->acks[i].epoch, &upto) < 0)
            om_log(OM_LOG_ERROR, "%s", om_store_errmsg(st));
        else if (ack && upto > 0)
            ack(ctx, g->acks[i].site, g->acks[i].gateway, g->acks[i].epoch, upto);
    }
    g->nacks = 0;
}

/* Writes entries [from, to) in one transaction; counts go to *c only when
 * the commit succeeded. */
static int write_range(agg_group *g, om_store *st, size_t from, size_t to, agg_counts *c)
{
    agg_counts local = {0};
    size_t nacks = g->nacks;
    if (om_store_begin(st) < 0)
        return -1;
    for (size_t i = from; i < to; i++) {
        if (write_entry(g, st, &g->entries[i], &local) < 0) {
            om_store_rollback(st);
            g->nacks = nacks;
            return -1;
        }
    }
    if (om_store_commit(st) < 0) {
        om_store_rollback(st);
        g->nacks = nacks;
        return -1;
    }
    om_store_counts sc;
    om_store_group_counts(st, &sc);
    if (sc.conflicts > local.conflicts)
        om_log_limited("conflict group", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "%" PRIu64 " readings repeat stored ones with other values: kept the "
                       "stored ones, recorded the conflicts (officemeter status)", sc.conflicts);
    local.messages = to - from;
    local.groups = 1;
    c->messages += local.messages;
    c->polls += local.polls;
    c->readings += sc.stored;
    c->duplicates += sc.duplicates;
    c->conflicts += sc.conflicts;
    c->quarantined += local.quarantined;
    c->polls_rejected += local.polls_rejected;
    c->messages_rejected += local.messages_rejected;
    c->groups += local.groups;
    return 0;
}

int agg_group_commit(agg_group *g, om_store *st, agg_ack_fn ack, void *ctx, agg_counts *counts)
{
    agg_counts scratch = {0};
    agg_counts *c = counts ? counts : &scratch;
    if (g->n == 0)
        return 0;
    if (write_range(g, st, 0, g->n, c) == 0) {
        send_acks(g, st, ack, ctx);
        clear(g);
        return 0;
    }
    if (om_store_unavailable(st)) {
        /* The disk, not a message: every message would fail alike. All are
         * kept for the caller to try again; nothing is acknowledged. */
        g->nacks = 0;
        return AGG_COMMIT_UNAVAILABLE;
    }
    om_log_limited("group commit", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                   "committing %zu messages failed (%s); trying them one by one", g->n,
                   om_store_errmsg(st));
    size_t ok = 0, done = 0;
    int rc = 0;
    for (; done < g->n; done++) {
        if (write_range(g, st, done, done + 1, c) == 0) {
            ok++;
            continue;
        }
        if (om_store_unavailable(st)) {
            rc = AGG_COMMIT_UNAVAILABLE; /* this one and the rest are kept */
            break;
        }
        c->dropped++;
        char key[200];
        snprintf(key, sizeof key, "dropped %s", g->entries[done].topic);
        om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                       "dropped a message on %s (not acknowledged, the gateway will send it "
                       "again): %s", g->entries[done].topic, om_store_errmsg(st));
    }
    send_acks(g, st, ack, ctx);
    if (rc == AGG_COMMIT_UNAVAILABLE) {
        forget_first(g, done);
        return rc;
    }
    clear(g);
    return ok ? 0 : -1;
}
