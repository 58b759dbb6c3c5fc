/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_env.c - the portfolio and the database for `rollup` and `report`,
 * and the rule for when a stored month must be computed again.
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

/* The bills (bills.h) and what the policy says of sites: every bill file
 * names a site of the portfolio, and no day is billed twice. */
static int load_bills(om_env *env, const om_env_opts *o, om_diag *diag)
{
    size_t before = om_diag_count(diag);
    char *folder = o->bills ? strdup(o->bills) : om_policy_bills_folder(&env->policy);
    if (!folder)
        return -1;
    struct stat st;
    if (o->bills && (stat(folder, &st) < 0 || !S_ISDIR(st.st_mode)))
        om_diag_add(diag, folder, 0, 0, "--bills", "not a folder");
    else
        om_bills_load_dir(folder, &env->bills, diag);
    free(folder);
    om_bills_check_sites(&env->bills, env->sites.sites, env->sites.nsites, diag);
    if (!o->bills_may_overlap)
        om_bills_check_overlaps(&env->bills, diag);
    om_policy_check_sites(&env->policy, env->sites.sites, env->sites.nsites, diag);
    return om_diag_count(diag) == before ? 0 : -1;
}

static int load_files(om_env *env, const om_env_opts *o, const char *sites_dir)
{
    om_agg_config where = {0};
    where.sites_dir = (char *)sites_dir;
    where.catalogue = (char *)(o->catalogue          ? o->catalogue
                               : env->have_cfg       ? env->cfg.catalogue
                                                     : OM_AGG_DEFAULT_CATALOGUE);
    char *factors = o->factors ? strdup(o->factors)
                               : om_path_join(sites_dir, "emission-factors.yaml");
    char *policy = o->policy ? strdup(o->policy) : om_path_join(sites_dir, "reporting.yaml");
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_agg_sites_load(&where, &env->sites, &diag);
    if (factors && policy) {
        rc |= om_factors_load(factors, &env->factors, &diag);
        rc |= om_policy_load(policy, &env->factors, &env->policy, &diag);
    } else {
        rc = -1;
    }
    if (rc == 0)
        rc = load_bills(env, o, &diag);
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
    om_agg_sites_free(&env->sites);
    om_bills_free(&env->bills);
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

/* True when the readings behind a stored month are not those it was
 * computed from: a digest differs, or a meter-month appeared or went. */
static int readings_changed(om_env *env, const om_site *site, int year, unsigned month,
                            const om_meter_month *stored, size_t nstored, bool *changed)
{
    om_rollup_source src;
    om_rollupdb_source(env->db, &src);
    om_readings_digest *now;
    size_t nnow;
    om_store_read_begin(env->st);
    int rc = om_rollup_site_digests(site, year, month, &src, &now, &nnow);
    om_store_read_end(env->st);
    if (rc < 0) {
        fprintf(stderr, "officemeter %s: %s %04d-%02u: %s\n", env->cmd, site->site, year, month,
                om_rollupdb_errmsg(env->db));
        return -1;
    }
    size_t mine = 0;
    *changed = false;
    for (size_t i = 0; i < nstored; i++) {
        const om_meter_month *m = &stored[i];
        if (m->month != month)
            continue;
        mine++;
        bool same = false;
        for (size_t k = 0; k < nnow && !same; k++)
            same = now[k].quantity == m->quantity && strcmp(now[k].meter, m->meter) == 0 &&
                   strcmp(now[k].sha256, m->readings_sha256) == 0;
        *changed |= !same;
    }
    *changed |= mine != nnow;
    free(now);
    return 0;
}

/* One site's year: each month ensured (and verified), then loaded. */
static int load_site_year(om_env *env, const om_site *site, int year, bool events, bool recompute,
                          bool verify, om_env_rollups *out, size_t *computed, char *changed,
                          size_t changed_len)
{
    om_meter_month *stored = NULL;
    size_t nstored = 0;
    if (verify && !recompute &&
        om_rollupdb_load_year(env->db, site->site, year, &stored, &nstored, NULL, NULL) < 0) {
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_rollupdb_errmsg(env->db));
        return -1;
    }
    int rc = 0;
    for (unsigned m = 1; m <= 12 && rc == 0; m++) {
        bool ran = false;
        if (recompute) {
            ran = true;
            rc = om_env_rollup(env, site, year, m);
        } else {
            rc = om_env_ensure(env, site, year, m, &ran);
        }
        bool moved = false;
        if (rc == 0 && verify && !ran && nstored > 0)
            rc = readings_changed(env, site, year, m, stored, nstored, &moved);
        if (rc == 0 && moved) {
            size_t len = strlen(changed);
            snprintf(changed + len, changed_len - len, "%s%s %04d-%02u", len ? ", " : "",
                     site->site, year, m);
            ran = true;
            rc = om_env_rollup(env, site, year, m);
        }
        *computed += ran;
    }
    free(stored);
    if (rc == 0 && om_rollupdb_load_year(env->db, site->site, year, &out->rows, &out->nrows,
                                         events ? &out->events : NULL,
                                         events ? &out->nevents : NULL) < 0) {
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_rollupdb_errmsg(env->db));
        return -1;
    }
    return rc;
}

int om_env_load(om_env *env, const om_env_opts *o, const int *years, size_t nyears,
                int events_year, bool recompute, bool verify, om_env_rollups *out)
{
    memset(out, 0, sizeof *out);
    size_t computed = 0;
    char changed[1024] = "";
    for (size_t i = 0; i < env->sites.nsites; i++) {
        const om_site *site = &env->sites.sites[i];
        if (!om_env_wants(env, o, site))
            continue;
        for (size_t k = 0; k < nyears; k++)
            if (load_site_year(env, site, years[k], years[k] == events_year, recompute, verify,
                               out, &computed, changed, sizeof changed) < 0)
                return -1;
    }
    if (changed[0])
        fprintf(stderr, "officemeter %s: readings changed since these months were computed "
                        "(late or corrected data): %s\n", env->cmd, changed);
    if (computed)
        fprintf(stderr, "officemeter %s: rolled up %zu site-months first\n", env->cmd, computed);
    return 0;
}

void om_env_rollups_free(om_env_rollups *r)
{
    free(r->rows);
    free(r->events);
    memset(r, 0, sizeof *r);
}
