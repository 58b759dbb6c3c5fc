/* SPDX-License-Identifier: Apache-2.0 */
/*
 * factors.c - load emission factors and the reporting policy, and choose
 * the factor for a region, kind and year.
 */
#include "officemeter/config/factors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/id.h"
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

/* ---- bills ------------------------------------------------------------------ */

static const char *const utility_names[] = {"electricity", "water", NULL};
static const char *const use_names[] = {"fill", "reconcile_only", NULL};

static void check_rule(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_bill_rule *rule = obj;
    yaml_node_t *at = om_cfg_get(ctx, node, "site");
    at = at ? at : node;
    rule->line = at->start_mark.line + 1;
    rule->col = at->start_mark.column + 1;
}

static const om_cfg_field rule_fields[] = {
    OM_F_ID(om_bill_rule, site, "site", OM_CFG_REQUIRED),
    OM_F_ENUM(om_bill_rule, utility, "utility", OM_CFG_REQUIRED, utility_names, NULL),
    OM_F_ENUM(om_bill_rule, use, "use", OM_CFG_REQUIRED, use_names, NULL),
};
static const om_cfg_schema rule_schema =
    OM_SCHEMA(om_bill_rule, "bill rule", rule_fields, check_rule);

static const om_cfg_field share_fields[] = {
    OM_F_ID(om_account_share, site, "site", OM_CFG_REQUIRED),
    OM_F_DOUBLE(om_account_share, share, "share", OM_CFG_REQUIRED, 0, 1, NULL),
};
static const om_cfg_schema share_schema =
    OM_SCHEMA(om_account_share, "account share", share_fields, NULL);

static void check_account(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_bill_account *a = obj;
    a->line = node->start_mark.line + 1;
    a->col = node->start_mark.column + 1;
    bool by_area = om_cfg_get(ctx, node, "sites") != NULL;
    bool by_share = om_cfg_get(ctx, node, "shares") != NULL;
    if (by_area == by_share) {
        om_cfg_error(ctx, node, NULL, "%s (expected exactly one of sites, split by floor area, "
                                      "or shares)",
                     by_area ? "both sites and shares given" : "neither sites nor shares given");
        return;
    }
    size_t n = by_area ? a->nsites : a->nshares;
    const char *list = by_area ? "sites" : "shares";
    if (n < 2 && om_cfg_key_valid(ctx, node, by_area ? "sites" : "shares"))
        om_cfg_error(ctx, om_cfg_get(ctx, node, by_area ? "sites" : "shares"),
                     by_area ? "sites" : "shares",
                     "%zu site%s (expected two or more: an account of one site needs no entry)",
                     n, n == 1 ? "" : "s");
    for (size_t i = 0; i < a->nsites; i++)
        if (!om_id_valid(a->sites[i]))
            om_cfg_error(ctx, om_cfg_item(ctx, om_cfg_get(ctx, node, "sites"), i), "sites",
                         "not a site id (got \"%s\")", a->sites[i]);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++) {
            const char *x = by_area ? a->sites[i] : a->shares[i].site;
            const char *y = by_area ? a->sites[k] : a->shares[k].site;
            if (x && y && strcmp(x, y) == 0)
                om_cfg_error(ctx, om_cfg_item(ctx, om_cfg_get(ctx, node, list), i), list,
                             "site %s named twice", x);
        }
    if (by_share && om_cfg_key_valid(ctx, node, "shares")) {
        double sum = 0;
        for (size_t i = 0; i < a->nshares; i++)
            sum += a->shares[i].share;
        if (fabs(sum - 1) > 1e-9)
            om_cfg_error(ctx, om_cfg_get(ctx, node, "shares"), "shares",
                         "shares add up to %.10g (expected 1)", sum);
    }
}

static const om_cfg_field account_fields[] = {
    OM_F_STRING(om_bill_account, account, "account", OM_CFG_REQUIRED),
    OM_F_ENUM(om_bill_account, utility, "utility", OM_CFG_REQUIRED, utility_names, NULL),
    OM_F_STRLIST(om_bill_account, sites, nsites, "sites", 0),
    OM_F_LIST(om_bill_account, shares, nshares, "shares", 0, &share_schema),
};
static const om_cfg_schema account_schema =
    OM_SCHEMA(om_bill_account, "bill account", account_fields, check_account);

static void check_bill_policy(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_bill_policy *b = obj;
    yaml_node_t *rules = om_cfg_get(ctx, node, "rules");
    for (size_t i = 0; i < b->nrules; i++)
        for (size_t k = 0; k < i; k++)
            if (b->rules[i].site && b->rules[k].site &&
                strcmp(b->rules[i].site, b->rules[k].site) == 0 &&
                b->rules[i].utility == b->rules[k].utility)
                om_cfg_error(ctx, om_cfg_item(ctx, rules, i), "rules",
                             "a second rule for %s %s (the first is rules[%zu])",
                             b->rules[i].site, utility_names[b->rules[i].utility], k);
    yaml_node_t *accounts = om_cfg_get(ctx, node, "accounts");
    for (size_t i = 0; i < b->naccounts; i++)
        for (size_t k = 0; k < i; k++)
            if (b->accounts[i].account && b->accounts[k].account &&
                strcmp(b->accounts[i].account, b->accounts[k].account) == 0 &&
                b->accounts[i].utility == b->accounts[k].utility)
                om_cfg_error(ctx, om_cfg_item(ctx, accounts, i), "accounts",
                             "account %s declared twice (also accounts[%zu])",
                             b->accounts[i].account, k);
}

static const om_cfg_field bill_policy_fields[] = {
    OM_F_STRING(om_bill_policy, folder, "folder", 0),
    OM_F_ENUM(om_bill_policy, use, "use", 0, use_names, "fill"),
    OM_F_LIST(om_bill_policy, rules, nrules, "rules", 0, &rule_schema),
    OM_F_LIST(om_bill_policy, accounts, naccounts, "accounts", 0, &account_schema),
    OM_F_DOUBLE(om_bill_policy, reconcile_threshold_pct, "reconcile_threshold_pct", 0, 0, 100,
                "5"),
};
static const om_cfg_schema bill_policy_schema =
    OM_SCHEMA(om_bill_policy, "bills", bill_policy_fields, check_bill_policy);

/* ---- targets ------------------------------------------------------------------ */

const char *const om_policy_kpi_names[] = {
    "energy_total_mwh",
    "energy_electricity_mwh",
    "energy_intensity_mwh_per_m2",
    "energy_intensity_mwh_per_employee",
    "ghg_scope1_t",
    "ghg_scope2_location_t",
    "ghg_scope2_market_t",
    "ghg_total_t",
    "ghg_intensity_t_per_m2",
    "ghg_intensity_t_per_employee",
    "ghg_scope3_cat3_t",
    "ghg_scope3_water_t",
    "water_t",
    "water_intensity_t_per_m2",
    "water_intensity_t_per_employee",
    NULL,
};
static const char *const target_type_names[] = {"absolute", "intensity", NULL};

static const om_cfg_field milestone_fields[] = {
    OM_F_INT(om_milestone, year, "year", OM_CFG_REQUIRED, 1990, 2100, NULL),
    OM_F_DOUBLE(om_milestone, reduction_pct, "reduction_pct", OM_CFG_REQUIRED, 0, 100, NULL),
};
static const om_cfg_schema milestone_schema =
    OM_SCHEMA(om_milestone, "milestone", milestone_fields, NULL);

static void check_target(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_target *t = obj;
    t->line = node->start_mark.line + 1;
    t->col = node->start_mark.column + 1;
    bool intensity = om_cfg_key_valid(ctx, node, "kpi") &&
                     strstr(om_policy_kpi_names[t->kpi], "_per_") != NULL;
    yaml_node_t *type = om_cfg_get(ctx, node, "type");
    if (!type)
        t->type = intensity ? OM_TARGET_INTENSITY : OM_TARGET_ABSOLUTE;
    else if (om_cfg_key_valid(ctx, node, "type") && om_cfg_key_valid(ctx, node, "kpi") &&
             (t->type == OM_TARGET_INTENSITY) != intensity)
        om_cfg_error(ctx, type, "type", "%s is %s KPI (got %s)", om_policy_kpi_names[t->kpi],
                     intensity ? "an intensity" : "an absolute",
                     target_type_names[t->type]);
    if (om_cfg_key_valid(ctx, node, "baseline_year") &&
        om_cfg_key_valid(ctx, node, "target_year") && t->target_year <= t->baseline_year)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "target_year"), "target_year",
                     "not after the baseline year (got %d, expected after %d)", t->target_year,
                     t->baseline_year);
    yaml_node_t *list = om_cfg_get(ctx, node, "milestones");
    int prev_year = t->baseline_year;
    double prev_pct = 0;
    for (size_t i = 0; i < t->nmilestones; i++) {
        const om_milestone *m = &t->milestones[i];
        char key[48];
        snprintf(key, sizeof key, "milestones[%zu]", i);
        yaml_node_t *at = om_cfg_item(ctx, list, i);
        if (m->year <= prev_year || m->year >= t->target_year)
            om_cfg_error(ctx, at, key,
                         "year %d out of order (expected after %d and before the target year %d)",
                         m->year, prev_year, t->target_year);
        else if (m->reduction_pct < prev_pct || m->reduction_pct > t->reduction_pct)
            om_cfg_error(ctx, at, key,
                         "reduction %.10g%% out of order (expected from %.10g%% to the target's "
                         "%.10g%%)",
                         m->reduction_pct, prev_pct, t->reduction_pct);
        prev_year = m->year;
        prev_pct = m->reduction_pct;
    }
}

static const om_cfg_field target_fields[] = {
    OM_F_ENUM(om_target, kpi, "kpi", OM_CFG_REQUIRED, om_policy_kpi_names, NULL),
    OM_F_INT(om_target, baseline_year, "baseline_year", OM_CFG_REQUIRED, 1990, 2100, NULL),
    OM_F_INT(om_target, target_year, "target_year", OM_CFG_REQUIRED, 1990, 2100, NULL),
    OM_F_DOUBLE(om_target, reduction_pct, "reduction_pct", OM_CFG_REQUIRED, 0, 100, NULL),
    OM_F_ENUM(om_target, type, "type", 0, target_type_names, NULL),
    OM_F_LIST(om_target, milestones, nmilestones, "milestones", 0, &milestone_schema),
};
static const om_cfg_schema target_schema =
    OM_SCHEMA(om_target, "target", target_fields, check_target);

/* ---- the policy ----------------------------------------------------------------- */

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
    OM_F_STRUCT(om_policy, bills, "bills", 0, &bill_policy_schema),
    OM_F_LIST(om_policy, targets, ntargets, "targets", 0, &target_schema),
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

/* ---- bills in the policy ------------------------------------------------------------ */

om_bill_use om_policy_bill_use(const om_policy *policy, const char *site, om_utility utility)
{
    for (size_t i = 0; i < policy->bills.nrules; i++) {
        const om_bill_rule *r = &policy->bills.rules[i];
        if (r->utility == utility && r->site && strcmp(r->site, site) == 0)
            return r->use;
    }
    return policy->bills.use;
}

const om_bill_account *om_policy_account(const om_policy *policy, const char *account,
                                         om_utility utility)
{
    for (size_t i = 0; i < policy->bills.naccounts; i++) {
        const om_bill_account *a = &policy->bills.accounts[i];
        if (a->utility == utility && a->account && strcmp(a->account, account) == 0)
            return a;
    }
    return NULL;
}

char *om_policy_bills_folder(const om_policy *policy)
{
    const char *folder = policy->bills.folder ? policy->bills.folder : "bills";
    const char *path = policy->path ? policy->path : "";
    const char *slash = strrchr(path, '/');
    size_t dir = folder[0] == '/' ? 0 : slash ? (size_t)(slash - path) + 1 : 0;
    size_t len = dir + strlen(folder) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s%s", (int)dir, path, folder);
    return out;
}

static bool site_known(const om_site *sites, size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (sites[i].site && strcmp(sites[i].site, id) == 0)
            return true;
    return false;
}

size_t om_policy_check_sites(const om_policy *policy, const om_site *sites, size_t nsites,
                             om_diag *diag)
{
    size_t before = om_diag_count(diag);
    const om_bill_policy *b = &policy->bills;
    for (size_t i = 0; i < b->nrules; i++)
        if (!site_known(sites, nsites, b->rules[i].site)) {
            char key[64];
            snprintf(key, sizeof key, "bills.rules[%zu].site", i);
            om_diag_add(diag, policy->path, b->rules[i].line, b->rules[i].col, key,
                        "unknown site (got \"%s\", expected a site of the portfolio)",
                        b->rules[i].site);
        }
    for (size_t i = 0; i < b->naccounts; i++) {
        const om_bill_account *a = &b->accounts[i];
        size_t n = a->nsites ? a->nsites : a->nshares;
        for (size_t k = 0; k < n; k++) {
            const char *id = a->nsites ? a->sites[k] : a->shares[k].site;
            if (site_known(sites, nsites, id))
                continue;
            char key[96];
            snprintf(key, sizeof key, "bills.accounts[%zu].%s[%zu]", i,
                     a->nsites ? "sites" : "shares", k);
            om_diag_add(diag, policy->path, a->line, a->col, key,
                        "unknown site (got \"%s\", expected a site of the portfolio)", id);
        }
    }
    return om_diag_count(diag) - before;
}
