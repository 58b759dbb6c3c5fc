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
#include "officemeter/config/site.h"

#define OM_TOPIC_PREFIX "officemeter/v1/"
/* Ids in topics follow the site file's id rule: [a-z0-9][a-z0-9._-]*. */
#define OM_ID_MAX 64
/* Objects and arrays nested deeper than this are refused before parsing
 * (a readings message needs 4: message, polls, poll, values). */
#define OM_INGEST_MAX_DEPTH 8
/* Readings before this are refused: 2000-01-01T00:00:00Z. */
#define OM_INGEST_MIN_T_MS INT64_C(946684800000)
/* Plausibility bound on any value, in its canonical unit. */
#define OM_INGEST_VALUE_MAX 1e15

typedef enum {
    OM_TOPIC_READINGS,
    OM_TOPIC_STATUS,
    OM_TOPIC_HEALTH,
    OM_TOPIC_ACK,
} om_topic_kind;

typedef struct {
    om_topic_kind kind;
    char site[OM_ID_MAX];
    char gateway[OM_ID_MAX];
} om_topic;

/* officemeter/v1/{site}/{gateway}/{readings|status|health|ack}. Returns 0,
 * or -1 with the reason in err for any other topic. */
int om_topic_parse(const char *topic, om_topic *out, char *err, size_t errlen);
/* Writes officemeter/v1/{site}/{gateway}/{leaf}; returns 0 or -1 (too long). */
int om_topic_format(char *buf, size_t len, const char *site, const char *gateway,
                    const char *leaf);
/* True for [a-z0-9][a-z0-9._-]* shorter than OM_ID_MAX. */
bool om_id_valid(const char *id);

typedef enum {
    OM_FATE_STORE,      /* valid: its readings are stored */
    OM_FATE_QUARANTINE, /* well formed, but its meter is not declared for this gateway (yet) */
    OM_FATE_REJECT,     /* invalid: recorded with its reason, never stored */
} om_fate;

typedef struct {
    om_fate fate;
    const char *code; /* stable short code ("bad_json", "unknown_meter"...); NULL when stored */
    char reason[320]; /* one sentence naming the field; empty when stored */
} om_verdict;

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

/* Judges one poll again, given as the JSON text recorded with it (requeue).
 * out->poll.seq is taken from `seq`. Returns 0 or -1 (memory). Free with
 * om_ingest_poll_free. */
int om_ingest_poll_text(const om_ingest_rules *rules, const om_topic *topic, int64_t seq,
                        const char *json, om_ingest_poll *out);
void om_ingest_poll_free(om_ingest_poll *p);

/* Status (birth / last will): {"v":1,"state":"online"|"offline",...}.
 * Returns 0 and the state ("online" or "offline") or -1 with the verdict
 * explaining the refusal. An empty payload (a retained message being
 * cleared) gives state "" and 0. */
int om_ingest_status(const void *payload, size_t len, size_t max_bytes, char *state,
                     size_t statelen, om_verdict *verdict);

/* Health: a JSON object within the caps. *outbox_depth gets the gateway's
 * outbox depth when the message carries one ("outbox_depth", or "outbox"
 * with "polls" or "depth"), else -1; *errors the sum of the per-meter
 * timeouts, CRC errors, exceptions and other errors (-1 when absent). Returns 0 or -1
 * with a verdict. */
int om_ingest_health(const void *payload, size_t len, size_t max_bytes, int64_t *outbox_depth,
                     int64_t *errors, om_verdict *verdict);

/* The error count of one meter in a health message as stored (timeouts,
 * CRC errors, exceptions, other errors), or -1 when it has none. */
int64_t om_health_meter_errors(const char *health_json, const char *meter);

/* Depth of the deepest object/array in text (strings are skipped), or
 * SIZE_MAX as soon as it exceeds limit. */
size_t om_json_depth(const char *text, size_t len, size_t limit);

#endif
