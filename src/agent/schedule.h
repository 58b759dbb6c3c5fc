/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schedule.h - when a bus polls, and what: wall-clock aligned ticks.
 *
 * Polls happen at multiples of the intervals since the Unix epoch, so a
 * 60 s interval polls at :00 of every minute on every gateway, and readings
 * of different meters line up for comparison. Counters (energy, water) and
 * instantaneous values (power, voltage, flow) have their own intervals; a
 * tick that is a multiple of both reads both in one poll.
 *
 * A dead meter backs off exponentially: after f consecutive failed polls it
 * is next tried base × 2^(f-1) later (base: its shortest interval), capped.
 */
#ifndef OM_AGENT_SCHEDULE_H
#define OM_AGENT_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t counters_ms;
    int64_t instant_ms;
} om_schedule;

/* The first tick strictly after t_ms. */
int64_t om_schedule_next(const om_schedule *s, int64_t t_ms);
/* What a tick reads. */
bool om_schedule_counters_due(const om_schedule *s, int64_t tick_ms);
bool om_schedule_instant_due(const om_schedule *s, int64_t tick_ms);
/* The first tick a worker starting at now_ms runs. resume_ms > 0 is the
 * last tick the workers it replaces ran (a reload): the tick after it is
 * run at once when it is the only one missed, so that a reload landing on
 * a tick does not leave a hole of one interval in the readings. */
int64_t om_schedule_first(const om_schedule *s, int64_t resume_ms, int64_t now_ms);
/* Ticks in (from_ms, to_ms] that were missed (a cycle that overran). */
uint64_t om_schedule_missed(const om_schedule *s, int64_t from_ms, int64_t to_ms);

/* Delay after `failures` consecutive failed polls (failures >= 1). */
int64_t om_backoff_ms(int64_t base_ms, int64_t max_ms, unsigned failures);

#endif
