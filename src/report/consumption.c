/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consumption.c - the clean cumulative curve of a counter, and periods of it.
 *
 * om_counter_new walks the readings once, oldest first, keeping the last
 * accepted reading ("prev": its raw value and its place on the curve, u).
 * Each next reading is one step, classified in this order:
 *
 *   step up, within the plausible rate ......... normal: u += step
 *   step up, too steep, a later reading within
 *     `lookahead` is back in line with prev .... glitch (spike): skipped
 *   step up, too steep, persists ............... jump: new segment, 0 counted
 *   step down, a later reading within
 *     `lookahead` is back in line with prev .... glitch (momentary 0 or dip): skipped
 *   step down across the counter width,
 *     plausible as a wrap ...................... wrap: u += width - prev + value
 *   step down with nothing after it yet ........ unconfirmed: skipped for now
 *   step down to near zero ..................... reset: new segment, u += value
 *   any other step down ........................ backstep: new segment, 0 counted
 *
 * A replacement from the site file ends the old segment at old_final (a
 * point on the curve at `at`) and starts the new one at new_initial. Gaps
 * are intervals between consecutive points longer than gap_intervals
 * readings; they stay on the curve (linear interpolation) but what falls in
 * them is "estimated". Events are kept in time order.
 */
#include "officemeter/report/consumption.h"
#include "officemeter/base/array.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct om_counter {
    int64_t *t; /* curve points: strictly increasing time */
    double *u;  /* cumulative consumption, non-decreasing */
    size_t n;
    size_t cap;
    size_t *gaps; /* index k: the interval (k, k+1) is a gap */
    size_t ngaps;
    om_counter_event *events;
    size_t nevents;
    size_t evcap;
    om_counter_opts opts;
};

/* The walk's state: the last accepted reading or break, and where the
 * current straight run of normal steps began. A normal step's place on the
 * curve is base_u + (v - base_v), not the previous place plus the step:
 * the same number whichever readings of the run lie between (retention
 * drops some of them, retention.h), and no rounding piles up over a run of
 * a year of readings. */
typedef struct {
    bool have;
    int64_t t;
    double v; /* raw counter value */
    double u; /* its place on the curve */
    bool is_reading;
    double base_v, base_u;
} walk_prev;

static const char *const event_names[OM_CEV__COUNT] = {
    "glitch", "wrap", "reset", "backstep", "jump", "replacement", "gap", "conflict", "unconfirmed",
};

void om_counter_opts_default(om_counter_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->interval_ms = 60000;
    opts->gap_intervals = 10;
    opts->lookahead = 3;
    opts->active_from = OM_COUNTER_OPEN;
    opts->active_until = OM_COUNTER_OPEN;
}

/* ---- building ---------------------------------------------------------- */

static int add_point(om_counter *c, int64_t t, double u)
{
    /* Two points at one instant: the later one stands (a step at t). */
    if (c->n > 0 && c->t[c->n - 1] == t) {
        c->u[c->n - 1] = u;
        return 0;
    }
    size_t tcap = c->cap; /* t and u share one capacity, updated once both have grown */
    int64_t *nt = om_grow(c->t, &tcap, c->n, sizeof *nt);
    if (!nt)
        return -1;
    c->t = nt;
    double *nu = om_grow(c->u, &c->cap, c->n, sizeof *nu);
    if (!nu)
        return -1;
    c->u = nu;
    c->t[c->n] = t;
    c->u[c->n] = u;
    c->n++;
    return 0;
}

static int add_event(om_counter *c, om_counter_event_kind kind, int64_t t, double before,
                     double after, double counted)
{
    om_counter_event *grown = om_grow(c->events, &c->evcap, c->nevents, sizeof *grown);
    if (!grown)
        return -1;
    c->events = grown;
    c->events[c->nevents++] = (om_counter_event){kind, t, t, before, after, counted};
    return 0;
}

/* The most the meter can count in dt; the nominal interval is the floor, so
 * two readings close together are not judged on a sliver of time. */
static double max_consumption(const om_counter_opts *o, int64_t dt)
{
    int64_t span = dt > o->interval_ms ? dt : o->interval_ms;
    return o->max_rate_per_h * (double)span / 3600000.0;
}

static bool plausible(const om_counter_opts *o, double consumed, int64_t dt)
{
    if (consumed < 0)
        return false;
    return o->max_rate_per_h <= 0 || consumed <= max_consumption(o, dt);
}

static bool near_zero(const om_counter_opts *o, double v, int64_t dt)
{
    if (v <= o->reset_level)
        return true;
    return o->max_rate_per_h > 0 && v >= 0 && v <= max_consumption(o, dt);
}

/* A wrap: the counter was in its upper half, is now in its lower half, and
 * the consumption this implies fits the interval. */
static bool is_wrap(const om_counter_opts *o, const walk_prev *p, double v, int64_t dt)
{
    double w = o->width;
    return w > 0 && p->v >= w / 2 && v >= 0 && v < w / 2 && plausible(o, w - p->v + v, dt);
}

/* The index of the first reading within the lookahead that is back in line
 * with prev (not below it, and a plausible step from it), or 0. Readings
 * from `end` on (a replacement) belong to other hardware. */
static size_t contradicted_by(const om_counter_opts *o, const om_sample *s, size_t i, size_t end,
                              const walk_prev *p)
{
    size_t seen = 0;
    for (size_t j = i + 1; j < end && seen < o->lookahead; j++) {
        if (s[j].t == s[j - 1].t)
            continue; /* a duplicate is not a second opinion */
        seen++;
        if (s[j].v >= p->v && plausible(o, s[j].v - p->v, s[j].t - p->t))
            return j;
    }
    return 0;
}

/* True when a reading with a later time follows i before `end`. */
static bool has_following(const om_sample *s, size_t i, size_t end)
{
    for (size_t j = i + 1; j < end; j++)
        if (s[j].t > s[i].t)
            return true;
    return false;
}

/* A reading that starts a run (the first, after an event or a break). */
static int accept(om_counter *c, walk_prev *p, const om_sample *s, double u)
{
    if (add_point(c, s->t, u) < 0)
        return -1;
    *p = (walk_prev){true, s->t, s->v, u, true, s->v, u};
    return 0;
}

/* A normal step: the reading continues the run. */
static int accept_in_run(om_counter *c, walk_prev *p, const om_sample *s)
{
    double u = p->base_u + (s->v - p->base_v);
    if (add_point(c, s->t, u) < 0)
        return -1;
    *p = (walk_prev){true, s->t, s->v, u, true, p->base_v, p->base_u};
    return 0;
}

static int skip_glitches(om_counter *c, const om_sample *s, size_t from, size_t to,
                         const walk_prev *p)
{
    for (size_t k = from; k < to; k++)
        if (k == from || s[k].t != s[k - 1].t)
            if (add_event(c, OM_CEV_GLITCH, s[k].t, p->v, s[k].v, 0) < 0)
                return -1;
    return 0;
}

static int apply_break(om_counter *c, walk_prev *p, const om_counter_break *b)
{
    double grow = 0;
    double u = 0;
    if (p->have) {
        /* Growth of the old hardware after its last reading; an old_final
         * below that reading (or unknown) adds nothing. */
        grow = b->old_final > p->v ? b->old_final - p->v : 0;
        u = p->u + grow;
    }
    if (add_point(c, b->at, u) < 0 ||
        add_event(c, OM_CEV_REPLACEMENT, b->at, b->old_final, b->new_initial, grow) < 0)
        return -1;
    *p = (walk_prev){true, b->at, b->new_initial, u, false, b->new_initial, u};
    return 0;
}

/* Classifies reading i against prev; sets *next to the reading to look at
 * after it. `end` is the first reading of the next hardware. */
static int step(om_counter *c, walk_prev *p, const om_sample *s, size_t i, size_t end,
                size_t *next)
{
    const om_counter_opts *o = &c->opts;
    int64_t dt = s[i].t - p->t;
    double d = s[i].v - p->v;
    *next = i + 1;
    if (isnan(p->v)) /* after a replacement with no new_initial for this quantity */
        return accept(c, p, &s[i], p->u);
    if (d >= 0 && plausible(o, d, dt))
        return accept_in_run(c, p, &s[i]);
    size_t j = contradicted_by(o, s, i, end, p);
    if (j) {
        *next = j;
        return skip_glitches(c, s, i, j, p);
    }
    om_counter_event_kind kind;
    double counted = 0;
    if (d >= 0) {
        kind = OM_CEV_JUMP;
    } else if (is_wrap(o, p, s[i].v, dt)) {
        kind = OM_CEV_WRAP;
        counted = o->width - p->v + s[i].v;
    } else if (!has_following(s, i, end)) {
        *next = end; /* past the reading and its duplicates */
        return add_event(c, OM_CEV_UNCONFIRMED, s[i].t, p->v, s[i].v, 0);
    } else if (near_zero(o, s[i].v, dt)) {
        kind = OM_CEV_RESET;
        counted = s[i].v > 0 ? s[i].v : 0;
    } else {
        kind = OM_CEV_BACKSTEP;
    }
    if (add_event(c, kind, s[i].t, p->v, s[i].v, counted) < 0)
        return -1;
    return accept(c, p, &s[i], p->u + counted);
}

static int walk(om_counter *c, const om_sample *s, size_t n)
{
    const om_counter_opts *o = &c->opts;
    walk_prev p = {0};
    size_t bi = 0;
    size_t i = 0;
    while (i < n || bi < o->nbreaks) {
        if (bi < o->nbreaks && (i == n || o->breaks[bi].at <= s[i].t)) {
            if (apply_break(c, &p, &o->breaks[bi++]) < 0)
                return -1;
            continue;
        }
        /* A reading identical to the one before it is the same reading,
         * received twice: whatever the first one's fate (accepted, a
         * conflict, a glitch), the second changes nothing. */
        if (i > 0 && s[i].t == s[i - 1].t && s[i].v == s[i - 1].v) {
            i++;
            continue;
        }
        size_t end = n;
        if (bi < o->nbreaks)
            for (end = i; end < n && s[end].t < o->breaks[bi].at; end++)
                ;
        if (p.have && p.is_reading && s[i].t == p.t) {
            if (s[i].v != p.v && add_event(c, OM_CEV_CONFLICT, s[i].t, p.v, s[i].v, 0) < 0)
                return -1;
            i++;
            continue;
        }
        if (!p.have) {
            if (accept(c, &p, &s[i], 0) < 0)
                return -1;
            i++;
            continue;
        }
        size_t next;
        if (step(c, &p, s, i, end, &next) < 0)
            return -1;
        i = next;
    }
    return 0;
}

/* Gaps, found once the curve is complete, merged into the time-ordered
 * events (a gap after the other events of its start time). */
static int find_gaps(om_counter *c)
{
    const om_counter_opts *o = &c->opts;
    if (o->gap_intervals == 0 || c->n < 2)
        return 0;
    int64_t limit = o->interval_ms * (int64_t)o->gap_intervals;
    size_t count = 0;
    for (size_t k = 0; k + 1 < c->n; k++)
        count += c->t[k + 1] - c->t[k] > limit;
    if (count == 0)
        return 0;
    c->gaps = malloc(count * sizeof *c->gaps);
    om_counter_event *merged = malloc((c->nevents + count) * sizeof *merged);
    if (!c->gaps || !merged) {
        free(merged);
        return -1;
    }
    size_t e = 0, m = 0, open = SIZE_MAX;
    for (size_t k = 0; k + 1 < c->n; k++) {
        if (c->t[k + 1] - c->t[k] <= limit)
            continue;
        c->gaps[c->ngaps++] = k;
        while (e < c->nevents && c->events[e].t <= c->t[k])
            merged[m++] = c->events[e++];
        /* Consecutive gap intervals (readings sparser than the policy's
         * interval for a while) are one gap: one event, not one per reading. */
        if (open != SIZE_MAX && merged[open].t_end == c->t[k]) {
            merged[open].t_end = c->t[k + 1];
            merged[open].counted += c->u[k + 1] - c->u[k];
            continue;
        }
        open = m;
        merged[m++] = (om_counter_event){OM_CEV_GAP, c->t[k], c->t[k + 1], NAN, NAN,
                                         c->u[k + 1] - c->u[k]};
    }
    while (e < c->nevents)
        merged[m++] = c->events[e++];
    free(c->events);
    c->events = merged;
    c->nevents = m;
    c->evcap = m;
    return 0;
}

static bool valid_input(const om_sample *s, size_t n, const om_counter_opts *o)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(s[i].v) || (i > 0 && s[i].t < s[i - 1].t))
            return false;
    for (size_t i = 0; i < o->nbreaks; i++)
        if (isinf(o->breaks[i].old_final) || isinf(o->breaks[i].new_initial) ||
            (i > 0 && o->breaks[i].at <= o->breaks[i - 1].at))
            return false;
    return o->interval_ms > 0 && isfinite(o->width) && o->width >= 0 &&
           isfinite(o->max_rate_per_h);
}

om_counter *om_counter_new(const om_sample *samples, size_t n, const om_counter_opts *opts)
{
    om_counter_opts defaults;
    if (!opts) {
        om_counter_opts_default(&defaults);
        opts = &defaults;
    }
    if ((n > 0 && !samples) || !valid_input(samples, n, opts)) {
        errno = EINVAL;
        return NULL;
    }
    om_counter *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->opts = *opts;
    if (walk(c, samples, n) < 0 || find_gaps(c) < 0) {
        om_counter_free(c);
        errno = ENOMEM;
        return NULL;
    }
    return c;
}

void om_counter_free(om_counter *c)
{
    if (!c)
        return;
    free(c->t);
    free(c->u);
    free(c->gaps);
    free(c->events);
    free(c);
}

/* ---- reading the curve ------------------------------------------------- */

/* The index k of the last point with t[k] <= t (the curve must cover t). */
static size_t find_point(const om_counter *c, int64_t t)
{
    size_t lo = 0, hi = c->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (c->t[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Linear interpolation between the points on either side of t; a point
 * exactly at t is used as is. */
static double curve_at(const om_counter *c, int64_t t)
{
    size_t k = find_point(c, t);
    if (c->t[k] == t || k + 1 == c->n)
        return c->u[k];
    double frac = (double)(t - c->t[k]) / (double)(c->t[k + 1] - c->t[k]);
    return c->u[k] + (c->u[k + 1] - c->u[k]) * frac;
}

int om_counter_value_at(const om_counter *c, int64_t t, double *value)
{
    if (!c || c->n == 0 || t < c->t[0] || t > c->t[c->n - 1])
        return -1;
    *value = curve_at(c, t);
    return 0;
}

int om_counter_bracket(const om_counter *c, int64_t t, om_curve_point *before,
                       om_curve_point *after)
{
    if (!c || c->n == 0 || t < c->t[0] || t > c->t[c->n - 1])
        return -1;
    size_t k = find_point(c, t);
    size_t next = c->t[k] == t || k + 1 == c->n ? k : k + 1;
    *before = (om_curve_point){c->t[k], c->u[k]};
    *after = (om_curve_point){c->t[next], c->u[next]};
    return 0;
}

int om_counter_span(const om_counter *c, int64_t *first, int64_t *last)
{
    if (!c || c->n == 0)
        return -1;
    *first = c->t[0];
    *last = c->t[c->n - 1];
    return 0;
}

static bool inside_gap(const om_counter *c, int64_t t)
{
    for (size_t g = 0; g < c->ngaps; g++) {
        size_t k = c->gaps[g];
        if (c->t[k] < t && t < c->t[k + 1])
            return true;
    }
    return false;
}

int om_counter_consumption(const om_counter *c, int64_t a, int64_t b, om_consumption *out)
{
    memset(out, 0, sizeof *out);
    if (b < a)
        return -1;
    if (c->opts.active_from != OM_COUNTER_OPEN && a < c->opts.active_from)
        a = c->opts.active_from;
    if (c->opts.active_until != OM_COUNTER_OPEN && b > c->opts.active_until)
        b = c->opts.active_until;
    if (b <= a)
        return 0;
    out->expected_ms = b - a;
    if (c->n == 0)
        return 0;
    int64_t lo = a > c->t[0] ? a : c->t[0];
    int64_t hi = b < c->t[c->n - 1] ? b : c->t[c->n - 1];
    out->start_known = c->t[0] <= a;
    out->end_known = c->t[c->n - 1] >= b;
    if (hi <= lo)
        return 0;
    out->start_in_gap = out->start_known && inside_gap(c, a);
    out->end_in_gap = out->end_known && inside_gap(c, b);
    out->known_ms = hi - lo;
    out->value = curve_at(c, hi) - curve_at(c, lo);
    int64_t gap_ms = 0;
    for (size_t g = 0; g < c->ngaps; g++) {
        size_t k = c->gaps[g];
        int64_t glo = c->t[k] > lo ? c->t[k] : lo;
        int64_t ghi = c->t[k + 1] < hi ? c->t[k + 1] : hi;
        if (ghi <= glo)
            continue;
        gap_ms += ghi - glo;
        out->estimated += curve_at(c, ghi) - curve_at(c, glo);
    }
    out->actual_ms = out->known_ms - gap_ms;
    return 0;
}

const om_counter_event *om_counter_events(const om_counter *c, size_t *n)
{
    *n = c ? c->nevents : 0;
    return c ? c->events : NULL;
}

bool om_counter_event_in(const om_counter_event *ev, int64_t a, int64_t b)
{
    if (ev->kind == OM_CEV_GAP)
        return ev->t < b && ev->t_end > a;
    return ev->t >= a && ev->t < b;
}

const char *om_counter_event_name(om_counter_event_kind kind)
{
    return (unsigned)kind < OM_CEV__COUNT ? event_names[kind] : "?";
}

int om_counter_event_from_name(const char *name, om_counter_event_kind *out)
{
    for (int k = 0; k < OM_CEV__COUNT; k++)
        if (strcmp(name, event_names[k]) == 0) {
            *out = (om_counter_event_kind)k;
            return 0;
        }
    return -1;
}

size_t om_samples_count(const om_sample *samples, size_t n, int64_t a, int64_t b)
{
    size_t count = 0;
    for (size_t i = 0; i < n && samples[i].t < b; i++)
        count += samples[i].t >= a;
    return count;
}
