/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filekind.c - tell config files apart by name, place and root keys
 * (filekind_private.h). One rule for `officemeter check` and the
 * aggregator: a site file that lost its `site:` key is still a site file
 * (it has meters or gateways) and gets its error from both, and a file that
 * is not YAML at all is reported as such, never guessed to be a site.
 */
#include "filekind_private.h"

#include <string.h>

#include "yamlcfg_private.h"

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int in_meters_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return 0;
    size_t len = (size_t)(slash - path);
    return (len == 6 && strncmp(path, "meters", 6) == 0) ||
           (len >= 7 && strncmp(slash - 7, "/meters", 7) == 0);
}

int om_cfg_is_bill_file(const char *path)
{
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    if (n < 5 || strcmp(path + n - 4, ".csv") != 0 || !slash)
        return 0;
    size_t len = (size_t)(slash - path);
    return (len == 5 && strncmp(path, "bills", 5) == 0) ||
           (len >= 6 && strncmp(slash - 6, "/bills", 6) == 0);
}

static bool has(om_cfg_ctx *ctx, yaml_node_t *root, const char *key)
{
    return om_cfg_get(ctx, root, key) != NULL;
}

om_file_kind om_cfg_file_kind(const char *path)
{
    const char *base = base_name(path);
    if (om_cfg_is_bill_file(path))
        return OM_FILE_BILLS;
    if (strcmp(base, "emission-factors.yaml") == 0)
        return OM_FILE_FACTORS;
    if (strcmp(base, "reporting.yaml") == 0)
        return OM_FILE_POLICY;
    if (strcmp(base, "alerts.yaml") == 0)
        return OM_FILE_ALERTS;
    yaml_parser_t parser;
    yaml_document_t doc;
    unsigned char *text;
    if (om_cfg_read_document(path, &doc, &parser, &text, NULL) < 0)
        return in_meters_dir(path) ? OM_FILE_MODEL : OM_FILE_BROKEN;
    om_cfg_ctx ctx = {.file = path, .doc = &doc};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    om_file_kind kind = OM_FILE_OTHER;
    if (has(&ctx, root, "site_file"))
        kind = OM_FILE_AGENT;
    /* web.yaml may name a database and sites_dir too: its own keys first. */
    else if (has(&ctx, root, "aggregator_config") || has(&ctx, root, "listen") ||
             has(&ctx, root, "users_file"))
        kind = OM_FILE_WEB;
    else if (has(&ctx, root, "sites_dir") || has(&ctx, root, "database"))
        kind = OM_FILE_AGGREGATOR;
    else if (in_meters_dir(path) || has(&ctx, root, "model"))
        kind = OM_FILE_MODEL;
    else if (has(&ctx, root, "site") || has(&ctx, root, "meters") || has(&ctx, root, "gateways"))
        kind = OM_FILE_SITE;
    om_cfg_close_document(&doc, &parser, text);
    return kind;
}
