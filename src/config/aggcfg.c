/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aggcfg.c - load aggregator.yaml with the declared-config loader.
 *
 * Every key is a row of agg_fields; the broker mapping is the schema shared
 * with agent.yaml (brokercfg.c), so both daemons refuse the same mistakes.
 * Paths are resolved against the config file's folder, like agentcfg.c.
 */
#include "officemeter/config/aggcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/path.h"
#include "broker_private.h"
#include "filekind_private.h"
#include "yamlcfg_private.h"

static const om_cfg_field agg_fields[] = {
    OM_F_STRING(om_agg_config, sites_dir, "sites_dir", OM_CFG_REQUIRED),
    OM_F_STRING(om_agg_config, catalogue, "catalogue", 0),
    OM_F_STRING(om_agg_config, database, "database", 0),
    OM_F_STRUCT(om_agg_config, broker, "broker", OM_CFG_REQUIRED, &om_broker_schema),
    OM_F_UINT(om_agg_config, commit_interval_ms, "commit_interval_ms", 0, 1, 60000, "200"),
    OM_F_UINT(om_agg_config, commit_max_readings, "commit_max_readings", 0, 1, 10000000,
              "100000"),
    OM_F_UINT(om_agg_config, max_payload_bytes, "max_payload_bytes", 0, 256, 268435455,
              "1048576"),
    OM_F_UINT(om_agg_config, future_tolerance_s, "future_tolerance_s", 0, 0, 86400, "300"),
    OM_F_UINT(om_agg_config, rejects_keep, "rejects_keep", 0, 1, 100000000, "10000"),
    OM_F_UINT(om_agg_config, stale_after_s, "stale_after_s", 0, 1, 31536000, "900"),
    OM_F_UINT(om_agg_config, gap_close_s, "gap_close_s", 0, 0, 31536000, "3600"),
    OM_F_UINT(om_agg_config, reconnect_min_ms, "reconnect_min_ms", 0, 10, 600000, "500"),
    OM_F_UINT(om_agg_config, reconnect_max_s, "reconnect_max_s", 0, 1, 3600, "10"),
    OM_F_UINT(om_agg_config, retention_months, "retention_months", 0, 0, 1200, "0"),
    OM_F_CUSTOM(om_agg_config, log_level, "log_level", 0, om_cfg_parse_log_level, om_cfg_free_string,
                "error, warning, info or debug"),
    OM_F_STRING(om_agg_config, metrics_listen, "metrics_listen", 0),
};

/* ---- the database: a SQLite file or a PostgreSQL URI ------------------------ */

bool om_database_is_postgresql(const char *database)
{
    return database && (strncmp(database, "postgresql://", 13) == 0 ||
                        strncmp(database, "postgres://", 11) == 0);
}

int om_database_uri_check(const char *uri, char *why, size_t whylen)
{
    const char *rest = strstr(uri, "://") + 3;
    /* userinfo is what precedes an '@' before the path or the parameters */
    size_t authority = strcspn(rest, "/?");
    const char *at = memchr(rest, '@', authority);
    if (at && memchr(rest, ':', (size_t)(at - rest))) {
        snprintf(why, whylen, "the URI holds a password (user:password@); put it in a password "
                 "file instead (PGPASSFILE, or ?passfile=FILE in the URI)");
        return -1;
    }
    const char *q = strchr(rest, '?');
    for (const char *p = q; p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, "password=", 9) == 0) {
            snprintf(why, whylen, "the URI holds a password (password=); put it in a password "
                     "file instead (PGPASSFILE, or ?passfile=FILE in the URI)");
            return -1;
        }
    }
    return 0;
}

static void check_agg(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_agg_config *cfg = obj;
    om_cfg_check_reconnect(ctx, node, cfg->reconnect_min_ms, cfg->reconnect_max_s);
    yaml_node_t *metrics = om_cfg_get(ctx, node, "metrics_listen");
    const char *colon = cfg->metrics_listen ? strrchr(cfg->metrics_listen, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (metrics && cfg->metrics_listen &&
        (!colon || colon == cfg->metrics_listen || !end || *end || port < 1 || port > 65535))
        om_cfg_error(ctx, metrics, "metrics_listen", "not an address (got \"%s\", expected "
                     "HOST:PORT such as 127.0.0.1:9464)", cfg->metrics_listen);
    yaml_node_t *dir = om_cfg_get(ctx, node, "sites_dir");
    if (dir) {
        cfg->sites_dir_line = dir->start_mark.line + 1;
        cfg->sites_dir_col = dir->start_mark.column + 1;
    }
    char why[256];
    if (om_database_is_postgresql(cfg->database) &&
        om_database_uri_check(cfg->database, why, sizeof why) < 0)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "database"), "database", "%s", why);
}

static const om_cfg_schema agg_schema =
    OM_SCHEMA(om_agg_config, "aggregator", agg_fields, check_agg);

int om_agg_config_load(const char *path, om_agg_config *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    int rc = om_cfg_load_file(path, &agg_schema, out, diag, NULL);
    out->path = strdup(path);
    if (!out->log_level)
        out->log_level = strdup("info");
    om_cfg_resolve_path(&out->sites_dir, path, NULL);
    om_cfg_resolve_path(&out->catalogue, path, OM_AGG_DEFAULT_CATALOGUE);
    if (!om_database_is_postgresql(out->database)) /* a URI is not relative to anything */
        om_cfg_resolve_path(&out->database, path, OM_AGG_DEFAULT_DATABASE);
    om_broker_resolve_paths(&out->broker, path);
    if (!out->broker.client_id)
        out->broker.client_id = strdup(OM_AGG_DEFAULT_CLIENT_ID);
    return rc;
}

void om_agg_config_free(om_agg_config *cfg)
{
    if (!cfg)
        return;
    om_cfg_free(&agg_schema, cfg);
    free(cfg->path);
    cfg->path = NULL;
}

/* ---- the sites of sites_dir ------------------------------------------------ */

/* The site files of dir (the rule of `officemeter check`: a site file, even
 * one that lost its `site:` key, or a file that cannot be read, whose error
 * is then reported; the factor file, the policy and others are skipped),
 * sorted, as full paths. */
static char **site_files(const char *dir, size_t *n, om_diag *diag)
{
    *n = 0;
    char **names;
    size_t nnames;
    if (om_dir_list(dir, om_path_is_yaml, &names, &nnames) < 0) {
        om_diag_add(diag, dir, 0, 0, "sites_dir", "cannot read folder (%s)", strerror(errno));
        return NULL;
    }
    char **paths = calloc(nnames + 1, sizeof *paths);
    for (size_t i = 0; paths && i < nnames; i++) {
        char *path = om_path_join(dir, names[i]);
        if (!path)
            break;
        om_file_kind kind = om_cfg_file_kind(path);
        if (kind == OM_FILE_SITE || kind == OM_FILE_BROKEN)
            paths[(*n)++] = path;
        else
            free(path);
    }
    om_dir_list_free(names, nnames);
    return paths;
}

int om_agg_sites_load(const om_agg_config *cfg, om_agg_sites *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    size_t before = om_diag_count(diag);
    om_catalogue_load(cfg->catalogue, &out->catalogue, diag);
    size_t n;
    char **paths = site_files(cfg->sites_dir, &n, diag);
    out->sites = calloc(n + 1, sizeof *out->sites);
    for (size_t i = 0; out->sites && i < n; i++) {
        om_site *s = &out->sites[out->nsites++];
        om_site_load(paths[i], &out->catalogue, s, diag);
        for (size_t k = 0; s->site && k + 1 < out->nsites; k++)
            if (out->sites[k].site && strcmp(out->sites[k].site, s->site) == 0)
                om_diag_add(diag, paths[i], 0, 0, "site", "duplicate site id \"%s\" (also in %s)",
                            s->site, out->sites[k].path);
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return om_diag_count(diag) == before ? 0 : -1;
}

void om_agg_sites_free(om_agg_sites *sites)
{
    if (!sites)
        return;
    for (size_t i = 0; i < sites->nsites; i++)
        om_site_free(&sites->sites[i]);
    free(sites->sites);
    om_catalogue_free(&sites->catalogue);
    memset(sites, 0, sizeof *sites);
}
