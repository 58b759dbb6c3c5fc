/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_alerts_eval.c - what one evaluation cycle of `officemeter alerts
 * evaluate` costs, per site, on a portfolio of 200 sites.
 *
 * Each site: one gateway and four meters (an electricity main, two
 * electricity subs, a water main), readings every 15 minutes (energy or
 * volume and power or flow), i.e. every rule of docs/alerts.md runs: 4
 * gateway rules, meter_stale and counter_anomaly on each meter, the night
 * and day rules on the mains, the water rules on the water meter.
 *
 *   1. the database gets DAYS days of readings (default 35) for every meter;
 *   2. the first cycle: every data-time rule catches up on the history
 *      (OM_ALERT_FIRST_LOOKBACK_MS), the worst case of a cycle;
 *   3. then one simulated day in steps of 15 minutes: each step adds one
 *      poll per meter and runs a cycle, as the evaluator would every
 *      interval; the cycles where nights and days fall due are among them.
 *
 * Prints the wall time of each phase, per cycle and per site. Usage:
 *   bench_alerts_eval [SITES] [DAYS] [DB]    (defaults: 200, 35, /tmp/bench-alerts.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts_cli.h"
#include "officemeter/base/clock.h"
#include "officemeter/base/isotime.h"

#define STEP_MS (15 * 60000LL)
#define DAY_MS 86400000LL

typedef struct {
    char id[16];
    om_utility utility;
    om_role role;
    double counter, rate; /* kWh or m³, and kW or m³/h */
} bench_meter;

static om_site *make_sites(size_t n)
{
    om_site *sites = calloc(n, sizeof *sites);
    for (size_t i = 0; i < n; i++) {
        om_site *s = &sites[i];
        char *id = malloc(32);
        snprintf(id, 32, "site%03zu", i % 1000);
        s->site = id;
        static const char *const zones[] = {"Europe/London", "Asia/Shanghai", "Asia/Singapore",
                                            "Asia/Hong_Kong"};
        s->timezone = (char *)zones[i % 4];
        s->gateways = calloc(1, sizeof *s->gateways);
        s->gateways[0].id = strdup("gw");
        s->ngateways = 1;
        s->meters = calloc(4, sizeof *s->meters);
        s->nmeters = 4;
        static const char *const mid[] = {"main", "hvac", "light", "water"};
        for (int m = 0; m < 4; m++) {
            om_meter *me = &s->meters[m];
            me->id = (char *)mid[m];
            me->gateway_id = "gw";
            me->utility = m == 3 ? OM_UTILITY_WATER : OM_UTILITY_ELECTRICITY;
            me->role = m == 1 || m == 2 ? OM_ROLE_SUB : OM_ROLE_MAIN;
            me->active_from = me->active_until = OM_TIME_NONE;
        }
    }
    return sites;
}

/* The rate of meter m of a site at t: office hours and a night base. */
static double rate(int m, int64_t t)
{
    int64_t h = (t / 3600000) % 24, wd = (t / DAY_MS + 3) % 7;
    bool office = wd < 5 && h >= 8 && h < 19;
    static const double day[] = {60, 15, 8, 1.2}, night[] = {18, 4, 1, 0};
    return office ? day[m] : night[m];
}

/* One poll per meter of every site at each step in [from, to). */
static void fill(om_store *st, om_site *sites, size_t n, double (*counters)[4], int64_t from,
                 int64_t to, int64_t *seq)
{
    if (om_store_begin(st) < 0) {
        fprintf(stderr, "%s\n", om_store_errmsg(st));
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        om_store_origin o = {sites[i].site, "gw", "0123456789abcdef", to};
        for (int64_t t = from; t < to; t += STEP_MS)
            for (int m = 0; m < 4; m++) {
                om_poll p = {.seq = ++seq[i], .meter = sites[i].meters[m].id, .t_ms = t,
                             .nvalues = 2};
                bool water = m == 3;
                p.values[0] = (om_poll_value){water ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH,
                                              counters[i][m]};
                p.values[1] = (om_poll_value){water ? OM_Q_FLOW_M3H : OM_Q_POWER_KW, rate(m, t)};
                if (p.values[0].quantity > p.values[1].quantity) {
                    om_poll_value tmp = p.values[0];
                    p.values[0] = p.values[1];
                    p.values[1] = tmp;
                }
                om_store_put_poll(st, &o, &p, NULL);
                counters[i][m] += rate(m, t) * 0.25;
            }
        om_store_gateway_seen(st, sites[i].site, "gw", to);
        om_store_gateway_state(st, sites[i].site, "gw", "online", to);
        om_store_gateway_health(st, sites[i].site, "gw", to, 0, 0, "{\"v\":1,\"clock_ok\":true}");
    }
    if (om_store_commit(st) < 0) {
        fprintf(stderr, "%s\n", om_store_errmsg(st));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t nsites = argc > 1 ? (size_t)atoi(argv[1]) : 200;
    int days = argc > 2 ? atoi(argv[2]) : 35;
    const char *path = argc > 3 ? argv[3] : "/tmp/bench-alerts.db";
    unlink(path);
    char err[512];
    alerts_env env;
    memset(&env, 0, sizeof env);
    env.cmd = "bench";
    env.st = om_store_open(path, OM_STORE_CREATE, err, sizeof err);
    if (!env.st || !(env.db = om_alertdb_open(env.st, NULL, err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    env.sites.sites = make_sites(nsites);
    env.sites.nsites = nsites;
    env.policy = (om_policy){.gap_intervals = 4, .poll_interval_s = 900, .max_power_kw = 5000,
                             .max_flow_m3h = 100};
    om_alert_policy_builtin(&env.rules);
    double (*counters)[4] = calloc(nsites, sizeof *counters);
    int64_t *seq = calloc(nsites, sizeof *seq);
    int64_t t0;
    om_parse_iso8601("2024-01-01T00:00:00Z", &t0);

    int64_t began = om_mono_ms();
    for (int d = 0; d < days; d++)
        fill(env.st, env.sites.sites, nsites, counters, t0 + d * DAY_MS, t0 + (d + 1) * DAY_MS, seq);
    int64_t now = t0 + days * DAY_MS;
    printf("%zu sites (4 meters, 1 gateway each), %d days of 15-minute readings: %.1f s to store\n",
           nsites, days, (double)(om_mono_ms() - began) / 1000.0);

    alerts_cycle_stats s;
    if (alerts_evaluate(&env, now, &s) < 0)
        return 1;
    printf("first cycle (every rule catches up on the history): %u rules, %.1f ms, %.2f ms per "
           "site; %u fired\n", s.rules_run, (double)s.busy_us / 1000.0,
           (double)s.busy_us / 1000.0 / (double)nsites, s.fired);

    int steps = 96;
    int64_t *us = calloc((size_t)steps, sizeof *us);
    unsigned fired = 0;
    for (int k = 0; k < steps; k++) {
        fill(env.st, env.sites.sites, nsites, counters, now, now + STEP_MS, seq);
        now += STEP_MS;
        if (alerts_evaluate(&env, now, &s) < 0)
            return 1;
        us[k] = s.busy_us;
        fired += s.fired;
    }
    int64_t total = 0, max = 0;
    for (int k = 0; k < steps; k++) {
        total += us[k];
        max = us[k] > max ? us[k] : max;
    }
    /* Median by sorting. */
    for (int a = 0; a < steps; a++)
        for (int b = a + 1; b < steps; b++)
            if (us[b] < us[a]) {
                int64_t tmp = us[a];
                us[a] = us[b];
                us[b] = tmp;
            }
    printf("steady cycles (one simulated day, a cycle per 15-minute poll): %d cycles, median %.1f ms "
           "(%.0f us per site), mean %.1f ms, max %.1f ms (%.2f ms per site, the cycle where the "
           "nights and days fall due); %u fired\n",
           steps, (double)us[steps / 2] / 1000.0, (double)us[steps / 2] / (double)nsites,
           (double)total / steps / 1000.0, (double)max / 1000.0,
           (double)max / 1000.0 / (double)nsites, fired);
    om_alert_policy_free(&env.rules);
    om_alertdb_close(env.db);
    om_store_close(env.st);
    return 0;
}
