/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.c - find and validate catalogue, site, factor and policy files.
 *
 * Order matters for cross-references: models first (sites name them),
 * factors before the policy (the policy names factors). All files are
 * checked even after errors, so one run lists every problem. What kind a
 * file is, filekind.c decides (the aggregator uses the same rule).
 */
#include "officemeter/config/check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "officemeter/base/path.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/config/agentcfg.h"
#include "officemeter/config/alertcfg.h"
#include "officemeter/config/bills.h"
#include "officemeter/config/webcfg.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/factors.h"
#include "officemeter/config/site.h"
#include "filekind_private.h"
#include "yamlcfg_private.h"

typedef struct {
    char **paths[OM_FILE__COUNT];
    size_t counts[OM_FILE__COUNT];
} file_sets;

static void add_path(file_sets *sets, om_file_kind kind, const char *path)
{
    char **grown = realloc(sets->paths[kind], (sets->counts[kind] + 1) * sizeof *grown);
    if (!grown)
        return;
    grown[sets->counts[kind]++] = strdup(path);
    sets->paths[kind] = grown;
}

static void collect(file_sets *sets, const char *path, om_diag *diag, int explicit_arg)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        om_diag_add(diag, path, 0, 0, NULL, "no such file or folder");
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (explicit_arg || om_path_is_yaml(path) || om_cfg_is_bill_file(path))
            add_path(sets, om_cfg_file_kind(path), path);
        return;
    }
    char **names;
    size_t n;
    if (om_dir_list(path, NULL, &names, &n) < 0) {
        om_diag_add(diag, path, 0, 0, NULL, "cannot read folder");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char child[4096];
        snprintf(child, sizeof child, "%s%s%s", path,
                 path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        if (stat(child, &st) == 0 &&
            (S_ISDIR(st.st_mode) || om_path_is_yaml(names[i]) || om_cfg_is_bill_file(child)))
            collect(sets, child, diag, 0);
    }
    om_dir_list_free(names, n);
}

/* The models that site files are checked against: the model files being
 * checked, then those of the reference catalogue (catalogue_dir) that the
 * paths do not redefine. The reference catalogue is not what is being
 * checked, so its own errors are not reported here. */
static void load_models(file_sets *sets, const char *catalogue_dir, om_catalogue *cat,
                        om_diag *diag)
{
    size_t n = sets->counts[OM_FILE_MODEL];
    om_catalogue base = {0};
    if (catalogue_dir) {
        om_diag scratch;
        om_diag_init(&scratch);
        om_catalogue_load(catalogue_dir, &base, &scratch);
        om_diag_free(&scratch);
    }
    cat->models = calloc(n + base.nmodels + 1, sizeof *cat->models);
    if (!cat->models) {
        om_catalogue_free(&base);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        om_model *m = &cat->models[cat->nmodels];
        om_model_load(sets->paths[OM_FILE_MODEL][i], m, diag);
        for (size_t k = 0; m->id && k < cat->nmodels; k++)
            if (cat->models[k].id && strcmp(cat->models[k].id, m->id) == 0)
                om_diag_add(diag, sets->paths[OM_FILE_MODEL][i], 0, 0, "model",
                            "duplicate model id \"%s\" (also in %s)", m->id, cat->models[k].path);
        cat->nmodels++;
    }
    for (size_t i = 0; i < base.nmodels; i++) {
        if (base.models[i].id && !om_catalogue_find(cat, base.models[i].id))
            cat->models[cat->nmodels++] = base.models[i]; /* moved, not copied */
        else
            om_model_free(&base.models[i]);
    }
    free(base.models);
}

static void check_site_ids(file_sets *sets, om_site *sites, size_t n, om_diag *diag)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (sites[i].site && sites[k].site && strcmp(sites[i].site, sites[k].site) == 0)
                om_diag_add(diag, sets->paths[OM_FILE_SITE][i], 0, 0, "site",
                            "duplicate site id \"%s\" (also in %s)", sites[i].site,
                            sets->paths[OM_FILE_SITE][k]);
}

/* An agent config is checked with the site file it names: the gateway
 * must be declared there. */
static void check_agent(const char *path, const om_catalogue *cat, om_diag *diag)
{
    om_agent_config cfg;
    om_agent_config_load(path, &cfg, diag);
    if (cfg.site_file && cfg.gateway) {
        om_site site;
        size_t before = om_diag_count(diag);
        om_site_load(cfg.site_file, cat->nmodels ? cat : NULL, &site, diag);
        if (om_diag_count(diag) == before && !om_site_find_gateway(&site, cfg.gateway))
            om_diag_add(diag, path, cfg.gateway_line, cfg.gateway_col, "gateway",
                        "unknown gateway (got \"%s\", expected a gateway of %s)", cfg.gateway,
                        cfg.site_file);
        om_site_free(&site);
    }
    om_agent_config_free(&cfg);
}

/* An aggregator config is checked with the folders it names: the site
 * files themselves are checked when the paths include them. */
static void check_folder(om_diag *diag, const char *file, size_t line, size_t col,
                         const char *key, const char *dir)
{
    struct stat st;
    if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
        om_diag_add(diag, file, line, col, key, "not a folder (got \"%s\")", dir);
}

static void check_aggregator(const char *path, om_diag *diag)
{
    om_agg_config cfg;
    if (om_agg_config_load(path, &cfg, diag) == 0) {
        check_folder(diag, path, cfg.sites_dir_line, cfg.sites_dir_col, "sites_dir",
                     cfg.sites_dir);
        if (strcmp(cfg.catalogue, OM_AGG_DEFAULT_CATALOGUE) != 0)
            check_folder(diag, path, 0, 0, "catalogue", cfg.catalogue);
    }
    om_agg_config_free(&cfg);
}

/* Bill files: each row, then the same days billed twice; the file's site
 * must be one of the sites checked with it. */
static void check_bills(file_sets *sets, const om_site *sites, size_t nsites, om_diag *diag)
{
    om_bill_set bills = {0};
    for (size_t i = 0; i < sets->counts[OM_FILE_BILLS]; i++) {
        const char *path = sets->paths[OM_FILE_BILLS][i];
        size_t first = bills.nbills;
        if (om_bills_load(path, &bills, diag) < 0 || nsites == 0 || bills.nbills == first)
            continue;
        bool known = false;
        for (size_t s = 0; s < nsites; s++)
            known |= sites[s].site && strcmp(sites[s].site, bills.bills[first].site) == 0;
        if (!known)
            om_diag_add(diag, path, 0, 0, NULL,
                        "bills of an unknown site (got \"%s\", expected SITE.csv of a site "
                        "file checked with it)",
                        bills.bills[first].site);
    }
    om_bills_check_overlaps(&bills, diag);
    om_bills_free(&bills);
}

int om_check_paths(char *const *paths, size_t npaths, const char *catalogue_dir, om_diag *diag,
                   om_check_stats *stats)
{
    file_sets sets = {0};
    size_t before = om_diag_count(diag);
    memset(stats, 0, sizeof *stats);
    for (size_t i = 0; i < npaths; i++)
        collect(&sets, paths[i], diag, 1);

    om_catalogue cat = {0};
    load_models(&sets, catalogue_dir, &cat, diag);
    stats->models = sets.counts[OM_FILE_MODEL];

    size_t nsites = sets.counts[OM_FILE_SITE];
    /* Without any model, a site file's models cannot be resolved: say so
     * rather than pass a file whose meters were never checked. */
    if (nsites > 0 && cat.nmodels == 0)
        om_diag_add(diag, catalogue_dir ? catalogue_dir : "(no catalogue)", 0, 0, "catalogue",
                    "no meter models here or among the paths checked, so the site files' "
                    "meters cannot be checked (give --catalogue DIR)");
    om_site *sites = nsites ? calloc(nsites, sizeof *sites) : NULL;
    for (size_t i = 0; i < nsites; i++)
        om_site_load(sets.paths[OM_FILE_SITE][i], cat.nmodels ? &cat : NULL, &sites[i], diag);
    check_site_ids(&sets, sites, nsites, diag);
    stats->sites = nsites;

    om_factor_set factors = {0};
    for (size_t i = 0; i < sets.counts[OM_FILE_FACTORS]; i++) {
        om_factors_free(&factors);
        om_factors_load(sets.paths[OM_FILE_FACTORS][i], &factors, diag);
    }
    stats->factor_files = sets.counts[OM_FILE_FACTORS];
    for (size_t i = 0; i < sets.counts[OM_FILE_POLICY]; i++) {
        om_policy policy;
        size_t errors = om_diag_count(diag);
        om_policy_load(sets.paths[OM_FILE_POLICY][i], factors.nfactors ? &factors : NULL, &policy,
                       diag);
        /* The sites the policy names, when the portfolio is being checked too. */
        if (nsites > 0 && om_diag_count(diag) == errors)
            om_policy_check_sites(&policy, sites, nsites, diag);
        om_policy_free(&policy);
    }
    check_bills(&sets, sites, nsites, diag);
    stats->bill_files = sets.counts[OM_FILE_BILLS];
    stats->policy_files = sets.counts[OM_FILE_POLICY];
    for (size_t i = 0; i < sets.counts[OM_FILE_AGENT]; i++)
        check_agent(sets.paths[OM_FILE_AGENT][i], &cat, diag);
    stats->agent_files = sets.counts[OM_FILE_AGENT];
    for (size_t i = 0; i < sets.counts[OM_FILE_AGGREGATOR]; i++)
        check_aggregator(sets.paths[OM_FILE_AGGREGATOR][i], diag);
    stats->aggregator_files = sets.counts[OM_FILE_AGGREGATOR];
    for (size_t i = 0; i < sets.counts[OM_FILE_WEB]; i++) {
        om_web_config web;
        om_web_config_load(sets.paths[OM_FILE_WEB][i], &web, diag);
        om_web_config_free(&web);
    }
    stats->web_files = sets.counts[OM_FILE_WEB];
    /* The alert policy names sites, meters and gateways: checked against the
     * site files checked with it (when there are any). */
    for (size_t i = 0; i < sets.counts[OM_FILE_ALERTS]; i++) {
        om_alert_policy alerts;
        om_alert_policy_load(sets.paths[OM_FILE_ALERTS][i], nsites ? sites : NULL, nsites, &alerts,
                             diag);
        om_alert_policy_free(&alerts);
    }
    stats->alert_files = sets.counts[OM_FILE_ALERTS];
    stats->skipped = sets.counts[OM_FILE_OTHER];
    /* Neither readable nor YAML within the caps: the reason is the error. */
    for (size_t i = 0; i < sets.counts[OM_FILE_BROKEN]; i++)
        om_cfg_check_syntax(sets.paths[OM_FILE_BROKEN][i], diag);

    for (size_t i = 0; i < nsites; i++)
        om_site_free(&sites[i]);
    free(sites);
    om_factors_free(&factors);
    om_catalogue_free(&cat);
    for (int k = 0; k < OM_FILE__COUNT; k++) {
        for (size_t i = 0; i < sets.counts[k]; i++)
            free(sets.paths[k][i]);
        free(sets.paths[k]);
    }
    return om_diag_count(diag) == before ? 0 : -1;
}
