/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_web_gen.c - a portfolio with office-shaped readings for the web
 * view's tests and benchmark (tests/integration/test_web_*.sh,
 * tests/bench/bench_web.sh).
 *
 *   bench_web_gen DB SITES_DIR SITES METERS_PER_SITE FROM UNTIL INTERVAL_S
 *                 [DETAIL_FROM DETAIL_INTERVAL_S]
 *
 * Writes SITES_DIR/wNNN.yaml (one gateway; meter m0 is the main electricity
 * meter, m1.. electricity sub-meters, the last two the main and a sub water
 * meter when there are four meters or more), the factor and policy files,
 * and readings every INTERVAL_S seconds in [FROM, UNTIL) into the
 * aggregator database DB through the store's own writer (so the hourly
 * aggregates are written as the aggregator writes them), every
 * DETAIL_INTERVAL_S from DETAIL_FROM on when given: electricity
 * meters report energy_import_kwh and power_kw, water meters water_m3.
 * The load follows an office's week: working hours, a night base load,
 * quiet weekends. Site w000 also carries what the meter page marks: a
 * six-hour gap in m0's readings, a glitch (one reading far off) and a
 * counter reset of m1 (replaced hardware counting from zero).
 * Every site's gateway is "online" with a health message. Prints the
 * number of readings written.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/store/store.h"

static const char *const zones[] = {"Asia/Shanghai", "Europe/London", "Asia/Singapore",
                                    "Asia/Hong_Kong"};
static const char *const regions[] = {"CN-SH", "UK", "SG", "HK-CLP"};

static bool is_water(unsigned m, unsigned per)
{
    return per >= 4 && m + 2 >= per;
}

static int write_site(const char *dir, unsigned s, unsigned meters)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/w%03u.yaml", dir, s);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "site: w%03u\nname: Office %u\ntimezone: %s\ngrid_region: %s\n"
               "floor_area_m2:\n  - {from: 2020-01-01, m2: %u}\n"
               "headcount: {2024: %u, 2025: %u, 2026: %u}\n"
               "gateways:\n  - id: gw\n    buses:\n"
               "      - {id: rs485, rtu: {device: /dev/ttyUSB0}}\n"
               "      - {id: lan, tcp: {host: 192.0.2.1}}\n"
               "meters:\n",
            s, s, zones[s % 4], regions[s % 4], 800 + 10 * s, 40 + s % 50, 42 + s % 50,
            44 + s % 50);
    for (unsigned m = 0; m < meters; m++) {
        if (is_water(m, meters))
            fprintf(f, "  - {id: m%u, model: moxa-e1212, channel: %u, litres_per_pulse: 10, "
                       "gateway: gw, bus: lan, unit_id: 1, utility: water, role: %s}\n",
                    m, m + 2 == meters ? 0 : 1, m + 2 == meters ? "main" : "sub");
        else
            fprintf(f, "  - {id: m%u, model: eastron-sdm630, gateway: gw, bus: rs485, "
                       "unit_id: %u, utility: electricity, role: %s}\n",
                    m, m + 1, m == 0 ? "main" : "sub");
    }
    return fclose(f);
}

static int write_policy(const char *dir, long interval_s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/emission-factors.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s  - {id: web-%d, region: %s, kind: grid_electricity, value: 0.%d, "
                   "unit: tCO2/MWh, activity_year: 2023, source: \"test\", published: 2024-01-01,"
                   " verification: verified}\n", i == 0 ? "factors:\n" : "", i, regions[i], 3 + i);
    fclose(f);
    snprintf(path, sizeof path, "%s/reporting.yaml", dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "organisation: Web Test Ltd\nmax_power_kw: 5000\npoll_interval_s: %ld\n",
            interval_s);
    return fclose(f);
}

/* Standard offsets of the zones above (no DST: good enough for a shape). */
static const int64_t offsets_ms[] = {8 * 3600000LL, 0, 8 * 3600000LL, 8 * 3600000LL};

/* kW of an office meter at local time t: working hours Monday to Friday, a
 * base load at night and at weekends. */
static double load_kw(int64_t t, double peak)
{
    int64_t day = t / 86400000;
    int wday = (int)((day + 3) % 7); /* 0 = Monday */
    double hour = (double)(t % 86400000) / 3600000.0;
    double base = peak * 0.18;
    if (wday >= 5)
        return base * 1.1;
    if (hour < 7 || hour >= 20)
        return base;
    double x = (hour - 7) / 13.0;
    return base + (peak - base) * sin(M_PI * x);
}

static int put(om_store *st, om_store_origin *o, const char *meter, int64_t seq, int64_t t,
               om_quantity q1, double v1, om_quantity q2, double v2, bool two)
{
    om_poll p = {0};
    p.seq = seq;
    p.meter = (char *)meter;
    p.t_ms = t;
    p.nvalues = two ? 2 : 1;
    p.values[0] = (om_poll_value){q1, v1};
    p.values[1] = (om_poll_value){q2, v2};
    o->received_ms = t;
    return om_store_put_poll(st, o, &p, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 10) {
        fprintf(stderr, "usage: %s DB SITES_DIR SITES METERS_PER_SITE FROM UNTIL INTERVAL_S "
                        "[DETAIL_FROM DETAIL_INTERVAL_S]\n", argv[0]);
        return 2;
    }
    unsigned nsites = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned per = (unsigned)strtoul(argv[4], NULL, 10);
    int64_t from, until, step = (int64_t)strtoll(argv[7], NULL, 10) * 1000;
    if (om_parse_iso8601(argv[5], &from) < 0 || om_parse_iso8601(argv[6], &until) < 0 ||
        step <= 0 || per == 0 || per > 60) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    /* From DETAIL_FROM on, readings every DETAIL_INTERVAL_S instead. */
    int64_t detail_from = until, detail_step = step;
    if (argc == 10 && (om_parse_iso8601(argv[8], &detail_from) < 0 ||
                       (detail_step = (int64_t)strtoll(argv[9], NULL, 10) * 1000) <= 0)) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    if (write_policy(argv[2], (long)(step / 1000)) < 0)
        return 1;
    char err[1024];
    om_store *st = om_store_open(argv[1], OM_STORE_CREATE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint64_t total = 0;
    int64_t seq = 0;
    int64_t gap_from = from + (until - from) * 3 / 4, gap_to = gap_from + 6 * 3600000LL;
    int64_t glitch_t = from + (until - from) * 2 / 3 / step * step;
    int64_t reset_t = from + (until - from) * 5 / 6 / step * step;
    for (unsigned s = 0; s < nsites; s++) {
        if (write_site(argv[2], s, per) < 0)
            return 1;
        char site[16];
        snprintf(site, sizeof site, "w%03u", s);
        om_store_origin o = {site, "gw", "00000000000000cc", 0};
        if (om_store_begin(st) < 0)
            goto fail;
        for (unsigned m = 0; m < per; m++) {
            char meter[16];
            snprintf(meter, sizeof meter, "m%u", m);
            bool water = is_water(m, per);
            double peak = m == 0 ? 60 + (s % 9) * 10 : 8 + (s * 7 + m * 3) % 25;
            double flow = m + 2 == per ? 1.2 + (s % 5) * 0.2 : 0.3;
            double v = water ? 1000 + 10 * m : 20000 + 1000.0 * m;
            for (int64_t t = from, dt = step; t < until; t += dt) {
                dt = t < detail_from ? step : detail_step;
                int64_t local = t + offsets_ms[s % 4];
                double kw = water ? 0 : load_kw(local, peak);
                double v_out = v;
                if (s == 0 && m == 0 && t >= gap_from && t < gap_to)
                    goto advance; /* the gap */
                if (s == 0 && m == 0 && t == glitch_t)
                    v_out = v * 7; /* the glitch: contradicted by what follows */
                if (s == 0 && m == 1 && t == reset_t)
                    v = v_out = 0; /* the reset: new hardware from zero */
                if (put(st, &o, meter, ++seq, t, water ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH,
                        v_out, OM_Q_POWER_KW, kw, !water) < 0)
                    goto fail;
                total += water ? 1 : 2;
            advance:
                v += water ? flow * load_kw(local, 1) / 0.6 * (double)dt / 3600000.0
                           : kw * (double)dt / 3600000.0;
            }
        }
        /* The gateway is online and healthy. */
        if (om_store_gateway_state(st, site, "gw", "online", until) < 0 ||
            om_store_gateway_seen(st, site, "gw", until) < 0 ||
            om_store_gateway_health(st, site, "gw", until, 0, 0,
                                    "{\"v\":1,\"outbox\":{\"polls\":0},\"meters\":{}}") < 0 ||
            om_store_commit(st) < 0)
            goto fail;
    }
    om_store_checkpoint(st);
    om_store_close(st);
    printf("%" PRIu64 "\n", total);
    return 0;
fail:
    fprintf(stderr, "%s\n", om_store_errmsg(st));
    om_store_close(st);
    return 1;
}
