/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_tables.h - every table of the aggregator's database, column by
 * column, as both backends hold it (not a public API): what `officemeter
 * migrate` copies and checks, table to table, in either direction.
 *
 * A table is copied in the order of its key (the first nkey columns,
 * unique), a batch at a time, each batch committed in the target together
 * with how far the copy got (migration_progress), so an interrupted copy
 * resumes after its last committed row. A table without a key
 * (rollup_events) is copied whole in one transaction. Text compares byte
 * by byte on both sides (SQLite's BINARY, PostgreSQL's "C" collation), so
 * "after this key" means the same to both.
 */
#ifndef OFFICEMETER_STORE_TABLES_H
#define OFFICEMETER_STORE_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { COL_INT, COL_REAL, COL_TEXT, COL_BLOB } store_col_type;

typedef struct {
    const char *name; /* as written in SQL (quoted where a keyword: "end") */
    store_col_type type;
} store_col;

typedef struct {
    const char *name;
    const store_col *cols;
    size_t ncols;
    size_t nkey;       /* the first nkey columns are the key; 0: copied whole */
    int quantity_col;  /* a quantities.id column (ids differ between databases), -1: none */
    bool identity;     /* its first column is a generated id */
    bool rollup;       /* created beside the store's own tables by their owner when
                        * first used (rollups, retention, approvals): may be
                        * there in an empty target, or missing in a source */
    bool derived;      /* recomputed from readings (the hourly aggregates, hours.h):
                        * copied as they are, so the copy is exact, and
                        * rebuilt in the target from the copied readings when
                        * the source has none (a database no writer of this
                        * version has opened); not compared then */
} store_table;

extern const store_table store_tables[];
extern const size_t store_ntables;

/* One value of a row: i (COL_INT), d (COL_REAL) or s and len (text,
 * blob; in a batch, s points into the batch's memory once sealed). */
typedef struct {
    bool null;
    bool bytes;   /* s is batch memory at offset `off` */
    int64_t i;
    double d;
    const char *s;
    size_t len, off;
} store_value;

/* Rows read from a table: nrows x ncols values. */
typedef struct {
    store_value *v;
    size_t nrows, ncols;
    size_t cap_values;       /* allocated in v: values, not rows (a batch is
                              * reused for tables of other widths) */
    char *mem;               /* text and blobs */
    size_t mem_len, mem_cap;
} store_batch;

/* Appends a row of ncols NULLs; NULL when memory ran out. The pointer is
 * good until the next row is added. */
store_value *store_batch_row(store_batch *b);
/* Copies text or a blob into the batch's memory for v. Returns 0 or -1. */
int store_batch_bytes(store_batch *b, store_value *v, const void *data, size_t len);
/* Points every text and blob at its bytes: after the last row was added
 * (the memory may move while rows are added). */
void store_batch_seal(store_batch *b);
void store_batch_clear(store_batch *b);
void store_batch_free(store_batch *b);

/* How far a table's copy got (migration_progress in the target). */
typedef struct {
    char source[512];  /* the database copied from */
    char last_key[1024]; /* the key of the last copied row, encoded */
    uint64_t rows;
    bool done;
    bool present;      /* a row exists */
} store_progress;

/* The key of a row as text for migration_progress, and back. */
int store_key_encode(const store_table *t, const store_value *row, char *out, size_t len);
/* Decodes into values (nkey of them; text points into `text`, which is
 * modified). Returns 0 or -1. */
int store_key_decode(const store_table *t, char *text, store_value *key);

#endif
