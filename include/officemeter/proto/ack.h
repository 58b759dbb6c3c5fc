/*
 * ack.h - the aggregator's acknowledgement message, and the agent's topics.
 *
 *   officemeter/v1/{site}/{gateway}/ack   {"v":1,"epoch":"5f0c9a1e2b7d4c88","upto":1031}
 *
 * "Every poll of that epoch with seq <= upto is committed" (ARCHITECTURE.md).
 */
#ifndef OM_AGENT_ACK_H
#define OM_AGENT_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"

typedef struct {
    char epoch[OM_EPOCH_LEN + 1];
    int64_t upto;
} om_ack;

/* Parses and checks an ack payload: an object with v 1, epoch a string of
 * 16 lower-case hex digits, upto an integer >= 0. Unknown keys are allowed
 * (later versions may add some). Returns 0, or -1 with a reason in err. */
int om_ack_parse(const char *payload, size_t len, om_ack *out, char *err, size_t errlen);

/* "officemeter/v1/{site}/{gateway}/{leaf}". Returns 0, or -1 when it does
 * not fit. */
int om_topic(char *buf, size_t len, const char *site, const char *gateway, const char *leaf);

#endif
