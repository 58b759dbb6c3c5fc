/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agentcfg.c - load agent.yaml with the declared-config loader.
 *
 * The broker part is shared with the aggregator (brokercfg.c); paths are
 * resolved against the config file's folder.
 */
#include "officemeter/config/agentcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_private.h"
#include "yamlcfg_private.h"

static const om_cfg_field interval_fields[] = {
    OM_F_UINT(om_intervals, counters_s, "counters_s", 0, 1, 86400, "60"),
    OM_F_UINT(om_intervals, instant_s, "instant_s", 0, 1, 86400, "10"),
    OM_F_UINT(om_intervals, health_s, "health_s", 0, 1, 86400, "60"),
    OM_F_UINT(om_intervals, backoff_max_s, "backoff_max_s", 0, 1, 86400, "300"),
};
static const om_cfg_schema interval_schema =
    OM_SCHEMA(om_intervals, "intervals", interval_fields, NULL);

static const om_cfg_field delivery_fields[] = {
    OM_F_UINT(om_delivery, resend_after_s, "resend_after_s", 0, 1, 86400, "30"),
    OM_F_UINT(om_delivery, max_polls_per_message, "max_polls_per_message", 0, 1, 100000, "500"),
    OM_F_UINT(om_delivery, max_message_kb, "max_message_kb", 0, 1, 65536, "256"),
    OM_F_UINT(om_delivery, max_messages_per_s, "max_messages_per_s", 0, 1, 10000, "20"),
    OM_F_UINT(om_delivery, max_inflight, "max_inflight", 0, 1, 1000, "8"),
    OM_F_UINT(om_delivery, connect_timeout_s, "connect_timeout_s", 0, 1, 3600, "30"),
    OM_F_UINT(om_delivery, reconnect_min_ms, "reconnect_min_ms", 0, 10, 600000, "500"),
    OM_F_UINT(om_delivery, reconnect_max_s, "reconnect_max_s", 0, 1, 3600, "60"),
};
static void check_delivery(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    const om_delivery *d = obj;
    om_cfg_check_reconnect(ctx, node, d->reconnect_min_ms, d->reconnect_max_s);
}

static const om_cfg_schema delivery_schema =
    OM_SCHEMA(om_delivery, "delivery", delivery_fields, check_delivery);

/* log_level is an enum kept as text so the logger can parse it itself. */
static const om_cfg_field agent_fields[] = {
    OM_F_STRING(om_agent_config, site_file, "site_file", OM_CFG_REQUIRED),
    OM_F_ID(om_agent_config, gateway, "gateway", OM_CFG_REQUIRED),
    OM_F_STRING(om_agent_config, catalogue, "catalogue", 0),
    OM_F_STRING(om_agent_config, outbox, "outbox", 0),
    OM_F_STRUCT(om_agent_config, broker, "broker", OM_CFG_REQUIRED, &om_broker_schema),
    OM_F_STRUCT(om_agent_config, intervals, "intervals", 0, &interval_schema),
    OM_F_STRUCT(om_agent_config, delivery, "delivery", 0, &delivery_schema),
    OM_F_UINT(om_agent_config, outbox_quota_mb, "outbox_quota_mb", 0, 1, 1048576, "512"),
    OM_F_CUSTOM(om_agent_config, log_level, "log_level", 0, om_cfg_parse_log_level, om_cfg_free_string,
                "error, warning, info or debug"),
};

static void check_agent(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_agent_config *cfg = obj;
    yaml_node_t *gw = om_cfg_get(ctx, node, "gateway");
    if (gw) {
        cfg->gateway_line = gw->start_mark.line + 1;
        cfg->gateway_col = gw->start_mark.column + 1;
    }
    yaml_node_t *broker = om_cfg_get(ctx, node, "broker");
    if (cfg->broker.shared_group && broker)
        om_cfg_error(ctx, om_cfg_get(ctx, broker, "shared_group"), "broker.shared_group",
                     "an aggregator's setting (a gateway publishes; it shares no subscription)");
}

static const om_cfg_schema agent_schema =
    OM_SCHEMA(om_agent_config, "agent", agent_fields, check_agent);

int om_agent_config_load(const char *path, om_agent_config *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    int rc = om_cfg_load_file(path, &agent_schema, out, diag, NULL);
    out->path = strdup(path);
    if (!out->log_level)
        out->log_level = strdup("info");
    om_cfg_resolve_path(&out->site_file, path, NULL);
    om_cfg_resolve_path(&out->catalogue, path, "/usr/share/officemeter/meters");
    om_cfg_resolve_path(&out->outbox, path, "/var/lib/officemeter/outbox.db");
    om_broker_resolve_paths(&out->broker, path);
    if (!out->broker.client_id && out->gateway)
        out->broker.client_id = strdup(out->gateway);
    return rc;
}

void om_agent_config_free(om_agent_config *cfg)
{
    if (!cfg)
        return;
    om_cfg_free(&agent_schema, cfg);
    free(cfg->path);
    cfg->path = NULL;
}
