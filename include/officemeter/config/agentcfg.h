/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agentcfg.h - the gateway agent's configuration (agent.yaml).
 *
 * Which site and gateway this agent serves, where the catalogue and the
 * outbox are, how to reach the broker, and how often to poll. Relative paths
 * are resolved against the config file's folder, so a config and its site
 * file can move together. Example: firmware-config/agent/agent.yaml.
 */
#ifndef OFFICEMETER_AGENTCFG_H
#define OFFICEMETER_AGENTCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/base/diag.h"
#include "officemeter/config/broker.h"

typedef struct {
    unsigned counters_s;
    unsigned instant_s;
    unsigned health_s;      /* retained health message */
    unsigned backoff_max_s; /* cap of a dead meter's exponential backoff */
} om_intervals;

/* How polls travel from the outbox to the broker (docs/agent.md). */
typedef struct {
    unsigned resend_after_s;        /* an unacknowledged poll is sent again after this */
    unsigned max_polls_per_message; /* polls in one readings message */
    unsigned max_message_kb;        /* size cap of one readings message */
    unsigned max_messages_per_s;    /* pacing of catch-up after an outage */
    unsigned max_inflight;          /* readings messages awaiting the broker's PUBACK */
    unsigned connect_timeout_s;     /* first connection at startup; --once: each wait */
    unsigned reconnect_min_ms;      /* backoff between connect attempts: first ... */
    unsigned reconnect_max_s;       /* ... and cap */
} om_delivery;

typedef struct {
    char *site_file;
    char *gateway;
    char *catalogue;
    char *outbox;
    om_broker_config broker;
    om_intervals intervals;
    om_delivery delivery;
    unsigned outbox_quota_mb;
    char *log_level; /* error, warning, info, debug */
    char *path;
    size_t gateway_line, gateway_col; /* where `gateway` is, for messages */
} om_agent_config;

/* Load and check an agent config (not the site file it names: that is the
 * caller's next step). Returns 0, or -1 with every error in diag. */
int om_agent_config_load(const char *path, om_agent_config *out, om_diag *diag);
void om_agent_config_free(om_agent_config *cfg);

#endif
