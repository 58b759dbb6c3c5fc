/* SPDX-License-Identifier: Apache-2.0 */
/*
 * factors.c - load emission factors and the reporting policy, and choose
 * the factor for a region, kind and year.
 */
#include "officemeter/config/factors.h"

#include <stdlib.h>
#include <string.h>

#include "yamlcfg_private.h"

static const char *const kind_names[] = {"grid_electricity", "residual_mix", "td_losses",
                                         "wtt_generation",   "wtt_td",       "water_supply",
                                         "water_treatment",  NULL};
static const char *const unit_names[] = {"tCO2/MWh", "tCO2e/MWh", "kgCO2e/kWh", "kgCO2e/m3",
                                         "tCO2e/m3", NULL};
static const char *const verification_names[] = {"unverified", "verified", NULL};
static const char *const area_names[] = {"time_weighted", "year_end", NULL};
static const char *const scope_names[] = {"covered_sites", "whole_portfolio", NULL};

static bool is_water_kind(om_factor_kind k)
{
    return k == OM_FACTOR_WATER_SUPPLY || k == OM_FACTOR_WATER_TREATMENT;
}

static bool is_water_unit(om_factor_unit u)
{
    return u == OM_UNIT_KGCO2E_PER_M3 || u == OM_UNIT_TCO2E_PER_M3;
}

static void check_factor(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_factor *f = obj;
    if (is_water_kind(f->kind) != is_water_unit(f->unit))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "unit"), "unit",
                     "does not suit kind %s (got %s, expected %s)", kind_names[f->kind],
                     unit_names[f->unit],
                     is_water_kind(f->kind) ? "kgCO2e/m3 or tCO2e/m3"
                                            : "tCO2/MWh, tCO2e/MWh or kgCO2e/kWh");
}

static const om_cfg_field factor_fields[] = {
    OM_F_ID(om_factor, id, "id", OM_CFG_REQUIRED),
    OM_F_STRING(om_factor, region, "region", OM_CFG_REQUIRED),
    OM_F_ENUM(om_factor, kind, "kind", OM_CFG_REQUIRED, kind_names, NULL),
    OM_F_DOUBLE(om_factor, value, "value", OM_CFG_REQUIRED, 0, 1000, NULL),
    OM_F_ENUM(om_factor, unit, "unit", OM_CFG_REQUIRED, unit_names, NULL),
    OM_F_INT(om_factor, activity_year, "activity_year", OM_CFG_REQUIRED, 1990, 2100, NULL),
    OM_F_STRING(om_factor, source, "source", OM_CFG_REQUIRED),
    OM_F_DATE(om_factor, published, "published", OM_CFG_REQUIRED),
    OM_F_ENUM(om_factor, verified, "verification", OM_CFG_REQUIRED, verification_names, NULL),
    OM_F_STRING(om_factor, note, "note", 0),
};
static const om_cfg_schema factor_schema = OM_SCHEMA(om_factor, "factor", factor_fields,
                                                     check_factor);

static void check_factor_set(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_factor_set *set = obj;
    yaml_node_t *list = om_cfg_get(ctx, node, "factors");
    char key[64];
    for (size_t i = 0; i < set->nfactors; i++) {
        const om_factor *a = &set->factors[i];
        for (size_t k = 0; k < i; k++) {
            const om_factor *b = &set->factors[k];
            if (a->id && b->id && strcmp(a->id, b->id) == 0) {
                snprintf(key, sizeof key, "factors[%zu].id", i);
                om_cfg_error(ctx, om_cfg_get(ctx, om_cfg_item(ctx, list, i), "id"), key,
                             "duplicate factor id (got \"%s\", already used by factors[%zu])",
                             a->id, k);
            } else if (a->region && b->region && a->source && b->source &&
                       strcmp(a->region, b->region) == 0 && a->kind == b->kind &&
                       a->activity_year == b->activity_year && strcmp(a->source, b->source) == 0) {
                snprintf(key, sizeof key, "factors[%zu]", i);
                om_cfg_error(ctx, om_cfg_item(ctx, list, i), key,
                             "same region, kind, activity year and source as factors[%zu] (%s)",
                             k, b->id);
            }
        }
    }
}

static const om_cfg_field factor_set_fields[] = {
    OM_F_LIST(om_factor_set, factors, nfactors, "factors", OM_CFG_REQUIRED | OM_CFG_NONEMPTY,
              &factor_schema),
};
static const om_cfg_schema factor_set_schema =
    OM_SCHEMA(om_factor_set, "emission factors", factor_set_fields, check_factor_set);

static const om_cfg_field choice_fields[] = {
    OM_F_STRING(om_factor_choice, region, "region", OM_CFG_REQUIRED),
    OM_F_ENUM(om_factor_choice, kind, "kind", OM_CFG_REQUIRED, kind_names, NULL),
    OM_F_INT(om_factor_choice, year, "year", OM_CFG_REQUIRED, 1990, 2100, NULL),
    OM_F_ID(om_factor_choice, factor_id, "factor", OM_CFG_REQUIRED),
};
static const om_cfg_schema choice_schema =
    OM_SCHEMA(om_factor_choice, "factor choice", choice_fields, NULL);

static const om_factor *find_factor(const om_factor_set *set, const char *id)
{
    for (size_t i = 0; set && id && i < set->nfactors; i++)
        if (set->factors[i].id && strcmp(set->factors[i].id, id) == 0)
            return &set->factors[i];
    return NULL;
}

/* One choice per region, kind and year: a second one would be ignored
 * without a word (om_factors_select takes the first), and the figure would
 * rest on a choice the reader of the file cannot see. */
static void check_choices_unique(om_cfg_ctx *ctx, const om_policy *p, yaml_node_t *list)
{
    char key[64];
    for (size_t i = 0; i < p->nchoices; i++) {
        const om_factor_choice *c = &p->choices[i];
        for (size_t k = 0; c->region && k < i; k++) {
            const om_factor_choice *b = &p->choices[k];
            if (b->region && strcmp(b->region, c->region) == 0 && b->kind == c->kind &&
                b->year == c->year) {
                snprintf(key, sizeof key, "factor_selection[%zu]", i);
                om_cfg_error(ctx, om_cfg_item(ctx, list, i), key,
                             "a second choice for region %s, kind %s, year %d "
                             "(factor_selection[%zu] chose already)",
                             c->region, kind_names[c->kind], c->year, k);
                break;
            }
        }
    }
}

static void check_policy(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_policy *p = obj;
    const om_factor_set *factors = ctx->user;
    yaml_node_t *list = om_cfg_get(ctx, node, "factor_selection");
    char key[64];
    check_choices_unique(ctx, p, list);
    for (size_t i = 0; factors && i < p->nchoices; i++) {
        const om_factor_choice *c = &p->choices[i];
        const om_factor *f = find_factor(factors, c->factor_id);
        snprintf(key, sizeof key, "factor_selection[%zu].factor", i);
        yaml_node_t *at = om_cfg_get(ctx, om_cfg_item(ctx, list, i), "factor");
        if (c->factor_id && !f)
            om_cfg_error(ctx, at, key, "unknown factor (got \"%s\", expected an id from %s)",
                         c->factor_id, factors->path ? factors->path : "the factor file");
        else if (f && f->kind != c->kind)
            /* Another region's factor is allowed (a city may take the national
             * average), but never another kind of factor. */
            om_cfg_error(ctx, at, key, "factor %s is a %s factor (got a choice for %s)", f->id,
                         kind_names[f->kind], kind_names[c->kind]);
    }
}

static const om_cfg_field policy_fields[] = {
    OM_F_STRING(om_policy, organisation, "organisation", OM_CFG_REQUIRED),
    OM_F_BOOL(om_policy, restate_previous_year, "restate_previous_year", 0, "true"),
    OM_F_ENUM(om_policy, intensity_area, "intensity_area", 0, area_names, "time_weighted"),
    OM_F_ENUM(om_policy, intensity_scope, "intensity_scope", 0, scope_names, "covered_sites"),
    OM_F_UINT(om_policy, gap_intervals, "gap_intervals", 0, 1, 100000, "10"),
    OM_F_LIST(om_policy, choices, nchoices, "factor_selection", 0, &choice_schema),
    OM_F_UINT(om_policy, poll_interval_s, "poll_interval_s", 0, 1, 86400, "60"),
    OM_F_DOUBLE(om_policy, max_power_kw, "max_power_kw", 0, 0.001, 1e7, "5000"),
    OM_F_DOUBLE(om_policy, max_flow_m3h, "max_flow_m3h", 0, 0.001, 1e6, "100"),
};
static const om_cfg_schema policy_schema =
    OM_SCHEMA(om_policy, "reporting policy", policy_fields, check_policy);

int om_factors_load(const char *path, om_factor_set *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->path = strdup(path);
    return om_cfg_load_file(path, &factor_set_schema, out, diag, NULL);
}

void om_factors_free(om_factor_set *set)
{
    if (!set)
        return;
    om_cfg_free(&factor_set_schema, set);
    free(set->path);
    set->path = NULL;
}

int om_policy_load(const char *path, const om_factor_set *factors, om_policy *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->path = strdup(path);
    return om_cfg_load_file(path, &policy_schema, out, diag, (void *)factors);
}

void om_policy_free(om_policy *policy)
{
    if (!policy)
        return;
    om_cfg_free(&policy_schema, policy);
    free(policy->path);
    policy->path = NULL;
}

const om_factor *om_factors_select(const om_factor_set *set, const om_policy *policy,
                                   const char *region, om_factor_kind kind, int year)
{
    for (size_t i = 0; policy && i < policy->nchoices; i++) {
        const om_factor_choice *c = &policy->choices[i];
        if (c->kind == kind && c->year == year && strcmp(c->region, region) == 0)
            return find_factor(set, c->factor_id);
    }
    const om_factor *best = NULL;
    for (size_t i = 0; set && i < set->nfactors; i++) {
        const om_factor *f = &set->factors[i];
        if (f->kind != kind || strcmp(f->region, region) != 0 || f->activity_year > year)
            continue;
        /* Latest activity year wins; for the same year, the latest publication. */
        if (!best || f->activity_year > best->activity_year ||
            (f->activity_year == best->activity_year && f->published > best->published))
            best = f;
    }
    return best;
}

double om_factor_tonnes_per_unit(const om_factor *f)
{
    switch (f->unit) {
    case OM_UNIT_KGCO2E_PER_M3:
        return f->value / 1000.0;
    default:
        /* tCO2/MWh, tCO2e/MWh, kgCO2e/kWh and tCO2e/m3 are all tonnes per unit. */
        return f->value;
    }
}

const char *om_factor_kind_name(om_factor_kind kind)
{
    return kind < OM_FACTOR__COUNT ? kind_names[kind] : "?";
}

const char *om_factor_unit_name(om_factor_unit unit)
{
    return (unsigned)unit < sizeof unit_names / sizeof unit_names[0] - 1 ? unit_names[unit] : "?";
}
