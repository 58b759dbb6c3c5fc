/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_seq_ranges.c - what one commit costs when its epoch already holds
 * many sparse seq ranges (a gateway whose acknowledgement is held back by
 * an old gap): the store writes only the ranges a commit changed, so the
 * time should stay near that of a commit to an epoch without ranges.
 *
 *   bench_seq_ranges TARGET [RANGES [COMMITS]]
 * TARGET is a new SQLite path or a postgresql:// URI of an empty database
 * (tests/postgresql/pg_cluster.sh start makes one). Prints the median
 * commit time in ms with RANGES ranges (default 60 000) in the epoch, and
 * with none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "officemeter/store/store.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void must(om_store *st, int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench_seq_ranges: %s: %s\n", what, om_store_errmsg(st));
        exit(1);
    }
}

/* Median time of `n` commits, each marking one isolated seq of `o`. */
static double median_commit_ms(om_store *st, const om_store_origin *o, int64_t first, int n)
{
    double *t = calloc((size_t)n, sizeof *t);
    if (!t)
        exit(1);
    for (int i = 0; i < n; i++) {
        must(st, om_store_begin(st), "begin");
        must(st, om_store_seq_done(st, o, first + 2 * i, first + 2 * i), "seq");
        double t0 = now_ms();
        must(st, om_store_commit(st), "commit");
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double median = t[n / 2];
    free(t);
    return median;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: bench_seq_ranges TARGET [RANGES [COMMITS]]\n");
        return 2;
    }
    long long ranges = argc > 2 ? strtoll(argv[2], NULL, 10) : 60000;
    long commits = argc > 3 ? strtol(argv[3], NULL, 10) : 31;
    if (ranges < 1 || ranges > 1000000 || commits < 1 || commits > 100000) {
        fprintf(stderr, "bench_seq_ranges: RANGES (1..1000000) and COMMITS (1..100000) "
                        "out of range\n");
        return 2;
    }
    char err[512];
    om_store *st = om_store_open(argv[1], OM_STORE_CREATE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_seq_ranges: %s\n", err);
        return 1;
    }
    om_store_origin sparse = {"bench", "gw1", "00000000000000a1", 1718000000000};
    om_store_origin plain = {"bench", "gw1", "00000000000000a2", 1718000000000};
    must(st, om_store_begin(st), "begin");
    for (int64_t i = 1; i <= ranges; i++)
        must(st, om_store_seq_done(st, &sparse, 2 * i, 2 * i), "seq");
    must(st, om_store_commit(st), "commit");
    double with = median_commit_ms(st, &sparse, 2 * ranges + 2, (int)commits);
    double without = median_commit_ms(st, &plain, 2, (int)commits);
    printf("%s: median commit %.2f ms with %lld ranges in the epoch, %.2f ms with none "
           "(%ld commits each)\n", om_store_backend(st), with, ranges, without, commits);
    om_store_close(st);
    return 0;
}
