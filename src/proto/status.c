/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.c - the gateway's status message: birth and last will.
 *
 *   {"v":1,"state":"online","t":1718000000000,"version":"0.1.0","epoch":"…","meters":5}
 *   {"v":1,"state":"offline"}
 *
 * Retained on officemeter/v1/{site}/{gateway}/status, so whoever subscribes
 * learns at once whether a gateway is up; the broker publishes the last will
 * when the gateway's connection is lost without a goodbye.
 */
#include "officemeter/proto/status.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "message_private.h"

int om_status_encode_online(char *buf, size_t len, int64_t t_ms, const char *version,
                            const char *epoch, size_t meters)
{
    int n = snprintf(buf, len,
                     "{\"v\":1,\"state\":\"online\",\"t\":%" PRId64 ",\"version\":\"%s\","
                     "\"epoch\":\"%s\",\"meters\":%zu}",
                     t_ms, version, epoch, meters);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int om_status_parse(const void *payload, size_t len, size_t max_bytes, char *state,
                     size_t statelen, om_verdict *verdict)
{
    memset(verdict, 0, sizeof *verdict);
    snprintf(state, statelen, "%s", "");
    if (len == 0)
        return 0;
    json_t *root = om_ingest_load(payload, len, max_bytes, verdict);
    if (!root || om_ingest_check_version(root, verdict) < 0) {
        json_decref(root);
        return -1;
    }
    json_t *st = json_object_get(root, "state");
    const char *s = json_is_string(st) ? json_string_value(st) : NULL;
    if (!s || (strcmp(s, "online") != 0 && strcmp(s, "offline") != 0)) {
        om_verdict_set(verdict, OM_FATE_REJECT, st ? "bad_value" : "missing_field",
                       "state: %s (expected \"online\" or \"offline\")",
                       st ? "unknown value" : "missing");
        json_decref(root);
        return -1;
    }
    snprintf(state, statelen, "%s", s);
    json_decref(root);
    return 0;
}
