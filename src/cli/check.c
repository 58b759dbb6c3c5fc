/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.c - `officemeter check [PATHS...]`: validate configuration files.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/config/check.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter check [--catalogue DIR] [--quiet] [PATHS...]\n"
            "\n"
            "Validate meter models, site files, emission factors, the reporting policy and\n"
            "bills (bills/SITE.csv). PATHS are files or folders (searched recursively for\n"
            "*.yaml and bills/*.csv); default: sites\n"
            "firmware-config. Every error is printed as file:line:col: key: message, then\n"
            "the command exits 1.\n"
            "\n"
            "  --catalogue DIR  meter models to resolve site files against when PATHS\n"
            "                   contain none (default: firmware-config/meters when that\n"
            "                   folder exists, else " OM_AGG_DEFAULT_CATALOGUE ")\n"
            "  --quiet          print errors only, no summary\n");
}

int om_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"catalogue", required_argument, NULL, 'c'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct stat st;
    const char *catalogue = stat("firmware-config/meters", &st) == 0 && S_ISDIR(st.st_mode)
                                ? "firmware-config/meters"
                                : OM_AGG_DEFAULT_CATALOGUE;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': catalogue = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    char *defaults[] = {"sites", "firmware-config"};
    char *const *paths = optind < argc ? argv + optind : defaults;
    size_t npaths = optind < argc ? (size_t)(argc - optind) : 2;

    om_diag diag;
    om_diag_init(&diag);
    om_check_stats stats;
    int rc = om_check_paths(paths, npaths, catalogue, &diag, &stats);
    om_diag_print(&diag, stderr);
    if (!quiet)
        fprintf(rc == 0 ? stdout : stderr,
                "%s: %zu meter models, %zu sites, %zu factor files, %zu policy files, %zu agent "
                "configs, %zu aggregator configs, %zu web configs, %zu bill files, %zu alert "
                "policies; %zu error%s\n",
                rc == 0 ? "ok" : "failed", stats.models, stats.sites, stats.factor_files,
                stats.policy_files, stats.agent_files, stats.aggregator_files, stats.web_files,
                stats.bill_files, stats.alert_files,
                om_diag_count(&diag), om_diag_count(&diag) == 1 ? "" : "s");
    om_diag_free(&diag);
    return rc == 0 ? 0 : 1;
}
