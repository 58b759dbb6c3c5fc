/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aggregator.c - the daemon's main loop.
 *
 *   paho threads ──▶ om_mqtt inbox ──▶ main loop: judge ──▶ group ──▶ commit ──▶ acks
 *
 * One thread owns the database. A group is committed when its oldest
 * message has waited commit_interval_ms, when it holds commit_max_readings,
 * before a site reload and before exit. The loop never waits longer than
 * WAKE_MS in the inbox, so a signal's flag is seen promptly.
 *
 * The MQTT session is persistent (clean_session false, a fixed client id):
 * while the aggregator is down the broker queues QoS 1 readings for it.
 * What the broker loses (a restart without persistence) the gateways send
 * again, because only a commit is acknowledged.
 *
 * With broker.shared_group, several aggregators share the readings (MQTT 5
 * $share/NAME/...), each message going to one of them. Then the session is
 * not persistent (clean start, expiry 0): a broker keeps queueing a shared
 * subscription's messages for a member whose session outlives it, so a
 * dead member would hold them until it came back. Without a session, what
 * was in flight to it is dropped, and its gateways send it again to a
 * member that is alive (docs/aggregator.md, "Several aggregators").
 */
#include "aggregator.h"
#include "officemeter/base/array.h"
#include "officemeter/base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agg_group.h"
#include "agg_hold.h"
#include "officemeter/proto/ack.h"
#include "officemeter/store/store.h"
#include "officemeter/daemon/log.h"
#include "officemeter/daemon/notify.h"
#include "officemeter/metrics/metrics.h"
#include "officemeter/mqtt/mqtt.h"

#define WAKE_MS 100
#define STATS_EVERY_MS 60000
#define IDLE_CHECKPOINT_MS 2000
/* Received messages held by the MQTT layer before they are judged. */
#define INBOX_CAPACITY 16384

typedef struct {
    char site[OM_ID_MAX];
    char gateway[OM_ID_MAX];
    om_ack ack;
} pending_ack;

struct om_aggregator {
    const om_agg_config *cfg;
    /* The sites messages are judged against, on paho's receiving thread
     * (judge_on_receive): replaced under judge_lock by a reload, which also
     * moves `generation` on so that messages judged before it are judged
     * again when they are taken. */
    pthread_mutex_t judge_lock;
    unsigned generation;
    om_agg_sites sites;
    om_store *store;
    om_mqtt *mqtt;
    agg_group *group;
    agg_counts counts, logged;
    uint64_t acks_sent, acks_failed;
    int64_t deadline; /* monotonic ms: when the group must be committed */
    pending_ack *acks; /* of the last commit, published after it */
    size_t nacks, acks_cap;
    agg_hold hold;     /* storing, or held while the database cannot be written */
    bool low_space;    /* less than OM_STORE_LOG_ROOM free: checkpoint every commit */
    /* metrics_listen (docs/web.md, "Metrics"): a copy of the counts and the
     * commit latencies, under mlock, for the server's thread. */
    om_metrics_server *metrics;
    pthread_mutex_t mlock;
    agg_counts m_counts;
    uint64_t m_acks_sent, m_acks_failed;
    om_histogram m_commit;
};

static void log_diag(const om_diag *d)
{
    for (size_t i = 0; i < d->count; i++)
        om_log(OM_LOG_ERROR, "%s", d->messages[i]);
}

static int load_sites(const om_agg_config *cfg, om_agg_sites *out)
{
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_agg_sites_load(cfg, out, &diag);
    if (rc < 0)
        log_diag(&diag);
    om_diag_free(&diag);
    return rc;
}

/* ---- the broker connection (callbacks on paho's threads: log only) ------- */

/* Monotonic ms when the connection was lost; 0 while connected or before
 * the first connection. Written and read by paho's threads only. */
static int64_t lost_at_ms;

static void on_connected(void *ctx, unsigned count)
{
    const om_agg_config *cfg = ((const om_aggregator *)ctx)->cfg;
    int64_t since = __atomic_exchange_n(&lost_at_ms, 0, __ATOMIC_ACQ_REL);
    if (count > 1 && since > 0)
        om_log(OM_LOG_INFO, "reconnected to %s after %.1f s without it; acknowledging again",
               cfg->broker.uri, (double)(om_mono_ms() - since) / 1000.0);
    else if (count > 1)
        om_log(OM_LOG_INFO, "reconnected to %s", cfg->broker.uri);
    om_log_recovered("mqtt connect", OM_LOG_INFO, "broker %s reachable again", cfg->broker.uri);
}

static void on_lost(void *ctx, const char *why)
{
    const om_agg_config *cfg = ((const om_aggregator *)ctx)->cfg;
    __atomic_store_n(&lost_at_ms, om_mono_ms(), __ATOMIC_RELEASE);
    om_log(OM_LOG_WARNING, "connection to %s lost (%s): reconnecting within %u ms to %u s; "
           "nothing is acknowledged meanwhile (the gateways keep their polls)",
           cfg->broker.uri, why, cfg->reconnect_min_ms, cfg->reconnect_max_s);
}

static void on_connect_failed(void *ctx, const char *why, unsigned retry_ms)
{
    const om_agg_config *cfg = ((const om_aggregator *)ctx)->cfg;
    om_log_limited("mqtt connect", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                   "cannot connect to %s: %s (retrying in %u ms, then at most every %u s)",
                   cfg->broker.uri, why, retry_ms, cfg->reconnect_max_s);
}

/* ---- judging on the receiving thread ---------------------------------------------
 *
 * Messages are judged as paho receives them (om_mqtt_callbacks.prepare),
 * while the main thread writes and commits the previous group: parsing and
 * checking overlap with SQLite's or PostgreSQL's work instead of waiting
 * for it. */
typedef struct {
    agg_judged *judged;
    unsigned generation;
} prejudged;

static om_ingest_rules rules_now(const om_aggregator *a)
{
    return (om_ingest_rules){
        .now_ms = om_wall_ms(),
        .future_tolerance_ms = (int64_t)a->cfg->future_tolerance_s * 1000,
        .max_bytes = a->cfg->max_payload_bytes,
        .sites = a->sites.sites,
        .nsites = a->sites.nsites,
    };
}

static void *judge_on_receive(void *ctx, const char *topic, const void *payload, size_t len)
{
    om_aggregator *a = ctx;
    prejudged *p = malloc(sizeof *p);
    if (!p)
        return NULL; /* judged on the main thread instead */
    pthread_mutex_lock(&a->judge_lock);
    om_ingest_rules rules = rules_now(a);
    p->generation = a->generation;
    p->judged = agg_judge(&rules, topic, payload, len, rules.now_ms);
    pthread_mutex_unlock(&a->judge_lock);
    if (!p->judged) {
        free(p);
        return NULL;
    }
    return p;
}

static void discard_judged(void *ctx, void *prepared)
{
    (void)ctx;
    prejudged *p = prepared;
    agg_judged_free(p->judged);
    free(p);
}

static om_mqtt *make_client(om_aggregator *a)
{
    const om_agg_config *cfg = a->cfg;
    const om_broker_config *b = &cfg->broker;
    char err[512];
    char *user = NULL, *pass = NULL;
    if (b->credentials_file &&
        om_mqtt_read_credentials(b->credentials_file, &user, &pass, err, sizeof err) < 0) {
        om_log(OM_LOG_ERROR, "%s", err);
        return NULL;
    }
    if (!b->use_tls && !b->loopback && b->insecure)
        om_log(OM_LOG_WARNING, "broker %s: plain MQTT to another machine (insecure: true): "
               "readings and credentials travel in clear text", b->uri);
    om_mqtt_options o;
    om_mqtt_options_init(&o);
    o.uri = b->uri;
    o.uris = (const char *const *)b->uris;
    o.nuris = b->nuris;
    o.client_id = b->client_id;
    o.username = user;
    o.password = pass;
    o.ca_file = b->tls.ca_file;
    o.cert_file = b->tls.cert_file;
    o.key_file = b->tls.key_file;
    o.verify = b->tls.verify;
    o.clean_session = b->shared_group != NULL; /* see the top of this file */
    o.mqtt_version = b->shared_group ? 5 : 0;
    o.max_inflight = 1024; /* one acknowledgement per gateway per commit */
    o.inbox_capacity = INBOX_CAPACITY;
    o.min_retry_ms = cfg->reconnect_min_ms;
    o.max_retry_ms = cfg->reconnect_max_s * 1000u;
    om_mqtt_callbacks cb = {.ctx = a,
                            .connected = on_connected,
                            .lost = on_lost,
                            .connect_failed = on_connect_failed,
                            .prepare = judge_on_receive,
                            .discard = discard_judged};
    om_mqtt *m = om_mqtt_new(&o, &cb, err, sizeof err);
    if (pass)
        memset(pass, 0, strlen(pass));
    free(user);
    free(pass);
    if (!m)
        om_log(OM_LOG_ERROR, "broker %s: %s", b->uri, err);
    return m;
}

om_aggregator *om_aggregator_new(const om_agg_config *cfg)
{
    om_aggregator *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = cfg;
    pthread_mutex_init(&a->judge_lock, NULL);
    char err[1024];
    if (load_sites(cfg, &a->sites) < 0)
        goto fail;
    a->store = om_store_open(cfg->database, OM_STORE_CREATE, err, sizeof err);
    if (!a->store) {
        om_log(OM_LOG_ERROR, "%s", err);
        goto fail;
    }
    om_store_set_rejects_keep(a->store, cfg->rejects_keep);
    agg_hold_init(&a->hold, cfg->database);
    a->group = agg_group_new();
    if (!a->group || !(a->mqtt = make_client(a)))
        goto fail;
    agg_group_set_gap_close(a->group, (int64_t)cfg->gap_close_s * 1000);
    pthread_mutex_init(&a->mlock, NULL);
    return a;
fail:
    om_aggregator_free(a);
    return NULL;
}

void om_aggregator_free(om_aggregator *a)
{
    if (!a)
        return;
    om_metrics_server_stop(a->metrics);
    om_mqtt_free(a->mqtt);
    agg_group_free(a->group);
    free(a->acks);
    agg_hold_free(&a->hold);
    om_store_close(a->store);
    om_agg_sites_free(&a->sites);
    pthread_mutex_destroy(&a->judge_lock);
    free(a);
}

/* ---- acknowledgements -------------------------------------------------------- */

static void publish_ack(om_aggregator *a, const pending_ack *p)
{
    char topic[OM_TOPIC_MAX], payload[OM_ACK_MAX];
    int n = om_ack_encode(&p->ack, payload, sizeof payload);
    if (n < 0 || om_topic_format(topic, sizeof topic, p->site, p->gateway, OM_TOPIC_ACK) < 0)
        return;
    if (om_mqtt_publish(a->mqtt, topic, payload, (size_t)n, 1, false, NULL) == 0) {
        a->acks_sent++;
        om_log(OM_LOG_DEBUG, "ack %s/%s epoch %s upto %" PRId64, p->site, p->gateway,
               p->ack.epoch, p->ack.upto);
        return;
    }
    /* The gateway sends the polls again, and they are acknowledged then. */
    char why[256];
    om_mqtt_errmsg(a->mqtt, why, sizeof why);
    a->acks_failed++;
    om_log_limited("ack publish", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                   "acknowledgement to %s/%s not sent: %s", p->site, p->gateway, why);
}

/* agg_group_commit's callback: acknowledgements are collected during the
 * commit and published after it (flush_acks). */
static void queue_ack(void *ctx, const char *site, const char *gateway, const char *epoch,
                      int64_t upto)
{
    om_aggregator *a = ctx;
    pending_ack *grown = om_grow(a->acks, &a->acks_cap, a->nacks, sizeof *grown);
    if (!grown)
        return; /* not acknowledged now: the gateway resends, and is acknowledged then */
    a->acks = grown;
    pending_ack *p = &a->acks[a->nacks++];
    snprintf(p->site, sizeof p->site, "%s", site);
    snprintf(p->gateway, sizeof p->gateway, "%s", gateway);
    snprintf(p->ack.epoch, sizeof p->ack.epoch, "%s", epoch);
    p->ack.upto = upto;
}

/* ---- the loop ------------------------------------------------------------------ */

static void take(om_aggregator *a, om_mqtt_message *msg)
{
    if (a->hold.held && (agg_group_messages(a->group) >= AGG_HOLD_MAX_MESSAGES ||
                         agg_group_bytes(a->group) >= AGG_HOLD_MAX_BYTES ||
                         agg_group_readings(a->group) >= a->cfg->commit_max_readings)) {
        if (msg->prepared)
            discard_judged(a, msg->prepared);
        msg->prepared = NULL;
        agg_hold_leave(&a->hold); /* not acknowledged: its gateway sends it again */
        return;
    }
    if (agg_group_messages(a->group) == 0)
        a->deadline = om_mono_ms() + a->cfg->commit_interval_ms;
    prejudged *p = msg->prepared;
    msg->prepared = NULL;
    if (p && p->generation == a->generation) { /* judged as it came, with these sites */
        int rc = agg_group_hold(a->group, p->judged);
        free(p);
        if (rc == 0)
            return;
        om_log_limited("memory", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                       "out of memory: a message on %s was dropped (the gateway sends it again)",
                       msg->topic);
        return;
    }
    if (p)
        discard_judged(a, p); /* judged before a reload: again, with the new sites */
    om_ingest_rules rules = rules_now(a);
    if (agg_group_add(a->group, &rules, msg->topic, msg->payload, msg->len, rules.now_ms) < 0)
        om_log_limited("memory", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                       "out of memory: a message on %s was dropped (the gateway sends it again)",
                       msg->topic);
}

/* Moves every message waiting in the MQTT inbox into the group. */
static void drain_inbox(om_aggregator *a)
{
    om_mqtt_message msg;
    while (om_mqtt_recv(a->mqtt, &msg, 0) == 1) {
        take(a, &msg);
        om_mqtt_message_free(&msg);
    }
}

/* Publishing takes paho's lock, which paho's receive thread holds while it
 * waits for room in a full inbox; so the inbox is emptied (into the next
 * group) right before each publish, and a publish never waits on a
 * receive thread that waits on this thread. */
static void flush_acks(om_aggregator *a)
{
    for (size_t i = 0; i < a->nacks; i++) {
        drain_inbox(a);
        publish_ack(a, &a->acks[i]);
    }
    a->nacks = 0;
}

/* With less free space than the write-ahead log may grow to, a passive
 * checkpoint after every commit: the log is then reused from its start
 * instead of growing into the last free space (which would leave the
 * checkpoint itself no room, and every write failing). */
static void mind_space(om_aggregator *a)
{
    int64_t free_bytes = om_store_disk_free(a->store);
    bool low = free_bytes >= 0 && free_bytes < OM_STORE_LOG_ROOM;
    if (low && !a->low_space)
        om_log(OM_LOG_WARNING, "only %.1f MiB free on the disk of %s: checkpointing after every "
               "commit, so that the write-ahead log stays small", free_bytes / 1048576.0,
               a->cfg->database);
    else if (!low && a->low_space)
        om_log(OM_LOG_INFO, "%.1f MiB free on the disk of %s again: checkpointing as usual",
               free_bytes / 1048576.0, a->cfg->database);
    a->low_space = low;
    if (low)
        om_store_checkpoint(a->store);
}

/* Commits the group and publishes its acknowledgements. When the database
 * cannot be written, the group is held (agg_hold.h) and tried again by
 * retry_held; the first commit that goes through ends the hold. */
static void commit(om_aggregator *a)
{
    size_t before = agg_group_messages(a->group);
    if (before == 0)
        return;
    int64_t t0 = om_mono_us();
    int rc = agg_group_commit(a->group, a->store, queue_ack, a, &a->counts);
    double seconds = (double)(om_mono_us() - t0) / 1e6;
    if (rc == AGG_COMMIT_UNAVAILABLE) {
        if (a->hold.held)
            agg_hold_still(&a->hold, agg_group_messages(a->group), om_store_errmsg(a->store));
        else
            agg_hold_begin(&a->hold, om_store_errmsg(a->store), agg_group_messages(a->group));
    } else {
        agg_hold_end(&a->hold, before);
        mind_space(a);
    }
    flush_acks(a);
    pthread_mutex_lock(&a->mlock);
    om_histogram_observe(&a->m_commit, seconds);
    a->m_counts = a->counts;
    a->m_acks_sent = a->acks_sent;
    a->m_acks_failed = a->acks_failed;
    pthread_mutex_unlock(&a->mlock);
}

/* /metrics of metrics_listen: what only this process knows. The database's
 * figures (readings, rejects by code, gateways) are officemeter-web's. */
static int fill_metrics(void *user, FILE *out)
{
    om_aggregator *a = user;
    pthread_mutex_lock(&a->mlock);
    agg_counts c = a->m_counts;
    uint64_t sent = a->m_acks_sent, failed = a->m_acks_failed;
    om_histogram h = a->m_commit;
    pthread_mutex_unlock(&a->mlock);
    om_prom_head(out, "officemeter_build_info", "gauge", "The program's version, always 1.");
    fprintf(out, "officemeter_build_info{program=\"officemeter-aggregator\",version=\"%s\"} 1\n",
            OM_VERSION);
    om_prom_histogram(out, "officemeter_aggregator_commit_duration_seconds",
                      "Time to write and commit one group (fsync included).", &h);
    const struct {
        const char *name, *help;
        uint64_t v;
    } counters[] = {
        {"officemeter_aggregator_messages_total", "Messages committed, of any kind.", c.messages},
        {"officemeter_aggregator_polls_total", "Polls stored.", c.polls},
        {"officemeter_aggregator_readings_total", "New readings stored.", c.readings},
        {"officemeter_aggregator_duplicates_total", "Readings received again, same value.",
         c.duplicates},
        {"officemeter_aggregator_conflicts_total", "Readings received again, another value.",
         c.conflicts},
        {"officemeter_aggregator_quarantined_total", "Polls quarantined (meter not declared).",
         c.quarantined},
        {"officemeter_aggregator_polls_rejected_total", "Polls refused inside sound messages.",
         c.polls_rejected},
        {"officemeter_aggregator_messages_rejected_total", "Whole messages refused.",
         c.messages_rejected},
        {"officemeter_aggregator_dropped_total", "Messages that could not be written.",
         c.dropped},
        {"officemeter_aggregator_commits_total", "Groups committed.", c.groups},
        {"officemeter_aggregator_acks_total", "Acknowledgements published.", sent},
        {"officemeter_aggregator_acks_failed_total", "Acknowledgements not published.", failed},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        om_prom_head(out, counters[i].name, "counter", counters[i].help);
        fprintf(out, "%s %llu\n", counters[i].name, (unsigned long long)counters[i].v);
    }
    return ferror(out) ? -1 : 0;
}

/* Held: first the checkpoint that moves the whole log into the database
 * and truncates the log file (the space a full disk needs back: otherwise
 * every write appends to a log that can never be reused), then the group. */
static void retry_held(om_aggregator *a)
{
    om_store_checkpoint_truncate(a->store);
    if (agg_group_messages(a->group) > 0) {
        commit(a);
    } else if (!om_store_unavailable(a->store)) {
        agg_hold_end(&a->hold, 0);
    }
}

static void log_counts(om_aggregator *a)
{
    agg_counts *c = &a->counts, *l = &a->logged;
    if (c->messages == l->messages && c->dropped == l->dropped)
        return;
    om_log(OM_LOG_INFO,
           "%" PRIu64 " messages: %" PRIu64 " polls, %" PRIu64 " new readings, %" PRIu64
           " duplicates, %" PRIu64 " conflicts, %" PRIu64 " quarantined, %" PRIu64
           " polls and %" PRIu64 " messages rejected, %" PRIu64 " dropped; %" PRIu64
           " commits, %" PRIu64 " acks",
           c->messages - l->messages, c->polls - l->polls, c->readings - l->readings,
           c->duplicates - l->duplicates, c->conflicts - l->conflicts,
           c->quarantined - l->quarantined, c->polls_rejected - l->polls_rejected,
           c->messages_rejected - l->messages_rejected, c->dropped - l->dropped,
           c->groups - l->groups, a->acks_sent);
    *l = *c;
}

/* systemd (daemon/notify.h): READY/RELOADING/STOPPING, and WATCHDOG=1
 * from the main loop at half the watchdog period, so only a wedged loop
 * gets restarted. A failed send is logged once: systemd's concern, not a
 * reason to stop storing readings. */
static void notify(const char *state)
{
    static bool failed;
    if (om_notify(state) < 0 && !failed) {
        failed = true;
        om_log(OM_LOG_WARNING, "systemd notification \"%s\" not sent: %s (NOTIFY_SOCKET=%s)",
               state, strerror(errno), getenv("NOTIFY_SOCKET"));
    }
}

static int64_t watchdog_period_ms(void)
{
    uint64_t usec = om_notify_watchdog_usec();
    if (usec == 0)
        return 0;
    return (int64_t)(usec / 2000) > 0 ? (int64_t)(usec / 2000) : 1;
}

static void reload(om_aggregator *a)
{
    notify("RELOADING=1");
    commit(a);
    om_agg_sites fresh;
    if (load_sites(a->cfg, &fresh) < 0) {
        om_log(OM_LOG_ERROR, "site files not reloaded: the errors above must be fixed first; "
               "still using the %zu sites loaded before", a->sites.nsites);
        om_agg_sites_free(&fresh);
        notify("READY=1");
        return;
    }
    pthread_mutex_lock(&a->judge_lock);
    om_agg_sites_free(&a->sites);
    a->sites = fresh;
    a->generation++;
    pthread_mutex_unlock(&a->judge_lock);
    om_log(OM_LOG_INFO, "reloaded %zu site files from %s", a->sites.nsites, a->cfg->sites_dir);
    notify("READY=1");
}

static void write_ready(const char *path)
{
    if (!path)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
        om_log(OM_LOG_WARNING, "cannot write %s: %s", path, strerror(errno));
}

static int subscribe(om_aggregator *a)
{
    static const om_topic_kind kinds[] = {OM_TOPIC_READINGS, OM_TOPIC_STATUS, OM_TOPIC_HEALTH};
    const char *group = a->cfg->broker.shared_group;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char topics[OM_TOPIC_MAX], filter[OM_TOPIC_MAX + 80];
        om_topic_filter(topics, sizeof topics, kinds[i]);
        if (group)
            snprintf(filter, sizeof filter, "$share/%s/%s", group, topics);
        else
            snprintf(filter, sizeof filter, "%s", topics);
        if (om_mqtt_subscribe(a->mqtt, filter, 1) < 0) {
            char why[256];
            om_mqtt_errmsg(a->mqtt, why, sizeof why);
            om_log(OM_LOG_WARNING, "subscribe %s: %s (retried at the next connect)", filter, why);
        }
    }
    return 0;
}

int om_aggregator_run(om_aggregator *a, om_aggregator_signals *sig, const char *ready_file)
{
    subscribe(a);
    if (om_mqtt_start(a->mqtt) < 0) {
        char why[256];
        om_mqtt_errmsg(a->mqtt, why, sizeof why);
        om_log(OM_LOG_ERROR, "broker %s: %s", a->cfg->broker.uri, why);
        return -1;
    }
    char err[256];
    if (a->cfg->metrics_listen) {
        a->metrics = om_metrics_server_start(a->cfg->metrics_listen, fill_metrics, a, err,
                                             sizeof err);
        if (!a->metrics) {
            om_log(OM_LOG_ERROR, "%s", err);
            return -1;
        }
        om_log(OM_LOG_INFO, "metrics on http://%s/metrics", a->cfg->metrics_listen);
    }
    if (om_mqtt_wait_connected(a->mqtt, 5000, err, sizeof err) < 0)
        om_log(OM_LOG_WARNING, "broker %s: %s (still trying)", a->cfg->broker.uri, err);
    om_log(OM_LOG_INFO, "ingesting into %s for %zu sites from %s", a->cfg->database,
           a->sites.nsites, a->cfg->sites_dir);
    write_ready(ready_file);
    notify("READY=1");
    int64_t watchdog_ms = watchdog_period_ms(), next_ping = om_mono_ms() + watchdog_ms;
    int64_t next_stats = om_mono_ms() + STATS_EVERY_MS, last_commit = 0;
    bool checkpointed = true;
    while (!sig->stop) {
        if (sig->reload) {
            sig->reload = 0;
            reload(a);
        }
        int64_t now = om_mono_ms();
        bool holding = agg_group_messages(a->group) > 0 && !a->hold.held;
        unsigned wait = WAKE_MS;
        if (holding)
            wait = a->deadline > now ? (unsigned)(a->deadline - now < WAKE_MS ? a->deadline - now
                                                                                : WAKE_MS)
                                     : 0;
        om_mqtt_message msg;
        int got = om_mqtt_recv(a->mqtt, &msg, wait);
        if (got == 1) {
            take(a, &msg);
            om_mqtt_message_free(&msg);
        } else if (got < 0) {
            break;
        }
        now = om_mono_ms();
        if (a->hold.held) {
            if (agg_hold_retry_due(&a->hold, now))
                retry_held(a);
        } else if (agg_group_messages(a->group) > 0 &&
                   (now >= a->deadline ||
                    agg_group_readings(a->group) >= a->cfg->commit_max_readings)) {
            commit(a);
            last_commit = now;
            checkpointed = false;
        }
        if (!checkpointed && got == 0 && agg_group_messages(a->group) == 0 && !a->hold.held &&
            now - last_commit >= IDLE_CHECKPOINT_MS) {
            om_store_checkpoint(a->store);
            checkpointed = true;
        }
        if (now >= next_stats) {
            log_counts(a);
            next_stats = now + STATS_EVERY_MS;
        }
        if (watchdog_ms && now >= next_ping) {
            notify("WATCHDOG=1");
            next_ping = now + watchdog_ms;
        }
    }
    notify("STOPPING=1");
    /* What arrived before the signal is committed and acknowledged (a few
     * rounds: publishing the acks moves newer messages into the group). */
    for (int round = 0; round < 4; round++) {
        drain_inbox(a);
        if (agg_group_messages(a->group) == 0)
            break;
        commit(a);
        if (a->hold.held)
            break; /* the database cannot be written: nothing more to do */
    }
    agg_hold_stop(&a->hold, agg_group_messages(a->group));
    log_counts(a);
    om_mqtt_stop(a->mqtt, 2000);
    om_log(OM_LOG_INFO, "stopped");
    return 0;
}
