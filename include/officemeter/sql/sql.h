/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql.h - the few things every SQLite user of the project does the same
 * way: run a script, read one number, prepare a table of statements once.
 *
 * The agent's outbox and the aggregator's store both use it; errors come
 * back as text for their own messages (which name the file).
 */
#ifndef OFFICEMETER_SQL_SQL_H
#define OFFICEMETER_SQL_SQL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Runs `text` (one statement or several). Returns 0, or -1 with
 * "what: SQLite's message" in err. */
int om_sql_exec(sqlite3 *db, const char *text, const char *what, char *err, size_t errlen);

/* The first column of the first row of `text` as an integer: 0 when there
 * is no row or the value is NULL. Returns 0, or -1 (sqlite3_errmsg(db)
 * says why). */
int om_sql_int(sqlite3 *db, const char *text, int64_t *out);

/* Prepares the n statements of `text` for repeated use. Returns 0, or -1
 * with the index of the statement that failed in *failed (those before it
 * are prepared: om_sql_finalize_all releases them). */
int om_sql_prepare_all(sqlite3 *db, const char *const *text, size_t n, sqlite3_stmt **out,
                       size_t *failed);
/* Finalizes stmts[0..n) (NULL entries are skipped) and clears them. */
void om_sql_finalize_all(sqlite3_stmt **stmts, size_t n);

/* Whose file this is, found by reading only (call it before any PRAGMA or
 * statement that writes: journal_mode = WAL rewrites the file's header).
 * `tables` (NULL-terminated) are tables that every version of the caller's
 * schema has. Returns 1 when the file has all of them and a user_version
 * above 0 (*version gets it), 0 when it has no table and no version (a new
 * file), or -1 with a reason in err: another
 * application's database ("not an officemeter database (no table
 * readings)") or a file that cannot be read. */
int om_sql_check_owner(sqlite3 *db, const char *const *tables, int64_t *version, char *err,
                       size_t errlen);

#endif
