/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - `officemeter-aggregator --config FILE [--check]`.
 *
 * Parses the command line, loads the config, installs signal handlers that
 * only set flags (SIGTERM/SIGINT: commit and exit 0; SIGHUP: reload the
 * site files), and hands over to aggregator.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "aggregator.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/store/store.h"
#include "officemeter/daemon/signals.h"
#include "officemeter/daemon/log.h"

static om_aggregator_signals signals_seen;

static void on_stop(int sig)
{
    (void)sig;
    signals_seen.stop = 1;
}

static void on_reload(int sig)
{
    (void)sig;
    signals_seen.reload = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter-aggregator --config FILE [--check] [--ready-file FILE]\n"
            "                              [--log-level LEVEL]\n"
            "\n"
            "Receives every gateway's readings over MQTT, validates them, stores them in\n"
            "SQLite or PostgreSQL (once each) and acknowledges what is committed. SIGHUP\n"
            "reloads the site files; SIGTERM commits what is held and exits 0. See\n"
            "docs/aggregator.md.\n"
            "\n"
            "  --config FILE      aggregator.yaml\n"
            "  --check            validate the config, the site files and the database\n"
            "                     version, then exit (0: all good, 1: errors on stderr)\n"
            "  --ready-file FILE  write the process id to FILE once connected (for scripts)\n"
            "  --log-level LEVEL  error, warning, info or debug (default: the config's)\n");
}

/* --check: every error of the config and the site files, then the schema
 * version of an existing database. */
static int check(const om_agg_config *cfg, om_diag *diag)
{
    om_agg_sites sites;
    om_agg_sites_load(cfg, &sites, diag);
    size_t nmeters = 0;
    for (size_t i = 0; i < sites.nsites; i++)
        nmeters += sites.sites[i].nmeters;
    size_t nsites = sites.nsites;
    om_agg_sites_free(&sites);
    struct stat st;
    bool pg = om_database_is_postgresql(cfg->database);
    if (pg || stat(cfg->database, &st) == 0) {
        /* A database the daemon would create or bring forward is fine. */
        char err[1024];
        om_store *s = om_store_open(cfg->database, OM_STORE_READONLY, err, sizeof err);
        if (!s && !strstr(err, "older than this program") && !strstr(err, "no officemeter tables"))
            om_diag_add(diag, cfg->path, 0, 0, "database", "%s", err);
        om_store_close(s);
    }
    om_diag_print(diag, stderr);
    if (om_diag_count(diag) > 0) {
        fprintf(stderr, "failed: %zu error%s\n", om_diag_count(diag),
                om_diag_count(diag) == 1 ? "" : "s");
        return 1;
    }
    printf("ok: %s, %zu sites, %zu meters\n", cfg->path, nsites, nmeters);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"ready-file", required_argument, NULL, 'r'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *ready = NULL, *level = NULL;
    int only_check = 0, c;
    while ((c = getopt_long(argc, argv, "c:kr:l:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'k': only_check = 1; break;
        case 'r': ready = optarg; break;
        case 'l': level = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("officemeter-aggregator %s\n", OM_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config || optind < argc) {
        fprintf(stderr, "officemeter-aggregator: %s\n",
                config ? "unexpected argument" : "no config given (--config FILE)");
        return 2;
    }
    om_log_level lv;
    if (level && om_log_level_parse(level, &lv) < 0) {
        fprintf(stderr, "officemeter-aggregator: unknown log level \"%s\" (expected error, "
                        "warning, info or debug)\n", level);
        return 2;
    }
    om_log_set_ident("officemeter-aggregator");
    om_diag diag;
    om_diag_init(&diag);
    om_agg_config cfg;
    int rc = om_agg_config_load(config, &cfg, &diag);
    if (rc == 0 && only_check) {
        rc = check(&cfg, &diag);
    } else if (rc < 0) {
        om_diag_print(&diag, stderr);
        fprintf(stderr, "officemeter-aggregator: %s: %zu error%s, not started\n", config,
                om_diag_count(&diag), om_diag_count(&diag) == 1 ? "" : "s");
        rc = 1;
    } else {
        if (!level)
            om_log_level_parse(cfg.log_level, &lv);
        om_log_set_level(lv);
        om_daemon_install_signals(on_stop, on_reload);
        om_aggregator *a = om_aggregator_new(&cfg);
        rc = a && om_aggregator_run(a, &signals_seen, ready) == 0 ? 0 : 1;
        om_aggregator_free(a);
    }
    om_diag_free(&diag);
    om_agg_config_free(&cfg);
    return rc;
}
