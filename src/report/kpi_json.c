/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_json.c - the report as JSON (schema officemeter.report.v2).
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
    key(w, "source_shares");
    open_(w, '{');
    kv_num(w, "metered", f->metered_share);
    kv_num(w, "billed", f->billed_share);
    kv_num(w, "estimated", f->estimated_share);
    close_(w, '}');
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
    if (!om_site_utility_has(u))
        null(w);
    else
        num(w, om_utility_share(u, estimated));
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

/* The bills counted or kept out at a site in the year, one entry each. */
static void bills(jw *w, const om_report *r, const char *site)
{
    char date[16];
    key(w, "bills");
    open_(w, '[');
    for (size_t i = 0; i < r->nbill_months; i++) {
        const om_bill_month *p = &r->bill_months[i];
        bool first = strcmp(p->site, site) == 0;
        for (size_t k = 0; first && k < i; k++)
            first = r->bill_months[k].bill != p->bill || strcmp(r->bill_months[k].site, site) != 0;
        if (!first)
            continue;
        const om_bill *b = &r->bills->bills[p->bill];
        double counted = 0, spread = 0;
        for (size_t k = i; k < r->nbill_months; k++)
            if (r->bill_months[k].bill == p->bill && strcmp(r->bill_months[k].site, site) == 0) {
                counted += r->bill_months[k].counted;
                spread += r->bill_months[k].spread;
            }
        open_(w, '{');
        kv_str(w, "document", b->document);
        kv_str(w, "account", b->account);
        kv_str(w, "utility", b->utility == OM_UTILITY_WATER ? "water" : "electricity");
        kv_str(w, "source", om_bill_source_name(b->source));
        kv_str(w, "period_start", om_format_date(b->start, date, sizeof date));
        kv_str(w, "period_end", om_format_date(b->end, date, sizeof date));
        kv_num(w, "quantity", b->quantity);
        kv_str(w, "unit", b->utility == OM_UTILITY_WATER ? "m3" : "kWh");
        kv_num(w, "in_year", spread);
        kv_num(w, "counted", counted);
        kv_bool(w, "reconcile_only", p->reconcile_only);
        /* The file's name, not its path: the report is the same wherever the
         * portfolio's folder is (an evidence pack rebuilds it elsewhere). */
        const char *slash = strrchr(b->file, '/');
        kv_str(w, "file", slash ? slash + 1 : b->file);
        key(w, "line");
        integer(w, (long long)b->line);
        close_(w, '}');
    }
    close_(w, ']');
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
    kv_opt(w, "electricity_billed_mwh", om_site_utility_has(&rs->elec), rs->elec.billed / 1000);
    kv_opt(w, "water_billed_t", om_site_utility_has(&rs->water), rs->water.billed);
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
    kv_opt(w, "electricity_billed_mwh", om_site_utility_has(&rs->prev_elec),
           rs->prev_elec.billed / 1000);
    kv_opt(w, "water_billed_t", om_site_utility_has(&rs->prev_water), rs->prev_water.billed);
    close_(w, '}');
    bills(w, r, s->site);
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
    char src[96];
    om_month_sources(m, src, sizeof src);
    kv_opt(w, "electricity_mwh", om_site_utility_has(&m->elec), m->elec.value / 1000);
    kv_opt(w, "water_t", om_site_utility_has(&m->water), m->water.value);
    kv_opt(w, "sub_meters_mwh", m->elec.metered, m->elec.sub_value / 1000);
    kv_opt(w, "electricity_billed_mwh", om_site_utility_has(&m->elec), m->elec.billed / 1000);
    kv_opt(w, "water_billed_t", om_site_utility_has(&m->water), m->water.billed);
    kv_str(w, "source", src);
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

static void targets(jw *w, const om_report *r)
{
    key(w, "targets");
    open_(w, '[');
    for (size_t i = 0; i < r->ntargets; i++) {
        const om_report_target *t = &r->targets[i];
        bool both = t->has_baseline && t->has_current && t->baseline != 0;
        open_(w, '{');
        kv_str(w, "kpi", r->kpis[t->kpi].key);
        kv_str(w, "type", t->target->type == OM_TARGET_INTENSITY ? "intensity" : "absolute");
        key(w, "baseline_year");
        integer(w, t->target->baseline_year);
        kv_opt(w, "baseline", t->has_baseline, t->baseline);
        kv_bool(w, "baseline_restated", t->baseline_restated);
        key(w, "baseline_sites");
        integer(w, (long long)t->baseline_ncovered);
        kv_opt(w, "value", t->has_current, t->current);
        kv_opt(w, "change_pct", both, t->change_pct);
        key(w, "target_year");
        integer(w, t->target->target_year);
        kv_num(w, "reduction_pct", t->target->reduction_pct);
        kv_opt(w, "target", t->has_baseline, t->target_value);
        key(w, "milestones");
        open_(w, '[');
        for (size_t m = 0; m < t->target->nmilestones; m++) {
            open_(w, '{');
            key(w, "year");
            integer(w, t->target->milestones[m].year);
            kv_num(w, "reduction_pct", t->target->milestones[m].reduction_pct);
            close_(w, '}');
        }
        close_(w, ']');
        kv_num(w, "path_reduction_pct", t->path_reduction_pct);
        kv_opt(w, "path", t->has_baseline && t->status != OM_TARGET_NOT_STARTED, t->path);
        kv_str(w, "status", om_target_status_name(t->status));
        close_(w, '}');
    }
    close_(w, ']');
}

static void changes(jw *w, const om_report *r)
{
    static const char *const keys[OM_EFFECT__COUNT] = {"sites", "floor_area", "intensity",
                                                       "factor"};
    key(w, "changes");
    open_(w, '[');
    for (int i = 0; i < OM_REPORT_DECOMPOSED; i++) {
        const om_decomposition *d = &r->decomposition[i];
        if (!d->has)
            continue;
        open_(w, '{');
        kv_str(w, "kpi", r->kpis[d->kpi].key);
        kv_num(w, "previous", d->previous);
        kv_num(w, "value", d->current);
        kv_num(w, "change", d->change);
        kv_opt(w, "change_pct", d->previous != 0, d->change / d->previous * 100);
        key(w, "effects");
        open_(w, '{');
        for (int e = 0; e < OM_EFFECT__COUNT; e++)
            kv_opt(w, keys[e], d->applies[e], d->effects[e]);
        close_(w, '}');
        kv_opt(w, "floor_area_of_which_headcount", d->has_headcount, d->area_headcount);
        key(w, "sites_added");
        integer(w, (long long)d->sites_added);
        key(w, "sites_removed");
        integer(w, (long long)d->sites_removed);
        key(w, "sites_continuing");
        integer(w, (long long)d->sites_continuing);
        kv_str(w, "text", d->text);
        close_(w, '}');
    }
    close_(w, ']');
}

static void approval(jw *w, const om_report *r)
{
    const om_report_approval *a = r->approval;
    key(w, "approval");
    if (!a) {
        null(w);
        return;
    }
    open_(w, '{');
    kv_str(w, "approved_at", a->approved_at);
    kv_str(w, "approved_by", a->approved_by);
    kv_str(w, "sha256", a->sha256);
    kv_bool(w, "restated", a->restated);
    kv_str(w, "current_sha256", a->current_sha256);
    key(w, "reasons");
    open_(w, '[');
    for (size_t i = 0; i < a->nreasons; i++)
        str(w, a->reasons[i]);
    close_(w, ']');
    key(w, "figures");
    open_(w, '[');
    for (size_t i = 0; i < a->nfigures; i++) {
        open_(w, '{');
        kv_str(w, "figure", a->figures[i].what);
        kv_str(w, "approved", a->figures[i].approved);
        kv_str(w, "now", a->figures[i].now);
        close_(w, '}');
    }
    close_(w, ']');
    close_(w, '}');
}

int om_report_write_json(const om_report *r, FILE *out)
{
    jw w = {.out = out};
    const om_policy *p = r->policy;
    open_(&w, '{');
    kv_str(&w, "schema", "officemeter.report.v2");
    key(&w, "year");
    integer(&w, r->year);
    kv_str(&w, "organisation", r->organisation);
    kv_bool(&w, "provisional", r->provisional);
    approval(&w, r);
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
    targets(&w, r);
    changes(&w, r);
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
