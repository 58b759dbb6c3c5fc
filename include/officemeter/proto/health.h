/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.h - what the aggregator reads of a gateway's retained health
 * message (officemeter/v1/{site}/{gateway}/health; docs/agent.md, "Health").
 */
#ifndef OFFICEMETER_PROTO_HEALTH_H
#define OFFICEMETER_PROTO_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "officemeter/proto/verdict.h"

/* Health: a JSON object within the caps. *outbox_depth gets the gateway's
 * outbox depth when the message carries one ("outbox_depth", or "outbox"
 * with "polls" or "depth"), else -1; *errors the sum of the per-meter
 * timeouts, CRC errors, exceptions and other errors (-1 when absent).
 * Counters that are not integers from 0 up are ignored; sums saturate at
 * INT64_MAX (the message is untrusted input: never an overflow).
 * Returns 0 or -1 with a verdict. */
int om_health_parse(const void *payload, size_t len, size_t max_bytes, int64_t *outbox_depth,
                    int64_t *errors, om_verdict *verdict);

/* The error count of one meter in a health message as stored (timeouts,
 * CRC errors, exceptions, other errors; saturating at INT64_MAX), or -1
 * when it has none. */
int64_t om_health_meter_errors(const char *health_json, const char *meter);

#endif
