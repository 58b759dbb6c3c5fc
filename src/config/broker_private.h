/* SPDX-License-Identifier: Apache-2.0 */
/*
 * brokercfg.h - what agent.yaml and aggregator.yaml share: the `broker:`
 * mapping, the log level, and path resolution, so both daemons validate and
 * resolve their settings identically.
 */
#ifndef OFFICEMETER_BROKERCFG_H
#define OFFICEMETER_BROKERCFG_H

#include "officemeter/config/broker.h"
#include "yamlcfg_private.h"

/* Schema for om_broker_config (officemeter/config/broker.h). */
extern const om_cfg_schema om_broker_schema;

/* The backoff between connect attempts starts at reconnect_min_ms and
 * doubles up to reconnect_max_s: a start above the cap is an error at
 * reconnect_min_ms of `node` (agent.yaml's delivery, aggregator.yaml). */
void om_cfg_check_reconnect(om_cfg_ctx *ctx, yaml_node_t *node, unsigned min_ms, unsigned max_s);

/* `log_level: error | warning | info | debug`, kept as text for the logger. */
int om_cfg_parse_log_level(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f);
void om_cfg_free_string(void *dst);

/* A relative path in a config file is relative to that file's folder;
 * fallback (may be NULL) is used when the key was absent. */
void om_cfg_resolve_path(char **field, const char *config_path, const char *fallback);
/* The broker's credentials and TLS files, resolved like om_cfg_resolve_path. */
void om_broker_resolve_paths(om_broker_config *broker, const char *config_path);

#endif
