/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filekind_private.h - what kind of config file a path is (filekind.c),
 * decided once for `officemeter check` and for the aggregator's sites_dir,
 * so that both take the same files as site files.
 */
#ifndef OFFICEMETER_CONFIG_FILEKIND_PRIVATE_H
#define OFFICEMETER_CONFIG_FILEKIND_PRIVATE_H

typedef enum {
    OM_FILE_MODEL,      /* under a folder named meters/, or a root key `model` */
    OM_FILE_SITE,       /* a root key `site`, `meters` or `gateways` */
    OM_FILE_FACTORS,    /* emission-factors.yaml */
    OM_FILE_POLICY,     /* reporting.yaml */
    OM_FILE_ALERTS,     /* alerts.yaml (alertcfg.h) */
    OM_FILE_AGENT,      /* a root key `site_file` */
    OM_FILE_WEB,        /* a root key `aggregator_config`, `listen` or `users_file` */
    OM_FILE_AGGREGATOR, /* a root key `sites_dir` or `database` */
    OM_FILE_BILLS,      /* SITE.csv in a folder named bills/ (bills.h) */
    OM_FILE_BROKEN,     /* unreadable, or not YAML within the caps: its errors must be shown */
    OM_FILE_OTHER,      /* YAML of none of these kinds */
    OM_FILE__COUNT
} om_file_kind;

/* Reads the file once (quietly) and tells its kind, by the rules above in
 * that order (names first, then root keys). */
om_file_kind om_cfg_file_kind(const char *path);

/* 1 when PATH names a bill file: SITE.csv in a folder named bills. */
int om_cfg_is_bill_file(const char *path);

#endif
