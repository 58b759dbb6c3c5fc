/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_alert_private.h - the SQLite side of alertdb.h, shared by
 * store_alerts.c (tables, the evaluator's reads, rule states) and
 * store_alert_log.c (alerts, changes, silences, targets). Not a public API.
 */
#ifndef OM_STORE_ALERT_PRIVATE_H
#define OM_STORE_ALERT_PRIVATE_H

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
    A__COUNT
};

struct om_alertdb {
    om_store *st;
    sqlite3_stmt *q[A__COUNT];
    char instance[17];
    char err[768];
};

/* A prepared statement, reset, bindings cleared. */
sqlite3_stmt *alertdb_q(om_alertdb *db, int which);
/* Sets db->err to "path: what: SQLite's message" and returns -1. */
int alertdb_fail(om_alertdb *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Steps a statement that returns no row; 0 or -1. */
int alertdb_done(om_alertdb *db, sqlite3_stmt *s, const char *what);
/* Text of a column, "" for NULL. */
const char *alertdb_text(sqlite3_stmt *s, int col);

#endif
