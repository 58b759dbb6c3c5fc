/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aggcfg.h - the central aggregator's configuration (aggregator.yaml).
 *
 * Where the site files, the meter catalogue and the database are, how to
 * reach the broker (the same `broker:` mapping as agent.yaml), and the
 * ingest policy: how often to commit, how large and how far in the future
 * a message may be, how many reject rows to keep. Relative paths are
 * resolved against the config file's folder. Example:
 * firmware-config/aggregator/aggregator.yaml; reference: docs/aggregator.md.
 */
#ifndef OFFICEMETER_AGGCFG_H
#define OFFICEMETER_AGGCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/config/broker.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/base/diag.h"
#include "officemeter/config/site.h"

#define OM_AGG_DEFAULT_DATABASE "/var/lib/officemeter/officemeter.db"
#define OM_AGG_DEFAULT_CATALOGUE "/usr/share/officemeter/meters"
#define OM_AGG_DEFAULT_CLIENT_ID "officemeter-aggregator"

typedef struct {
    char *sites_dir;
    char *catalogue;
    char *database;
    om_broker_config broker;
    unsigned commit_interval_ms;  /* longest wait between a message and its commit */
    unsigned commit_max_readings; /* a group is committed early when it holds this many */
    unsigned max_payload_bytes;   /* larger messages are rejected unread */
    unsigned future_tolerance_s;  /* how far ahead of our clock a reading's t may be */
    unsigned rejects_keep;        /* newest reject rows kept (counts are kept forever) */
    unsigned stale_after_s;       /* `officemeter status` threshold */
    unsigned gap_close_s;         /* a seq gap standing this long is given up as lost; 0: never */
    unsigned reconnect_min_ms;    /* broker backoff: first delay between connect attempts ... */
    unsigned reconnect_max_s;     /* ... doubled per failure up to this */
    unsigned retention_months;    /* raw readings kept whole this long (officemeter retention); 0: all */
    char *log_level;              /* error, warning, info, debug */
    char *metrics_listen;         /* HOST:PORT of /metrics (docs/web.md); NULL: none */
    char *path;
    size_t sites_dir_line, sites_dir_col; /* where `sites_dir` is, for messages */
} om_agg_config;

/* True when `database` names a PostgreSQL database (a postgresql:// or
 * postgres:// URI) rather than a SQLite file. */
bool om_database_is_postgresql(const char *database);
/* A PostgreSQL URI that holds a password (user:secret@, password=) is
 * refused: passwords live in a password file (PGPASSFILE, ?passfile=).
 * Returns 0, or -1 with the reason in why (never the password itself). */
int om_database_uri_check(const char *uri, char *why, size_t whylen);

/* Load and check an aggregator config (not the site files: the caller loads
 * sites_dir next). Returns 0, or -1 with every error in diag. */
int om_agg_config_load(const char *path, om_agg_config *out, om_diag *diag);
void om_agg_config_free(om_agg_config *cfg);

/* Every site the aggregator knows: the site files of sites_dir (the *.yaml
 * files there with a root key `site`, not searched recursively), resolved
 * against the catalogue. */
typedef struct {
    om_catalogue catalogue;
    om_site *sites;
    size_t nsites;
} om_agg_sites;

/* Loads the catalogue and the site files named by cfg. Returns 0, or -1
 * with every error in diag (out must still be freed). Two files declaring
 * the same site id are an error. */
int om_agg_sites_load(const om_agg_config *cfg, om_agg_sites *out, om_diag *diag);
void om_agg_sites_free(om_agg_sites *sites);

#endif
