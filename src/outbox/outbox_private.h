/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox_private.h - what outbox.c, outbox_sql.c and outbox_quota.c share:
 * the handle, its prepared statements, and the functions that keep
 * transactions and error messages uniform. Not a public interface.
 */
#ifndef OFFICEMETER_OUTBOX_PRIVATE_H
#define OFFICEMETER_OUTBOX_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "officemeter/outbox/outbox.h"

/* Statements, prepared once per handle from the SQL table in outbox_sql.c. */
typedef enum {
    OB_BEGIN,
    OB_COMMIT,
    OB_ROLLBACK,
    OB_META_GET,
    OB_META_SET,
    OB_META_ADD,
    OB_INSERT,
    OB_DUE,
    OB_PREV_HELD,
    OB_RANGES_BETWEEN,
    OB_ACK_DELETE,
    OB_RANGES_PRUNE,
    OB_RANGES_TRIM,
    OB_DEPTH,
    OB_UNSEND_ALL,
    OB_PAGE_COUNT,
    OB_FREELIST_COUNT,
    OB_RANGE_ENDING_AT,
    OB_RANGE_STARTING_AT,
    OB_RANGE_DELETE,
    OB_RANGE_INSERT,
    OB_UNSEND_NEXT_HELD,
    OB_DELETE_SEQ,
    OB_ANY_THINNED,
    OB_MARK_SENT_RANGE,
    OB_MIN_SENT,
    OB_BEGIN_READ,
    OB_COUNT_BETWEEN,
    OB_SYNC_FULL,
    OB_SYNC_NORMAL,
    OB_Q1_NTH_INSTANT_ONLY,
    OB_Q1_CHUNK_END,
    OB_Q1_COUNT,
    OB_Q1_DROP,
    OB_Q1_EMPTIED,
    OB_Q2_NTH,
    OB_Q2_CHUNK_END,
    OB_Q2_LIST,
    OB__COUNT
} ob_stmt_id;

struct om_outbox {
    sqlite3 *db;
    char *path;
    char epoch[OM_EPOCH_LEN + 1];
    int64_t resend_ms;
    int64_t page_size;
    pthread_mutex_t lock;
    bool sync_normal; /* PRAGMA synchronous is NORMAL now (ob_begin_light) */
    /* Nothing is due for now_ms in [quiet_from_ms, quiet_until_ms): known
     * after a hand-out that took every due poll, so the delivery loop's
     * frequent "anything due?" costs no transaction. Cleared (0) by
     * whatever can make a poll due sooner (ob_quiet_clear). */
    int64_t quiet_from_ms;
    int64_t quiet_until_ms;
    /* An acknowledgement accepted by om_outbox_ack whose deletions are
     * written by the next write transaction (0: none), so that a poll
     * cycle's append and the previous cycle's acknowledgement share one
     * commit. Until then every read leaves those polls out. */
    int64_t pending_ack;
    bool pending_in_txn; /* the open transaction applied pending_ack */
    char *sql[OB__COUNT];
    sqlite3_stmt *stmt[OB__COUNT];
};

/* Expands the SQL templates of outbox_sql.c into ob->sql; 0 or -1 (memory,
 * or a template naming an unknown fragment). */
int ob_build_sql(om_outbox *ob);

/* Records the reason for a failure (the file name first), adding SQLite's
 * message when with_db is set. Always returns -1. */
int ob_fail(om_outbox *ob, bool with_db, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The statement `id`, reset and unbound, or NULL (with the reason recorded). */
sqlite3_stmt *ob_stmt(om_outbox *ob, ob_stmt_id id);
/* Steps a statement that returns nothing; 0 or -1. */
int ob_exec(om_outbox *ob, sqlite3_stmt *st);
/* Runs a statement returning one integer row; *out = def when the row or the
 * value is absent (NULL). */
int ob_query_int(om_outbox *ob, sqlite3_stmt *st, int64_t def, int64_t *out);

/* A write transaction whose commit reaches the disk (synchronous=FULL):
 * for what must survive a power cut once it is published (appends, and
 * thinning, whose skipped ranges are published). */
int ob_begin(om_outbox *ob);
/* A write transaction whose commit may be lost by a power cut, though not
 * by a crash of the process (synchronous=NORMAL: the WAL is not fsynced
 * at the commit; the next durable commit or checkpoint syncs it): for
 * bookkeeping whose loss only causes a resend (hand-outs, acknowledged
 * polls deleted). */
int ob_begin_light(om_outbox *ob);
int ob_commit(om_outbox *ob);
void ob_rollback(om_outbox *ob);

int ob_meta_get(om_outbox *ob, const char *key, int64_t *out);
int ob_meta_set(om_outbox *ob, const char *key, int64_t value);
int ob_meta_add(om_outbox *ob, const char *key, int64_t delta);

/* Forgets what om_outbox_next_batch knew about the next due time: after
 * an append, a poll made due again, or a new resend timeout. */
void ob_quiet_clear(om_outbox *ob);

/* Pages in use × page size, inside the current transaction. */
int ob_used_bytes(om_outbox *ob, int64_t *out);
/* Counts polls held. */
int ob_count_polls(om_outbox *ob, int64_t *out);

/* Deletes the polls seqs[0..n) (sorted) without an acknowledgement: records
 * them as skipped ranges, merged with their neighbours, and makes the poll
 * above each range due so the range is reported soon. */
int ob_delete_unacked(om_outbox *ob, const int64_t *seqs, size_t n);

#endif
