/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webcfg.c - load web.yaml with the declared-config loader: every key a
 * row of web_fields, paths resolved against the file's folder, and the
 * cross-checks that need several keys (where the data comes from, TLS
 * files in pairs, the listen address's shape).
 */
#include "officemeter/config/webcfg.h"
#include "officemeter/config/aggcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_private.h"
#include "yamlcfg_private.h"

static const om_cfg_field tls_fields[] = {
    OM_F_STRING(om_web_tls, cert_file, "cert_file", OM_CFG_REQUIRED),
    OM_F_STRING(om_web_tls, key_file, "key_file", OM_CFG_REQUIRED),
};
static const om_cfg_schema tls_schema = OM_SCHEMA(om_web_tls, "tls", tls_fields, NULL);

static const om_cfg_field web_fields[] = {
    OM_F_STRING(om_web_config, aggregator_config, "aggregator_config", 0),
    OM_F_STRING(om_web_config, database, "database", 0),
    OM_F_STRING(om_web_config, sites_dir, "sites_dir", 0),
    OM_F_STRING(om_web_config, catalogue, "catalogue", 0),
    OM_F_STRING(om_web_config, listen, "listen", 0),
    OM_F_STRING(om_web_config, users_file, "users_file", 0),
    OM_F_STRING(om_web_config, proxy_user_header, "proxy_user_header", 0),
    OM_F_STRUCT(om_web_config, tls, "tls", 0, &tls_schema),
    OM_F_UINT(om_web_config, threads, "threads", 0, 1, 64, "4"),
    OM_F_UINT(om_web_config, cache_s, "cache_s", 0, 0, 86400, "60"),
    OM_F_UINT(om_web_config, page_cache_s, "page_cache_s", 0, 0, 3600, "5"),
    OM_F_UINT(om_web_config, stale_after_s, "stale_after_s", 0, 1, 31536000, "900"),
    OM_F_UINT(om_web_config, max_points, "max_points", 0, 10, 100000, "1000"),
    OM_F_CUSTOM(om_web_config, log_level, "log_level", 0, om_cfg_parse_log_level,
                om_cfg_free_string, "error, warning, info or debug"),
};

/* "HOST:PORT" with a port of 1..65535, the host an IPv4 address, a name or
 * [IPv6]. */
static bool listen_valid(const char *text)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return false;
    if (text[0] == '[' && colon[-1] != ']')
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return *end == '\0' && colon[1] != '\0' && port >= 1 && port <= 65535;
}

static void check_web(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_web_config *cfg = obj;
    if (!cfg->aggregator_config && (!cfg->database || !cfg->sites_dir))
        om_cfg_error(ctx, node, NULL, "give aggregator_config, or database and sites_dir");
    yaml_node_t *listen = om_cfg_get(ctx, node, "listen");
    if (listen && cfg->listen && !listen_valid(cfg->listen))
        om_cfg_error(ctx, listen, "listen", "not an address (got \"%s\", expected HOST:PORT "
                     "such as 127.0.0.1:8080 or [::1]:8080)", cfg->listen);
    yaml_node_t *header = om_cfg_get(ctx, node, "proxy_user_header");
    if (header && cfg->proxy_user_header) {
        for (const char *p = cfg->proxy_user_header; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '-')) {
                om_cfg_error(ctx, header, "proxy_user_header", "not a header name (got "
                             "\"%s\", expected letters, digits and '-')", cfg->proxy_user_header);
                break;
            }
    }
    cfg->has_tls = om_cfg_get(ctx, node, "tls") != NULL;
}

static const om_cfg_schema web_schema = OM_SCHEMA(om_web_config, "web", web_fields, check_web);

int om_web_config_load(const char *path, om_web_config *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    int rc = om_cfg_load_file(path, &web_schema, out, diag, NULL);
    out->path = strdup(path);
    if (!out->log_level)
        out->log_level = strdup("info");
    if (!out->listen)
        out->listen = strdup(OM_WEB_DEFAULT_LISTEN);
    om_cfg_resolve_path(&out->aggregator_config, path, NULL);
    if (!om_database_is_postgresql(out->database)) /* a URI is not relative to anything */
        om_cfg_resolve_path(&out->database, path, NULL);
    om_cfg_resolve_path(&out->sites_dir, path, NULL);
    om_cfg_resolve_path(&out->catalogue, path, NULL);
    om_cfg_resolve_path(&out->users_file, path, NULL);
    om_cfg_resolve_path(&out->tls.cert_file, path, NULL);
    om_cfg_resolve_path(&out->tls.key_file, path, NULL);
    return rc;
}

void om_web_config_free(om_web_config *cfg)
{
    if (!cfg)
        return;
    om_cfg_free(&web_schema, cfg);
    free(cfg->path);
    cfg->path = NULL;
}
