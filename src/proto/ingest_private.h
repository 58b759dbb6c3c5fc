/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_private.h - the rules the full judge (ingest.c) and the fast
 * reader of well-formed messages (ingest_fast.c) share, so that a poll is
 * judged by one rule whichever of them reads it.
 */
#ifndef OFFICEMETER_PROTO_INGEST_PRIVATE_H
#define OFFICEMETER_PROTO_INGEST_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "officemeter/proto/ingest.h"

/* Where the poll's meter belongs: leaves v alone when it is the topic's
 * gateway's, else a quarantine or reject verdict (ingest.c). */
void om_ingest_judge_meter(const om_ingest_rules *r, const om_topic *topic, const char *meter,
                           om_verdict *v);

/* A reading's time the judge accepts: from 2000, before the year 10000,
 * and not further ahead of the rules' clock than their tolerance. */
bool om_ingest_time_ok(const om_ingest_rules *r, int64_t ms);

#endif
