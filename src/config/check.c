/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.c - find and validate catalogue, site, factor and policy files.
 *
 * Order matters for cross-references: models first (sites name them),
 * factors before the policy (the policy names factors). All files are
 * checked even after errors, so one run lists every problem.
 */
#include "officemeter/config/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "officemeter/config/aggcfg.h"
#include "officemeter/config/agentcfg.h"
#include "officemeter/config/alertcfg.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/config/factors.h"
#include "officemeter/config/site.h"
#include "yamlcfg_private.h"

typedef enum {
    KIND_MODEL,
    KIND_SITE,
    KIND_FACTORS,
    KIND_POLICY,
    KIND_AGENT,
    KIND_AGGREGATOR,
    KIND_ALERTS,
    KIND_OTHER,
    KIND__COUNT
} file_kind;

typedef struct {
    char **paths[KIND__COUNT];
    size_t counts[KIND__COUNT];
} file_sets;

static void add_path(file_sets *sets, file_kind kind, const char *path)
{
    char **grown = realloc(sets->paths[kind], (sets->counts[kind] + 1) * sizeof *grown);
    if (!grown)
        return;
    grown[sets->counts[kind]++] = strdup(path);
    sets->paths[kind] = grown;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int is_yaml(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int in_meters_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return 0;
    size_t len = (size_t)(slash - path);
    return (len == 6 && strncmp(path, "meters", 6) == 0) ||
           (len >= 7 && strncmp(slash - 7, "/meters", 7) == 0);
}

static file_kind classify(const char *path)
{
    const char *base = base_name(path);
    if (strcmp(base, "emission-factors.yaml") == 0)
        return KIND_FACTORS;
    if (strcmp(base, "reporting.yaml") == 0)
        return KIND_POLICY;
    if (strcmp(base, "alerts.yaml") == 0)
        return KIND_ALERTS;
    if (om_cfg_root_has_key(path, "site_file") == 1)
        return KIND_AGENT;
    if (om_cfg_root_has_key(path, "sites_dir") == 1 || om_cfg_root_has_key(path, "database") == 1)
        return KIND_AGGREGATOR;
    int has_model = om_cfg_root_has_key(path, "model");
    if (in_meters_dir(path) || has_model == 1)
        return KIND_MODEL;
    /* An unreadable or unparsable file is loaded as a site so that its
     * error is reported, not skipped. */
    if (has_model < 0 || om_cfg_root_has_key(path, "site") == 1 ||
        om_cfg_root_has_key(path, "meters") == 1)
        return KIND_SITE;
    return KIND_OTHER;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(file_sets *sets, const char *path, om_diag *diag, int explicit_arg)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        om_diag_add(diag, path, 0, 0, NULL, "no such file or folder");
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (explicit_arg || is_yaml(path))
            add_path(sets, classify(path), path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        om_diag_add(diag, path, 0, 0, NULL, "cannot read folder");
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *grown);
        if (!grown)
            break;
        names = grown;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char child[4096];
        snprintf(child, sizeof child, "%s%s%s", path,
                 path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        if (stat(child, &st) == 0 && (S_ISDIR(st.st_mode) || is_yaml(names[i])))
            collect(sets, child, diag, 0);
        free(names[i]);
    }
    free(names);
}

/* The models that site files are checked against: the model files being
 * checked, then those of the reference catalogue (catalogue_dir) that the
 * paths do not redefine. The reference catalogue is not what is being
 * checked, so its own errors are not reported here. */
static void load_models(file_sets *sets, const char *catalogue_dir, om_catalogue *cat,
                        om_diag *diag)
{
    size_t n = sets->counts[KIND_MODEL];
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
        om_model_load(sets->paths[KIND_MODEL][i], m, diag);
        for (size_t k = 0; m->id && k < cat->nmodels; k++)
            if (cat->models[k].id && strcmp(cat->models[k].id, m->id) == 0)
                om_diag_add(diag, sets->paths[KIND_MODEL][i], 0, 0, "model",
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
                om_diag_add(diag, sets->paths[KIND_SITE][i], 0, 0, "site",
                            "duplicate site id \"%s\" (also in %s)", sites[i].site,
                            sets->paths[KIND_SITE][k]);
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
    stats->models = sets.counts[KIND_MODEL];

    size_t nsites = sets.counts[KIND_SITE];
    /* Without any model, a site file's models cannot be resolved: say so
     * rather than pass a file whose meters were never checked. */
    if (nsites > 0 && cat.nmodels == 0)
        om_diag_add(diag, catalogue_dir ? catalogue_dir : "(no catalogue)", 0, 0, "catalogue",
                    "no meter models here or among the paths checked, so the site files' "
                    "meters cannot be checked (give --catalogue DIR)");
    om_site *sites = nsites ? calloc(nsites, sizeof *sites) : NULL;
    for (size_t i = 0; i < nsites; i++)
        om_site_load(sets.paths[KIND_SITE][i], cat.nmodels ? &cat : NULL, &sites[i], diag);
    check_site_ids(&sets, sites, nsites, diag);
    stats->sites = nsites;

    om_factor_set factors = {0};
    for (size_t i = 0; i < sets.counts[KIND_FACTORS]; i++) {
        om_factors_free(&factors);
        om_factors_load(sets.paths[KIND_FACTORS][i], &factors, diag);
    }
    stats->factor_files = sets.counts[KIND_FACTORS];
    for (size_t i = 0; i < sets.counts[KIND_POLICY]; i++) {
        om_policy policy;
        om_policy_load(sets.paths[KIND_POLICY][i], factors.nfactors ? &factors : NULL, &policy,
                       diag);
        om_policy_free(&policy);
    }
    stats->policy_files = sets.counts[KIND_POLICY];
    for (size_t i = 0; i < sets.counts[KIND_AGENT]; i++)
        check_agent(sets.paths[KIND_AGENT][i], &cat, diag);
    stats->agent_files = sets.counts[KIND_AGENT];
    for (size_t i = 0; i < sets.counts[KIND_AGGREGATOR]; i++)
        check_aggregator(sets.paths[KIND_AGGREGATOR][i], diag);
    stats->aggregator_files = sets.counts[KIND_AGGREGATOR];
    /* The alert policy names sites, meters and gateways: checked against the
     * site files checked with it (when there are any). */
    for (size_t i = 0; i < sets.counts[KIND_ALERTS]; i++) {
        om_alert_policy alerts;
        om_alert_policy_load(sets.paths[KIND_ALERTS][i], nsites ? sites : NULL, nsites, &alerts,
                             diag);
        om_alert_policy_free(&alerts);
    }
    stats->alert_files = sets.counts[KIND_ALERTS];
    stats->skipped = sets.counts[KIND_OTHER];

    for (size_t i = 0; i < nsites; i++)
        om_site_free(&sites[i]);
    free(sites);
    om_factors_free(&factors);
    om_catalogue_free(&cat);
    for (int k = 0; k < KIND__COUNT; k++) {
        for (size_t i = 0; i < sets.counts[k]; i++)
            free(sets.paths[k][i]);
        free(sets.paths[k]);
    }
    return om_diag_count(diag) == before ? 0 : -1;
}
