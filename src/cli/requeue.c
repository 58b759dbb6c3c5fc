/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requeue.c - `officemeter requeue`: judge quarantined polls again against
 * the current site files, and store those that now belong.
 *
 * Onboarding goes: a new meter reports before its site file declares it;
 * its polls are quarantined (and acknowledged, so the gateway's outbox does
 * not fill up); the site file is fixed and the aggregator sent SIGHUP; this
 * command then moves the quarantined polls into the readings. It uses the
 * same judge as the daemon (ingest.h) and writes through the same store, in
 * one transaction, so it can run while the daemon runs.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "officemeter/base/clock.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/store/store.h"

typedef struct {
    size_t stored, rejected, kept;
    om_store_counts counts;
} requeue_totals;

/* One quarantined poll: stored, rejected or kept (with a fresh reason). */
static int requeue_one(om_store *st, const om_ingest_rules *rules, const om_store_quarantine_row *q,
                       bool dry_run, requeue_totals *tot)
{
    om_topic topic = {.kind = OM_TOPIC_READINGS};
    snprintf(topic.site, sizeof topic.site, "%s", q->site);
    snprintf(topic.gateway, sizeof topic.gateway, "%s", q->gateway);
    om_ingest_poll p;
    if (om_ingest_poll_text(rules, &topic, q->seq, q->poll_json, &p) < 0) {
        om_ingest_poll_free(&p);
        return -1;
    }
    int rc = 0;
    om_store_origin o = {q->site, q->gateway, q->epoch, rules->now_ms};
    switch (p.verdict.fate) {
    case OM_FATE_STORE:
        tot->stored++;
        if (!dry_run)
            rc = om_store_put_poll(st, &o, &p.poll, NULL) < 0 ||
                 om_store_quarantine_remove(st, q->id) < 0 ? -1 : 0;
        printf("stored: %s/%s seq %" PRId64 " meter %s\n", q->site, q->gateway, q->seq, q->meter);
        break;
    case OM_FATE_REJECT: {
        tot->rejected++;
        char topic_text[192];
        om_topic_format(topic_text, sizeof topic_text, q->site, q->gateway, OM_TOPIC_READINGS);
        om_store_reject r = {.received_ms = rules->now_ms, .topic = topic_text, .site = q->site,
                             .gateway = q->gateway, .code = p.verdict.code,
                             .reason = p.verdict.reason, .seq = q->seq, .meter = q->meter,
                             .raw = q->poll_json, .rawlen = strlen(q->poll_json)};
        if (!dry_run)
            rc = om_store_reject_add(st, &r) < 0 || om_store_quarantine_remove(st, q->id) < 0
                     ? -1 : 0;
        printf("rejected: %s/%s seq %" PRId64 " meter %s: %s: %s\n", q->site, q->gateway, q->seq,
               q->meter, p.verdict.code, p.verdict.reason);
        break;
    }
    case OM_FATE_QUARANTINE:
        tot->kept++;
        if (!dry_run && (strcmp(p.verdict.code, q->code) != 0 ||
                         strcmp(p.verdict.reason, q->reason) != 0))
            rc = om_store_quarantine_update(st, q->id, p.verdict.code, p.verdict.reason);
        printf("still quarantined: %s/%s seq %" PRId64 " meter %s: %s\n", q->site, q->gateway,
               q->seq, q->meter, p.verdict.reason);
        break;
    }
    om_ingest_poll_free(&p);
    return rc;
}

static int requeue_all(om_store *st, const om_agg_config *cfg, const om_agg_sites *sites,
                       bool dry_run)
{
    om_store_quarantine_row *rows;
    size_t n;
    if (om_store_quarantined(st, &rows, &n) < 0)
        return -1;
    om_ingest_rules rules = {
        .now_ms = om_wall_ms(),
        .future_tolerance_ms = (int64_t)cfg->future_tolerance_s * 1000,
        .max_bytes = 0,
        .sites = sites->sites,
        .nsites = sites->nsites,
    };
    requeue_totals tot = {0};
    int rc = dry_run ? 0 : om_store_begin(st);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = requeue_one(st, &rules, &rows[i], dry_run, &tot);
    if (rc == 0 && !dry_run && (rc = om_store_commit(st)) == 0)
        om_store_group_counts(st, &tot.counts); /* what the readings became, once written */
    if (rc < 0 && !dry_run)
        om_store_rollback(st);
    om_store_quarantined_free(rows, n);
    if (rc < 0)
        return -1;
    printf("%s%zu polls stored (%" PRIu64 " new readings, %" PRIu64 " duplicates, %" PRIu64
           " conflicts), %zu rejected, %zu still quarantined\n",
           dry_run ? "dry run: " : "", tot.stored, tot.counts.stored, tot.counts.duplicates,
           tot.counts.conflicts, tot.rejected, tot.kept);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter requeue --config FILE [--db DB] [--dry-run]\n"
            "\n"
            "Judges every quarantined poll again against the site files of the config's\n"
            "sites_dir: polls whose meter is now declared for their gateway are stored,\n"
            "polls now found invalid are moved to the rejects, the rest stay quarantined.\n"
            "Safe while officemeter-aggregator runs (send it SIGHUP too, so new polls of\n"
            "the meter are stored directly).\n"
            "\n"
            "  --config FILE  aggregator.yaml (site files, catalogue, database)\n"
            "  --db DB        another database than the config's (a file or a URI)\n"
            "  --dry-run      say what would happen, change nothing\n");
}

int om_cmd_requeue(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *db = NULL;
    bool dry_run = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'd': db = optarg; break;
        case 'n': dry_run = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config || optind < argc) {
        fprintf(stderr, "officemeter requeue: %s\n",
                config ? "unexpected argument" : "no config given (--config FILE): the site "
                                                 "files are needed to judge the polls");
        return 2;
    }
    om_agg_config cfg;
    bool have_cfg;
    om_store *st = om_cli_open_store("requeue", db, config, dry_run ? OM_STORE_READONLY : 0, &cfg,
                                     &have_cfg);
    if (!st)
        return 1;
    om_diag diag;
    om_diag_init(&diag);
    om_agg_sites sites;
    int rc = 0;
    if (om_agg_sites_load(&cfg, &sites, &diag) < 0) {
        om_diag_print(&diag, stderr);
        fprintf(stderr, "officemeter requeue: fix the site files first; nothing was changed\n");
        rc = 1;
    } else if (requeue_all(st, &cfg, &sites, dry_run) < 0) {
        fprintf(stderr, "officemeter requeue: %s\n", om_store_errmsg(st));
        rc = 1;
    }
    om_diag_free(&diag);
    om_agg_sites_free(&sites);
    om_store_close(st);
    om_agg_config_free(&cfg);
    return rc;
}
