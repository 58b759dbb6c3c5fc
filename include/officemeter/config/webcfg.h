/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webcfg.h - officemeter-web's configuration (web.yaml).
 *
 * Where the data is (the aggregator's config, or the database and the site
 * folder directly), where to listen, who may see what (users_file, or a
 * header set by a trusted reverse proxy), TLS. Relative paths are resolved
 * against the config file's folder. Example: firmware-config/web/web.yaml;
 * reference: docs/web.md.
 */
#ifndef OFFICEMETER_WEBCFG_H
#define OFFICEMETER_WEBCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/base/diag.h"

#define OM_WEB_DEFAULT_LISTEN "127.0.0.1:8080"

typedef struct {
    char *cert_file;
    char *key_file;
} om_web_tls;

typedef struct {
    char *aggregator_config; /* aggregator.yaml: database, sites_dir, catalogue */
    char *database;          /* or these (they win over the aggregator's) */
    char *sites_dir;
    char *catalogue;
    char *listen;            /* HOST:PORT, IPv4 or [IPv6] */
    char *users_file;        /* NULL: no users (loopback only, no authentication) */
    char *proxy_user_header; /* NULL: not trusted; else the user name from this header */
    om_web_tls tls;
    bool has_tls;
    unsigned threads;        /* HTTP worker threads */
    unsigned cache_s;        /* how long computed months are reused */
    unsigned page_cache_s;   /* how long an answer is served again to the same user */
    unsigned stale_after_s;  /* a meter with nothing newer is stale */
    unsigned max_points;     /* the most points a readings series returns */
    char *log_level;
    char *path;
} om_web_config;

/* Loads and checks web.yaml. Returns 0, or -1 with every error in diag
 * (out must be freed either way). */
int om_web_config_load(const char *path, om_web_config *out, om_diag *diag);
void om_web_config_free(om_web_config *cfg);

#endif
