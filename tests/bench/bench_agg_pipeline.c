/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_agg_pipeline.c - where the aggregator's time goes, without MQTT:
 * the messages of bench_aggregator_ingest.sh (one JSON message a line) run
 * through the daemon's own code, phase by phase, each timed in CPU time of
 * this process (less at the mercy of a loaded machine than wall time):
 *   parse   jansson reading the messages (json_loadb), nothing else
 *   judge   om_ingest_readings: parse and every check of aggregator.md
 *   group   agg_group_add: judge, and hold the message for the commit
 *   commit  agg_group_commit: the store's writes and COMMIT (fsync); its
 *           wall time too (a PostgreSQL server's work is not this
 *           process's CPU: DB may be a postgresql:// URI)
 *   bare    the same rows inserted into the same table with one prepared
 *           statement (bench_sqlite_insert's loop, in this process)
 * Groups are committed every GROUP readings, as commit_max_readings would.
 *
 *   bench_agg_pipeline MESSAGES SITE_FILE CATALOGUE DB BARE_DB [GROUP]
 * prints one line per phase: seconds and readings per second.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "agg_group.h"
#include "officemeter/base/clock.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/site.h"
#include "officemeter/proto/ingest.h"
#include "officemeter/store/store.h"

typedef struct {
    char **text;
    size_t *len;
    size_t n;
} lines;

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int read_lines(const char *path, lines *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    memset(out, 0, sizeof *out);
    while ((got = getline(&line, &lcap, f)) > 0) {
        if (line[got - 1] == '\n')
            line[--got] = '\0';
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            out->text = realloc(out->text, cap * sizeof *out->text);
            out->len = realloc(out->len, cap * sizeof *out->len);
        }
        out->text[out->n] = strdup(line);
        out->len[out->n++] = (size_t)got;
    }
    free(line);
    fclose(f);
    return 0;
}

static void report(const char *phase, double s, size_t readings)
{
    printf("%-7s %8.3f s CPU  %10.0f readings/s\n", phase, s, (double)readings / s);
}

/* The rows the messages hold, inserted bare: (meter, quantity, t, value). */
static double bare(const char *path, const lines *msgs, size_t group, size_t *readings)
{
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "PRAGMA cache_size = -65536;"
                     "CREATE TABLE readings(meter INTEGER NOT NULL, quantity INTEGER NOT NULL,"
                     "  t INTEGER NOT NULL, value REAL NOT NULL,"
                     "  PRIMARY KEY(meter, quantity, t)) WITHOUT ROWID;", NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO readings VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                       -1, &ins, NULL);
    /* Rows first (not timed: this is the storage's yardstick). */
    typedef struct {
        int64_t meter, q, t;
        double v;
    } row;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < msgs->n; i++) {
        json_t *root = json_loadb(msgs->text[i], msgs->len[i], 0, NULL);
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(root, "polls"), k, p) {
            const char *meter = json_string_value(json_object_get(p, "meter"));
            int64_t t = json_integer_value(json_object_get(p, "t"));
            const char *q;
            json_t *v;
            int qi = 1;
            json_object_foreach(json_object_get(p, "values"), q, v) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 65536;
                    rows = realloc(rows, cap * sizeof *rows);
                }
                rows[n++] = (row){(int64_t)(meter[0] + meter[1] * 7 + strlen(meter)), qi++, t,
                                  json_real_value(v)};
            }
        }
        json_decref(root);
    }
    double t0 = cpu_s();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(ins, 1, rows[i].meter);
        sqlite3_bind_int64(ins, 2, rows[i].q);
        sqlite3_bind_int64(ins, 3, rows[i].t);
        sqlite3_bind_double(ins, 4, rows[i].v);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        if ((i + 1) % group == 0) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        }
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double s = cpu_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(rows);
    *readings = n;
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_agg_pipeline MESSAGES SITE_FILE CATALOGUE DB BARE_DB "
                        "[GROUP]\n");
        return 2;
    }
    size_t group = argc > 6 ? (size_t)atol(argv[6]) : 100000;
    lines msgs;
    if (read_lines(argv[1], &msgs) < 0) {
        perror(argv[1]);
        return 1;
    }
    om_diag diag;
    om_diag_init(&diag);
    om_catalogue cat;
    om_site site;
    if (om_catalogue_load(argv[3], &cat, &diag) < 0 || om_site_load(argv[2], &cat, &site, &diag) < 0) {
        om_diag_print(&diag, stderr);
        return 1;
    }
    om_ingest_rules rules = {.now_ms = om_wall_ms(), .future_tolerance_ms = 300000,
                             .max_bytes = 1 << 20, .sites = &site, .nsites = 1};
    om_topic topic;
    char why[160];
    const char *topic_text = "officemeter/v1/sim-office/gw1/readings";
    om_topic_parse(topic_text, &topic, why, sizeof why);

    /* parse */
    double t0 = cpu_s();
    for (size_t i = 0; i < msgs.n; i++)
        json_decref(json_loadb(msgs.text[i], msgs.len[i], 0, NULL));
    double parse = cpu_s() - t0;

    /* judge */
    size_t readings = 0;
    t0 = cpu_s();
    for (size_t i = 0; i < msgs.n; i++) {
        om_readings_msg m;
        om_ingest_readings(&rules, &topic, msgs.text[i], msgs.len[i], &m);
        readings += m.nreadings;
        om_readings_msg_free(&m);
    }
    double judge = cpu_s() - t0;

    /* group and commit: the daemon's path */
    char err[512];
    remove(argv[4]);
    om_store *st = om_store_open(argv[4], OM_STORE_CREATE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    agg_group *g = agg_group_new();
    double add = 0, commit = 0, commit_wall = 0;
    for (size_t i = 0; i < msgs.n; i++) {
        t0 = cpu_s();
        agg_group_add(g, &rules, topic_text, msgs.text[i], msgs.len[i], rules.now_ms);
        add += cpu_s() - t0;
        if (agg_group_readings(g) >= group || i + 1 == msgs.n) {
            t0 = cpu_s();
            int64_t w0 = om_mono_us();
            agg_group_commit(g, st, NULL, NULL, NULL);
            commit += cpu_s() - t0;
            commit_wall += (double)(om_mono_us() - w0) / 1e6;
        }
    }
    agg_group_free(g);
    om_store_close(st);

    remove(argv[5]);
    size_t bare_rows;
    double b = bare(argv[5], &msgs, group, &bare_rows);
    printf("%zu messages, %zu readings (bare: %zu rows), groups of %zu readings\n", msgs.n,
           readings, bare_rows, group);
    report("parse", parse, readings);
    report("judge", judge, readings);
    report("group", add, readings);
    report("commit", commit, readings);
    printf("commit  %8.3f s wall (the database's work included)\n", commit_wall);
    report("bare", b, bare_rows);
    printf("aggregator (group + commit) / bare: %.2f of bare's rate\n", b / (add + commit));
    for (size_t i = 0; i < msgs.n; i++)
        free(msgs.text[i]);
    free(msgs.text);
    free(msgs.len);
    om_site_free(&site);
    om_catalogue_free(&cat);
    om_diag_free(&diag);
    return 0;
}
