/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_cli.h - what the files of `officemeter alerts` share: the
 * portfolio, rules and database (alerts_env.c), one evaluation cycle
 * (alerts_eval.c), delivery (alerts_deliver.c) and the evaluator's loop
 * (alerts_run.c). docs/alerts.md describes the command.
 */
#ifndef OFFICEMETER_CLI_ALERTS_CLI_H
#define OFFICEMETER_CLI_ALERTS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "officemeter/base/simclock.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/config/alertcfg.h"
#include "officemeter/config/factors.h"
#include "officemeter/store/alertdb.h"
#include "officemeter/store/store.h"

/* Options every subcommand may take; long option values from 1100 up. */
typedef struct {
    const char *db;
    const char *config;
    const char *sites_dir;
    const char *catalogue;
    const char *policy;    /* reporting.yaml */
    const char *rules;     /* alerts.yaml */
    const char *now;       /* ISO 8601: a fixed clock */
    const char *sim_clock; /* the simulator's clock file */
} alerts_opts;

enum {
    AOPT_DB = 1100,
    AOPT_CONFIG,
    AOPT_SITES,
    AOPT_CATALOGUE,
    AOPT_POLICY,
    AOPT_RULES,
    AOPT_NOW,
    AOPT_SIM_CLOCK,
};

#define ALERTS_LONG_OPTIONS                                                                    \
    {"db", required_argument, NULL, AOPT_DB}, {"config", required_argument, NULL, AOPT_CONFIG}, \
        {"sites", required_argument, NULL, AOPT_SITES},                                        \
        {"catalogue", required_argument, NULL, AOPT_CATALOGUE},                                \
        {"policy", required_argument, NULL, AOPT_POLICY},                                      \
        {"rules", required_argument, NULL, AOPT_RULES},                                        \
        {"now", required_argument, NULL, AOPT_NOW},                                            \
        {"sim-clock", required_argument, NULL, AOPT_SIM_CLOCK}

/* Takes one option of the shared set; false when c is not one of them. */
bool alerts_option(alerts_opts *o, int c, const char *arg);

typedef struct {
    const char *cmd;        /* "alerts evaluate", for messages */
    om_agg_config cfg;
    bool have_cfg;
    om_agg_sites sites;
    bool have_sites;
    om_policy policy;       /* reporting.yaml, or its defaults */
    bool have_policy;
    om_alert_policy rules;  /* alerts.yaml, or the built-in rules */
    bool have_rules;
    om_store *st;
    om_alertdb *db;         /* NULL on a read-only store that has no alerts yet */
    bool sim;               /* the clock is the simulator's */
    om_sim_clock simclock;
    int64_t fixed_now;      /* --now; 0: none */
} alerts_env;

enum {
    ALERTS_WRITE = 1u,      /* open the database for writing (and create the tables) */
    ALERTS_PORTFOLIO = 2u,  /* load site files, the reporting policy and the rules */
};

/* Prints the reason and returns the exit status (1, or 2 on bad usage) on
 * failure, 0 on success. alerts_env_close is safe either way. */
int alerts_env_open(alerts_env *env, const char *cmd, const alerts_opts *o, unsigned flags);
void alerts_env_close(alerts_env *env);
/* The evaluator's clock: --now, the simulator's, or the system's. */
int64_t alerts_env_now(const alerts_env *env);

/* "who" for acknowledgements and silences: --by, else the login name. */
const char *alerts_who(const char *by, char *buf, size_t len);

/* ---- one evaluation cycle (alerts_eval.c) ---- */

typedef struct {
    unsigned sites, rules_run, fired, resolved;
    unsigned failed;        /* sites (or the silences) left as they were, reason printed */
    int64_t busy_us;        /* time spent evaluating (reads, rules, writes) */
} alerts_cycle_stats;

/* Evaluates every rule of every site at `now` (each site kept or undone as
 * a whole, a few sites per transaction) and ends silences that ran out. A
 * site that fails is counted in stats->failed and left for the next cycle.
 * Returns 0, or -1 when the database refused a transaction (reason
 * printed). */
int alerts_evaluate(alerts_env *env, int64_t now, alerts_cycle_stats *stats);

/* ---- delivery (alerts_deliver.c) ---- */

typedef struct alerts_delivery alerts_delivery;

typedef struct {
    unsigned mqtt_events, mqtt_lists, webhooks, webhook_failures, am_posts, am_failures;
} alerts_delivery_stats;

/* Connects to the broker of the aggregator's config (when MQTT delivery
 * is on). NULL after printing the reason. */
alerts_delivery *alerts_delivery_new(alerts_env *env);
/* Registers every configured target (so that changes made from now on
 * reach it); call before evaluating. */
int alerts_delivery_targets(alerts_delivery *d, alerts_env *env);
/* Delivers what is due: MQTT events and retained lists, webhooks whose
 * backoff allows, Alertmanager's state. Failures are counted and retried
 * later, never lost. Returns 0, or -1 on a database error. */
int alerts_deliver(alerts_delivery *d, alerts_env *env, int64_t now, alerts_delivery_stats *st);
void alerts_delivery_free(alerts_delivery *d);

/* ---- subcommands (alerts_run.c, alerts.c) ---- */

int alerts_cmd_evaluate(int argc, char **argv);

#endif
