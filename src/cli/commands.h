/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands.h - the subcommands of `officemeter`.
 *
 * Each takes argc/argv starting at its own name (argv[0] = "check") and
 * returns the process exit status: 0 on success, 1 on a failure the user
 * must act on (a bad file, a meter that does not answer), 2 on bad usage.
 */
#ifndef OFFICEMETER_CLI_COMMANDS_H
#define OFFICEMETER_CLI_COMMANDS_H

#include <stdbool.h>

#include "officemeter/config/aggcfg.h"
#include "officemeter/store/store.h"

int om_cmd_check(int argc, char **argv);
int om_cmd_probe(int argc, char **argv);
int om_cmd_sim(int argc, char **argv);
int om_cmd_list(int argc, char **argv);
int om_cmd_status(int argc, char **argv);
int om_cmd_rejects(int argc, char **argv);
int om_cmd_requeue(int argc, char **argv);
int om_cmd_rollup(int argc, char **argv);
int om_cmd_report(int argc, char **argv);
int om_cmd_reconcile(int argc, char **argv);
int om_cmd_evidence(int argc, char **argv);
int om_cmd_explain(int argc, char **argv);
int om_cmd_acl(int argc, char **argv);
int om_cmd_webuser(int argc, char **argv);
int om_cmd_alerts(int argc, char **argv);
int om_cmd_migrate(int argc, char **argv);
int om_cmd_retention(int argc, char **argv);

/* The aggregator's database for status, rejects and requeue: --db DB (a
 * SQLite file or a postgresql:// URI), or
 * the `database` of --config FILE (then *cfg is loaded and *have_cfg set;
 * free it with om_agg_config_free). NULL after printing the reason. */
om_store *om_cli_open_store(const char *cmd, const char *db, const char *config, unsigned flags,
                            om_agg_config *cfg, bool *have_cfg);

#endif
