/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - officemeter-agent: the gateway daemon's command line.
 *
 *   officemeter-agent --config FILE [--bus OVERRIDE ...] [--log-level LEVEL]
 *                     [--sim-clock FILE]
 *                     [--check | --plan | --once [--ack-timeout SECONDS]]
 *
 * Exit status: 0 success; 1 a problem to fix elsewhere (config, site,
 * catalogue, credentials, broker, outbox), with one line per problem on
 * stderr; 2 bad usage; 3 --once published but got no acknowledgement in time.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "clock.h"
#include "officemeter/daemon/notify.h"
#include "officemeter/daemon/signals.h"
#include "officemeter/daemon/log.h"
#include "officemeter/modbus/plan.h"
#include "officemeter/outbox/outbox.h"

#define PROG "officemeter-agent"
#define MAX_OVERRIDES 32
#define DEFAULT_ACK_TIMEOUT_S 30
#define OUTBOX_CACHE_BYTES (512 * 1024)

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_hup;
/* The agent whose loop a signal must wake (it sleeps until its next
 * deadline, which may be a minute away); NULL outside om_agent_run. */
static om_agent *volatile signalled_agent;

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
    om_agent *a = signalled_agent;
    if (a)
        om_agent_wake(a);
}

static void on_hup(int sig)
{
    (void)sig;
    got_hup = 1;
    om_agent *a = signalled_agent;
    if (a)
        om_agent_wake(a);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --config FILE [options]\n"
            "\n"
            "Polls the meters of one gateway over Modbus RTU/TCP and delivers every reading\n"
            "to the aggregator over MQTT, through a durable outbox (docs/agent.md).\n"
            "\n"
            "  --config FILE        agent configuration (agent.yaml)\n"
            "  --check              validate the config, its site file and the catalogue; exit\n"
            "  --plan               print the Modbus request plan per bus and meter; exit\n"
            "  --once               poll every meter once, publish, wait for the\n"
            "                       acknowledgement, exit (0: acknowledged, 3: not in time)\n"
            "  --ack-timeout S      --once: how long to wait for the acknowledgement (default %d)\n"
            "  --bus [GW/]BUS=tcp:HOST:PORT | [GW/]BUS=rtu:DEVICE\n"
            "                       poll a bus somewhere else than the site file says (repeatable)\n"
            "  --log-level LEVEL    error, warning, info or debug (default: the config's)\n"
            "  --sim-clock FILE     stamp and schedule polls in the simulated time of\n"
            "                       officemeter sim --clock-file FILE (demos and drills)\n"
            "  --version            print the version\n"
            "  --help               this text\n"
            "\n"
            "Signals: SIGTERM/SIGINT finish the current poll, flush and exit 0; SIGHUP reloads\n"
            "the configuration (a configuration with errors is refused and the old one kept).\n",
            DEFAULT_ACK_TIMEOUT_S);
}

typedef enum { MODE_RUN, MODE_CHECK, MODE_PLAN, MODE_ONCE } run_mode;

typedef struct {
    const char *config;
    run_mode mode;
    unsigned ack_timeout_s;
    const char *log_level;
    om_bus_override overrides[MAX_OVERRIDES];
    size_t noverrides;
} cli;

static int parse_uint(const char *text, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (end == text || *end || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static void free_cli(cli *c)
{
    for (size_t i = 0; i < c->noverrides; i++)
        om_bus_override_free(&c->overrides[i]);
}

/* Returns -1 to exit 0 (help), 0 to go on, 2 on bad usage. */
static int parse_args(int argc, char **argv, cli *c)
{
    enum { OPT_ACK = 256, OPT_LOG, OPT_VERSION, OPT_SIM_CLOCK };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"plan", no_argument, NULL, 'p'},
        {"once", no_argument, NULL, 'o'},
        {"bus", required_argument, NULL, 'b'},
        {"ack-timeout", required_argument, NULL, OPT_ACK},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"version", no_argument, NULL, OPT_VERSION},
        {"sim-clock", required_argument, NULL, OPT_SIM_CLOCK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(c, 0, sizeof *c);
    c->ack_timeout_s = DEFAULT_ACK_TIMEOUT_S;
    int opt, modes = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        char err[512];
        om_log_level lvl;
        switch (opt) {
        case 'c': c->config = optarg; break;
        case 'k': c->mode = MODE_CHECK; modes++; break;
        case 'p': c->mode = MODE_PLAN; modes++; break;
        case 'o': c->mode = MODE_ONCE; modes++; break;
        case 'b':
            if (c->noverrides == MAX_OVERRIDES) {
                fprintf(stderr, PROG ": too many --bus overrides (at most %d)\n", MAX_OVERRIDES);
                return 2;
            }
            if (om_bus_override_parse(optarg, &c->overrides[c->noverrides], err, sizeof err) < 0) {
                fprintf(stderr, PROG ": --bus: %s\n", err);
                return 2;
            }
            c->noverrides++;
            break;
        case OPT_ACK:
            if (parse_uint(optarg, 1, 86400, &c->ack_timeout_s) < 0) {
                fprintf(stderr, PROG ": --ack-timeout: expected seconds from 1 to 86400, got "
                        "\"%s\"\n", optarg);
                return 2;
            }
            break;
        case OPT_LOG:
            if (om_log_level_parse(optarg, &lvl) < 0) {
                fprintf(stderr, PROG ": --log-level: expected error, warning, info or debug, "
                        "got \"%s\"\n", optarg);
                return 2;
            }
            c->log_level = optarg;
            break;
        case OPT_SIM_CLOCK:
            if (om_clock_use_sim(optarg, err, sizeof err) < 0) {
                fprintf(stderr, PROG ": %s\n", err);
                return 2;
            }
            break;
        case OPT_VERSION:
            printf(PROG " %s\n", OM_VERSION);
            return -1;
        case 'h':
            usage(stdout);
            return -1;
        case ':':
            fprintf(stderr, PROG ": %s needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, PROG ": unknown option %s (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return 2;
    }
    if (!c->config) {
        fprintf(stderr, PROG ": --config FILE is required (see --help)\n");
        return 2;
    }
    if (modes > 1) {
        fprintf(stderr, PROG ": --check, --plan and --once exclude each other\n");
        return 2;
    }
    return 0;
}

static int load_or_report(const cli *c, bool credentials, om_agent_setup *s)
{
    om_diag diag;
    om_diag_init(&diag);
    om_agent_setup_options so = {.overrides = c->overrides,
                                 .noverrides = c->noverrides,
                                 .credentials = credentials};
    int rc = om_agent_setup_load(c->config, &so, s, &diag);
    om_diag_print(&diag, stderr);
    om_diag_free(&diag);
    return rc;
}

static int run_check(const cli *c)
{
    om_agent_setup s;
    int rc = load_or_report(c, true, &s);
    if (rc == 0)
        printf("%s: ok (site %s, gateway %s: %zu meters on %zu buses; %zu catalogue models)\n",
               c->config, s.site.site, s.gateway->id, s.nmeters, s.gateway->nbuses,
               s.cat.nmodels);
    else
        fprintf(stderr, PROG ": %s: configuration has errors (listed above)\n", c->config);
    om_agent_setup_free(&s);
    return rc == 0 ? 0 : 1;
}

static int run_plan(const cli *c)
{
    om_agent_setup s;
    if (load_or_report(c, false, &s) < 0) {
        om_agent_setup_free(&s);
        return 1;
    }
    om_gateway_plan plan;
    char err[512];
    int rc = 0;
    if (om_plan_gateway(&s.site, s.gateway->id, NULL, &plan, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        rc = 1;
    } else {
        om_plan_print(stdout, &plan);
        om_gateway_plan_free(&plan);
    }
    om_agent_setup_free(&s);
    return rc;
}

static int run_daemon(const cli *c)
{
    om_agent a;
    om_diag diag;
    char err[512];
    om_diag_init(&diag);
    om_agent_options ao = {.config_path = c->config,
                           .overrides = c->overrides,
                           .noverrides = c->noverrides,
                           .log_level = c->log_level,
                           .once = c->mode == MODE_ONCE};
    om_daemon_install_signals(on_term, on_hup);
    int rc = 0;
    if (om_agent_init(&a, &ao, &diag, err, sizeof err) < 0) {
        if (om_diag_count(&diag))
            om_diag_print(&diag, stderr);
        else
            fprintf(stderr, PROG ": %s\n", err);
        rc = 1;
        goto done;
    }
    if (om_agent_connect(&a, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        rc = 1;
        goto done;
    }
    if (c->mode == MODE_ONCE) {
        rc = om_agent_once(&a, c->ack_timeout_s * 1000u, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, PROG ": %s\n", err);
        om_agent_shutdown(&a);
        goto done;
    }
    if (om_agent_start_workers(&a, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        rc = 1;
        goto done;
    }
    /* Loading YAML, the catalogue and the plans freed a lot of small
     * blocks: give those pages back before settling down for months. */
    malloc_trim(0);
    om_agent_notify_ready(&a);
    signalled_agent = &a;
    om_agent_run(&a, &got_term, &got_hup);
    signalled_agent = NULL;
    om_notify_stopping();
    om_log(OM_LOG_INFO, "stopping: finishing the current polls");
    om_agent_shutdown(&a);
    om_log(OM_LOG_INFO, "stopped");
done:
    om_agent_free(&a);
    om_diag_free(&diag);
    return rc;
}

int main(int argc, char **argv)
{
    cli c;
    int rc = parse_args(argc, argv, &c);
    if (rc != 0) {
        free_cli(&c);
        return rc < 0 ? 0 : rc;
    }
    om_log_set_ident(PROG);
    /* glibc gives every thread that allocates its own malloc arena; with a
     * worker per bus that is megabytes of mostly empty heaps. Two arenas
     * are plenty for a daemon that allocates little after startup. */
    mallopt(M_ARENA_MAX, 2);
    /* SQLite would cache up to 2 MiB of outbox pages. */
    om_outbox_limit_cache(OUTBOX_CACHE_BYTES);
    switch (c.mode) {
    case MODE_CHECK: rc = run_check(&c); break;
    case MODE_PLAN: rc = run_plan(&c); break;
    default: rc = run_daemon(&c); break;
    }
    free_cli(&c);
    return rc;
}
