/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_private.h - the SQLite backend of store.h: the handle, its prepared
 * statements and its caches (not a public API).
 *
 * The writer keeps three caches so that the hot path (one INSERT per
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

#include "officemeter/store/store.h"

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
    sqlite3 *db;
    char *path;
    bool readonly;
    bool in_group;
    bool in_read;
    sqlite3_stmt *stmt[S__COUNT];
    int64_t qid[OM_Q__COUNT]; /* quantities.id of each quantity, 0: not in this database */
    om_map meters, gateways, epochs;
    void **dirty;             /* store_meter / store_gateway / store_epoch with dirty set */
    unsigned char *dirty_kind;
    size_t ndirty, dirty_cap;
    uint64_t rejects_keep;
    bool rejects_added;
    bool unavailable; /* the last failure was the database's, not the data's */
    struct store_hours *hours; /* the writer's pending hourly aggregates (store_hours.c) */
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

/* Sequence state (store_seq.c): release a cached epoch; write its row and
 * the range rows that changed (inside the group); forget what was written
 * once the group is certain to commit. */
void store_epoch_free(void *epoch);
int store_flush_epoch(om_store *st, store_epoch *e);
void store_epoch_flushed(store_epoch *e);
/* Hourly aggregates (store_hours.c, hours.h). _open creates the tables for
 * a writer (filling them from stored readings) or checks their version for
 * a reader; _add counts a reading that was stored as new; _flush writes
 * the group's hours before COMMIT; _drop forgets them after a rollback. */
int store_hours_open(om_store *st);
int store_hours_add(om_store *st, int64_t meter, int64_t qid, int64_t t, double v);
int store_hours_flush(om_store *st);
void store_hours_drop(om_store *st);
void store_hours_free(om_store *st);

#endif
