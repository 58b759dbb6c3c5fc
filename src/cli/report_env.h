/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_env.h - what `officemeter rollup` and `officemeter report` share:
 * their common options, the portfolio (site files, catalogue, factors,
 * policy), the database, and "make sure this site's month is stored".
 */
#ifndef OFFICEMETER_CLI_REPORT_ENV_H
#define OFFICEMETER_CLI_REPORT_ENV_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "officemeter/config/aggcfg.h"
#include "officemeter/config/bills.h"
#include "officemeter/config/factors.h"
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
    om_agg_sites sites;
    om_factor_set factors;
    om_policy policy;
    om_bill_set bills;
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

/* The rollups a report reads. */
typedef struct {
    om_meter_month *rows;
    size_t nrows;
    om_month_event *events; /* of events_year only */
    size_t nevents;
} om_env_rollups;

/* Makes sure the wanted sites' months of `years` are stored and current
 * (recompute: every one again), then loads them, with the events of
 * events_year. verify: also recompute a stored month whose readings changed
 * since it was computed (their digests differ: late or corrected data),
 * naming it on stderr. Returns 0 or -1 (reason printed). */
int om_env_load(om_env *env, const om_env_opts *o, const int *years, size_t nyears,
                int events_year, bool recompute, bool verify, om_env_rollups *out);
void om_env_rollups_free(om_env_rollups *r);

#endif
