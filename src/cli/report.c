/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c - `officemeter report`: the annual KPI report from monthly
 * rollups, in Markdown, CSV, JSON or XLSX.
 *
 * Months of the year and the previous year that are missing, provisional
 * or computed from other inputs are rolled up first; the report itself
 * reads only the stored rollups, so it costs sites x months. Output goes
 * to -o FILE through a temporary file and a rename, or to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "officemeter/report/kpi.h"
#include "report_env.h"
#include "officemeter/report/kpi_xlsx.h"

typedef enum { FMT_MD, FMT_CSV, FMT_JSON, FMT_XLSX } report_format;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter report --year YYYY --format md|csv|json|xlsx [-o FILE]\n"
            "                          (--db DB --sites DIR | --config FILE) [options]\n"
            "\n"
            "The annual KPI report (HKEX ESG Reporting Code A1.2, A2.1, A2.2): the KPI table\n"
            "with the previous year restated, per-site breakdown, monthly table, factors\n"
            "with their sources, coverage and data-quality notes, and each site's estimates\n"
            "and flags. Built from the stored monthly rollups; months missing, provisional\n"
            "or computed from other site files or policy are rolled up first. JSON carries\n"
            "full precision (schema officemeter.report.v1); Markdown, CSV and XLSX show\n"
            "rounded figures (XLSX cells hold the full numbers). Method:\n"
            "docs/methodology.md.\n"
            "\n"
            "  --year YYYY       the reporting year (each site's local calendar year)\n"
            "  --format FORMAT   md, csv, json or xlsx\n"
            "  -o, --output FILE write here (required for xlsx; default: stdout)\n"
            "  --recompute       roll up every month again, stored or not\n" OM_ENV_USAGE);
}

static int parse_year(const char *text, int *year)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < 1990 || v > 2100)
        return -1;
    *year = (int)v;
    return 0;
}

static int parse_format(const char *text, report_format *f)
{
    const char *names[] = {"md", "csv", "json", "xlsx"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *f = (report_format)i;
            return 0;
        }
    return -1;
}

typedef struct {
    om_meter_month *rows;
    size_t nrows;
    om_month_event *events;
    size_t nevents;
} loaded;

static int load(om_env *env, const om_env_opts *eo, int year, bool recompute, loaded *l)
{
    size_t computed = 0;
    for (size_t i = 0; i < env->sites.nsites; i++) {
        const om_site *site = &env->sites.sites[i];
        if (!om_env_wants(env, eo, site))
            continue;
        for (int y = year - 1; y <= year; y++)
            for (unsigned m = 1; m <= 12; m++) {
                bool ran = false;
                int rc = recompute ? (ran = true, om_env_rollup(env, site, y, m))
                                   : om_env_ensure(env, site, y, m, &ran);
                if (rc < 0)
                    return -1;
                computed += ran;
            }
        if (om_rollupdb_load_year(env->db, site->site, year - 1, &l->rows, &l->nrows, NULL,
                                  NULL) < 0 ||
            om_rollupdb_load_year(env->db, site->site, year, &l->rows, &l->nrows, &l->events,
                                  &l->nevents) < 0) {
            fprintf(stderr, "officemeter report: %s\n", om_rollupdb_errmsg(env->db));
            return -1;
        }
    }
    if (computed)
        fprintf(stderr, "officemeter report: rolled up %zu site-months first\n", computed);
    return 0;
}

static int write_text(const om_report *r, report_format fmt, FILE *out)
{
    switch (fmt) {
    case FMT_MD: return om_report_write_md(r, out);
    case FMT_CSV: return om_report_write_csv(r, out);
    case FMT_JSON: return om_report_write_json(r, out);
    default: return -1;
    }
}

/* To `path` through a temporary name in the same folder and a rename. */
static int write_file(const om_report *r, report_format fmt, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int rc;
    if (fmt == FMT_XLSX) {
        char err[512] = "";
        rc = om_report_write_xlsx(r, tmp, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "officemeter report: %s: %s\n", path, err);
            unlink(tmp);
            return -1;
        }
    } else {
        FILE *f = fopen(tmp, "wb");
        if (!f) {
            fprintf(stderr, "officemeter report: %s: %s\n", tmp, strerror(errno));
            return -1;
        }
        rc = write_text(r, fmt, f) == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "officemeter report: %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}

static int run(om_env *env, const om_env_opts *eo, int year, report_format fmt,
               const char *output, bool recompute)
{
    loaded l = {0};
    int rc = load(env, eo, year, recompute, &l);
    om_site *sites = env->sites.sites;
    size_t nsites = env->sites.nsites;
    om_site one;
    if (rc == 0 && eo->site) {
        for (size_t i = 0; i < nsites; i++)
            if (strcmp(sites[i].site, eo->site) == 0)
                one = sites[i];
        sites = &one;
        nsites = 1;
    }
    om_report r;
    if (rc == 0) {
        om_kpi_input in = {sites, nsites, &env->factors, &env->policy, year,
                           l.rows, l.nrows, l.events, l.nevents};
        rc = om_report_compute(&in, &r);
        if (rc < 0)
            fprintf(stderr, "officemeter report: out of memory\n");
    }
    if (rc == 0) {
        if (output)
            rc = write_file(&r, fmt, output);
        else if (write_text(&r, fmt, stdout) < 0 || fflush(stdout) != 0)
            rc = -1;
        om_report_free(&r);
    }
    free(l.rows);
    free(l.events);
    return rc;
}

int om_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"year", required_argument, NULL, 'y'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"recompute", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    const char *year_text = NULL, *format_text = NULL, *output = NULL;
    bool recompute = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "y:f:o:h", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'y': year_text = optarg; break;
        case 'f': format_text = optarg; break;
        case 'o': output = optarg; break;
        case 'r': recompute = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int year;
    report_format fmt;
    if (optind < argc) {
        fprintf(stderr, "officemeter report: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!year_text || parse_year(year_text, &year) < 0) {
        fprintf(stderr, "officemeter report: --year: %s (got \"%s\", expected a year from 1990 "
                        "to 2100)\n", year_text ? "invalid year" : "missing",
                year_text ? year_text : "");
        return 2;
    }
    if (!format_text || parse_format(format_text, &fmt) < 0) {
        fprintf(stderr, "officemeter report: --format: %s (got \"%s\", expected md, csv, json "
                        "or xlsx)\n", format_text ? "unknown format" : "missing",
                format_text ? format_text : "");
        return 2;
    }
    if (fmt == FMT_XLSX && !output) {
        fprintf(stderr, "officemeter report: --format xlsx needs -o FILE (a workbook is not "
                        "written to a terminal)\n");
        return 2;
    }
    om_env env;
    int rc = om_env_open(&env, "report", &eo);
    if (rc == 0)
        rc = run(&env, &eo, year, fmt, output, recompute) < 0 ? 1 : 0;
    om_env_close(&env);
    return rc;
}
