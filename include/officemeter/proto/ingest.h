/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest.h - validation of what gateways send: topics, readings, status and
 * health messages, judged before anything is stored.
 *
 * Pure: no I/O, no clock (the caller passes "now"), no database. The
 * aggregator runs every message through it, and `officemeter requeue` runs
 * quarantined polls through the same checks again, so a poll is judged the
 * same way whenever it is judged.
 *
 * A readings message gets a verdict as a whole (a broken envelope rejects
 * everything in it) and, when the envelope is sound, one verdict per poll:
 * a bad poll in a good message is explained on its own and the others are
 * kept. Every verdict that is not "store" carries a stable code (for counts
 * and scripts) and a sentence that names the field and what was wrong.
 */
#ifndef OFFICEMETER_INGEST_H
#define OFFICEMETER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"
#include "officemeter/proto/topic.h"
#include "officemeter/proto/verdict.h"
#include "officemeter/config/site.h"

/* Objects and arrays nested deeper than this are refused before parsing
 * (a readings message needs 4: message, polls, poll, values). */
#define OM_INGEST_MAX_DEPTH 8
/* Readings before this are refused: 2000-01-01T00:00:00Z. */
#define OM_INGEST_MIN_T_MS INT64_C(946684800000)
/* Readings after this are refused: 9999-12-31T23:59:59.999Z. */
#define OM_INGEST_MAX_T_MS INT64_C(253402300799999)
/* Plausibility bound on any value, in its canonical unit. */
#define OM_INGEST_VALUE_MAX 1e15

/* What the judge knows. */
typedef struct {
    int64_t now_ms;              /* wall clock, ms UTC */
    int64_t future_tolerance_ms; /* how far ahead of now_ms a reading may be */
    size_t max_bytes;            /* payload cap; 0: no cap */
    const om_site *sites;        /* every declared site */
    size_t nsites;
} om_ingest_rules;

typedef struct {
    om_poll poll;     /* meter is owned here; values valid unless the fate is REJECT */
    bool has_seq;     /* poll.seq is a valid seq: the poll counts for the acknowledgement */
    om_verdict verdict;
    char *json;       /* the poll as JSON text when it is not stored (for the record) */
} om_ingest_poll;

typedef struct {
    om_topic topic;
    om_verdict verdict; /* of the envelope: REJECT means nothing below is used */
    char epoch[OM_EPOCH_LEN + 1];
    om_ingest_poll *polls;
    size_t npolls;
    om_seq_range *skipped; /* seqs the gateway's outbox dropped unsent (thinning) */
    size_t nskipped;
    size_t nstore;    /* polls to store */
    size_t nreadings; /* values in them */
} om_readings_msg;

/* Judges a readings message received on `topic`. Returns 0 (the verdicts
 * are in out), or -1 when memory ran out. Free out with om_readings_msg_free
 * in either case. */
int om_ingest_readings(const om_ingest_rules *rules, const om_topic *topic, const void *payload,
                       size_t len, om_readings_msg *out);
void om_readings_msg_free(om_readings_msg *msg);

/* The two readers om_ingest_readings uses, public so that tests and fuzzing
 * can hold one to the other. The fast one (ingest_fast.c) reads only the
 * common, fully valid form (every key known and once, strings without
 * escapes, every poll stored, no "skipped") without building a JSON tree:
 * it returns 1 with out filled exactly as the full judge fills it, or 0
 * (out cleared, also when memory ran out) for anything else. The full
 * judge (jansson) reads everything and explains every fault; it returns
 * like om_ingest_readings. */
int om_ingest_readings_fast(const om_ingest_rules *rules, const om_topic *topic,
                            const void *payload, size_t len, om_readings_msg *out);
int om_ingest_readings_full(const om_ingest_rules *rules, const om_topic *topic,
                            const void *payload, size_t len, om_readings_msg *out);

/* Judges one poll again, given as the JSON text recorded with it (requeue).
 * out->poll.seq is taken from `seq`. Returns 0 or -1 (memory). Free with
 * om_ingest_poll_free. */
int om_ingest_poll_text(const om_ingest_rules *rules, const om_topic *topic, int64_t seq,
                        const char *json, om_ingest_poll *out);
void om_ingest_poll_free(om_ingest_poll *p);

/* Depth of the deepest object/array in text (strings are skipped), or
 * SIZE_MAX as soon as it exceeds limit. */
size_t om_json_depth(const char *text, size_t len, size_t limit);

#endif
