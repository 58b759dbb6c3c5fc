/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcpmux.h - every Modbus TCP bus of the agent served by one thread.
 *
 * A thread per TCP meter kept a dead meter from holding up the others,
 * but each thread woke on its own timer every tick and slept in select()
 * for every answer: with 64 meters that is most of the agent's CPU. One
 * thread waits for all the buses with poll(2) instead, one request
 * outstanding per connection (a gateway's meters still go one after the
 * other on its one connection), so a dead meter costs its own timeout and
 * nobody else's, and the answers that arrive together are read together.
 */
#ifndef OM_AGENT_TCPMUX_H
#define OM_AGENT_TCPMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "busworker.h"

typedef struct om_tcp_mux om_tcp_mux;

/* Serves `workers` (Modbus TCP buses, not started, sharing one schedule).
 * The workers stay the caller's and must outlive the mux. NULL: out of
 * memory. */
om_tcp_mux *om_tcp_mux_new(om_bus_worker *const *workers, size_t n);
/* Starts the thread: a cycle at every tick of the workers' schedule. */
int om_tcp_mux_start(om_tcp_mux *mx);
void om_tcp_mux_free(om_tcp_mux *mx);
/* One cycle of every bus at tick_ms, in the caller's thread (tests). */
void om_tcp_mux_cycle(om_tcp_mux *mx, int64_t tick_ms, bool counters, bool instant);

#endif
