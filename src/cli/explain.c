/* SPDX-License-Identifier: Apache-2.0 */
/*
 * explain.c - `officemeter explain --year YYYY KPI [--site S]`: one figure
 * of the report walked back to its sites, months, meters, boundary readings,
 * bills and factors, with the arithmetic (report/explain.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "report_env.h"
#include "cli_output.h"
#include "commands.h"
#include "officemeter/report/explain.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter explain --year YYYY KPI [--site ID]\n"
            "                           (--db FILE --sites DIR | --config FILE) [options]\n"
            "\n"
            "Walks one figure of the year's report back to where it comes from, with the\n"
            "arithmetic: the sites it covers and what each contributes, the emission factor\n"
            "and how it was chosen, the floor area or headcount it divides by, each site's\n"
            "months, each meter's month with the readings at its boundaries and the\n"
            "interpolation between them, and each bill's part. --site walks one site only\n"
            "(the figure is still the portfolio's). KPI is a key of the report, such as\n"
            "energy_total_mwh, ghg_total_t or water_intensity_t_per_m2\n"
            "(docs/methodology.md, \"The report JSON\").\n"
            "\n"
            "  --year YYYY       the reporting year\n" OM_ENV_USAGE);
}

int om_cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {{"year", required_argument, NULL, 'y'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    const char *year_text = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "y:h", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'y': year_text = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "officemeter explain: give one KPI key (got %d arguments)\n",
                argc - optind);
        return 2;
    }
    const char *kpi = argv[optind];
    int year;
    if (om_cli_parse_year("explain", year_text, &year) < 0)
        return 2;
    om_env env;
    int rc = om_env_open(&env, "explain", &eo);
    if (rc != 0) {
        om_env_close(&env);
        return rc;
    }
    /* The figure is the portfolio's; --site narrows the walk only. */
    om_env_opts all = eo;
    all.site = NULL;
    om_built_report b;
    rc = om_build_report(&env, &all, year, false, false, &b) < 0 ? 1 : 0;
    if (rc == 0) {
        om_rollup_source src;
        om_rollupdb_source(env.db, &src);
        om_store_read_begin(env.st);
        int x = om_explain(&b.r, kpi, eo.site, &src, stdout);
        om_store_read_end(env.st);
        if (x == -2) {
            fprintf(stderr, "officemeter explain: unknown KPI (got \"%s\", expected a key of the "
                            "report such as energy_total_mwh, ghg_total_t or water_t)\n", kpi);
            rc = 2;
        } else if (x < 0 || fflush(stdout) != 0) {
            fprintf(stderr, "officemeter explain: %s\n", om_rollupdb_errmsg(env.db));
            rc = 1;
        }
    }
    om_built_report_free(&b);
    om_env_close(&env);
    return rc;
}
