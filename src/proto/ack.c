/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ack.c - the acknowledgement, written and read (ack.h).
 */
#include "officemeter/proto/ack.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool epoch_valid(const char *epoch)
{
    return strlen(epoch) == OM_EPOCH_LEN && strspn(epoch, "0123456789abcdef") == OM_EPOCH_LEN;
}

int om_ack_encode(const om_ack *ack, char *buf, size_t len)
{
    if (!epoch_valid(ack->epoch) || ack->upto < 0 || ack->upto > OM_SEQ_MAX)
        return -1;
    int n = snprintf(buf, len, "{\"v\":1,\"epoch\":\"%s\",\"upto\":%" PRId64 "}", ack->epoch,
                     ack->upto);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

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
               !epoch_valid(json_string_value(epoch))) {
        snprintf(err, errlen, "\"epoch\" is not 16 lower-case hex digits");
    } else if (!json_is_integer(upto) || json_integer_value(upto) < 0 ||
               json_integer_value(upto) > OM_SEQ_MAX) {
        snprintf(err, errlen, "\"upto\" is not an integer from 0 to %" PRId64, OM_SEQ_MAX);
    } else {
        memcpy(out->epoch, json_string_value(epoch), OM_EPOCH_LEN + 1);
        out->upto = (int64_t)json_integer_value(upto);
        rc = 0;
    }
    json_decref(root);
    return rc;
}
