/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_approval.c - the approvals of annual reports, in a table of their
 * own (report_approvals, versioned by approval_meta) beside the rollups:
 * the SQLite side of approval.h (the PostgreSQL side is
 * store_pg_approval.c; store_api.c dispatches). Rows are added, never
 * changed: the history of approvals is the audit trail of restatements.
 */
#include "officemeter/store/approval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/sql/sql.h"
#include "store_private.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS approval_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS report_approvals(id INTEGER PRIMARY KEY, year INTEGER NOT NULL,"
    "  approved_at INTEGER NOT NULL, approved_by TEXT NOT NULL, sha256 TEXT NOT NULL,"
    "  report_json TEXT NOT NULL, inputs_json TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS report_approvals_year ON report_approvals(year, id);"
    "INSERT OR IGNORE INTO approval_meta(key, value) VALUES ('schema', 1);";

static int failed(om_store *st, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s: %s", om_store_path(st), what, sqlite3_errmsg(st->db));
    return -1;
}

static bool has_table(om_store *st)
{
    int64_t n = 0;
    return om_sql_int(st->db, "SELECT count(*) FROM sqlite_master WHERE name = 'report_approvals'",
                      &n) == 0 && n > 0;
}

static int check_version(om_store *st, char *err, size_t errlen)
{
    int64_t version = 0;
    if (om_sql_int(st->db, "SELECT value FROM approval_meta WHERE key = 'schema'", &version) < 0)
        return failed(st, err, errlen, "approval table");
    if (version != OM_APPROVAL_SCHEMA) {
        snprintf(err, errlen, "%s: approval table is version %lld, this program needs %d; "
                 "upgrade officemeter", om_store_path(st), (long long)version, OM_APPROVAL_SCHEMA);
        return -1;
    }
    return 0;
}

static char *column_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return strdup(t ? (const char *)t : "");
}

int sqlite_approval_latest(om_store *st, int year, om_approval *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!has_table(st))
        return 0;
    if (check_version(st, err, errlen) < 0)
        return -1;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT approved_at, approved_by, sha256, report_json, inputs_json, "
                           "reason FROM report_approvals WHERE year = ?1 ORDER BY id DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return failed(st, err, errlen, "reading approvals");
    sqlite3_bind_int(s, 1, year);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->year = year;
        out->approved_at = sqlite3_column_int64(s, 0);
        out->approved_by = column_text(s, 1);
        const unsigned char *sha = sqlite3_column_text(s, 2);
        snprintf(out->sha256, sizeof out->sha256, "%s", sha ? (const char *)sha : "");
        out->report_json = column_text(s, 3);
        out->inputs_json = column_text(s, 4);
        out->reason = column_text(s, 5);
    }
    int found = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        failed(st, err, errlen, "reading approvals");
    sqlite3_finalize(s);
    if (found && (!out->approved_by || !out->report_json || !out->inputs_json || !out->reason)) {
        om_approval_free(out);
        snprintf(err, errlen, "%s: out of memory", om_store_path(st));
        return -1;
    }
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int sqlite_approval_create(om_store *st, char *err, size_t errlen)
{
    char *msg = NULL;
    if (!has_table(st) && sqlite3_exec(st->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: creating the approval table: %s", om_store_path(st),
                 msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return check_version(st, err, errlen);
}

int sqlite_approval_add(om_store *st, const om_approval *a, char *err, size_t errlen)
{
    if (st->readonly) {
        snprintf(err, errlen, "%s: opened read-only", om_store_path(st));
        return -1;
    }
    if (sqlite_approval_create(st, err, errlen) < 0)
        return -1;
    om_store_read_end(st);
    if (om_store_begin(st) < 0) {
        snprintf(err, errlen, "%s", om_store_errmsg(st));
        return -1;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO report_approvals(year, approved_at, approved_by, sha256, "
                           "report_json, inputs_json, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &s, NULL) != SQLITE_OK) {
        failed(st, err, errlen, "recording the approval");
        om_store_rollback(st);
        return -1;
    }
    sqlite3_bind_int(s, 1, a->year);
    sqlite3_bind_int64(s, 2, a->approved_at);
    sqlite3_bind_text(s, 3, a->approved_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, a->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, a->report_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, a->inputs_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, a->reason ? a->reason : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        failed(st, err, errlen, "recording the approval");
        om_store_rollback(st);
        return -1;
    }
    if (om_store_commit(st) < 0) {
        snprintf(err, errlen, "%s", om_store_errmsg(st));
        om_store_rollback(st);
        return -1;
    }
    return 0;
}

void om_approval_free(om_approval *a)
{
    if (!a)
        return;
    free(a->approved_by);
    free(a->report_json);
    free(a->inputs_json);
    free(a->reason);
    memset(a, 0, sizeof *a);
}
