/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_alert_private.h - the two backends of alertdb.h, shared by
 * store_alerts.c (opening, the evaluator's reads, rule states),
 * store_alert_log.c (alerts, changes, silences, targets), store_alert_sql.c
 * (running a statement on either backend) and store_pg_alerts.c (the
 * PostgreSQL schema and statements). Not a public API.
 *
 * Every statement of the alert side is one entry of the table of
 * PostgreSQL texts (store_pg_alerts.c); SQLite runs the same text with ?N
 * for $N, or, where the dialects differ, its own text (store_alerts.c) with
 * the same parameters in the same places and the same columns in the same
 * order, so the code above them is written once:
 *
 *     aparam p[] = {AP_S(site), AP_I(t)};
 *     arows r;
 *     if (arows_run(db, A_..., p, 2, &r) < 0) return -1;
 *     while (arows_next(&r)) ... arows_int(&r, 0) ...
 *     return arows_end(&r, "what it was");
 *
 * Parameters are numbered by their place in p (SQLite ?N, PostgreSQL $N,
 * typed: text or bigint); a statement may leave some unused.
 */
#ifndef OM_STORE_ALERT_PRIVATE_H
#define OM_STORE_ALERT_PRIVATE_H

#include <libpq-fe.h>
#include <sqlite3.h>

#include "officemeter/store/alertdb.h"
#include "store_private.h"

enum {
    A_METER_FACTS,
    A_GATEWAY_FACTS,
    A_REJECTS,
    A_METER_ID,
    A_BEFORE,
    A_FROM,
    A_STATE_GET,
    A_STATE_PUT,
    A_FIND_OPEN,
    A_GET,
    A_INSERT,
    A_RESOLVE,
    A_ACK,
    A_BUMP,
    A_HISTORY_ADD,
    A_HISTORY,
    A_AFTER,
    A_LAST,
    A_SILENCE_ADD,
    A_SILENCED_UNTIL,
    A_SILENCES_DUE,
    A_SILENCE_END,
    A_SILENCES,
    A_OPEN_COVERED,
    A_TARGET_GET,
    A_TARGET_PUT,
    A_TARGETS,
    A_PUB_GET,
    A_PUB_PUT,
    A_LIST,
    A_META,
    A__COUNT
};

struct om_alertdb {
    om_store *st;
    bool pg;                     /* the PostgreSQL backend (st->pg) */
    sqlite3_stmt *q[A__COUNT];   /* SQLite: prepared once */
    char instance[17];
    char err[768];
};

extern const char *const alert_pg_queries[A__COUNT];

/* ---- one statement on either backend (store_alert_sql.c) ---- */

typedef enum { AP_NULL, AP_INT, AP_TEXT } aparam_kind;

typedef struct {
    aparam_kind kind;
    int64_t i;
    const char *s;
} aparam;

static inline aparam alert_param_int(int64_t v)
{
    return (aparam){AP_INT, v, NULL};
}

/* Text; a NULL pointer is SQL NULL. */
static inline aparam alert_param_text(const char *v)
{
    return (aparam){v ? AP_TEXT : AP_NULL, 0, v};
}

#define AP_I(v) alert_param_int((int64_t)(v))
#define AP_S(v) alert_param_text(v)

typedef struct {
    om_alertdb *db;
    sqlite3_stmt *s;   /* SQLite */
    PGresult *r;       /* PostgreSQL: every row at once */
    int row;           /* PostgreSQL: the current row */
    bool failed;
} arows;

/* Runs statement `which` with p[0..np); 0 or -1 (db->err). */
int arows_run(om_alertdb *db, int which, const aparam *p, int np, arows *out);
/* The next row: false at the end, or after a failure (arows_end tells). */
bool arows_next(arows *r);
/* Releases the rows; 0, or -1 with "path: what: the database's message". */
int arows_end(arows *r, const char *what);
int64_t arows_int(const arows *r, int col);
double arows_double(const arows *r, int col);
const char *arows_text(const arows *r, int col); /* "" for NULL */
bool arows_null(const arows *r, int col);
/* Runs a statement that returns no row (or whose rows are not wanted). */
int aexec(om_alertdb *db, int which, const aparam *p, int np, const char *what);
/* Runs a statement and reads the first column of its first row into *v
 * (dflt when there is no row); 0 or -1. */
int aint(om_alertdb *db, int which, const aparam *p, int np, int64_t dflt, int64_t *v,
         const char *what);

/* Sets db->err to "path: what" and returns -1. */
int alertdb_failf(om_alertdb *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs plain SQL (savepoints); 0 or -1. */
int alertdb_exec(om_alertdb *db, const char *sql, const char *what);

/* ---- the PostgreSQL side (store_pg_alerts.c) ---- */

/* Creates the tables when missing (a writer), or says they are missing
 * (*have false). */
int alert_pg_prepare(om_alertdb *db, bool *have);
/* Inside a group (om_store_begin), a transaction for the alert tables'
 * writes, committed by om_store_commit (store_pg.h). */
int alert_pg_tx(om_alertdb *db);

#endif
