/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_meter.h - one simulated meter: its profile, faults and registers.
 *
 * A meter's registers are computed when they are read, from the profile at
 * that simulated time, and encoded exactly as the catalogue says (type,
 * order, scale, the channel's address, litres_per_pulse). The "true" values
 * (consumption since the start, unaffected by reset, rollover or glitch
 * faults) are what the oracle in the state file reports.
 *
 * Not thread-safe: the profile keeps an integration cursor. The simulator
 * evaluates meters under its one lock.
 */
#ifndef OM_SIM_METER_H
#define OM_SIM_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/config/catalogue.h"
#include "officemeter/base/codec.h"
#include "officemeter/config/site.h"
#include "sim_fault.h"
#include "sim_profile.h"

typedef struct {
    const om_quantity_def *def;
    om_quantity quantity;
    uint8_t function;
    uint16_t address;    /* wire address for the meter's channel */
    uint16_t count;
    om_regspec spec;     /* effective: litres_per_pulse applied */
    bool counter;
    bool grows;          /* the counter follows the profile (the meter's utility) */
    bool integer;        /* raw is an exact integer (integer and composite types) */
    int64_t rollover;    /* integer counters: raw wrap value, 0 = never */
    int64_t initial_raw; /* integer counters: raw at the start */
    double initial;      /* canonical value at the start */
} om_sim_qty;

typedef struct {
    const om_site *site;
    const om_meter *meter;
    const om_model *model;
    om_sim_profile profile;
    om_sim_faults faults;
    om_sim_qty *q;
    size_t nq;
    /* Consumption up to the reset fault's time, once known: integrating
     * back to it on every read would rewind the profile's cursor. */
    bool reset_known;
    double reset_consumed;
} om_sim_meter;

/* Returns 0, or -1 with a reason in err (a fault that the meter's model
 * cannot show, e.g. rollover on a counter that never wraps). */
int om_sim_meter_init(om_sim_meter *m, const om_site *site, const om_meter *meter, uint64_t seed,
                      int64_t start_ms, const om_sim_faults *faults, char *err, size_t errlen);
void om_sim_meter_free(om_sim_meter *m);

/* True consumption of a counter quantity since the start (kWh or m³). */
double om_sim_meter_true(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms);

/* Encode q at time t into regs (q->count registers). A quantity with a
 * "not available" pattern under the na fault gets the pattern. Returns 0,
 * or -1 when the value does not fit the type (regs are then zero). */
int om_sim_meter_encode(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms, uint16_t *regs);

/* The counter's raw register value at t, before encoding (integer types). */
int64_t om_sim_meter_counter_raw(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms);

#endif
