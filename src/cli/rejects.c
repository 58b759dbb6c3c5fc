/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rejects.c - `officemeter rejects`: what the aggregator refused and why,
 * newest first; the counts per gateway and reason; the quarantined polls.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/base/isotime.h"
#include "officemeter/store/store.h"

/* Payloads may be binary garbage: printable ASCII as is, the rest escaped. */
static void print_raw(const char *raw, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (ch == '\\')
            fputs("\\\\", stdout);
        else if (ch >= 0x20 && ch < 0x7f)
            putchar(ch);
        else
            printf("\\x%02x", ch);
    }
}

static int list_rejects(om_store *st, int64_t since, size_t limit, bool raw)
{
    om_store_reject_row *rows;
    size_t n;
    if (om_store_rejects(st, since, limit, &rows, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const om_store_reject_row *r = &rows[i];
        char when[40], seq[32] = "", meter[80] = "";
        om_format_iso8601(r->received_ms, when, sizeof when);
        if (r->seq > 0)
            snprintf(seq, sizeof seq, " seq %" PRId64, r->seq);
        if (r->meter[0])
            snprintf(meter, sizeof meter, " meter %s", r->meter);
        printf("%s %s%s%s: %s: %s\n", when, r->topic, seq, meter, r->code, r->reason);
        if (raw) {
            printf("    payload (%zu bytes%s): ", r->raw_bytes,
                   r->rawlen < r->raw_bytes ? ", cut" : "");
            print_raw(r->raw, r->rawlen);
            putchar('\n');
        }
    }
    om_store_rejects_free(rows, n);
    return 0;
}

static int list_counts(om_store *st)
{
    om_store_reject_count *rows;
    size_t n;
    if (om_store_reject_counts(st, &rows, &n) < 0)
        return -1;
    printf("%-14s %-14s %-20s %8s %s\n", "SITE", "GATEWAY", "REASON", "COUNT", "LAST");
    for (size_t i = 0; i < n; i++) {
        char when[40];
        om_format_iso8601(rows[i].last_received, when, sizeof when);
        printf("%-14s %-14s %-20s %8" PRIu64 " %s\n", rows[i].site[0] ? rows[i].site : "-",
               rows[i].gateway[0] ? rows[i].gateway : "-", rows[i].code, rows[i].count, when);
    }
    free(rows);
    return 0;
}

static int list_quarantine(om_store *st, bool raw)
{
    om_store_quarantine_row *rows;
    size_t n;
    if (om_store_quarantined(st, &rows, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const om_store_quarantine_row *q = &rows[i];
        char when[40];
        om_format_iso8601(q->t_ms, when, sizeof when);
        printf("%s/%s epoch %s seq %" PRId64 " meter %s t %s: %s: %s\n", q->site, q->gateway,
               q->epoch, q->seq, q->meter, when, q->code, q->reason);
        if (raw)
            printf("    poll: %s\n", q->poll_json);
    }
    om_store_quarantined_free(rows, n);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter rejects (--db DB | --config FILE) [--limit N] [--since TIME]\n"
            "                           [--raw] [--counts | --quarantine]\n"
            "\n"
            "Lists what the aggregator rejected, newest first: time received, topic, seq and\n"
            "meter when known, reason code and reason.\n"
            "\n"
            "  --limit N      at most N rejects (default 20; 0: all that are kept)\n"
            "  --since TIME   only those received at or after TIME (ISO 8601)\n"
            "  --raw          also print each payload as received (cut at %d bytes)\n"
            "  --counts       counts per site, gateway and reason instead (kept forever)\n"
            "  --quarantine   the quarantined polls instead (see officemeter requeue)\n",
            OM_STORE_RAW_CAP);
}

int om_cmd_rejects(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"since", required_argument, NULL, 's'},
                                         {"raw", no_argument, NULL, 'r'},
                                         {"counts", no_argument, NULL, 'C'},
                                         {"quarantine", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL, *config = NULL;
    long limit = 20;
    int64_t since = 0;
    bool raw = false, counts = false, quarantine = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:c:n:s:rCqh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 'n':
            limit = strtol(optarg, &end, 10);
            if (end == optarg || *end || limit < 0) {
                fprintf(stderr, "officemeter rejects: --limit: expected a count, got \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        case 's':
            if (om_parse_iso8601(optarg, &since) < 0) {
                fprintf(stderr, "officemeter rejects: --since: expected an ISO 8601 time, got "
                                "\"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'r': raw = true; break;
        case 'C': counts = true; break;
        case 'q': quarantine = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || (counts && quarantine)) {
        fprintf(stderr, "officemeter rejects: %s\n", optind < argc ? "unexpected argument"
                                                    : "--counts and --quarantine exclude each other");
        return 2;
    }
    om_agg_config cfg;
    bool have_cfg;
    om_store *st = om_cli_open_store("rejects", db, config, OM_STORE_READONLY, &cfg, &have_cfg);
    if (!st)
        return !db && !config ? 2 : 1;
    int rc = om_store_read_begin(st);
    if (rc == 0)
        rc = counts ? list_counts(st)
                    : quarantine ? list_quarantine(st, raw)
                                 : list_rejects(st, since, (size_t)limit, raw);
    om_store_read_end(st);
    if (rc < 0)
        fprintf(stderr, "officemeter rejects: %s\n", om_store_errmsg(st));
    om_store_close(st);
    if (have_cfg)
        om_agg_config_free(&cfg);
    return rc < 0 ? 1 : 0;
}
