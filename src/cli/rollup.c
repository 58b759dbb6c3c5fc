/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollup.c - `officemeter rollup`: compute and store one month per site,
 * and write each site's month as a CSV file for its facilities team.
 *
 * Re-running replaces the month in the database (idempotent). The CSV is
 * written to a temporary name in the output folder, flushed to disk and
 * renamed, so a reader never sees half a file.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "report_env.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter rollup [--month YYYY-MM] (--db DB --sites DIR | --config FILE)\n"
            "                          [--out DIR] [options]\n"
            "\n"
            "Computes each site's month from its meters' counters (in the site's time zone),\n"
            "stores it in the database (replacing an earlier run) and writes\n"
            "OUT/SITE-YYYY-MM.csv: per meter the consumption, estimated share, coverage,\n"
            "readings, minimum and maximum power or flow, and the night base load\n"
            "(00:00-05:00 local; for water the night flow, a sign of leaks). A month not\n"
            "over yet is marked provisional. Method: docs/methodology.md.\n"
            "\n"
            "  --month YYYY-MM   the month (default: each site's last complete month in its zone)\n"
            "  --out DIR         folder for the CSV files (default: the current folder)\n"
            "  --no-csv          store only\n" OM_ENV_USAGE);
}

static void put_opt(FILE *f, double v, int decimals)
{
    if (isnan(v))
        fputs(",", f);
    else
        fprintf(f, ",%.*f", decimals, v);
}

static double share(double part, double whole)
{
    return whole > 0 ? part / whole : 0;
}

static void csv_row(FILE *f, const om_meter_month *m)
{
    const om_quantity_info *qi = om_quantity_get(m->quantity);
    bool water = m->utility == OM_UTILITY_WATER;
    char a[40], b[40];
    fprintf(f, "%s,%s,%s,%s,%s,%04d-%02u,%s,%s,%.6f,%s,%.6f,%.6f,%.6f,%u", m->site, m->meter,
            water ? "water" : "electricity", m->role == OM_ROLE_MAIN ? "main" : "sub", qi->name,
            m->year, m->month, om_format_iso8601(m->start, a, sizeof a),
            om_format_iso8601(m->end, b, sizeof b), m->consumption, qi->unit, m->estimated,
            share(m->estimated, m->consumption),
            share((double)m->actual_ms, (double)m->expected_ms), m->nreadings);
    put_opt(f, m->rate_min, 3);
    put_opt(f, m->rate_max, 3);
    fprintf(f, ",%s", water ? "m³/h" : "kW");
    put_opt(f, m->night_avg, 3);
    put_opt(f, m->night_min, 3);
    fprintf(f, ",%u,%u,%s\r\n", m->nights, m->nevents, m->provisional ? "yes" : "no");
}

/* Site totals: the main meters' sum per utility, like the report's. */
static void csv_totals(FILE *f, const om_site *site, const om_meter_month *rows, size_t n)
{
    for (int water = 0; water <= 1; water++) {
        double total = 0, est = 0;
        int64_t expected = 0, actual = 0;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            const om_meter_month *m = &rows[i];
            if ((m->utility == OM_UTILITY_WATER) != water || m->role != OM_ROLE_MAIN)
                continue;
            any = true;
            double sign = m->quantity == OM_Q_ENERGY_EXPORT_KWH ? -1 : 1;
            total += sign * m->consumption;
            if (sign > 0) {
                est += m->estimated;
                expected += m->expected_ms;
                actual += m->actual_ms;
            }
        }
        if (!any)
            continue;
        fprintf(f, "%s,(site total),%s,main,%s,%04d-%02u,,,%.6f,%s,%.6f,%.6f,%.6f,,,,,,,,,%s\r\n",
                site->site, water ? "water" : "electricity",
                water ? "water_m3" : site->net_export ? "net electricity" : "energy_import_kwh",
                rows[0].year, rows[0].month, total, water ? "m³" : "kWh", est, share(est, total),
                share((double)actual, (double)expected), rows[0].provisional ? "yes" : "no");
    }
}

static int write_csv(const char *dir, const om_site *site, int year, unsigned month,
                     const om_meter_month *rows, size_t n)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s-%04d-%02u.csv", dir, site->site, year, month);
    snprintf(tmp, sizeof tmp, "%s/.%s-%04d-%02u.csv.%ld.tmp", dir, site->site, year, month,
             (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "officemeter rollup: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fputs("site,meter,utility,role,quantity,month,start,end,consumption,unit,estimated,"
          "estimated_share,coverage,readings,rate_min,rate_max,rate_unit,night_base,night_min,"
          "nights,events,provisional\r\n", f);
    for (size_t i = 0; i < n; i++)
        csv_row(f, &rows[i]);
    if (n)
        csv_totals(f, site, rows, n);
    int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "officemeter rollup: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void summary(const om_site *site, int year, unsigned month, const om_meter_month *rows,
                    size_t n)
{
    double e = 0, w = 0;
    uint32_t events = 0;
    bool prov = false, has_e = false, has_w = false;
    for (size_t i = 0; i < n; i++) {
        const om_meter_month *m = &rows[i];
        events += m->nevents;
        prov |= m->provisional;
        if (m->role != OM_ROLE_MAIN)
            continue;
        if (m->utility == OM_UTILITY_WATER) {
            w += m->consumption;
            has_w = true;
        } else {
            e += m->quantity == OM_Q_ENERGY_EXPORT_KWH ? -m->consumption : m->consumption;
            has_e = true;
        }
    }
    char ebuf[64] = "no main electricity meter", wbuf[64] = "no water meter";
    if (has_e)
        snprintf(ebuf, sizeof ebuf, "electricity %.3f kWh", e);
    if (has_w)
        snprintf(wbuf, sizeof wbuf, "water %.3f m³", w);
    printf("%s %04d-%02u: %s, %s, %zu meter rows, %u events%s\n", site->site, year, month, ebuf,
           wbuf, n, events, prov ? " (provisional)" : "");
}

static int rollup_site(om_env *env, const om_site *site, int year, unsigned month,
                       const char *out_dir)
{
    if (om_env_rollup(env, site, year, month) < 0)
        return -1;
    om_meter_month *rows = NULL;
    size_t n = 0;
    if (om_rollupdb_load_year(env->db, site->site, year, &rows, &n, NULL, NULL) < 0) {
        fprintf(stderr, "officemeter rollup: %s\n", om_rollupdb_errmsg(env->db));
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].month == month)
            rows[k++] = rows[i];
    summary(site, year, month, rows, k);
    int rc = out_dir ? write_csv(out_dir, site, year, month, rows, k) : 0;
    free(rows);
    return rc;
}

int om_cmd_rollup(int argc, char **argv)
{
    static const struct option opts[] = {{"month", required_argument, NULL, 'm'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"no-csv", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    const char *month_text = NULL, *out_dir = ".";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'm': month_text = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'n': out_dir = NULL; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int year = 0;
    unsigned month = 0;
    if (optind < argc) {
        fprintf(stderr, "officemeter rollup: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (month_text && om_parse_month(month_text, &year, &month) < 0) {
        fprintf(stderr, "officemeter rollup: --month: invalid month (got \"%s\", expected "
                        "YYYY-MM)\n", month_text);
        return 2;
    }
    if (out_dir && access(out_dir, W_OK | X_OK) < 0) {
        fprintf(stderr, "officemeter rollup: --out: %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    om_env env;
    int rc = om_env_open(&env, "rollup", &eo);
    if (rc != 0) {
        om_env_close(&env);
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < env.pf.sites.nsites; i++) {
        const om_site *site = &env.pf.sites.sites[i];
        if (!om_env_wants(&env, &eo, site))
            continue;
        /* Without --month: the last month complete in the site's own zone,
         * so a timer at night anywhere never takes a month still running
         * somewhere else, nor skips one. */
        if (!month_text)
            om_last_complete_month(site->timezone, env.now, &year, &month);
        if (rollup_site(&env, site, year, month, out_dir) < 0)
            rc = 1;
    }
    om_env_close(&env);
    return rc;
}
