/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - `officemeter`: one binary, one subcommand per job.
 *
 * The table below is the whole dispatch; each subcommand lives in its own
 * file and parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} om_command;

static const om_command commands[] = {
    {"check", om_cmd_check, "validate site files, meter catalogue, factors, policy and bills"},
    {"probe", om_cmd_probe, "read one meter once and print decoded values"},
    {"sim", om_cmd_sim, "simulate the meters of a site over Modbus TCP and RTU"},
    {"list", om_cmd_list, "print a site's buses or meters, one per line, for scripts"},
    {"status", om_cmd_status, "gateways and meters: last seen, freshness, errors, outbox depth"},
    {"rejects", om_cmd_rejects, "messages and polls the aggregator refused, with reasons"},
    {"requeue", om_cmd_requeue, "store quarantined polls whose meter is now declared"},
    {"rollup", om_cmd_rollup, "compute and store a month per site and meter; write its CSV"},
    {"report", om_cmd_report, "the annual KPI report (md, csv, json, xlsx) from monthly rollups"},
    {"reconcile", om_cmd_reconcile, "the meters against the bills of the same periods"},
    {"evidence", om_cmd_evidence, "the evidence pack of a year's report; --verify rebuilds it"},
    {"explain", om_cmd_explain, "one figure of the report walked back to its readings"},
    {"acl", om_cmd_acl, "mosquitto ACL and password template: each gateway only its own topics"},
    {"web-user", om_cmd_webuser, "add a user of the web view (password hashed) and their sites"},
    {"alerts", om_cmd_alerts, "alerts: list, show, acknowledge, silence; evaluate and deliver them"},
    {"retention", om_cmd_retention, "thin old raw readings to what the rollups need, checked unchanged"},
    {"migrate", om_cmd_migrate, "copy the aggregator's database between SQLite and PostgreSQL, verified"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: officemeter COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'officemeter COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("officemeter %s\n", OM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "officemeter: unknown command '%s' (try 'officemeter --help')\n", argv[1]);
    return 2;
}
