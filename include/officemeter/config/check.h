/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.h - validate every kind of file the project reads, in one call.
 *
 * `officemeter check` and the daemons' --check share this, so "check passes"
 * means the same thing everywhere. Files are told apart by place and
 * content: *.yaml under a folder named meters/ are meter models;
 * emission-factors.yaml and reporting.yaml are the factor set and policy;
 * alerts.yaml is the alert policy (checked against the site files checked
 * with it);
 * a file with a root key `site_file` is an agent config (checked with the
 * site file it names); one with a root key `sites_dir` or `database` is an
 * aggregator config (checked with the folders it names); any other *.yaml
 * with a root key `site`, `meters` or `gateways` is a site file (the
 * aggregator takes the files of its sites_dir by the same rule); a file
 * that cannot be read as YAML gets that error alone; SITE.csv in a folder
 * named bills holds a site's bills (bills.h).
 */
#ifndef OFFICEMETER_CHECK_H
#define OFFICEMETER_CHECK_H

#include <stddef.h>

#include "officemeter/base/diag.h"

typedef struct {
    size_t models;
    size_t sites;
    size_t factor_files;
    size_t policy_files;
    size_t agent_files;
    size_t aggregator_files; /* root key `sites_dir` or `database` */
    size_t bill_files;       /* bills/SITE.csv */
    size_t web_files;        /* root key `aggregator_config`, `listen` or `users_file` */
    size_t alert_files;      /* alerts.yaml */
    size_t skipped; /* *.yaml of no known kind */
} om_check_stats;

/* Check files and folders (recursively). catalogue_dir, when non-NULL and
 * the paths include no model files, is loaded to resolve site models.
 * Returns 0 when no errors were found. */
int om_check_paths(char *const *paths, size_t npaths, const char *catalogue_dir, om_diag *diag,
                   om_check_stats *stats);

#endif
