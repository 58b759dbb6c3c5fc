/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.c - the daemon's life: init, connect, run, reload, once, shutdown.
 * (State diagram in agent.h; the delivery steps are in deliver.c.)
 */
#include "agent.h"
#include "officemeter/base/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/proto/ack.h"
#include "officemeter/proto/status.h"
#include "officemeter/proto/topic.h"
#include "clock.h"
#include "officemeter/daemon/notify.h"
#include "officemeter/daemon/log.h"
#include "tcpmux.h"
#include "wake.h"

/* The loop sleeps until its next deadline; this only bounds the sleep in
 * case a deadline was missed (everything with work for it wakes it). */
#define LOOP_WAIT_MS 60000
#define RESEND_CHECK_MS 5000
#define PUBLISH_RETRY_MS 10
#define QUOTA_CHECK_MS 60000
#define SHUTDOWN_FLUSH_MS 2000

/* SIGHUP: load the config again; applied only when it has no error. Returns
 * 0 when applied, -1 when refused (errors logged). */
static int agent_reload(om_agent *a);

/* ---- MQTT callbacks (paho's threads: set flags only) --------------------- */

static void on_connected(void *ctx, unsigned count)
{
    om_agent *a = ctx;
    a->connected_event = 1;
    char server[512]; /* with broker.uris, the one that answered */
    om_mqtt_server(a->mq, server, sizeof server);
    om_log(OM_LOG_INFO, "%s to %s", count > 1 ? "reconnected" : "connected", server);
    om_log_recovered("mqtt connect", OM_LOG_INFO, "broker %s reachable again", server);
    om_wake_signal(&a->wake);
}

static void on_lost(void *ctx, const char *why)
{
    om_agent *a = ctx;
    char server[512];
    om_mqtt_server(a->mq, server, sizeof server);
    om_log(OM_LOG_WARNING, "connection to %s lost (%s): polls are kept in the outbox", server,
           why);
}

static void on_connect_failed(void *ctx, const char *why, unsigned retry_ms)
{
    om_agent *a = ctx;
    if (a->starting) {
        /* om_agent_connect reports the outcome itself, in one line. */
        om_log(OM_LOG_DEBUG, "connect attempt failed: %s", why);
        return;
    }
    if (a->setup.cfg.broker.nuris > 1) /* why names each broker */
        om_log_limited("mqtt connect", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "cannot connect to any of the %zu brokers: %s (retrying, polls are kept "
                       "in the outbox)", a->setup.cfg.broker.nuris, why);
    else
        om_log_limited("mqtt connect", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "cannot connect to %s: %s (retrying, polls are kept in the outbox)",
                       a->setup.cfg.broker.uri, why);
}

static void on_delivered(void *ctx, int token)
{
    om_agent *a = ctx;
    /* A PUBACK frees an in-flight slot: wake the loop if it is waiting for
     * one (a catch-up), not for every routine message. */
    if (__atomic_load_n(&a->publish_blocked, __ATOMIC_ACQUIRE))
        om_wake_signal(&a->wake);
}

static void on_received(void *ctx)
{
    om_agent *a = ctx;
    om_wake_signal(&a->wake);
}

static void on_polls(void *ctx)
{
    om_agent *a = ctx;
    /* A cycle's end (or a long cycle's first polls) wakes the loop, once
     * until the polls are stored. */
    if (__atomic_exchange_n(&a->polls_event, 1, __ATOMIC_ACQ_REL) == 0)
        om_wake_signal(&a->wake);
}

/* ---- building the parts -------------------------------------------------- */

/* The agent's four topics for a setup; -1 when an id is too long. */
typedef struct {
    char readings[OM_TOPIC_MAX];
    char status[OM_TOPIC_MAX];
    char ack[OM_TOPIC_MAX];
    char health[OM_TOPIC_MAX];
} topic_set;

static int make_topics(const om_agent_setup *s, topic_set *t)
{
    const char *site = s->site.site, *gw = s->gateway->id;
    return om_topic_format(t->readings, sizeof t->readings, site, gw, OM_TOPIC_READINGS) |
           om_topic_format(t->status, sizeof t->status, site, gw, OM_TOPIC_STATUS) |
           om_topic_format(t->ack, sizeof t->ack, site, gw, OM_TOPIC_ACK) |
           om_topic_format(t->health, sizeof t->health, site, gw, OM_TOPIC_HEALTH);
}

static void use_topics(om_agent *a, const topic_set *t)
{
    memcpy(a->t_readings, t->readings, sizeof a->t_readings);
    memcpy(a->t_status, t->status, sizeof a->t_status);
    memcpy(a->t_ack, t->ack, sizeof a->t_ack);
    memcpy(a->t_health, t->health, sizeof a->t_health);
}

/* paho's idle timers may run this much late while connected (om_mqtt.h):
 * a second, against keepalive and resend times of tens of seconds. */
#define PAHO_TIMER_SLACK_MS 1000u

/* A client for setup `s` with topics `t` (not started). The callbacks get
 * `a`, which must carry `s` by the time the client is started. */
static om_mqtt *make_mqtt(om_agent *a, const om_agent_setup *s, const topic_set *t, char *err,
                          size_t errlen)
{
    const om_agent_config *c = &s->cfg;
    static const char will[] = OM_STATUS_OFFLINE;
    om_mqtt_options o;
    om_mqtt_options_init(&o);
    o.uri = c->broker.uri;
    o.uris = (const char *const *)c->broker.uris;
    o.nuris = c->broker.nuris;
    o.client_id = c->broker.client_id;
    o.username = s->username;
    o.password = s->password;
    o.ca_file = c->broker.tls.ca_file;
    o.cert_file = c->broker.tls.cert_file;
    o.key_file = c->broker.tls.key_file;
    o.verify = c->broker.tls.verify;
    o.clean_session = true; /* acks are cumulative; the outbox resends what a session lost */
    o.connect_timeout_s = c->delivery.connect_timeout_s < 10 ? c->delivery.connect_timeout_s : 10;
    o.min_retry_ms = c->delivery.reconnect_min_ms;
    o.max_retry_ms = c->delivery.reconnect_max_s * 1000u;
    o.max_inflight = c->delivery.max_inflight + 16; /* status and health besides readings */
    o.will_topic = t->status;
    o.will_payload = will;
    o.will_qos = 1;
    o.will_retain = true;
    o.paho_timer_slack_ms = a->opts.once ? 0 : PAHO_TIMER_SLACK_MS;
    om_mqtt_callbacks cb = {.ctx = a,
                            .connected = on_connected,
                            .lost = on_lost,
                            .connect_failed = on_connect_failed,
                            .delivered = on_delivered,
                            .received = on_received};
    om_mqtt *m = om_mqtt_new(&o, &cb, err, errlen);
    if (m && om_mqtt_subscribe(m, t->ack, 1) < 0) {
        snprintf(err, errlen, "cannot subscribe to %s", t->ack);
        om_mqtt_free(m);
        return NULL;
    }
    return m;
}

static void apply_log_level(om_agent *a)
{
    om_log_level lvl;
    const char *name = a->opts.log_level ? a->opts.log_level : a->setup.cfg.log_level;
    if (om_log_level_parse(name, &lvl) == 0)
        om_log_set_level(lvl);
}

static void warn_insecure(const om_agent *a)
{
    if (a->setup.cfg.broker.insecure && !a->setup.cfg.broker.use_tls &&
        !a->setup.cfg.broker.loopback)
        om_log(OM_LOG_WARNING, "broker %s: plain MQTT (insecure: true): readings and "
               "credentials travel in clear text", a->setup.cfg.broker.uri);
    if (a->setup.cfg.broker.use_tls && !a->setup.cfg.broker.tls.verify)
        om_log(OM_LOG_WARNING, "broker %s: certificate verification is off (tls.verify: false)",
               a->setup.cfg.broker.uri);
}

static om_bus_worker **make_workers(om_agent *a, size_t *n, char *err, size_t errlen)
{
    const om_gateway *gw = a->setup.gateway;
    om_bus_worker **ws = calloc(gw->nbuses ? gw->nbuses : 1, sizeof *ws);
    *n = 0;
    if (!ws) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const om_intervals *iv = &a->setup.cfg.intervals;
    for (size_t b = 0; b < gw->nbuses; b++) {
        size_t nm = 0;
        const om_meter **ms = om_agent_setup_bus_meters(&a->setup, &gw->buses[b], &nm);
        if (nm == 0) {
            free(ms);
            continue;
        }
        om_bus_worker_config wc = {
            .bus = &gw->buses[b],
            .meters = ms,
            .nmeters = nm,
            .plan = NULL,
            .schedule = {.counters_ms = (int64_t)iv->counters_s * 1000,
                         .instant_ms = (int64_t)iv->instant_s * 1000},
            .backoff_max_ms = (int64_t)iv->backoff_max_s * 1000,
            .resume_after_ms = a->resume_after_ms,
            .sink = om_pollq_sink,
            .cycle_end = om_pollq_cycle_end,
            .sink_ctx = &a->q,
        };
        om_bus_worker *w = om_bus_worker_new(&wc, err, errlen);
        free(ms);
        if (!w) {
            for (size_t i = 0; i < *n; i++)
                om_bus_worker_free(ws[i]);
            free(ws);
            return NULL;
        }
        ws[(*n)++] = w;
    }
    return ws;
}

static void free_workers(om_agent *a, om_bus_worker **ws, size_t n)
{
    om_tcp_mux_free(a->tcp_mux); /* it drives some of the workers */
    a->tcp_mux = NULL;
    for (size_t i = 0; i < n; i++)
        om_bus_worker_free(ws[i]);
    free(ws);
}

/* ---- public -------------------------------------------------------------- */

int om_agent_init(om_agent *a, const om_agent_options *opts, om_diag *diag, char *err,
                  size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->wake.fd = -1;
    a->opts = *opts;
    a->starting = 1;
    a->started_ms = om_clock_wall_ms();
    om_pollq_init(&a->q);
    om_held_polls_init(&a->held);
    a->q.notify = on_polls;
    a->q.notify_ctx = a;
    om_batch_init(&a->batch);
    if (om_wake_open(&a->wake) < 0) {
        snprintf(err, errlen, "cannot create the delivery loop's eventfd: %s", strerror(errno));
        return -1;
    }
    om_agent_setup_options so = {.overrides = opts->overrides,
                                 .noverrides = opts->noverrides,
                                 .credentials = true};
    if (om_agent_setup_load(opts->config_path, &so, &a->setup, diag) < 0) {
        snprintf(err, errlen, "%s: %zu error(s); nothing started", opts->config_path,
                 om_diag_count(diag));
        return -1;
    }
    apply_log_level(a);
    topic_set topics;
    if (make_topics(&a->setup, &topics) < 0) {
        snprintf(err, errlen, "site or gateway id too long for an MQTT topic");
        return -1;
    }
    use_topics(a, &topics);
    a->ob = om_outbox_open(a->setup.cfg.outbox, err, errlen);
    if (!a->ob)
        return -1;
    om_outbox_set_resend_ms(a->ob, (int64_t)a->setup.cfg.delivery.resend_after_s * 1000);
    a->mq = make_mqtt(a, &a->setup, &topics, err, errlen);
    if (!a->mq)
        return -1;
    warn_insecure(a);
    return 0;
}

int om_agent_connect(om_agent *a, char *err, size_t errlen)
{
    if (om_mqtt_start(a->mq) < 0) {
        om_mqtt_errmsg(a->mq, err, errlen);
        return -1;
    }
    unsigned timeout = a->setup.cfg.delivery.connect_timeout_s * 1000u;
    int rc = om_mqtt_wait_connected(a->mq, timeout, err, errlen);
    a->starting = 0;
    return rc;
}

int om_agent_start_workers(om_agent *a, char *err, size_t errlen)
{
    a->workers = make_workers(a, &a->nworkers, err, errlen);
    if (!a->workers)
        return -1;
    /* Modbus TCP buses share one thread (tcpmux.h); a serial bus carries
     * one request at a time anyway and keeps a thread of its own. */
    om_bus_worker **tcp = calloc(a->nworkers ? a->nworkers : 1, sizeof *tcp);
    size_t ntcp = 0;
    if (!tcp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < a->nworkers; i++)
        if (om_bus_worker_bus(a->workers[i])->kind == OM_BUS_TCP)
            tcp[ntcp++] = a->workers[i];
    if (ntcp > 0) {
        a->tcp_mux = om_tcp_mux_new(tcp, ntcp);
        if (!a->tcp_mux || om_tcp_mux_start(a->tcp_mux) < 0) {
            free(tcp);
            snprintf(err, errlen, "cannot start the thread of the Modbus TCP buses");
            return -1;
        }
    }
    free(tcp);
    for (size_t i = 0; i < a->nworkers; i++) {
        if (om_bus_worker_bus(a->workers[i])->kind == OM_BUS_TCP)
            continue;
        if (om_bus_worker_start(a->workers[i]) < 0) {
            snprintf(err, errlen, "cannot start the worker of bus %s",
                     om_bus_worker_bus(a->workers[i])->id);
            return -1;
        }
    }
    om_log(OM_LOG_INFO,
           "polling %zu meters on %zu buses (counters every %u s, instantaneous values every "
           "%u s); outbox %s, epoch %s",
           a->setup.nmeters, a->nworkers, a->setup.cfg.intervals.counters_s,
           a->setup.cfg.intervals.instant_s, a->setup.cfg.outbox, om_outbox_epoch(a->ob));
    return 0;
}

static void agent_stop_workers(om_agent *a)
{
    /* The last tick any bus ran: the workers of a reload resume after it. */
    for (size_t i = 0; i < a->nworkers; i++) {
        om_bus_stats st;
        om_bus_worker_stats(a->workers[i], &st);
        if (st.last_tick_ms > a->resume_after_ms)
            a->resume_after_ms = st.last_tick_ms;
    }
    om_tcp_mux_free(a->tcp_mux); /* its polls in flight end first */
    a->tcp_mux = NULL;
    for (size_t i = 0; i < a->nworkers; i++)
        om_bus_worker_stop(a->workers[i]);
}

static int64_t resend_check_ms(const om_agent *a)
{
    /* Unacknowledged polls become due resend_after_s after they were sent;
     * looking twice per timeout (at most every RESEND_CHECK_MS) is enough. */
    int64_t half = (int64_t)a->setup.cfg.delivery.resend_after_s * 500;
    return half < RESEND_CHECK_MS ? half : RESEND_CHECK_MS;
}

/* One turn of the delivery loop; wait_ms bounds the wait for a message. */
static void loop_once(om_agent *a, unsigned wait_ms)
{
    int64_t now = om_mono_ms();
    if (__atomic_load_n(&a->polls_event, __ATOMIC_ACQUIRE))
        om_agent_store_polls(a); /* a bus's whole cycle: one transaction */
    if (a->connected_event) {
        a->connected_event = 0;
        size_t n = 0;
        /* Whatever was in flight on the old connection may be lost with it
         * (a broker restarted without persistence): send it all again. */
        om_outbox_mark_unsent(a->ob, &n);
        if (n)
            om_log(OM_LOG_INFO, "%zu unacknowledged polls will be sent again", n);
        om_agent_publish_birth(a);
        a->publish_pending = true;
        a->next_health_ms = now;
    }
    if (a->publish_pending || now >= a->next_resend_ms) {
        om_agent_publish_due(a);
        /* When the outbox knows when its next held poll falls due (every
         * due poll went out), sleep until then: with acknowledgements
         * arriving, that is never, and an idle gateway does not wake. */
        int64_t due = om_outbox_next_due_ms(a->ob, now);
        a->next_resend_ms = due > now ? due : now + resend_check_ms(a);
    }
    if (now >= a->next_health_ms) {
        om_agent_publish_health(a);
        a->next_health_ms = now + (int64_t)a->setup.cfg.intervals.health_s * 1000;
    }
    if (now >= a->next_quota_ms) {
        om_agent_enforce_quota(a);
        a->next_quota_ms = now + QUOTA_CHECK_MS;
#ifdef __GLIBC__
        /* Health messages, batches and SQLite leave free chunks in the
         * middle of the heap; hand their pages back once a minute so that
         * a gateway's resident memory stays flat for months. */
        malloc_trim(0);
#endif
    }
    if (a->watchdog_ms > 0 && now >= a->next_watchdog_ms) {
        om_notify_watchdog();
        a->next_watchdog_ms = now + a->watchdog_ms;
    }
    /* Sleep until the next thing to do; a poll, a PUBACK, a message, a
     * (re)connection or a signal wakes the loop early. */
    int64_t next = a->next_resend_ms;
    if (a->watchdog_ms > 0 && a->next_watchdog_ms < next)
        next = a->next_watchdog_ms;
    if (a->next_health_ms < next)
        next = a->next_health_ms;
    if (a->next_quota_ms < next)
        next = a->next_quota_ms;
    if (__atomic_load_n(&a->polls_event, __ATOMIC_ACQUIRE))
        next = now; /* a cycle ended while this turn ran */
    if (a->publish_pending)
        next = now + PUBLISH_RETRY_MS;
    int64_t wait = next - om_mono_ms();
    if (wait > (int64_t)wait_ms)
        wait = wait_ms;
    if (wait < 0)
        wait = 0;
    om_wake_wait(&a->wake, (int)wait);
    om_mqtt_message msg;
    while (om_mqtt_recv(a->mq, &msg, 0) == 1) {
        om_agent_handle_message(a, &msg);
        om_mqtt_message_free(&msg);
    }
}

void om_agent_wake(om_agent *a)
{
    om_wake_signal(&a->wake);
}

void om_agent_notify_ready(om_agent *a)
{
    char status[160];
    snprintf(status, sizeof status, "polling %zu meters on %zu buses; broker %s", a->setup.nmeters,
             a->nworkers, om_mqtt_is_connected(a->mq) ? "connected" : "unreachable, buffering");
    om_notify_ready(status);
}

void om_agent_run(om_agent *a, volatile sig_atomic_t *term, volatile sig_atomic_t *hup)
{
    a->next_health_ms = om_mono_ms();
    /* systemd's watchdog: ping at a quarter of the period, so that a loop
     * busy with a slow SQLite commit or a reload still makes it in time. */
    a->watchdog_ms = (int64_t)(om_notify_watchdog_usec() / 4000);
    while (!*term) {
        if (*hup) {
            *hup = 0;
            om_notify_reloading();
            agent_reload(a);
            om_agent_notify_ready(a);
        }
        loop_once(a, LOOP_WAIT_MS);
    }
}

/* ---- --once ---------------------------------------------------------------- */

typedef struct {
    om_bus_worker *w;
    int64_t tick;
    pthread_t thread;
} once_job;

static void *once_main(void *arg)
{
    once_job *j = arg;
    om_bus_worker_cycle(j->w, j->tick, true, true, true);
    return NULL;
}

static bool all_acked(om_agent *a, int64_t last_seq)
{
    om_outbox_depth_info d;
    if (om_outbox_depth(a->ob, &d) < 0)
        return false;
    return d.acked_upto >= last_seq || d.polls == 0;
}

int om_agent_once(om_agent *a, unsigned ack_timeout_ms, char *err, size_t errlen)
{
    a->workers = make_workers(a, &a->nworkers, err, errlen);
    if (!a->workers)
        return 1;
    /* Every bus at once, as the daemon would: one thread each. */
    once_job *jobs = calloc(a->nworkers ? a->nworkers : 1, sizeof *jobs);
    int64_t tick = om_clock_wall_ms();
    for (size_t i = 0; jobs && i < a->nworkers; i++) {
        jobs[i].w = a->workers[i];
        jobs[i].tick = tick;
        if (pthread_create(&jobs[i].thread, NULL, once_main, &jobs[i]) != 0) {
            once_main(&jobs[i]); /* no thread: poll this bus here */
            jobs[i].w = NULL;
        }
    }
    for (size_t i = 0; jobs && i < a->nworkers; i++)
        if (jobs[i].w)
            pthread_join(jobs[i].thread, NULL);
    free(jobs);

    size_t answered = 0;
    for (size_t w = 0; w < a->nworkers; w++)
        for (size_t i = 0; i < om_bus_worker_meters(a->workers[w]); i++) {
            om_meter_counters c;
            om_bus_worker_meter_snapshot(a->workers[w], i, NULL, &c, NULL);
            answered += c.polls > 0;
        }
    size_t stored = om_agent_store_polls(a);
    om_outbox_depth_info d;
    if (om_outbox_depth(a->ob, &d) < 0) {
        snprintf(err, errlen, "%s", om_outbox_errmsg(a->ob));
        return 1;
    }
    int64_t last_seq = d.next_seq - 1;
    om_log(OM_LOG_INFO, "%zu of %zu meters answered; %zu polls stored, %" PRIu64
           " held in the outbox", answered, a->setup.nmeters, stored, d.polls);
    if (d.polls == 0) {
        if (stored == 0 && a->n.polls_unstamped == 0 && a->setup.nmeters > 0) {
            snprintf(err, errlen, "no meter answered; nothing to publish");
            return 1;
        }
        if (a->n.polls_unstamped > 0) {
            snprintf(err, errlen, "the clock is before this program's build date: readings "
                     "were not stamped or stored");
            return 1;
        }
        return 0;
    }
    int64_t deadline = om_mono_ms() + ack_timeout_ms;
    a->publish_pending = true;
    while (om_mono_ms() < deadline) {
        loop_once(a, 50);
        if (all_acked(a, last_seq)) {
            om_log(OM_LOG_INFO, "acknowledged up to seq %" PRId64, last_seq);
            return 0;
        }
    }
    om_outbox_depth(a->ob, &d);
    snprintf(err, errlen,
             "no acknowledgement up to seq %" PRId64 " within %u ms (acknowledged up to %" PRId64
             "); %" PRIu64 " polls stay in the outbox",
             last_seq, ack_timeout_ms, d.acked_upto, d.polls);
    return 3;
}

/* ---- reload ------------------------------------------------------------------ */

static bool same_str(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static bool same_uris(const om_broker_config *a, const om_broker_config *b)
{
    if (a->nuris != b->nuris)
        return false;
    for (size_t i = 0; i < a->nuris; i++)
        if (!same_str(a->uris[i], b->uris[i]))
            return false;
    return true;
}

static bool same_broker(const om_agent_setup *x, const om_agent_setup *y)
{
    const om_broker_config *a = &x->cfg.broker, *b = &y->cfg.broker;
    return same_str(a->uri, b->uri) && same_uris(a, b) && same_str(a->client_id, b->client_id) &&
           same_str(x->username, y->username) && same_str(x->password, y->password) &&
           same_str(a->tls.ca_file, b->tls.ca_file) &&
           same_str(a->tls.cert_file, b->tls.cert_file) &&
           same_str(a->tls.key_file, b->tls.key_file) && a->tls.verify == b->tls.verify &&
           same_str(x->site.site, y->site.site) && same_str(x->gateway->id, y->gateway->id) &&
           x->cfg.delivery.reconnect_min_ms == y->cfg.delivery.reconnect_min_ms &&
           x->cfg.delivery.reconnect_max_s == y->cfg.delivery.reconnect_max_s &&
           x->cfg.delivery.max_inflight == y->cfg.delivery.max_inflight;
}

static int agent_reload(om_agent *a)
{
    om_log(OM_LOG_INFO, "reloading %s", a->opts.config_path);
    om_diag diag;
    om_diag_init(&diag);
    om_agent_setup next;
    om_agent_setup_options so = {.overrides = a->opts.overrides,
                                 .noverrides = a->opts.noverrides,
                                 .credentials = true};
    if (om_agent_setup_load(a->opts.config_path, &so, &next, &diag) < 0) {
        for (size_t i = 0; i < diag.count; i++)
            om_log(OM_LOG_ERROR, "%s", diag.messages[i]);
        om_log(OM_LOG_ERROR, "reload refused: %zu error(s) in the new configuration; the "
               "running one is kept", om_diag_count(&diag));
        om_diag_free(&diag);
        om_agent_setup_free(&next);
        return -1;
    }
    om_diag_free(&diag);

    /* Everything that can fail is prepared before the running configuration
     * is touched, so a refusal leaves the agent exactly as it was. */
    char err[512];
    topic_set topics;
    if (make_topics(&next, &topics) < 0) {
        om_log(OM_LOG_ERROR, "reload refused: site or gateway id too long for an MQTT topic");
        om_agent_setup_free(&next);
        return -1;
    }
    om_outbox *ob = NULL;
    if (strcmp(next.cfg.outbox, a->setup.cfg.outbox) != 0) {
        ob = om_outbox_open(next.cfg.outbox, err, sizeof err);
        if (!ob) {
            om_log(OM_LOG_ERROR, "reload refused: %s; the running configuration is kept", err);
            om_agent_setup_free(&next);
            return -1;
        }
    }
    om_mqtt *mq = NULL;
    if (!same_broker(&a->setup, &next)) {
        mq = make_mqtt(a, &next, &topics, err, sizeof err);
        if (!mq) {
            om_log(OM_LOG_ERROR, "reload refused: %s; the running configuration is kept", err);
            om_outbox_close(ob);
            om_agent_setup_free(&next);
            return -1;
        }
    }

    /* Workers reference the old site: stop them (each finishes its current
     * poll) and store what they produced before the swap. */
    agent_stop_workers(a);
    om_agent_store_polls(a);
    /* The old connection says goodbye on the old topics; it is stopped
     * (which may take seconds) only once the new workers poll again. */
    om_mqtt *old_mq = NULL;
    if (mq) {
        om_agent_publish_offline(a);
        old_mq = a->mq;
        a->mq = mq;
    }
    free_workers(a, a->workers, a->nworkers);
    a->workers = NULL;
    a->nworkers = 0;
    if (ob) {
        om_outbox_close(a->ob);
        a->ob = ob;
    }
    om_agent_setup_free(&a->setup);
    a->setup = next;
    use_topics(a, &topics);
    om_outbox_set_resend_ms(a->ob, (int64_t)a->setup.cfg.delivery.resend_after_s * 1000);
    apply_log_level(a);
    if (om_agent_start_workers(a, err, sizeof err) < 0)
        om_log(OM_LOG_ERROR, "after reload: %s", err);
    if (mq) {
        om_mqtt_stop(old_mq, 2000);
        if (om_mqtt_start(a->mq) < 0)
            om_log(OM_LOG_ERROR, "after reload: cannot start the MQTT connection");
        warn_insecure(a);
    }
    /* Freed last: with the new client connecting, paho keeps its threads
     * instead of stopping them (up to a second or two, their timer slack
     * included) while the workers wait to be started. */
    om_mqtt_free(old_mq);
    om_log(OM_LOG_INFO, "configuration reloaded");
    return 0;
}

/* ---- end ------------------------------------------------------------------------ */

void om_agent_shutdown(om_agent *a)
{
    agent_stop_workers(a);
    if (!a->ob)
        return;
    om_agent_store_polls(a);
    if (a->held.n > 0) {
        a->n.polls_lost += a->held.n;
        om_log(OM_LOG_ERROR, "stopping with %zu polls held in memory that the outbox could "
               "not store: they are lost", a->held.n);
        om_held_polls_clear(&a->held);
    }
    if (a->mq && om_mqtt_is_connected(a->mq)) {
        /* Flush: what is due goes out, and for a moment the acknowledgement
         * is awaited, so that a clean stop leaves little to resend. */
        om_outbox_depth_info d;
        int64_t last = om_outbox_depth(a->ob, &d) == 0 ? d.next_seq - 1 : 0;
        int64_t deadline = om_mono_ms() + SHUTDOWN_FLUSH_MS;
        a->publish_pending = true;
        while (om_mono_ms() < deadline) {
            if (a->publish_pending)
                om_agent_publish_due(a);
            if (!a->publish_pending && all_acked(a, last))
                break;
            om_mqtt_message msg;
            if (om_mqtt_recv(a->mq, &msg, 20) == 1) {
                om_agent_handle_message(a, &msg);
                om_mqtt_message_free(&msg);
            }
        }
        om_agent_publish_health(a);
        om_agent_publish_offline(a);
    }
    if (a->mq)
        om_mqtt_stop(a->mq, 2000);
}

void om_agent_free(om_agent *a)
{
    if (!a)
        return;
    free_workers(a, a->workers, a->nworkers);
    a->workers = NULL;
    om_mqtt_free(a->mq);
    om_outbox_close(a->ob);
    om_agent_setup_free(&a->setup);
    om_pollq_destroy(&a->q);
    om_held_polls_free(&a->held);
    om_batch_free(&a->batch);
    free(a->buf);
    om_wake_close(&a->wake);
    memset(a, 0, sizeof *a);
    a->wake.fd = -1;
}
