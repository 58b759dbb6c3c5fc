/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cmd.c - `officemeter sim`: options, signals and the main loop.
 *
 * Signals are blocked in every thread and taken synchronously here with
 * sigtimedwait, so no handler runs at all: SIGTERM/SIGINT stop the servers
 * and write the final state, SIGUSR1 writes the state now. The loop also
 * writes the state once per simulated hour (at most once per real second)
 * and ends after --duration real seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "officemeter/config/busoverride.h"
#include "officemeter/base/isotime.h"
#include "officemeter/sim/sim.h"
#include "officemeter/base/clock.h"
#include "officemeter/base/simclock.h"

#define LOOP_MS 100

typedef struct {
    om_sim_config cfg;
    const char **sites;
    om_bus_override *overrides;
    const char **faults;
    const char **uplinks;
    const char *state_path;
    const char *ready_path;
    const char *clock_path;
    int oracle_year; /* 0: serve */
    double duration_s; /* 0: run until a signal */
} options;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: officemeter sim --site FILE [--site FILE ...] [--catalogue DIR]\n"
        "                       [--bus [GW/]BUS=tcp:HOST:PORT | --bus [GW/]BUS=rtu:DEVICE ...]\n"
        "                       [--start TIMESTAMP] [--speed X] [--seed N]\n"
        "                       [--fault METER=MODE ...] [--state FILE] [--ready-file FILE]\n"
        "                       [--clock-file FILE] [--delay SECONDS] [--duration SECONDS]\n"
        "                       [--broker HOST:PORT --uplink GATEWAY=tcp:HOST:PORT ...]\n"
        "       officemeter sim --site FILE [--site FILE ...] --oracle-year YYYY\n"
        "\n"
        "Serve the meters of the site files over Modbus TCP and RTU, with office-like\n"
        "load profiles, for tests, demos and commissioning drills.\n"
        "\n"
        "  --site FILE          site file whose meters are served (repeatable)\n"
        "  --catalogue DIR      meter catalogue (default firmware-config/meters)\n"
        "  --bus OVERRIDE       serve a bus elsewhere: lan=tcp:127.0.0.1:1502,\n"
        "                       rs485-1=rtu:/dev/pts/7, gw1/lan=tcp:... (repeatable)\n"
        "  --start TIMESTAMP    simulated start, ISO 8601 (default: now)\n"
        "  --speed X            simulated seconds per real second (default 1; 0 freezes time)\n"
        "  --seed N             profile seed (default 1)\n"
        "  --fault METER=MODE   timeout | exception:CODE | slow:MS | reset@TIME | rollover |\n"
        "                       glitch@TIME | leak:M3H | na (repeatable); to drill alerts,\n"
        "                       from a simulated TIME (WHEN: TIME or TIME/UNTIL):\n"
        "                       leak:M3H@WHEN | baseload:KW[@WHEN] | timeout@WHEN, and\n"
        "                       GATEWAY=offline@WHEN (cuts the gateway's --uplink)\n"
        "  --broker HOST:PORT   the MQTT broker the uplinks relay to\n"
        "  --uplink GW=tcp:HOST:PORT  listen there and relay gateway GW's MQTT connection\n"
        "                       to --broker (point its agent's broker.uri here) (repeatable)\n"
        "  --state FILE         write the oracle (registers and true consumption) as JSON\n"
        "  --ready-file FILE    written once every server listens\n"
        "  --clock-file FILE    publish the simulated clock (start, speed, monotonic origin)\n"
        "                       so that officemeter-agent --sim-clock FILE shares it\n"
        "  --delay SECONDS      simulated time stands at --start this long, then advances\n"
        "                       (lets the processes sharing --clock-file get ready)\n"
        "  --oracle-year YYYY   print each meter's true consumption in that calendar year\n"
        "                       (site's time zone; whole year and within its active period)\n"
        "                       as JSON, and exit without serving\n"
        "  --duration SECONDS   stop after this many real seconds\n"
        "  --help               this text\n"
        "\n"
        "Signals: SIGTERM/SIGINT stop (state written, exit 0); SIGUSR1 writes the state.\n"
        "See docs/simulator.md.\n");
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "officemeter sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (try 'officemeter sim --help')\n");
    va_end(ap);
    return 2;
}

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static void free_options(options *o)
{
    for (size_t i = 0; i < o->cfg.noverrides; i++)
        om_bus_override_free(&o->overrides[i]);
    free(o->overrides);
    free(o->sites);
    free(o->faults);
    free(o->uplinks);
}

static int push(const char ***list, size_t *n, const char *item)
{
    const char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    grown[(*n)++] = item;
    *list = grown;
    return 0;
}

static int add_override(options *o, const char *text)
{
    om_bus_override *grown = realloc(o->overrides, (o->cfg.noverrides + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    o->overrides = grown;
    char err[300];
    if (om_bus_override_parse(text, &o->overrides[o->cfg.noverrides], err, sizeof err) != 0) {
        fprintf(stderr, "officemeter sim: --bus: %s\n", err);
        return -1;
    }
    o->cfg.noverrides++;
    return 0;
}

/* Returns -1 to continue, else the exit status. */
static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"site", required_argument, NULL, 's'},     {"catalogue", required_argument, NULL, 'c'},
        {"bus", required_argument, NULL, 'b'},      {"start", required_argument, NULL, 'S'},
        {"speed", required_argument, NULL, 'x'},    {"seed", required_argument, NULL, 'n'},
        {"fault", required_argument, NULL, 'f'},    {"state", required_argument, NULL, 'o'},
        {"ready-file", required_argument, NULL, 'r'},
        {"clock-file", required_argument, NULL, 'k'},
        {"delay", required_argument, NULL, 'D'},
        {"oracle-year", required_argument, NULL, 'y'},
        {"duration", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {"uplink", required_argument, NULL, 'U'},   {"broker", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0},
    };
    bool start_set = false;
    int c;
    size_t nsites = 0, nfaults = 0, nuplinks = 0;

    o->cfg.speed = 1.0;
    o->cfg.seed = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (push(&o->sites, &nsites, optarg) != 0)
                return fail_usage("%s", "out of memory");
            break;
        case 'c':
            o->cfg.catalogue_dir = optarg;
            break;
        case 'b':
            if (add_override(o, optarg) != 0)
                return 2;
            break;
        case 'S':
            if (om_parse_iso8601(optarg, &o->cfg.start_ms) != 0)
                return fail_usage("--start: bad timestamp '%s' (expected ISO 8601, e.g. "
                                  "2024-03-01T02:00:00Z)", optarg);
            start_set = true;
            break;
        case 'x':
            if (parse_double(optarg, 0.0, 1e9, &o->cfg.speed) != 0)
                return fail_usage("--speed: bad value '%s' (expected a number 0..1e9)", optarg);
            break;
        case 'n':
            if (parse_u64(optarg, &o->cfg.seed) != 0)
                return fail_usage("--seed: bad value '%s' (expected a non-negative integer)",
                                  optarg);
            break;
        case 'f':
            if (push(&o->faults, &nfaults, optarg) != 0)
                return fail_usage("%s", "out of memory");
            break;
        case 'o':
            o->state_path = optarg;
            break;
        case 'U':
            if (push(&o->uplinks, &nuplinks, optarg) != 0)
                return fail_usage("%s", "out of memory");
            break;
        case 'B':
            o->cfg.broker = optarg;
            break;
        case 'r':
            o->ready_path = optarg;
            break;
        case 'k':
            o->clock_path = optarg;
            break;
        case 'D':
            if (parse_double(optarg, 0.0, 3600.0, &o->cfg.delay_s) != 0)
                return fail_usage("--delay: bad value '%s' (expected seconds 0..3600)", optarg);
            break;
        case 'y': {
            double y;
            if (parse_double(optarg, 1971, 9999, &y) != 0 || y != floor(y))
                return fail_usage("--oracle-year: bad year '%s' (expected YYYY)", optarg);
            o->oracle_year = (int)y;
            break;
        }
        case 'd':
            if (parse_double(optarg, 0.001, 1e9, &o->duration_s) != 0)
                return fail_usage("--duration: bad value '%s' (expected seconds > 0)", optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return fail_usage("option '%s' needs a value", argv[optind - 1]);
        default:
            return fail_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail_usage("unexpected argument '%s'", argv[optind]);
    if (nsites == 0)
        return fail_usage("%s", "--site FILE is required");
    o->cfg.site_paths = o->sites;
    o->cfg.nsites = nsites;
    o->cfg.overrides = o->overrides;
    o->cfg.faults = o->faults;
    o->cfg.nfaults = nfaults;
    o->cfg.uplinks = o->uplinks;
    o->cfg.nuplinks = nuplinks;
    if (!start_set)
        o->cfg.start_ms = om_wall_ms();
    return -1;
}

static int write_ready(const char *path, om_sim *sim)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    om_sim_describe(sim, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static void save_state(om_sim *sim, const char *path)
{
    char err[512];
    if (path && om_sim_write_state(sim, path, err, sizeof err) != 0)
        fprintf(stderr, "officemeter sim: warning: %s\n", err);
}

static int64_t floor_hour(int64_t t)
{
    int64_t h = t / 3600000;
    return (t % 3600000 != 0 && t < 0) ? h - 1 : h;
}

/* Runs until a stop signal or the duration; returns the exit status. */
static int run(om_sim *sim, const options *o, const sigset_t *set)
{
    int64_t began = om_mono_ms();
    int64_t last_write = began;
    int64_t last_hour = floor_hour(om_sim_now(sim));
    struct timespec tick = {0, LOOP_MS * 1000000L};

    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            return 0;
        if (sig == SIGUSR1) {
            save_state(sim, o->state_path);
            last_write = om_mono_ms();
        }
        int64_t now = om_mono_ms();
        if (o->duration_s > 0 && (double)(now - began) >= o->duration_s * 1000.0)
            return 0;
        int64_t hour = floor_hour(om_sim_now(sim));
        if (o->state_path && hour != last_hour && now - last_write >= 1000) {
            save_state(sim, o->state_path);
            last_hour = hour;
            last_write = now;
        }
    }
}

static int serve(options *o)
{
    char err[1024];
    om_diag diag;
    om_diag_init(&diag);
    om_sim_error kind;
    om_sim *sim = om_sim_new(&o->cfg, &diag, &kind, err, sizeof err);
    if (sim == NULL) {
        om_diag_print(&diag, stderr);
        om_diag_free(&diag);
        fprintf(stderr, "officemeter sim: %s\n", err);
        return kind == OM_SIM_ERR_USAGE ? 2 : 1;
    }
    om_diag_free(&diag);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    /* Blocked before any thread starts, so every thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    if (om_sim_listen(sim, err, sizeof err) != 0 || om_sim_start(sim, err, sizeof err) != 0) {
        fprintf(stderr, "officemeter sim: %s\n", err);
        goto done;
    }
    /* A state file that cannot be written is fatal at startup (tests wait
     * for it), a warning later on. */
    if (o->state_path && om_sim_write_state(sim, o->state_path, err, sizeof err) != 0) {
        fprintf(stderr, "officemeter sim: %s\n", err);
        goto done;
    }
    if (o->clock_path && om_sim_write_clock(sim, o->clock_path, err, sizeof err) != 0) {
        fprintf(stderr, "officemeter sim: %s\n", err);
        goto done;
    }
    om_sim_describe(sim, stderr);
    if (o->ready_path && write_ready(o->ready_path, sim) != 0) {
        fprintf(stderr, "officemeter sim: cannot write ready file %s: %s\n", o->ready_path,
                strerror(errno));
        goto done;
    }
    status = run(sim, o, &set);
    om_sim_stop(sim);
    save_state(sim, o->state_path);
done:
    om_sim_free(sim);
    return status;
}

/* --oracle-year: build the meters as for serving, integrate, print. */
static int print_oracle_year(options *o)
{
    char err[1024];
    om_diag diag;
    om_diag_init(&diag);
    om_sim_error kind;
    om_sim *sim = om_sim_new(&o->cfg, &diag, &kind, err, sizeof err);
    om_diag_print(&diag, stderr);
    om_diag_free(&diag);
    if (sim == NULL) {
        fprintf(stderr, "officemeter sim: %s\n", err);
        return kind == OM_SIM_ERR_USAGE ? 2 : 1;
    }
    json_t *root = om_sim_year_json(sim, o->oracle_year, err, sizeof err);
    int status = 1;
    if (root == NULL) {
        fprintf(stderr, "officemeter sim: %s\n", err);
    } else if (json_dumpf(root, stdout, JSON_INDENT(1) | JSON_SORT_KEYS |
                                            JSON_REAL_PRECISION(17)) == 0) {
        putchar('\n');
        status = fflush(stdout) == 0 ? 0 : 1;
    }
    json_decref(root);
    om_sim_free(sim);
    return status;
}

int om_cmd_sim(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    int status = parse_options(argc, argv, &o);
    if (status < 0)
        status = o.oracle_year ? print_oracle_year(&o) : serve(&o);
    free_options(&o);
    return status;
}
