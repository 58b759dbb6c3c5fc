/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busworker.h - one thread per bus: the only code that talks to meters.
 *
 * A bus is one conversation: an RS-485 line carries one request at a time,
 * and a TCP endpoint (a meter, or an RTU-to-TCP gateway that may accept a
 * single connection) gets one connection. Different buses run in parallel,
 * so a slow or dead bus never delays another.
 *
 * Each cycle (a wall-clock tick, schedule.h) polls every meter of the bus in
 * site order, request by request as planned. On a serial line the worker
 * keeps the RTU inter-frame silence (3.5 characters; libmodbus does not)
 * plus the models' minimum gap before every request. A meter that times out
 * is dropped for the rest of the cycle and backed off, so a dead meter costs
 * at most one timeout per cycle. Exception 2 to a merged block splits it
 * (meterrt.h) and the poll goes on with the new plan; what was refused is
 * asked again later, with backoff. Whatever a poll got is
 * handed to the sink, even when some quantities are missing.
 */
#ifndef OM_AGENT_BUSWORKER_H
#define OM_AGENT_BUSWORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meterrt.h"
#include "schedule.h"

typedef struct {
    const om_meter *meter;
    int64_t t_ms; /* wall clock at the meter's first request */
    size_t nvalues;
    om_poll_value values[OM_Q__COUNT]; /* by quantity */
} om_poll_result;

/* Called on the worker's thread for every poll that produced values. */
typedef void (*om_poll_sink_fn)(void *ctx, const om_poll_result *result);

typedef struct {
    const om_bus *bus;
    const om_meter *const *meters; /* the gateway's meters on this bus, in site order */
    size_t nmeters;
    const om_plan_options *plan; /* NULL: defaults */
    om_schedule schedule;
    int64_t backoff_max_ms;
    int64_t resume_after_ms; /* the last tick of the workers this one replaces; 0: none */
    om_poll_sink_fn sink;
    void (*cycle_end)(void *sink_ctx); /* after each cycle's last poll; may be NULL */
    void *sink_ctx;
} om_bus_worker_config;

typedef struct {
    uint64_t cycles;
    uint64_t overruns;          /* ticks missed because a cycle ran long */
    uint64_t connect_failures;
    int64_t last_cycle_us;      /* duration of the last cycle */
    int64_t last_tick_ms;
    bool connected;
    char last_error[320];
} om_bus_stats;

typedef struct om_bus_worker om_bus_worker;

/* Plans every meter. Returns NULL with a reason in err. */
om_bus_worker *om_bus_worker_new(const om_bus_worker_config *cfg, char *err, size_t errlen);
/* Starts the thread: cycles at every tick until om_bus_worker_stop. */
int om_bus_worker_start(om_bus_worker *w);
/* Asks the thread to stop after the meter it is polling, and joins it. */
void om_bus_worker_stop(om_bus_worker *w);
void om_bus_worker_free(om_bus_worker *w);

/* One cycle now, on the calling thread (--once, tests): every meter that is
 * active at tick_ms, regardless of backoff. */
void om_bus_worker_cycle(om_bus_worker *w, int64_t tick_ms, bool counters, bool instant,
                         bool ignore_backoff);

const om_bus *om_bus_worker_bus(const om_bus_worker *w);
size_t om_bus_worker_meters(const om_bus_worker *w);
/* Copies of the counters, taken under the worker's lock. */
void om_bus_worker_meter_snapshot(om_bus_worker *w, size_t index, const om_meter **meter,
                                  om_meter_counters *out, om_quantity_set *unsupported);
void om_bus_worker_stats(om_bus_worker *w, om_bus_stats *out);

#endif
