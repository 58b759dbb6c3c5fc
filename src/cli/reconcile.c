/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.c - `officemeter reconcile`: the main meters against the bills
 * of the same periods, per site, utility and account, in Markdown, CSV or
 * JSON. Reads the readings themselves (not the rollups), over each bill's
 * own days.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_output.h"
#include "commands.h"
#include "officemeter/report/reconcile.h"
#include "report_env.h"

typedef enum { FMT_MD, FMT_CSV, FMT_JSON } recon_format;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter reconcile --year YYYY [--format md|csv|json] [-o FILE]\n"
            "                             (--db FILE --sites DIR | --config FILE) [options]\n"
            "\n"
            "Compares each bill (bills/SITE.csv) whose period touches the year with the main\n"
            "meters of its utility at the sites of its account, over the bill's own days:\n"
            "billed, metered, the variance in units and percent, flagged above the policy's\n"
            "bills.reconcile_threshold_pct (default 5), with the causes the data shows (a gap\n"
            "in the readings, a meter replaced, a counter event, a meter not covering the\n"
            "whole account or period, the same days billed twice). Then each account's bills\n"
            "together. Method: docs/methodology.md, \"Reconciliation\".\n"
            "\n"
            "  --year YYYY        the year (bills whose period touches it)\n"
            "  --format FORMAT    md (default), csv or json\n"
            "  -o, --output FILE  write here (default: stdout)\n"
            "  --threshold PCT    flag variances above this (default: the policy's)\n"
            "  --strict           exit 3 when a row is flagged\n" OM_ENV_USAGE);
}

static int write_to(const om_reconciliation *r, recon_format fmt, FILE *out)
{
    switch (fmt) {
    case FMT_CSV: return om_reconciliation_write_csv(r, out);
    case FMT_JSON: return om_reconciliation_write_json(r, out);
    default: return om_reconciliation_write_md(r, out);
    }
}

static int writer(void *user, FILE *out)
{
    const void *const *args = user;
    return write_to(args[0], *(const recon_format *)args[1], out);
}

static int run(om_env *env, const om_env_opts *eo, int year, double threshold, recon_format fmt,
               const char *output, bool strict)
{
    const om_site *sites = env->pf.sites.sites;
    size_t nsites = env->pf.sites.nsites;
    for (size_t i = 0; eo->site && i < env->pf.sites.nsites; i++)
        if (strcmp(env->pf.sites.sites[i].site, eo->site) == 0) {
            sites = &env->pf.sites.sites[i];
            nsites = 1;
        }
    om_rollup_source src;
    om_rollupdb_source(env->db, &src);
    om_reconciliation r;
    om_store_read_begin(env->st);
    int rc = om_reconcile(sites, nsites, env->pf.sites.sites, env->pf.sites.nsites, &env->pf.bills,
                          &env->pf.policy, year, threshold, &src, &r);
    om_store_read_end(env->st);
    if (rc < 0) {
        fprintf(stderr, "officemeter reconcile: %s\n",
                om_rollupdb_errmsg(env->db)[0] ? om_rollupdb_errmsg(env->db) : strerror(errno));
        return 1;
    }
    const void *args[2] = {&r, &fmt};
    rc = om_cli_write_output("reconcile", output, writer, (void *)args);
    if (rc == 0 && r.nbills == 0)
        fprintf(stderr, "officemeter reconcile: no bill touches %d\n", year);
    bool flagged = r.nflagged > 0;
    om_reconciliation_free(&r);
    return rc < 0 ? 1 : strict && flagged ? 3 : 0;
}

int om_cmd_reconcile(int argc, char **argv)
{
    static const struct option opts[] = {{"year", required_argument, NULL, 'y'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"threshold", required_argument, NULL, 't'},
                                         {"strict", no_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    eo.bills_may_overlap = true; /* what reconcile is there to show */
    const char *year_text = NULL, *format_text = "md", *output = NULL, *threshold_text = NULL;
    bool strict = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "y:f:o:h", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'y': year_text = optarg; break;
        case 'f': format_text = optarg; break;
        case 'o': output = optarg; break;
        case 't': threshold_text = optarg; break;
        case 's': strict = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "officemeter reconcile: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    int year;
    if (om_cli_parse_year("reconcile", year_text, &year) < 0)
        return 2;
    recon_format fmt;
    if (strcmp(format_text, "md") == 0)
        fmt = FMT_MD;
    else if (strcmp(format_text, "csv") == 0)
        fmt = FMT_CSV;
    else if (strcmp(format_text, "json") == 0)
        fmt = FMT_JSON;
    else {
        fprintf(stderr, "officemeter reconcile: --format: unknown format (got \"%s\", expected "
                        "md, csv or json)\n", format_text);
        return 2;
    }
    double threshold = -1;
    if (threshold_text) {
        char *end;
        threshold = strtod(threshold_text, &end);
        if (end == threshold_text || *end || !(threshold >= 0 && threshold <= 100)) {
            fprintf(stderr, "officemeter reconcile: --threshold: invalid percentage (got \"%s\", "
                            "expected a number from 0 to 100)\n", threshold_text);
            return 2;
        }
    }
    om_env env;
    int rc = om_env_open(&env, "reconcile", &eo);
    if (rc == 0)
        rc = run(&env, &eo, year,
                 threshold >= 0 ? threshold : env.pf.policy.bills.reconcile_threshold_pct, fmt,
                 output, strict);
    om_env_close(&env);
    return rc;
}
