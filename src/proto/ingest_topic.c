/*
 * ingest_topic.c - topics, status and health messages, and the JSON depth
 * pre-scan shared by every message kind.
 *
 * The depth scan runs before jansson sees the text: jansson's own limit is
 * 2048 levels of recursion, far more than any message of ours needs, and a
 * payload nested that deep is an attack, not a reading.
 */
#include "officemeter/proto/ingest.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ingest_private.h"

bool om_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= OM_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static const struct {
    const char *leaf;
    om_topic_kind kind;
} topic_leaves[] = {
    {"readings", OM_TOPIC_READINGS},
    {"status", OM_TOPIC_STATUS},
    {"health", OM_TOPIC_HEALTH},
    {"ack", OM_TOPIC_ACK},
};

/* Copies the next '/'-terminated segment of *p into out. */
static int take_segment(const char **p, char *out, size_t outlen)
{
    const char *end = strchr(*p, '/');
    size_t n = end ? (size_t)(end - *p) : strlen(*p);
    if (n >= outlen)
        return -1;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n + (end ? 1 : 0);
    return end ? 1 : 0;
}

int om_topic_parse(const char *topic, om_topic *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t plen = strlen(OM_TOPIC_PREFIX);
    if (strncmp(topic, OM_TOPIC_PREFIX, plen) != 0) {
        snprintf(err, errlen, "topic does not start with %s", OM_TOPIC_PREFIX);
        return -1;
    }
    const char *p = topic + plen;
    char leaf[16];
    if (take_segment(&p, out->site, sizeof out->site) != 1 ||
        take_segment(&p, out->gateway, sizeof out->gateway) != 1 ||
        take_segment(&p, leaf, sizeof leaf) != 0) {
        snprintf(err, errlen, "topic is not %s{site}/{gateway}/{kind}", OM_TOPIC_PREFIX);
        return -1;
    }
    if (!om_id_valid(out->site) || !om_id_valid(out->gateway)) {
        snprintf(err, errlen, "topic names an invalid site or gateway id (expected [a-z0-9][a-z0-9._-]*)");
        return -1;
    }
    for (size_t i = 0; i < sizeof topic_leaves / sizeof topic_leaves[0]; i++) {
        if (strcmp(leaf, topic_leaves[i].leaf) == 0) {
            out->kind = topic_leaves[i].kind;
            return 0;
        }
    }
    snprintf(err, errlen, "unknown topic kind \"%s\" (expected readings, status, health or ack)",
             leaf);
    return -1;
}

int om_topic_format(char *buf, size_t len, const char *site, const char *gateway,
                    const char *leaf)
{
    int n = snprintf(buf, len, OM_TOPIC_PREFIX "%s/%s/%s", site, gateway, leaf);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

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

/* ---- status and health ------------------------------------------------- */

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

int om_ingest_status(const void *payload, size_t len, size_t max_bytes, char *state,
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

/* Sums the error counters of one meter's health entry. */
static int64_t meter_errors(const json_t *m)
{
    static const char *const keys[] = {"timeouts", "crc_errors", "exceptions",
                                       "other_errors", "errors"};
    int64_t sum = -1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *n = json_object_get(m, keys[i]);
        if (json_is_integer(n) && json_integer_value(n) >= 0)
            sum = (sum < 0 ? 0 : sum) + json_integer_value(n);
    }
    return sum;
}

int om_ingest_health(const void *payload, size_t len, size_t max_bytes, int64_t *outbox_depth,
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
                *errors = (*errors < 0 ? 0 : *errors) + e;
        }
    } else if (json_is_array(meters)) {
        json_array_foreach(meters, i, m) {
            int64_t e = meter_errors(m);
            if (e >= 0)
                *errors = (*errors < 0 ? 0 : *errors) + e;
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
