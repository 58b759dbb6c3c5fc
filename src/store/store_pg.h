/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg.h - the PostgreSQL backend of store.h (not a public API): its
 * state in st->pg, the group it holds until the commit, and the helpers its
 * files share.
 *
 * Files: store_pg.c (connection, schema, partitions, the table of
 * functions), store_pg_write.c (the group: held in memory, written at
 * commit), store_pg_readings.c (its readings, at commit), store_pg_read.c
 * (the CLI's queries), store_pg_rollup.c (the rollup tables),
 * store_pg_approval.c (report approvals), store_pg_hours.c (the hourly
 * aggregates of hours.h), store_pg_sql.c (text, arrays and results).
 *
 * The group. Between om_store_begin and om_store_commit nothing goes to
 * the server: readings, seqs, rejects, quarantine and gateway updates are
 * held here. om_store_commit writes them in one transaction, always in the
 * same order and, within each table, in key order, so that two aggregators
 * committing at once wait for each other instead of deadlocking; a
 * deadlock or serialisation failure all the same (SQLSTATE 40P01, 40001)
 * replays the transaction from the held group:
 *
 *     resolve gateways, meters (insert new, read ids)
 *     readings: COPY into readings (or, when one was stored already, into
 *       om_incoming and INSERT ... ON CONFLICT DO NOTHING), the hours and
 *       counts of the rows inserted, conflicts (store_pg_readings.c)
 *     quarantine, rejects, reject counts, thinned and lost ranges
 *     epochs: rows locked in (gateway, epoch) order, ranges merged, written
 *     COMMIT
 * then the bookkeeping, in a second transaction that does not wait for the
 * disk (synchronous_commit off):
 *     meters' first/last times (rows locked in id order)
 *     gateways: last seen, state, health (rows locked in id order)
 *     COMMIT
 * Every commit of every aggregator touches the rows of the meters and
 * gateways it heard from; in the first transaction those row locks would
 * be held through its fsync and make the aggregators of a shared group
 * take turns. Nothing acknowledged depends on them: each value only moves
 * forward (latest, earliest), so one lost in a crash is set by the next
 * group that has one.
 */
#ifndef OFFICEMETER_STORE_PG_H
#define OFFICEMETER_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store_private.h"
#include "store_seqset.h"

/* ---- text buffers and SQL literals (store_pg_sql.c) ----------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} pg_buf;

void pg_buf_add(pg_buf *b, const char *text, size_t len);
void pg_buf_str(pg_buf *b, const char *text);
void pg_buf_printf(pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An int64 and a double as text that reads back exactly. */
void pg_buf_int(pg_buf *b, int64_t v);
void pg_buf_double(pg_buf *b, double v);
/* An array literal element: "text" with " and \ escaped (array_text), a
 * number (array_int). pg_buf_array_open/close write { and }. */
void pg_buf_array_text(pg_buf *b, const char *text);
void pg_buf_array_int(pg_buf *b, int64_t v);
void pg_buf_array_double(pg_buf *b, double v);
void pg_buf_array_null(pg_buf *b);
void pg_buf_array_open(pg_buf *b);
void pg_buf_array_close(pg_buf *b);
void pg_buf_reset(pg_buf *b);
void pg_buf_free(pg_buf *b);

/* Results. */
int64_t pg_int(const PGresult *r, int row, int col, int64_t dflt); /* NULL: dflt */
double pg_double(const PGresult *r, int row, int col, double dflt);
/* Binary results: a big-endian int8 or float8 column. */
int64_t pg_bin_int8(const PGresult *r, int row, int col);
double pg_bin_float8(const PGresult *r, int row, int col);
void pg_copy_text(char *dst, size_t len, const PGresult *r, int row, int col);

/* ---- the held group (store_pg_write.c) ------------------------------------- */

typedef struct {
    char *site, *name;
    int64_t id;          /* 0 until known */
    int64_t lo, hi;      /* new readings' times (meters) */
    int64_t received;    /* latest received (meters: of its polls) */
} pg_named;

/* Gateways: what the group says about each. */
typedef struct {
    int64_t seen;        /* latest message, 0: none */
    char *state;         /* latest status, NULL: none */
    int64_t state_t;
    bool health;         /* a health message came */
    int64_t health_t, depth, errors;
    char *health_json;
} pg_gateway_news;

typedef struct {
    uint32_t meter;      /* index into group.meters */
    int16_t quantity;    /* quantities.id */
    int64_t t;
    double value;
    uint32_t epoch;      /* index into group.epochs: who offered it */
    int64_t seq;
    int64_t received;
} pg_reading;

/* A (gateway, epoch) the group touched: the seqs it dealt with. */
typedef struct {
    uint32_t gateway;    /* index into group.gateways */
    char epoch[OM_EPOCH_LEN + 1];
    seqset done;      /* seqs dealt with in this group */
    int64_t first_seen, last_seen;
} pg_epoch_news;

/* A row for a rare table (quarantine, rejects, thinned, lost, requeue),
 * written at commit in the order the group produced them. */
typedef enum {
    PG_ROW_QUARANTINE,
    PG_ROW_QUARANTINE_REMOVE,
    PG_ROW_QUARANTINE_UPDATE,
    PG_ROW_REJECT,
    PG_ROW_THINNED,
    PG_ROW_LOST,
} pg_row_kind;

#define PG_ROW_MAX_PARAMS 10

typedef struct {
    pg_row_kind kind;
    uint32_t gateway;    /* thinned, lost: index into group.gateways */
    int nparams;
    char *values[PG_ROW_MAX_PARAMS]; /* owned; NULL: SQL NULL */
    int lengths[PG_ROW_MAX_PARAMS];
    int formats[PG_ROW_MAX_PARAMS];  /* 1: binary (a reject's payload) */
} pg_row;

typedef struct {
    pg_named *gateways;
    pg_gateway_news *news; /* parallel to gateways */
    size_t ngateways, gateways_cap, news_cap;
    om_map gateway_index;  /* "site\x1fgateway" -> index + 1 */
    pg_named *meters;
    size_t nmeters, meters_cap;
    om_map meter_index;
    pg_reading *readings;
    size_t nreadings, readings_cap;
    pg_epoch_news *epochs;
    size_t nepochs, epochs_cap;
    om_map epoch_index;    /* "gateway index\x1fepoch" -> index + 1 */
    pg_row *rows;
    size_t nrows, rows_cap;
    bool rejects_added;
    /* Per meter with new readings: their first and last times and when the
     * newest arrived (written after the commit: the bookkeeping). */
    struct pg_meter_times {
        int64_t id, lo, hi, received;
    } *times;
    size_t ntimes, times_cap;
} pg_group;

/* ---- cached state across groups ------------------------------------------- */

/* What the store last knew of one (gateway, epoch): the acknowledgement
 * state as of our last commit that touched it (or as read), and the gap
 * timer of om_store_seq_close_gap (kept in memory only, as with SQLite). */
typedef struct {
    int64_t upto;
    seqset above;     /* ranges dealt with above upto */
    bool known;          /* read from or written to the database */
    int64_t gap_since_ms, gap_at_upto;
} pg_epoch_state;

struct store_pg {
    PGconn *conn;
    pg_group g;
    om_map meter_ids;    /* "site\x1fmeter" -> id (committed rows only) */
    om_map gateway_ids;  /* "site\x1fgateway" -> id */
    om_map epoch_states; /* "site\x1fgateway\x1fepoch" -> pg_epoch_state */
    int64_t *months;     /* partitions known to exist: month index (year * 12 + month - 1) */
    size_t nmonths, months_cap;
    bool in_tx;          /* BEGIN sent (a read transaction or the commit's) */
    bool side_tx;        /* in_tx for the alert tables' writes inside a group
                          * (store_pg_alerts.c), committed by pg_commit first */
    bool incoming_ready; /* the temporary table exists in this session */
    unsigned prepared;   /* the pg_stmt prepared in this session (bits) */
    unsigned retries;    /* transactions replayed after a deadlock (for tests) */
    unsigned careful_after_direct; /* groups whose COPY met a stored reading (for tests) */
    unsigned bookkeeping_failures; /* groups whose bookkeeping was not written */
    pg_buf sql, a1, a2, a3, a4; /* scratch */
};

/* ---- helpers (store_pg.c) -------------------------------------------------- */

/* "URI: what: the server's message"; returns -1. */
int pg_fail(om_store *st, const char *what);
int pg_failr(om_store *st, const char *what, PGresult *r); /* clears r */
/* Runs a statement without parameters; 0 or -1 (the reason in st->err). */
int pg_exec(om_store *st, const char *sql, const char *what);
/* PQexecParams with text parameters; NULL after failing with the reason
 * (the caller PQclears a result). format: 0 text results, 1 binary. */
PGresult *pg_query(om_store *st, const char *sql, int n, const char *const *values,
                   int format, const char *what);
/* Statements the server keeps prepared for the session: asked once per
 * meter-month by a rollup, they would otherwise be planned each time, and
 * planning over the monthly partitions was most of their cost (a generic
 * plan prunes partitions when it runs). */
typedef enum {
    PG_STMT_MONTH_READINGS,
    PG_STMT_RATES,
    PG_STMT_DROPPED,
} pg_stmt;
/* pg_query with statement `id` (prepared from sql on first use in this
 * session). */
PGresult *pg_query_prepared(om_store *st, pg_stmt id, const char *sql, int n,
                            const char *const *values, int format, const char *what);
/* True for SQLSTATE 40P01 (deadlock) and 40001 (serialisation): replay. */
bool pg_retryable(const PGresult *r);
/* Makes sure the readings partition of t's month exists. */
int pg_partition_for(om_store *st, int64_t t_ms);
/* The UTC month of t: [from, to) in ms. */
void pg_month_range(int64_t t_ms, int64_t *from, int64_t *to);

/* store_pg_write.c */
/* A statement of the commit's transaction: 0 done, -1 failed (the reason
 * in st->err), 1 failed in a way a replay may cure (pg_retryable).
 * pg_tx_outcome judges a result (and clears it unless 0); pg_tx_run
 * returns the result when 0; pg_tx_done clears it. */
int pg_tx_outcome(om_store *st, PGresult *r, const char *what);
PGresult *pg_tx_run(om_store *st, const char *sql, int n, const char *const *values, int *rc,
                    const char *what);
int pg_tx_done(om_store *st, const char *sql, int n, const char *const *values,
               const char *what);
int pg_begin(om_store *st);
int pg_commit(om_store *st);
void pg_rollback(om_store *st);
void pg_group_clear(pg_group *g);
void pg_state_free(void *p);
int pg_put_poll(om_store *st, const om_store_origin *o, const om_poll *poll,
                om_store_counts *counts);
int pg_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
int pg_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
int pg_seq_close_gap(om_store *st, const om_store_origin *o, int64_t after_ms, int64_t *from,
                     int64_t *to);
int pg_seq_upto(om_store *st, const char *site, const char *gateway, const char *epoch,
                int64_t *upto);
int pg_quarantine(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                  int64_t t_ms, const char *code, const char *reason, const char *poll_json);
int pg_reject_add(om_store *st, const om_store_reject *r);
int pg_gateway_seen(om_store *st, const char *site, const char *gateway, int64_t t_ms);
int pg_gateway_state(om_store *st, const char *site, const char *gateway, const char *state,
                     int64_t t_ms);
int pg_gateway_health(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                      int64_t outbox_depth, int64_t errors, const char *raw);
int pg_quarantine_remove(om_store *st, int64_t id);
int pg_quarantine_update(om_store *st, int64_t id, const char *code, const char *reason);

/* store_pg_readings.c: the group's readings, their hours and counts, the
 * conflicts, and the meters' times (g.times) for the bookkeeping, inside
 * the commit's transaction; 0, -1, or 1 to replay. */
int pg_write_readings(om_store *st, om_store_counts *c);

/* store_pg_read.c */
int pg_read_begin(om_store *st);
void pg_read_end(om_store *st);
int pg_gateways(om_store *st, om_store_gateway_row **rows, size_t *n);
int pg_meters(om_store *st, om_store_meter_row **rows, size_t *n);
int pg_rejects(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
               size_t *n);
int pg_reject_counts(om_store *st, om_store_reject_count **rows, size_t *n);
int pg_quarantined(om_store *st, om_store_quarantine_row **rows, size_t *n);
int pg_totals_get(om_store *st, om_store_totals *out);
int pg_gateway_health_json(om_store *st, const char *site, const char *gateway, char **json);
int pg_readings(om_store *st, const char *site, const char *meter, om_quantity quantity,
                int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user);
/* The id of a committed row of meters or gateways ("site\x1fname" cache,
 * else the database); 0 when there is none. */
int pg_lookup_id(om_store *st, bool meter, const char *site, const char *name, int64_t *id);

/* store_pg_rollup.c */
int pg_rollup_open(om_rollupdb *db);
void pg_rollup_close(om_rollupdb *db);
void pg_rollup_source(om_rollupdb *db, om_rollup_source *src);
int pg_rollup_state(om_rollupdb *db, const char *site, int year, unsigned month,
                    om_rollup_state *out);
int pg_rollup_save(om_rollupdb *db, const om_site *site, int year, unsigned month,
                   bool provisional, int64_t computed_at, uint64_t fingerprint,
                   const om_meter_month *rows, size_t nrows, const om_month_event *events,
                   size_t nevents);
int pg_rollup_load_year(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                        size_t *nrows, om_month_event **events, size_t *nevents);

/* store_pg_retain.c */
int pg_retain_open(om_rollupdb *db);
void pg_retain_close(om_rollupdb *db);
int pg_rollup_dropped(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                      int64_t a, int64_t b, uint64_t *n);
int pg_rollup_thin(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                   const om_retain_series *series, size_t nseries,
                   const om_retain_digest *digests, size_t ndigests, uint64_t kept, int64_t at);
int pg_rollup_thinned(om_rollupdb *db, const char *site, int64_t from, bool *done);

/* store_pg_hours.c */
int pg_hours(om_store *st, const char *site, const char *meter, om_quantity quantity,
             int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user);
int pg_buckets(om_store *st, const char *site, const char *meter, om_quantity quantity,
               int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn, void *user);
int pg_reading_counts(om_store *st, om_store_reading_count **rows, size_t *n);
int pg_totals_quick(om_store *st, om_store_quick_totals *out);
bool pg_has_hours(om_store *st);
int pg_hours_rebuild(om_store *st);

/* The aggregates of a set of readings, grouped by meter, quantity and hour
 * (hours.h), as columns of meter_hours: `src` names a relation with meter,
 * quantity, t and value. Sums add in time order (store_pg_hours.c: why). */
#define PG_HOURS_OF(src)                                                                      \
    "SELECT meter, quantity, t / 3600000, count(*), sum(value ORDER BY t), min(value), "       \
    "max(value), min(t), (array_agg(value ORDER BY t))[1], max(t), "                          \
    "(array_agg(value ORDER BY t DESC))[1] FROM " src " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
#define PG_COUNTS_OF(src)                                                                     \
    "SELECT meter, quantity, count(*) FROM " src " GROUP BY 1, 2 ORDER BY 1, 2"
#define PG_HOURS_COLUMNS                                                                      \
    "meter_hours(meter, quantity, hour, n, sum, min, max, first_t, first_v, last_t, last_v)"
/* A group's hours and counts merged into the stored ones: n and sum added,
 * min and max kept, the first and last reading moved when the group's are
 * earlier or later. */
#define PG_HOURS_MERGE                                                                        \
    "ON CONFLICT (meter, quantity, hour) DO UPDATE SET "                                      \
    "n = meter_hours.n + excluded.n, sum = meter_hours.sum + excluded.sum, "                  \
    "min = least(meter_hours.min, excluded.min), "                                            \
    "max = greatest(meter_hours.max, excluded.max), "                                         \
    "first_v = CASE WHEN excluded.first_t < meter_hours.first_t "                             \
    "THEN excluded.first_v ELSE meter_hours.first_v END, "                                    \
    "first_t = least(meter_hours.first_t, excluded.first_t), "                                \
    "last_v = CASE WHEN excluded.last_t > meter_hours.last_t "                                \
    "THEN excluded.last_v ELSE meter_hours.last_v END, "                                      \
    "last_t = greatest(meter_hours.last_t, excluded.last_t)"
#define PG_COUNTS_MERGE                                                                       \
    "ON CONFLICT (meter, quantity) DO UPDATE SET n = meter_counts.n + excluded.n"
/* Both tables filled from every stored reading (into empty tables). */
#define PG_HOURS_FILL_SQL                                                                     \
    "INSERT INTO " PG_HOURS_COLUMNS " " PG_HOURS_OF("readings") "; "                          \
    "INSERT INTO meter_counts(meter, quantity, n) " PG_COUNTS_OF("readings")

/* store_pg_approval.c */
int pg_approval_latest(om_store *st, int year, om_approval *out, char *err, size_t errlen);
int pg_approval_add(om_store *st, const om_approval *a, char *err, size_t errlen);
int pg_approval_create(om_store *st, char *err, size_t errlen);

/* store_pg_raw.c */
int pg_raw_select(om_store *st, const store_table *t, const store_value *after, size_t limit,
                  store_batch *out);
int pg_raw_insert(om_store *st, const store_table *t, const store_batch *rows, bool replace,
                  const store_progress *progress, const char *table_name);
int pg_raw_progress(om_store *st, const char *table_name, store_progress *out);
int pg_raw_finish(om_store *st, const store_table *t);
int pg_raw_has(om_store *st, const char *table_name, bool *yes);

#endif
