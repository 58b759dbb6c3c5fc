/* SPDX-License-Identifier: Apache-2.0 */
/*
 * message_private.h - the guards every message kind goes through (message.c),
 * shared by the readings, status and health parsers.
 */
#ifndef OFFICEMETER_PROTO_MESSAGE_PRIVATE_H
#define OFFICEMETER_PROTO_MESSAGE_PRIVATE_H

#include <jansson.h>
#include <stdarg.h>

#include "officemeter/proto/verdict.h"

void om_verdict_set(om_verdict *v, om_fate fate, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "an object", "a string", ... for messages. */
const char *om_json_kind(const json_t *j);
/* Size cap, depth cap, then jansson with duplicate keys refused; NULL with
 * a verdict when the text is refused. */
json_t *om_ingest_load(const void *payload, size_t len, size_t max_bytes, om_verdict *v);
/* An object with "v": OM_PAYLOAD_VERSION, or -1 with a verdict. */
int om_ingest_check_version(const json_t *root, om_verdict *v);

#endif
