/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_private.h - the handle of store.h and rollupdb.h: what both backends
 * share (store_ops.h), then the SQLite backend's prepared statements and
 * caches (not a public API). The PostgreSQL backend keeps its own state in
 * st->pg (store_pg.h).
 *
 * The SQLite writer keeps three caches so that the hot path (one INSERT per
 * reading) does no lookups in the database:
 *   meters    "site\x1fmeter"   -> row id, first/last reading time (dirty: written at commit)
 *   gateways  "site\x1fgateway" -> row id, last seen                (idem)
 *   epochs    "gwid\x1fepoch"   -> acknowledged seq and the dealt-with ranges above it
 * A rollback drops all three, since row ids and seq state created inside the
 * group no longer exist; they are reloaded from the database on next use.
 */
#ifndef OFFICEMETER_STORE_PRIVATE_H
#define OFFICEMETER_STORE_PRIVATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "officemeter/store/rollupdb.h"
#include "officemeter/store/store.h"
#include "store_ops.h"

/* ---- a string-keyed hash map -------------------------------------------- */

typedef struct {
    char *key;
    void *val;
} om_map_slot;

typedef struct {
    om_map_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} om_map;

void *om_map_get(const om_map *m, const char *key);
/* Copies key; returns 0 or -1 (memory). The key must not be present. */
int om_map_put(om_map *m, const char *key, void *val);
/* Frees every key and, with free_val, every value; the map stays usable. */
void om_map_clear(om_map *m, void (*free_val)(void *));

/* ---- cached rows --------------------------------------------------------- */

typedef struct {
    int64_t id;
    int64_t first_t, last_t, last_received; /* 0: none */
    bool dirty;
} store_meter;

typedef struct {
    int64_t id;
    int64_t last_seen;
    bool dirty;
} store_gateway;

typedef struct {
    int64_t gateway_id;
    char epoch[OM_EPOCH_LEN + 1];
    int64_t upto;          /* every seq <= upto was dealt with */
    om_seq_range *ranges;  /* dealt-with seqs above upto + 1: sorted, disjoint, not adjacent */
    size_t nranges, cap;
    int64_t first_seen, last_seen;
    bool dirty;
    int64_t *touched;      /* `first` of every range row changed since the last commit */
    size_t ntouched, touched_cap;
    /* In memory only: since when the lowest gap (upto + 1 up to the first
     * range) has stood unchanged with newer seqs above it. */
    int64_t gap_since_ms, gap_at_upto;
} store_epoch;

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_METER_GET,
    S_METER_INSERT,
    S_METER_UPDATE,
    S_READING_INSERT,
    S_READING_GET,
    S_CONFLICT_ADD,
    S_GW_GET,
    S_GW_INSERT,
    S_GW_SEEN,
    S_GW_STATE,
    S_GW_HEALTH,
    S_EPOCH_GET,
    S_EPOCH_RANGES,
    S_EPOCH_PUT,
    S_EPOCH_RANGE_PUT,
    S_EPOCH_RANGE_DEL,
    S_QUAR_ADD,
    S_QUAR_DEL,
    S_QUAR_UPDATE,
    S_REJECT_ADD,
    S_REJECT_COUNT,
    S_REJECT_PRUNE,
    S_THINNED_ADD,
    S_LOST_ADD,
    S__COUNT
};

struct om_store {
    /* Both backends. */
    const store_ops *ops;
    char *path;               /* the file, or the URI (which never holds a password) */
    bool readonly;
    bool in_group;
    bool in_read;
    bool unavailable; /* the last failure was the database's, not the data's */
    int64_t qid[OM_Q__COUNT]; /* quantities.id of each quantity, 0: not in this database */
    uint64_t rejects_keep;
    om_store_counts group_counts; /* of the open group */
    om_store_counts last_counts;  /* of the last committed group */
    char err[768];
    /* SQLite (store.c, store_write.c, store_read.c). */
    sqlite3 *db;
    sqlite3_stmt *stmt[S__COUNT];
    om_map meters, gateways, epochs;
    void **dirty;             /* store_meter / store_gateway / store_epoch with dirty set */
    unsigned char *dirty_kind;
    size_t ndirty, dirty_cap;
    bool rejects_added;
    struct store_hours *hours; /* the writer's pending hourly aggregates (store_hours.c) */
    /* PostgreSQL (store_pg*.c). */
    struct store_pg *pg;
};

/* The rollup tables' handle (rollupdb.h); `be` is the backend's own state
 * (SQLite's prepared queries), `retain` its retention bookkeeping's
 * (store_retain.c). */
struct om_rollupdb {
    om_store *st;
    void *be;
    void *retain;
    char err[768];
};

enum { DIRTY_METER, DIRTY_GATEWAY, DIRTY_EPOCH };

/* Sets st->err to "path: what: sqlite message" and returns -1. */
int store_fail(om_store *st, const char *what);
int store_failf(om_store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Resets a statement after use (keeps bindings cheap to replace). */
void store_done(sqlite3_stmt *s);
/* A prepared statement of the writer, reset and ready to bind. */
sqlite3_stmt *store_stmt(om_store *st, int which);
int store_mark_dirty(om_store *st, void *row, int kind);
/* Writes every dirty cached row (inside the group, before COMMIT). */
int store_flush_dirty(om_store *st);
/* Forgets every cached row (after a rollback). */
void store_drop_caches(om_store *st);
/* The cached gateway row, created in the database when new. */
store_gateway *store_gateway_get(om_store *st, const char *site, const char *gateway);

/* ---- the SQLite backend's functions (store_sqlite_ops, store.c) ---------- */

void sqlite_rollback(om_store *st);
void sqlite_read_end(om_store *st);
/* store_write.c, store_seq.c */
int sqlite_put_poll(om_store *st, const om_store_origin *o, const om_poll *poll,
                    om_store_counts *counts);
int sqlite_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
int sqlite_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
int sqlite_seq_close_gap(om_store *st, const om_store_origin *o, int64_t after_ms,
                         int64_t *from, int64_t *to);
int sqlite_seq_upto(om_store *st, const char *site, const char *gateway, const char *epoch,
                    int64_t *upto);
int sqlite_quarantine(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                      int64_t t_ms, const char *code, const char *reason, const char *poll_json);
int sqlite_reject_add(om_store *st, const om_store_reject *r);
int sqlite_gateway_seen(om_store *st, const char *site, const char *gateway, int64_t t_ms);
int sqlite_gateway_state(om_store *st, const char *site, const char *gateway, const char *state,
                         int64_t t_ms);
int sqlite_gateway_health(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                          int64_t outbox_depth, int64_t errors, const char *raw);
int sqlite_quarantine_remove(om_store *st, int64_t id);
int sqlite_quarantine_update(om_store *st, int64_t id, const char *code, const char *reason);
/* store_read.c */
int sqlite_gateways(om_store *st, om_store_gateway_row **rows, size_t *n);
int sqlite_meters(om_store *st, om_store_meter_row **rows, size_t *n);
int sqlite_rejects(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
                   size_t *n);
int sqlite_reject_counts(om_store *st, om_store_reject_count **rows, size_t *n);
int sqlite_quarantined(om_store *st, om_store_quarantine_row **rows, size_t *n);
int sqlite_totals_get(om_store *st, om_store_totals *out);
int sqlite_gateway_health_json(om_store *st, const char *site, const char *gateway, char **json);
int sqlite_readings(om_store *st, const char *site, const char *meter, om_quantity quantity,
                    int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user);
/* store_rollup.c */
int sqlite_rollup_open(om_rollupdb *db);
void sqlite_rollup_close(om_rollupdb *db);
void sqlite_rollup_source(om_rollupdb *db, om_rollup_source *src);
int sqlite_rollup_state(om_rollupdb *db, const char *site, int year, unsigned month,
                        om_rollup_state *out);
int sqlite_rollup_save(om_rollupdb *db, const om_site *site, int year, unsigned month,
                       bool provisional, int64_t computed_at, uint64_t fingerprint,
                       const om_meter_month *rows, size_t nrows, const om_month_event *events,
                       size_t nevents);
int sqlite_rollup_load_year(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                            size_t *nrows, om_month_event **events, size_t *nevents);
/* store_retain.c */
int sqlite_retain_open(om_rollupdb *db);
void sqlite_retain_close(om_rollupdb *db);
int sqlite_rollup_dropped(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                          int64_t a, int64_t b, uint64_t *n);
int sqlite_rollup_thin(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                       const om_retain_series *series, size_t nseries,
                       const om_retain_digest *digests, size_t ndigests, uint64_t kept,
                       int64_t at);
int sqlite_rollup_thinned(om_rollupdb *db, const char *site, int64_t from, bool *done);
/* store_approval.c */
int sqlite_approval_latest(om_store *st, int year, om_approval *out, char *err, size_t errlen);
int sqlite_approval_add(om_store *st, const om_approval *a, char *err, size_t errlen);
int sqlite_approval_create(om_store *st, char *err, size_t errlen);
/* store_raw.c */
int sqlite_raw_select(om_store *st, const store_table *t, const store_value *after,
                      size_t limit, store_batch *out);
int sqlite_raw_insert(om_store *st, const store_table *t, const store_batch *rows, bool replace,
                      const store_progress *progress, const char *table_name);
int sqlite_raw_progress(om_store *st, const char *table_name, store_progress *out);
int sqlite_raw_finish(om_store *st, const store_table *t);
int sqlite_raw_has(om_store *st, const char *table_name, bool *yes);

/* Sequence state (store_seq.c): release a cached epoch; write its row and
 * the range rows that changed (inside the group); forget what was written
 * once the group is certain to commit. */
void store_epoch_free(void *epoch);
int store_flush_epoch(om_store *st, store_epoch *e);
void store_epoch_flushed(store_epoch *e);
/* Hourly aggregates (store_hours.c, hours.h) of SQLite. _open creates
 * the tables for a writer (filling them from stored readings) or checks
 * their version for a reader; _add counts a reading that was stored as
 * new; _flush writes the group's hours before COMMIT; _drop forgets them
 * after a rollback. */
int store_hours_open(om_store *st);
int store_hours_add(om_store *st, int64_t meter, int64_t qid, int64_t t, double v);
int store_hours_flush(om_store *st);
void store_hours_drop(om_store *st);
void store_hours_free(om_store *st);
/* Recomputes them from the readings, in a transaction of its own (after
 * `officemeter migrate` copied readings in without the writer). */
int store_hours_rebuild(om_store *st);
/* Their readers (hours.h), the SQLite backend's. */
int sqlite_hours(om_store *st, const char *site, const char *meter, om_quantity quantity,
                 int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user);
int sqlite_buckets(om_store *st, const char *site, const char *meter, om_quantity quantity,
                   int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn,
                   void *user);
int sqlite_reading_counts(om_store *st, om_store_reading_count **rows, size_t *n);
int sqlite_totals_quick(om_store *st, om_store_quick_totals *out);
bool sqlite_has_hours(om_store *st);

#endif
