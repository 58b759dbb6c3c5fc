/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_rollup_gen.c - a synthetic portfolio and its readings for the
 * rollup and report benchmarks (tests/bench/run_rollup_bench.sh).
 *
 *   bench_rollup_gen DB SITES_DIR SITES METERS_PER_SITE FROM UNTIL INTERVAL_S
 *
 * Writes SITES_DIR/bNNN.yaml (one gateway; the first meter of each site is
 * the main electricity meter, the last a water pulse counter, the others
 * sub-meters), the factor and policy files, and counter readings every
 * INTERVAL_S seconds in [FROM, UNTIL) into the aggregator database DB
 * (the policy's poll_interval_s is INTERVAL_S),
 * through the store's own writer (one transaction per meter). Prints the
 * number of readings written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/store/store.h"

static const char *const zones[] = {"Asia/Shanghai", "Europe/London", "Asia/Singapore",
                                    "Asia/Hong_Kong"};
static const char *const regions[] = {"CN-SH", "UK", "SG", "HK-CLP"};

static int write_site(const char *dir, unsigned s, unsigned meters)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/b%03u.yaml", dir, s);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "site: b%03u\nname: Bench office %u\ntimezone: %s\ngrid_region: %s\n"
               "floor_area_m2:\n  - {from: 2020-01-01, m2: %u}\n"
               "headcount: {2023: %u, 2024: %u}\n"
               "gateways:\n  - id: gw\n    buses:\n"
               "      - {id: rs485, rtu: {device: /dev/ttyUSB0}}\n"
               "      - {id: lan, tcp: {host: 192.0.2.1}}\n"
               "meters:\n",
            s, s, zones[s % 4], regions[s % 4], 500 + 10 * s, 20 + s % 50, 21 + s % 50);
    for (unsigned m = 0; m < meters; m++) {
        if (m + 1 == meters && meters > 1)
            fprintf(f, "  - {id: m%u, model: moxa-e1212, channel: 0, litres_per_pulse: 10, "
                       "gateway: gw, bus: lan, unit_id: 1, utility: water, role: main}\n", m);
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
        fprintf(f, "%s  - {id: bench-%d, region: %s, kind: grid_electricity, value: 0.%d, "
                   "unit: tCO2/MWh, activity_year: 2023, source: \"bench\", published: 2024-01-01,"
                   " verification: verified}\n", i == 0 ? "factors:\n" : "", i, regions[i], 3 + i);
    fclose(f);
    snprintf(path, sizeof path, "%s/reporting.yaml", dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "organisation: Bench Ltd\nmax_power_kw: 1000\npoll_interval_s: %ld\n", interval_s);
    return fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s DB SITES_DIR SITES METERS_PER_SITE FROM UNTIL INTERVAL_S\n",
                argv[0]);
        return 2;
    }
    unsigned nsites = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned per = (unsigned)strtoul(argv[4], NULL, 10);
    int64_t from, until, step = (int64_t)strtoll(argv[7], NULL, 10) * 1000;
    if (om_parse_iso8601(argv[5], &from) < 0 || om_parse_iso8601(argv[6], &until) < 0 ||
        step <= 0 || per == 0 || per > 200) {
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
    for (unsigned s = 0; s < nsites; s++) {
        if (write_site(argv[2], s, per) < 0)
            return 1;
        char site[16];
        snprintf(site, sizeof site, "b%03u", s);
        om_store_origin o = {site, "gw", "00000000000000bb", 0};
        for (unsigned m = 0; m < per; m++) {
            char meter[16];
            snprintf(meter, sizeof meter, "m%u", m);
            bool water = m + 1 == per && per > 1;
            /* Rates differ per meter; a slow daily swing keeps the values honest. */
            double rate = water ? 0.5 + (s % 7) * 0.1 : 5 + (s * 7 + m * 3) % 40;
            double v = water ? 1000 : 10000 + 100.0 * m;
            if (om_store_begin(st) < 0)
                break;
            for (int64_t t = from; t < until; t += step) {
                om_poll p = {0};
                p.seq = ++seq;
                p.meter = meter;
                p.t_ms = t;
                p.nvalues = 1;
                p.values[0] = (om_poll_value){water ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH, v};
                o.received_ms = t;
                if (om_store_put_poll(st, &o, &p, NULL) < 0)
                    goto fail;
                int64_t minute = t / 60000 % 1440;
                v += rate * (double)step / 3600000.0 * (minute < 480 ? 0.6 : 1.2);
                total++;
            }
            if (om_store_commit(st) < 0)
                goto fail;
        }
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
