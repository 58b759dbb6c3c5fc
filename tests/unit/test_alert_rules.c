/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alert_rules.c - every alert rule on synthetic series in memory: it
 * fires, holds, resolves, keeps its hysteresis; data-time rules give the
 * same transitions when the data arrive day by day and in one burst; DST
 * nights in Europe/London (March and October) are judged on the night as
 * it really was; clock rules judge freshness by arrival, so backfilled
 * history is fresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/alerts/rules.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"
#include "testutil.h"

#define MIN 60000LL
#define HOUR 3600000LL
#define DAY 86400000LL
#define STEP (15 * MIN)

/* ---- a site, its meters, and series in memory ----------------------------------- */

static om_meter meters[] = {
    {.id = "water", .gateway_id = "gw1", .utility = OM_UTILITY_WATER, .role = OM_ROLE_MAIN,
     .active_from = OM_TIME_NONE, .active_until = OM_TIME_NONE},
    {.id = "main", .gateway_id = "gw1", .utility = OM_UTILITY_ELECTRICITY, .role = OM_ROLE_MAIN,
     .active_from = OM_TIME_NONE, .active_until = OM_TIME_NONE},
};
static om_site site = {.site = "ldn", .timezone = "Europe/London", .meters = meters, .nmeters = 2};
static om_policy policy = {.gap_intervals = 4, .poll_interval_s = 900, .max_power_kw = 5000,
                           .max_flow_m3h = 100};

/* A rate (m³/h or kW) at time t. */
typedef double (*rate_fn)(int64_t t, const void *ctx);

typedef struct {
    om_sample *s;
    size_t n;
} series_t;

/* Readings every 15 minutes from `from` to `to`, integrating `rate`. */
static series_t make_series(int64_t from, int64_t to, rate_fn rate, const void *ctx)
{
    series_t r = {0};
    r.s = calloc((size_t)((to - from) / STEP + 2), sizeof *r.s);
    double v = 1000.0;
    for (int64_t t = from; t <= to; t += STEP) {
        r.s[r.n++] = (om_sample){t, v};
        v += rate(t, ctx) * (double)STEP / HOUR;
    }
    return r;
}

/* Local hour of day in London. */
static int local_hour(int64_t t)
{
    struct tm tm;
    om_tz_utc_to_local("Europe/London", t, &tm);
    return tm.tm_hour;
}

static bool weekday(int64_t t)
{
    struct tm tm;
    om_tz_utc_to_local("Europe/London", t, &tm);
    return tm.tm_wday >= 1 && tm.tm_wday <= 5;
}

/* Water: 1 m³/h in office hours, plus a leak of ctx[0] m³/h in [ctx[1], ctx[2]). */
static double water_rate(int64_t t, const void *ctx)
{
    const double *c = ctx;
    int h = local_hour(t);
    double office = weekday(t) && h >= 8 && h < 19 ? 1.0 : 0.0;
    return office + (t >= (int64_t)c[1] && t < (int64_t)c[2] ? c[0] : 0.0);
}

/* Electricity: 60 kW in office hours, 20 kW otherwise, plus a step of
 * ctx[0] kW in [ctx[1], ctx[2]). */
static double power_rate(int64_t t, const void *ctx)
{
    const double *c = ctx;
    int h = local_hour(t);
    double base = weekday(t) && h >= 8 && h < 19 ? 60.0 : 20.0;
    return base + (t >= (int64_t)c[1] && t < (int64_t)c[2] ? c[0] : 0.0);
}

static om_alert_job make_job(om_alert_rule rule, const om_meter *m, om_alert_settings *set)
{
    om_alert_policy builtin;
    om_alert_policy_builtin(&builtin);
    om_alert_settings_for(&builtin, &site, rule, m->id, set);
    om_alert_job job = {.rule = rule, .site = &site, .meter = m, .set = set, .policy = &policy};
    return job;
}

/* Evaluates with the readings up to `until` (all of them since the start,
 * as the evaluator would see them then), appending to out. */
static void run_until(const om_alert_job *tmpl, om_alert_state *st, const series_t *s,
                      int64_t until, om_alert_transitions *out)
{
    size_t k = 0;
    while (k < s->n && s->s[k].t <= until)
        k++;
    assert_true(k > 4);
    om_counter_opts opts;
    om_counter_opts_default(&opts);
    opts.interval_ms = STEP;
    opts.gap_intervals = 4;
    opts.max_rate_per_h = 5000; /* as the rollup takes it from the policy */
    om_counter *c = om_counter_new(s->s, k, &opts);
    assert_non_null(c);
    om_alert_series series = {c, s->s[k - 1].t, s->s[k - 1 - opts.lookahead].t};
    om_alert_meter_facts facts = {s->s[0].t, s->s[k - 1].t};
    om_alert_job job = *tmpl;
    job.series = &series;
    job.meter_facts = &facts;
    job.now = until;
    assert_int_equal(om_alert_evaluate(&job, st, out), 0);
    om_counter_free(c);
}

/* Day by day from first to last, or (step 0) in one burst at last. */
static void run_days(const om_alert_job *job, om_alert_state *st, const series_t *s,
                     int64_t first, int64_t last, int64_t step, om_alert_transitions *out)
{
    if (step == 0) {
        run_until(job, st, s, last, out);
        return;
    }
    for (int64_t t = first; t <= last; t += step)
        run_until(job, st, s, t, out);
}

static void assert_same_transitions(const om_alert_transitions *a, const om_alert_transitions *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->items[i].kind, b->items[i].kind);
        assert_int_equal(a->items[i].t, b->items[i].t);
        assert_string_equal(a->items[i].summary, b->items[i].summary);
        assert_string_equal(a->items[i].evidence, b->items[i].evidence);
    }
}

/* ---- water_night_flow ------------------------------------------------------------- */

static void test_night_flow_fires_holds_resolves(void **state)
{
    (void)state;
    int64_t t0 = om_test_iso("2024-01-01T00:00:00Z");
    /* A leak of 0.2 m³/h from the 10th at noon to the 20th at noon. */
    double leak[] = {0.2, (double)om_test_iso("2024-01-10T12:00:00Z"),
                     (double)om_test_iso("2024-01-20T12:00:00Z")};
    series_t s = make_series(t0, t0 + 30 * DAY, water_rate, leak);
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_WATER_NIGHT_FLOW, &meters[0], &set);
    om_alert_state st = {0};
    om_alert_transitions live = {0};
    run_days(&job, &st, &s, t0 + DAY, t0 + 30 * DAY, DAY, &live);
    assert_int_equal(live.n, 2);
    /* Nights of the 11th, 12th and 13th: fired at the end of the third. */
    assert_int_equal(live.items[0].kind, OM_ALERT_FIRE);
    assert_int_equal(live.items[0].t, om_test_iso("2024-01-13T05:00:00Z"));
    assert_non_null(strstr(live.items[0].evidence, "\"min_flow_m3h\":0.2"));
    assert_non_null(strstr(live.items[0].evidence, "\"date\":\"2024-01-11\""));
    /* The leak stops on the 20th: the nights of the 21st and 22nd are dry. */
    assert_int_equal(live.items[1].kind, OM_ALERT_RESOLVE);
    assert_int_equal(live.items[1].t, om_test_iso("2024-01-22T05:00:00Z"));
    assert_false(st.open);

    /* The same month arriving in one burst: the same transitions. */
    om_alert_state st2 = {0};
    om_alert_transitions burst = {0};
    run_days(&job, &st2, &s, 0, t0 + 30 * DAY, 0, &burst);
    assert_same_transitions(&live, &burst);
    om_alert_transitions_free(&live);
    om_alert_transitions_free(&burst);
    free(s.s);
}

static void test_night_flow_hysteresis(void **state)
{
    (void)state;
    int64_t t0 = om_test_iso("2024-01-01T00:00:00Z");
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_WATER_NIGHT_FLOW, &meters[0], &set);
    /* 0.007 m³/h: below the firing threshold (0.01), above the clear one
     * (0.005): never fires. */
    double drip[] = {0.007, (double)t0, (double)(t0 + 40 * DAY)};
    series_t s = make_series(t0, t0 + 20 * DAY, water_rate, drip);
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    run_days(&job, &st, &s, 0, t0 + 20 * DAY, 0, &tr);
    assert_int_equal(tr.n, 0);
    free(s.s);

    /* A leak of 0.05 that shrinks to the drip keeps the alert open. */
    double steps[] = {0.05, (double)t0, (double)om_test_iso("2024-01-08T12:00:00Z")};
    s = make_series(t0, t0 + 20 * DAY, water_rate, steps);
    /* Add the drip over the whole month on top: 0.057 then 0.007. */
    double v = 0;
    for (size_t i = 1; i < s.n; i++) {
        v += 0.007 * (double)STEP / HOUR;
        s.s[i].v += v;
    }
    memset(&st, 0, sizeof st);
    run_days(&job, &st, &s, 0, t0 + 20 * DAY, 0, &tr);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.items[0].kind, OM_ALERT_FIRE);
    assert_true(st.open);
    om_alert_transitions_free(&tr);
    free(s.s);
}

/* ---- base_load_rise, and the nights clocks change ------------------------------------ */

static void test_base_load_dst_nights(void **state)
{
    (void)state;
    /* Constant 20 kW at night through both changes of 2024: every night's
     * base load is exactly 20 kW, on the 3-hour and the 5-hour night too. */
    int64_t t0 = om_test_iso("2024-03-20T00:00:00Z");
    double none[] = {0, 0, 0};
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_BASE_LOAD_RISE, &meters[1], &set);
    series_t s = make_series(t0, t0 + 15 * DAY, power_rate, none);
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    run_days(&job, &st, &s, 0, t0 + 15 * DAY, 0, &tr);
    assert_int_equal(tr.n, 0);
    bool saw_march = false;
    for (size_t i = 0; i < st.nhist; i++) {
        om_test_assert_near(st.hist[i].v, 20.0);
        /* 01:00 local does not exist on the 31st: the night starts at the
         * first instant after the gap, 02:00 BST = 01:00 UTC, and ends at
         * 05:00 BST = 04:00 UTC. */
        saw_march |= st.hist[i].t == om_test_iso("2024-03-31T01:00:00Z");
    }
    assert_true(saw_march);
    assert_int_equal(st.cursor, om_test_iso("2024-04-03T04:00:00Z"));
    free(s.s);

    t0 = om_test_iso("2024-10-20T00:00:00Z");
    s = make_series(t0, t0 + 12 * DAY, power_rate, none);
    memset(&st, 0, sizeof st);
    run_days(&job, &st, &s, 0, t0 + 12 * DAY, 0, &tr);
    assert_int_equal(tr.n, 0);
    bool saw_october = false;
    for (size_t i = 0; i < st.nhist; i++) {
        om_test_assert_near(st.hist[i].v, 20.0);
        /* 01:00 is there twice on the 27th: the night starts at the first
         * (BST, 00:00 UTC) and ends at 05:00 GMT: five hours. */
        saw_october |= st.hist[i].t == om_test_iso("2024-10-27T00:00:00Z");
    }
    assert_true(saw_october);
    om_alert_transitions_free(&tr);
    free(s.s);
}

static void test_base_load_rise(void **state)
{
    (void)state;
    int64_t t0 = om_test_iso("2024-01-01T00:00:00Z");
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_BASE_LOAD_RISE, &meters[1], &set);
    /* +8 kW (40 %) from 2024-02-05 to 2024-02-15 over a 20 kW base. */
    double step[] = {8.0, (double)om_test_iso("2024-02-05T00:00:00Z"),
                     (double)om_test_iso("2024-02-15T00:00:00Z")};
    series_t s = make_series(t0, t0 + 60 * DAY, power_rate, step);
    om_alert_state st = {0};
    om_alert_transitions live = {0};
    run_days(&job, &st, &s, t0 + DAY, t0 + 60 * DAY, DAY, &live);
    assert_int_equal(live.n, 2);
    assert_int_equal(live.items[0].kind, OM_ALERT_FIRE);
    assert_int_equal(live.items[0].t, om_test_iso("2024-02-07T05:00:00Z"));
    assert_non_null(strstr(live.items[0].evidence, "\"baseline_kw\":20"));
    assert_int_equal(live.items[1].kind, OM_ALERT_RESOLVE);
    assert_int_equal(live.items[1].t, om_test_iso("2024-02-16T05:00:00Z"));

    /* Live until the 1st of February, then the rest in one burst (a
     * gateway back after an outage): the same transitions. (The evaluator's
     * very first look at a meter goes back OM_ALERT_FIRST_LOOKBACK_MS only,
     * so the burst follows a live start, as it does in service.) */
    om_alert_state st2 = {0};
    om_alert_transitions burst = {0};
    run_days(&job, &st2, &s, t0 + DAY, om_test_iso("2024-02-01T00:00:00Z"), DAY, &burst);
    run_days(&job, &st2, &s, 0, t0 + 60 * DAY, 0, &burst);
    assert_same_transitions(&live, &burst);
    om_alert_transitions_free(&burst);
    om_alert_transitions_free(&live);
    free(s.s);

    /* Too short a history: no judgement before min_baseline_nights. */
    s = make_series(t0, t0 + 10 * DAY, power_rate, (double[]){30.0, (double)t0, (double)(t0 + 9 * DAY)});
    memset(&st, 0, sizeof st);
    run_days(&job, &st, &s, 0, t0 + 10 * DAY, 0, &live);
    assert_int_equal(live.n, 0);
    om_alert_transitions_free(&live);
    free(s.s);
}

/* ---- water_continuous_flow ------------------------------------------------------------ */

static void test_continuous_flow(void **state)
{
    (void)state;
    int64_t t0 = om_test_iso("2024-01-06T00:00:00Z"); /* a Saturday */
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_WATER_CONTINUOUS_FLOW, &meters[0], &set);
    double leak[] = {0.1, (double)om_test_iso("2024-01-06T10:00:00Z"),
                     (double)om_test_iso("2024-01-09T03:00:00Z")};
    series_t s = make_series(t0, t0 + 6 * DAY, water_rate, leak);
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    run_days(&job, &st, &s, t0 + HOUR, t0 + 6 * DAY, HOUR, &tr);
    assert_int_equal(tr.n, 2);
    /* 24 hours of water from 10:00: fired at 10:00 the next day. */
    assert_int_equal(tr.items[0].t, om_test_iso("2024-01-07T10:00:00Z"));
    /* The leak stops at 03:00 on the 9th: two dry hours resolve it. */
    assert_int_equal(tr.items[1].kind, OM_ALERT_RESOLVE);
    assert_int_equal(tr.items[1].t, om_test_iso("2024-01-09T05:00:00Z"));
    om_alert_transitions_free(&tr);
    free(s.s);
}

/* ---- after_hours_use ------------------------------------------------------------------ */

static void test_after_hours(void **state)
{
    (void)state;
    int64_t t0 = om_test_iso("2024-01-01T00:00:00Z");
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_AFTER_HOURS_USE, &meters[1], &set);
    om_date holiday;
    om_parse_date("2024-01-17", &holiday);
    om_alert_calendar cal = {.working_days = 0x1F, .holidays = &holiday, .nholidays = 1};
    job.cal = &cal;
    set.p[OM_AP_SHARE] = 0.6; /* the mechanics, with thresholds close to this profile */
    set.p[OM_AP_CLEAR_SHARE] = 0.5;
    /* A normal weekend: 480 kWh against a working day's 1100 (44 %). */
    double none[] = {0, 0, 0};
    series_t s = make_series(t0, t0 + 16 * DAY, power_rate, none);
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    run_days(&job, &st, &s, 0, t0 + 16 * DAY, 0, &tr);
    assert_int_equal(tr.n, 0);
    /* The 17th, a Wednesday, is a holiday on which the office ran as usual. */
    free(s.s);
    s = make_series(t0, t0 + 20 * DAY, power_rate, none);
    run_days(&job, &st, &s, 0, t0 + 20 * DAY, 0, &tr);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.items[0].kind, OM_ALERT_FIRE);
    assert_int_equal(tr.items[0].t, om_test_iso("2024-01-18T00:00:00Z"));
    assert_non_null(strstr(tr.items[0].evidence, "\"day\":\"2024-01-17\""));
    /* The weekend of the 20th uses 52 % of a working day: between the clear
     * share (50 %) and the firing one (60 %), so the alert holds. */
    free(s.s);
    s = make_series(t0, t0 + 23 * DAY, power_rate, none);
    om_alert_state held = st;
    run_days(&job, &held, &s, 0, t0 + 23 * DAY, 0, &tr);
    assert_int_equal(tr.n, 1);
    assert_true(held.open);
    /* With a clear share of 55 % it resolves at that Saturday's end. */
    set.p[OM_AP_CLEAR_SHARE] = 0.55;
    run_days(&job, &st, &s, 0, t0 + 23 * DAY, 0, &tr);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.items[1].kind, OM_ALERT_RESOLVE);
    assert_int_equal(tr.items[1].t, om_test_iso("2024-01-21T00:00:00Z"));
    om_alert_transitions_free(&tr);
    free(s.s);
}

/* ---- counter_anomaly -------------------------------------------------------------------- */

static void test_counter_anomaly(void **state)
{
    (void)state;
    int64_t t0 = om_test_iso("2024-01-01T00:00:00Z");
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_COUNTER_ANOMALY, &meters[1], &set);
    double none[] = {0, 0, 0};
    series_t s = make_series(t0, t0 + 4 * DAY, power_rate, none);
    /* A reset to near zero at day 1 noon (counts on from there). */
    int64_t reset = om_test_iso("2024-01-02T12:00:00Z");
    double base = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.s[i].t == reset)
            base = s.s[i].v - 0.5;
        if (s.s[i].t >= reset)
            s.s[i].v -= base;
    }
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    /* Right after the reset it is not decided yet: nothing. */
    run_until(&job, &st, &s, reset + 2 * STEP, &tr);
    assert_int_equal(tr.n, 0);
    run_until(&job, &st, &s, reset + 6 * STEP, &tr);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.items[0].t, reset);
    assert_non_null(strstr(tr.items[0].evidence, "\"event\":\"reset\""));
    /* 24 quiet hours of data later: resolved at reset + 24 h. */
    run_until(&job, &st, &s, t0 + 4 * DAY, &tr);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.items[1].kind, OM_ALERT_RESOLVE);
    assert_int_equal(tr.items[1].t, reset + DAY);
    om_alert_transitions_free(&tr);
    free(s.s);
}

/* ---- clock rules ------------------------------------------------------------------------- */

static void test_meter_stale(void **state)
{
    (void)state;
    om_alert_settings set;
    om_alert_job job = make_job(OM_ALERT_METER_STALE, &meters[1], &set);
    int64_t now = om_test_iso("2026-12-04T10:00:00Z");
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    /* History from 2024 arriving (backfill): it moves on every cycle, fresh. */
    om_alert_meter_facts f = {om_test_iso("2024-01-01T00:00:00Z"), om_test_iso("2024-01-01T00:00:00Z")};
    job.meter_facts = &f;
    for (int i = 0; i < 20; i++) {
        f.last_t += DAY;
        job.now = now + i * MIN;
        assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    }
    assert_int_equal(tr.n, 0);
    /* It stops: stale after 4 poll intervals (4 x 900 s) of arrival time. */
    int64_t stopped = job.now;
    job.now = stopped + 59 * MIN;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 0);
    job.now = stopped + 61 * MIN;
    /* ... unless its gateway is down (that alert says it for the meter). */
    job.gateway_down = true;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 0);
    job.gateway_down = false;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.items[0].kind, OM_ALERT_FIRE);
    assert_int_equal(tr.items[0].t, stopped + 61 * MIN);
    /* Open while nothing arrives; resolved when readings arrive again. */
    job.now += HOUR;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 1);
    f.last_t += STEP;
    job.now += MIN;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.items[1].kind, OM_ALERT_RESOLVE);
    om_alert_transitions_free(&tr);
}

static void test_gateway_offline(void **state)
{
    (void)state;
    om_alert_settings set;
    om_alert_policy builtin;
    om_alert_policy_builtin(&builtin);
    om_alert_settings_for(&builtin, &site, OM_ALERT_GATEWAY_OFFLINE, "gw1", &set);
    om_alert_gateway_facts f = {.known = true, .state = "online", .health_t = 1000};
    om_alert_job job = {.rule = OM_ALERT_GATEWAY_OFFLINE, .site = &site, .gateway = "gw1",
                        .set = &set, .gateway_facts = &f};
    om_alert_state st = {0};
    om_alert_transitions tr = {0};
    int64_t t = om_test_iso("2026-12-04T10:00:00Z");
    for (int i = 0; i < 5; i++) {
        f.health_t += 60000;
        job.now = t += 60000;
        assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    }
    assert_int_equal(tr.n, 0);
    /* The last will: offline for 120 s before it fires (a restart is not an outage). */
    strcpy(f.state, "offline");
    job.now = t += 60000;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    job.now = t += 60000;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 0);
    job.now = t += 60000;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 1);
    /* Back online with health: resolved. */
    strcpy(f.state, "online");
    f.health_t += 600000;
    job.now = t += 60000;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.items[1].kind, OM_ALERT_RESOLVE);
    /* No health for 10 minutes, though nothing said offline: fires. */
    job.now = t += 11 * MIN;
    assert_int_equal(om_alert_evaluate(&job, &st, &tr), 0);
    assert_int_equal(tr.n, 3);
    assert_non_null(strstr(tr.items[2].summary, "no health message"));
    om_alert_transitions_free(&tr);
}

static void test_gateway_rules(void **state)
{
    (void)state;
    om_alert_policy builtin;
    om_alert_policy_builtin(&builtin);
    om_alert_settings sb, sc, sr;
    om_alert_settings_for(&builtin, &site, OM_ALERT_OUTBOX_BACKLOG, "gw1", &sb);
    om_alert_settings_for(&builtin, &site, OM_ALERT_CLOCK_SKEW, "gw1", &sc);
    om_alert_settings_for(&builtin, &site, OM_ALERT_REJECTS, "gw1", &sr);
    om_alert_gateway_facts f = {.known = true, .state = "online", .outbox_depth = 10,
                                .clock_ok = 1};
    om_alert_job backlog = {.rule = OM_ALERT_OUTBOX_BACKLOG, .site = &site, .gateway = "gw1",
                            .set = &sb, .gateway_facts = &f};
    om_alert_job skew = backlog, rejects = backlog;
    skew.rule = OM_ALERT_CLOCK_SKEW;
    skew.set = &sc;
    rejects.rule = OM_ALERT_REJECTS;
    rejects.set = &sr;
    om_alert_state sbk = {0}, ssk = {0}, srj = {0};
    om_alert_transitions tb = {0}, ts = {0}, tj = {0};
    int64_t t = om_test_iso("2026-12-04T10:00:00Z");
    /* The outbox grows by 10 polls a minute for 40 minutes (nothing acknowledged). */
    for (int i = 0; i < 40; i++) {
        f.health_t = t;
        f.health_sent_t = t + 500; /* the gateway's clock, half a second ahead */
        backlog.now = skew.now = rejects.now = t;
        assert_int_equal(om_alert_evaluate(&backlog, &sbk, &tb), 0);
        assert_int_equal(om_alert_evaluate(&skew, &ssk, &ts), 0);
        assert_int_equal(om_alert_evaluate(&rejects, &srj, &tj), 0);
        f.outbox_depth += 10;
        t += MIN;
    }
    assert_int_equal(tb.n, 1);
    assert_int_equal(ts.n, 0);
    assert_int_equal(tj.n, 0);
    /* It drains: resolved. */
    f.outbox_depth = 5;
    f.health_t = t;
    backlog.now = t;
    assert_int_equal(om_alert_evaluate(&backlog, &sbk, &tb), 0);
    assert_int_equal(tb.n, 2);
    /* Offline for two hours (its last will): the outbox grows unseen. Back
     * online, its first health shows the outage's backlog (125 polls) and
     * the next ones a slow drain that new polls keep level for 40 minutes:
     * not growth, no alert (gateway_offline covered the outage). */
    strcpy(f.state, "offline");
    for (int i = 0; i < 120; i++) {
        backlog.now = t += MIN;
        assert_int_equal(om_alert_evaluate(&backlog, &sbk, &tb), 0);
    }
    strcpy(f.state, "online");
    f.outbox_depth = 125;
    for (int i = 0; i < 40; i++) {
        f.health_t = backlog.now = t += MIN;
        assert_int_equal(om_alert_evaluate(&backlog, &sbk, &tb), 0);
        f.outbox_depth += i % 2; /* 125, 126, 126, 127, ...: level, never drained */
    }
    assert_int_equal(tb.n, 2);
    /* A clock 5 minutes ahead; then one that is not set at all. */
    f.health_sent_t = t + 5 * MIN;
    assert_int_equal(om_alert_evaluate(&skew, &ssk, &ts), 0);
    assert_int_equal(ts.n, 1);
    assert_non_null(strstr(ts.items[0].summary, "ahead by 300 s"));
    f.health_sent_t = t + 10 * 1000;
    skew.now = t += MIN;
    f.health_t = t;
    f.health_sent_t = t + 10 * 1000;
    assert_int_equal(om_alert_evaluate(&skew, &ssk, &ts), 0);
    assert_int_equal(ts.n, 2);
    f.clock_ok = 0;
    assert_int_equal(om_alert_evaluate(&skew, &ssk, &ts), 0);
    assert_int_equal(ts.n, 3);
    assert_non_null(strstr(ts.items[2].summary, "not set"));
    /* 30 rejects in a few minutes: more than 10 an hour. */
    for (int i = 0; i < 3; i++) {
        f.rejects += 10;
        rejects.now = t += MIN;
        assert_int_equal(om_alert_evaluate(&rejects, &srj, &tj), 0);
    }
    assert_int_equal(tj.n, 1);
    /* An hour later without more: resolved. */
    for (int i = 0; i < 70; i++) {
        rejects.now = t += MIN;
        assert_int_equal(om_alert_evaluate(&rejects, &srj, &tj), 0);
    }
    assert_int_equal(tj.n, 2);
    assert_int_equal(tj.items[1].kind, OM_ALERT_RESOLVE);
    om_alert_transitions_free(&tb);
    om_alert_transitions_free(&ts);
    om_alert_transitions_free(&tj);
}

/* ---- which rules apply, and the saved state ----------------------------------------------- */

static void test_rules_by_meter(void **state)
{
    (void)state;
    om_alert_policy builtin;
    om_alert_policy_builtin(&builtin);
    om_alert_settings set;
    om_meter sub = meters[1];
    sub.role = OM_ROLE_SUB;
    /* An electricity main meter: no water rule; a sub meter: no base load or
     * after-hours rule unless enabled on it. */
    assert_false(om_alert_meter_rule(&builtin, &site, &meters[1], OM_ALERT_WATER_NIGHT_FLOW, &set));
    assert_false(om_alert_meter_rule(&builtin, &site, &meters[1], OM_ALERT_WATER_CONTINUOUS_FLOW, &set));
    assert_true(om_alert_meter_rule(&builtin, &site, &meters[1], OM_ALERT_BASE_LOAD_RISE, &set));
    assert_false(om_alert_meter_rule(&builtin, &site, &sub, OM_ALERT_BASE_LOAD_RISE, &set));
    assert_true(om_alert_meter_rule(&builtin, &site, &sub, OM_ALERT_METER_STALE, &set));
    assert_true(om_alert_meter_rule(&builtin, &site, &meters[0], OM_ALERT_WATER_NIGHT_FLOW, &set));
    assert_false(om_alert_meter_rule(&builtin, &site, &meters[0], OM_ALERT_BASE_LOAD_RISE, &set));
    assert_false(om_alert_meter_rule(&builtin, &site, &meters[0], OM_ALERT_GATEWAY_OFFLINE, &set));
}

static void test_state_round_trip(void **state)
{
    (void)state;
    om_alert_state a;
    memset(&a, 0, sizeof a); /* padding too: the structs are compared bytewise */
    a.open = true;
    a.cursor = 1704081600000LL;
    a.streak = 3;
    a.baseline = 22.123456789012345;
    a.seen_value = 17;
    a.seen_at = 18;
    a.since = 19;
    a.since_value = 0.1;
    a.count = 4;
    a.last_event = 5;
    for (size_t i = 0; i < OM_ALERT_HISTORY; i++)
        a.hist[a.nhist++] = (om_alert_point){(int64_t)i * 1000, 1.0 / (double)(i + 3)};
    a.pts[a.npts++] = (om_alert_point){7, 0.2};
    char *text = om_alert_state_json(&a);
    assert_non_null(text);
    om_alert_state b;
    memset(&b, 0xAA, sizeof b);
    assert_int_equal(om_alert_state_parse(text, &b), 0);
    free(text);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(om_alert_state_parse("not json", &b), -1);
    assert_int_equal(om_alert_state_parse("[1]", &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_night_flow_fires_holds_resolves),
        cmocka_unit_test(test_night_flow_hysteresis),
        cmocka_unit_test(test_base_load_dst_nights),
        cmocka_unit_test(test_base_load_rise),
        cmocka_unit_test(test_continuous_flow),
        cmocka_unit_test(test_after_hours),
        cmocka_unit_test(test_counter_anomaly),
        cmocka_unit_test(test_meter_stale),
        cmocka_unit_test(test_gateway_offline),
        cmocka_unit_test(test_gateway_rules),
        cmocka_unit_test(test_rules_by_meter),
        cmocka_unit_test(test_state_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
