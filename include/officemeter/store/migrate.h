/* SPDX-License-Identifier: Apache-2.0 */
/*
 * migrate.h - moving the aggregator's database from one backend to the
 * other (SQLite to PostgreSQL as a portfolio grows, PostgreSQL to SQLite
 * for a small export), and proving the copy whole.
 *
 * Every table is copied (readings, conflicts, gateways and their
 * acknowledgement state, rejects and their counts, quarantine, thinned and
 * lost ranges, the rollups), in key order, a batch per transaction, with
 * the copy's progress committed in the target alongside its rows: an
 * interrupted copy, run again with the same source, goes on after the last
 * committed row. The target must be empty (or hold an unfinished copy of
 * the same source). Quantity ids are translated by name.
 *
 * Then om_store_compare counts the rows of every table on both sides and
 * adds up a checksum of each row's values (independent of their order; a
 * quantity counts by its name): the copy is proven when every table has the
 * same count and the same sum.
 */
#ifndef OFFICEMETER_STORE_MIGRATE_H
#define OFFICEMETER_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/store/store.h"

typedef struct {
    size_t batch_rows; /* rows per transaction (0: 20000) */
    /* After each committed batch: the table, rows copied so far, whether
     * the table is done. Optional. */
    void (*progress)(void *ctx, const char *table, uint64_t rows, bool done);
    void *ctx;
} om_migrate_options;

/* Copies `from` into `to` (both open; `to` writable). Returns 0, or -1 with
 * the reason in err (what was committed stays, and a second run resumes). */
int om_store_migrate(om_store *from, om_store *to, const om_migrate_options *o, char *err,
                     size_t errlen);

typedef struct {
    char table[32];
    uint64_t rows[2];     /* a, b */
    uint64_t checksum[2];
} om_migrate_check;

/* Counts and checksums of every table of a and b into *checks (malloc'd,
 * *n of them; a table that one side lacks counts 0 rows there). Returns 0
 * when all are equal, 1 when some differ, -1 on an error (err). */
int om_store_compare(om_store *a, om_store *b, om_migrate_check **checks, size_t *n, char *err,
                     size_t errlen);

#endif
