/* SPDX-License-Identifier: Apache-2.0 */
/*
 * approve.c - fingerprints of a report and of its inputs, and what changed
 * since an approval: the inputs that differ (files, readings) are the
 * reasons; the figures that differ are the diff a restatement prints.
 */
#include "approve.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "officemeter/base/isotime.h"
#include "officemeter/base/numfmt.h"
#include "officemeter/report/digest.h"

int om_report_fingerprint(const om_report *r, char **json, char sha[65])
{
    om_report copy = *r;
    copy.approval = NULL;
    size_t len;
    FILE *f = open_memstream(json, &len);
    if (!f)
        return -1;
    int rc = om_report_write_json(&copy, f);
    if (fclose(f) != 0 || rc < 0) {
        free(*json);
        *json = NULL;
        return -1;
    }
    om_sha256_of(*json, len, sha);
    return 0;
}

/* ---- inputs ------------------------------------------------------------------------ */

static void add_file(json_t *files, const char *key, const char *path)
{
    char sha[OM_SHA256_HEX];
    if (path && om_sha256_file(path, sha) == 0)
        json_object_set_new(files, key, json_string(sha));
    else
        json_object_set_new(files, key, json_string("unreadable"));
}

static const char *stem(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, len, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot)
        *dot = '\0';
    return buf;
}

/* Per site-month, the digest of its meter-months' readings digests. */
static void add_readings(json_t *readings, const om_report *r)
{
    /* Rows are sorted by (site, meter, quantity, year, month): one month of
     * a site is spread over its meters; gather it by key. */
    for (size_t i = 0; i < r->nrows; i++) {
        const om_meter_month *m = &r->rows[i];
        char key[96];
        snprintf(key, sizeof key, "%s %04d-%02u", m->site, m->year, m->month);
        if (json_object_get(readings, key))
            continue;
        om_sha256 h;
        om_sha256_init(&h);
        for (size_t k = i; k < r->nrows; k++) {
            const om_meter_month *x = &r->rows[k];
            if (strcmp(x->site, m->site) != 0)
                break;
            if (x->year != m->year || x->month != m->month)
                continue;
            char line[256];
            int n = snprintf(line, sizeof line, "%s,%s,%s\n", x->meter,
                             om_quantity_get(x->quantity)->name, x->readings_sha256);
            om_sha256_update(&h, line, (size_t)n);
        }
        char sha[OM_SHA256_HEX];
        om_sha256_hex(&h, sha);
        json_object_set_new(readings, key, json_string(sha));
    }
}

char *om_report_inputs(const om_env *env, const om_report *r)
{
    json_t *root = json_object(), *files = json_object(), *readings = json_object();
    char key[160], buf[128];
    for (size_t s = 0; s < r->nsites; s++) {
        const om_site *site = r->sites[s].site;
        snprintf(key, sizeof key, "site:%s", site->site);
        add_file(files, key, site->path);
        for (size_t m = 0; m < site->nmeters; m++)
            if (site->meters[m].model) {
                snprintf(key, sizeof key, "model:%s", site->meters[m].model->id);
                if (!json_object_get(files, key))
                    add_file(files, key, site->meters[m].model->path);
            }
    }
    add_file(files, "policy", env->policy.path);
    add_file(files, "factors", env->factors.path);
    for (size_t i = 0; i < env->bills.nfiles; i++) {
        snprintf(key, sizeof key, "bills:%s", stem(env->bills.files[i], buf, sizeof buf));
        add_file(files, key, env->bills.files[i]);
    }
    add_readings(readings, r);
    json_object_set_new(root, "files", files);
    json_object_set_new(root, "readings", readings);
    char *text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(root);
    return text;
}

int om_report_readings_sha256(const char *inputs_json, char sha[65])
{
    json_t *root = json_loads(inputs_json, 0, NULL);
    if (!root)
        return -1;
    char *text = json_dumps(json_object_get(root, "readings"), JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    if (!text)
        return -1;
    om_sha256_of(text, strlen(text), sha);
    free(text);
    return 0;
}

/* ---- comparing with an approval ------------------------------------------------------ */

typedef struct {
    char **v;
    size_t n;
} strings;

static void push(strings *s, char *text)
{
    char **grown = text ? realloc(s->v, (s->n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(text);
        return;
    }
    s->v = grown;
    s->v[s->n++] = text;
}

static char *printf_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *printf_dup(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = len < 0 ? NULL : malloc((size_t)len + 1);
    if (out)
        vsnprintf(out, (size_t)len + 1, fmt, again);
    va_end(again);
    return out;
}

static const char *describe(const char *key, char *buf, size_t len)
{
    if (strncmp(key, "site:", 5) == 0)
        snprintf(buf, len, "the site file of %s", key + 5);
    else if (strncmp(key, "bills:", 6) == 0)
        snprintf(buf, len, "the bills of %s", key + 6);
    else if (strncmp(key, "model:", 6) == 0)
        snprintf(buf, len, "the meter model %s", key + 6);
    else if (strcmp(key, "policy") == 0)
        snprintf(buf, len, "the reporting policy");
    else if (strcmp(key, "factors") == 0)
        snprintf(buf, len, "the emission factors");
    else
        snprintf(buf, len, "%s", key);
    return buf;
}

static void file_reasons(json_t *was, json_t *now, strings *out)
{
    const char *key;
    json_t *v;
    char what[160];
    json_object_foreach(now, key, v) {
        json_t *old = json_object_get(was, key);
        if (!old)
            push(out, printf_dup("%s was added", describe(key, what, sizeof what)));
        else if (!json_equal(old, v))
            push(out, printf_dup("%s changed", describe(key, what, sizeof what)));
    }
    json_object_foreach(was, key, v) {
        if (!json_object_get(now, key))
            push(out, printf_dup("%s was removed", describe(key, what, sizeof what)));
    }
}

static void reading_reasons(json_t *was, json_t *now, strings *out)
{
    const char *key;
    json_t *v;
    char list[2048] = "";
    size_t n = 0;
    json_object_foreach(now, key, v) {
        json_t *old = json_object_get(was, key);
        if (old && json_equal(old, v))
            continue;
        n++;
        if (strlen(list) + strlen(key) + 3 < sizeof list)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "",
                     key);
    }
    if (n)
        push(out, printf_dup("the readings of %zu month%s changed since the approval (late or "
                             "corrected data): %s", n, n == 1 ? "" : "s", list));
}

/* ---- the figures ---------------------------------------------------------------------- */

static char *value_text(json_t *v)
{
    if (!v || json_is_null(v))
        return strdup("null");
    if (json_is_number(v)) {
        char buf[40];
        if (om_format_double(json_number_value(v), buf, sizeof buf))
            return strdup(buf);
    }
    char *t = json_dumps(v, JSON_ENCODE_ANY);
    return t ? t : strdup("?");
}

typedef struct {
    om_restated_figure *v;
    size_t n;
} figures;

static void compare(figures *f, const char *what, json_t *was, json_t *now)
{
    if ((was == now) || (was && now && json_equal(was, now)) ||
        (json_is_null(was) && !now) || (!was && json_is_null(now)))
        return;
    om_restated_figure *grown = realloc(f->v, (f->n + 1) * sizeof *grown);
    if (!grown)
        return;
    f->v = grown;
    f->v[f->n++] = (om_restated_figure){strdup(what), value_text(was), value_text(now)};
}

/* The element of an array whose `key` is `value`. */
static json_t *find(json_t *array, const char *key, const char *value, const char *key2,
                    const char *value2)
{
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e) {
        const char *v = json_string_value(json_object_get(e, key));
        const char *v2 = key2 ? json_string_value(json_object_get(e, key2)) : NULL;
        if (v && strcmp(v, value) == 0 && (!key2 || (v2 && strcmp(v2, value2) == 0)))
            return e;
    }
    return NULL;
}

static void figure_diff(json_t *was, json_t *now, figures *f)
{
    char what[256];
    const char *key;
    json_t *k;
    json_object_foreach(json_object_get(now, "kpis"), key, k) {
        json_t *old = json_object_get(json_object_get(was, "kpis"), key);
        static const char *const fields[] = {"value", "previous"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(what, sizeof what, "kpis.%s.%s", key, fields[i]);
            compare(f, what, json_object_get(old, fields[i]), json_object_get(k, fields[i]));
        }
    }
    size_t i;
    json_t *s;
    static const char *const site_fields[] = {"energy_mwh",   "water_t",
                                              "ghg_t",        "ghg_market_t",
                                              "floor_area_m2", "electricity_billed_mwh",
                                              "water_billed_t"};
    json_array_foreach(json_object_get(now, "sites"), i, s) {
        const char *id = json_string_value(json_object_get(s, "site"));
        json_t *old = id ? find(json_object_get(was, "sites"), "site", id, NULL, NULL) : NULL;
        for (size_t k2 = 0; id && k2 < sizeof site_fields / sizeof site_fields[0]; k2++) {
            snprintf(what, sizeof what, "sites.%s.%s", id, site_fields[k2]);
            compare(f, what, json_object_get(old, site_fields[k2]),
                    json_object_get(s, site_fields[k2]));
        }
    }
    json_array_foreach(json_object_get(now, "monthly"), i, s) {
        const char *id = json_string_value(json_object_get(s, "site"));
        const char *month = json_string_value(json_object_get(s, "month"));
        if (!id || !month)
            continue;
        json_t *old = find(json_object_get(was, "monthly"), "site", id, "month", month);
        static const char *const fields[] = {"electricity_mwh", "water_t"};
        for (size_t k2 = 0; k2 < 2; k2++) {
            snprintf(what, sizeof what, "monthly.%s.%s.%s", id, month, fields[k2]);
            compare(f, what, json_object_get(old, fields[k2]), json_object_get(s, fields[k2]));
        }
    }
}

int om_approval_compare(const om_approval *a, const char *sha, const char *json,
                        const char *inputs_json, om_report_approval *view)
{
    memset(view, 0, sizeof *view);
    time_t t = (time_t)(a->approved_at / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(view->approved_at, sizeof view->approved_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(view->approved_by, sizeof view->approved_by, "%s", a->approved_by);
    snprintf(view->sha256, sizeof view->sha256, "%s", a->sha256);
    snprintf(view->current_sha256, sizeof view->current_sha256, "%s", sha);
    view->restated = strcmp(a->sha256, sha) != 0;
    if (!view->restated)
        return 0;
    json_t *was_in = json_loads(a->inputs_json, 0, NULL);
    json_t *now_in = json_loads(inputs_json, 0, NULL);
    json_t *was = json_loads(a->report_json, 0, NULL), *now = json_loads(json, 0, NULL);
    int rc = was_in && now_in && was && now ? 0 : -1;
    if (rc == 0) {
        strings reasons = {0};
        file_reasons(json_object_get(was_in, "files"), json_object_get(now_in, "files"), &reasons);
        reading_reasons(json_object_get(was_in, "readings"), json_object_get(now_in, "readings"),
                        &reasons);
        view->reasons = reasons.v;
        view->nreasons = reasons.n;
        figures f = {0};
        figure_diff(was, now, &f);
        view->figures = f.v;
        view->nfigures = f.n;
    }
    json_decref(was_in);
    json_decref(now_in);
    json_decref(was);
    json_decref(now);
    return rc;
}

void om_approval_view_free(om_report_approval *view)
{
    for (size_t i = 0; i < view->nreasons; i++)
        free(view->reasons[i]);
    free(view->reasons);
    for (size_t i = 0; i < view->nfigures; i++) {
        free(view->figures[i].what);
        free(view->figures[i].approved);
        free(view->figures[i].now);
    }
    free(view->figures);
    memset(view, 0, sizeof *view);
}

/* ---- building a report ------------------------------------------------------------------ */

int om_build_report(om_env *env, const om_env_opts *eo, int year, bool recompute,
                    bool verify_readings, om_built_report *b)
{
    memset(b, 0, sizeof *b);
    char err[1024];
    int found = om_approval_latest(env->st, year, &b->approval, err, sizeof err);
    if (found < 0) {
        fprintf(stderr, "officemeter %s: %s\n", env->cmd, err);
        return -1;
    }
    b->approved = found == 1;
    int years[64];
    size_t nyears = om_report_years(&env->policy, year, years, 64);
    if (om_env_load(env, eo, years, nyears, year, recompute, verify_readings || b->approved,
                    &b->ru) < 0)
        return -1;
    const om_site *sites = env->sites.sites;
    size_t nsites = env->sites.nsites;
    for (size_t i = 0; eo->site && i < env->sites.nsites; i++)
        if (strcmp(env->sites.sites[i].site, eo->site) == 0) {
            b->one = env->sites.sites[i];
            sites = &b->one;
            nsites = 1;
        }
    om_kpi_input in = {sites, nsites, &env->factors, &env->policy, year,
                       b->ru.rows, b->ru.nrows, b->ru.events, b->ru.nevents, &env->bills,
                       env->sites.sites, env->sites.nsites};
    if (om_report_compute(&in, &b->r) < 0) {
        fprintf(stderr, "officemeter %s: out of memory\n", env->cmd);
        return -1;
    }
    b->computed = true;
    b->inputs = om_report_inputs(env, &b->r);
    if (om_report_fingerprint(&b->r, &b->json, b->sha) < 0 || !b->inputs) {
        fprintf(stderr, "officemeter %s: out of memory\n", env->cmd);
        return -1;
    }
    /* An approval is of the whole portfolio's report: a report of one site
     * is not compared with it (its readings are still checked above). */
    if (b->approved && eo->site) {
        om_approval_free(&b->approval);
        b->approved = false;
    }
    if (b->approved) {
        if (om_approval_compare(&b->approval, b->sha, b->json, b->inputs, &b->view) < 0) {
            fprintf(stderr, "officemeter %s: the approval of %d in %s cannot be read back\n",
                    env->cmd, year, om_store_path(env->st));
            return -1;
        }
        b->r.approval = &b->view;
    }
    return 0;
}

void om_built_report_free(om_built_report *b)
{
    if (b->computed)
        om_report_free(&b->r);
    om_env_rollups_free(&b->ru);
    free(b->json);
    free(b->inputs);
    om_approval_free(&b->approval);
    om_approval_view_free(&b->view);
    memset(b, 0, sizeof *b);
}
