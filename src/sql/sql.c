/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql.c - small SQLite helpers shared by the outbox and the store (sql.h).
 */
#include "officemeter/sql/sql.h"

#include <stdbool.h>
#include <stdio.h>

int om_sql_exec(sqlite3 *db, const char *text, const char *what, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

int om_sql_int(sqlite3 *db, const char *text, int64_t *out)
{
    sqlite3_stmt *s;
    *out = 0;
    if (sqlite3_prepare_v2(db, text, -1, &s, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int om_sql_prepare_all(sqlite3 *db, const char *const *text, size_t n, sqlite3_stmt **out,
                       size_t *failed)
{
    for (size_t i = 0; i < n; i++) {
        if (sqlite3_prepare_v3(db, text[i], -1, SQLITE_PREPARE_PERSISTENT, &out[i], NULL) !=
            SQLITE_OK) {
            out[i] = NULL;
            *failed = i;
            return -1;
        }
    }
    return 0;
}

void om_sql_finalize_all(sqlite3_stmt **stmts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_finalize(stmts[i]); /* a no-op for NULL */
        stmts[i] = NULL;
    }
}

/* Whether sqlite_master names table `name`: 1, 0, or -1 on a read error. */
static int has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int om_sql_check_owner(sqlite3 *db, const char *const *tables, int64_t *version, char *err,
                       size_t errlen)
{
    int64_t ntables = 0;
    if (om_sql_int(db, "PRAGMA user_version", version) < 0 ||
        om_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &ntables) < 0) {
        snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (ntables == 0 && *version == 0)
        return 0;
    if (ntables == 0) {
        snprintf(err, errlen, "not an officemeter database (a schema version %lld but no "
                 "tables); nothing in it was changed", (long long)*version);
        return -1;
    }
    for (size_t i = 0; tables[i]; i++) {
        int has = has_table(db, tables[i]);
        if (has < 0) {
            snprintf(err, errlen, "cannot read the schema: %s", sqlite3_errmsg(db));
            return -1;
        }
        if (!has) {
            snprintf(err, errlen, "not an officemeter database (it has %lld tables but no "
                     "table %s); nothing in it was changed", (long long)ntables, tables[i]);
            return -1;
        }
    }
    if (*version <= 0) {
        snprintf(err, errlen, "not an officemeter database (it has tables but no schema "
                 "version); nothing in it was changed");
        return -1;
    }
    return 1;
}
