/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_decompose.c - why energy, GHG and water moved against the previous
 * year: each site's two years handed to the LMDI decomposition
 * (decompose.h), and one paragraph in words per figure.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_private.h"

static const om_kpi_id decomposed[OM_REPORT_DECOMPOSED] = {OM_KPI_ENERGY_TOTAL, OM_KPI_GHG_TOTAL,
                                                          OM_KPI_WATER};

static double activity_of(om_kpi_id id, const om_site_year *y)
{
    return id == OM_KPI_WATER ? y->water.value : y->elec.value / 1000.0;
}

static double factor_of(om_kpi_id id, const om_site_year *y)
{
    if (id != OM_KPI_GHG_TOTAL)
        return 1;
    return y->ghg.grid ? om_factor_tonnes_per_unit(y->ghg.grid) : 0;
}

static void site_input(om_kpi_id id, const om_site_year *y0, const om_site_year *y1,
                       om_decomp_site *s)
{
    memset(s, 0, sizeof *s);
    s->in0 = om_kpi_site_value(id, y0, &s->value0);
    s->in1 = om_kpi_site_value(id, y1, &s->value1);
    s->area0 = y0->area_m2;
    s->area1 = y1->area_m2;
    s->heads0 = y0->has_headcount ? y0->headcount : 0;
    s->heads1 = y1->has_headcount ? y1->headcount : 0;
    s->activity0 = activity_of(id, y0);
    s->activity1 = activity_of(id, y1);
    s->factor0 = factor_of(id, y0);
    s->factor1 = factor_of(id, y1);
}

/* ---- the paragraph ---------------------------------------------------------- */

typedef struct {
    char buf[1024];
    size_t len;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    if (t->len >= sizeof t->buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static const char *subject(om_kpi_id id)
{
    return id == OM_KPI_ENERGY_TOTAL ? "Energy"
           : id == OM_KPI_WATER      ? "Water"
                                     : "GHG emissions (scope 1 and 2, location-based)";
}

static const char *direction(om_effect_kind e, bool up)
{
    switch (e) {
    case OM_EFFECT_SITES: return up ? "sites added" : "sites removed or closed";
    case OM_EFFECT_AREA: return up ? "larger floor area" : "smaller floor area";
    case OM_EFFECT_INTENSITY:
        return up ? "higher intensity per m²" : "lower intensity per m² (efficiency)";
    case OM_EFFECT_FACTOR: return up ? "higher emission factors" : "lower emission factors";
    default: return "?";
    }
}

typedef struct {
    om_effect_kind e;
    long long units;
} ranked;

static int by_size(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    long long x = llabs(a->units), y = llabs(b->units);
    if (x != y)
        return x > y ? -1 : 1;
    return (int)a->e - (int)b->e;
}

static char *explain(const om_report *r, const om_decomposition *d)
{
    const om_kpi *k = &r->kpis[d->kpi];
    text t = {.len = 0};
    int dec = om_kpi_decimals(k);
    double pct = d->previous != 0 ? d->change / d->previous * 100 : 0;
    double points[OM_EFFECT__COUNT];
    for (int e = 0; e < OM_EFFECT__COUNT; e++)
        points[e] = d->previous != 0 ? d->effects[e] / d->previous * 100 : 0;
    long long units[OM_EFFECT__COUNT];
    om_round_to_total(points, OM_EFFECT__COUNT, pct, 1, units);
    long long total = llround(pct * 10);
    put(&t, "%s %s %.1f %% (%.*f to %.*f %s)", subject(d->kpi),
        total > 0 ? "rose" : total < 0 ? "fell" : "changed by", fabs((double)total) / 10, dec,
        d->previous, dec, d->current, k->unit);
    ranked order[OM_EFFECT__COUNT];
    size_t n = 0;
    for (int e = 0; e < OM_EFFECT__COUNT; e++)
        if (d->applies[e] && units[e] != 0)
            order[n++] = (ranked){(om_effect_kind)e, units[e]};
    qsort(order, n, sizeof *order, by_size);
    for (size_t i = 0; i < n; i++) {
        put(&t, "%s%+.1f points from %s", i == 0 ? ": " : ", ", (double)order[i].units / 10,
            direction(order[i].e, order[i].units > 0));
        long long heads = llround(d->area_headcount / d->previous * 1000);
        if (order[i].e == OM_EFFECT_AREA && d->has_headcount && heads != 0)
            put(&t, " (of which %+.1f from %s employees)", (double)heads / 10,
                heads > 0 ? "more" : "fewer");
    }
    if (d->applies[OM_EFFECT_SITES] && units[OM_EFFECT_SITES] != 0)
        put(&t, " (%zu added, %zu removed)", d->sites_added, d->sites_removed);
    put(&t, ".");
    if (d->applies[OM_EFFECT_FACTOR] && r->policy->restate_previous_year)
        put(&t, " The emission factor contributes nothing: %d is restated with %d's factors.",
            r->year - 1, r->year);
    put(&t, " Effects by the log-mean Divisia index (LMDI-I); they add up to the change.");
    return strdup(t.buf);
}

int om_kpi_decompose(om_report *r, const om_site_year *cur, const om_site_year *prev)
{
    om_decomp_site *sites = calloc(r->nsites ? r->nsites : 1, sizeof *sites);
    if (!sites)
        return -1;
    int rc = 0;
    for (int i = 0; i < OM_REPORT_DECOMPOSED && rc == 0; i++) {
        om_decomposition *d = &r->decomposition[i];
        const om_kpi *k = &r->kpis[decomposed[i]];
        memset(d, 0, sizeof *d);
        d->kpi = decomposed[i];
        d->has = k->current.has_value && k->previous.has_value;
        if (!d->has)
            continue;
        d->previous = k->previous.value;
        d->current = k->current.value;
        d->change = d->current - d->previous;
        for (size_t s = 0; s < r->nsites; s++)
            site_input(d->kpi, &prev[s], &cur[s], &sites[s]);
        om_decomp_result res;
        om_decompose(sites, r->nsites, d->kpi == OM_KPI_GHG_TOTAL, d->previous, d->current, &res);
        memcpy(d->effects, res.effects, sizeof d->effects);
        d->sites_added = res.added;
        d->sites_removed = res.removed;
        d->sites_continuing = res.continuing;
        d->has_headcount = res.has_headcount;
        d->area_headcount = res.area_headcount;
        d->applies[OM_EFFECT_SITES] = true;
        d->applies[OM_EFFECT_AREA] = true;
        d->applies[OM_EFFECT_INTENSITY] = true;
        d->applies[OM_EFFECT_FACTOR] = d->kpi == OM_KPI_GHG_TOTAL;
        d->text = explain(r, d);
        if (!d->text)
            rc = -1;
    }
    free(sites);
    return rc;
}
