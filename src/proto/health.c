/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.c - what the aggregator reads of a gateway's health message: its
 * outbox depth and the error counters of its meters (the agent writes the
 * whole document: docs/agent.md, "Health").
 *
 * The counters come from the network and are not trusted: each is an
 * integer from 0 to INT64_MAX or is ignored, and sums saturate at
 * INT64_MAX instead of overflowing (a gateway that claims 2^62 timeouts
 * twice has "at least INT64_MAX" errors, and says so without harm).
 */
#include "officemeter/proto/health.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "message_private.h"

/* sum + n for counters (both >= 0), saturating at INT64_MAX; sum -1 is
 * "nothing counted yet". */
static int64_t add_counter(int64_t sum, int64_t n)
{
    if (sum < 0)
        return n;
    return n > INT64_MAX - sum ? INT64_MAX : sum + n;
}

/* Sums the error counters of one meter's health entry (-1: none). */
static int64_t meter_errors(const json_t *m)
{
    static const char *const keys[] = {"timeouts", "crc_errors", "exceptions",
                                       "other_errors", "errors"};
    int64_t sum = -1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *n = json_object_get(m, keys[i]);
        if (json_is_integer(n) && json_integer_value(n) >= 0)
            sum = add_counter(sum, json_integer_value(n));
    }
    return sum;
}

int om_health_parse(const void *payload, size_t len, size_t max_bytes, int64_t *outbox_depth,
                     int64_t *errors, om_verdict *verdict)
{
    memset(verdict, 0, sizeof *verdict);
    *outbox_depth = -1;
    *errors = -1;
    json_t *root = om_ingest_load(payload, len, max_bytes, verdict);
    if (!root || om_ingest_check_version(root, verdict) < 0) {
        json_decref(root);
        return -1;
    }
    json_t *d = json_object_get(root, "outbox_depth");
    json_t *ob = json_object_get(root, "outbox");
    if (!json_is_integer(d) && json_is_object(ob)) {
        d = json_object_get(ob, "polls");
        if (!json_is_integer(d))
            d = json_object_get(ob, "depth");
    }
    if (json_is_integer(d) && json_integer_value(d) >= 0)
        *outbox_depth = json_integer_value(d);
    json_t *meters = json_object_get(root, "meters");
    const char *key;
    json_t *m;
    size_t i;
    if (json_is_object(meters)) {
        json_object_foreach(meters, key, m) {
            int64_t e = meter_errors(m);
            if (e >= 0)
                *errors = add_counter(*errors, e);
        }
    } else if (json_is_array(meters)) {
        json_array_foreach(meters, i, m) {
            int64_t e = meter_errors(m);
            if (e >= 0)
                *errors = add_counter(*errors, e);
        }
    }
    json_decref(root);
    return 0;
}

int64_t om_health_meter_errors(const char *health_json, const char *meter)
{
    if (!health_json)
        return -1;
    json_t *root = json_loads(health_json, JSON_REJECT_DUPLICATES, NULL);
    json_t *meters = json_object_get(root, "meters");
    int64_t e = -1;
    if (json_is_object(meters)) {
        json_t *m = json_object_get(meters, meter);
        if (json_is_object(m))
            e = meter_errors(m);
    } else if (json_is_array(meters)) {
        size_t i;
        json_t *m;
        json_array_foreach(meters, i, m) {
            json_t *id = json_object_get(m, "meter");
            if (json_is_string(id) && strcmp(json_string_value(id), meter) == 0)
                e = meter_errors(m);
        }
    }
    json_decref(root);
    return e;
}
