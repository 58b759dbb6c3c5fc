/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.c - `officemeter status`: every gateway and meter, how fresh its
 * data is, and an exit status that monitoring can use.
 *
 * With --config the site files say what is expected: a declared gateway or
 * an active meter that never reported is stale, and a meter the database
 * knows but no site declares is listed as undeclared. With --db alone only
 * what the database has seen is listed. Everything is read in one read
 * transaction, so the figures agree with each other while the daemon writes.
 * The first line is the aggregator's own state (store/writer_state.h): a
 * daemon that runs and cannot write its database is an alarm too.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "officemeter/base/clock.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/proto/health.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/base/isotime.h"
#include "officemeter/store/store.h"
#include "officemeter/store/writer_state.h"

om_store *om_cli_open_store(const char *cmd, const char *db, const char *config, unsigned flags,
                            om_agg_config *cfg, bool *have_cfg)
{
    *have_cfg = false;
    if (!db && !config) {
        fprintf(stderr, "officemeter %s: give --db DB or --config FILE\n", cmd);
        return NULL;
    }
    if (config) {
        om_diag diag;
        om_diag_init(&diag);
        if (om_agg_config_load(config, cfg, &diag) < 0) {
            om_diag_print(&diag, stderr);
            om_diag_free(&diag);
            om_agg_config_free(cfg);
            return NULL;
        }
        om_diag_free(&diag);
        *have_cfg = true;
    }
    char err[1024];
    om_store *st = om_store_open(db ? db : cfg->database, flags, err, sizeof err);
    if (!st) {
        fprintf(stderr, "officemeter %s: %s\n", cmd, err);
        if (*have_cfg)
            om_agg_config_free(cfg);
        *have_cfg = false;
    }
    return st;
}

/* "42s", "17m", "5h", "3d"; "-" for never. */
static const char *age_text(int64_t now, int64_t t, char *buf, size_t len)
{
    if (t <= 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    int64_t s = (now - t) / 1000;
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(buf, len, "%" PRId64 "s", s);
    else if (s < 7200)
        snprintf(buf, len, "%" PRId64 "m", s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%" PRId64 "h", s / 3600);
    else
        snprintf(buf, len, "%" PRId64 "d", s / 86400);
    return buf;
}

static const char *when_text(int64_t t, char *buf, size_t len)
{
    if (t <= 0)
        snprintf(buf, len, "never");
    else
        om_format_iso8601(t, buf, len);
    return buf;
}

typedef struct {
    int64_t now, stale_ms;
    size_t stale;
} judge;

static bool too_old(judge *j, int64_t t)
{
    bool old = t <= 0 || j->now - t > j->stale_ms;
    if (old)
        j->stale++;
    return old;
}

static bool meter_active(const om_meter *m, int64_t now)
{
    return (m->active_from == OM_TIME_NONE || now >= m->active_from) &&
           (m->active_until == OM_TIME_NONE || now < m->active_until);
}

static const om_store_gateway_row *find_gateway(const om_store_gateway_row *rows, size_t n,
                                                const char *site, const char *gw)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].site, site) == 0 && strcmp(rows[i].gateway, gw) == 0)
            return &rows[i];
    return NULL;
}

static const om_store_meter_row *find_meter(const om_store_meter_row *rows, size_t n,
                                            const char *site, const char *meter)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].site, site) == 0 && strcmp(rows[i].meter, meter) == 0)
            return &rows[i];
    return NULL;
}

static const om_site *find_site(const om_agg_sites *s, const char *id)
{
    for (size_t i = 0; s && i < s->nsites; i++)
        if (strcmp(s->sites[i].site, id) == 0)
            return &s->sites[i];
    return NULL;
}

static void print_gateway(judge *j, const char *site, const char *gw,
                          const om_store_gateway_row *r)
{
    char when[40], age[16], depth[24] = "-", errors[24] = "-";
    int64_t seen = r ? r->last_seen : 0;
    bool old = too_old(j, seen);
    if (r && r->outbox_depth >= 0)
        snprintf(depth, sizeof depth, "%" PRId64, r->outbox_depth);
    if (r && r->errors >= 0)
        snprintf(errors, sizeof errors, "%" PRId64, r->errors);
    printf("%-14s %-14s %-8s %-25s %-6s %-7s %-7s %s\n", site, gw,
           r && r->state[0] ? r->state : "unknown", when_text(seen, when, sizeof when),
           age_text(j->now, seen, age, sizeof age), depth, errors, old ? "STALE" : "ok");
}

/* Health messages of the gateways (parallel to their rows), for the
 * per-meter error counts. */
typedef struct {
    const om_store_gateway_row *rows;
    char **health;
    size_t n;
} gateway_health;

static int64_t meter_errors(const gateway_health *gh, const char *site, const char *meter)
{
    for (size_t i = 0; i < gh->n; i++) {
        if (strcmp(gh->rows[i].site, site) != 0)
            continue;
        int64_t e = om_health_meter_errors(gh->health[i], meter);
        if (e >= 0)
            return e;
    }
    return -1;
}

static void print_meter(judge *j, const gateway_health *gh, const char *site, const char *meter,
                        const char *gw, const om_store_meter_row *r, const char *note)
{
    char when[40], age[16], errors[24] = "-";
    int64_t t = r ? r->last_t : 0;
    int64_t e = meter_errors(gh, site, meter);
    if (e >= 0)
        snprintf(errors, sizeof errors, "%" PRId64, e);
    const char *verdict = note;
    if (!verdict)
        verdict = too_old(j, t) ? "STALE" : "ok";
    printf("%-14s %-14s %-14s %-25s %-6s %-7s %s\n", site, meter, gw ? gw : "-",
           when_text(t, when, sizeof when), age_text(j->now, t, age, sizeof age), errors,
           verdict);
}

static void print_tables(judge *j, const om_agg_sites *sites, const gateway_health *gh,
                         const om_store_meter_row *meters, size_t nm)
{
    const om_store_gateway_row *gws = gh->rows;
    size_t ngw = gh->n;
    printf("%-14s %-14s %-8s %-25s %-6s %-7s %-7s %s\n", "SITE", "GATEWAY", "STATE",
           "LAST SEEN", "AGE", "OUTBOX", "ERRORS", "STATUS");
    for (size_t i = 0; sites && i < sites->nsites; i++)
        for (size_t g = 0; g < sites->sites[i].ngateways; g++)
            print_gateway(j, sites->sites[i].site, sites->sites[i].gateways[g].id,
                          find_gateway(gws, ngw, sites->sites[i].site,
                                       sites->sites[i].gateways[g].id));
    for (size_t i = 0; i < ngw; i++) {
        const om_site *s = find_site(sites, gws[i].site);
        if (!sites || !s || !om_site_find_gateway(s, gws[i].gateway))
            print_gateway(j, gws[i].site, gws[i].gateway, &gws[i]);
    }
    printf("\n%-14s %-14s %-14s %-25s %-6s %-7s %s\n", "SITE", "METER", "GATEWAY",
           "LAST READING", "AGE", "ERRORS", "STATUS");
    for (size_t i = 0; sites && i < sites->nsites; i++) {
        const om_site *s = &sites->sites[i];
        for (size_t m = 0; m < s->nmeters; m++)
            print_meter(j, gh, s->site, s->meters[m].id, s->meters[m].gateway_id,
                        find_meter(meters, nm, s->site, s->meters[m].id),
                        meter_active(&s->meters[m], j->now) ? NULL : "inactive");
    }
    for (size_t i = 0; i < nm; i++) {
        const om_site *s = find_site(sites, meters[i].site);
        if (!sites)
            print_meter(j, gh, meters[i].site, meters[i].meter, NULL, &meters[i], NULL);
        else if (!s || !om_site_find_meter(s, meters[i].meter))
            print_meter(j, gh, meters[i].site, meters[i].meter, NULL, &meters[i], "undeclared");
    }
}

/* Whether process pid exists (EPERM: it does, under another user). */
static bool process_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The aggregator's own state (store/writer_state.h), one line before the
 * tables. Returns true when it is running and not storing: an alarm like
 * a stale gateway. */
static bool print_writer(const char *database, int64_t now)
{
    if (om_database_is_postgresql(database))
        return false; /* several aggregators, no state file (agg_hold.c) */
    om_writer_state ws;
    char err[512], when[40];
    int got = om_writer_state_read(database, &ws, err, sizeof err);
    if (got < 0) {
        printf("aggregator: unknown (%s)\n\n", err);
        return false;
    }
    if (got == 0)
        return false;
    bool alive = process_alive(ws.pid);
    om_format_iso8601(ws.since_ms, when, sizeof when);
    if (ws.phase == OM_WRITER_STOPPED) {
        printf("aggregator: stopped (since %s)\n\n", when);
        return false;
    }
    if (!alive) {
        printf("aggregator: not running (its last state: %s, pid %ld)\n\n",
               om_writer_phase_name(ws.phase), ws.pid);
        return false;
    }
    if (ws.phase == OM_WRITER_STORING) {
        printf("aggregator: storing (pid %ld, since %s)\n\n", ws.pid, when);
        return false;
    }
    printf("aggregator: NOT STORING since %s (%" PRId64 " s; pid %ld): %s; %" PRIu64
           " messages held, %" PRIu64 " left to their gateways; nothing is acknowledged\n\n",
           when, (now - ws.since_ms) / 1000, ws.pid, ws.reason, ws.held, ws.not_held);
    return true;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter status (--db DB | --config FILE) [--stale SECONDS]\n"
            "\n"
            "Per site, gateway and meter: last reading time and age, online/offline, errors\n"
            "and outbox depth (from the gateway's health message). With --config, the site\n"
            "files say which gateways and meters are expected. Exits 1 when any of them is\n"
            "stale (nothing newer than the threshold), or when the aggregator cannot write\n"
            "its database (disk full), so cron and monitoring can use it.\n"
            "\n"
            "  --db DB          the aggregator's database (a file or a postgresql:// URI)\n"
            "  --config FILE    aggregator.yaml (its database, site files and stale_after_s)\n"
            "  --stale SECONDS  threshold (default: stale_after_s of the config, or 900)\n"
            "  --now TIMESTAMP  judge ages at this time instead of the clock (ISO 8601; for\n"
            "                   data replayed in simulated time, as the demo does)\n");
}

int om_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"stale", required_argument, NULL, 's'},
                                         {"now", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *config = NULL;
    long stale_s = -1;
    int64_t now = om_wall_ms();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:c:s:n:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 's':
            stale_s = strtol(optarg, &end, 10);
            if (end == optarg || *end || stale_s < 1) {
                fprintf(stderr, "officemeter status: --stale: expected seconds >= 1, got \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        case 'n':
            if (om_parse_iso8601(optarg, &now) != 0) {
                fprintf(stderr, "officemeter status: --now: bad timestamp \"%s\" (expected ISO "
                        "8601, e.g. 2026-01-01T00:00:00Z)\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "officemeter status: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    om_agg_config cfg;
    bool have_cfg;
    om_store *st = om_cli_open_store("status", db, config, OM_STORE_READONLY, &cfg, &have_cfg);
    if (!st)
        return !db && !config ? 2 : 1;
    om_agg_sites sites = {0};
    int rc = 0;
    if (have_cfg) {
        om_diag diag;
        om_diag_init(&diag);
        if (om_agg_sites_load(&cfg, &sites, &diag) < 0) {
            om_diag_print(&diag, stderr);
            rc = 1;
        }
        om_diag_free(&diag);
        if (stale_s < 0)
            stale_s = cfg.stale_after_s;
    }
    judge j = {now, (stale_s < 0 ? 900 : stale_s) * 1000, 0};
    om_store_gateway_row *gws = NULL;
    om_store_meter_row *meters = NULL;
    size_t ngw = 0, nm = 0;
    om_store_totals tot;
    char **health = NULL;
    if (rc == 0 && (om_store_read_begin(st) < 0 || om_store_gateways(st, &gws, &ngw) < 0 ||
                    om_store_meters(st, &meters, &nm) < 0 || om_store_totals_get(st, &tot) < 0)) {
        fprintf(stderr, "officemeter status: %s\n", om_store_errmsg(st));
        rc = 1;
    }
    if (rc == 0)
        health = calloc(ngw + 1, sizeof *health);
    for (size_t i = 0; health && i < ngw && rc == 0; i++)
        if (om_store_gateway_health_json(st, gws[i].site, gws[i].gateway, &health[i]) < 0) {
            fprintf(stderr, "officemeter status: %s\n", om_store_errmsg(st));
            rc = 1;
        }
    om_store_read_end(st);
    if (rc == 0) {
        gateway_health gh = {gws, health, health ? ngw : 0};
        bool not_storing = print_writer(om_store_path(st), om_wall_ms());
        print_tables(&j, have_cfg ? &sites : NULL, &gh, meters, nm);
        printf("\n%" PRIu64 " readings, %" PRIu64 " conflicts, %" PRIu64 " rejects, %" PRIu64
               " quarantined polls; %zu stale (threshold %lds)\n",
               tot.readings, tot.conflicts, tot.rejects, tot.quarantined, j.stale,
               (long)(j.stale_ms / 1000));
        if (not_storing)
            printf("the aggregator is not storing: see the first line\n");
        rc = j.stale || not_storing ? 1 : 0;
    }
    for (size_t i = 0; health && i < ngw; i++)
        free(health[i]);
    free(health);
    free(gws);
    free(meters);
    om_agg_sites_free(&sites);
    om_store_close(st);
    if (have_cfg)
        om_agg_config_free(&cfg);
    return rc;
}
