/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_profile.c - office load shapes, seeded noise and exact integration.
 *
 * Randomness is a hash (splitmix64) of the meter's key, a stream number and
 * the minute index, never a stateful generator: any minute can be evaluated
 * on its own, in any order, and gives the same value.
 */
#include "sim_profile.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Streams: one per independent random quantity. */
enum {
    STREAM_PEAK = 1,
    STREAM_BASE,
    STREAM_INITIAL,
    STREAM_NOISE,
    STREAM_VOLTAGE_OFFSET,
    STREAM_VOLTAGE_NOISE, /* + phase */
};

#define MAIN_PEAK_KW 60.0
#define SUB_PEAK_KW 15.0
#define MAIN_PEAK_M3H 1.2
#define SUB_PEAK_M3H 0.4
#define POWER_NOISE 0.05
#define NOMINAL_V 230.0

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t stream_key(uint64_t seed, const char *id)
{
    uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a over the id */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 0x100000001B3ull;
    }
    return splitmix64(seed ^ splitmix64(h));
}

double om_sim_uniform(uint64_t key, uint64_t stream, int64_t index)
{
    uint64_t h = splitmix64(key ^ splitmix64(stream * 0x100000001B3ull ^ (uint64_t)index));
    return (double)(h >> 11) * 0x1.0p-53;
}

/* Uniform in [-1, 1). */
static double symmetric(uint64_t key, uint64_t stream, int64_t index)
{
    return 2.0 * om_sim_uniform(key, stream, index) - 1.0;
}

static int64_t minute_of(int64_t t_ms)
{
    int64_t q = t_ms / OM_SIM_MINUTE_MS;
    return (t_ms % OM_SIM_MINUTE_MS != 0 && t_ms < 0) ? q - 1 : q;
}

int om_sim_profile_init(om_sim_profile *p, uint64_t seed, const char *meter_id,
                        om_utility utility, om_role role, const char *zone, int64_t start_ms)
{
    memset(p, 0, sizeof *p);
    if (om_sim_tz_init(&p->tz, zone) != 0)
        return -1;
    p->key = stream_key(seed, meter_id);
    p->utility = utility;
    p->role = role;
    p->start_ms = start_ms;
    p->cursor_ms = start_ms;
    p->leak_from = p->leak_until = INT64_MIN;
    p->step_from = p->step_until = INT64_MIN;

    double spread = 0.8 + 0.4 * om_sim_uniform(p->key, STREAM_PEAK, 0);
    double u0 = om_sim_uniform(p->key, STREAM_INITIAL, 0);
    bool main_meter = role == OM_ROLE_MAIN;
    if (utility == OM_UTILITY_ELECTRICITY) {
        p->peak = (main_meter ? MAIN_PEAK_KW : SUB_PEAK_KW) * spread;
        p->base_fraction = 0.25 + 0.10 * om_sim_uniform(p->key, STREAM_BASE, 0);
        p->initial = main_meter ? 20000.0 + 180000.0 * u0 : 2000.0 + 48000.0 * u0;
    } else {
        p->peak = (main_meter ? MAIN_PEAK_M3H : SUB_PEAK_M3H) * spread;
        p->initial = main_meter ? 200.0 + 4800.0 * u0 : 20.0 + 980.0 * u0;
    }
    /* Whole thousandths: a realistic reading, exactly representable by every
     * counter encoding the catalogue uses. */
    p->initial = floor(p->initial * 1000.0) / 1000.0;
    return 0;
}

void om_sim_profile_set_leak(om_sim_profile *p, double m3h)
{
    p->leak_m3h = m3h;
    p->cursor_ms = p->start_ms;
    p->cursor_total = 0.0;
}

void om_sim_profile_set_leak_window(om_sim_profile *p, double m3h, int64_t from, int64_t until)
{
    om_sim_profile_set_leak(p, m3h);
    p->leak_from = from;
    p->leak_until = until;
}

void om_sim_profile_set_step(om_sim_profile *p, double kw, int64_t from, int64_t until)
{
    p->step_kw = kw;
    p->step_from = from;
    p->step_until = until;
    p->cursor_ms = p->start_ms;
    p->cursor_total = 0.0;
}

/* t within [from, until), INT64_MIN being an open end. */
static bool within(int64_t from, int64_t until, int64_t t)
{
    return (from == INT64_MIN || t >= from) && (until == INT64_MIN || t < until);
}

int om_sim_profile_working(om_sim_profile *p, int64_t t_ms)
{
    om_sim_local l = om_sim_tz_local(&p->tz, t_ms);
    int64_t h = l.ms_of_day / 3600000;
    return l.weekday >= 1 && l.weekday <= 5 && h >= OM_SIM_WORK_START_H &&
           h < OM_SIM_WORK_END_H;
}

static double minute_rate(om_sim_profile *p, int64_t minute)
{
    int64_t t = minute * OM_SIM_MINUTE_MS;
    int working = om_sim_profile_working(p, t);
    double u = om_sim_uniform(p->key, STREAM_NOISE, minute);

    if (p->utility == OM_UTILITY_ELECTRICITY) {
        double level = working ? 1.0 : p->base_fraction;
        double step = within(p->step_from, p->step_until, t) ? p->step_kw : 0.0;
        return p->peak * level * (1.0 + POWER_NOISE * (2.0 * u - 1.0)) + step;
    }
    double leak = within(p->leak_from, p->leak_until, t) ? p->leak_m3h : 0.0;
    return (working ? p->peak * (0.5 + u) : 0.0) + leak;
}

double om_sim_profile_rate(om_sim_profile *p, int64_t t_ms)
{
    return minute_rate(p, minute_of(t_ms));
}

double om_sim_profile_voltage(om_sim_profile *p, int phase, int64_t t_ms)
{
    double offset = 2.0 * symmetric(p->key, STREAM_VOLTAGE_OFFSET, phase);
    double noise = 1.5 * symmetric(p->key, STREAM_VOLTAGE_NOISE + (uint64_t)phase, minute_of(t_ms));
    return NOMINAL_V + offset + noise;
}

/* Rate x duration, in kWh or m³: rates are per hour. */
static double segment(om_sim_profile *p, int64_t from, int64_t to)
{
    return minute_rate(p, minute_of(from)) * (double)(to - from) / 3600000.0;
}

double om_sim_profile_consumed(om_sim_profile *p, int64_t t_ms)
{
    if (t_ms <= p->start_ms)
        return 0.0;
    if (t_ms < p->cursor_ms) {
        p->cursor_ms = p->start_ms;
        p->cursor_total = 0.0;
    }
    for (;;) {
        int64_t next = (minute_of(p->cursor_ms) + 1) * OM_SIM_MINUTE_MS;
        if (next > t_ms)
            break;
        p->cursor_total += segment(p, p->cursor_ms, next);
        p->cursor_ms = next;
    }
    return p->cursor_total + segment(p, p->cursor_ms, t_ms);
}

double om_sim_profile_between(const om_sim_profile *p, int64_t from_ms, int64_t to_ms)
{
    om_sim_profile fresh = *p;
    fresh.start_ms = from_ms;
    fresh.cursor_ms = from_ms;
    fresh.cursor_total = 0.0;
    return om_sim_profile_consumed(&fresh, to_ms);
}

int64_t om_sim_counter_raw(double value, double scale)
{
    /* The small allowance absorbs binary rounding (0.03 / 0.01 is
     * 2.9999999999999996), never a real fraction of a raw unit. */
    return (int64_t)floor(value / scale + 1e-6);
}
