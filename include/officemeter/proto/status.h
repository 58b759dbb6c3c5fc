/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.h - the gateway's status message (birth and last will), retained on
 * officemeter/v1/{site}/{gateway}/status:
 *
 *   {"v":1,"state":"online","t":1718000000000,"version":"0.1.0",
 *    "epoch":"5f0c9a1e2b7d4c88","meters":5}
 *   {"v":1,"state":"offline"}
 *
 * The agent writes it, the aggregator reads it, with the functions below.
 */
#ifndef OFFICEMETER_PROTO_STATUS_H
#define OFFICEMETER_PROTO_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/verdict.h"

/* The last will, and the goodbye of a clean stop. */
#define OM_STATUS_OFFLINE "{\"v\":1,\"state\":\"offline\"}"

/* The birth message. Returns its length, or -1 when it does not fit. */
int om_status_encode_online(char *buf, size_t len, int64_t t_ms, const char *version,
                            const char *epoch, size_t meters);

/* Reads a status message: returns 0 and the state ("online" or "offline"),
 * or -1 with the verdict explaining the refusal. An empty payload (a
 * retained message being cleared) gives state "" and 0. */
int om_status_parse(const void *payload, size_t len, size_t max_bytes, char *state,
                    size_t statelen, om_verdict *verdict);

#endif
