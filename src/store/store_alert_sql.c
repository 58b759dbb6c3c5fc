/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_alert_sql.c - one statement of the alert tables on either backend
 * (store_alert_private.h): SQLite's prepared statement stepped row by row,
 * or PostgreSQL's result read row by row (alert statements return a site's
 * worth of rows at most, or a batch the caller bounded).
 */
#include "store_alert_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

/* PostgreSQL type oids of the parameters: int8 and text. */
#define OID_INT8 20
#define OID_TEXT 25

int alertdb_failf(om_alertdb *db, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(db->err, sizeof db->err, "%s: %s", om_store_path(db->st), what);
    return -1;
}

/* The database's own words after a failure, without a trailing newline. */
static void db_message(om_alertdb *db, const PGresult *r, char *out, size_t len)
{
    const char *msg = db->pg ? (r ? PQresultErrorMessage(r) : PQerrorMessage(db->st->pg->conn))
                             : sqlite3_errmsg(db->st->db);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    snprintf(out, len, "%.*s", (int)n, msg);
}

static int pg_run(om_alertdb *db, int which, const aparam *p, int np, arows *out)
{
    if (alert_pg_tx(db) < 0)
        return -1;
    char nums[16][24];
    const char *values[16];
    Oid types[16];
    if (np > 16)
        return alertdb_failf(db, "too many parameters");
    for (int i = 0; i < np; i++) {
        types[i] = p[i].kind == AP_INT ? OID_INT8 : OID_TEXT;
        if (p[i].kind == AP_INT) {
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)p[i].i);
            values[i] = nums[i];
        } else {
            values[i] = p[i].kind == AP_TEXT ? p[i].s : NULL;
        }
    }
    PGresult *r = PQexecParams(db->st->pg->conn, alert_pg_queries[which], np, types, values, NULL,
                               NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        char msg[512];
        db_message(db, r, msg, sizeof msg);
        PQclear(r);
        return alertdb_failf(db, "alert tables: %s", msg);
    }
    out->r = r;
    out->row = -1;
    return 0;
}

int arows_run(om_alertdb *db, int which, const aparam *p, int np, arows *out)
{
    memset(out, 0, sizeof *out);
    out->db = db;
    if (db->pg)
        return pg_run(db, which, p, np, out);
    sqlite3_stmt *s = db->q[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (int i = 0; i < np; i++) {
        if (p[i].kind == AP_INT)
            sqlite3_bind_int64(s, i + 1, p[i].i);
        else if (p[i].kind == AP_TEXT)
            sqlite3_bind_text(s, i + 1, p[i].s, -1, SQLITE_STATIC);
    }
    out->s = s;
    return 0;
}

bool arows_next(arows *r)
{
    if (r->failed)
        return false;
    if (r->r)
        return ++r->row < PQntuples(r->r);
    int rc = sqlite3_step(r->s);
    if (rc == SQLITE_ROW)
        return true;
    if (rc != SQLITE_DONE) {
        r->failed = true;
        db_message(r->db, NULL, r->db->err, sizeof r->db->err);
    }
    return false;
}

int arows_end(arows *r, const char *what)
{
    bool failed = r->failed;
    if (r->r)
        PQclear(r->r);
    else if (r->s)
        sqlite3_reset(r->s);
    r->r = NULL;
    r->s = NULL;
    if (!failed)
        return 0;
    char msg[512];
    snprintf(msg, sizeof msg, "%.500s", r->db->err);
    return alertdb_failf(r->db, "%s: %s", what, msg);
}

int64_t arows_int(const arows *r, int col)
{
    if (r->r)
        return PQgetisnull(r->r, r->row, col) ? 0
                                               : strtoll(PQgetvalue(r->r, r->row, col), NULL, 10);
    return sqlite3_column_int64(r->s, col);
}

double arows_double(const arows *r, int col)
{
    if (r->r)
        return PQgetisnull(r->r, r->row, col) ? 0 : strtod(PQgetvalue(r->r, r->row, col), NULL);
    return sqlite3_column_double(r->s, col);
}

const char *arows_text(const arows *r, int col)
{
    if (r->r)
        return PQgetvalue(r->r, r->row, col); /* "" for NULL */
    const char *t = (const char *)sqlite3_column_text(r->s, col);
    return t ? t : "";
}

bool arows_null(const arows *r, int col)
{
    if (r->r)
        return PQgetisnull(r->r, r->row, col) != 0;
    return sqlite3_column_type(r->s, col) == SQLITE_NULL;
}

int aexec(om_alertdb *db, int which, const aparam *p, int np, const char *what)
{
    arows r;
    if (arows_run(db, which, p, np, &r) < 0)
        return -1;
    while (arows_next(&r))
        ;
    return arows_end(&r, what);
}

int aint(om_alertdb *db, int which, const aparam *p, int np, int64_t dflt, int64_t *v,
         const char *what)
{
    arows r;
    *v = dflt;
    if (arows_run(db, which, p, np, &r) < 0)
        return -1;
    if (arows_next(&r))
        *v = arows_int(&r, 0);
    return arows_end(&r, what);
}

int alertdb_exec(om_alertdb *db, const char *sql, const char *what)
{
    if (!db->pg) {
        if (sqlite3_exec(db->st->db, sql, NULL, NULL, NULL) == SQLITE_OK)
            return 0;
        char msg[512];
        db_message(db, NULL, msg, sizeof msg);
        return alertdb_failf(db, "%s: %s", what, msg);
    }
    if (alert_pg_tx(db) < 0)
        return -1;
    PGresult *r = PQexec(db->st->pg->conn, sql);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        return 0;
    }
    char msg[512];
    db_message(db, r, msg, sizeof msg);
    PQclear(r);
    return alertdb_failf(db, "%s: %s", what, msg);
}
