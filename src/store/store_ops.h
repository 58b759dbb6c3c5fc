/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_ops.h - the two backends of store.h and rollupdb.h behind one table
 * of functions (not a public API).
 *
 * om_store_open (store_api.c) picks the table when it opens: a
 * postgresql:// URI is the PostgreSQL backend (store_pg*.c), anything else
 * a SQLite file (store.c, store_write.c, store_read.c, store_rollup.c).
 * Every public function is then one call through st->ops, so a caller never
 * knows which backend it has, and a backend is a complete set of functions
 * that can be read on its own. What the backends share (the handle, the
 * error text, the group's counts) is in store_private.h.
 *
 * Each function has the contract of its public namesake (store.h,
 * rollupdb.h), with two refinements the dispatch relies on:
 *   put_poll   adds what it knows at once to `counts` (SQLite: everything;
 *              PostgreSQL: nothing, it writes at commit) and the backend
 *              adds the group's totals to st->group_counts by commit time;
 *   commit     returns 0 only when the group is durable; the dispatch then
 *              keeps st->group_counts as the last group's counts;
 *   seq_done, seq_skipped  are given seqs within 1..OM_SEQ_MAX only (the
 *              dispatch refuses others), and each backend refuses a stored
 *              sequence state that breaks store_seq.c's invariants;
 *   a failure sets st->unavailable when it was the database's condition
 *              (disk, connection, locks), not the data's (store.h).
 *
 * The alert tables (alertdb.h) are not in the table: they are SQLite only
 * for now, and refuse a PostgreSQL store with one line naming what is
 * missing.
 */
#ifndef OFFICEMETER_STORE_OPS_H
#define OFFICEMETER_STORE_OPS_H

#include "officemeter/store/approval.h"
#include "officemeter/store/hours.h"
#include "officemeter/store/rollupdb.h"
#include "officemeter/store/store.h"
#include "store_tables.h"

typedef struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(om_store *st);

    int (*begin)(om_store *st);
    int (*commit)(om_store *st);
    void (*rollback)(om_store *st);
    int (*checkpoint)(om_store *st);
    /* The way out of a full disk (store.h): SQLite truncates its log; the
     * PostgreSQL server minds its own (a no-op). */
    int (*checkpoint_truncate)(om_store *st);
    /* Bytes free for the writer, or -1 when unknown (PostgreSQL). */
    int64_t (*disk_free)(const om_store *st);
    int (*put_poll)(om_store *st, const om_store_origin *o, const om_poll *poll,
                    om_store_counts *counts);
    int (*seq_done)(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
    int (*seq_skipped)(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
    int (*seq_close_gap)(om_store *st, const om_store_origin *o, int64_t after_ms, int64_t *from,
                         int64_t *to);
    int (*seq_upto)(om_store *st, const char *site, const char *gateway, const char *epoch,
                    int64_t *upto);
    int (*quarantine)(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                      int64_t t_ms, const char *code, const char *reason, const char *poll_json);
    int (*reject_add)(om_store *st, const om_store_reject *r);
    int (*gateway_seen)(om_store *st, const char *site, const char *gateway, int64_t t_ms);
    int (*gateway_state)(om_store *st, const char *site, const char *gateway, const char *state,
                         int64_t t_ms);
    int (*gateway_health)(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                          int64_t outbox_depth, int64_t errors, const char *raw);
    int (*quarantine_remove)(om_store *st, int64_t id);
    int (*quarantine_update)(om_store *st, int64_t id, const char *code, const char *reason);

    int (*read_begin)(om_store *st);
    void (*read_end)(om_store *st);
    int (*gateways)(om_store *st, om_store_gateway_row **rows, size_t *n);
    int (*meters)(om_store *st, om_store_meter_row **rows, size_t *n);
    int (*rejects)(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
                   size_t *n);
    int (*reject_counts)(om_store *st, om_store_reject_count **rows, size_t *n);
    int (*quarantined)(om_store *st, om_store_quarantine_row **rows, size_t *n);
    int (*totals_get)(om_store *st, om_store_totals *out);
    int (*gateway_health_json)(om_store *st, const char *site, const char *gateway, char **json);
    int (*readings)(om_store *st, const char *site, const char *meter, om_quantity quantity,
                    int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user);

    /* rollupdb.h: db->st is set; open prepares what the others use. */
    int (*rollup_open)(om_rollupdb *db);
    void (*rollup_close)(om_rollupdb *db);
    void (*rollup_source)(om_rollupdb *db, om_rollup_source *src);
    int (*rollup_state)(om_rollupdb *db, const char *site, int year, unsigned month,
                        om_rollup_state *out);
    int (*rollup_save)(om_rollupdb *db, const om_site *site, int year, unsigned month,
                       bool provisional, int64_t computed_at, uint64_t fingerprint,
                       const om_meter_month *rows, size_t nrows, const om_month_event *events,
                       size_t nevents);
    int (*rollup_load_year)(om_rollupdb *db, const char *site, int year, om_meter_month **rows,
                            size_t *nrows, om_month_event **events, size_t *nevents);
    int (*rollup_thin)(om_rollupdb *db, const char *site, int64_t from, int64_t to,
                       const om_retain_series *series, size_t nseries,
                       const om_retain_digest *digests, size_t ndigests, uint64_t kept,
                       int64_t at);
    int (*rollup_thinned)(om_rollupdb *db, const char *site, int64_t from, bool *done);

    /* hours.h, same contracts. hours_rebuild: the aggregates recomputed
     * from the readings in one transaction (migrate's target, when the
     * source has none to copy). */
    int (*hours)(om_store *st, const char *site, const char *meter, om_quantity quantity,
                 int64_t from_ms, int64_t to_ms, om_hour_fn fn, void *user);
    int (*buckets)(om_store *st, const char *site, const char *meter, om_quantity quantity,
                   int64_t from_ms, int64_t to_ms, int64_t bucket_ms, om_bucket_fn fn,
                   void *user);
    int (*reading_counts)(om_store *st, om_store_reading_count **rows, size_t *n);
    int (*totals_quick)(om_store *st, om_store_quick_totals *out);
    bool (*has_hours)(om_store *st);
    int (*hours_rebuild)(om_store *st);

    /* approval.h, same contracts. */
    int (*approval_latest)(om_store *st, int year, om_approval *out, char *err, size_t errlen);
    int (*approval_add)(om_store *st, const om_approval *a, char *err, size_t errlen);
    /* The approval tables, created when missing (migrate's target). */
    int (*approval_create)(om_store *st, char *err, size_t errlen);

    /* Table to table, for `officemeter migrate` (store_tables.h).
     * raw_select: rows in key order after `after` (nkey values; NULL: from
     * the first), at most limit of them (0: all), into out (cleared).
     * raw_insert: rows in (existing keys left alone), with the table's new
     * progress, in one transaction; replace empties the table first.
     * raw_progress: how far a copy into this store got (absent: not begun).
     * raw_finish: after a table's last row (a generated id's sequence
     * follows the copied ids). raw_has: whether the table exists. */
    int (*raw_select)(om_store *st, const store_table *t, const store_value *after, size_t limit,
                      store_batch *out);
    int (*raw_insert)(om_store *st, const store_table *t, const store_batch *rows, bool replace,
                      const store_progress *progress, const char *table_name);
    int (*raw_progress)(om_store *st, const char *table_name, store_progress *out);
    int (*raw_finish)(om_store *st, const store_table *t);
    int (*raw_has)(om_store *st, const char *table_name, bool *yes);
} store_ops;

extern const store_ops store_sqlite_ops;
extern const store_ops store_pg_ops;

/* Each backend's open: fills st (st->path, st->readonly and st->rejects_keep
 * are set) or returns -1 with the reason in st->err. */
int store_sqlite_open(om_store *st, unsigned flags);
int store_pg_open(om_store *st, const char *uri, unsigned flags);

#endif
