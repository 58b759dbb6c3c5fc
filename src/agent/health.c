/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.c - the retained health message: what a facilities team or the
 * status command needs to see without logging in to the gateway.
 *
 *   {"v":1,"t":...,"uptime_s":...,"version":"0.1.0","clock_ok":true,
 *    "process":{"rss_kb":...,"max_rss_kb":...,"cpu_user_ms":...,"cpu_system_ms":...,"threads":...},
 *    "mqtt":{"connected":true,"connects":2,"lost":1,...},
 *    "outbox":{"epoch":"...","polls":12,"unsent":0,"oldest_t":...,"next_seq":1044,
 *              "acked_upto":1031,"bytes":...,"quota_bytes":...,"appended":...,"acked":...,
 *              "resent":...,"thinned":{"instant_values":0,"instant_polls":0,"counter_polls":0}},
 *    "delivery":{"stored":...,"unstamped":0,"storing":true,"store_failures":0,"held":0,
 *                "lost":0,"messages":...,"polls_sent":...,"acks":...},
 *    "buses":{"rs485-1":{"cycles":...,"overruns":0,"connect_failures":0,"last_cycle_ms":...}},
 *    "meters":{"sh-main":{"bus":"rs485-1","requests":...,"timeouts":...,"crc_errors":...,
 *              "exceptions":...,"last_good":...,"latency_ms":{...},"dropped":{...},
 *              "unsupported":[...],"counters_refused":[...],...}}}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "agent.h"
#include "clock.h"

static json_t *ms_or_null(int64_t ms)
{
    return ms > 0 ? json_integer(ms) : json_null();
}

static json_t *meter_json(const om_bus *bus, const om_meter_counters *c,
                          om_quantity_set unsupported)
{
    json_t *m = json_object();
    json_object_set_new(m, "bus", json_string(bus->id));
    json_object_set_new(m, "requests", json_integer((json_int_t)c->requests));
    json_object_set_new(m, "timeouts", json_integer((json_int_t)c->timeouts));
    json_object_set_new(m, "crc_errors", json_integer((json_int_t)c->crc_errors));
    json_object_set_new(m, "exceptions", json_integer((json_int_t)c->exceptions));
    json_object_set_new(m, "other_errors", json_integer((json_int_t)c->other_errors));
    json_object_set_new(m, "polls", json_integer((json_int_t)c->polls));
    json_object_set_new(m, "partial_polls", json_integer((json_int_t)c->partial_polls));
    json_object_set_new(m, "failed_polls", json_integer((json_int_t)c->failed_polls));
    json_object_set_new(m, "skipped", json_integer((json_int_t)c->skipped));
    json_object_set_new(m, "last_good", ms_or_null(c->last_good_ms));
    json_object_set_new(m, "retry_at", ms_or_null(c->retry_at_ms));
    json_object_set_new(m, "consecutive_failures", json_integer(c->consecutive_failures));
    json_t *lat = json_object();
    json_object_set_new(lat, "last", json_real(c->last_latency_us / 1000.0));
    json_object_set_new(lat, "avg", json_real(c->latency_count ? (double)c->latency_sum_us /
                                                                     (double)c->latency_count /
                                                                     1000.0
                                                               : 0.0));
    json_object_set_new(lat, "max", json_real(c->max_latency_us / 1000.0));
    json_object_set_new(m, "latency_ms", lat);
    json_t *dropped = json_object();
    json_object_set_new(dropped, "not_available", json_integer((json_int_t)c->not_available));
    json_object_set_new(dropped, "not_finite", json_integer((json_int_t)c->not_finite));
    json_object_set_new(dropped, "invalid", json_integer((json_int_t)c->invalid));
    json_object_set_new(m, "dropped", dropped);
    json_object_set_new(m, "splits", json_integer((json_int_t)c->splits));
    json_t *uns = json_array();
    for (int q = 0; q < OM_Q__COUNT; q++)
        if (unsupported & OM_QSET(q))
            json_array_append_new(uns, json_string(om_quantity_get((om_quantity)q)->name));
    json_object_set_new(m, "unsupported", uns);
    /* The counters the annual figures need, refused with exception 2 even
     * alone: asked again with backoff, and flagged until they answer. */
    json_t *refused = json_array();
    for (int q = 0; q < OM_Q__COUNT; q++)
        if (unsupported & om_qset_of_kind(OM_KIND_COUNTER) & OM_QSET(q))
            json_array_append_new(refused, json_string(om_quantity_get((om_quantity)q)->name));
    json_object_set_new(m, "counters_refused", refused);
    json_object_set_new(m, "last_error", c->last_error[0] ? json_string(c->last_error)
                                                          : json_null());
    return m;
}

static json_t *outbox_json(om_agent *a)
{
    json_t *o = json_object();
    om_outbox_depth_info d;
    om_outbox_stats_info s;
    json_object_set_new(o, "epoch", json_string(om_outbox_epoch(a->ob)));
    if (om_outbox_depth(a->ob, &d) == 0) {
        json_object_set_new(o, "polls", json_integer((json_int_t)d.polls));
        json_object_set_new(o, "unsent", json_integer((json_int_t)d.unsent));
        json_object_set_new(o, "oldest_t", ms_or_null(d.oldest_t_ms));
        json_object_set_new(o, "next_seq", json_integer(d.next_seq));
        json_object_set_new(o, "acked_upto", json_integer(d.acked_upto));
        json_object_set_new(o, "bytes", json_integer((json_int_t)d.used_bytes));
    }
    json_object_set_new(o, "quota_bytes",
                        json_integer((json_int_t)a->setup.cfg.outbox_quota_mb * 1024 * 1024));
    if (om_outbox_stats(a->ob, &s) == 0) {
        json_object_set_new(o, "appended", json_integer((json_int_t)s.appended));
        json_object_set_new(o, "acked", json_integer((json_int_t)s.acked));
        json_object_set_new(o, "resent", json_integer((json_int_t)s.resent));
        json_t *t = json_object();
        json_object_set_new(t, "instant_values", json_integer((json_int_t)s.instant_values_dropped));
        json_object_set_new(t, "instant_polls", json_integer((json_int_t)s.instant_polls_dropped));
        json_object_set_new(t, "counter_polls", json_integer((json_int_t)s.counter_polls_thinned));
        json_object_set_new(o, "thinned", t);
    }
    return o;
}

static json_t *delivery_json(om_agent *a)
{
    json_t *d = json_object();
    json_object_set_new(d, "stored", json_integer((json_int_t)a->n.polls_stored));
    json_object_set_new(d, "unstamped", json_integer((json_int_t)a->n.polls_unstamped));
    /* A full disk under the outbox: whether storing works, the polls held
     * in memory meanwhile, and those let go of (heldpolls.h). */
    json_object_set_new(d, "storing", json_boolean(!a->store_failing));
    json_object_set_new(d, "store_failures", json_integer((json_int_t)a->n.store_failures));
    json_object_set_new(d, "held", json_integer((json_int_t)a->held.n));
    json_object_set_new(d, "lost", json_integer((json_int_t)a->n.polls_lost));
    pthread_mutex_lock(&a->q.lock);
    json_object_set_new(d, "queue_dropped", json_integer((json_int_t)a->q.dropped));
    pthread_mutex_unlock(&a->q.lock);
    json_object_set_new(d, "messages", json_integer((json_int_t)a->n.messages_published));
    json_object_set_new(d, "polls_sent", json_integer((json_int_t)a->n.polls_published));
    json_object_set_new(d, "publish_failures", json_integer((json_int_t)a->n.publish_failures));
    json_object_set_new(d, "acks", json_integer((json_int_t)a->n.acks));
    json_object_set_new(d, "acks_other_epoch", json_integer((json_int_t)a->n.acks_other_epoch));
    json_object_set_new(d, "acks_refused", json_integer((json_int_t)a->n.acks_refused));
    return d;
}

static json_t *mqtt_json(om_agent *a)
{
    om_mqtt_stats st;
    om_mqtt_get_stats(a->mq, &st);
    json_t *m = json_object();
    json_object_set_new(m, "connected", json_boolean(st.connected));
    json_object_set_new(m, "connects", json_integer((json_int_t)st.connects));
    json_object_set_new(m, "connect_failures", json_integer((json_int_t)st.connect_failures));
    json_object_set_new(m, "lost", json_integer((json_int_t)st.lost));
    json_object_set_new(m, "inflight", json_integer(st.inflight));
    return m;
}

/* The daemon's own footprint, so that a slow leak or a busy loop shows up
 * on the dashboard before the gateway runs out of memory. */
static json_t *process_json(void)
{
    json_t *p = json_object();
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        json_object_set_new(p, "cpu_user_ms", json_integer((json_int_t)ru.ru_utime.tv_sec * 1000 +
                                                           ru.ru_utime.tv_usec / 1000));
        json_object_set_new(p, "cpu_system_ms", json_integer((json_int_t)ru.ru_stime.tv_sec * 1000 +
                                                             ru.ru_stime.tv_usec / 1000));
        json_object_set_new(p, "max_rss_kb", json_integer(ru.ru_maxrss));
    }
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        long v;
        if (sscanf(line, "VmRSS: %ld", &v) == 1)
            json_object_set_new(p, "rss_kb", json_integer(v));
        else if (sscanf(line, "Threads: %ld", &v) == 1)
            json_object_set_new(p, "threads", json_integer(v));
    }
    if (f)
        fclose(f);
    return p;
}

char *om_agent_health_json(om_agent *a)
{
    json_t *root = json_object();
    int64_t now = om_clock_wall_ms();
    json_object_set_new(root, "v", json_integer(1));
    json_object_set_new(root, "t", json_integer(now));
    json_object_set_new(root, "uptime_s", json_integer((now - a->started_ms) / 1000));
    json_object_set_new(root, "version", json_string(OM_VERSION));
    json_object_set_new(root, "clock_ok",
                        json_boolean(om_clock_plausible(now, om_clock_build_ms())));
    json_object_set_new(root, "process", process_json());
    json_object_set_new(root, "mqtt", mqtt_json(a));
    json_object_set_new(root, "outbox", outbox_json(a));
    json_object_set_new(root, "delivery", delivery_json(a));
    json_t *buses = json_object(), *meters = json_object();
    for (size_t w = 0; w < a->nworkers; w++) {
        om_bus_stats bs;
        om_bus_worker_stats(a->workers[w], &bs);
        const om_bus *bus = om_bus_worker_bus(a->workers[w]);
        json_t *b = json_object();
        json_object_set_new(b, "kind", json_string(bus->kind == OM_BUS_RTU ? "rtu" : "tcp"));
        json_object_set_new(b, "cycles", json_integer((json_int_t)bs.cycles));
        json_object_set_new(b, "overruns", json_integer((json_int_t)bs.overruns));
        json_object_set_new(b, "connect_failures", json_integer((json_int_t)bs.connect_failures));
        json_object_set_new(b, "last_cycle_ms", json_real((double)bs.last_cycle_us / 1000.0));
        json_object_set_new(b, "last_error",
                            bs.last_error[0] ? json_string(bs.last_error) : json_null());
        json_object_set_new(buses, bus->id, b);
        for (size_t i = 0; i < om_bus_worker_meters(a->workers[w]); i++) {
            const om_meter *m;
            om_meter_counters c;
            om_quantity_set uns;
            om_bus_worker_meter_snapshot(a->workers[w], i, &m, &c, &uns);
            json_object_set_new(meters, m->id, meter_json(bus, &c, uns));
        }
    }
    json_object_set_new(root, "buses", buses);
    json_object_set_new(root, "meters", meters);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}
