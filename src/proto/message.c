/* SPDX-License-Identifier: Apache-2.0 */
/*
 * message.c - what every message from a gateway goes through before its
 * content is looked at: a size cap, a depth cap, JSON with duplicate keys
 * refused, and "v": 1.
 *
 * The depth scan runs before jansson sees the text: jansson's own limit is
 * 2048 levels of recursion, far more than any message of ours needs, and a
 * payload nested that deep is an attack, not a reading.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "message_private.h"
#include "officemeter/proto/ingest.h"

size_t om_json_depth(const char *text, size_t len, size_t limit)
{
    size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit)
                return SIZE_MAX;
            if (depth > deepest)
                deepest = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

void om_verdict_set(om_verdict *v, om_fate fate, const char *code, const char *fmt, ...)
{
    v->fate = fate;
    v->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
}

const char *om_json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* The checks every message goes through before its content is looked at:
 * size, depth, then jansson with duplicate keys refused. Jansson's error
 * codes are turned into our codes so that "NaN" and "1e400" are named for
 * what they are rather than as generic syntax errors. */
json_t *om_ingest_load(const void *payload, size_t len, size_t max_bytes, om_verdict *v)
{
    const char *text = payload;
    if (len == 0) {
        om_verdict_set(v, OM_FATE_REJECT, "empty", "empty payload");
        return NULL;
    }
    if (max_bytes && len > max_bytes) {
        om_verdict_set(v, OM_FATE_REJECT, "too_large",
                       "payload of %zu bytes exceeds the cap of %zu bytes", len, max_bytes);
        return NULL;
    }
    if (om_json_depth(text, len, OM_INGEST_MAX_DEPTH) == SIZE_MAX) {
        om_verdict_set(v, OM_FATE_REJECT, "too_deep",
                       "JSON nested deeper than %d levels", OM_INGEST_MAX_DEPTH);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (root)
        return root;
    const char *code = "bad_json", *what = "invalid JSON";
    switch (json_error_code(&err)) {
    case json_error_duplicate_key: code = "duplicate_key"; what = "duplicate key"; break;
    case json_error_numeric_overflow: code = "number_too_large"; what = "number too large"; break;
    case json_error_invalid_utf8: code = "bad_utf8"; what = "invalid UTF-8"; break;
    default:
        if (strstr(err.text, "'NaN") || strstr(err.text, "'Infinity") ||
            strstr(err.text, "'-Infinity") || strstr(err.text, "'nan") ||
            strstr(err.text, "'inf")) {
            code = "not_finite";
            what = "NaN and Infinity are not numbers in JSON";
        }
        break;
    }
    om_verdict_set(v, OM_FATE_REJECT, code, "%s: %s (line %d, column %d)", what, err.text,
                   err.line, err.column);
    return NULL;
}

/* "v": 1 as the first check of every message kind. */
int om_ingest_check_version(const json_t *root, om_verdict *v)
{
    if (!json_is_object(root)) {
        om_verdict_set(v, OM_FATE_REJECT, "not_object",
                       "the message is %s, expected an object", om_json_kind(root));
        return -1;
    }
    json_t *ver = json_object_get(root, "v");
    if (!ver) {
        om_verdict_set(v, OM_FATE_REJECT, "missing_field", "v: missing (expected 1)");
        return -1;
    }
    if (!json_is_integer(ver)) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_type", "v: wrong type (got %s, expected 1)",
                       om_json_kind(ver));
        return -1;
    }
    if (json_integer_value(ver) != OM_PAYLOAD_VERSION) {
        om_verdict_set(v, OM_FATE_REJECT, "bad_version",
                       "v: schema version %" JSON_INTEGER_FORMAT " is not supported (expected %d)",
                       json_integer_value(ver), OM_PAYLOAD_VERSION);
        return -1;
    }
    return 0;
}
