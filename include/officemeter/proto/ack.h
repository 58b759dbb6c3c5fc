/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ack.h - the aggregator's acknowledgement, written by the aggregator after
 * every commit and read by the agent:
 *
 *   officemeter/v1/{site}/{gateway}/ack   {"v":1,"epoch":"5f0c9a1e2b7d4c88","upto":1031}
 *
 * "Every poll of that epoch with seq <= upto is committed"
 * (docs/architecture.md, "The acknowledgement"). Encoder and parser live
 * together so that they cannot drift apart; the tests hold them as a pair.
 */
#ifndef OFFICEMETER_PROTO_ACK_H
#define OFFICEMETER_PROTO_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"

/* Enough for any acknowledgement. */
#define OM_ACK_MAX 96

typedef struct {
    char epoch[OM_EPOCH_LEN + 1];
    int64_t upto;
} om_ack;

/* Writes the acknowledgement; returns its length, or -1 when it does not
 * fit in len bytes or the ack is not one om_ack_parse accepts (an epoch
 * that is not 16 lower-case hex digits, upto outside 0 .. OM_SEQ_MAX). */
int om_ack_encode(const om_ack *ack, char *buf, size_t len);

/* Parses and checks an ack payload: an object with v 1, epoch a string of
 * 16 lower-case hex digits, upto an integer from 0 to OM_SEQ_MAX (the seqs
 * of the contract, payload.h). Unknown keys are allowed
 * (later versions may add some). Returns 0, or -1 with a reason in err. */
int om_ack_parse(const char *payload, size_t len, om_ack *out, char *err, size_t errlen);

#endif
