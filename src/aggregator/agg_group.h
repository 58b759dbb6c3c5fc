/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agg_group.h - group commit: messages judged as they arrive, written and
 * committed together, then acknowledged.
 *
 * The daemon adds each received message (judged at once, with the sites
 * known at that moment) and, when the commit interval has passed or the
 * group is large, commits it: one transaction for the whole group, then one
 * acknowledgement per (gateway, epoch) the group touched. Nothing is
 * acknowledged before its commit returned. Kept free of MQTT so unit tests
 * drive it with a database file and a list of messages.
 */
#ifndef OFFICEMETER_AGG_GROUP_H
#define OFFICEMETER_AGG_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/ingest.h"
#include "officemeter/store/store.h"

typedef struct agg_group agg_group;

/* Running totals, for the periodic log line and tests. */
typedef struct {
    uint64_t messages;          /* committed messages of any kind */
    uint64_t polls;             /* polls stored */
    uint64_t readings;          /* new readings stored */
    uint64_t duplicates;        /* readings already stored, same value */
    uint64_t conflicts;         /* readings already stored, another value */
    uint64_t quarantined;       /* polls quarantined */
    uint64_t polls_rejected;    /* polls rejected inside a sound message */
    uint64_t messages_rejected; /* whole messages rejected */
    uint64_t dropped;           /* messages that could not be written (no ack sent) */
    uint64_t groups;            /* commits */
} agg_counts;

/* Called after a commit for each (gateway, epoch) of the group. */
typedef void (*agg_ack_fn)(void *ctx, const char *site, const char *gateway, const char *epoch,
                           int64_t upto);

agg_group *agg_group_new(void);
void agg_group_free(agg_group *g);
/* A gap in a gateway's seqs that stands this long while newer polls arrive
 * is given up as lost (om_store_seq_close_gap); 0: never. */
void agg_group_set_gap_close(agg_group *g, int64_t ms);

/* Judges a message under `rules` and holds it (copied) for the next commit.
 * Returns 0, or -1 when memory ran out. */
int agg_group_add(agg_group *g, const om_ingest_rules *rules, const char *topic,
                  const void *payload, size_t len, int64_t received_ms);

/* The same in two steps, so that judging can run on another thread than
 * the group's (the daemon judges on the MQTT receiving thread while its
 * main thread commits): agg_judge copies and judges a message (NULL when
 * memory ran out; it touches nothing shared but `rules`), agg_group_hold
 * takes it into the group (and frees it in any case). */
typedef struct agg_judged agg_judged;
agg_judged *agg_judge(const om_ingest_rules *rules, const char *topic, const void *payload,
                      size_t len, int64_t received_ms);
void agg_judged_free(agg_judged *j);
int agg_group_hold(agg_group *g, agg_judged *j);
size_t agg_group_messages(const agg_group *g);
/* Readings to store in the group (the early-commit threshold). */
size_t agg_group_readings(const agg_group *g);
/* Bytes of payload held (the bound while the database cannot be written). */
size_t agg_group_bytes(const agg_group *g);

/* agg_group_commit: the database cannot be written now (om_store_unavailable). */
#define AGG_COMMIT_UNAVAILABLE (-2)

/* Writes the group in one transaction and commits it; then calls ack.
 * When the group's transaction fails because of a message, each message is
 * tried again in its own transaction and the ones that still fail are
 * dropped with an error in the log (rate-limited per topic; their polls are
 * not acknowledged, so gateways send them again). Returns 0 (the group is
 * empty), -1 when nothing could be committed (empty too), or
 * AGG_COMMIT_UNAVAILABLE when the database cannot be written now (disk
 * full, I/O error): the messages not committed stay in the group, in
 * order, unacknowledged, for the caller to commit once it can. */
int agg_group_commit(agg_group *g, om_store *st, agg_ack_fn ack, void *ctx, agg_counts *counts);

#endif
