/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busworker_int.h - a bus worker's insides, shared by its two drivers.
 *
 * A worker is either driven by its own thread (busworker.c: serial buses,
 * where requests are one at a time anyway, and --once), or, for Modbus TCP
 * buses, by the one thread that serves all of them (tcpmux.c). Both go
 * through the steps below, so that counters, backoff, exception 2 and the
 * error messages are the same whichever thread polls.
 */
#ifndef OM_AGENT_BUSWORKER_INT_H
#define OM_AGENT_BUSWORKER_INT_H

#include <modbus.h>
#include <pthread.h>

#include "busworker.h"

/* Registers of the longest request a plan may make (a response's data). */
#define OM_BW_MAX_REGS 128

struct om_bus_worker {
    om_bus_worker_config cfg;
    om_meter_rt *meters;
    size_t nmeters;

    pthread_t thread;
    bool running;
    pthread_mutex_t lock; /* counters, plans, stats, stop */
    pthread_cond_t tick_cond; /* CLOCK_REALTIME: waits for wall-clock ticks */
    bool stop;

    modbus_t *ctx;
    unsigned ctx_timeout_ms;
    int64_t last_io_end_us;    /* end of the last frame on an RTU line */
    unsigned last_gap_ms;      /* min gap of the model addressed last */
    uint32_t silence_us;       /* t3.5 of the line */
    int64_t reconnect_at_ms;   /* monotonic; bus-level backoff after a failed connect */
    unsigned connect_failures; /* consecutive */

    om_bus_stats stats;
};

/* The poll of one meter, request by request. */
typedef struct {
    om_meter_rt *rt;
    om_pset set;
    /* from here on cleared by om_bw_poll_begin */
    om_quantity_set got;
    size_t next;       /* the plan's next request */
    bool answered;     /* some request got registers back */
    unsigned restarts; /* re-plans after exception 2 */
    om_poll_result res;
} om_bw_poll;

typedef enum {
    OM_BW_NEXT,       /* go on with the next request */
    OM_BW_METER_DONE, /* timeout or gateway exception: nothing more for this meter */
    OM_BW_GARBLED,    /* a frame that made no sense: flush, go on */
    OM_BW_BUS_DOWN,   /* connection error: close the bus */
} om_bw_step;

typedef enum { OM_BW_OK, OM_BW_METER_UNREACHABLE, OM_BW_BUS_UNREACHABLE } om_bw_outcome;

/* Whether meter rt is polled at tick_ms with `set` (active, something to
 * read, not backing off; a skip for backoff is counted). */
bool om_bw_meter_due(om_bus_worker *w, om_meter_rt *rt, om_pset set, int64_t tick_ms,
                     bool ignore_backoff);

/* Opening and closing the bus's connection, with its backoff and health. */
bool om_bw_may_open(const om_bus_worker *w);
void om_bw_open_failed(om_bus_worker *w, const char *err);
void om_bw_opened(om_bus_worker *w, modbus_t *ctx, unsigned timeout_ms);
void om_bw_close(om_bus_worker *w);
void om_bw_set_timeout(om_bus_worker *w, unsigned timeout_ms);

void om_bw_poll_begin(om_bw_poll *p, om_meter_rt *rt, om_pset set);
/* The next request to make for the poll, or NULL when it is complete. */
const om_plan_request *om_bw_poll_next(om_bw_poll *p);
/* Accounts for the answer to `req` (rc and errno e from om_mbconn_*, the
 * registers when rc == 0, the error line otherwise) and says what next. */
om_bw_step om_bw_poll_answer(om_bus_worker *w, om_bw_poll *p, const om_plan_request *req,
                             int rc, int e, const uint16_t *regs, int64_t latency_us,
                             const char *err);
om_bw_outcome om_bw_poll_outcome(const om_bw_poll *p, bool bus_down);
/* Counters, backoff and the sink after a meter's poll. */
void om_bw_finish_poll(om_bus_worker *w, om_bw_poll *p, int64_t tick_ms, om_bw_outcome out);
void om_bw_cycle_done(om_bus_worker *w, int64_t tick_ms, int64_t took_us);

#endif
