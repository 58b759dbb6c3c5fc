/* SPDX-License-Identifier: Apache-2.0 */
/*
 * migrate.c - `officemeter migrate --from DB --to DB`: the aggregator's
 * database copied to the other backend (SQLite file <-> PostgreSQL URI),
 * resumable, then proven by row counts and checksums per table
 * (store/migrate.h). A group that started with one SQLite file moves to
 * PostgreSQL without losing history; a PostgreSQL database exports to a
 * file the same way.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "officemeter/store/migrate.h"
#include "officemeter/store/store.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter migrate --from DB --to DB [--batch ROWS] [--verbose]\n"
            "       officemeter migrate --from DB --to DB --verify-only\n"
            "\n"
            "Copies every table of the aggregator's database (readings, conflicts, gateways\n"
            "and their acknowledgement state, rejects, quarantine, thinned and lost ranges,\n"
            "rollups) from one backend to the other: a SQLite file or a PostgreSQL URI\n"
            "(postgresql://...; the password from a password file, never the URI). Stop the\n"
            "aggregator first. The target must be empty; the copy is committed a batch at a\n"
            "time with its progress, so an interrupted migration run again goes on where it\n"
            "stopped. Then every table is compared (row count and a checksum of its rows on\n"
            "both sides) and the comparison printed: exit 0 when all are equal.\n"
            "\n"
            "  --from DB       the database to copy (opened read-only)\n"
            "  --to DB         the target (a SQLite file is created; a PostgreSQL database\n"
            "                  must exist, its tables are created)\n"
            "  --batch ROWS    rows per transaction (default 20000)\n"
            "  --verbose       a line per committed batch\n"
            "  --verify-only   compare, do not copy\n");
}

static void on_progress(void *ctx, const char *table, uint64_t rows, bool done)
{
    bool verbose = *(bool *)ctx;
    if (done)
        printf("copied %-14s %12" PRIu64 " rows\n", table, rows);
    else if (verbose)
        printf("  %s: %" PRIu64 " rows so far\n", table, rows);
    fflush(stdout);
}

static int print_checks(const om_migrate_check *c, size_t n)
{
    int differ = 0;
    printf("%-14s %12s %12s  %-16s  %-16s\n", "TABLE", "ROWS FROM", "ROWS TO", "CHECKSUM FROM",
           "CHECKSUM TO");
    for (size_t i = 0; i < n; i++) {
        bool same = c[i].rows[0] == c[i].rows[1] && c[i].checksum[0] == c[i].checksum[1];
        differ += !same;
        printf("%-14s %12" PRIu64 " %12" PRIu64 "  %016" PRIx64 "  %016" PRIx64 "  %s\n",
               c[i].table, c[i].rows[0], c[i].rows[1], c[i].checksum[0], c[i].checksum[1],
               same ? "ok" : "DIFFERENT");
    }
    return differ;
}

int om_cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"verify-only", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *from = NULL, *to = NULL;
    bool verbose = false, verify_only = false;
    long batch = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:t:b:vVh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'b': {
            char *end;
            batch = strtol(optarg, &end, 10);
            if (end == optarg || *end || batch < 1 || batch > 10000000) {
                fprintf(stderr, "officemeter migrate: --batch: invalid (got \"%s\", expected "
                                "1 to 10000000 rows)\n", optarg);
                return 2;
            }
            break;
        }
        case 'v': verbose = true; break;
        case 'V': verify_only = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !from || !to) {
        fprintf(stderr, "officemeter migrate: %s\n",
                optind < argc ? "unexpected argument" : "give --from DB and --to DB");
        return 2;
    }
    if (strcmp(from, to) == 0) {
        fprintf(stderr, "officemeter migrate: --from and --to name the same database\n");
        return 2;
    }
    char err[1024];
    om_store *src = om_store_open(from, OM_STORE_READONLY, err, sizeof err);
    if (!src) {
        fprintf(stderr, "officemeter migrate: %s\n", err);
        return 1;
    }
    om_store *dst = om_store_open(to, verify_only ? OM_STORE_READONLY : OM_STORE_CREATE, err,
                                  sizeof err);
    if (!dst) {
        fprintf(stderr, "officemeter migrate: %s\n", err);
        om_store_close(src);
        return 1;
    }
    int rc = 0;
    if (!verify_only) {
        om_migrate_options o = {.batch_rows = (size_t)batch, .progress = on_progress,
                                .ctx = &verbose};
        if (om_store_migrate(src, dst, &o, err, sizeof err) < 0) {
            fprintf(stderr, "officemeter migrate: %s (run it again to go on)\n", err);
            rc = 1;
        }
    }
    if (rc == 0) {
        om_migrate_check *checks = NULL;
        size_t n = 0;
        int cmp = om_store_compare(src, dst, &checks, &n, err, sizeof err);
        if (cmp < 0) {
            fprintf(stderr, "officemeter migrate: comparing: %s\n", err);
            rc = 1;
        } else if (print_checks(checks, n) > 0) {
            fprintf(stderr, "officemeter migrate: the databases differ (see above)\n");
            rc = 1;
        } else {
            printf("%s and %s hold the same rows\n", from, to);
        }
        free(checks);
    }
    om_store_close(dst);
    om_store_close(src);
    return rc;
}
