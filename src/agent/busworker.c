/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busworker.c - polling one bus: ticks, requests, silences, backoff.
 *
 * The worker's thread is the only one that touches the Modbus context and
 * writes the meters' counters and plans; the lock only makes the counters
 * safe to copy for health reports. It is never held across I/O.
 *
 * A cycle, for each meter active at the tick and not backing off:
 *
 *   for each request of the meter's plan for this tick
 *       wait for the line's silence          (RTU: t3.5 + models' min gap)
 *       read                                 -> decode, collect values
 *       timeout / gateway target failed      -> count, stop this meter
 *       exception 2                          -> split or drop, restart plan;
 *                                               asked again later (meterrt.h)
 *       other exception, CRC, short answer   -> count, next request
 *       connection error                     -> count, close, stop the cycle
 *   values collected -> sink; none -> failure, exponential backoff
 */
#include "busworker.h"
#include "officemeter/base/clock.h"
#include "busworker_int.h"

#include <errno.h>
#include <stddef.h>
#include <modbus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "officemeter/daemon/log.h"
#include "officemeter/modbus/mbconn.h"

#define WORKER_STACK (256 * 1024)

/* ---- helpers ---------------------------------------------------------- */

static bool is_rtu(const om_bus_worker *w)
{
    return w->cfg.bus->kind == OM_BUS_RTU;
}

static bool stop_requested(om_bus_worker *w)
{
    pthread_mutex_lock(&w->lock);
    bool s = w->stop;
    pthread_mutex_unlock(&w->lock);
    return s;
}

/* A meter is polled over its service life [from, until], the tick at
 * `until` included: that last reading lets the rollup close the meter's
 * consumption at the boundary instead of at the tick before it. */
static bool meter_active(const om_meter *m, int64_t t_ms)
{
    if (m->active_from != OM_TIME_NONE && t_ms < m->active_from)
        return false;
    if (m->active_until != OM_TIME_NONE && t_ms > m->active_until)
        return false;
    return true;
}

static int64_t base_interval_ms(const om_bus_worker *w)
{
    const om_schedule *s = &w->cfg.schedule;
    return s->instant_ms < s->counters_ms ? s->instant_ms : s->counters_ms;
}

void om_bw_close(om_bus_worker *w)
{
    if (w->ctx) {
        modbus_close(w->ctx);
        modbus_free(w->ctx);
        w->ctx = NULL;
    }
    pthread_mutex_lock(&w->lock);
    w->stats.connected = false;
    pthread_mutex_unlock(&w->lock);
}

bool om_bw_may_open(const om_bus_worker *w)
{
    return om_mono_ms() >= w->reconnect_at_ms;
}

void om_bw_open_failed(om_bus_worker *w, const char *err)
{
    char key[128];
    snprintf(key, sizeof key, "bus %s open", w->cfg.bus->id);
    w->connect_failures++;
    w->reconnect_at_ms =
        om_mono_ms() + om_backoff_ms(1000, w->cfg.backoff_max_ms, w->connect_failures);
    pthread_mutex_lock(&w->lock);
    w->stats.connect_failures++;
    snprintf(w->stats.last_error, sizeof w->stats.last_error, "%s", err);
    pthread_mutex_unlock(&w->lock);
    om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_ERROR, "%s", err);
}

void om_bw_opened(om_bus_worker *w, modbus_t *ctx, unsigned timeout_ms)
{
    char key[128];
    snprintf(key, sizeof key, "bus %s open", w->cfg.bus->id);
    w->ctx = ctx;
    w->connect_failures = 0;
    w->ctx_timeout_ms = timeout_ms;
    w->last_io_end_us = 0;
    pthread_mutex_lock(&w->lock);
    w->stats.connected = true;
    pthread_mutex_unlock(&w->lock);
    om_log_recovered(key, OM_LOG_INFO, "bus %s is open again", w->cfg.bus->id);
}

/* Opens the bus if needed. A bus that cannot be opened is retried at the
 * next tick after an exponential delay, logged at a limited rate. */
static int ensure_ctx(om_bus_worker *w, unsigned timeout_ms)
{
    if (w->ctx)
        return 0;
    if (!om_bw_may_open(w))
        return -1;
    char err[300];
    modbus_t *ctx = om_mbconn_open(w->cfg.bus, timeout_ms, err, sizeof err);
    if (!ctx) {
        om_bw_open_failed(w, err);
        return -1;
    }
    om_bw_opened(w, ctx, timeout_ms);
    return 0;
}

void om_bw_set_timeout(om_bus_worker *w, unsigned timeout_ms)
{
    if (timeout_ms == 0)
        timeout_ms = 1000;
    if (timeout_ms != w->ctx_timeout_ms) {
        modbus_set_response_timeout(w->ctx, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
        w->ctx_timeout_ms = timeout_ms;
    }
}

/* On a serial line every frame must be preceded by 3.5 character times of
 * silence, and some meters need more (min_gap_ms); the larger of the gaps
 * of the model addressed last and the one addressed now applies. */
static void wait_line(om_bus_worker *w, unsigned gap_ms)
{
    if (!is_rtu(w) || w->last_io_end_us == 0)
        return;
    unsigned gap = gap_ms > w->last_gap_ms ? gap_ms : w->last_gap_ms;
    om_clock_sleep_until_us(w->last_io_end_us + w->silence_us + (int64_t)gap * 1000);
}

/* ---- one meter -------------------------------------------------------- */

static void note_error(om_bus_worker *w, om_meter_rt *rt, const char *err)
{
    pthread_mutex_lock(&w->lock);
    snprintf(rt->c.last_error, sizeof rt->c.last_error, "%s", err);
    pthread_mutex_unlock(&w->lock);
    char key[160];
    snprintf(key, sizeof key, "meter %s error", rt->meter->id);
    om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING, "meter %s: %s", rt->meter->id, err);
}

static void list_quantities(om_quantity_set qs, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int q = 0; q < OM_Q__COUNT && used < len; q++)
        if (qs & OM_QSET(q))
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                     om_quantity_get((om_quantity)q)->name);
}

static om_quantity_set request_quantities(const om_plan_request *req)
{
    om_quantity_set qs = 0;
    for (size_t i = 0; i < req->nitems; i++)
        qs |= OM_QSET(req->items[i].quantity);
    return qs;
}

/* A refusal worth a line (om_meter_rt_refused): the first split of a
 * block, or a quantity given up. A counter given up costs the annual
 * figures: an error, and the health's counters_refused says so until the
 * meter answers again. */
static void log_exception2(const om_meter_rt *rt, const om_plan_request *req, om_plan_exc2 what,
                           int64_t retry_in_ms)
{
    char quantities[256];
    om_quantity_set qs = request_quantities(req);
    list_quantities(qs, quantities, sizeof quantities);
    long long retry_s = (long long)((retry_in_ms + 999) / 1000);
    if (what == OM_PLAN_EXC2_SPLIT)
        om_log(OM_LOG_WARNING,
               "meter %s refused the merged read of function %u, 0x%04X+%u (%s) with exception "
               "2 (illegal data address): reading these quantities one per request from now on",
               rt->meter->id, req->function, req->address, req->count, quantities);
    else if (qs & om_qset_of_kind(OM_KIND_COUNTER))
        om_log(OM_LOG_ERROR,
               "meter %s refused %s (function %u, 0x%04X+%u) with exception 2 (illegal data "
               "address) even alone: the annual figures need this counter; asking again in "
               "%lld s, then less and less often (health: counters_refused)",
               rt->meter->id, quantities, req->function, req->address, req->count, retry_s);
    else
        om_log(OM_LOG_WARNING,
               "meter %s refused %s (function %u, 0x%04X+%u) with exception 2 (illegal data "
               "address): this meter does not have it, or not for now; asking again in %lld s, "
               "then less and less often",
               rt->meter->id, quantities, req->function, req->address, req->count, retry_s);
}

static bool all_read(const om_plan_request *req, om_quantity_set got)
{
    for (size_t i = 0; i < req->nitems; i++)
        if (!(got & OM_QSET(req->items[i].quantity)))
            return false;
    return true;
}

void om_bw_poll_begin(om_bw_poll *p, om_meter_rt *rt, om_pset set)
{
    memset(&p->got, 0, sizeof *p - offsetof(om_bw_poll, got));
    p->rt = rt;
    p->set = set;
    p->res.meter = rt->meter;
    p->res.nvalues = 0;
    p->res.t_ms = om_clock_wall_ms();
}

const om_plan_request *om_bw_poll_next(om_bw_poll *p)
{
    const om_meter_plan *plan = &p->rt->plans[p->set];
    while (p->next < plan->nrequests) {
        const om_plan_request *req = &plan->requests[p->next++];
        if (!all_read(req, p->got) && req->count <= OM_BW_MAX_REGS)
            return req;
    }
    return NULL;
}

om_bw_step om_bw_poll_answer(om_bus_worker *w, om_bw_poll *p, const om_plan_request *req,
                             int rc, int e, const uint16_t *regs, int64_t latency_us,
                             const char *err)
{
    om_meter_rt *rt = p->rt;
    pthread_mutex_lock(&w->lock);
    rt->c.requests++;
    if (rc == 0) {
        uint32_t lat = (uint32_t)latency_us;
        rt->c.last_latency_us = lat;
        if (lat > rt->c.max_latency_us)
            rt->c.max_latency_us = lat;
        rt->c.latency_sum_us += lat;
        rt->c.latency_count++;
        om_quantity_set got = om_meter_rt_decode(rt, req, regs, p->res.values, &p->res.nvalues);
        om_quantity_set back = om_meter_rt_answered(rt, req, got);
        pthread_mutex_unlock(&w->lock);
        p->got |= got;
        p->answered = true;
        if (back) {
            char quantities[256];
            list_quantities(back, quantities, sizeof quantities);
            om_log(OM_LOG_INFO, "meter %s answers %s again", rt->meter->id, quantities);
        }
        return OM_BW_NEXT;
    }
    unsigned exc = 0;
    om_mb_failure kind = om_mb_classify(e, &exc);
    if (kind == OM_MB_TIMEOUT || (kind == OM_MB_EXCEPTION && om_mb_exception_is_absent(exc))) {
        /* Dead or unplugged: no second timeout for it this cycle. */
        if (kind == OM_MB_TIMEOUT)
            rt->c.timeouts++;
        else
            rt->c.exceptions++;
        pthread_mutex_unlock(&w->lock);
        note_error(w, rt, err);
        return OM_BW_METER_DONE;
    }
    if (kind == OM_MB_EXCEPTION && exc == MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS) {
        rt->c.exceptions++;
        const om_plan_request refused = *req;
        size_t index = (size_t)(req - rt->plans[p->set].requests);
        om_plan_exc2 what = om_meter_rt_exception2(rt, p->set, index);
        bool news = what != OM_PLAN_EXC2_NONE &&
                    om_meter_rt_refused(rt, &refused, what, p->res.t_ms, base_interval_ms(w),
                                        w->cfg.backoff_max_ms);
        int64_t retry_in = rt->re.retry_at_ms[refused.items[0].quantity] - p->res.t_ms;
        pthread_mutex_unlock(&w->lock);
        if (news)
            log_exception2(rt, &refused, what, retry_in);
        else if (what != OM_PLAN_EXC2_NONE)
            om_log(OM_LOG_DEBUG, "meter %s refused function %u, 0x%04X+%u with exception 2 "
                   "again", rt->meter->id, refused.function, refused.address, refused.count);
        if (what != OM_PLAN_EXC2_NONE && p->restarts++ < 2 * OM_Q__COUNT)
            p->next = 0; /* walk the new plan; what was read is skipped */
        return OM_BW_NEXT;
    }
    if (kind == OM_MB_EXCEPTION)
        rt->c.exceptions++;
    else if (kind == OM_MB_BAD_CRC)
        rt->c.crc_errors++;
    else
        rt->c.other_errors++;
    pthread_mutex_unlock(&w->lock);
    note_error(w, rt, err);
    if (kind == OM_MB_CONNECTION)
        return OM_BW_BUS_DOWN;
    if (kind == OM_MB_BAD_CRC || kind == OM_MB_GARBLED)
        return OM_BW_GARBLED;
    return OM_BW_NEXT;
}

om_bw_outcome om_bw_poll_outcome(const om_bw_poll *p, bool bus_down)
{
    /* A meter that answered with nothing but "not available" patterns is
     * alive: no backoff, only counted. */
    if (p->answered)
        return OM_BW_OK;
    return bus_down ? OM_BW_BUS_UNREACHABLE : OM_BW_METER_UNREACHABLE;
}

/* One meter, blocking: every request of its plan for `set` in turn. */
static om_bw_outcome poll_meter(om_bus_worker *w, om_bw_poll *p)
{
    const om_model *model = p->rt->meter->model;
    uint16_t regs[OM_BW_MAX_REGS];
    char err[300];
    if (ensure_ctx(w, model->timeout_ms) < 0)
        return OM_BW_BUS_UNREACHABLE;
    om_bw_set_timeout(w, model->timeout_ms);
    const om_plan_request *req;
    while ((req = om_bw_poll_next(p)) != NULL) {
        wait_line(w, model->min_gap_ms);
        int64_t t0 = om_mono_us();
        int rc = om_mbconn_read(w->ctx, w->cfg.bus, p->rt->meter->unit_id, req->function,
                                req->address, req->count, regs, err, sizeof err);
        int e = errno;
        int64_t t1 = om_mono_us();
        w->last_io_end_us = t1;
        w->last_gap_ms = model->min_gap_ms;
        om_bw_step step = om_bw_poll_answer(w, p, req, rc, e, regs, t1 - t0, err);
        if (step == OM_BW_METER_DONE) {
            if (is_rtu(w))
                modbus_flush(w->ctx);
            break;
        }
        if (step == OM_BW_BUS_DOWN) {
            om_bw_close(w);
            return om_bw_poll_outcome(p, true);
        }
        if (step == OM_BW_GARBLED)
            modbus_flush(w->ctx);
    }
    return om_bw_poll_outcome(p, false);
}

/* Bookkeeping after a poll: counters, backoff, the sink. */
void om_bw_finish_poll(om_bus_worker *w, om_bw_poll *p, int64_t tick_ms, om_bw_outcome out)
{
    om_meter_rt *rt = p->rt;
    om_pset set = p->set;
    om_poll_result *res = &p->res;
    bool partial = false;
    pthread_mutex_lock(&w->lock);
    if (res->nvalues > 0) {
        rt->c.polls++;
        om_quantity_set got = 0;
        for (size_t i = 0; i < res->nvalues; i++)
            got |= OM_QSET(res->values[i].quantity);
        partial = (rt->plans[set].planned & ~got) != 0;
        if (partial)
            rt->c.partial_polls++;
        rt->c.last_good_ms = res->t_ms;
        bool recovered = rt->c.consecutive_failures > 0;
        rt->c.consecutive_failures = 0;
        rt->c.retry_at_ms = 0;
        pthread_mutex_unlock(&w->lock);
        if (recovered) {
            char key[160];
            snprintf(key, sizeof key, "meter %s error", rt->meter->id);
            om_log_recovered(key, OM_LOG_INFO, "meter %s answers again", rt->meter->id);
        }
        om_poll_values_sort(res->values, res->nvalues);
        if (w->cfg.sink)
            w->cfg.sink(w->cfg.sink_ctx, res);
        return;
    }
    if (out != OM_BW_BUS_UNREACHABLE)
        rt->c.failed_polls++;
    if (out == OM_BW_METER_UNREACHABLE) {
        rt->c.consecutive_failures++;
        rt->c.retry_at_ms =
            tick_ms + om_backoff_ms(base_interval_ms(w), w->cfg.backoff_max_ms,
                                    rt->c.consecutive_failures);
    }
    pthread_mutex_unlock(&w->lock);
}

/* ---- cycles ----------------------------------------------------------- */

void om_bus_worker_cycle(om_bus_worker *w, int64_t tick_ms, bool counters, bool instant,
                         bool ignore_backoff)
{
    om_pset set = om_pset_for(counters, instant);
    int64_t start = om_mono_us();
    for (size_t i = 0; i < w->nmeters; i++) {
        if (w->running && stop_requested(w))
            break;
        om_meter_rt *rt = &w->meters[i];
        if (!om_bw_meter_due(w, rt, set, tick_ms, ignore_backoff))
            continue;
        om_bw_poll p;
        om_bw_poll_begin(&p, rt, set);
        om_bw_outcome out = poll_meter(w, &p);
        om_bw_finish_poll(w, &p, tick_ms, out);
        if (out == OM_BW_BUS_UNREACHABLE && !w->ctx)
            break; /* the bus is unreachable: every other meter would fail too */
    }
    om_bw_cycle_done(w, tick_ms, om_mono_us() - start);
    if (w->cfg.cycle_end)
        w->cfg.cycle_end(w->cfg.sink_ctx);
}

bool om_bw_meter_due(om_bus_worker *w, om_meter_rt *rt, om_pset set, int64_t tick_ms,
                     bool ignore_backoff)
{
    if (!meter_active(rt->meter, tick_ms))
        return false;
    if (rt->re.next_ms && tick_ms >= rt->re.next_ms) {
        /* Before the plan is looked at: a meter that refused everything
         * has an empty plan until then. */
        pthread_mutex_lock(&w->lock);
        om_quantity_set again = om_meter_rt_reprobe(rt, tick_ms);
        pthread_mutex_unlock(&w->lock);
        char quantities[256];
        list_quantities(again, quantities, sizeof quantities);
        om_log(OM_LOG_DEBUG, "meter %s: asking again for %s, refused with exception 2 before",
               rt->meter->id, quantities);
    }
    if (rt->plans[set].nrequests == 0)
        return false;
    if (!ignore_backoff && rt->c.retry_at_ms > tick_ms) {
        pthread_mutex_lock(&w->lock);
        rt->c.skipped++;
        pthread_mutex_unlock(&w->lock);
        return false;
    }
    return true;
}

void om_bw_cycle_done(om_bus_worker *w, int64_t tick_ms, int64_t took_us)
{
    pthread_mutex_lock(&w->lock);
    w->stats.cycles++;
    w->stats.last_cycle_us = took_us;
    w->stats.last_tick_ms = tick_ms;
    pthread_mutex_unlock(&w->lock);
}

static bool wait_tick(om_bus_worker *w, int64_t tick_ms)
{
    return om_clock_wait_tick(&w->lock, &w->tick_cond, &w->stop, tick_ms);
}

static int64_t next_tick(om_bus_worker *w, int64_t tick)
{
    const om_schedule *s = &w->cfg.schedule;
    int64_t now = om_clock_wall_ms();
    int64_t next = om_schedule_next(s, tick);
    if (next > now)
        return next;
    /* The cycle ran past the next tick(s): skip them rather than run late
     * cycles back to back, which would drift forever. */
    uint64_t missed = om_schedule_missed(s, tick, now);
    pthread_mutex_lock(&w->lock);
    w->stats.overruns += missed;
    pthread_mutex_unlock(&w->lock);
    char key[128];
    snprintf(key, sizeof key, "bus %s overrun", w->cfg.bus->id);
    om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                   "bus %s: a poll cycle took longer than the interval; %llu tick(s) skipped",
                   w->cfg.bus->id, (unsigned long long)missed);
    return om_schedule_next(s, now);
}

static void *worker_main(void *arg)
{
    om_bus_worker *w = arg;
    const om_schedule *s = &w->cfg.schedule;
    int64_t tick = om_schedule_first(s, w->cfg.resume_after_ms, om_clock_wall_ms());
    while (wait_tick(w, tick)) {
        om_bus_worker_cycle(w, tick, om_schedule_counters_due(s, tick),
                            om_schedule_instant_due(s, tick), false);
        tick = next_tick(w, tick);
    }
    om_bw_close(w);
    return NULL;
}

/* ---- life cycle ------------------------------------------------------- */

om_bus_worker *om_bus_worker_new(const om_bus_worker_config *cfg, char *err, size_t errlen)
{
    om_bus_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    w->meters = calloc(cfg->nmeters ? cfg->nmeters : 1, sizeof *w->meters);
    if (!w->meters) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->nmeters = cfg->nmeters;
    for (size_t i = 0; i < cfg->nmeters; i++) {
        if (om_meter_rt_init(&w->meters[i], cfg->meters[i], cfg->bus, cfg->plan, err, errlen) < 0) {
            free(w->meters);
            free(w);
            return NULL;
        }
    }
    w->silence_us = om_bus_silence_us(cfg->bus);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->tick_cond, NULL);
    return w;
}

int om_bus_worker_start(om_bus_worker *w)
{
    w->stop = false;
    w->running = true;
    /* A worker's deepest stack is libmodbus plus a few KiB of buffers: a
     * small stack keeps 64 buses cheap in address space. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    int rc = pthread_create(&w->thread, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        w->running = false;
        return -1;
    }
    return 0;
}

void om_bus_worker_stop(om_bus_worker *w)
{
    if (!w || !w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->tick_cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
}

void om_bus_worker_free(om_bus_worker *w)
{
    if (!w)
        return;
    om_bus_worker_stop(w);
    om_bw_close(w);
    free(w->meters);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->tick_cond);
    free(w);
}

const om_bus *om_bus_worker_bus(const om_bus_worker *w)
{
    return w->cfg.bus;
}

size_t om_bus_worker_meters(const om_bus_worker *w)
{
    return w->nmeters;
}

void om_bus_worker_meter_snapshot(om_bus_worker *w, size_t index, const om_meter **meter,
                                  om_meter_counters *out, om_quantity_set *unsupported)
{
    pthread_mutex_lock(&w->lock);
    if (meter)
        *meter = w->meters[index].meter;
    if (out)
        *out = w->meters[index].c;
    if (unsupported)
        *unsupported = om_meter_rt_unsupported(&w->meters[index]);
    pthread_mutex_unlock(&w->lock);
}

void om_bus_worker_stats(om_bus_worker *w, om_bus_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
}
