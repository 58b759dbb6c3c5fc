/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_env.c - the portfolio and the database for `rollup` and `report`,
 * and the rule for when a stored month must be computed again.
 */
#include "report_env.h"
#include "officemeter/base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"

bool om_env_option(om_env_opts *o, int c, const char *arg)
{
    switch (c) {
    case OPT_DB: o->db = arg; return true;
    case OPT_CONFIG: o->config = arg; return true;
    case OPT_SITES: o->sites_dir = arg; return true;
    case OPT_CATALOGUE: o->catalogue = arg; return true;
    case OPT_FACTORS: o->factors = arg; return true;
    case OPT_POLICY: o->policy = arg; return true;
    case OPT_SITE: o->site = arg; return true;
    case OPT_NOW: o->now = arg; return true;
    default: return false;
    }
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static int load_files(om_env *env, const om_env_opts *o, const char *sites_dir)
{
    om_agg_config where = {0};
    where.sites_dir = (char *)sites_dir;
    where.catalogue = (char *)(o->catalogue          ? o->catalogue
                               : env->have_cfg       ? env->cfg.catalogue
                                                     : OM_AGG_DEFAULT_CATALOGUE);
    char *factors = o->factors ? strdup(o->factors) : join(sites_dir, "emission-factors.yaml");
    char *policy = o->policy ? strdup(o->policy) : join(sites_dir, "reporting.yaml");
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_agg_sites_load(&where, &env->sites, &diag);
    if (factors && policy) {
        rc |= om_factors_load(factors, &env->factors, &diag);
        rc |= om_policy_load(policy, &env->factors, &env->policy, &diag);
    } else {
        rc = -1;
    }
    om_diag_print(&diag, stderr);
    if (rc < 0 && om_diag_count(&diag) == 0)
        fprintf(stderr, "officemeter %s: out of memory\n", env->cmd);
    else if (rc < 0)
        fprintf(stderr, "officemeter %s: fix the files above first; nothing was computed\n",
                env->cmd);
    om_diag_free(&diag);
    free(factors);
    free(policy);
    return rc < 0 ? -1 : 0;
}

int om_env_open(om_env *env, const char *cmd, const om_env_opts *o)
{
    memset(env, 0, sizeof *env);
    env->cmd = cmd;
    env->now = om_wall_ms();
    if (o->now && om_parse_iso8601(o->now, &env->now) < 0) {
        fprintf(stderr, "officemeter %s: --now: invalid timestamp (got \"%s\", expected "
                        "YYYY-MM-DDTHH:MM:SSZ)\n", cmd, o->now);
        return 2;
    }
    if (!o->db && !o->config) {
        fprintf(stderr, "officemeter %s: give --db DB or --config FILE\n", cmd);
        return 2;
    }
    if (!o->config && !o->sites_dir) {
        fprintf(stderr, "officemeter %s: give --sites DIR (or --config FILE with sites_dir)\n",
                cmd);
        return 2;
    }
    env->st = om_cli_open_store(cmd, o->db, o->config, 0, &env->cfg, &env->have_cfg);
    if (!env->st)
        return 1;
    if (load_files(env, o, o->sites_dir ? o->sites_dir : env->cfg.sites_dir) < 0)
        return 1;
    char err[1024];
    env->db = om_rollupdb_open(env->st, err, sizeof err);
    if (!env->db) {
        fprintf(stderr, "officemeter %s: %s\n", cmd, err);
        return 1;
    }
    if (o->site) {
        bool found = false;
        for (size_t i = 0; i < env->sites.nsites; i++)
            found |= env->sites.sites[i].site && strcmp(env->sites.sites[i].site, o->site) == 0;
        if (!found) {
            fprintf(stderr, "officemeter %s: --site: unknown site (got \"%s\", expected a site "
                            "of the sites folder)\n", cmd, o->site);
            return 2;
        }
    }
    return 0;
}

void om_env_close(om_env *env)
{
    om_rollupdb_close(env->db);
    om_store_close(env->st);
    om_agg_sites_free(&env->sites);
    om_policy_free(&env->policy);
    om_factors_free(&env->factors);
    if (env->have_cfg)
        om_agg_config_free(&env->cfg);
    memset(env, 0, sizeof *env);
}

bool om_env_wants(const om_env *env, const om_env_opts *o, const om_site *site)
{
    return !o->site || strcmp(site->site, o->site) == 0;
}

int om_env_rollup(om_env *env, const om_site *site, int year, unsigned month)
{
    om_rollup_source src;
    om_rollupdb_source(env->db, &src);
    om_meter_month *rows;
    om_month_event *events;
    size_t nrows, nevents;
    om_store_read_begin(env->st);
    int rc = om_rollup_site_month(site, &env->policy, year, month, env->now, &src, &rows, &nrows,
                                  &events, &nevents);
    om_store_read_end(env->st);
    if (rc < 0) {
        fprintf(stderr, "officemeter %s: %s %04d-%02u: %s\n", env->cmd, site->site, year, month,
                om_rollupdb_errmsg(env->db)[0] ? om_rollupdb_errmsg(env->db)
                                               : "cannot compute the month");
        return -1;
    }
    int64_t start, end;
    om_month_bounds(site->timezone, year, month, &start, &end);
    rc = om_rollupdb_save(env->db, site, year, month, env->now < end, env->now,
                          om_rollup_fingerprint(site, &env->policy), rows, nrows, events, nevents);
    if (rc < 0)
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_rollupdb_errmsg(env->db));
    free(rows);
    free(events);
    return rc;
}

int om_env_ensure(om_env *env, const om_site *site, int year, unsigned month, bool *computed)
{
    *computed = false;
    int64_t start, end;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0)
        return -1;
    if (start >= env->now)
        return 0; /* not started: nothing to say about it yet */
    om_rollup_state state;
    if (om_rollupdb_state(env->db, site->site, year, month, &state) < 0) {
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_rollupdb_errmsg(env->db));
        return -1;
    }
    if (state.stored && !state.provisional &&
        state.fingerprint == om_rollup_fingerprint(site, &env->policy))
        return 0;
    *computed = true;
    return om_env_rollup(env, site, year, month);
}
