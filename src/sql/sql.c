/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql.c - small SQLite helpers shared by the outbox and the store (sql.h).
 */
#include "officemeter/sql/sql.h"

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
