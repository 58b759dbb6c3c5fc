/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention.c - `officemeter retention`: raw readings older than
 * retention_months thinned to what the monthly rollups need, on either
 * backend, without changing a rollup or a report (docs/methodology.md,
 * "Retention").
 *
 * Per site and UTC month, oldest first, once each:
 *   1. the site's local months around it are rolled up (and stored) from
 *      the full readings, as a report would;
 *   2. each declared meter's series is thinned on paper (report/retention.h:
 *      counters keep their month and night boundaries' neighbours, every
 *      event's readings and one reading per spacing; instantaneous values
 *      their lowest and highest per quarter hour);
 *   3. those local months are rolled up again from what would be left (a
 *      source that hides the readings to drop and counts them) and
 *      compared with the stored rows, field by field, event by event;
 *   4. only when all are equal is the period thinned, in one transaction
 *      per site and month. Otherwise its counters are kept whole (only
 *      instantaneous values thinned) and the comparison made again; a site
 *      month that still differs is left untouched and named (exit 1).
 * Readings of meters no site file declares are left alone.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"
#include "officemeter/report/retention.h"
#include "report_env.h"

#define NIGHT_END_S (5 * 3600)
#define DAY_MS 86400000LL

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter retention (--config FILE | --db DB --sites DIR) [--months N]\n"
            "                             [--dry-run] [options]\n"
            "\n"
            "Thins the raw readings of every UTC month that ended more than N months ago to\n"
            "what the monthly rollups need: counters keep the readings around month and night\n"
            "boundaries and events and one reading per quarter hour (at most the policy's\n"
            "gap threshold apart); power, flow and voltages keep their lowest and highest\n"
            "reading of each quarter hour. Each site's month is thinned only after its\n"
            "rollups, recomputed from what would be left, equal the stored ones: reports of\n"
            "old years stay the same. Works on SQLite and PostgreSQL; run it after the\n"
            "monthly rollup. Method: docs/methodology.md, \"Retention\".\n"
            "\n"
            "  --months N        keep raw readings for N months (default: the config's\n"
            "                    retention_months; 0: keep everything)\n"
            "  --dry-run         compute and check, change nothing\n" OM_ENV_USAGE);
}

/* ---- a site's series in a month, and what to drop of them ----------------------- */

typedef struct {
    const om_meter *meter;
    om_quantity quantity;
    int64_t *drop; /* ascending */
    size_t ndrop, cap;
    size_t kept;
} series;

typedef struct {
    series *s;
    size_t n, cap;
} plan;

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->s[i].drop);
    free(p->s);
    memset(p, 0, sizeof *p);
}

static const series *plan_find(const plan *p, const om_meter *m, om_quantity q)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->s[i].meter == m && p->s[i].quantity == q)
            return &p->s[i];
    return NULL;
}

static bool dropped(const series *s, int64_t t)
{
    size_t lo = 0, hi = s ? s->ndrop : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->drop[mid] == t)
            return true;
        if (s->drop[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Readings of a series in [from, to) (om_store_readings' callback). */
typedef struct {
    om_sample *v;
    size_t n, cap;
    bool oom;
} samples;

static int collect(int64_t t, double v, void *user)
{
    samples *s = user;
    om_sample *grown = om_grow(s->v, &s->cap, s->n, sizeof *grown);
    if (!grown) {
        s->oom = true;
        return 1;
    }
    s->v = grown;
    s->v[s->n++] = (om_sample){t, v};
    return 0;
}

/* ---- the source that hides what the plan drops -------------------------------------- */

typedef struct {
    om_rollup_source db; /* the database's source */
    om_store *st;
    const plan *p;
} view;

static int view_counter(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                        int64_t a, int64_t b, unsigned context, om_sample **out, size_t *n)
{
    view *v = user;
    const series *s = plan_find(v->p, meter, q);
    /* Enough context that `context` readings are left on each side. */
    unsigned more = s ? (unsigned)(s->ndrop < 100000 ? s->ndrop : 100000) : 0;
    om_sample *all;
    size_t nall;
    if (v->db.counter(v->db.user, site, meter, q, a, b, context + more, &all, &nall) < 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < nall; i++)
        if (!dropped(s, all[i].t))
            all[k++] = all[i];
    /* Trim the context back to `context` readings on each side. */
    size_t first = 0, last = k;
    size_t before = 0, after = 0;
    for (size_t i = 0; i < k; i++) {
        before += all[i].t < a;
        after += all[i].t >= b;
    }
    if (before > context)
        first = before - context;
    if (after > context)
        last = k - (after - context);
    if (first > 0) /* (no readings: there may be no array at all) */
        memmove(all, all + first, (last - first) * sizeof *all);
    *out = all;
    *n = last - first;
    return 0;
}

static int view_rates(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                      int64_t a, int64_t b, double *min, double *max)
{
    view *v = user;
    const series *s = plan_find(v->p, meter, q);
    if (!s)
        return v->db.rates(v->db.user, site, meter, q, a, b, min, max);
    samples all = {0};
    if (om_store_readings(v->st, site->site, meter->id, q, a, b, collect, &all) < 0 || all.oom) {
        free(all.v);
        return -1;
    }
    *min = *max = NAN;
    for (size_t i = 0; i < all.n; i++) {
        if (dropped(s, all.v[i].t))
            continue;
        if (isnan(*min) || all.v[i].v < *min)
            *min = all.v[i].v;
        if (isnan(*max) || all.v[i].v > *max)
            *max = all.v[i].v;
    }
    free(all.v);
    return 0;
}

static int view_thinned(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                        int64_t a, int64_t b, uint64_t *n)
{
    view *v = user;
    if (v->db.thinned(v->db.user, site, meter, q, a, b, n) < 0)
        return -1;
    const series *s = plan_find(v->p, meter, q);
    for (size_t i = 0; s && i < s->ndrop; i++)
        *n += s->drop[i] >= a && s->drop[i] < b;
    return 0;
}

/* ---- planning a site's month ------------------------------------------------------------ */

/* A meter-month whose readings digest the thinning changes, with the
 * digest of what will be left (written with the thinning: om_retain_digest). */
typedef struct {
    char meter[OM_ID_MAX];
    om_quantity quantity;
    int year;
    unsigned month;
    char sha256[OM_SHA256_HEX];
} new_digest;

typedef struct {
    om_env *env;
    bool keep_counters; /* the fallback: thin instantaneous values only */
    new_digest *digests; /* of the months checked, those that change */
    size_t ndigests, digests_cap;
} job;

/* The local month and night boundaries of the site in [from, to]. */
static int anchors_of(const om_site *site, int64_t from, int64_t to, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int year;
    unsigned month;
    if (om_month_of(site->timezone, from - DAY_MS, &year, &month) < 0)
        return -1;
    int32_t day = om_days_from_civil(year, month, 1);
    for (;; day++) {
        int64_t midnight, morning;
        if (om_tz_local_to_utc(site->timezone, day, 0, &midnight) < 0 ||
            om_tz_local_to_utc(site->timezone, day, NIGHT_END_S, &morning) < 0)
            return -1;
        if (midnight > to + DAY_MS)
            return 0;
        /* Every midnight is a night's start (and every first one a month's). */
        for (int k = 0; k < 2; k++) {
            int64_t *grown = om_grow(*out, &cap, *n, sizeof *grown);
            if (!grown)
                return -1;
            *out = grown;
            (*out)[(*n)++] = k ? morning : midnight;
        }
    }
}

static int plan_series(job *j, plan *p, const om_site *site, const om_meter *m, om_quantity q,
                       int64_t from, int64_t to, const int64_t *anchors, size_t nanchors)
{
    om_env *env = j->env;
    bool counter = om_quantity_get(q)->kind == OM_KIND_COUNTER;
    if (counter && j->keep_counters)
        return 0;
    samples s = {0};
    om_rollup_source src;
    om_rollupdb_source(env->db, &src);
    int rc;
    if (counter) {
        om_sample *v;
        size_t n;
        rc = src.counter(src.user, site, m, q, from, to, OM_ROLLUP_CONTEXT, &v, &n);
        s.v = v;
        s.n = n;
    } else {
        rc = om_store_readings(env->st, site->site, m->id, q, from, to, collect, &s);
        rc = rc < 0 || s.oom ? -1 : 0;
    }
    if (rc < 0 || s.n == 0) {
        free(s.v);
        return rc;
    }
    bool *keep = calloc(s.n, sizeof *keep);
    if (!keep) {
        free(s.v);
        return -1;
    }
    if (counter) {
        om_counter_opts copts;
        om_counter_break *breaks;
        if (om_rollup_counter_opts(site, m, q, &env->pf.policy, &copts, &breaks) < 0) {
            free(keep);
            free(s.v);
            return -1;
        }
        int64_t spacing = OM_RETAIN_BUCKET_MS;
        int64_t gap = (int64_t)env->pf.policy.gap_intervals * env->pf.policy.poll_interval_s * 1000;
        if (gap > 0 && gap < spacing)
            spacing = gap;
        om_retain_opts o = {.from = from, .to = to, .max_spacing_ms = spacing,
                            .anchors = anchors, .nanchors = nanchors,
                            .neighbours = OM_ROLLUP_CONTEXT, .around_events = OM_ROLLUP_CONTEXT};
        rc = om_retain_counter(s.v, s.n, &copts, &o, keep);
        free(breaks);
    } else {
        om_retain_rates(s.v, s.n, from, to, OM_RETAIN_BUCKET_MS, keep);
    }
    series *grown = rc < 0 ? NULL : om_grow(p->s, &p->cap, p->n, sizeof *grown);
    if (grown) {
        p->s = grown;
        series *x = &p->s[p->n++];
        memset(x, 0, sizeof *x);
        x->meter = m;
        x->quantity = q;
        for (size_t i = 0; i < s.n && rc == 0; i++) {
            if (s.v[i].t < from || s.v[i].t >= to)
                continue;
            if (keep[i]) {
                x->kept++;
                continue;
            }
            int64_t *d = om_grow(x->drop, &x->cap, x->ndrop, sizeof *d);
            if (!d)
                rc = -1;
            else
                (x->drop = d)[x->ndrop++] = s.v[i].t;
        }
    } else {
        rc = -1;
    }
    free(keep);
    free(s.v);
    return rc;
}

static int plan_site(job *j, plan *p, const om_site *site, int64_t from, int64_t to)
{
    int64_t *anchors;
    size_t nanchors;
    if (anchors_of(site, from, to, &anchors, &nanchors) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < site->nmeters && rc == 0; i++)
        for (int q = 0; q < OM_Q__COUNT && rc == 0; q++)
            rc = plan_series(j, p, site, &site->meters[i], (om_quantity)q, from, to, anchors,
                             nanchors);
    free(anchors);
    return rc;
}

/* ---- checking: the rollups with and without the drops --------------------------------------- */

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool same_row(const om_meter_month *a, const om_meter_month *b)
{
    return strcmp(a->meter, b->meter) == 0 && a->quantity == b->quantity &&
           same_double(a->consumption, b->consumption) &&
           same_double(a->estimated, b->estimated) && a->expected_ms == b->expected_ms &&
           a->known_ms == b->known_ms && a->actual_ms == b->actual_ms &&
           a->nreadings == b->nreadings && same_double(a->rate_min, b->rate_min) &&
           same_double(a->rate_max, b->rate_max) && same_double(a->night_avg, b->night_avg) &&
           same_double(a->night_min, b->night_min) && a->nights == b->nights &&
           a->nevents == b->nevents && a->start_known == b->start_known &&
           a->end_known == b->end_known && a->provisional == b->provisional;
}

static bool same_event(const om_month_event *a, const om_month_event *b)
{
    return strcmp(a->meter, b->meter) == 0 && a->quantity == b->quantity &&
           a->ev.kind == b->ev.kind && a->ev.t == b->ev.t && a->ev.t_end == b->ev.t_end &&
           same_double(a->ev.before, b->ev.before) && same_double(a->ev.after, b->ev.after) &&
           same_double(a->ev.counted, b->ev.counted);
}

static int cmp_event(const void *x, const void *y)
{
    const om_month_event *a = x, *b = y;
    int c = strcmp(a->meter, b->meter);
    if (c)
        return c;
    if (a->quantity != b->quantity)
        return a->quantity < b->quantity ? -1 : 1;
    if (a->ev.t != b->ev.t)
        return a->ev.t < b->ev.t ? -1 : 1;
    return (int)a->ev.kind - (int)b->ev.kind;
}

/* The stored rows and events of one site month (month m of year y). */
static int stored(om_env *env, const om_site *site, int y, unsigned m, om_meter_month **rows,
                  size_t *nrows, om_month_event **events, size_t *nevents)
{
    om_meter_month *r = NULL;
    om_month_event *e = NULL;
    size_t nr = 0, ne = 0;
    if (om_rollupdb_load_year(env->db, site->site, y, &r, &nr, &e, &ne) < 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < nr; i++)
        if (r[i].month == m)
            r[k++] = r[i];
    *rows = r;
    *nrows = k;
    k = 0;
    for (size_t i = 0; i < ne; i++)
        if (e[i].month == m)
            e[k++] = e[i];
    *events = e;
    *nevents = k;
    return 0;
}

/* Notes the digests of `rows` (the month from the view) that differ from
 * the stored rows': what the month's stored digests must become. */
static int note_digests(job *j, const om_meter_month *rows, size_t nrows,
                        const om_meter_month *want, size_t nwant, int y, unsigned m)
{
    for (size_t i = 0; i < nrows; i++) {
        const om_meter_month *w = NULL;
        for (size_t k = 0; k < nwant && !w; k++)
            if (strcmp(want[k].meter, rows[i].meter) == 0 && want[k].quantity == rows[i].quantity)
                w = &want[k];
        if (!w || strcmp(w->readings_sha256, rows[i].readings_sha256) == 0)
            continue;
        new_digest *d = om_grow(j->digests, &j->digests_cap, j->ndigests, sizeof *d);
        if (!d)
            return -1;
        j->digests = d;
        d = &d[j->ndigests++];
        snprintf(d->meter, sizeof d->meter, "%s", rows[i].meter);
        d->quantity = rows[i].quantity;
        d->year = y;
        d->month = m;
        snprintf(d->sha256, sizeof d->sha256, "%s", rows[i].readings_sha256);
    }
    return 0;
}

/* 1: the month's rollup from the view equals the stored one (its changed
 * digests noted in j); 0: it differs (why: in diff); -1: an error. */
static int check_month(job *j, const om_site *site, int y, unsigned m, view *v, char *diff,
                       size_t difflen)
{
    om_env *env = j->env;
    om_rollup_source src = {view_counter, view_rates, v, view_thinned};
    om_meter_month *rows = NULL, *want = NULL;
    om_month_event *events = NULL, *want_ev = NULL;
    size_t nrows, nwant, nevents, nwant_ev;
    om_store_read_begin(env->st);
    int rc = om_rollup_site_month(site, &env->pf.policy, y, m, env->now, &src, &rows, &nrows,
                                  &events, &nevents);
    om_store_read_end(env->st);
    if (rc < 0 || stored(env, site, y, m, &want, &nwant, &want_ev, &nwant_ev) < 0) {
        rc = -1;
        goto done;
    }
    rc = 1;
    if (nrows != nwant) {
        snprintf(diff, difflen, "%zu meter rows instead of %zu", nrows, nwant);
        rc = 0;
    }
    for (size_t i = 0; rc == 1 && i < nrows; i++) {
        const om_meter_month *w = NULL;
        for (size_t k = 0; k < nwant && !w; k++)
            if (strcmp(want[k].meter, rows[i].meter) == 0 && want[k].quantity == rows[i].quantity)
                w = &want[k];
        if (!w || !same_row(&rows[i], w)) {
            snprintf(diff, difflen, "meter %s would change", rows[i].meter);
            rc = 0;
        }
    }
    if (rc == 1 && nevents != nwant_ev) {
        snprintf(diff, difflen, "%zu events instead of %zu", nevents, nwant_ev);
        rc = 0;
    }
    if (nevents > 1) /* none: there may be no array at all */
        qsort(events, nevents, sizeof *events, cmp_event);
    if (nwant_ev > 1)
        qsort(want_ev, nwant_ev, sizeof *want_ev, cmp_event);
    for (size_t i = 0; rc == 1 && i < nevents; i++)
        if (!same_event(&events[i], &want_ev[i])) {
            snprintf(diff, difflen, "an event of meter %s would change", events[i].meter);
            rc = 0;
        }
    if (rc == 1 && note_digests(j, rows, nrows, want, nwant, y, m) < 0) {
        fprintf(stderr, "officemeter retention: out of memory\n");
        rc = -1;
    }
done:
    free(rows);
    free(events);
    free(want);
    free(want_ev);
    return rc;
}

/* Months further back than this are not looked at for digests to refresh
 * (ten years: an office's data does not start earlier than its meters). */
#define MAX_MONTHS_BACK 120

/* One ended month (rolled up first when it is not stored and current):
 * 1 unchanged, 0 it would change (why: in diff), -1 an error. */
static int check_one(job *j, const om_site *site, int y, unsigned m, view *v, char *diff,
                     size_t difflen)
{
    bool ran;
    if (om_env_ensure(j->env, site, y, m, &ran) < 0)
        return -1;
    int ok = check_month(j, site, y, m, v, diff, difflen);
    if (ok == 0) {
        char month[32];
        snprintf(month, sizeof month, " in %04d-%02u", y, m);
        size_t used = strlen(diff);
        snprintf(diff + used, difflen - used, "%s", month);
    }
    return ok;
}

/* The site's local months that [from, to) touches, and one on each side
 * (whose rollup reads a few readings across its boundary); then, going
 * back, the months whose readings digest still changes: a month without
 * readings reads the first OM_ROLLUP_CONTEXT readings after its end, which
 * may be in the period (the months before a site's first data), until a
 * month whose digests stay. Checks each ended month. */
static int check_site(job *j, const om_site *site, int64_t from, int64_t to, const plan *p,
                      char *diff, size_t difflen)
{
    om_env *env = j->env;
    view v = {.st = env->st, .p = p};
    om_rollupdb_source(env->db, &v.db);
    int y0;
    unsigned m0;
    if (om_month_of(site->timezone, from, &y0, &m0) < 0)
        return -1;
    if (--m0 == 0) {
        m0 = 12;
        y0--;
    }
    int y = y0;
    unsigned m = m0;
    for (;;) {
        int64_t start, end;
        if (om_month_bounds(site->timezone, y, m, &start, &end) < 0)
            return -1;
        if (start > to)
            break;
        int ok = end <= env->now ? check_one(j, site, y, m, &v, diff, difflen) : 1;
        if (ok <= 0)
            return ok;
        if (++m == 13) {
            m = 1;
            y++;
        }
    }
    for (int back = 0; back < MAX_MONTHS_BACK; back++) {
        if (--m0 == 0) {
            m0 = 12;
            y0--;
        }
        size_t noted = j->ndigests;
        int ok = check_one(j, site, y0, m0, &v, diff, difflen);
        if (ok <= 0)
            return ok;
        if (j->ndigests == noted)
            break;
    }
    return 1;
}

/* ---- a site's month --------------------------------------------------------------------------- */

static int thin_with(job *j, const om_site *site, int64_t from, int64_t to, bool dry_run,
                     uint64_t *kept_total, uint64_t *dropped_total)
{
    om_env *env = j->env;
    char when[32];
    om_format_iso8601(from, when, sizeof when);
    when[7] = '\0';
    for (int attempt = 0; attempt < 2; attempt++) {
        j->keep_counters = attempt == 1;
        j->ndigests = 0;
        plan p = {0};
        char diff[256] = "";
        int ok = plan_site(j, &p, site, from, to) < 0 ? -1 : check_site(j, site, from, to, &p,
                                                                          diff, sizeof diff);
        if (ok < 0) {
            fprintf(stderr, "officemeter retention: %s %s: %s\n", site->site, when,
                    om_rollupdb_errmsg(env->db)[0] ? om_rollupdb_errmsg(env->db)
                                                   : om_store_errmsg(env->st));
            plan_free(&p);
            return -1;
        }
        if (ok == 0) {
            printf("%s %s: %s; %s\n", site->site, when, diff,
                   attempt ? "left untouched" : "keeping its counters whole");
            plan_free(&p);
            continue;
        }
        uint64_t kept = 0, dropped = 0;
        om_retain_series *rs = calloc(p.n ? p.n : 1, sizeof *rs);
        for (size_t i = 0; rs && i < p.n; i++) {
            rs[i] = (om_retain_series){p.s[i].meter->id, p.s[i].quantity, p.s[i].drop,
                                       p.s[i].ndrop,
                                       om_quantity_get(p.s[i].quantity)->kind == OM_KIND_COUNTER};
            kept += p.s[i].kept;
            dropped += p.s[i].ndrop;
        }
        om_retain_digest *ds = calloc(j->ndigests ? j->ndigests : 1, sizeof *ds);
        for (size_t i = 0; ds && i < j->ndigests; i++)
            ds[i] = (om_retain_digest){j->digests[i].meter, j->digests[i].quantity,
                                       j->digests[i].year, j->digests[i].month,
                                       j->digests[i].sha256};
        int rc = 0;
        if (!rs || !ds)
            rc = -1;
        else if (!dry_run && om_rollupdb_thin(env->db, site->site, from, to, rs, p.n, ds,
                                              j->ndigests, kept, env->now) < 0) {
            fprintf(stderr, "officemeter retention: %s %s: %s\n", site->site, when,
                    om_rollupdb_errmsg(env->db));
            rc = -1;
        }
        if (rc == 0)
            printf("%s %s: %s %" PRIu64 " of %" PRIu64 " readings, kept %" PRIu64
                   "; its rollups checked unchanged\n", site->site, when,
                   dry_run ? "would drop" : "dropped", dropped, dropped + kept, kept);
        *kept_total += kept;
        *dropped_total += dropped;
        free(rs);
        free(ds);
        plan_free(&p);
        return rc;
    }
    return 1; /* left untouched */
}

/* One site's period [from, to): thinned if its rollups stay the same; 1
 * when it was left untouched. */
static int thin_site_month(om_env *env, const om_site *site, int64_t from, int64_t to,
                           bool dry_run, uint64_t *kept_total, uint64_t *dropped_total)
{
    job j = {.env = env};
    int rc = thin_with(&j, site, from, to, dry_run, kept_total, dropped_total);
    free(j.digests);
    return rc;
}

/* The UTC month index (year * 12 + month - 1) of t. */
static int64_t utc_month(int64_t t)
{
    int y;
    unsigned m, d;
    om_civil_from_days((int32_t)(t / DAY_MS), &y, &m, &d);
    return (int64_t)y * 12 + m - 1;
}

static int64_t utc_month_start(int64_t index)
{
    return (int64_t)om_days_from_civil((int)(index / 12), (unsigned)(index % 12) + 1, 1) * DAY_MS;
}

static int run(om_env *env, const om_env_opts *eo, unsigned months, bool dry_run)
{
    om_store_meter_row *meters;
    size_t nmeters;
    if (om_store_meters(env->st, &meters, &nmeters) < 0) {
        fprintf(stderr, "officemeter retention: %s\n", om_store_errmsg(env->st));
        return 1;
    }
    int64_t cutoff = utc_month(env->now) - months; /* months before this one are thinned */
    int failures = 0, untouched = 0;
    uint64_t kept = 0, dropped = 0;
    for (size_t i = 0; i < env->pf.sites.nsites && failures == 0; i++) {
        const om_site *site = &env->pf.sites.sites[i];
        if (!om_env_wants(env, eo, site))
            continue;
        int64_t first = 0;
        for (size_t k = 0; k < nmeters; k++)
            if (strcmp(meters[k].site, site->site) == 0 && meters[k].first_t > 0 &&
                (first == 0 || meters[k].first_t < first))
                first = meters[k].first_t;
        for (int64_t m = first ? utc_month(first) : cutoff; m < cutoff && failures == 0; m++) {
            int64_t from = utc_month_start(m), to = utc_month_start(m + 1);
            bool done;
            if (om_rollupdb_thinned(env->db, site->site, from, &done) < 0) {
                fprintf(stderr, "officemeter retention: %s\n", om_rollupdb_errmsg(env->db));
                failures++;
                break;
            }
            if (done)
                continue;
            int rc = thin_site_month(env, site, from, to, dry_run, &kept, &dropped);
            failures += rc < 0;
            untouched += rc > 0;
        }
    }
    free(meters);
    printf("%s%" PRIu64 " readings dropped, %" PRIu64 " kept%s\n", dry_run ? "dry run: " : "",
           dropped, kept, untouched ? "; some site months left untouched (above)" : "");
    return failures || untouched ? 1 : 0;
}

int om_cmd_retention(int argc, char **argv)
{
    static const struct option opts[] = {{"months", required_argument, NULL, 'm'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    const char *months_text = NULL;
    bool dry_run = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:nh", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'm': months_text = optarg; break;
        case 'n': dry_run = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "officemeter retention: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    long months = -1;
    if (months_text) {
        char *end;
        months = strtol(months_text, &end, 10);
        if (end == months_text || *end || months < 0 || months > 1200) {
            fprintf(stderr, "officemeter retention: --months: invalid (got \"%s\", expected 0 "
                            "to 1200)\n", months_text);
            return 2;
        }
    }
    om_env env;
    int rc = om_env_open(&env, "retention", &eo);
    if (rc == 0) {
        if (months < 0)
            months = env.have_cfg ? (long)env.cfg.retention_months : 0;
        if (months == 0) {
            printf("retention is off (retention_months: 0): every reading is kept\n");
        } else {
            rc = run(&env, &eo, (unsigned)months, dry_run);
        }
    }
    om_env_close(&env);
    return rc;
}
