/*
 * ack.c - parse the aggregator's acknowledgement; build topic names.
 */
#include "officemeter/proto/ack.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int om_ack_parse(const char *payload, size_t len, om_ack *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(payload, len, 0, &jerr);
    int rc = -1;
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        return -1;
    }
    json_t *v = json_object_get(root, "v");
    json_t *epoch = json_object_get(root, "epoch");
    json_t *upto = json_object_get(root, "upto");
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
    } else if (!json_is_integer(v) || json_integer_value(v) != 1) {
        snprintf(err, errlen, "unsupported version (expected \"v\":1)");
    } else if (!json_is_string(epoch) || json_string_length(epoch) != OM_EPOCH_LEN ||
               strspn(json_string_value(epoch), "0123456789abcdef") != OM_EPOCH_LEN) {
        snprintf(err, errlen, "\"epoch\" is not 16 lower-case hex digits");
    } else if (!json_is_integer(upto) || json_integer_value(upto) < 0) {
        snprintf(err, errlen, "\"upto\" is not an integer >= 0");
    } else {
        memcpy(out->epoch, json_string_value(epoch), OM_EPOCH_LEN + 1);
        out->upto = (int64_t)json_integer_value(upto);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

int om_topic(char *buf, size_t len, const char *site, const char *gateway, const char *leaf)
{
    int n = snprintf(buf, len, "officemeter/v1/%s/%s/%s", site, gateway, leaf);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
