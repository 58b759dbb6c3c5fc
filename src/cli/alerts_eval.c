/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_eval.c - one evaluation cycle: every rule of every site, each site
 * in one transaction.
 *
 * Sites are written in groups: each site inside a savepoint (kept or undone
 * as a whole: a site that fails leaves the others' work), a group committed
 * once it has held the write lock for GROUP_MS, so that a cycle costs a few
 * fsyncs, not one per site, and the aggregator never waits on us long.
 *
 * Per site, the gateway rules run first, so that meter_stale knows which
 * gateways are down (a gateway offline says it for all its meters: their
 * own staleness is not raised again). Per meter, the readings are fetched
 * once for all its data-time rules, from the earliest period any of them
 * is due to judge, and turned into the counter curve with the rollup's own
 * options (report/rollup.h), so counter_anomaly sees the same events as
 * the month's rollup. A rule's transitions, its alerts' changes (each with
 * the body to deliver) and its new state are written together; an open
 * alert whose rule no longer runs (a meter removed, a rule turned off) is
 * resolved.
 */
#include "alerts_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/alerts/record.h"
#include "officemeter/alerts/rules.h"
#include "officemeter/base/clock.h"
#include "officemeter/report/rollup.h"

/* The longest a group of sites holds the database's write lock. */
#define GROUP_MS 50

typedef struct {
    alerts_env *env;
    const om_site *site;
    om_alert_calendar cal;
    int64_t now, recorded;
    om_alert_record *open; /* the site's open alerts at the start */
    bool *touched;         /* ... whose rule ran this cycle */
    size_t nopen;
    alerts_cycle_stats *stats;
} site_run;

static int db_fail(site_run *r)
{
    fprintf(stderr, "officemeter %s: %s\n", r->env->cmd, om_alertdb_errmsg(r->env->db));
    return -1;
}

static void touch(site_run *r, om_alert_rule rule, const char *subject)
{
    for (size_t i = 0; i < r->nopen; i++)
        if (r->open[i].rule == rule && strcmp(r->open[i].subject, subject) == 0)
            r->touched[i] = true;
}

static int record_fire(site_run *r, const om_alert_job *job, const char *subject, bool gateway,
                       const om_alert_transition *t)
{
    om_alertdb *db = r->env->db;
    om_alert_record a = {0};
    snprintf(a.site, sizeof a.site, "%s", r->site->site);
    a.rule = job->rule;
    snprintf(a.subject, sizeof a.subject, "%s", subject);
    a.gateway = gateway;
    a.severity = job->set->severity;
    a.fired_at = t->t;
    a.detected_at = r->now;
    snprintf(a.summary, sizeof a.summary, "%s", t->summary);
    a.evidence = t->evidence;
    int64_t id, until;
    if (om_alertdb_insert(db, &a, &id) < 0 ||
        om_alertdb_silenced_until(db, r->site->site, subject, job->rule, r->now, &until) < 0 ||
        om_alertdb_change(db, id, OM_CHANGE_FIRED, t->t, r->recorded, NULL, NULL, until == 0,
                          r->now, NULL) < 0)
        return db_fail(r);
    r->stats->fired++;
    return 0;
}

static int record_resolve(site_run *r, om_alert_rule rule, const char *subject, int64_t at,
                          const char *summary, const char *evidence)
{
    om_alertdb *db = r->env->db;
    om_alert_record a;
    int found = om_alertdb_find_open(db, r->site->site, rule, subject, &a);
    if (found < 0)
        return db_fail(r);
    if (found == 0)
        return 0; /* nothing open: the state and the table agree again */
    int64_t until;
    int rc = om_alertdb_resolve(db, a.id, at, r->now, summary, evidence) < 0 ||
                     om_alertdb_silenced_until(db, r->site->site, subject, rule, r->now, &until) < 0 ||
                     om_alertdb_change(db, a.id, OM_CHANGE_RESOLVED, at, r->recorded, NULL, NULL,
                                       until == 0, r->now, NULL) < 0
                 ? db_fail(r)
                 : 0;
    om_alert_record_free(&a);
    if (rc == 0)
        r->stats->resolved++;
    return rc;
}

/* Runs one rule for one subject: state in, transitions recorded, state out. */
static int run_rule(site_run *r, om_alert_job *job, const char *subject, bool gateway)
{
    om_alertdb *db = r->env->db;
    om_alert_state state;
    bool found;
    if (om_alertdb_state_get(db, r->site->site, job->rule, subject, &state, &found) < 0)
        return db_fail(r);
    om_alert_transitions tr = {0};
    if (om_alert_evaluate(job, &state, &tr) < 0) {
        fprintf(stderr, "officemeter %s: %s/%s %s: %s\n", r->env->cmd, r->site->site, subject,
                om_alert_rule_name(job->rule), strerror(errno));
        om_alert_transitions_free(&tr);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < tr.n; i++)
        rc = tr.items[i].kind == OM_ALERT_FIRE
                 ? record_fire(r, job, subject, gateway, &tr.items[i])
                 : record_resolve(r, job->rule, subject, tr.items[i].t, tr.items[i].summary,
                                  tr.items[i].evidence);
    om_alert_transitions_free(&tr);
    if (rc == 0 && om_alertdb_state_put(db, r->site->site, job->rule, subject, &state, r->now) < 0)
        rc = db_fail(r);
    touch(r, job->rule, subject);
    r->stats->rules_run++;
    return rc;
}

static bool gateway_down(site_run *r, const char *gateway)
{
    om_alert_record a;
    int found = om_alertdb_find_open(r->env->db, r->site->site, OM_ALERT_GATEWAY_OFFLINE, gateway,
                                     &a);
    if (found > 0)
        om_alert_record_free(&a);
    return found > 0;
}

static int run_gateway(site_run *r, const om_gateway *gw)
{
    om_alert_gateway_facts facts;
    if (om_alertdb_gateway_facts(r->env->db, r->site->site, gw->id, &facts) < 0)
        return db_fail(r);
    for (int k = 0; k < OM_ALERT__COUNT; k++) {
        om_alert_rule rule = (om_alert_rule)k;
        if (!om_alert_rule_is_gateway(rule))
            continue;
        om_alert_settings set;
        om_alert_settings_for(&r->env->rules, r->site, rule, gw->id, &set);
        if (!set.enabled)
            continue;
        om_alert_job job = {.rule = rule, .site = r->site, .gateway = gw->id, .set = &set,
                            .policy = &r->env->policy, .now = r->now, .gateway_facts = &facts};
        if (run_rule(r, &job, gw->id, true) < 0)
            return -1;
    }
    return 0;
}

/* The meter's utility counter as a curve from `from` on (plus context). */
static int load_series(site_run *r, const om_meter *m, int64_t from, om_counter **curve,
                       om_alert_series *series)
{
    om_quantity qs[2];
    om_rollup_quantities(r->site, m, qs);
    om_sample *samples;
    size_t n;
    if (om_alertdb_counter(r->env->db, r->site->site, m->id, qs[0], from, OM_ROLLUP_CONTEXT,
                           &samples, &n) < 0)
        return db_fail(r);
    om_counter_opts opts;
    om_counter_break *breaks;
    *curve = NULL;
    memset(series, 0, sizeof *series);
    int rc = 0;
    if (n > 0 && om_rollup_counter_opts(r->site, m, qs[0], &r->env->policy, &opts, &breaks) == 0) {
        *curve = om_counter_new(samples, n, &opts);
        free(breaks);
        if (!*curve) {
            fprintf(stderr, "officemeter %s: %s/%s: %s\n", r->env->cmd, r->site->site, m->id,
                    strerror(errno));
            rc = -1;
        } else {
            series->curve = *curve;
            series->data_end = samples[n - 1].t;
            /* An event is decided once the engine's look-ahead readings are in. */
            series->final_end = n > opts.lookahead ? samples[n - 1 - opts.lookahead].t
                                                   : samples[0].t - 1;
        }
    }
    free(samples);
    return rc;
}

static int run_meter(site_run *r, const om_meter *m)
{
    om_alert_meter_facts facts;
    if (om_alertdb_meter_facts(r->env->db, r->site->site, m->id, &facts) < 0)
        return db_fail(r);
    om_alert_settings set[OM_ALERT__COUNT];
    bool applies[OM_ALERT__COUNT] = {false};
    om_alert_job job[OM_ALERT__COUNT];
    int64_t from = INT64_MAX;
    bool down = gateway_down(r, m->gateway_id);
    for (int k = 0; k < OM_ALERT__COUNT; k++) {
        om_alert_rule rule = (om_alert_rule)k;
        if (!om_alert_meter_rule(&r->env->rules, r->site, m, rule, &set[k]))
            continue;
        applies[k] = true;
        job[k] = (om_alert_job){.rule = rule, .site = r->site, .meter = m, .set = &set[k],
                                .policy = &r->env->policy, .cal = &r->cal, .now = r->now,
                                .meter_facts = &facts, .gateway_down = down};
        if (!om_alert_rule_is_data_time(rule))
            continue;
        om_alert_state state;
        bool found;
        if (om_alertdb_state_get(r->env->db, r->site->site, rule, m->id, &state, &found) < 0)
            return db_fail(r);
        if (!om_alert_due(&job[k], &state, &facts)) {
            applies[k] = false; /* nothing new to judge: not even the state changes */
            touch(r, rule, m->id);
            continue;
        }
        int64_t need = om_alert_needs_from(&job[k], &state, &facts);
        if (need < from)
            from = need;
    }
    om_counter *curve = NULL;
    om_alert_series series = {0};
    if (from != INT64_MAX && load_series(r, m, from, &curve, &series) < 0)
        return -1;
    int rc = 0;
    for (int k = 0; rc == 0 && k < OM_ALERT__COUNT; k++) {
        if (!applies[k])
            continue;
        job[k].series = &series;
        rc = run_rule(r, &job[k], m->id, false);
    }
    om_counter_free(curve);
    return rc;
}

/* Open alerts whose rule did not run: resolved, saying why. */
static int sweep(site_run *r)
{
    for (size_t i = 0; i < r->nopen; i++) {
        if (r->touched[i])
            continue;
        const om_alert_record *a = &r->open[i];
        char summary[320];
        snprintf(summary, sizeof summary, "%s: no longer evaluated (not in the site file, out of "
                 "service or the rule turned off)", a->subject);
        if (record_resolve(r, a->rule, a->subject, r->now, summary, a->evidence) < 0)
            return -1;
        om_alert_state fresh = {0};
        if (om_alertdb_state_put(r->env->db, r->site->site, a->rule, a->subject, &fresh, r->now) < 0)
            return db_fail(r);
    }
    return 0;
}

/* One site, inside a savepoint of the open group. */
static int evaluate_site(alerts_env *env, const om_site *site, int64_t now,
                         alerts_cycle_stats *stats)
{
    site_run r = {.env = env, .site = site, .now = now, .recorded = om_wall_ms(), .stats = stats};
    om_alert_calendar_for(&env->rules, site->site, &r.cal);
    if (om_alertdb_savepoint(env->db) < 0)
        return db_fail(&r);
    om_alertdb_filter f = {.site = site->site, .open_only = true};
    int rc = om_alertdb_list(env->db, &f, now, &r.open, &r.nopen) < 0 ? db_fail(&r) : 0;
    if (rc == 0 && r.nopen && !(r.touched = calloc(r.nopen, sizeof *r.touched)))
        rc = -1;
    for (size_t g = 0; rc == 0 && g < site->ngateways; g++)
        rc = run_gateway(&r, &site->gateways[g]);
    for (size_t m = 0; rc == 0 && m < site->nmeters; m++)
        rc = run_meter(&r, &site->meters[m]);
    if (rc == 0)
        rc = sweep(&r);
    om_alert_records_free(r.open, r.nopen);
    free(r.touched);
    if (rc == 0 && om_alertdb_release(env->db) < 0)
        rc = db_fail(&r);
    if (rc < 0) {
        om_alertdb_rollback_to(env->db);
        fprintf(stderr, "officemeter %s: site %s left as it was; the next cycle tries again\n",
                env->cmd, site->site);
    }
    stats->sites++;
    return rc;
}

static int group_begin(alerts_env *env, int64_t *since)
{
    *since = om_mono_ms();
    if (om_store_begin(env->st) == 0)
        return 0;
    fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_store_errmsg(env->st));
    return -1;
}

static int group_commit(alerts_env *env)
{
    if (om_store_commit(env->st) == 0)
        return 0;
    fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_store_errmsg(env->st));
    om_store_rollback(env->st);
    return -1;
}

int alerts_evaluate(alerts_env *env, int64_t now, alerts_cycle_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    int64_t t0 = om_mono_us(), since;
    int rc = 0, failed = 0;
    if (group_begin(env, &since) < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < env->sites.nsites; i++) {
        failed += evaluate_site(env, &env->sites.sites[i], now, stats) < 0;
        if (om_mono_ms() - since >= GROUP_MS && (rc = group_commit(env)) == 0)
            rc = group_begin(env, &since);
    }
    if (rc == 0 && (om_alertdb_savepoint(env->db) < 0 ||
                    om_alertdb_silences_end(env->db, now, om_wall_ms()) < 0 ||
                    om_alertdb_release(env->db) < 0)) {
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, om_alertdb_errmsg(env->db));
        om_alertdb_rollback_to(env->db);
        failed++;
    }
    if (rc == 0)
        rc = group_commit(env);
    stats->busy_us = om_mono_us() - t0;
    stats->failed = (unsigned)failed;
    return rc;
}
