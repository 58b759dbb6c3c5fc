/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_env.h - what `rollup`, `report`, `evidence`, `explain`,
 * `reconcile` and `retention` share: their common options, the portfolio
 * (om_portfolio: site files, catalogue, factors, policy, bills) and the
 * database, opened for writing. The rules (which month is current, the
 * report with its approval) are the portfolio library's.
 */
#ifndef OFFICEMETER_CLI_REPORT_ENV_H
#define OFFICEMETER_CLI_REPORT_ENV_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "officemeter/config/aggcfg.h"
#include "officemeter/portfolio/build.h"
#include "officemeter/portfolio/portfolio.h"
#include "officemeter/store/rollupdb.h"
#include "officemeter/store/store.h"

/* Options both commands take; long option values from 1000 up. */
typedef struct {
    const char *db;
    const char *config;
    const char *sites_dir;
    const char *catalogue;
    const char *factors;
    const char *policy;
    const char *site; /* only this site */
    const char *now;  /* ISO 8601: the clock for "complete" and "provisional" */
    const char *bills; /* folder of bill files (default: the policy's bills.folder) */
    bool bills_may_overlap; /* reconcile: days billed twice are shown, not refused */
} om_env_opts;

enum {
    OPT_DB = 1000,
    OPT_CONFIG,
    OPT_SITES,
    OPT_CATALOGUE,
    OPT_FACTORS,
    OPT_POLICY,
    OPT_SITE,
    OPT_NOW,
    OPT_BILLS,
};

#define OM_ENV_LONG_OPTIONS                                                                     \
    {"db", required_argument, NULL, OPT_DB}, {"config", required_argument, NULL, OPT_CONFIG},   \
        {"sites", required_argument, NULL, OPT_SITES},                                          \
        {"catalogue", required_argument, NULL, OPT_CATALOGUE},                                  \
        {"factors", required_argument, NULL, OPT_FACTORS},                                      \
        {"policy", required_argument, NULL, OPT_POLICY},                                        \
        {"site", required_argument, NULL, OPT_SITE}, {"now", required_argument, NULL, OPT_NOW}, \
        {"bills", required_argument, NULL, OPT_BILLS}

#define OM_ENV_USAGE                                                                            \
    "  --db DB           the aggregator's database: a file or a postgresql:// URI\n"             \
    "  --config FILE     aggregator.yaml: database, sites_dir and catalogue from it\n"         \
    "  --sites DIR       site files (default: the config's sites_dir)\n"                       \
    "  --catalogue DIR   meter models (default: the config's, else " OM_AGG_DEFAULT_CATALOGUE ")\n" \
    "  --factors FILE    emission factors (default: SITES/emission-factors.yaml)\n"            \
    "  --policy FILE     reporting policy (default: SITES/reporting.yaml)\n"                   \
    "  --bills DIR       bills, one SITE.csv each (default: the policy's bills.folder,\n"     \
    "                    SITES/bills)\n"                                                      \
    "  --site ID         only this site\n"                                                     \
    "  --now TIMESTAMP   the time to judge complete months by (default: the clock)\n"

/* Takes one option of the shared set; false when c is not one of them. */
bool om_env_option(om_env_opts *o, int c, const char *arg);

typedef struct {
    om_agg_config cfg;
    bool have_cfg;
    om_portfolio pf;
    om_store *st;
    om_rollupdb *db;
    int64_t now;
    const char *cmd;
} om_env;

/* Loads everything and opens the database for writing. Prints the reason
 * and returns the exit status (1, or 2 for bad usage) on failure, 0 on
 * success. om_env_close is safe either way. */
int om_env_open(om_env *env, const char *cmd, const om_env_opts *o);
/* The files only (--sites with --catalogue, --factors, --policy, --bills),
 * no database: what `evidence --verify` rebuilds a report from. */
int om_env_open_files(om_env *env, const char *cmd, const om_env_opts *o);
void om_env_close(om_env *env);

/* The sites to work on: all, or the one --site names (NULL and a message
 * when it is unknown). */
bool om_env_wants(const om_env *env, const om_env_opts *o, const om_site *site);

/* Computes a site's month and stores it, replacing what was stored. */
int om_env_rollup(om_env *env, const om_site *site, int year, unsigned month);
/* Makes sure a site's month is stored and current: computes it when it is
 * missing, provisional or computed from other inputs. Months that have
 * not started at `now` are left alone. *computed tells whether it ran. */
int om_env_ensure(om_env *env, const om_site *site, int year, unsigned month, bool *computed);

/* The report of `year` as `report`, `evidence` and `explain` build it
 * (om_portfolio_build_report, --site honoured): the months stored and
 * current first (recompute: every one again; verify_readings: also those
 * whose readings changed, which an approved year always does), saying on
 * stderr what was computed. Prints the reason and returns -1 on failure;
 * om_built_report_free either way. */
int om_build_report(om_env *env, const om_env_opts *eo, int year, bool recompute,
                    bool verify_readings, om_built_report *b);

#endif
