/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_raw.c - the PostgreSQL backend's side of `officemeter migrate`
 * (store_ops.h, store_tables.h): a table's rows in key order, and rows in
 * through COPY into a temporary table and one INSERT ... SELECT ... ON
 * CONFLICT DO NOTHING, with the copy's progress, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

static const char progress_schema[] =
    "CREATE TABLE IF NOT EXISTS migration_progress(tbl text COLLATE \"C\" PRIMARY KEY,"
    "  source text NOT NULL, last_key text, rows bigint NOT NULL, done integer NOT NULL)";

static void column_list(pg_buf *b, const store_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            pg_buf_str(b, ", ");
        pg_buf_str(b, t->cols[i].name);
    }
}

/* A value as a text parameter (NULL: SQL NULL); into tmp when a number. */
static const char *param_of(const store_col *col, const store_value *v, char *tmp, size_t len)
{
    if (v->null)
        return NULL;
    if (col->type == COL_INT)
        snprintf(tmp, len, "%lld", (long long)v->i);
    else if (col->type == COL_REAL)
        snprintf(tmp, len, "%.17g", v->d);
    else
        return v->s; /* keys are text: ids and epochs */
    return tmp;
}

int pg_raw_select(om_store *st, const store_table *t, const store_value *after, size_t limit,
                  store_batch *out)
{
    pg_buf sql = {0};
    pg_buf_str(&sql, "SELECT ");
    column_list(&sql, t, t->ncols);
    pg_buf_printf(&sql, " FROM %s", t->name);
    const char *params[16];
    char tmp[16][32];
    int n = 0;
    if (after && t->nkey) {
        pg_buf_str(&sql, " WHERE (");
        column_list(&sql, t, t->nkey);
        pg_buf_str(&sql, ") > (");
        for (size_t k = 0; k < t->nkey; k++) {
            params[n] = param_of(&t->cols[k], &after[k], tmp[n], sizeof tmp[n]);
            pg_buf_printf(&sql, "%s$%d", k ? ", " : "", n + 1);
            n++;
        }
        pg_buf_str(&sql, ")");
    }
    if (t->nkey) {
        pg_buf_str(&sql, " ORDER BY ");
        column_list(&sql, t, t->nkey);
    }
    if (limit)
        pg_buf_printf(&sql, " LIMIT %zu", limit);
    PGresult *r = sql.oom ? NULL : pg_query(st, sql.s, n, params, 0, t->name);
    pg_buf_free(&sql);
    if (!r)
        return -1;
    store_batch_clear(out);
    out->ncols = t->ncols;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        store_value *row = store_batch_row(out);
        if (!row) {
            rc = -1;
            break;
        }
        for (size_t c = 0; c < t->ncols && rc == 0; c++) {
            if (PQgetisnull(r, i, (int)c))
                continue;
            row[c].null = false;
            const char *text = PQgetvalue(r, i, (int)c);
            switch (t->cols[c].type) {
            case COL_INT: row[c].i = strtoll(text, NULL, 10); break;
            case COL_REAL: row[c].d = strtod(text, NULL); break;
            case COL_TEXT:
                rc = store_batch_bytes(out, &row[c], text, (size_t)PQgetlength(r, i, (int)c));
                break;
            case COL_BLOB: {
                size_t len = 0;
                unsigned char *bytes = PQunescapeBytea((const unsigned char *)text, &len);
                rc = bytes ? store_batch_bytes(out, &row[c], bytes, len) : -1;
                PQfreemem(bytes);
                break;
            }
            }
        }
    }
    PQclear(r);
    store_batch_seal(out);
    return rc == 0 ? 0 : store_failf(st, "%s: out of memory", t->name);
}

/* A value in COPY's text format. */
static void copy_value(pg_buf *b, const store_col *col, const store_value *v)
{
    if (v->null) {
        pg_buf_str(b, "\\N");
        return;
    }
    switch (col->type) {
    case COL_INT: pg_buf_int(b, v->i); return;
    case COL_REAL: pg_buf_double(b, v->d); return;
    case COL_TEXT:
        for (size_t i = 0; i < v->len; i++) {
            char ch = v->s[i];
            const char *esc = ch == '\\' ? "\\\\" : ch == '\t' ? "\\t" : ch == '\n' ? "\\n"
                                                     : ch == '\r' ? "\\r" : NULL;
            if (esc)
                pg_buf_str(b, esc);
            else
                pg_buf_add(b, &ch, 1);
        }
        return;
    case COL_BLOB:
        pg_buf_str(b, "\\\\x");
        for (size_t i = 0; i < v->len; i++)
            pg_buf_printf(b, "%02x", (unsigned char)v->s[i]);
        return;
    }
}

static int copy_rows(om_store *st, const store_table *t, const store_batch *rows)
{
    struct store_pg *pg = st->pg;
    pg_buf *b = &pg->sql;
    pg_buf_reset(b);
    pg_buf_printf(b, "CREATE TEMPORARY TABLE IF NOT EXISTS om_copy_%s (LIKE %s) "
                     "ON COMMIT DELETE ROWS", t->name, t->name);
    if (b->oom || pg_exec(st, b->s, "copying") < 0)
        return -1;
    pg_buf_reset(b);
    pg_buf_printf(b, "COPY om_copy_%s(", t->name);
    column_list(b, t, t->ncols);
    pg_buf_str(b, ") FROM STDIN");
    PGresult *r = b->oom ? NULL : PQexec(pg->conn, b->s);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        return pg_failr(st, t->name, r);
    PQclear(r);
    pg_buf_reset(b);
    for (size_t i = 0; i < rows->nrows; i++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                pg_buf_add(b, "\t", 1);
            copy_value(b, &t->cols[c], &rows->v[i * rows->ncols + c]);
        }
        pg_buf_add(b, "\n", 1);
        if (b->len >= 65536 || i + 1 == rows->nrows) {
            if (b->oom || PQputCopyData(pg->conn, b->s, (int)b->len) != 1) {
                PQputCopyEnd(pg->conn, "cut short");
                PQclear(PQgetResult(pg->conn));
                return b->oom ? store_failf(st, "out of memory") : pg_fail(st, t->name);
            }
            pg_buf_reset(b);
        }
    }
    int rc = PQputCopyEnd(pg->conn, NULL) == 1 ? 0 : pg_fail(st, t->name);
    while ((r = PQgetResult(pg->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_failr(st, t->name, r);
        else
            PQclear(r);
    }
    if (rc)
        return rc;
    pg_buf_reset(b);
    pg_buf_printf(b, "INSERT INTO %s(", t->name);
    column_list(b, t, t->ncols);
    pg_buf_str(b, ") SELECT ");
    column_list(b, t, t->ncols);
    pg_buf_printf(b, " FROM om_copy_%s ON CONFLICT DO NOTHING", t->name);
    return b->oom ? store_failf(st, "out of memory") : pg_exec(st, b->s, t->name);
}

/* Readings need their months' partitions (created outside the copy's
 * transaction: creating one locks the parent). */
static int partitions_for(om_store *st, const store_table *t, const store_batch *rows)
{
    if (strcmp(t->name, "readings") != 0)
        return 0;
    int64_t from = 1, to = 0;
    for (size_t i = 0; i < rows->nrows; i++) {
        int64_t ms = rows->v[i * rows->ncols + 2].i; /* t */
        if (ms >= from && ms < to)
            continue;
        if (pg_partition_for(st, ms) < 0)
            return -1;
        pg_month_range(ms, &from, &to);
    }
    return 0;
}

int pg_raw_insert(om_store *st, const store_table *t, const store_batch *rows, bool replace,
                  const store_progress *progress, const char *table_name)
{
    if (pg_exec(st, progress_schema, "migration_progress") < 0 ||
        (t && partitions_for(st, t, rows) < 0) || pg_exec(st, "BEGIN", "begin") < 0)
        return -1;
    char del[128], n[24];
    snprintf(del, sizeof del, "DELETE FROM %s", t ? t->name : "");
    snprintf(n, sizeof n, "%llu", (unsigned long long)progress->rows);
    const char *v[] = {table_name, progress->source, progress->last_key, n,
                       progress->done ? "1" : "0"};
    PGresult *r = NULL;
    int rc = (t && replace && pg_exec(st, del, "copying") < 0) ||
                     (t && rows->nrows && copy_rows(st, t, rows) < 0)
                 ? -1
                 : 0;
    if (rc == 0) {
        r = pg_query(st, "INSERT INTO migration_progress(tbl, source, last_key, rows, done) "
                         "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tbl) DO UPDATE SET "
                         "source = excluded.source, last_key = excluded.last_key, "
                         "rows = excluded.rows, done = excluded.done", 5, v, 0,
                     "migration_progress");
        rc = r ? 0 : -1;
        PQclear(r);
    }
    if (rc) {
        PQclear(PQexec(st->pg->conn, "ROLLBACK"));
        return -1;
    }
    return pg_exec(st, "COMMIT", "commit");
}

int pg_raw_has(om_store *st, const char *table_name, bool *yes)
{
    const char *v[] = {table_name};
    PGresult *r = pg_query(st, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                               "current_schema() AND tablename = $1", 1, v, 0, table_name);
    if (!r)
        return -1;
    *yes = pg_int(r, 0, 0, 0) > 0;
    PQclear(r);
    return 0;
}

int pg_raw_progress(om_store *st, const char *table_name, store_progress *out)
{
    memset(out, 0, sizeof *out);
    bool have;
    if (pg_raw_has(st, "migration_progress", &have) < 0)
        return -1;
    if (!have)
        return 0;
    const char *v[] = {table_name};
    PGresult *r = pg_query(st, "SELECT source, last_key, rows, done FROM migration_progress "
                               "WHERE tbl = $1", 1, v, 0, "migration_progress");
    if (!r)
        return -1;
    if (PQntuples(r)) {
        pg_copy_text(out->source, sizeof out->source, r, 0, 0);
        pg_copy_text(out->last_key, sizeof out->last_key, r, 0, 1);
        out->rows = (uint64_t)pg_int(r, 0, 2, 0);
        out->done = pg_int(r, 0, 3, 0) != 0;
        out->present = true;
    }
    PQclear(r);
    return 0;
}

/* A generated id's sequence continues after the copied ids. */
int pg_raw_finish(om_store *st, const store_table *t)
{
    if (!t->identity)
        return 0;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), greatest(coalesce(max(id), 0), 1), "
             "coalesce(max(id), 0) > 0) FROM %s", t->name, t->name);
    return pg_exec(st, sql, t->name);
}
