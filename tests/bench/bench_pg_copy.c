/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_pg_copy.c - the baseline for the PostgreSQL ingest benchmark
 * (bench_pg_ingest.sh): bare COPY of the same rows as the aggregator stores
 * into the same table (the store's own schema: readings partitioned by
 * month, its primary key), one transaction per group of rows, with no JSON,
 * no MQTT, no validation, no conflict handling.
 *
 *   bench_pg_copy URI POLLS VALUES METERS GROUP T0_MS
 * prints "ROWS SECONDS CPU_SECONDS" (wall time, and this process's CPU).
 */
#include <libpq-fe.h>
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

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_pg_copy URI POLLS VALUES METERS GROUP T0_MS\n");
        return 2;
    }
    long polls = atol(argv[2]), values = atol(argv[3]), meters = atol(argv[4]);
    long group = atol(argv[5]);
    long long t0 = atoll(argv[6]);
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
    char *buf = malloc(1 << 20);
    size_t len = 0;
    long rows = 0;
    double start = now_s(), cpu0 = cpu_s();
    must(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
    must(c, PQexec(c, "COPY readings(meter, quantity, t, value) FROM STDIN"), PGRES_COPY_IN, "copy");
    for (long seq = 1; seq <= polls; seq++) {
        for (long q = 0; q < values; q++) {
            len += (size_t)snprintf(buf + len, 128, "%ld\t%ld\t%lld\t%.17g\n", 1 + seq % meters,
                                    1 + q, t0 + seq * 1000,
                                    (double)(seq % 9973) * 0.25 + (double)q * 1000.0);
            if (len > (1 << 20) - 256) {
                PQputCopyData(c, buf, (int)len);
                len = 0;
            }
            if (++rows % group == 0) {
                PQputCopyData(c, buf, (int)len);
                len = 0;
                PQputCopyEnd(c, NULL);
                must(c, PQgetResult(c), PGRES_COMMAND_OK, "copy");
                must(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
                must(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
                must(c, PQexec(c, "COPY readings(meter, quantity, t, value) FROM STDIN"),
                     PGRES_COPY_IN, "copy");
            }
        }
    }
    PQputCopyData(c, buf, (int)len);
    PQputCopyEnd(c, NULL);
    must(c, PQgetResult(c), PGRES_COMMAND_OK, "copy");
    must(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
    printf("%ld %.3f %.3f\n", rows, now_s() - start, cpu_s() - cpu0);
    free(buf);
    PQfinish(c);
    return 0;
}
