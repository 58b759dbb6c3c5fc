/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_json.c - the report as JSON (schema officemeter.report.v1).
 *
 * Written by hand rather than through a DOM so that key order is the
 * schema's order and numbers are the shortest text that reads back as the
 * same double (full precision, and "0.1" rather than 0.10000000000000001):
 * the golden files stay readable and diffs show real changes only.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kpi_private.h"
#include "officemeter/base/isotime.h"
#include "officemeter/base/numfmt.h"

typedef struct {
    FILE *out;
    int depth;
    bool first[16];
    bool pending_key; /* a key was written: the value follows on its line */
} jw;

static void newline(jw *w)
{
    fputc('\n', w->out);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->out);
}

/* Before a value or a key: a comma and a new line unless first. */
static void item(jw *w)
{
    if (w->pending_key) {
        w->pending_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            fputc(',', w->out);
        newline(w);
    }
    w->first[w->depth] = false;
}

static void put_string(jw *w, const char *s)
{
    fputc('"', w->out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(w->out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", w->out);
        else if (*p < 0x20)
            fprintf(w->out, "\\u%04x", *p);
        else
            fputc(*p, w->out);
    }
    fputc('"', w->out);
}

static void open_(jw *w, char c)
{
    item(w);
    fputc(c, w->out);
    w->depth++;
    w->first[w->depth] = true;
}

static void close_(jw *w, char c)
{
    bool empty = w->first[w->depth];
    w->depth--;
    if (!empty)
        newline(w);
    fputc(c, w->out);
}

static void key(jw *w, const char *k)
{
    item(w);
    put_string(w, k);
    fputs(": ", w->out);
    w->pending_key = true;
}

static void str(jw *w, const char *s)
{
    item(w);
    if (s)
        put_string(w, s);
    else
        fputs("null", w->out);
}

static void num(jw *w, double v)
{
    item(w);
    char buf[40];
    if (om_format_double(v, buf, sizeof buf) == 0)
        fputs("null", w->out);
    else
        fputs(buf, w->out);
}

static void integer(jw *w, long long v)
{
    item(w);
    fprintf(w->out, "%lld", v);
}

static void boolean(jw *w, bool v)
{
    item(w);
    fputs(v ? "true" : "false", w->out);
}

static void null(jw *w)
{
    item(w);
    fputs("null", w->out);
}

static void kv_num(jw *w, const char *k, double v)
{
    key(w, k);
    num(w, v);
}

static void kv_opt(jw *w, const char *k, bool has, double v)
{
    key(w, k);
    if (has)
        num(w, v);
    else
        null(w);
}

static void kv_str(jw *w, const char *k, const char *v)
{
    key(w, k);
    str(w, v);
}

static void kv_bool(jw *w, const char *k, bool v)
{
    key(w, k);
    boolean(w, v);
}

/* ---- sections ------------------------------------------------------------------ */

static void coverage(jw *w, const om_report *r, const om_kpi_figure *f, bool intensity)
{
    open_(w, '{');
    key(w, "sites");
    open_(w, '[');
    for (size_t s = 0; s < r->nsites; s++)
        if (f->covered[s])
            str(w, r->sites[s].site->site);
    close_(w, ']');
    kv_num(w, "floor_area_share", f->area_share);
    kv_num(w, "time_share", f->time_share);
    kv_num(w, "estimated_share", f->estimated_share);
    if (intensity)
        kv_num(w, "denominator", f->denominator);
    close_(w, '}');
}

static void kpis(jw *w, const om_report *r)
{
    key(w, "kpis");
    open_(w, '{');
    for (int k = 0; k < OM_KPI__COUNT; k++) {
        const om_kpi *kpi = &r->kpis[k];
        bool intensity = strchr(kpi->unit, '/') != NULL;
        double pct;
        key(w, kpi->key);
        open_(w, '{');
        kv_opt(w, "value", kpi->current.has_value, kpi->current.value);
        kv_opt(w, "previous", kpi->previous.has_value, kpi->previous.value);
        kv_bool(w, "previous_restated", kpi->previous_restated);
        bool has_pct = om_kpi_change_pct(kpi, &pct);
        kv_opt(w, "change_pct", has_pct, pct);
        kv_str(w, "unit", kpi->unit);
        kv_str(w, "hkex", kpi->hkex);
        kv_str(w, "label", kpi->label);
        key(w, "coverage");
        coverage(w, r, &kpi->current, intensity);
        key(w, "previous_coverage");
        coverage(w, r, &kpi->previous, intensity);
        close_(w, '}');
    }
    close_(w, '}');
}

static void utility_share(jw *w, const char *k, const om_site_utility *u, bool estimated)
{
    key(w, k);
    if (!u->metered)
        null(w);
    else if (estimated)
        num(w, u->value > 0 ? u->estimated / u->value : 0);
    else
        num(w, u->expected_ms > 0 ? (double)u->actual_ms / (double)u->expected_ms : 0);
}

static void event(jw *w, const om_month_event *e)
{
    char t[40];
    open_(w, '{');
    kv_str(w, "meter", e->meter);
    kv_str(w, "quantity", om_quantity_get(e->quantity)->name);
    kv_str(w, "kind", om_counter_event_name(e->ev.kind));
    kv_str(w, "t", om_format_iso8601(e->ev.t, t, sizeof t));
    if (e->ev.kind == OM_CEV_GAP)
        kv_str(w, "t_end", om_format_iso8601(e->ev.t_end, t, sizeof t));
    kv_opt(w, "before", !isnan(e->ev.before), e->ev.before);
    kv_opt(w, "after", !isnan(e->ev.after), e->ev.after);
    kv_num(w, "counted", e->ev.counted);
    close_(w, '}');
}

static void site(jw *w, const om_report *r, const om_report_site *rs)
{
    const om_site *s = rs->site;
    open_(w, '{');
    kv_str(w, "site", s->site);
    kv_str(w, "name", s->name);
    kv_str(w, "timezone", s->timezone);
    kv_str(w, "grid_region", s->grid_region);
    kv_opt(w, "energy_mwh", rs->elec.covered, rs->elec.value / 1000);
    kv_opt(w, "water_t", rs->water.covered, rs->water.value);
    kv_opt(w, "ghg_t", rs->ghg.has_location, rs->ghg.location_t);
    kv_opt(w, "ghg_market_t", rs->ghg.has_location, rs->ghg.market_t);
    kv_opt(w, "ghg_scope3_cat3_t", rs->ghg.has_cat3, rs->ghg.scope3_cat3_t);
    kv_opt(w, "ghg_scope3_water_t", rs->ghg.has_water3, rs->ghg.scope3_water_t);
    kv_num(w, "floor_area_m2", rs->area_m2);
    kv_num(w, "floor_area_time_weighted_m2", rs->area_time_weighted);
    kv_num(w, "floor_area_year_end_m2", rs->area_year_end);
    key(w, "headcount");
    if (rs->has_headcount)
        integer(w, rs->headcount);
    else
        null(w);
    kv_num(w, "instruments_mwh", rs->ghg.instruments_mwh);
    kv_opt(w, "sub_meters_mwh", rs->elec.metered, rs->elec.sub_value / 1000);
    key(w, "coverage");
    open_(w, '{');
    utility_share(w, "electricity", &rs->elec, false);
    utility_share(w, "water", &rs->water, false);
    close_(w, '}');
    key(w, "estimated_share");
    open_(w, '{');
    utility_share(w, "electricity", &rs->elec, true);
    utility_share(w, "water", &rs->water, true);
    close_(w, '}');
    key(w, "previous");
    open_(w, '{');
    kv_opt(w, "energy_mwh", rs->prev_elec.covered, rs->prev_elec.value / 1000);
    kv_opt(w, "water_t", rs->prev_water.covered, rs->prev_water.value);
    kv_opt(w, "ghg_t", rs->prev_ghg.has_location, rs->prev_ghg.location_t);
    kv_opt(w, "ghg_market_t", rs->prev_ghg.has_location, rs->prev_ghg.market_t);
    close_(w, '}');
    key(w, "flags");
    open_(w, '[');
    for (size_t i = 0; i < rs->nflags; i++)
        str(w, rs->flags[i]);
    close_(w, ']');
    size_t index = (size_t)(rs - r->sites);
    key(w, "events");
    open_(w, '[');
    for (size_t i = 0; i < r->nevents; i++)
        if (r->event_listed[i] && strcmp(r->events[i].site, s->site) == 0)
            event(w, &r->events[i]);
    close_(w, ']');
    key(w, "event_counts");
    open_(w, '[');
    for (size_t g = 0; g < r->ngroups; g++) {
        const om_report_event_group *grp = &r->groups[g];
        if (grp->site != index)
            continue;
        open_(w, '{');
        kv_str(w, "meter", grp->meter);
        kv_str(w, "quantity", om_quantity_get(grp->quantity)->name);
        kv_str(w, "kind", om_counter_event_name(grp->kind));
        key(w, "count");
        integer(w, (long long)grp->count);
        kv_num(w, "counted", grp->counted);
        close_(w, '}');
    }
    close_(w, ']');
    close_(w, '}');
}

static void month(jw *w, const om_report *r, const om_report_month *m)
{
    char label[16];
    snprintf(label, sizeof label, "%04d-%02u", r->year, m->month);
    open_(w, '{');
    kv_str(w, "site", r->sites[m->site].site->site);
    kv_str(w, "month", label);
    kv_opt(w, "electricity_mwh", m->elec.metered, m->elec.value / 1000);
    kv_opt(w, "water_t", m->water.metered, m->water.value);
    kv_opt(w, "sub_meters_mwh", m->elec.metered, m->elec.sub_value / 1000);
    key(w, "coverage");
    open_(w, '{');
    utility_share(w, "electricity", &m->elec, false);
    utility_share(w, "water", &m->water, false);
    close_(w, '}');
    key(w, "estimated_share");
    open_(w, '{');
    utility_share(w, "electricity", &m->elec, true);
    utility_share(w, "water", &m->water, true);
    close_(w, '}');
    kv_bool(w, "sub_exceeds_main", m->sub_exceeds_main);
    kv_bool(w, "provisional", m->provisional);
    close_(w, '}');
}

static void factor(jw *w, const om_report *r, const om_report_factor *rf)
{
    const om_factor *f = rf->factor;
    char date[16];
    open_(w, '{');
    kv_str(w, "id", f->id);
    kv_str(w, "region", f->region);
    kv_str(w, "kind", om_factor_kind_name(f->kind));
    kv_num(w, "value", f->value);
    kv_str(w, "unit", om_factor_unit_name(f->unit));
    key(w, "activity_year");
    integer(w, f->activity_year);
    kv_str(w, "source", f->source);
    kv_str(w, "published", om_format_date(f->published, date, sizeof date));
    kv_str(w, "verification", f->verified ? "verified" : "unverified");
    kv_str(w, "note", f->note);
    kv_str(w, "used_for", rf->used_for);
    key(w, "applied_to");
    open_(w, '[');
    if (rf->current)
        integer(w, r->year);
    if (rf->previous)
        integer(w, r->year - 1);
    close_(w, ']');
    close_(w, '}');
}

int om_report_write_json(const om_report *r, FILE *out)
{
    jw w = {.out = out};
    const om_policy *p = r->policy;
    open_(&w, '{');
    kv_str(&w, "schema", "officemeter.report.v1");
    key(&w, "year");
    integer(&w, r->year);
    kv_str(&w, "organisation", r->organisation);
    kv_bool(&w, "provisional", r->provisional);
    key(&w, "policy");
    open_(&w, '{');
    kv_bool(&w, "restate_previous_year", p->restate_previous_year);
    kv_str(&w, "intensity_area",
           p->intensity_area == OM_AREA_TIME_WEIGHTED ? "time_weighted" : "year_end");
    kv_str(&w, "intensity_scope",
           p->intensity_scope == OM_SCOPE_COVERED_SITES ? "covered_sites" : "whole_portfolio");
    key(&w, "gap_intervals");
    integer(&w, p->gap_intervals);
    key(&w, "poll_interval_s");
    integer(&w, p->poll_interval_s);
    close_(&w, '}');
    kpis(&w, r);
    key(&w, "sites");
    open_(&w, '[');
    for (size_t s = 0; s < r->nsites; s++)
        site(&w, r, &r->sites[s]);
    close_(&w, ']');
    key(&w, "monthly");
    open_(&w, '[');
    for (size_t m = 0; m < r->nmonths; m++)
        month(&w, r, &r->months[m]);
    close_(&w, ']');
    key(&w, "factors");
    open_(&w, '[');
    for (size_t f = 0; f < r->nfactors; f++)
        factor(&w, r, &r->factors[f]);
    close_(&w, ']');
    key(&w, "notes");
    open_(&w, '[');
    for (size_t n = 0; n < r->nnotes; n++)
        str(&w, r->notes[n]);
    close_(&w, ']');
    close_(&w, '}');
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}
