/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_meter.c - a simulated meter's quantities, with faults applied.
 *
 * Counter registers: start value + consumption, where the start value is
 * seeded (or, with the rollover fault, just below the wrap value), a reset
 * restarts the register from 0 at its time, a glitch reads 0 for one
 * simulated minute, and integer counters hold whole raw units (pulses, Wh)
 * computed from the cumulative value so no rounding accumulates.
 */
#include "sim_meter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLITCH_MS 60000
/* Rollover counters start this much below the wrap: an hour at peak. */
#define ROLLOVER_MARGIN_H 1.0
/* Above 2^62 raw the int64 arithmetic below would not be exact. */
#define MAX_SIM_ROLLOVER 4611686018427387904.0

static bool is_primary(const om_meter *meter, om_quantity q)
{
    return (meter->utility == OM_UTILITY_ELECTRICITY && q == OM_Q_ENERGY_IMPORT_KWH) ||
           (meter->utility == OM_UTILITY_WATER && q == OM_Q_WATER_M3);
}

/* A realistic start value for a counter that is not the meter's main one:
 * a little exported energy, or a counter nobody uses. */
static double secondary_initial(const om_sim_profile *p, om_quantity q)
{
    double u = om_sim_uniform(p->key, 100 + (uint64_t)q, 0);
    double v = q == OM_Q_ENERGY_EXPORT_KWH ? 5.0 * u : 100.0 + 900.0 * u;
    return floor(v * 1000.0) / 1000.0;
}

static int setup_counter(om_sim_meter *m, om_sim_qty *q, char *err, size_t errlen)
{
    q->grows = is_primary(m->meter, q->quantity);
    q->initial = q->grows ? m->profile.initial : secondary_initial(&m->profile, q->quantity);
    double rollover = q->def->rollover;

    if (m->faults.rollover && rollover > 0.0) {
        if (rollover > MAX_SIM_ROLLOVER) {
            snprintf(err, errlen,
                     "meter '%s': %s wraps at %.0f, too large to simulate a rollover",
                     m->meter->id, om_quantity_get(q->quantity)->name, rollover);
            return -1;
        }
        double margin = q->grows ? ceil(m->profile.peak * ROLLOVER_MARGIN_H / q->spec.scale) : 0;
        if (margin < 10)
            margin = 10;
        if (margin > rollover / 2)
            margin = floor(rollover / 2);
        q->initial = (rollover - margin) * q->spec.scale;
    }
    if (q->integer) {
        /* A wrap beyond 2^62 is never reached from a realistic start. */
        q->rollover = rollover > 0.0 && rollover <= MAX_SIM_ROLLOVER ? (int64_t)rollover : 0;
        q->initial_raw = om_sim_counter_raw(q->initial, q->spec.scale);
        if (q->rollover > 0)
            q->initial_raw %= q->rollover;
        q->initial = (double)q->initial_raw * q->spec.scale;
    }
    return 0;
}

static bool model_has_rollover(const om_model *model)
{
    for (size_t i = 0; i < model->nquantities; i++) {
        const om_quantity_def *d = &model->quantities[i];
        if (om_quantity_get(d->quantity)->kind == OM_KIND_COUNTER && d->rollover > 0.0)
            return true;
    }
    return false;
}

int om_sim_meter_init(om_sim_meter *m, const om_site *site, const om_meter *meter, uint64_t seed,
                      int64_t start_ms, const om_sim_faults *faults, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->site = site;
    m->meter = meter;
    m->model = meter->model;
    if (m->model == NULL) {
        snprintf(err, errlen, "meter '%s': model '%s' is not in the catalogue", meter->id,
                 meter->model_id ? meter->model_id : "?");
        return -1;
    }
    if (faults)
        m->faults = *faults;
    else
        om_sim_faults_init(&m->faults);
    if (m->faults.rollover && !model_has_rollover(m->model)) {
        snprintf(err, errlen, "meter '%s': model '%s' has no counter that wraps (rollover: 0)",
                 meter->id, m->model->id);
        return -1;
    }
    if (om_sim_profile_init(&m->profile, seed, meter->id, meter->utility, meter->role,
                            site->timezone, start_ms) != 0) {
        snprintf(err, errlen, "meter '%s': time zone name too long", meter->id);
        return -1;
    }
    if (m->faults.leak_m3h > 0.0) {
        if (meter->utility != OM_UTILITY_WATER) {
            snprintf(err, errlen, "meter '%s': a leak needs a water meter", meter->id);
            return -1;
        }
        /* OM_TIME_NONE is the profile's open end (INT64_MIN). */
        om_sim_profile_set_leak_window(&m->profile, m->faults.leak_m3h, m->faults.leak_from,
                                       m->faults.leak_until);
    }
    if (m->faults.step_kw > 0.0) {
        if (meter->utility != OM_UTILITY_ELECTRICITY) {
            snprintf(err, errlen, "meter '%s': a base-load step needs an electricity meter",
                     meter->id);
            return -1;
        }
        om_sim_profile_set_step(&m->profile, m->faults.step_kw, m->faults.step_from,
                                m->faults.step_until);
    }
    if (m->faults.offline) {
        snprintf(err, errlen, "meter '%s': offline is a gateway fault (GATEWAY=offline@TIME)",
                 meter->id);
        return -1;
    }

    m->q = calloc(m->model->nquantities ? m->model->nquantities : 1, sizeof *m->q);
    if (m->q == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m->model->nquantities; i++) {
        const om_quantity_def *def = &m->model->quantities[i];
        om_sim_qty *q = &m->q[m->nq++];
        q->def = def;
        q->quantity = def->quantity;
        q->function = def->function;
        q->address = om_quantity_address(def, meter->channel);
        q->spec = om_quantity_spec(def, meter->litres_per_pulse);
        q->count = (uint16_t)om_codec_register_count(&q->spec);
        q->counter = om_quantity_get(def->quantity)->kind == OM_KIND_COUNTER;
        q->integer = om_type_is_integer(q->spec.type) || q->spec.type == OM_TYPE_COMPOSITE;
        if (q->counter && setup_counter(m, q, err, errlen) != 0) {
            om_sim_meter_free(m);
            return -1;
        }
    }
    return 0;
}

void om_sim_meter_free(om_sim_meter *m)
{
    if (m == NULL)
        return;
    free(m->q);
    m->q = NULL;
    m->nq = 0;
}

double om_sim_meter_true(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms)
{
    if (!q->counter || !q->grows)
        return 0.0;
    return om_sim_profile_consumed(&m->profile, t_ms);
}

static bool in_glitch(const om_sim_meter *m, int64_t t_ms)
{
    int64_t g = m->faults.glitch_at;
    return g != OM_TIME_NONE && t_ms >= g && t_ms < g + GLITCH_MS;
}

static bool after_reset(const om_sim_meter *m, int64_t t_ms)
{
    return m->faults.reset_at != OM_TIME_NONE && t_ms >= m->faults.reset_at;
}

/* Consumption the register has counted since its base (start or reset). */
static double counted(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms)
{
    if (!after_reset(m, t_ms))
        return om_sim_meter_true(m, q, t_ms);
    if (!q->grows)
        return 0.0;
    if (!m->reset_known) {
        /* Only the meter's main counter grows, so one value serves. */
        m->reset_consumed = om_sim_profile_consumed(&m->profile, m->faults.reset_at);
        m->reset_known = true;
    }
    return om_sim_meter_true(m, q, t_ms) - m->reset_consumed;
}

int64_t om_sim_meter_counter_raw(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms)
{
    if (in_glitch(m, t_ms))
        return 0;
    int64_t base = after_reset(m, t_ms) ? 0 : q->initial_raw;
    int64_t raw = base + om_sim_counter_raw(counted(m, q, t_ms), q->spec.scale);
    return q->rollover > 0 ? raw % q->rollover : raw;
}

static double counter_value(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms)
{
    if (in_glitch(m, t_ms))
        return 0.0;
    double v = (after_reset(m, t_ms) ? 0.0 : q->initial) + counted(m, q, t_ms);
    double wrap = q->def->rollover * q->spec.scale;
    return wrap > 0.0 ? fmod(v, wrap) : v;
}

static double instant_value(om_sim_meter *m, om_quantity quantity, int64_t t_ms)
{
    bool electric = m->meter->utility == OM_UTILITY_ELECTRICITY;
    switch (quantity) {
    case OM_Q_POWER_KW:
        return electric ? om_sim_profile_rate(&m->profile, t_ms) : 0.0;
    case OM_Q_FLOW_M3H:
        return electric ? 0.0 : om_sim_profile_rate(&m->profile, t_ms);
    case OM_Q_VOLTAGE_L1_V:
        return om_sim_profile_voltage(&m->profile, 1, t_ms);
    case OM_Q_VOLTAGE_L2_V:
        return om_sim_profile_voltage(&m->profile, 2, t_ms);
    case OM_Q_VOLTAGE_L3_V:
        return om_sim_profile_voltage(&m->profile, 3, t_ms);
    default:
        return 0.0;
    }
}

int om_sim_meter_encode(om_sim_meter *m, const om_sim_qty *q, int64_t t_ms, uint16_t *regs)
{
    int rc;
    if (m->faults.na && q->spec.nsentinels > 0) {
        rc = om_codec_encode_sentinel(&q->spec, regs, q->count);
    } else if (q->counter && q->integer) {
        rc = om_codec_encode_raw(&q->spec, om_sim_meter_counter_raw(m, q, t_ms), regs, q->count);
    } else if (q->counter) {
        rc = om_codec_encode(&q->spec, counter_value(m, q, t_ms), regs, q->count);
    } else {
        rc = om_codec_encode(&q->spec, instant_value(m, q->quantity, t_ms), regs, q->count);
    }
    if (rc != 0)
        memset(regs, 0, q->count * sizeof *regs);
    return rc;
}
