/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_pg_copy.c - the baseline for the PostgreSQL ingest benchmark
 * (bench_pg_ingest.sh): bare COPY of the same rows as the aggregator stores
 * into the same table (the store's own schema: readings partitioned by
 * month, its primary key), one transaction per group of rows, with no JSON,
 * no MQTT, no validation, no conflict handling.
 *
 *   bench_pg_copy URI POLLS VALUES METERS GROUP T0_MS [WAY]
 * prints "ROWS SECONDS CPU_SECONDS" (wall time, and this process's CPU).
 * WAY "text" (the default): COPY's text format, the rows of a group in the
 * order the polls came; "binary": the binary format, each group's rows in
 * key order, as the store sends them (the fastest bare COPY there is: no
 * number printed or parsed, index pages filled left to right).
 */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "officemeter/store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void must(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
    if (PQresultStatus(r) != want) {
        fprintf(stderr, "%s: %s", what, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

#define BUF_SIZE (1 << 20)

typedef struct {
    PGconn *c;
    char *buf;
    size_t len;
    bool binary;
} copier;

static void flush(copier *cp)
{
    if (cp->len && PQputCopyData(cp->c, cp->buf, (int)cp->len) != 1) {
        fprintf(stderr, "copy: %s", PQerrorMessage(cp->c));
        exit(1);
    }
    cp->len = 0;
}

static void put_be(copier *cp, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        cp->buf[cp->len++] = (char)(v >> (8 * (bytes - 1 - i)));
}

static void put_field(copier *cp, uint64_t v, size_t bytes)
{
    put_be(cp, bytes, 4);
    put_be(cp, v, bytes);
}

/* The group's transaction and its COPY. */
static void copy_begin(copier *cp)
{
    must(cp->c, PQexec(cp->c, "BEGIN"), PGRES_COMMAND_OK, "begin");
    must(cp->c,
         PQexec(cp->c, cp->binary ? "COPY readings(meter, quantity, t, value) FROM STDIN "
                                    "(FORMAT binary)"
                                  : "COPY readings(meter, quantity, t, value) FROM STDIN"),
         PGRES_COPY_IN, "copy");
    if (cp->binary) {
        memcpy(cp->buf, "PGCOPY\n\377\r\n\0", 11);
        cp->len = 11;
        put_be(cp, 0, 4);
        put_be(cp, 0, 4);
    }
}

static void copy_end(copier *cp)
{
    if (cp->binary)
        put_be(cp, 0xffff, 2);
    flush(cp);
    PQputCopyEnd(cp->c, NULL);
    must(cp->c, PQgetResult(cp->c), PGRES_COMMAND_OK, "copy");
    must(cp->c, PQexec(cp->c, "COMMIT"), PGRES_COMMAND_OK, "commit");
}

/* Reading q of poll seq: the values bench_pg_ingest.sh's aggregators store. */
static void put_row(copier *cp, long seq, long q, long meters, long long t0)
{
    long meter = 1 + seq % meters;
    long long t = t0 + seq * 1000;
    double value = (double)(seq % 9973) * 0.25 + (double)q * 1000.0;
    if (cp->len > BUF_SIZE - 256)
        flush(cp);
    if (!cp->binary) {
        cp->len += (size_t)snprintf(cp->buf + cp->len, 128, "%ld\t%ld\t%lld\t%.17g\n", meter,
                                    1 + q, t, value);
        return;
    }
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_be(cp, 4, 2);
    put_field(cp, (uint64_t)meter, 4);
    put_field(cp, (uint64_t)(1 + q), 2);
    put_field(cp, (uint64_t)t, 8);
    put_field(cp, bits, 8);
}

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: bench_pg_copy URI POLLS VALUES METERS GROUP T0_MS [text|binary]\n");
        return 2;
    }
    long polls = atol(argv[2]), values = atol(argv[3]), meters = atol(argv[4]);
    long values_group = atol(argv[5]);
    long long t0 = atoll(argv[6]);
    const char *way = argc == 8 ? argv[7] : NULL;
    long per_group = values_group / values > 0 ? values_group / values : 1; /* polls */
    /* The schema and the months' partitions, as the store makes them: one
     * reading at each end of the span, through the store, then removed. */
    char err[512];
    om_store *st = om_store_open(argv[1], OM_STORE_CREATE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    om_store_origin o = {"bench", "gw", "00000000000000b0", t0};
    om_poll p = {.meter = "m", .nvalues = 1, .values = {{OM_Q_POWER_KW, 1.0}}};
    om_store_begin(st);
    p.t_ms = t0;
    om_store_put_poll(st, &o, &p, NULL);
    p.t_ms = t0 + polls * 1000;
    om_store_put_poll(st, &o, &p, NULL);
    if (om_store_commit(st) < 0) {
        fprintf(stderr, "%s\n", om_store_errmsg(st));
        return 1;
    }
    om_store_close(st);
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(c));
        return 1;
    }
    must(c, PQexec(c, "TRUNCATE readings"), PGRES_COMMAND_OK, "truncate");
    copier cp = {.c = c, .buf = malloc(BUF_SIZE), .binary = way && strcmp(way, "binary") == 0};
    double start = now_s(), cpu0 = cpu_s();
    long rows = 0;
    for (long first = 1; first <= polls; first += per_group) {
        long last = first + per_group - 1 < polls ? first + per_group - 1 : polls;
        copy_begin(&cp);
        if (cp.binary) {
            for (long m = 1; m <= meters; m++)
                for (long q = 0; q < values; q++)
                    for (long seq = first; seq <= last; seq++)
                        if (1 + seq % meters == m)
                            put_row(&cp, seq, q, meters, t0);
        } else {
            for (long seq = first; seq <= last; seq++)
                for (long q = 0; q < values; q++)
                    put_row(&cp, seq, q, meters, t0);
        }
        rows += (last - first + 1) * values;
        copy_end(&cp);
    }
    printf("%ld %.3f %.3f\n", rows, now_s() - start, cpu_s() - cpu0);
    free(cp.buf);
    PQfinish(c);
    return 0;
}
