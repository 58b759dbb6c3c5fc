/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topic.h - the MQTT topics of the contract (docs/architecture.md, "MQTT topics").
 *
 *   officemeter/v1/{site}/{gateway}/readings   agent -> aggregator
 *   officemeter/v1/{site}/{gateway}/status     agent (birth, last will)
 *   officemeter/v1/{site}/{gateway}/health     agent
 *   officemeter/v1/{site}/{gateway}/ack        aggregator -> agent
 *
 * The root is written here once; every topic is built and read by the
 * functions below, by the agent, the aggregator and the ACL generator.
 */
#ifndef OFFICEMETER_PROTO_TOPIC_H
#define OFFICEMETER_PROTO_TOPIC_H

#include <stddef.h>

#include "officemeter/base/id.h"

#define OM_TOPIC_ROOT "officemeter/v1/"
/* The longest topic: root, two ids, a leaf and the separators. */
#define OM_TOPIC_MAX (sizeof OM_TOPIC_ROOT + 2 * OM_ID_LEN + 16)

typedef enum {
    OM_TOPIC_READINGS,
    OM_TOPIC_STATUS,
    OM_TOPIC_HEALTH,
    OM_TOPIC_ACK,
} om_topic_kind;

typedef struct {
    om_topic_kind kind;
    char site[OM_ID_MAX];
    char gateway[OM_ID_MAX];
} om_topic;

/* "readings", "status", "health", "ack". */
const char *om_topic_leaf(om_topic_kind kind);

/* officemeter/v1/{site}/{gateway}/{leaf}. Returns 0, or -1 with the reason
 * in err for any other topic (another root, an invalid id, an unknown leaf,
 * more or fewer levels). */
int om_topic_parse(const char *topic, om_topic *out, char *err, size_t errlen);
/* Writes officemeter/v1/{site}/{gateway}/{leaf of kind}; returns 0, or -1
 * when it does not fit in len bytes. */
int om_topic_format(char *buf, size_t len, const char *site, const char *gateway,
                    om_topic_kind kind);
/* The subscription filter officemeter/v1/+/+/{leaf}, for every gateway.
 * Returns 0 or -1 (too long). */
int om_topic_filter(char *buf, size_t len, om_topic_kind kind);

#endif
