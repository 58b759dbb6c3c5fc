/* SPDX-License-Identifier: Apache-2.0 */
/*
 * payload.h - polls, batches of polls, and the readings message that carries them.
 *
 * A poll is what one meter said at one instant: a sequence number, the meter,
 * the time and a set of canonical values. The agent's outbox hands out polls
 * in batches; this module encodes a batch as the readings payload of
 * docs/architecture.md:
 *
 *   {"v":1,"site":"shanghai","gateway":"sh-gw1","epoch":"5f0c9a1e2b7d4c88",
 *    "polls":[{"seq":1024,"meter":"sh-main","t":1718000000000,
 *              "values":{"energy_import_kwh":123456.78,"power_kw":12.3}}],
 *    "skipped":[[1000,1019]]}
 *
 * "skipped" (present only when non-empty) lists ranges of sequence numbers
 * that the outbox deleted without an acknowledgement, under its disk quota;
 * every range lies below the highest seq of the message's polls. docs/outbox.md
 * describes it as an addition to the payload contract.
 *
 * Values are written by om_format_double (base/numfmt.h): the fewest digits
 * that read back as the same double, always as JSON reals ("42.0", not "42").
 *
 * The size of a message is computed by the same functions that write it
 * (om_payload_size_*), so the outbox can choose a batch that fits a message
 * cap and the encoder is guaranteed to fit it.
 */
#ifndef OFFICEMETER_PAYLOAD_H
#define OFFICEMETER_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/quantity.h"

#define OM_PAYLOAD_VERSION 1
/* An epoch is 64 random bits written as 16 lower-case hex digits. */
#define OM_EPOCH_LEN 16
/* Seqs are 1 .. 2^53 (docs/architecture.md, "The readings payload"): every
 * JSON reader, whether it holds numbers as doubles or as int64, reads them
 * exactly, and seq + 1 never overflows anywhere. */
#define OM_SEQ_MAX INT64_C(9007199254740992)

typedef struct {
    om_quantity quantity;
    double value; /* canonical unit, finite */
} om_poll_value;

typedef struct {
    int64_t seq;
    char *meter; /* owned by the batch that holds the poll */
    int64_t t_ms;
    unsigned attempts; /* times sent, this send included */
    size_t nvalues;
    om_poll_value values[OM_Q__COUNT]; /* in om_quantity order, each quantity at most once */
} om_poll;

/* Sequence numbers from..to (inclusive) that will never be sent. */
typedef struct {
    int64_t from;
    int64_t to;
} om_seq_range;

/* Polls in increasing seq order, and the skipped ranges below them (sorted,
 * disjoint from the polls' seqs). */
typedef struct {
    char epoch[OM_EPOCH_LEN + 1];
    om_poll *polls;
    size_t npolls;
    size_t polls_cap;
    om_seq_range *skipped;
    size_t nskipped;
    size_t skipped_cap;
} om_batch;

void om_batch_init(om_batch *batch);
/* Empties the batch, keeping its memory for the next one. */
void om_batch_clear(om_batch *batch);
/* Releases everything; NULL is a no-op. The batch can be reused after
 * om_batch_init. */
void om_batch_free(om_batch *batch);
/* Appends a copy of `poll` (its meter string is duplicated). Returns 0 or -1
 * (out of memory). */
int om_batch_add_poll(om_batch *batch, const om_poll *poll);
int om_batch_add_skipped(om_batch *batch, int64_t from, int64_t to);

/* Running size of a readings message while polls are added in seq order.
 * Each poll brings the skipped ranges that lie below it and were not yet
 * counted. Start from om_payload_envelope_size() for a whole message, or from
 * 0 for the budget that om_payload_budget() leaves. */
typedef struct {
    size_t bytes;
    size_t npolls;
    size_t nskipped;
} om_payload_size;

void om_payload_size_init(om_payload_size *size, size_t start_bytes);
/* The size after adding `poll` preceded by ranges[0..nranges). */
size_t om_payload_size_peek(const om_payload_size *size, const om_poll *poll,
                            const om_seq_range *ranges, size_t nranges);
void om_payload_size_add(om_payload_size *size, const om_poll *poll, const om_seq_range *ranges,
                         size_t nranges);

/* Bytes of a message with no polls: {"v":1,...,"polls":[]}. */
size_t om_payload_envelope_size(const char *site, const char *gateway, const char *epoch);
/* What a message capped at `cap` bytes leaves for polls and skipped ranges;
 * 0 when not even the envelope fits. */
size_t om_payload_budget(size_t cap, const char *site, const char *gateway, const char *epoch);

/* Encodes the longest prefix of batch->polls that fits in `cap` bytes, with
 * the skipped ranges below the last poll encoded, into buf (which must hold
 * cap + 1 bytes; the text is NUL-terminated). *len gets the length and
 * *npolls the number of polls encoded (every one when the batch came from
 * om_outbox_next_batch with om_payload_budget(cap, ...)).
 * Returns 0, or -1 with a reason in err when even the first poll does not fit
 * (the message names its seq, meter and size), or the batch is malformed
 * (polls out of order, a non-finite value). */
int om_payload_encode_readings(const char *site, const char *gateway, const om_batch *batch,
                               char *buf, size_t cap, size_t *len, size_t *npolls, char *err,
                               size_t errlen);

#endif
