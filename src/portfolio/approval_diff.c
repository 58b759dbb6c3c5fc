/* SPDX-License-Identifier: Apache-2.0 */
/*
 * approval_diff.c - what changed since an approval: the inputs that differ
 * (files, readings) are the reasons; the figures that differ are the diff
 * a restatement prints (build.h).
 */
#include "officemeter/portfolio/build.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "officemeter/base/isotime.h"
#include "officemeter/base/numfmt.h"

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

