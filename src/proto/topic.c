/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topic.c - building and reading the contract's topics (topic.h).
 */
#include "officemeter/proto/topic.h"

#include <stdio.h>
#include <string.h>

static const char *const leaves[] = {
    [OM_TOPIC_READINGS] = "readings",
    [OM_TOPIC_STATUS] = "status",
    [OM_TOPIC_HEALTH] = "health",
    [OM_TOPIC_ACK] = "ack",
};

const char *om_topic_leaf(om_topic_kind kind)
{
    return leaves[kind];
}

/* Copies the next '/'-terminated segment of *p into out. Returns 1 when a
 * '/' followed, 0 at the end of the text, -1 when it does not fit. */
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
    size_t plen = strlen(OM_TOPIC_ROOT);
    if (strncmp(topic, OM_TOPIC_ROOT, plen) != 0) {
        snprintf(err, errlen, "topic does not start with %s", OM_TOPIC_ROOT);
        return -1;
    }
    const char *p = topic + plen;
    char leaf[16];
    if (take_segment(&p, out->site, sizeof out->site) != 1 ||
        take_segment(&p, out->gateway, sizeof out->gateway) != 1 ||
        take_segment(&p, leaf, sizeof leaf) != 0) {
        snprintf(err, errlen, "topic is not %s{site}/{gateway}/{kind}", OM_TOPIC_ROOT);
        return -1;
    }
    if (!om_id_valid(out->site) || !om_id_valid(out->gateway)) {
        snprintf(err, errlen, "topic names an invalid site or gateway id (expected [a-z0-9][a-z0-9._-]*)");
        return -1;
    }
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        if (strcmp(leaf, leaves[i]) == 0) {
            out->kind = (om_topic_kind)i;
            return 0;
        }
    }
    snprintf(err, errlen, "unknown topic kind \"%s\" (expected readings, status, health or ack)",
             leaf);
    return -1;
}

int om_topic_format(char *buf, size_t len, const char *site, const char *gateway,
                    om_topic_kind kind)
{
    int n = snprintf(buf, len, OM_TOPIC_ROOT "%s/%s/%s", site, gateway, leaves[kind]);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int om_topic_filter(char *buf, size_t len, om_topic_kind kind)
{
    return om_topic_format(buf, len, "+", "+", kind);
}
