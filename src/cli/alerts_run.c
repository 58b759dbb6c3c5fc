/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_run.c - `officemeter alerts evaluate`: the evaluator.
 *
 * One cycle: register the delivery targets, evaluate every site, deliver
 * what is due. Run once (what officemeter-alerts.timer does every minute)
 * or every --every seconds until SIGTERM/SIGINT (tests, drills, machines
 * without systemd). Whatever stops it, a change once evaluated is in the
 * database and the next cycle delivers it.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts_cli.h"
#include "officemeter/base/clock.h"
#include "officemeter/daemon/log.h"
#include "officemeter/daemon/signals.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: officemeter alerts evaluate --config FILE [--rules FILE] [--policy FILE]\n"
        "                                   [--sites DIR] [--catalogue DIR]\n"
        "                                   [--now TIMESTAMP | --sim-clock FILE]\n"
        "                                   [--every SECONDS] [--no-deliver] [--log-level LEVEL]\n"
        "\n"
        "Evaluates every alert rule of every site on the stored data, records what fired\n"
        "and what resolved, and delivers the changes (MQTT, webhooks, Alertmanager).\n"
        "\n"
        "  --config FILE      aggregator.yaml: database, sites_dir, catalogue and broker\n"
        "  --rules FILE       the alert policy (default: SITES/alerts.yaml; built-in rules\n"
        "                     when there is none)\n"
        "  --policy FILE      the reporting policy (default: SITES/reporting.yaml)\n"
        "  --sites DIR        site files (default: the config's sites_dir)\n"
        "  --catalogue DIR    meter models (default: the config's)\n"
        "  --now TIMESTAMP    evaluate at this time (ISO 8601) instead of the clock\n"
        "  --sim-clock FILE   evaluate on the simulator's clock (officemeter sim --clock-file)\n"
        "  --every SECONDS    run a cycle every SECONDS (fractions allowed) until SIGTERM;\n"
        "                     default: one cycle, then exit\n"
        "  --no-deliver       evaluate and record only\n"
        "  --log-level LEVEL  error, warning, info (default), debug\n"
        "\n"
        "Exit status: 0 when the cycles ran, 1 when the files or the database are wrong,\n"
        "2 on bad usage. See docs/alerts.md.\n");
}

static void sleep_until_mono(int64_t at_ms)
{
    while (!stop_requested) {
        int64_t left = at_ms - om_mono_ms();
        if (left <= 0)
            return;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        if (nanosleep(&ts, NULL) == 0)
            return;
    }
}

/* 0, 1 when a site could not be evaluated, -1 when the database failed. */
static int cycle(alerts_env *env, alerts_delivery *d)
{
    int64_t now = alerts_env_now(env);
    alerts_cycle_stats es;
    alerts_delivery_stats ds = {0};
    if (d && alerts_delivery_targets(d, env) < 0)
        return -1;
    if (alerts_evaluate(env, now, &es) < 0)
        return -1;
    if (d && alerts_deliver(d, env, now, &ds) < 0)
        return -1;
    if (es.fired || es.resolved || ds.webhooks || ds.webhook_failures || ds.mqtt_events)
        om_log(OM_LOG_INFO,
               "cycle: %u sites, %u rules in %.1f ms; %u fired, %u resolved; delivered "
               "%u MQTT events, %u lists, %u webhook posts (%u failed), %u Alertmanager posts",
               es.sites, es.rules_run, (double)es.busy_us / 1000.0, es.fired, es.resolved,
               ds.mqtt_events, ds.mqtt_lists, ds.webhooks, ds.webhook_failures, ds.am_posts);
    return es.failed ? 1 : 0;
}

int alerts_cmd_evaluate(int argc, char **argv)
{
    static const struct option opts[] = {ALERTS_LONG_OPTIONS,
                                          {"every", required_argument, NULL, 'e'},
                                          {"no-deliver", no_argument, NULL, 'n'},
                                          {"log-level", required_argument, NULL, 'l'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    alerts_opts o = {0};
    double every = 0;
    bool deliver = true;
    om_log_level level = OM_LOG_INFO;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        if (alerts_option(&o, c, optarg))
            continue;
        switch (c) {
        case 'e':
            errno = 0;
            every = strtod(optarg, &end);
            if (end == optarg || *end || errno || !isfinite(every) || every <= 0 || every > 86400) {
                fprintf(stderr, "officemeter alerts evaluate: --every: expected seconds above 0, "
                                "got \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'n': deliver = false; break;
        case 'l':
            if (om_log_level_parse(optarg, &level) < 0) {
                fprintf(stderr, "officemeter alerts evaluate: --log-level: expected error, "
                                "warning, info or debug, got \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "officemeter alerts evaluate: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    om_log_set_ident("officemeter alerts");
    om_log_set_level(level);
    alerts_env env;
    int rc = alerts_env_open(&env, "alerts evaluate", &o, ALERTS_WRITE | ALERTS_PORTFOLIO);
    if (rc != 0) {
        alerts_env_close(&env);
        return rc;
    }
    alerts_delivery *d = deliver ? alerts_delivery_new(&env) : NULL;
    if (deliver && !d) {
        alerts_env_close(&env);
        return 1;
    }
    om_daemon_install_signals(on_stop, NULL);
    rc = 0;
    do {
        int64_t started = om_mono_ms();
        int outcome = cycle(&env, d);
        /* A site that failed is tried again next cycle; a database that
         * refuses transactions ends the evaluator (systemd restarts it). */
        rc = outcome == 0 ? 0 : 1;
        if (outcome < 0)
            break;
        if (every > 0)
            sleep_until_mono(started + (int64_t)llround(every * 1000));
    } while (every > 0 && !stop_requested);
    alerts_delivery_free(d);
    alerts_env_close(&env);
    return rc;
}
