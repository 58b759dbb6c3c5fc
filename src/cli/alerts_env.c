/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_env.c - the portfolio, the rules and the database for `officemeter
 * alerts`, and the evaluator's clock.
 *
 * Files: the site files of sites_dir; reporting.yaml there (its poll
 * interval says when a meter is stale, its plausibility bounds feed the
 * consumption engine as in the rollup; built-in defaults when absent);
 * alerts.yaml there (the built-in rules when absent). A file that exists
 * and has errors stops everything, with every error listed.
 */
#include "alerts_cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "officemeter/base/clock.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/path.h"
#include "officemeter/sim/clockfile.h"

bool alerts_option(alerts_opts *o, int c, const char *arg)
{
    switch (c) {
    case AOPT_DB: o->db = arg; return true;
    case AOPT_CONFIG: o->config = arg; return true;
    case AOPT_SITES: o->sites_dir = arg; return true;
    case AOPT_CATALOGUE: o->catalogue = arg; return true;
    case AOPT_POLICY: o->policy = arg; return true;
    case AOPT_RULES: o->rules = arg; return true;
    case AOPT_NOW: o->now = arg; return true;
    case AOPT_SIM_CLOCK: o->sim_clock = arg; return true;
    default: return false;
    }
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The reporting policy's defaults, for a portfolio without reporting.yaml. */
static void default_policy(om_policy *p)
{
    memset(p, 0, sizeof *p);
    p->gap_intervals = 10;
    p->poll_interval_s = 60;
    p->max_power_kw = 5000;
    p->max_flow_m3h = 100;
}

static int load_portfolio(alerts_env *env, const alerts_opts *o)
{
    const char *sites_dir = o->sites_dir ? o->sites_dir : env->cfg.sites_dir;
    om_agg_config where = {0};
    where.sites_dir = (char *)sites_dir;
    where.catalogue = (char *)(o->catalogue      ? o->catalogue
                               : env->have_cfg   ? env->cfg.catalogue
                                                 : OM_AGG_DEFAULT_CATALOGUE);
    char *policy = o->policy ? strdup(o->policy) : om_path_join(sites_dir, "reporting.yaml");
    char *rules = o->rules ? strdup(o->rules) : om_path_join(sites_dir, "alerts.yaml");
    om_diag diag;
    om_diag_init(&diag);
    int rc = -1;
    if (!policy || !rules)
        goto done;
    rc = om_agg_sites_load(&where, &env->sites, &diag);
    env->have_sites = true;
    if (o->policy || exists(policy)) {
        rc |= om_policy_load(policy, NULL, &env->policy, &diag);
        env->have_policy = true;
    } else {
        default_policy(&env->policy);
    }
    if (o->rules || exists(rules))
        rc |= om_alert_policy_load(rules, env->sites.sites, env->sites.nsites, &env->rules, &diag);
    else
        om_alert_policy_builtin(&env->rules);
    env->have_rules = true;
done:
    om_diag_print(&diag, stderr);
    if (rc < 0)
        fprintf(stderr, "officemeter %s: %s\n", env->cmd,
                om_diag_count(&diag) ? "fix the files above first; nothing was evaluated"
                                     : "out of memory");
    om_diag_free(&diag);
    free(policy);
    free(rules);
    return rc < 0 ? -1 : 0;
}

static int set_clock(alerts_env *env, const alerts_opts *o)
{
    if (o->now && o->sim_clock) {
        fprintf(stderr, "officemeter %s: --now and --sim-clock exclude each other\n", env->cmd);
        return 2;
    }
    if (o->now && om_parse_iso8601(o->now, &env->fixed_now) < 0) {
        fprintf(stderr, "officemeter %s: --now: invalid timestamp (got \"%s\", expected "
                        "YYYY-MM-DDTHH:MM:SSZ)\n", env->cmd, o->now);
        return 2;
    }
    if (o->sim_clock) {
        char err[512];
        if (om_sim_clock_load(o->sim_clock, &env->simclock, err, sizeof err) < 0) {
            fprintf(stderr, "officemeter %s: --sim-clock: %s\n", env->cmd, err);
            return 1;
        }
        env->sim = true;
    }
    return 0;
}

int alerts_env_open(alerts_env *env, const char *cmd, const alerts_opts *o, unsigned flags)
{
    memset(env, 0, sizeof *env);
    env->cmd = cmd;
    int rc = set_clock(env, o);
    if (rc != 0)
        return rc;
    if (!o->db && !o->config) {
        fprintf(stderr, "officemeter %s: give --config FILE (or --db FILE)\n", cmd);
        return 2;
    }
    if ((flags & ALERTS_PORTFOLIO) && !o->config && !o->sites_dir) {
        fprintf(stderr, "officemeter %s: give --sites DIR (or --config FILE with sites_dir)\n",
                cmd);
        return 2;
    }
    /* The files first: their errors are reported whatever the database. */
    if (o->config) {
        om_diag diag;
        om_diag_init(&diag);
        int bad = om_agg_config_load(o->config, &env->cfg, &diag) < 0;
        env->have_cfg = true;
        om_diag_print(&diag, stderr);
        om_diag_free(&diag);
        if (bad)
            return 1;
    }
    if ((flags & ALERTS_PORTFOLIO) && load_portfolio(env, o) < 0)
        return 1;
    unsigned sflags = (flags & ALERTS_WRITE) ? 0 : OM_STORE_READONLY;
    om_agg_config unused;
    bool none;
    env->st = om_cli_open_store(cmd, o->db ? o->db : env->cfg.database, NULL, sflags, &unused, &none);
    if (!env->st)
        return 1;
    char err[1024];
    bool missing = false;
    env->db = om_alertdb_open(env->st, &missing, err, sizeof err);
    if (!env->db && !missing) {
        fprintf(stderr, "officemeter %s: %s\n", cmd, err);
        return 1;
    }
    return 0;
}

void alerts_env_close(alerts_env *env)
{
    om_alertdb_close(env->db);
    om_store_close(env->st);
    if (env->have_sites)
        om_agg_sites_free(&env->sites);
    if (env->have_policy)
        om_policy_free(&env->policy);
    if (env->have_rules)
        om_alert_policy_free(&env->rules);
    if (env->have_cfg)
        om_agg_config_free(&env->cfg);
    memset(env, 0, sizeof *env);
}

int64_t alerts_env_now(const alerts_env *env)
{
    if (env->fixed_now)
        return env->fixed_now;
    if (env->sim)
        return om_sim_clock_now(&env->simclock);
    return om_wall_ms();
}

const char *alerts_who(const char *by, char *buf, size_t len)
{
    const char *who = by;
    if (!who || !*who)
        who = getenv("SUDO_USER");
    if (!who || !*who) {
        struct passwd *pw = getpwuid(getuid());
        who = pw ? pw->pw_name : NULL;
    }
    if (!who || !*who)
        who = getenv("USER");
    snprintf(buf, len, "%s", who && *who ? who : "unknown");
    return buf;
}
