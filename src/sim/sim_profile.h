/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_profile.h - deterministic office load profiles for simulated meters.
 *
 * Every value is a pure function of (seed, meter id, simulated time): the
 * same command line serves the same numbers, so tests can compare exactly.
 *
 *   electricity  weekday 08:00-19:00 local: peak x (1 +- 5 % noise per minute);
 *                otherwise a base load of 25-35 % of peak (seeded per meter).
 *                Peak is about 60 kW for a main meter, 15 kW for a sub meter.
 *   water        weekday 08:00-19:00 local: 0.5-1.5 x peak flow per minute
 *                (about 1.2 m³/h main, 0.4 m³/h sub); zero otherwise, plus a
 *                constant leak when one is simulated.
 *   voltages     230 V, a seeded offset per phase and +-1.5 V per minute.
 *
 * The rate is constant within a simulated minute; the counter integrates it
 * exactly (rate x time), summed over whole minutes from the start in a fixed
 * order so that the counter at time t does not depend on when it was read.
 */
#ifndef OM_SIM_PROFILE_H
#define OM_SIM_PROFILE_H

#include <stdint.h>

#include "officemeter/config/site.h"
#include "sim_tz.h"

#define OM_SIM_MINUTE_MS 60000
#define OM_SIM_WORK_START_H 8
#define OM_SIM_WORK_END_H 19

typedef struct {
    uint64_t key; /* seed mixed with the meter id */
    om_utility utility;
    om_role role;
    om_sim_tz tz;
    double peak;          /* kW (electricity) or m³/h (water) at full load */
    double base_fraction; /* electricity: share of peak outside working hours */
    double leak_m3h;      /* water: constant extra flow, day and night ... */
    int64_t leak_from, leak_until; /* ... within [from, until) of simulated time (INT64_MIN: open) */
    double step_kw;       /* electricity: constant extra load (a base-load step) ... */
    int64_t step_from, step_until; /* ... within [from, until) */
    double initial;       /* counter reading at the start: kWh or m³ */
    int64_t start_ms;
    /* Integration cursor: always the start or a minute boundary. */
    int64_t cursor_ms;
    double cursor_total;
} om_sim_profile;

/* A uniform number in [0, 1) for (key, stream, index). */
double om_sim_uniform(uint64_t key, uint64_t stream, int64_t index);

/* Returns 0, or -1 when the zone name is too long. */
int om_sim_profile_init(om_sim_profile *p, uint64_t seed, const char *meter_id,
                        om_utility utility, om_role role, const char *zone, int64_t start_ms);
/* Adds a constant flow (water meters): a leak runs day and night. Resets the
 * integration, so call it before reading. */
void om_sim_profile_set_leak(om_sim_profile *p, double m3h);

/* A leak that runs only in [from, until) (INT64_MIN: an open end). Resets
 * the integration, so call it before reading. */
void om_sim_profile_set_leak_window(om_sim_profile *p, double m3h, int64_t from, int64_t until);
/* Adds a constant load (electricity meters) in [from, until): a step of
 * the base load, day and night. Resets the integration. */
void om_sim_profile_set_step(om_sim_profile *p, double kw, int64_t from, int64_t until);

/* True during weekday working hours in the profile's zone. */
int om_sim_profile_working(om_sim_profile *p, int64_t t_ms);
/* kW (electricity) or m³/h (water) during the simulated minute holding t. */
double om_sim_profile_rate(om_sim_profile *p, int64_t t_ms);
/* Phase voltage (phase 1..3) during the minute holding t. */
double om_sim_profile_voltage(om_sim_profile *p, int phase, int64_t t_ms);
/* Consumption (kWh or m³) from the start to t; 0 before the start. */
double om_sim_profile_consumed(om_sim_profile *p, int64_t t_ms);
/* Consumption over [from, to), integrated afresh (p's cursor is left
 * alone): the oracle for a period, whatever the simulator's start. */
double om_sim_profile_between(const om_sim_profile *p, int64_t from_ms, int64_t to_ms);

/* The integer a counter register holds for a canonical value: the whole
 * number of raw units (pulses, Wh, 0.01 kWh) below it. A meter counts up
 * and never rounds: 1.2349 m³ at 10 L per pulse is 123 pulses, and the
 * remaining 4.9 L stay in the cumulative value, so nothing drifts. */
int64_t om_sim_counter_raw(double value, double scale);

#endif
