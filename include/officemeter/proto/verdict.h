/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verdict.h - what the aggregator decides about a message or a poll, and why.
 *
 * Every verdict that is not "store" carries a stable code (for counts and
 * scripts: docs/aggregator.md, "What is checked") and a sentence that
 * names the field and what was wrong.
 */
#ifndef OFFICEMETER_PROTO_VERDICT_H
#define OFFICEMETER_PROTO_VERDICT_H

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

#endif
