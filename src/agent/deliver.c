/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deliver.c - from queued polls to the aggregator and back: store, publish,
 * acknowledge, report.
 *
 * Order matters and is the point of the design: a poll is committed to the
 * outbox (om_outbox_append_many returns after the fsync) before it can be
 * handed out for publishing, and it leaves the outbox only through
 * om_outbox_ack, i.e. when the aggregator says it committed it. Publishing
 * is paced twice: at most `max_inflight` readings messages wait for the
 * broker's PUBACK, and a token bucket allows `max_messages_per_s`. A
 * message carries up to `max_polls_per_message` polls within
 * `max_message_kb`, so an hour of backlog leaves in a few dozen messages,
 * many times faster than real time, without a burst the broker must queue.
 */
#include "agent.h"
#include "officemeter/base/clock.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/proto/ack.h"
#include "officemeter/proto/status.h"
#include "clock.h"
#include "officemeter/daemon/log.h"
#include "officemeter/base/isotime.h"

#define HEALTH_QOS 0

/* ---- store -------------------------------------------------------------- */

static void log_bad_clock(om_agent *a, int64_t t_ms)
{
    char now[32], built[32];
    om_format_iso8601(t_ms, now, sizeof now);
    om_format_iso8601(om_clock_build_ms(), built, sizeof built);
    om_log_limited("clock before build", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                   "the clock says %s, before this program was built (%s): readings are not "
                   "stamped or stored until the clock is set (is NTP running?)",
                   now, built);
    a->clock_bad = true;
}

/* Storing failed: everything of this attempt waits in memory, as far as
 * heldpolls.h keeps it; said once, until storing works again. */
static void store_failed(om_agent *a, const om_poll_result *items, size_t n)
{
    int64_t build = om_clock_build_ms();
    a->n.store_failures++;
    for (size_t i = 0; i < n; i++)
        if (om_clock_plausible(items[i].t_ms, build)) /* the others are never stored */
            a->n.polls_lost += om_held_polls_add(&a->held, &items[i]);
    if (a->store_failing)
        return;
    a->store_failing = true;
    om_log(OM_LOG_ERROR,
           "cannot store polls in the outbox: %s; keeping the newest poll of each meter (and "
           "its newest counter reading) in memory until storing works again, older ones are "
           "lost and counted (health: delivery.lost)",
           om_outbox_errmsg(a->ob));
}

static void store_resumed(om_agent *a, size_t held)
{
    if (!a->store_failing)
        return;
    a->store_failing = false;
    om_log(OM_LOG_WARNING,
           "storing polls in the outbox again: %zu polls kept in memory are stored; %" PRIu64
           " polls lost since the agent started (health: delivery.lost)",
           held, a->n.polls_lost);
}

/* The polls of this attempt: those held since storing last failed (oldest
 * first), then the queued ones with a plausible clock. */
static size_t gather(om_agent *a, const om_poll_result *queued, size_t nq,
                     const om_held_poll **held, size_t *nheld, om_outbox_entry *entries)
{
    int64_t build = om_clock_build_ms();
    size_t k = 0;
    *nheld = om_held_polls_sorted(&a->held, held);
    for (size_t i = 0; i < *nheld; i++)
        entries[k++] = (om_outbox_entry){(*held)[i].meter, (*held)[i].t_ms,
                                         (*held)[i].values, (*held)[i].nvalues};
    size_t stamped = 0;
    for (size_t i = 0; i < nq; i++) {
        if (!om_clock_plausible(queued[i].t_ms, build)) {
            a->n.polls_unstamped++;
            log_bad_clock(a, queued[i].t_ms);
            continue;
        }
        entries[k++] = (om_outbox_entry){queued[i].meter->id, queued[i].t_ms, queued[i].values,
                                         queued[i].nvalues};
        stamped++;
    }
    if (stamped > 0 && a->clock_bad) {
        om_log_recovered("clock before build", OM_LOG_INFO,
                         "the clock is plausible again: readings are stored");
        a->clock_bad = false;
    }
    return k;
}

size_t om_agent_store_polls(om_agent *a)
{
    __atomic_store_n(&a->polls_event, 0, __ATOMIC_RELEASE);
    om_poll_result *items = NULL;
    size_t n = om_pollq_take(&a->q, &items);
    if (n == 0 && a->held.n == 0) {
        free(items);
        return 0;
    }
    om_outbox_entry *entries = calloc(n + a->held.n, sizeof *entries);
    if (!entries) {
        a->n.polls_lost += n;
        om_log(OM_LOG_ERROR, "out of memory: %zu polls lost", n);
        free(items);
        return 0;
    }
    const om_held_poll *held;
    size_t nheld;
    size_t k = gather(a, items, n, &held, &nheld, entries);
    if (k > 0) {
        int64_t first = 0;
        if (om_outbox_append_many(a->ob, entries, k, &first) < 0) {
            /* The held ones are still held; the queued ones join them. */
            store_failed(a, items, n);
            k = 0;
        } else {
            a->n.polls_stored += k;
            a->publish_pending = true;
            om_log(OM_LOG_DEBUG, "stored %zu polls, seq %" PRId64 "..%" PRId64, k, first,
                   first + (int64_t)k - 1);
            om_held_polls_clear(&a->held);
            store_resumed(a, nheld);
        }
    }
    free(entries);
    free(items);
    return k;
}

/* ---- publish ------------------------------------------------------------ */

static bool take_token(om_agent *a)
{
    double rate = a->setup.cfg.delivery.max_messages_per_s;
    double burst = rate < 1 ? 1 : rate;
    int64_t now = om_mono_us();
    if (a->tokens_at_us == 0) {
        a->tokens = burst;
    } else {
        a->tokens += (double)(now - a->tokens_at_us) * rate / 1e6;
        if (a->tokens > burst)
            a->tokens = burst;
    }
    a->tokens_at_us = now;
    if (a->tokens < 1.0)
        return false;
    a->tokens -= 1.0;
    return true;
}

static int ensure_buf(om_agent *a, size_t cap)
{
    if (a->bufcap >= cap + 1)
        return 0;
    char *b = realloc(a->buf, cap + 1);
    if (!b)
        return -1;
    a->buf = b;
    a->bufcap = cap + 1;
    return 0;
}

size_t om_agent_publish_due(om_agent *a)
{
    const om_delivery *d = &a->setup.cfg.delivery;
    const char *site = a->setup.site.site, *gw = a->setup.gateway->id;
    size_t cap = (size_t)d->max_message_kb * 1024;
    size_t published = 0;
    a->publish_pending = false;
    __atomic_store_n(&a->publish_blocked, 0, __ATOMIC_RELEASE);
    if (!om_mqtt_is_connected(a->mq) || ensure_buf(a, cap) < 0)
        return 0;
    size_t budget = om_payload_budget(cap, site, gw, om_outbox_epoch(a->ob));
    for (;;) {
        if (om_mqtt_inflight(a->mq) >= d->max_inflight) {
            a->publish_pending = true; /* come back when a PUBACK frees a slot */
            __atomic_store_n(&a->publish_blocked, 1, __ATOMIC_RELEASE);
            break;
        }
        if (!take_token(a)) {
            a->publish_pending = true; /* come back when a token frees up */
            break;
        }
        om_batch_clear(&a->batch);
        if (om_outbox_next_batch(a->ob, om_mono_ms(), d->max_polls_per_message, budget,
                                 &a->batch) < 0) {
            om_log_limited("outbox next", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                           "cannot read the outbox: %s", om_outbox_errmsg(a->ob));
            a->tokens += 1.0;
            break;
        }
        if (a->batch.npolls == 0) {
            a->tokens += 1.0;
            break;
        }
        size_t len = 0, npolls = 0;
        char err[256];
        if (om_payload_encode_readings(site, gw, &a->batch, a->buf, cap, &len, &npolls, err,
                                       sizeof err) < 0) {
            /* Cannot happen with a batch cut to the budget; the polls wait
             * for their resend timeout rather than block the rest. */
            om_log_limited("encode", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                           "cannot encode a readings message: %s", err);
            break;
        }
        if (om_mqtt_publish(a->mq, a->t_readings, a->buf, len, 1, false, NULL) < 0) {
            char why[256];
            om_mqtt_errmsg(a->mq, why, sizeof why);
            a->n.publish_failures++;
            om_log_limited("publish", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                           "readings not published (%s): they stay in the outbox and are sent "
                           "again",
                           why);
            break;
        }
        a->n.messages_published++;
        a->n.polls_published += npolls;
        published++;
        om_log(OM_LOG_DEBUG, "published seq %" PRId64 "..%" PRId64 " (%zu polls, %zu bytes)",
               a->batch.polls[0].seq, a->batch.polls[npolls - 1].seq, npolls, len);
        if (a->batch.npolls < d->max_polls_per_message && len < cap / 2)
            break; /* a short batch: nothing more is due */
    }
    return published;
}

/* ---- acknowledgements --------------------------------------------------- */

void om_agent_handle_message(om_agent *a, const om_mqtt_message *msg)
{
    if (strcmp(msg->topic, a->t_ack) != 0) {
        om_log(OM_LOG_DEBUG, "ignored a message on %s", msg->topic);
        return;
    }
    om_ack ack;
    char err[256];
    if (om_ack_parse(msg->payload, msg->len, &ack, err, sizeof err) < 0) {
        a->n.acks_refused++;
        om_log_limited("bad ack", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "ignored an acknowledgement on %s: %s", msg->topic, err);
        return;
    }
    if (strcmp(ack.epoch, om_outbox_epoch(a->ob)) != 0) {
        /* An older outbox's epoch (a retained or late ack): nothing to do. */
        a->n.acks_other_epoch++;
        om_log(OM_LOG_DEBUG, "ignored an acknowledgement for epoch %s (ours is %s)", ack.epoch,
               om_outbox_epoch(a->ob));
        return;
    }
    size_t deleted = 0;
    if (om_outbox_ack(a->ob, ack.epoch, ack.upto, &deleted) < 0) {
        a->n.acks_refused++;
        om_log_limited("ack refused", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "refused an acknowledgement up to seq %" PRId64 ": %s", ack.upto,
                       om_outbox_errmsg(a->ob));
        return;
    }
    a->n.acks++;
    a->n.polls_acked += deleted;
    a->publish_pending = true;
    om_log(OM_LOG_DEBUG, "acknowledged up to seq %" PRId64 ": %zu polls deleted", ack.upto,
           deleted);
}

/* ---- status, health, quota ------------------------------------------------ */

void om_agent_publish_birth(om_agent *a)
{
    char text[512];
    int n = om_status_encode_online(text, sizeof text, om_clock_wall_ms(), OM_VERSION,
                                    om_outbox_epoch(a->ob), a->setup.nmeters);
    if (n < 0 || om_mqtt_publish(a->mq, a->t_status, text, (size_t)n, 1, true, NULL) < 0)
        om_log(OM_LOG_WARNING, "cannot publish the online status");
}

void om_agent_publish_offline(om_agent *a)
{
    static const char text[] = OM_STATUS_OFFLINE;
    if (om_mqtt_is_connected(a->mq))
        om_mqtt_publish(a->mq, a->t_status, text, sizeof text - 1, 1, true, NULL);
}

void om_agent_publish_health(om_agent *a)
{
    if (!om_mqtt_is_connected(a->mq))
        return;
    char *text = om_agent_health_json(a);
    if (!text)
        return;
    if (om_mqtt_publish(a->mq, a->t_health, text, strlen(text), HEALTH_QOS, true, NULL) < 0)
        om_log(OM_LOG_DEBUG, "health not published");
    free(text);
}

void om_agent_enforce_quota(om_agent *a)
{
    om_outbox_quota q = {.max_bytes = (uint64_t)a->setup.cfg.outbox_quota_mb * 1024 * 1024};
    om_outbox_stats_info done;
    memset(&done, 0, sizeof done);
    int rc = om_outbox_enforce_quota(a->ob, &q, &done);
    if (rc < 0) {
        om_log_limited("quota", OM_LOG_REPEAT_MS, OM_LOG_ERROR, "outbox quota check failed: %s",
                       om_outbox_errmsg(a->ob));
        return;
    }
    uint64_t thinned = done.instant_values_dropped + done.instant_polls_dropped +
                       done.counter_polls_thinned;
    if (thinned)
        om_log(OM_LOG_WARNING,
               "outbox over its quota of %u MiB: dropped %" PRIu64 " instantaneous values (%" PRIu64
               " polls emptied) and thinned %" PRIu64 " counter polls to one per 15 minutes",
               a->setup.cfg.outbox_quota_mb, done.instant_values_dropped,
               done.instant_polls_dropped, done.counter_polls_thinned);
    if (rc == 1) {
        a->n.quota_runs_over++;
        om_log_limited("quota floor", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                       "outbox still over its quota of %u MiB with nothing left to thin",
                       a->setup.cfg.outbox_quota_mb);
    }
}
