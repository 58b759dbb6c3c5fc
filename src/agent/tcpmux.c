/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcpmux.c - one thread, many Modbus TCP buses, one request in flight each.
 *
 * Each bus is a slot that walks its meters as the blocking worker does
 * (busworker_int.h has the shared steps) but never waits itself: it starts
 * a connection or sends a request, then the thread's loop waits in poll(2)
 * for whichever slot's socket is ready first, a slot's deadline, or the
 * next tick:
 *
 *   IDLE --(no connection)--> CONNECTING --writable--> IDLE (send)
 *   IDLE --(no connection, a host name)--> RESOLVING --answer--> CONNECTING
 *   IDLE --send--> AWAITING --readable, answer whole--> IDLE (next request
 *                     ^  |                                 or meter)
 *                     +--+ readable, answer not whole yet (or a stale frame)
 *   RESOLVING/CONNECTING/AWAITING --deadline--> the meter (or the bus)
 *                              fails, as a timeout does in a blocking read
 *   IDLE --last meter--> DONE --tick--> IDLE (the slot's next cycle)
 *
 * Every slot keeps the ticks on its own: a tick starts a cycle on each slot
 * that is DONE, and a slot still busy with an earlier cycle (a slow device,
 * a dribbled answer, meters timing out one after the other) skips it,
 * counted as an overrun of that bus and logged naming it. So a slow bus
 * never takes a tick from another one.
 *
 * The deadline of a request covers its whole answer: whatever the socket
 * holds is read and judged each time it becomes readable (mbconn.h), so a
 * device that dribbles its answer a byte at a time costs the thread one
 * wake-up per byte and its own bus the timeout, never a wait.
 *
 * A host name is looked up on a thread of its own (resolve.h), so that a
 * resolver that does not answer holds up its bus only, like a host that is
 * down. A lookup that outlasts the deadline goes on, and the next attempt
 * to connect takes its answer. The host's addresses are tried in turn
 * while they fail at once (IPv6 refused, IPv4 listening).
 *
 * Every request carries a transaction id of its own, and a frame of
 * another transaction is dropped, not decoded. A connection whose request
 * timed out or brought a garbled answer is closed all the same: the device
 * or gateway behind it is in a state not to be trusted, and a dead gateway
 * is found at the reconnect rather than by a timeout per meter.
 */
#include "tcpmux.h"
#include "officemeter/base/clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "busworker_int.h"
#include "clock.h"
#include "officemeter/daemon/log.h"
#include "officemeter/modbus/mbconn.h"
#include "officemeter/modbus/resolve.h"

#define MUX_STACK (256 * 1024)

typedef enum {
    SLOT_IDLE,
    SLOT_RESOLVING,
    SLOT_CONNECTING,
    SLOT_AWAITING,
    SLOT_DONE
} slot_state;

typedef struct {
    om_bus_worker *w;
    slot_state state;
    int64_t tick_ms;            /* the tick of the slot's cycle */
    om_pset set;                /* what that tick reads */
    size_t meter;               /* next meter of the cycle */
    bool polling;               /* p is a meter's poll in progress */
    om_bw_poll p;
    const om_plan_request *req; /* to send, or awaiting its answer */
    om_mb_pending io;           /* the request on the wire and its answer so far */
    modbus_t *connecting;       /* a context whose connection is under way */
    om_resolve *lookup;         /* the host name's, running or answered */
    const struct addrinfo *next_addr; /* of lookup's answer: the next to try */
    int fd;                     /* what the slot waits on */
    int64_t deadline_us;        /* monotonic */
    int64_t sent_us;
    int64_t cycle_start_us;
} mux_slot;

struct om_tcp_mux {
    mux_slot *slots;
    size_t n;
    struct pollfd *pfds;
    size_t *pfd_slot;
    int64_t tick_ms; /* the latest tick: cycles of earlier ones are late */
    bool ended;      /* a cycle ended since the last cycle_end call */

    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t tick_cond;
    bool stop;
};

static bool stopping(om_tcp_mux *mx)
{
    pthread_mutex_lock(&mx->lock);
    bool s = mx->stop;
    pthread_mutex_unlock(&mx->lock);
    return s;
}

static unsigned meter_timeout_ms(const mux_slot *s)
{
    unsigned t = s->p.rt->meter->model->timeout_ms;
    return t ? t : 1000;
}

static void end_cycle(om_tcp_mux *mx, mux_slot *s)
{
    om_bw_cycle_done(s->w, s->tick_ms, om_mono_us() - s->cycle_start_us);
    s->state = SLOT_DONE;
    mx->ended = true;
}

/* Tells the sink once the cycles of the latest tick are over, so that
 * every bus's polls of a tick go to the outbox in one go (the workers share
 * a sink); a slot still busy with an earlier tick does not hold that up. */
static void tell_sink(om_tcp_mux *mx)
{
    if (!mx->ended || mx->n == 0)
        return;
    for (size_t i = 0; i < mx->n; i++)
        if (mx->slots[i].state != SLOT_DONE && mx->slots[i].tick_ms == mx->tick_ms)
            return;
    mx->ended = false;
    const om_bus_worker_config *cfg = &mx->slots[0].w->cfg;
    if (cfg->cycle_end)
        cfg->cycle_end(cfg->sink_ctx);
}

/* The meter's poll is over: its bookkeeping, then the next meter. Returns
 * false when the bus is unreachable, so the rest of the cycle is skipped
 * (every other meter would fail the same way). */
static bool end_meter(om_tcp_mux *mx, mux_slot *s, om_bw_outcome out)
{
    om_bw_finish_poll(s->w, &s->p, s->tick_ms, out);
    s->polling = false;
    s->req = NULL;
    s->meter++;
    return !(out == OM_BW_BUS_UNREACHABLE && !s->w->ctx);
}

static void abandon_connect(mux_slot *s)
{
    if (s->connecting) {
        modbus_close(s->connecting);
        modbus_free(s->connecting);
        s->connecting = NULL;
    }
}

static void forget_lookup(mux_slot *s)
{
    om_resolve_free(s->lookup);
    s->lookup = NULL;
    s->next_addr = NULL;
}

static void connecting(mux_slot *s, modbus_t *ctx, int fd)
{
    s->connecting = ctx;
    s->fd = fd;
    s->deadline_us = om_mono_us() + (int64_t)meter_timeout_ms(s) * 1000;
    s->state = SLOT_CONNECTING;
}

/* Starts connecting to the next address of the looked-up host that lets
 * itself be connected to; false with the last reason in err when none is
 * left. */
static bool connect_next(mux_slot *s, char *err, size_t errlen)
{
    while (s->next_addr) {
        const struct addrinfo *addr = s->next_addr;
        s->next_addr = addr->ai_next;
        int fd;
        modbus_t *ctx = om_mbconn_tcp_begin_at(s->w->cfg.bus, addr, meter_timeout_ms(s), &fd,
                                               err, errlen);
        if (ctx) {
            connecting(s, ctx, fd);
            return true;
        }
    }
    return false;
}

/* The lookup has its answer: connect to its first address; false (with the
 * failure accounted) when there is nothing to connect to. */
static bool connect_looked_up(mux_slot *s)
{
    char err[640], why[300];
    const struct addrinfo *addrs = om_resolve_result(s->lookup, why, sizeof why);
    if (addrs) {
        s->next_addr = addrs;
        if (connect_next(s, err, sizeof err))
            return true;
    } else {
        char target[300];
        om_mbconn_describe(s->w->cfg.bus, target, sizeof target);
        snprintf(err, sizeof err, "cannot connect to %s: %s", target, why);
    }
    forget_lookup(s);
    om_bw_open_failed(s->w, err);
    return false;
}

/* Starts connecting the slot's bus, or looking up its host; false (with
 * the failure accounted) when that cannot even start. */
static bool begin_connect(mux_slot *s)
{
    char err[640];
    const om_bus *bus = s->w->cfg.bus;
    if (!bus->tcp.host || om_host_is_numeric(bus->tcp.host)) { /* nothing to look up */
        int fd;
        modbus_t *ctx = om_mbconn_tcp_begin(bus, meter_timeout_ms(s), &fd, err, sizeof err);
        if (!ctx) {
            om_bw_open_failed(s->w, err);
            return false;
        }
        connecting(s, ctx, fd);
        return true;
    }
    if (!s->lookup) {
        char why[300], target[300];
        s->lookup = om_resolve_start(bus->tcp.host, bus->tcp.port, why, sizeof why);
        if (!s->lookup) {
            om_mbconn_describe(bus, target, sizeof target);
            snprintf(err, sizeof err, "cannot connect to %s: %s", target, why);
            om_bw_open_failed(s->w, err);
            return false;
        }
    }
    if (om_resolve_done(s->lookup))
        return connect_looked_up(s);
    s->fd = om_resolve_fd(s->lookup);
    s->deadline_us = om_mono_us() + (int64_t)meter_timeout_ms(s) * 1000;
    s->state = SLOT_RESOLVING;
    return true;
}

/* Sends s->req: the slot then awaits the answer, or the failure to send is
 * accounted as the request's answer and its step returned. */
static om_bw_step send_request(mux_slot *s)
{
    om_bus_worker *w = s->w;
    char err[300];
    const om_plan_request *req = s->req;
    if (om_mbconn_tcp_send(w->ctx, w->cfg.bus, s->p.rt->meter->unit_id, req->function,
                           req->address, req->count, &s->io, err, sizeof err) == 0) {
        s->fd = modbus_get_socket(w->ctx);
        s->sent_us = om_mono_us();
        s->deadline_us = s->sent_us + (int64_t)meter_timeout_ms(s) * 1000;
        s->state = SLOT_AWAITING;
        return OM_BW_NEXT;
    }
    int e = errno;
    s->req = NULL;
    return om_bw_poll_answer(w, &s->p, req, -1, e, NULL, 0, err);
}

/* What an answer (or its absence) means for the slot; false when the
 * cycle of this bus is over. */
static bool after_step(om_tcp_mux *mx, mux_slot *s, om_bw_step step)
{
    switch (step) {
    case OM_BW_NEXT:
        return true;
    case OM_BW_GARBLED:
        om_bw_close(s->w); /* whatever follows on it cannot be trusted */
        return true;
    case OM_BW_METER_DONE:
        return end_meter(mx, s, om_bw_poll_outcome(&s->p, false));
    case OM_BW_BUS_DOWN:
    default:
        om_bw_close(s->w);
        return end_meter(mx, s, om_bw_poll_outcome(&s->p, true));
    }
}

/* Moves the slot on until it waits for its socket or its cycle is over. */
static void advance(om_tcp_mux *mx, mux_slot *s)
{
    om_bus_worker *w = s->w;
    s->state = SLOT_IDLE;
    for (;;) {
        if (s->polling) {
            if (!s->req)
                s->req = om_bw_poll_next(&s->p);
            if (!s->req) {
                if (!end_meter(mx, s, om_bw_poll_outcome(&s->p, false)))
                    break;
                continue;
            }
            if (!w->ctx) {
                if (om_bw_may_open(w) && begin_connect(s))
                    return;
                if (!end_meter(mx, s, om_bw_poll_outcome(&s->p, true)))
                    break;
                continue;
            }
            om_bw_set_timeout(w, meter_timeout_ms(s));
            om_bw_step step = send_request(s);
            if (s->state == SLOT_AWAITING)
                return;
            if (!after_step(mx, s, step))
                break;
            continue;
        }
        if (stopping(mx) || s->meter >= w->nmeters)
            break;
        om_meter_rt *rt = &w->meters[s->meter];
        if (!om_bw_meter_due(w, rt, s->set, s->tick_ms, false)) {
            s->meter++;
            continue;
        }
        om_bw_poll_begin(&s->p, rt, s->set);
        s->polling = true;
        s->req = NULL;
    }
    end_cycle(mx, s);
}

/* The bus could not be reached for the meter being polled: on to the next
 * meter, or the end of the bus's cycle. */
static void bus_failed(om_tcp_mux *mx, mux_slot *s)
{
    if (!end_meter(mx, s, om_bw_poll_outcome(&s->p, true))) {
        end_cycle(mx, s);
        return;
    }
    advance(mx, s);
}

static void on_connected(om_tcp_mux *mx, mux_slot *s)
{
    char err[400];
    modbus_t *ctx = s->connecting;
    if (om_mbconn_tcp_connected(ctx, s->w->cfg.bus, err, sizeof err) == 0) {
        s->connecting = NULL;
        forget_lookup(s); /* a reconnect looks the name up again */
        om_bw_opened(s->w, ctx, meter_timeout_ms(s));
        advance(mx, s); /* sends the request that waited for the connection */
        return;
    }
    abandon_connect(s);
    if (connect_next(s, err, sizeof err))
        return; /* the host's next address */
    forget_lookup(s);
    om_bw_open_failed(s->w, err);
    bus_failed(mx, s);
}

static void on_looked_up(om_tcp_mux *mx, mux_slot *s)
{
    if (!connect_looked_up(s))
        bus_failed(mx, s);
}

static void on_answer(om_tcp_mux *mx, mux_slot *s)
{
    om_bus_worker *w = s->w;
    uint16_t regs[OM_BW_MAX_REGS];
    char err[400];
    const om_plan_request *req = s->req;
    int rc = om_mbconn_tcp_receive(w->ctx, w->cfg.bus, &s->io, regs, err, sizeof err);
    if (rc == 1)
        return; /* not whole yet: wait on, with the same deadline */
    int e = errno;
    int64_t latency = om_mono_us() - s->sent_us;
    s->req = NULL;
    om_bw_step step = om_bw_poll_answer(w, &s->p, req, rc, rc == 0 ? 0 : e, regs, latency, err);
    if (!after_step(mx, s, step)) {
        end_cycle(mx, s);
        return;
    }
    advance(mx, s);
}

static void on_deadline(om_tcp_mux *mx, mux_slot *s)
{
    om_bus_worker *w = s->w;
    char err[400];
    if (s->state == SLOT_RESOLVING || s->state == SLOT_CONNECTING) {
        char target[300];
        om_mbconn_describe(w->cfg.bus, target, sizeof target);
        if (s->state == SLOT_RESOLVING) {
            /* The lookup goes on: the next attempt takes its answer. */
            snprintf(err, sizeof err,
                     "cannot connect to %s: host name not resolved within %u ms", target,
                     meter_timeout_ms(s));
        } else {
            snprintf(err, sizeof err, "cannot connect to %s: no answer within %u ms", target,
                     meter_timeout_ms(s));
            abandon_connect(s);
            forget_lookup(s);
        }
        om_bw_open_failed(w, err);
        bus_failed(mx, s);
        return;
    }
    const om_plan_request *req = s->req;
    om_mbconn_describe_timeout(w->cfg.bus, s->p.rt->meter->unit_id, req->function,
                               req->address, meter_timeout_ms(s), s->io.len, err, sizeof err);
    s->req = NULL;
    om_bw_step step = om_bw_poll_answer(w, &s->p, req, -1, ETIMEDOUT, NULL, 0, err);
    om_bw_close(w); /* the answer may still come: not on this connection */
    if (!after_step(mx, s, step)) {
        end_cycle(mx, s);
        return;
    }
    advance(mx, s);
}

static bool waiting(const mux_slot *s)
{
    return s->state == SLOT_RESOLVING || s->state == SLOT_CONNECTING ||
           s->state == SLOT_AWAITING;
}

static void start_cycle(om_tcp_mux *mx, mux_slot *s, int64_t tick_ms, om_pset set)
{
    s->tick_ms = tick_ms;
    s->set = set;
    s->meter = 0;
    s->polling = false;
    s->req = NULL;
    s->cycle_start_us = om_mono_us();
    advance(mx, s);
}

/* The slot is still busy when `missed` more ticks come: they are skipped
 * on its bus only, counted and logged naming the bus and the meter it is
 * polling. */
static void overrun(mux_slot *s, uint64_t missed)
{
    om_bus_worker *w = s->w;
    pthread_mutex_lock(&w->lock);
    w->stats.overruns += missed;
    pthread_mutex_unlock(&w->lock);
    char key[128], doing[160] = "";
    snprintf(key, sizeof key, "bus %s overrun", w->cfg.bus->id);
    if (s->polling)
        snprintf(doing, sizeof doing, " (still polling meter %s)", s->p.rt->meter->id);
    om_log_limited(key, OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                   "bus %s: a poll cycle took longer than the interval%s; %llu tick(s) skipped "
                   "on this bus, the other buses keep theirs",
                   w->cfg.bus->id, doing, (unsigned long long)missed);
}

/* The wall clock reached `tick`: every slot that is done starts its cycle,
 * every other one skips the tick. Returns the tick after it. */
static int64_t on_tick(om_tcp_mux *mx, const om_schedule *sched, int64_t tick)
{
    int64_t now = om_clock_wall_ms();
    int64_t after = om_schedule_next(sched, tick);
    if (after <= now) {
        /* More than an interval late: the clock was set forward, or the
         * machine stalled. Skip to the next tick, everywhere. */
        uint64_t missed = om_schedule_missed(sched, tick - 1, now);
        for (size_t i = 0; i < mx->n; i++) {
            om_bus_worker *w = mx->slots[i].w;
            pthread_mutex_lock(&w->lock);
            w->stats.overruns += missed;
            pthread_mutex_unlock(&w->lock);
        }
        om_log_limited("tcp buses late", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "Modbus TCP buses: the clock is more than an interval past a tick (set "
                       "forward?); %llu tick(s) skipped",
                       (unsigned long long)missed);
        return om_schedule_next(sched, now);
    }
    if (stopping(mx))
        return after;
    mx->tick_ms = tick;
    om_pset set = om_pset_for(om_schedule_counters_due(sched, tick),
                              om_schedule_instant_due(sched, tick));
    for (size_t i = 0; i < mx->n; i++) {
        mux_slot *s = &mx->slots[i];
        if (s->state == SLOT_DONE)
            start_cycle(mx, s, tick, set);
        else
            overrun(s, 1);
    }
    return after;
}

/* The thread's real time until the wall clock reaches tick_ms, in ms. */
static int ms_until(int64_t tick_ms)
{
    struct timespec at = om_clock_system_deadline(tick_ms), now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t us = ((int64_t)at.tv_sec - now.tv_sec) * 1000000 + (at.tv_nsec - now.tv_nsec) / 1000;
    if (us <= 0)
        return 0;
    return us >= (int64_t)INT32_MAX * 1000 ? INT32_MAX : (int)((us + 999) / 1000);
}

/* Waits for the slots' sockets and deadlines and moves the slots on until
 * every cycle is over. With a schedule, the ticks that come meanwhile are
 * served by on_tick, and *next is the tick after the last one served. */
static void serve(om_tcp_mux *mx, const om_schedule *sched, int64_t *next)
{
    for (;;) {
        tell_sink(mx);
        size_t npfd = 0;
        int64_t first = INT64_MAX;
        for (size_t i = 0; i < mx->n; i++) {
            mux_slot *s = &mx->slots[i];
            if (!waiting(s))
                continue;
            mx->pfds[npfd] = (struct pollfd){
                .fd = s->fd, .events = s->state == SLOT_CONNECTING ? POLLOUT : POLLIN};
            mx->pfd_slot[npfd++] = i;
            if (s->deadline_us < first)
                first = s->deadline_us;
        }
        if (npfd == 0)
            break;
        int64_t left_us = first - om_mono_us();
        int timeout = left_us <= 0 ? 0 : (int)((left_us + 999) / 1000);
        if (sched) {
            int to_tick = ms_until(*next);
            if (to_tick < timeout)
                timeout = to_tick;
        }
        int ready = poll(mx->pfds, npfd, timeout);
        if (ready < 0) /* EINTR (a signal for the main thread): look again */
            for (size_t k = 0; k < npfd; k++)
                mx->pfds[k].revents = 0;
        for (size_t k = 0; ready > 0 && k < npfd; k++) {
            if (!mx->pfds[k].revents)
                continue;
            mux_slot *s = &mx->slots[mx->pfd_slot[k]];
            if (s->state == SLOT_CONNECTING)
                on_connected(mx, s);
            else if (s->state == SLOT_RESOLVING)
                on_looked_up(mx, s);
            else
                on_answer(mx, s);
        }
        int64_t now = om_mono_us();
        for (size_t k = 0; k < npfd; k++) {
            mux_slot *s = &mx->slots[mx->pfd_slot[k]];
            /* slots handled above have moved on, with new deadlines */
            if (!mx->pfds[k].revents && waiting(s) && s->deadline_us <= now)
                on_deadline(mx, s);
        }
        if (sched && om_clock_wall_ms() >= *next)
            *next = on_tick(mx, sched, *next);
    }
}

void om_tcp_mux_cycle(om_tcp_mux *mx, int64_t tick_ms, bool counters, bool instant)
{
    mx->tick_ms = tick_ms;
    om_pset set = om_pset_for(counters, instant);
    for (size_t i = 0; i < mx->n; i++)
        start_cycle(mx, &mx->slots[i], tick_ms, set);
    serve(mx, NULL, NULL);
}

/* ---- the thread -------------------------------------------------------- */

static bool wait_tick(om_tcp_mux *mx, int64_t tick_ms)
{
    return om_clock_wait_tick(&mx->lock, &mx->tick_cond, &mx->stop, tick_ms);
}

static void *mux_main(void *arg)
{
    om_tcp_mux *mx = arg;
    const om_schedule *sched = &mx->slots[0].w->cfg.schedule;
    int64_t tick = om_schedule_first(sched, mx->slots[0].w->cfg.resume_after_ms,
                                     om_clock_wall_ms());
    /* Every slot is done whenever the thread waits here. */
    while (wait_tick(mx, tick)) {
        tick = on_tick(mx, sched, tick);
        serve(mx, sched, &tick);
    }
    for (size_t i = 0; i < mx->n; i++)
        om_bw_close(mx->slots[i].w);
    return NULL;
}

om_tcp_mux *om_tcp_mux_new(om_bus_worker *const *workers, size_t n)
{
    om_tcp_mux *mx = calloc(1, sizeof *mx);
    if (!mx)
        return NULL;
    pthread_mutex_init(&mx->lock, NULL);
    pthread_cond_init(&mx->tick_cond, NULL);
    mx->n = n;
    mx->slots = calloc(n ? n : 1, sizeof *mx->slots);
    mx->pfds = calloc(n ? n : 1, sizeof *mx->pfds);
    mx->pfd_slot = calloc(n ? n : 1, sizeof *mx->pfd_slot);
    if (!mx->slots || !mx->pfds || !mx->pfd_slot) {
        om_tcp_mux_free(mx);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        mx->slots[i].w = workers[i];
        mx->slots[i].fd = -1;
        mx->slots[i].state = SLOT_DONE;
    }
    return mx;
}

int om_tcp_mux_start(om_tcp_mux *mx)
{
    if (mx->n == 0)
        return 0;
    mx->stop = false;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, MUX_STACK);
    int rc = pthread_create(&mx->thread, &attr, mux_main, mx);
    pthread_attr_destroy(&attr);
    mx->running = rc == 0;
    return rc == 0 ? 0 : -1;
}

static void tcp_mux_stop(om_tcp_mux *mx)
{
    if (!mx || !mx->running)
        return;
    pthread_mutex_lock(&mx->lock);
    mx->stop = true;
    pthread_cond_broadcast(&mx->tick_cond);
    pthread_mutex_unlock(&mx->lock);
    pthread_join(mx->thread, NULL);
    mx->running = false;
}

void om_tcp_mux_free(om_tcp_mux *mx)
{
    if (!mx)
        return;
    tcp_mux_stop(mx);
    for (size_t i = 0; mx->slots && i < mx->n; i++) {
        abandon_connect(&mx->slots[i]);
        forget_lookup(&mx->slots[i]);
    }
    pthread_mutex_destroy(&mx->lock);
    pthread_cond_destroy(&mx->tick_cond);
    free(mx->slots);
    free(mx->pfds);
    free(mx->pfd_slot);
    free(mx);
}
