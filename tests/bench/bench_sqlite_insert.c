/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_sqlite_insert.c - the baseline for the aggregator's ingest
 * benchmark: bare SQLite inserting the same rows as the aggregator stores
 * (the readings table of store.c, WAL, synchronous=FULL, prepared
 * statement, one transaction per group of rows), with no JSON, no MQTT and
 * no validation. Built and run by bench_aggregator_ingest.sh.
 *
 *   bench_sqlite_insert DB POLLS VALUES METERS GROUP
 * prints "ROWS SECONDS CPU_SECONDS" (wall time, and this process's CPU).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

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

static void must(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_sqlite_insert DB POLLS VALUES METERS GROUP\n");
        return 2;
    }
    long polls = atol(argv[2]), values = atol(argv[3]), meters = atol(argv[4]);
    long group = atol(argv[5]);
    sqlite3 *db;
    must(sqlite3_open(argv[1], &db), db, "open");
    must(sqlite3_exec(db,
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      "PRAGMA cache_size = -65536;"
                      "CREATE TABLE readings(meter INTEGER NOT NULL, quantity INTEGER NOT NULL,"
                      "  t INTEGER NOT NULL, value REAL NOT NULL,"
                      "  PRIMARY KEY(meter, quantity, t)) WITHOUT ROWID;",
                      NULL, NULL, NULL), db, "schema");
    sqlite3_stmt *ins;
    must(sqlite3_prepare_v2(db, "INSERT INTO readings VALUES (?1, ?2, ?3, ?4) "
                                "ON CONFLICT DO NOTHING", -1, &ins, NULL), db, "prepare");
    long long t0 = 1700000000000LL;
    long rows = 0;
    double start = now_s(), cpu0 = cpu_s();
    must(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
    for (long seq = 1; seq <= polls; seq++) {
        for (long q = 0; q < values; q++) {
            sqlite3_bind_int64(ins, 1, 1 + seq % meters);
            sqlite3_bind_int64(ins, 2, 1 + q);
            sqlite3_bind_int64(ins, 3, t0 + seq * 1000);
            sqlite3_bind_double(ins, 4, (double)(seq % 9973) * 0.25 + (double)q * 1000.0);
            must(sqlite3_step(ins), db, "insert");
            sqlite3_reset(ins);
            if (++rows % group == 0) {
                must(sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL), db, "commit");
            }
        }
    }
    must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    double secs = now_s() - start;
    printf("%ld %.3f %.3f\n", rows, secs, cpu_s() - cpu0);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
}
