/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evidence.c - the evidence pack's data files: rollups and events written
 * at full precision and read back exactly, and each meter-month's boundary
 * readings with their interpolation.
 *
 * The files are written by officemeter, but a pack travels (to an auditor,
 * an archive) and may come back altered, so the reader checks every field
 * as it would a stranger's: a count of fields, an id, a number that reads
 * whole, and says file, line and column for anything else.
 */
#include "officemeter/report/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/id.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/numfmt.h"

/* ---- writing --------------------------------------------------------------------- */

static void num(FILE *out, double v, bool last)
{
    char buf[40];
    if (!isnan(v) && om_format_double(v, buf, sizeof buf))
        fputs(buf, out);
    fputs(last ? "\r\n" : ",", out);
}

static const char *const rollup_cols[] = {
    "site",      "meter",       "quantity",  "utility",     "role",        "year",
    "month",     "start",       "end",       "consumption", "estimated",   "expected_ms",
    "known_ms",  "actual_ms",   "readings",  "rate_min",    "rate_max",    "night_avg",
    "night_min", "nights",      "events",    "start_known", "end_known",   "provisional",
    "computed_at", "readings_sha256"};
#define ROLLUP_COLS (sizeof rollup_cols / sizeof rollup_cols[0])

static const char *const event_cols[] = {"site", "meter", "quantity", "year",  "month", "kind",
                                         "t",    "t_end", "before",   "after", "counted"};
#define EVENT_COLS (sizeof event_cols / sizeof event_cols[0])

static void header(FILE *out, const char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", cols[i], i + 1 == n ? "\r\n" : ",");
}

int om_rollups_write_csv(const om_meter_month *rows, size_t n, FILE *out)
{
    header(out, rollup_cols, ROLLUP_COLS);
    for (size_t i = 0; i < n; i++) {
        const om_meter_month *m = &rows[i];
        fprintf(out, "%s,%s,%s,%s,%s,%d,%u,%" PRId64 ",%" PRId64 ",", m->site, m->meter,
                om_quantity_get(m->quantity)->name,
                m->utility == OM_UTILITY_WATER ? "water" : "electricity",
                m->role == OM_ROLE_MAIN ? "main" : "sub", m->year, m->month, m->start, m->end);
        num(out, m->consumption, false);
        num(out, m->estimated, false);
        fprintf(out, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu32 ",", m->expected_ms,
                m->known_ms, m->actual_ms, m->nreadings);
        num(out, m->rate_min, false);
        num(out, m->rate_max, false);
        num(out, m->night_avg, false);
        num(out, m->night_min, false);
        fprintf(out, "%" PRIu32 ",%" PRIu32 ",%d,%d,%d,%" PRId64 ",%s\r\n", m->nights,
                m->nevents, m->start_known, m->end_known, m->provisional, m->computed_at,
                m->readings_sha256);
    }
    return ferror(out) ? -1 : 0;
}

int om_events_write_csv(const om_month_event *events, size_t n, FILE *out)
{
    header(out, event_cols, EVENT_COLS);
    for (size_t i = 0; i < n; i++) {
        const om_month_event *e = &events[i];
        fprintf(out, "%s,%s,%s,%d,%u,%s,%" PRId64 ",%" PRId64 ",", e->site, e->meter,
                om_quantity_get(e->quantity)->name, e->year, e->month,
                om_counter_event_name(e->ev.kind), e->ev.t, e->ev.t_end);
        num(out, e->ev.before, false);
        num(out, e->ev.after, false);
        num(out, e->ev.counted, true);
    }
    return ferror(out) ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------------------ */

#define MAX_FIELDS 32
#define MAX_ERRORS 20

typedef struct {
    const char *file;
    size_t line;
    om_diag *diag;
    size_t errors;
    const char *const *cols;
    char *field[MAX_FIELDS];
    size_t col[MAX_FIELDS]; /* byte column of each field */
    size_t n;
    bool bad; /* the current row */
} csv_reader;

static void bad(csv_reader *r, size_t i, const char *what)
{
    r->bad = true;
    if (++r->errors <= MAX_ERRORS)
        om_diag_add(r->diag, r->file, r->line, i < r->n ? r->col[i] : 1,
                    i < r->n ? r->cols[i] : NULL, "%s (got \"%.40s\")", what,
                    i < r->n ? r->field[i] : "");
}

/* Splits a line (NUL-terminated, no line break) into fields in place. */
static void split(csv_reader *r, char *line)
{
    r->n = 0;
    char *p = line;
    for (;;) {
        if (r->n == MAX_FIELDS)
            return;
        r->col[r->n] = (size_t)(p - line) + 1;
        r->field[r->n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            return;
        *comma = '\0';
        p = comma + 1;
    }
}

static int64_t integer(csv_reader *r, size_t i, int64_t lo, int64_t hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(r->field[i], &end, 10);
    if (!r->field[i][0] || *end || errno || v < lo || v > hi) {
        bad(r, i, "not an integer in range");
        return 0;
    }
    return v;
}

static double real(csv_reader *r, size_t i, bool optional)
{
    if (optional && !r->field[i][0])
        return NAN;
    char *end;
    double v = strtod(r->field[i], &end);
    if (!r->field[i][0] || *end || !isfinite(v)) {
        bad(r, i, "not a number");
        return 0;
    }
    return v;
}

static void id(csv_reader *r, size_t i, char *dst)
{
    if (!om_id_valid(r->field[i]))
        bad(r, i, "not an id");
    else
        memcpy(dst, r->field[i], strlen(r->field[i]) + 1);
}

static om_quantity quantity(csv_reader *r, size_t i)
{
    om_quantity q = OM_Q_ENERGY_IMPORT_KWH;
    if (om_quantity_from_name(r->field[i], &q) < 0 || om_quantity_get(q)->kind != OM_KIND_COUNTER)
        bad(r, i, "not a counter quantity");
    return q;
}

static int choice(csv_reader *r, size_t i, const char *a, const char *b)
{
    if (strcmp(r->field[i], a) == 0)
        return 0;
    if (strcmp(r->field[i], b) != 0)
        bad(r, i, "unknown value");
    return 1;
}

static void parse_rollup(csv_reader *r, om_meter_month *m)
{
    memset(m, 0, sizeof *m);
    id(r, 0, m->site);
    id(r, 1, m->meter);
    m->quantity = quantity(r, 2);
    m->utility = choice(r, 3, "electricity", "water") ? OM_UTILITY_WATER : OM_UTILITY_ELECTRICITY;
    m->role = choice(r, 4, "main", "sub") ? OM_ROLE_SUB : OM_ROLE_MAIN;
    m->year = (int)integer(r, 5, 1990, 2100);
    m->month = (unsigned)integer(r, 6, 1, 12);
    m->start = integer(r, 7, INT64_MIN, INT64_MAX);
    m->end = integer(r, 8, INT64_MIN, INT64_MAX);
    m->consumption = real(r, 9, false);
    m->estimated = real(r, 10, false);
    m->expected_ms = integer(r, 11, 0, INT64_MAX);
    m->known_ms = integer(r, 12, 0, INT64_MAX);
    m->actual_ms = integer(r, 13, 0, INT64_MAX);
    m->nreadings = (uint32_t)integer(r, 14, 0, UINT32_MAX);
    m->rate_min = real(r, 15, true);
    m->rate_max = real(r, 16, true);
    m->night_avg = real(r, 17, true);
    m->night_min = real(r, 18, true);
    m->nights = (uint32_t)integer(r, 19, 0, UINT32_MAX);
    m->nevents = (uint32_t)integer(r, 20, 0, UINT32_MAX);
    m->start_known = integer(r, 21, 0, 1);
    m->end_known = integer(r, 22, 0, 1);
    m->provisional = integer(r, 23, 0, 1);
    m->computed_at = integer(r, 24, INT64_MIN, INT64_MAX);
    size_t len = strlen(r->field[25]);
    if (len != 0 && (len != 64 || strspn(r->field[25], "0123456789abcdef") != 64))
        bad(r, 25, "not a SHA-256");
    else
        memcpy(m->readings_sha256, r->field[25], len + 1);
}

static void parse_event(csv_reader *r, om_month_event *e)
{
    memset(e, 0, sizeof *e);
    id(r, 0, e->site);
    id(r, 1, e->meter);
    e->quantity = quantity(r, 2);
    e->year = (int)integer(r, 3, 1990, 2100);
    e->month = (unsigned)integer(r, 4, 1, 12);
    if (om_counter_event_from_name(r->field[5], &e->ev.kind) < 0)
        bad(r, 5, "unknown event");
    e->ev.t = integer(r, 6, INT64_MIN, INT64_MAX);
    e->ev.t_end = integer(r, 7, INT64_MIN, INT64_MAX);
    e->ev.before = real(r, 8, true);
    e->ev.after = real(r, 9, true);
    e->ev.counted = real(r, 10, false);
}

/* Reads every row of a CSV file of `ncols` columns into records of `size`
 * bytes appended to *items. */
static int read_csv(const char *file, const char *buf, size_t len, const char *const *cols,
                    size_t ncols, size_t size, void (*parse)(csv_reader *, void *), void **items,
                    size_t *count, om_diag *diag)
{
    csv_reader r = {.file = file, .diag = diag, .cols = cols};
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, buf, len);
    copy[len] = '\0';
    size_t cap = *count, before = om_diag_count(diag);
    char *line = copy, *stop = copy + len;
    for (r.line = 1; line && line < stop; r.line++) {
        char *next = memchr(line, '\n', (size_t)(stop - line));
        char *eol = next ? next : stop;
        if (next)
            *next++ = '\0';
        size_t l = strlen(line);
        bool nul = l != (size_t)(eol - line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (nul || memchr(line, '"', l)) {
            r.n = 0;
            bad(&r, 0, "a NUL byte or a quote (expected plain fields)");
        } else {
            split(&r, line);
            r.bad = false;
            if (r.line == 1) {
                for (size_t i = 0; i < ncols && r.n == ncols; i++)
                    if (strcmp(r.field[i], cols[i]) != 0)
                        bad(&r, i, "wrong column name");
                if (r.n != ncols)
                    bad(&r, 0, "wrong header");
            } else if (r.n != ncols) {
                bad(&r, 0, "wrong number of fields");
            } else {
                char *grown = om_grow(*items, &cap, *count, size);
                if (!grown) {
                    free(copy);
                    return -1;
                }
                *items = grown;
                parse(&r, grown + *count * size);
                if (!r.bad)
                    (*count)++;
            }
        }
        line = next;
    }
    free(copy);
    if (r.line == 1)
        om_diag_add(diag, file, 0, 0, NULL, "empty (expected a header)");
    if (r.errors > MAX_ERRORS)
        om_diag_add(diag, file, 0, 0, NULL, "%zu more errors not shown", r.errors - MAX_ERRORS);
    return om_diag_count(diag) == before ? 0 : -1;
}

static void parse_rollup_any(csv_reader *r, void *m)
{
    parse_rollup(r, m);
}

static void parse_event_any(csv_reader *r, void *e)
{
    parse_event(r, e);
}

int om_rollups_read_csv(const char *file, const char *buf, size_t len, om_meter_month **rows,
                        size_t *n, om_diag *diag)
{
    return read_csv(file, buf, len, rollup_cols, ROLLUP_COLS, sizeof **rows, parse_rollup_any,
                    (void **)rows, n, diag);
}

int om_events_read_csv(const char *file, const char *buf, size_t len, om_month_event **events,
                       size_t *n, om_diag *diag)
{
    return read_csv(file, buf, len, event_cols, EVENT_COLS, sizeof **events, parse_event_any,
                    (void **)events, n, diag);
}

/* ---- boundaries ---------------------------------------------------------------------- */

static const char *const boundary_cols[] = {
    "site",         "meter",          "quantity",       "year",          "month",
    "from",         "to",             "from_before_t",  "from_before_reading",
    "from_before_curve", "from_after_t", "from_after_reading", "from_after_curve",
    "from_value",   "to_before_t",    "to_before_reading", "to_before_curve", "to_after_t",
    "to_after_reading", "to_after_curve", "to_value", "consumption", "readings_sha256"};

/* The raw reading at t, or NAN (a replacement's point has none). */
static double reading_at(const om_sample *s, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && s[lo].t == t ? s[lo].v : NAN;
}

static void iso(FILE *out, int64_t t)
{
    char buf[40];
    fprintf(out, "%s,", om_format_iso8601(t, buf, sizeof buf));
}

static void trace_boundary(const om_counter *c, const om_sample *s, size_t n, int64_t t,
                           om_boundary *b)
{
    b->t = t;
    om_counter_bracket(c, t, &b->before, &b->after);
    om_counter_value_at(c, t, &b->value);
    b->before_reading = reading_at(s, n, b->before.t);
    b->after_reading = reading_at(s, n, b->after.t);
}

int om_trace_meter_month(const om_site *site, const om_meter *m, om_quantity q,
                         const om_policy *policy, int year, unsigned month,
                         const om_rollup_source *src, om_month_trace *out)
{
    memset(out, 0, sizeof *out);
    int64_t a, b;
    if (om_month_bounds(site->timezone, year, month, &a, &b) < 0) {
        errno = EINVAL;
        return -1;
    }
    om_sample *s = NULL;
    size_t n = 0;
    if (src->counter(src->user, site, m, q, a, b, OM_ROLLUP_CONTEXT, &s, &n) < 0)
        return -1;
    om_sha256_samples(s, n, out->sha256);
    om_counter_opts opts;
    om_counter_break *breaks;
    if (om_rollup_counter_opts(site, m, q, policy, &opts, &breaks) < 0) {
        free(s);
        return -1;
    }
    om_counter *c = om_counter_new(s, n, &opts);
    free(breaks);
    if (!c) {
        free(s);
        return -1;
    }
    int64_t lo = a, hi = b, first, last;
    om_meter_active_clip(m, &lo, &hi);
    if (om_counter_span(c, &first, &last) == 0) {
        lo = lo > first ? lo : first;
        hi = hi < last ? hi : last;
        if (hi > lo) {
            out->known = true;
            trace_boundary(c, s, n, lo, &out->from);
            trace_boundary(c, s, n, hi, &out->to);
            out->consumption = out->to.value - out->from.value;
        }
    }
    if (!out->known) {
        out->from.t = lo;
        out->to.t = hi;
    }
    om_counter_free(c);
    free(s);
    return 0;
}

static void boundary_fields(FILE *out, const om_boundary *b)
{
    iso(out, b->before.t);
    num(out, b->before_reading, false);
    num(out, b->before.u, false);
    iso(out, b->after.t);
    num(out, b->after_reading, false);
    num(out, b->after.u, false);
    num(out, b->value, false);
}

static int meter_boundaries(const om_site *site, const om_meter *m, om_quantity q,
                            const om_policy *policy, int year, unsigned month,
                            const om_rollup_source *src, FILE *out)
{
    om_month_trace tr;
    if (om_trace_meter_month(site, m, q, policy, year, month, src, &tr) < 0)
        return -1;
    fprintf(out, "%s,%s,%s,%d,%u,", site->site, m->id, om_quantity_get(q)->name, year, month);
    iso(out, tr.from.t);
    iso(out, tr.to.t);
    if (!tr.known) {
        /* No curve over the month: nothing was counted. */
        fprintf(out, ",,,,,,,,,,,,,,,%s\r\n", tr.sha256);
        return 0;
    }
    boundary_fields(out, &tr.from);
    boundary_fields(out, &tr.to);
    num(out, tr.consumption, false);
    fprintf(out, "%s\r\n", tr.sha256);
    return 0;
}

int om_boundaries_write_csv(const om_site *site, const om_policy *policy, int year,
                            unsigned month, const om_rollup_source *src, bool with_header,
                            FILE *out)
{
    if (with_header)
        header(out, boundary_cols, sizeof boundary_cols / sizeof boundary_cols[0]);
    int64_t start, end;
    if (om_month_bounds(site->timezone, year, month, &start, &end) < 0) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < site->nmeters; i++) {
        const om_meter *m = &site->meters[i];
        int64_t a = start, b = end;
        if (om_meter_active_clip(m, &a, &b) == 0)
            continue;
        om_quantity qs[2];
        size_t nq = om_rollup_quantities(site, m, qs);
        for (size_t k = 0; k < nq; k++)
            if (meter_boundaries(site, m, qs[k], policy, year, month, src, out) < 0)
                return -1;
    }
    return ferror(out) ? -1 : 0;
}
