/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inputs.c - the fingerprints of a report (its JSON without an approval
 * section) and of what it was built from (files and readings): what an
 * approval locks and what a restatement names as its reasons (build.h).
 */
#include "officemeter/portfolio/build.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *om_report_inputs(const om_portfolio *pf, const om_report *r)
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
    add_file(files, "policy", pf->policy.path);
    add_file(files, "factors", pf->factors.path);
    for (size_t i = 0; i < pf->bills.nfiles; i++) {
        snprintf(key, sizeof key, "bills:%s", stem(pf->bills.files[i], buf, sizeof buf));
        add_file(files, key, pf->bills.files[i]);
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

