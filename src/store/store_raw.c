/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_raw.c - the SQLite backend's side of `officemeter migrate`: a
 * table's rows in key order, and rows in with the copy's progress in one
 * transaction (store_ops.h, store_tables.h).
 *
 * The copy's progress lives in the target, in migration_progress (one row
 * per table: where from, the last key copied, rows, done), written in the
 * same transaction as the rows it counts, so an interrupted copy never
 * counts a row twice or loses one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/sql/sql.h"
#include "store_private.h"

static const char progress_schema[] =
    "CREATE TABLE IF NOT EXISTS migration_progress(tbl TEXT PRIMARY KEY, source TEXT NOT NULL,"
    "  last_key TEXT, rows INTEGER NOT NULL, done INTEGER NOT NULL)";

/* Appends text to the string in buf (cut at len; the SQL here is short). */
static void add(char *buf, size_t len, const char *text)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s", text);
}

/* "a, b, c" of the table's columns (or of its key). */
static void column_list(const store_table *t, size_t n, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            add(buf, len, ", ");
        add(buf, len, t->cols[i].name);
    }
}

static void bind_value(sqlite3_stmt *s, int i, store_col_type type, const store_value *v)
{
    if (v->null)
        sqlite3_bind_null(s, i);
    else if (type == COL_INT)
        sqlite3_bind_int64(s, i, v->i);
    else if (type == COL_REAL)
        sqlite3_bind_double(s, i, v->d);
    else if (type == COL_TEXT)
        sqlite3_bind_text(s, i, v->s, (int)v->len, SQLITE_STATIC);
    else
        sqlite3_bind_blob(s, i, v->s, (int)v->len, SQLITE_STATIC);
}

int sqlite_raw_select(om_store *st, const store_table *t, const store_value *after,
                      size_t limit, store_batch *out)
{
    char cols[1024], keys[256], sql[2048];
    column_list(t, t->ncols, cols, sizeof cols);
    column_list(t, t->nkey, keys, sizeof keys);
    snprintf(sql, sizeof sql, "SELECT %s FROM %s", cols, t->name);
    if (after && t->nkey) {
        add(sql, sizeof sql, " WHERE (");
        add(sql, sizeof sql, keys);
        add(sql, sizeof sql, ") > (");
        for (size_t k = 0; k < t->nkey; k++)
            add(sql, sizeof sql, k ? ", ?" : "?");
        add(sql, sizeof sql, ")");
    }
    if (t->nkey) {
        add(sql, sizeof sql, " ORDER BY ");
        add(sql, sizeof sql, keys);
    }
    if (limit)
        add(sql, sizeof sql, " LIMIT ?");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, t->name);
    int p = 1;
    for (size_t k = 0; after && k < t->nkey; k++)
        bind_value(s, p++, t->cols[k].type, &after[k]);
    if (limit)
        sqlite3_bind_int64(s, p, (sqlite3_int64)limit);
    store_batch_clear(out);
    out->ncols = t->ncols;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        store_value *row = store_batch_row(out);
        if (!row)
            break;
        for (size_t c = 0; c < t->ncols; c++) {
            if (sqlite3_column_type(s, (int)c) == SQLITE_NULL)
                continue;
            row[c].null = false;
            switch (t->cols[c].type) {
            case COL_INT: row[c].i = sqlite3_column_int64(s, (int)c); break;
            case COL_REAL: row[c].d = sqlite3_column_double(s, (int)c); break;
            case COL_TEXT:
            case COL_BLOB: {
                const void *data = t->cols[c].type == COL_TEXT
                                       ? (const void *)sqlite3_column_text(s, (int)c)
                                       : sqlite3_column_blob(s, (int)c);
                if (store_batch_bytes(out, &row[c], data ? data : "",
                                      (size_t)sqlite3_column_bytes(s, (int)c)) < 0)
                    rc = SQLITE_NOMEM;
                break;
            }
            }
        }
        if (rc == SQLITE_NOMEM)
            break;
    }
    sqlite3_finalize(s);
    store_batch_seal(out);
    if (rc == SQLITE_ROW || rc == SQLITE_NOMEM)
        return store_failf(st, "%s: out of memory", t->name);
    return rc == SQLITE_DONE ? 0 : store_fail(st, t->name);
}

static int put_progress(om_store *st, const char *table, const store_progress *p)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO migration_progress(tbl, source, "
                                   "last_key, rows, done) VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "migration_progress");
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, p->last_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)p->rows);
    sqlite3_bind_int(s, 5, p->done);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "migration_progress");
}

static int insert_rows(om_store *st, const store_table *t, const store_batch *rows, bool replace)
{
    char cols[1024], sql[2048], what[96];
    snprintf(what, sizeof what, "copying %s", t->name);
    if (replace) {
        snprintf(sql, sizeof sql, "DELETE FROM %s", t->name);
        char msg[512];
        if (om_sql_exec(st->db, sql, what, msg, sizeof msg) < 0)
            return store_failf(st, "%s", msg);
    }
    column_list(t, t->ncols, cols, sizeof cols);
    snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s(%s) VALUES (", t->name, cols);
    for (size_t c = 0; c < t->ncols; c++)
        add(sql, sizeof sql, c ? ", ?" : "?");
    add(sql, sizeof sql, ")");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, what);
    int rc = SQLITE_DONE;
    for (size_t r = 0; r < rows->nrows && rc == SQLITE_DONE; r++) {
        sqlite3_reset(s);
        for (size_t c = 0; c < t->ncols; c++)
            bind_value(s, (int)c + 1, t->cols[c].type, &rows->v[r * rows->ncols + c]);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, what);
}

int sqlite_raw_insert(om_store *st, const store_table *t, const store_batch *rows, bool replace,
                      const store_progress *progress, const char *table_name)
{
    char msg[512];
    if (om_sql_exec(st->db, progress_schema, "migration_progress", msg, sizeof msg) < 0 ||
        om_sql_exec(st->db, "BEGIN IMMEDIATE", "begin", msg, sizeof msg) < 0)
        return store_failf(st, "%s", msg);
    if ((t && insert_rows(st, t, rows, replace) < 0) ||
        put_progress(st, table_name, progress) < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (om_sql_exec(st->db, "COMMIT", "commit", msg, sizeof msg) < 0)
        return store_failf(st, "%s", msg);
    return 0;
}

int sqlite_raw_has(om_store *st, const char *table_name, bool *yes)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name = ?1", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, table_name);
    sqlite3_bind_text(s, 1, table_name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *yes = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : store_fail(st, table_name);
}

int sqlite_raw_progress(om_store *st, const char *table_name, store_progress *out)
{
    memset(out, 0, sizeof *out);
    bool have;
    if (sqlite_raw_has(st, "migration_progress", &have) < 0)
        return -1;
    if (!have)
        return 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT source, last_key, rows, done FROM migration_progress "
                                   "WHERE tbl = ?1", -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, "migration_progress");
    sqlite3_bind_text(s, 1, table_name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *src = sqlite3_column_text(s, 0), *key = sqlite3_column_text(s, 1);
        snprintf(out->source, sizeof out->source, "%s", src ? (const char *)src : "");
        snprintf(out->last_key, sizeof out->last_key, "%s", key ? (const char *)key : "");
        out->rows = (uint64_t)sqlite3_column_int64(s, 2);
        out->done = sqlite3_column_int(s, 3) != 0;
        out->present = true;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st, "migration_progress");
}

/* Rowids follow the copied ids by themselves. */
int sqlite_raw_finish(om_store *st, const store_table *t)
{
    /* Readings copied in by rows bypass the writer, and with it the hourly
     * aggregates (hours.h): those are copied as tables of their own, or
     * rebuilt when the source has none (store_migrate.c). */
    (void)st;
    (void)t;
    return 0;
}
