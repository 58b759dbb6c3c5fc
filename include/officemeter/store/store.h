/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the aggregator's database: readings, sequence state, rejects,
 * quarantine, gateways. The one interface to it.
 *
 * The daemon writes through it, and `officemeter status`, `rejects`,
 * `requeue`, `rollup` and `report` read through it, so tools and daemon
 * cannot disagree about the format. Two backends implement it: a SQLite
 * file (the default) and a PostgreSQL database, chosen by what is opened (a
 * path or a postgresql:// URI); the interface speaks only of sites,
 * gateways, meters, polls and seqs (docs/aggregator.md, "Storage").
 *
 * Writing happens in groups: om_store_begin, any number of puts,
 * om_store_commit, which returns once the group is durable (power loss
 * included). Between begin and commit, om_store_seq_upto already counts the
 * group's seqs; the caller acknowledges only after the commit returned.
 * After a failed commit, om_store_rollback undoes the group, including
 * every cached sequence state.
 *
 * With PostgreSQL, several aggregators may write at once: a group is
 * written when it commits (batched), the acknowledgement state of each
 * (gateway, epoch) is merged under a row lock in that transaction, and
 * om_store_seq_upto after the commit answers from the state the database
 * held then, whoever committed the other seqs.
 *
 * Functions return 0 or -1; after -1, om_store_errmsg() has the reason with
 * the database's file name or URI. A handle belongs to one thread at a time.
 */
#ifndef OFFICEMETER_STORE_H
#define OFFICEMETER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"

/* PRAGMA user_version of the SQLite database this program writes. */
#define OM_STORE_SCHEMA_VERSION 2
/* officemeter_meta 'schema' of the PostgreSQL database it writes. */
#define OM_STORE_PG_SCHEMA_VERSION 2
/* Raw payloads kept with a reject are cut at this many bytes. */
#define OM_STORE_RAW_CAP 4096
/* Ranges of dealt-with seqs kept above the acknowledgement of one epoch
 * (om_store_seq_done); beyond it the highest are forgotten. */
#define OM_STORE_SEQ_RANGES_MAX 65536

typedef struct om_store om_store;

enum {
    OM_STORE_READONLY = 1u, /* readers: status, rejects */
    OM_STORE_CREATE = 2u,   /* create the file (and schema) when missing */
};

/* Opens the database, bringing an older schema forward: a SQLite file, or
 * a PostgreSQL database given as a libpq URI (postgresql://[user@]host/db
 * or postgresql:///db?host=/socket/dir; a password in it is refused: it
 * comes from a password file, PGPASSFILE or ?passfile=FILE). A database
 * written by a newer program is refused: "FILE: database schema version 3
 * is newer than this program (1); upgrade officemeter". Returns NULL with
 * the reason in err. */
om_store *om_store_open(const char *path, unsigned flags, char *err, size_t errlen);
/* Closes; an open group is rolled back. NULL is a no-op. */
void om_store_close(om_store *st);
const char *om_store_errmsg(const om_store *st);
/* The file or URI the store was opened with. */
const char *om_store_path(const om_store *st);
/* "sqlite" or "postgresql". */
const char *om_store_backend(const om_store *st);

/* ---- writing ------------------------------------------------------------ */

int om_store_begin(om_store *st);
int om_store_commit(om_store *st);
void om_store_rollback(om_store *st);
/* Moves the write-ahead log into the database (after a burst, when idle). */
int om_store_checkpoint(om_store *st);
/* Moves all of the write-ahead log into the database and truncates the log
 * file to nothing, waiting for readers (busy timeout): gives back the disk
 * space the log holds. The way out of a full disk: the log of a database
 * that filled its disk cannot be reused before such a checkpoint, and
 * every write would otherwise append to it. Returns 0 or -1. */
int om_store_checkpoint_truncate(om_store *st);
/* Bytes free for the writer on the database's file system, or -1. */
int64_t om_store_disk_free(const om_store *st);
/* The write-ahead log may grow to this much (journal_size_limit): with
 * less free space than this, a daemon should checkpoint after every
 * commit, so that the log never takes the last free space. */
#define OM_STORE_LOG_ROOM (64 * 1024 * 1024)
/* True when the last failure was the database's condition (disk full, I/O
 * error, the file read-only, locked too long, out of memory, damaged), not
 * something about the data written: retrying the same data later may
 * work, and trying other data now will not. */
bool om_store_unavailable(const om_store *st);

/* Where a poll came from. */
typedef struct {
    const char *site;
    const char *gateway;
    const char *epoch;
    int64_t received_ms;
} om_store_origin;

typedef struct {
    uint64_t stored;     /* new readings */
    uint64_t duplicates; /* readings already stored with the same value */
    uint64_t conflicts;  /* readings already stored with another value (kept, recorded) */
} om_store_counts;

/* Stores each value of poll as (site/meter, quantity, t). A key already
 * stored keeps its value: the same value is a duplicate, another one is
 * recorded as a conflict. counts (optional) is added to as far as the
 * backend knows at once: SQLite writes each poll as it comes and counts it
 * here; PostgreSQL writes the group at commit and counts nothing here. Both
 * give the group's totals to om_store_group_counts after the commit. */
int om_store_put_poll(om_store *st, const om_store_origin *o, const om_poll *poll,
                      om_store_counts *counts);
/* What the last committed group's readings became (zero before any). */
void om_store_group_counts(const om_store *st, om_store_counts *out);
/* Records that the seqs from..to of (site, gateway, epoch) were dealt with
 * (stored, quarantined, rejected or skipped by the gateway). */
int om_store_seq_done(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
/* The gateway's outbox thinned the seqs from..to under its disk quota:
 * they will never come. Recorded (the audit trail of every thinning) and
 * counted as dealt with, so the acknowledgement passes them. */
int om_store_seq_skipped(om_store *st, const om_store_origin *o, int64_t from, int64_t to);
/* Gives up on the lowest gap of (site, gateway, epoch) once it has stood
 * unchanged for after_ms (o->received_ms is now) while newer seqs arrived:
 * a gateway resends what it holds within its resend timeout, so such a gap
 * is polls it no longer holds (the database was restored from a backup) or
 * messages refused whole on every resend. The range is recorded in
 * lost_seqs and counted as dealt with, so the acknowledgement moves on and
 * the gateway's outbox drains; polls of it that still arrive are stored as
 * usual. Returns 1 with *from..*to when it gave up, 0 when not (yet), -1 on
 * error. after_ms <= 0: never. */
int om_store_seq_close_gap(om_store *st, const om_store_origin *o, int64_t after_ms,
                           int64_t *from, int64_t *to);
/* The acknowledgement: the highest seq up to which every seq of the epoch
 * was dealt with (0: not even seq 1). */
int om_store_seq_upto(om_store *st, const char *site, const char *gateway, const char *epoch,
                      int64_t *upto);

/* Keeps a well-formed poll whose meter is not (yet) declared for its
 * gateway. The same (site, gateway, epoch, seq) is kept once. */
int om_store_quarantine(om_store *st, const om_store_origin *o, int64_t seq, const char *meter,
                        int64_t t_ms, const char *code, const char *reason, const char *poll_json);

typedef struct {
    int64_t received_ms;
    const char *topic;
    const char *site;    /* NULL when the topic did not name one */
    const char *gateway;
    const char *code;
    const char *reason;
    int64_t seq;         /* 0: the whole message, or no readable seq */
    const char *meter;   /* NULL: unknown */
    const void *raw;     /* cut at OM_STORE_RAW_CAP */
    size_t rawlen;
} om_store_reject;

/* Records a rejected message or poll and counts it per (site, gateway,
 * code). Only the newest `keep` rows are kept (om_store_set_rejects_keep);
 * the counts are kept forever. */
int om_store_reject_add(om_store *st, const om_store_reject *r);
void om_store_set_rejects_keep(om_store *st, uint64_t keep);

/* A message from the gateway arrived (any kind with a sound envelope). */
int om_store_gateway_seen(om_store *st, const char *site, const char *gateway, int64_t t_ms);
/* Birth or last will: "online" / "offline". */
int om_store_gateway_state(om_store *st, const char *site, const char *gateway, const char *state,
                           int64_t t_ms);
/* Latest health message (raw JSON) and what was read from it (-1: absent). */
int om_store_gateway_health(om_store *st, const char *site, const char *gateway, int64_t t_ms,
                            int64_t outbox_depth, int64_t errors, const char *raw);

/* ---- reading ------------------------------------------------------------ */

/* A read transaction: the queries in between see one consistent snapshot
 * while the daemon goes on writing. */
int om_store_read_begin(om_store *st);
void om_store_read_end(om_store *st);

typedef struct {
    char site[64];
    char gateway[64];
    char state[16];      /* "online", "offline", "" (never said) */
    int64_t state_t;     /* ms UTC of the last status message, 0: none */
    int64_t last_seen;   /* ms UTC, 0: never */
    int64_t health_t;    /* 0: no health yet */
    int64_t outbox_depth; /* -1: unknown */
    int64_t errors;      /* -1: unknown */
} om_store_gateway_row;

typedef struct {
    char site[64];
    char meter[64];
    int64_t first_t;       /* earliest reading time, 0: none */
    int64_t last_t;        /* latest reading time (ms UTC), 0: none */
    int64_t last_received; /* when the latest new reading arrived, 0: never */
} om_store_meter_row;

typedef struct {
    int64_t id;
    int64_t received_ms;
    char topic[192];
    char site[64];
    char gateway[64];
    char code[32];
    char reason[384];
    int64_t seq;
    char meter[64];
    size_t raw_bytes; /* the payload's size when received (raw may be cut) */
    char *raw;        /* owned by the row; NUL-terminated */
    size_t rawlen;
} om_store_reject_row;

typedef struct {
    char site[64];
    char gateway[64];
    char code[32];
    uint64_t count;
    int64_t last_received;
} om_store_reject_count;

typedef struct {
    int64_t id;
    int64_t received_ms;
    char site[64];
    char gateway[64];
    char epoch[OM_EPOCH_LEN + 1];
    int64_t seq;
    char meter[64];
    int64_t t_ms;
    char code[32];
    char reason[384];
    char *poll_json; /* owned by the row */
} om_store_quarantine_row;

typedef struct {
    uint64_t readings;
    uint64_t meters;
    uint64_t conflicts;
    uint64_t rejects;      /* all ever counted */
    uint64_t quarantined;  /* polls held now */
} om_store_totals;

/* Each function fills a malloc'd array (*rows, free with the matching
 * _free) in a stable order: by site, then gateway or meter; rejects newest
 * first, at most `limit` (0: all) received at or after since_ms. */
int om_store_gateways(om_store *st, om_store_gateway_row **rows, size_t *n);
int om_store_meters(om_store *st, om_store_meter_row **rows, size_t *n);
int om_store_rejects(om_store *st, int64_t since_ms, size_t limit, om_store_reject_row **rows,
                     size_t *n);
void om_store_rejects_free(om_store_reject_row *rows, size_t n);
int om_store_reject_counts(om_store *st, om_store_reject_count **rows, size_t *n);
int om_store_quarantined(om_store *st, om_store_quarantine_row **rows, size_t *n);
void om_store_quarantined_free(om_store_quarantine_row *rows, size_t n);
int om_store_totals_get(om_store *st, om_store_totals *out);
/* The latest health message of a gateway as received (malloc'd, NULL when
 * none); returns 0 or -1. */
int om_store_gateway_health_json(om_store *st, const char *site, const char *gateway,
                                 char **json);

/* Readings of one meter and quantity with from_ms <= t < to_ms, in time
 * order; fn returns non-zero to stop. */
typedef int (*om_store_reading_fn)(int64_t t_ms, double value, void *user);
int om_store_readings(om_store *st, const char *site, const char *meter, om_quantity quantity,
                      int64_t from_ms, int64_t to_ms, om_store_reading_fn fn, void *user);

/* Requeue: a quarantined poll was stored or rejected (it leaves the
 * quarantine), or is still not declared (its reason is refreshed). */
int om_store_quarantine_remove(om_store *st, int64_t id);
int om_store_quarantine_update(om_store *st, int64_t id, const char *code, const char *reason);

#endif
