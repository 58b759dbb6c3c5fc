/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_env.c - the options, the portfolio and the database for the
 * commands of report_env.h, and their messages around the portfolio
 * library's rules.
 */
#include "report_env.h"
#include "officemeter/base/clock.h"
#include "officemeter/base/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    case OPT_BILLS: o->bills = arg; return true;
    default: return false;
    }
}

static int load_files(om_env *env, const om_env_opts *o, const char *sites_dir)
{
    om_portfolio_paths paths = {
        .sites_dir = sites_dir,
        .catalogue = o->catalogue    ? o->catalogue
                     : env->have_cfg ? env->cfg.catalogue
                                     : OM_AGG_DEFAULT_CATALOGUE,
        .factors = o->factors,
        .policy = o->policy,
        .bills = o->bills,
        .bills_may_overlap = o->bills_may_overlap,
    };
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_portfolio_load(&paths, &env->pf, &diag);
    om_diag_print(&diag, stderr);
    if (rc < 0 && om_diag_count(&diag) == 0)
        fprintf(stderr, "officemeter %s: out of memory\n", env->cmd);
    else if (rc < 0)
        fprintf(stderr, "officemeter %s: fix the files above first; nothing was computed\n",
                env->cmd);
    om_diag_free(&diag);
    return rc;
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
        if (!om_portfolio_site(&env->pf, o->site)) {
            fprintf(stderr, "officemeter %s: --site: unknown site (got \"%s\", expected a site "
                            "of the sites folder)\n", cmd, o->site);
            return 2;
        }
    }
    return 0;
}

int om_env_open_files(om_env *env, const char *cmd, const om_env_opts *o)
{
    memset(env, 0, sizeof *env);
    env->cmd = cmd;
    env->now = om_wall_ms();
    return load_files(env, o, o->sites_dir) < 0 ? 1 : 0;
}

void om_env_close(om_env *env)
{
    om_rollupdb_close(env->db);
    om_store_close(env->st);
    om_portfolio_free(&env->pf);
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
    char err[1024];
    int rc = om_portfolio_month(env->st, env->db, &env->pf, site, year, month, env->now, true,
                                NULL, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, err);
    return rc;
}

int om_env_ensure(om_env *env, const om_site *site, int year, unsigned month, bool *computed)
{
    char err[1024];
    int cur = om_portfolio_month_current(env->db, &env->pf, site, year, month, env->now, err,
                                         sizeof err);
    *computed = cur == 0;
    if (cur < 0)
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, err);
    if (cur != 0)
        return cur < 0 ? -1 : 0;
    return om_env_rollup(env, site, year, month);
}

int om_build_report(om_env *env, const om_env_opts *eo, int year, bool recompute,
                    bool verify_readings, om_built_report *b)
{
    om_rows_opts rows = {.now = env->now, .recompute = recompute, .save = true,
                         .verify = verify_readings};
    const om_site *only = eo->site ? om_portfolio_site(&env->pf, eo->site) : NULL;
    char err[1024];
    int rc = om_portfolio_build_report(env->st, env->db, &env->pf, only, year, &rows, b, err,
                                       sizeof err);
    if (b->rows.changed[0])
        fprintf(stderr, "officemeter %s: readings changed since these months were computed "
                        "(late or corrected data): %s\n", env->cmd, b->rows.changed);
    if (b->rows.computed)
        fprintf(stderr, "officemeter %s: rolled up %zu site-months first\n", env->cmd,
                b->rows.computed);
    if (rc < 0)
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, err);
    return rc;
}
