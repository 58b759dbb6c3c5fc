/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kpi_targets.c - the policy's targets against the report: the baseline
 * year's value (restated with the report year's factors where the policy
 * restates), this year's, and the straight-line path from the baseline
 * through the milestones to the target.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_private.h"

/* The reduction (%) the path asks for by `year`: linear between the
 * baseline (0 %), each milestone and the target. */
static double path_pct(const om_target *t, int year)
{
    int y0 = t->baseline_year;
    double p0 = 0;
    for (size_t i = 0; i <= t->nmilestones; i++) {
        int y1 = i < t->nmilestones ? t->milestones[i].year : t->target_year;
        double p1 = i < t->nmilestones ? t->milestones[i].reduction_pct : t->reduction_pct;
        if (year <= y1)
            return year <= y0 ? p0 : p0 + (p1 - p0) * (double)(year - y0) / (double)(y1 - y0);
        y0 = y1;
        p0 = p1;
    }
    return t->reduction_pct;
}

/* Emission KPIs take factors: their baseline is what a restatement changes. */
static bool uses_factors(const om_report *r, om_kpi_id id)
{
    return strncmp(r->kpis[id].key, "ghg_", 4) == 0;
}

static om_kpi_id kpi_of(const om_report *r, const om_target *t)
{
    const om_kpi *k = om_report_kpi(r, om_policy_kpi_names[t->kpi]);
    return k ? k->id : OM_KPI_ENERGY_TOTAL;
}

/* The KPI in the baseline year: the report's own columns when the
 * baseline is this year or the previous one, else computed from that
 * year's rows and bills. */
static int baseline(const om_kpi_input *in, const om_report *r, const om_target *t, om_kpi_id id,
                    om_report_target *out)
{
    const om_kpi *k = &r->kpis[id];
    if (t->baseline_year == r->year || t->baseline_year == r->year - 1) {
        const om_kpi_figure *f = t->baseline_year == r->year ? &k->current : &k->previous;
        out->has_baseline = f->has_value;
        out->baseline = f->value;
        out->baseline_ncovered = f->ncovered;
        out->baseline_restated = t->baseline_year < r->year &&
                                 in->policy->restate_previous_year && uses_factors(r, id);
        return 0;
    }
    int factor_year = in->policy->restate_previous_year && t->baseline_year < r->year
                          ? r->year
                          : t->baseline_year;
    om_site_year *ys = calloc(in->nsites ? in->nsites : 1, sizeof *ys);
    if (!ys)
        return -1;
    om_kpi_figure f;
    int rc = om_kpi_site_years(in, r, t->baseline_year, factor_year, ys, NULL, NULL, NULL);
    if (rc == 0)
        rc = om_kpi_compute_figure(in, in->nsites, ys, id, &f);
    if (rc == 0) {
        out->has_baseline = f.has_value;
        out->baseline = f.value;
        out->baseline_ncovered = f.ncovered;
        out->baseline_restated = factor_year != t->baseline_year && uses_factors(r, id);
        free(f.covered);
    }
    free(ys);
    return rc;
}

int om_kpi_targets(const om_kpi_input *in, om_report *r, const om_site_year *cur,
                   const om_site_year *prev)
{
    (void)cur;
    (void)prev;
    const om_policy *p = in->policy;
    if (p->ntargets == 0)
        return 0;
    r->targets = calloc(p->ntargets, sizeof *r->targets);
    if (!r->targets)
        return -1;
    for (size_t i = 0; i < p->ntargets; i++) {
        const om_target *t = &p->targets[i];
        om_report_target *rt = &r->targets[r->ntargets++];
        rt->target = t;
        rt->kpi = kpi_of(r, t);
        const om_kpi *k = &r->kpis[rt->kpi];
        if (t->baseline_year <= r->year && baseline(in, r, t, rt->kpi, rt) < 0)
            return -1;
        rt->has_current = k->current.has_value;
        rt->current = k->current.value;
        rt->target_value = rt->baseline * (1 - t->reduction_pct / 100);
        rt->path_reduction_pct = path_pct(t, r->year);
        rt->path = rt->baseline * (1 - rt->path_reduction_pct / 100);
        if (rt->has_baseline && rt->has_current && rt->baseline != 0)
            rt->change_pct = (rt->current - rt->baseline) / rt->baseline * 100;
        if (r->year < t->baseline_year)
            rt->status = OM_TARGET_NOT_STARTED;
        else if (!rt->has_baseline || !rt->has_current)
            rt->status = OM_TARGET_NO_DATA;
        else
            rt->status = rt->current <= rt->path * (1 + 1e-12) ? OM_TARGET_ON_TRACK
                                                                : OM_TARGET_BEHIND;
    }
    return 0;
}

const char *om_target_status_name(om_target_status s)
{
    switch (s) {
    case OM_TARGET_ON_TRACK: return "on track";
    case OM_TARGET_BEHIND: return "behind";
    case OM_TARGET_NOT_STARTED: return "not started";
    case OM_TARGET_NO_DATA: return "no data";
    default: return "?";
    }
}

size_t om_report_years(const om_policy *policy, int year, int *years, size_t cap)
{
    size_t n = 0;
    if (cap < 2)
        return 0;
    years[n++] = year - 1;
    years[n++] = year;
    for (size_t i = 0; i < policy->ntargets && n < cap; i++) {
        int y = policy->targets[i].baseline_year;
        bool have = y > year;
        for (size_t k = 0; k < n; k++)
            have |= years[k] == y;
        if (!have)
            years[n++] = y;
    }
    return n;
}
