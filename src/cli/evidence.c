/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evidence.c - `officemeter evidence`: everything an auditor needs to check
 * one year's report, in one folder or zip file, and `--verify`, which
 * checks a pack and rebuilds the report from its files alone.
 *
 * A pack holds the report in every format; the site files, policy, factors,
 * bills and meter models it was built from; the monthly rollups and their
 * events at full precision; every meter-month's boundary readings with the
 * interpolation; the bills as spread; the reconciliation; gaps and rejects;
 * the approval, if any; and manifest.json, with the SHA-256 of every file
 * and of the database state (the readings behind every month). Layout:
 * docs/methodology.md, "Evidence pack".
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "report_env.h"
#include "cli_output.h"
#include "commands.h"
#include "officemeter/base/isotime.h"
#include "officemeter/report/digest.h"
#include "officemeter/report/evidence.h"
#include "officemeter/report/kpi_xlsx.h"
#include "officemeter/report/reconcile.h"

#define CMD "evidence"
/* A pack's files, and the most any one may hold when a zip is read back. */
#define MAX_FILES 4096
#define MAX_FILE_BYTES (1024LL * 1024 * 1024)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter evidence --year YYYY -o OUT.zip|OUT-FOLDER\n"
            "                            (--db FILE --sites DIR | --config FILE) [options]\n"
            "       officemeter evidence --verify PACK\n"
            "\n"
            "Writes the evidence pack of a year's report: the report in md, csv, json and\n"
            "xlsx; the site files, policy, factors, bills and meter models it was built from;\n"
            "the monthly rollups and events at full precision; each meter-month's boundary\n"
            "readings with the interpolation; the bills as spread; the reconciliation; gaps\n"
            "and rejects; the approval, if any; and manifest.json with the SHA-256 of every\n"
            "file and of the database state. -o NAME.zip writes a zip file, any other name a\n"
            "new folder.\n"
            "\n"
            "--verify checks every file of a pack against its manifest and rebuilds the\n"
            "report from the pack's files alone: exit 0 when every hash matches.\n"
            "\n"
            "  --year YYYY        the reporting year\n"
            "  -o, --output OUT   the pack: OUT.zip, or a folder that does not exist yet\n"
            "  --verify PACK      check a pack (a .zip or a folder)\n" OM_ENV_USAGE);
}

/* ---- files of the pack ------------------------------------------------------------- */

typedef struct {
    char root[PATH_MAX];
    char **paths; /* relative to root, in the order written */
    size_t n;
} pack;

static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int remember(pack *p, const char *rel)
{
    char **grown = realloc(p->paths, (p->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    p->paths = grown;
    p->paths[p->n] = strdup(rel);
    return p->paths[p->n++] ? 0 : -1;
}

/* Opens ROOT/rel for writing, creating its folder. */
static FILE *pack_open(pack *p, const char *rel)
{
    char path[PATH_MAX * 2], dir[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", p->root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    if (make_dirs(dir) < 0 || remember(p, rel) < 0)
        return NULL;
    return fopen(path, "wb");
}

static int pack_close(FILE *f, const char *rel)
{
    int rc = ferror(f) || fflush(f) != 0 ? -1 : 0;
    if (fclose(f) != 0 || rc < 0) {
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", rel, strerror(errno));
        return -1;
    }
    return 0;
}

static int pack_copy(pack *p, const char *from, const char *rel)
{
    FILE *in = fopen(from, "rb");
    if (!in) {
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", from, strerror(errno));
        return -1;
    }
    FILE *out = pack_open(p, rel);
    if (!out) {
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", rel, strerror(errno));
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return pack_close(out, rel);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- writing a pack ------------------------------------------------------------------ */

typedef int (*write_fn)(const om_report *r, FILE *out);

static int write_report(pack *p, const om_report *r)
{
    static const struct {
        const char *ext;
        write_fn fn;
    } text[] = {{"md", om_report_write_md}, {"csv", om_report_write_csv},
                {"json", om_report_write_json}};
    char rel[64];
    for (size_t i = 0; i < 3; i++) {
        snprintf(rel, sizeof rel, "report/report-%d.%s", r->year, text[i].ext);
        FILE *f = pack_open(p, rel);
        if (!f || text[i].fn(r, f) < 0 || pack_close(f, rel) < 0)
            return -1;
    }
    snprintf(rel, sizeof rel, "report/report-%d.xlsx", r->year);
    FILE *f = pack_open(p, rel);
    if (!f)
        return -1;
    fclose(f);
    char path[PATH_MAX * 2], err[512];
    snprintf(path, sizeof path, "%s/%s", p->root, rel);
    if (om_report_write_xlsx(r, path, err, sizeof err) < 0) {
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", rel, err);
        return -1;
    }
    return 0;
}

static json_t *view_json(const om_report_approval *v, const om_approval *a)
{
    json_t *o = json_object(), *reasons = json_array(), *figures = json_array();
    json_object_set_new(o, "approved_at", json_string(v->approved_at));
    json_object_set_new(o, "approved_by", json_string(v->approved_by));
    json_object_set_new(o, "sha256", json_string(v->sha256));
    json_object_set_new(o, "current_sha256", json_string(v->current_sha256));
    json_object_set_new(o, "restated", json_boolean(v->restated));
    json_object_set_new(o, "reason", json_string(a->reason));
    for (size_t i = 0; i < v->nreasons; i++)
        json_array_append_new(reasons, json_string(v->reasons[i]));
    for (size_t i = 0; i < v->nfigures; i++)
        json_array_append_new(figures, json_pack("{s:s, s:s, s:s}", "figure", v->figures[i].what,
                                                 "approved", v->figures[i].approved, "now",
                                                 v->figures[i].now));
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "figures", figures);
    json_object_set_new(o, "approved_report", json_loads(a->report_json, 0, NULL));
    json_object_set_new(o, "approved_inputs", json_loads(a->inputs_json, 0, NULL));
    return o;
}

static int write_json(pack *p, const char *rel, json_t *value)
{
    FILE *f = pack_open(p, rel);
    int rc = f && json_dumpf(value, f, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -1;
    if (f) {
        fputc('\n', f);
        rc |= pack_close(f, rel);
    }
    return rc;
}

static int write_inputs(pack *p, const om_env *env, const om_report *r)
{
    char rel[PATH_MAX];
    int rc = 0;
    for (size_t s = 0; s < r->nsites && rc == 0; s++) {
        const om_site *site = r->sites[s].site;
        snprintf(rel, sizeof rel, "inputs/sites/%s.yaml", site->site);
        rc = pack_copy(p, site->path, rel);
        for (size_t m = 0; m < site->nmeters && rc == 0; m++) {
            const om_model *model = site->meters[m].model;
            if (!model)
                continue;
            snprintf(rel, sizeof rel, "inputs/meters/%s.yaml", model->id);
            bool have = false;
            for (size_t k = 0; k < p->n && !have; k++)
                have = strcmp(p->paths[k], rel) == 0;
            if (!have)
                rc = pack_copy(p, model->path, rel);
        }
    }
    if (rc == 0)
        rc = pack_copy(p, env->pf.policy.path, "inputs/sites/reporting.yaml");
    if (rc == 0)
        rc = pack_copy(p, env->pf.factors.path, "inputs/sites/emission-factors.yaml");
    for (size_t i = 0; i < env->pf.bills.nfiles && rc == 0; i++) {
        snprintf(rel, sizeof rel, "inputs/sites/bills/%s", base_name(env->pf.bills.files[i]));
        rc = pack_copy(p, env->pf.bills.files[i], rel);
    }
    return rc;
}

static int write_boundaries(pack *p, om_env *env, const om_report *r)
{
    FILE *f = pack_open(p, "data/boundaries.csv");
    if (!f)
        return -1;
    om_rollup_source src;
    om_rollupdb_source(env->db, &src);
    int rc = 0;
    bool header = true;
    om_store_read_begin(env->st);
    for (size_t s = 0; s < r->nsites && rc == 0; s++)
        for (int y = r->year - 1; y <= r->year && rc == 0; y++)
            for (unsigned m = 1; m <= 12 && rc == 0; m++) {
                rc = om_boundaries_write_csv(r->sites[s].site, r->policy, y, m, &src, header, f);
                header = false;
            }
    om_store_read_end(env->st);
    if (rc < 0)
        fprintf(stderr, "officemeter " CMD ": boundaries: %s\n", om_rollupdb_errmsg(env->db));
    return pack_close(f, "data/boundaries.csv") | rc;
}

static int write_bills_used(pack *p, const om_report *r)
{
    FILE *f = pack_open(p, "data/bills-used.csv");
    if (!f)
        return -1;
    fprintf(f, "site,utility,month,document,account,file,line,period_start,period_end,"
               "bill_quantity,unit,days_in_month,share,spread,counted,billed_hours,source\r\n");
    for (size_t i = 0; i < r->nbill_months; i++) {
        const om_bill_month *m = &r->bill_months[i];
        const om_bill *b = &r->bills->bills[m->bill];
        char a[16], e[16];
        fprintf(f, "%s,%s,%04d-%02u,\"%s\",\"%s\",%s,%zu,%s,%s,%.17g,%s,%u,%.17g,%.17g,%.17g,"
                   "%.3f,%s\r\n",
                m->site, m->utility == OM_UTILITY_WATER ? "water" : "electricity", m->year,
                m->month, b->document, b->account, base_name(b->file), b->line,
                om_format_date(b->start, a, sizeof a), om_format_date(b->end, e, sizeof e),
                b->quantity, m->utility == OM_UTILITY_WATER ? "m3" : "kWh", m->days, m->share,
                m->spread, m->counted, (double)m->billed_ms / 3600000.0,
                m->reconcile_only ? "reconcile_only" : om_bill_source_name(b->source));
    }
    return pack_close(f, "data/bills-used.csv");
}

static int write_gaps(pack *p, const om_report *r)
{
    FILE *f = pack_open(p, "data/gaps.csv");
    if (!f)
        return -1;
    fprintf(f, "site,meter,quantity,month,from,to,hours,interpolated\r\n");
    for (size_t i = 0; i < r->nevents; i++) {
        const om_month_event *e = &r->events[i];
        if (e->ev.kind != OM_CEV_GAP)
            continue;
        char a[40], b[40];
        fprintf(f, "%s,%s,%s,%04d-%02u,%s,%s,%.3f,%.17g\r\n", e->site, e->meter,
                om_quantity_get(e->quantity)->name, e->year, e->month,
                om_format_iso8601(e->ev.t, a, sizeof a),
                om_format_iso8601(e->ev.t_end, b, sizeof b),
                (double)(e->ev.t_end - e->ev.t) / 3600000.0, e->ev.counted);
    }
    return pack_close(f, "data/gaps.csv");
}

static int write_rejects(pack *p, om_env *env)
{
    FILE *f = pack_open(p, "data/rejects.csv");
    if (!f)
        return -1;
    om_store_reject_count *counts = NULL;
    size_t n = 0;
    om_store_totals totals;
    int rc = om_store_reject_counts(env->st, &counts, &n) | om_store_totals_get(env->st, &totals);
    fprintf(f, "site,gateway,code,count,last_received\r\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char t[40];
        fprintf(f, "%s,%s,%s,%llu,%s\r\n", counts[i].site, counts[i].gateway, counts[i].code,
                (unsigned long long)counts[i].count,
                om_format_iso8601(counts[i].last_received, t, sizeof t));
    }
    if (rc == 0)
        fprintf(f, "(all),(all),(quarantined now),%llu,\r\n(all),(all),(conflicts),%llu,\r\n",
                (unsigned long long)totals.quarantined, (unsigned long long)totals.conflicts);
    free(counts);
    if (rc < 0)
        fprintf(stderr, "officemeter " CMD ": %s\n", om_store_errmsg(env->st));
    return pack_close(f, "data/rejects.csv") | rc;
}

static int write_reconcile(pack *p, om_env *env, const om_report *r)
{
    om_rollup_source src;
    om_rollupdb_source(env->db, &src);
    om_reconciliation rec;
    om_store_read_begin(env->st);
    const om_site *sites = r->nsites == 1 ? r->sites[0].site : env->pf.sites.sites;
    int rc = om_reconcile(sites, r->nsites, env->pf.sites.sites, env->pf.sites.nsites, &env->pf.bills,
                          &env->pf.policy, r->year, env->pf.policy.bills.reconcile_threshold_pct, &src,
                          &rec);
    om_store_read_end(env->st);
    if (rc < 0)
        return -1;
    FILE *f = pack_open(p, "data/reconcile.csv");
    rc = f && om_reconciliation_write_csv(&rec, f) == 0 ? 0 : -1;
    if (f)
        rc |= pack_close(f, "data/reconcile.csv");
    om_reconciliation_free(&rec);
    return rc;
}

static int write_data(pack *p, om_env *env, const om_built_report *b)
{
    FILE *f = pack_open(p, "data/rollups.csv");
    if (!f || om_rollups_write_csv(b->rows.rows, b->rows.nrows, f) < 0 ||
        pack_close(f, "data/rollups.csv") < 0)
        return -1;
    f = pack_open(p, "data/events.csv");
    if (!f || om_events_write_csv(b->rows.events, b->rows.nevents, f) < 0 ||
        pack_close(f, "data/events.csv") < 0)
        return -1;
    json_t *inputs = json_loads(b->inputs, 0, NULL);
    int rc = inputs ? write_json(p, "data/inputs.json", inputs) : -1;
    json_decref(inputs);
    if (rc == 0)
        rc = write_boundaries(p, env, &b->r);
    if (rc == 0)
        rc = write_bills_used(p, &b->r);
    if (rc == 0)
        rc = write_gaps(p, &b->r);
    if (rc == 0)
        rc = write_rejects(p, env);
    if (rc == 0)
        rc = write_reconcile(p, env, &b->r);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_manifest(pack *p, om_env *env, const om_built_report *b, const char *site)
{
    qsort(p->paths, p->n, sizeof *p->paths, cmp_path);
    json_t *files = json_array();
    for (size_t i = 0; i < p->n; i++) {
        char path[PATH_MAX * 2], sha[OM_SHA256_HEX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", p->root, p->paths[i]);
        if (om_sha256_file(path, sha) < 0 || stat(path, &st) < 0) {
            fprintf(stderr, "officemeter " CMD ": %s: %s\n", path, strerror(errno));
            json_decref(files);
            return -1;
        }
        json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "path", p->paths[i], "sha256",
                                               sha, "bytes", (json_int_t)st.st_size));
    }
    char readings[OM_SHA256_HEX] = "", created[40];
    om_report_readings_sha256(b->inputs, readings);
    om_format_iso8601(env->now, created, sizeof created);
    json_t *m = json_object();
    json_object_set_new(m, "schema", json_string("officemeter.evidence.v1"));
    json_object_set_new(m, "year", json_integer(b->r.year));
    json_object_set_new(m, "site", site ? json_string(site) : json_null());
    json_object_set_new(m, "organisation", json_string(b->r.organisation));
    json_object_set_new(m, "created_at", json_string(created));
    json_object_set_new(m, "officemeter", json_string(OM_VERSION));
    json_object_set_new(m, "report_sha256", json_string(b->sha));
    json_object_set_new(m, "approved", json_boolean(b->approved));
    json_object_set_new(m, "restated", json_boolean(b->approved && b->view.restated));
    json_object_set_new(m, "database",
                        json_pack("{s:s, s:s, s:I, s:I}", "file", om_store_path(env->st),
                                  "readings_sha256", readings, "rollup_rows",
                                  (json_int_t)b->rows.nrows, "events", (json_int_t)b->rows.nevents));
    json_object_set_new(m, "files", files);
    /* The manifest itself is not in its own list. */
    FILE *f = fopen(strcat(strcpy((char[PATH_MAX + 16]){0}, p->root), "/manifest.json"), "wb");
    int rc = f && json_dumpf(m, f, JSON_INDENT(2)) == 0 ? 0 : -1;
    if (f) {
        fputc('\n', f);
        rc |= pack_close(f, "manifest.json");
    }
    json_decref(m);
    return rc;
}

/* ---- zip ----------------------------------------------------------------------------- */

static int zip_folder(const pack *p, const char *zip_path)
{
    int err = 0;
    zip_t *z = zip_open(zip_path, ZIP_CREATE | ZIP_EXCL, &err);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", zip_path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i <= p->n && rc == 0; i++) {
        const char *rel = i < p->n ? p->paths[i] : "manifest.json";
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", p->root, rel);
        zip_source_t *src = zip_source_file(z, path, 0, -1);
        if (!src || zip_file_add(z, rel, src, ZIP_FL_ENC_UTF_8) < 0) {
            zip_source_free(src);
            rc = -1;
        }
    }
    if (rc < 0 || zip_close(z) < 0) {
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", zip_path, zip_strerror(z));
        zip_discard(z);
        unlink(zip_path);
        return -1;
    }
    return 0;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[PATH_MAX * 2];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n > m && strcmp(s + n - m, tail) == 0;
}

static int make(om_env *env, const om_env_opts *eo, int year, const char *output)
{
    bool zipped = ends_with(output, ".zip");
    struct stat st;
    if (stat(output, &st) == 0) {
        fprintf(stderr, "officemeter " CMD ": %s exists: a pack is never written over\n", output);
        return 1;
    }
    om_built_report b;
    if (om_build_report(env, eo, year, false, true, &b) < 0) {
        om_built_report_free(&b);
        return 1;
    }
    pack p = {0};
    if (zipped)
        snprintf(p.root, sizeof p.root, "%s.%ld.d", output, (long)getpid());
    else
        snprintf(p.root, sizeof p.root, "%s", output);
    int rc = make_dirs(p.root);
    if (rc < 0)
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", p.root, strerror(errno));
    if (rc == 0)
        rc = write_report(&p, &b.r);
    if (rc == 0 && b.approved) {
        json_t *v = view_json(&b.view, &b.approval);
        rc = write_json(&p, "report/approval.json", v);
        json_decref(v);
    }
    if (rc == 0)
        rc = write_inputs(&p, env, &b.r);
    if (rc == 0)
        rc = write_data(&p, env, &b);
    if (rc == 0)
        rc = write_manifest(&p, env, &b, eo->site);
    if (rc == 0 && zipped)
        rc = zip_folder(&p, output);
    if (zipped || rc < 0)
        remove_tree(p.root);
    if (rc == 0)
        printf("%s: evidence pack of %d, %zu files, report SHA-256 %s%s\n", output, year, p.n + 1,
               b.sha, b.approved ? (b.view.restated ? " (a restatement)" : " (approved)") : "");
    for (size_t i = 0; i < p.n; i++)
        free(p.paths[i]);
    free(p.paths);
    om_built_report_free(&b);
    return rc < 0 ? 1 : 0;
}

/* ---- verify ------------------------------------------------------------------------- */

/* A name from a zip that stays inside the folder it is extracted to. */
static bool safe_name(const char *name)
{
    if (!name[0] || name[0] == '/' || strlen(name) > 256)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '\\')
            return false;
    for (const char *p = name; p; p = strchr(p, '/')) {
        p += *p == '/';
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || !p[2]))
            return false;
    }
    return true;
}

static int unzip_to(const char *zip_path, const char *dir)
{
    int err = 0;
    zip_t *z = zip_open(zip_path, ZIP_RDONLY, &err);
    if (!z) {
        fprintf(stderr, "officemeter " CMD ": %s: not a zip file\n", zip_path);
        return -1;
    }
    zip_int64_t n = zip_get_num_entries(z, 0);
    int rc = n > 0 && n <= MAX_FILES ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "officemeter " CMD ": %s: %lld entries (expected 1 to %d)\n", zip_path,
                (long long)n, MAX_FILES);
    for (zip_int64_t i = 0; rc == 0 && i < n; i++) {
        zip_stat_t zs;
        if (zip_stat_index(z, (zip_uint64_t)i, 0, &zs) < 0 || !safe_name(zs.name) ||
            zs.size > (zip_uint64_t)MAX_FILE_BYTES) {
            fprintf(stderr, "officemeter " CMD ": %s: entry %lld refused (a name outside the "
                            "pack, or too large)\n", zip_path, (long long)i);
            rc = -1;
            break;
        }
        if (zs.name[strlen(zs.name) - 1] == '/')
            continue;
        char path[PATH_MAX * 2], parent[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, zs.name);
        snprintf(parent, sizeof parent, "%s", path);
        *strrchr(parent, '/') = '\0';
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        FILE *out = make_dirs(parent) == 0 ? fopen(path, "wbx") : NULL;
        char buf[65536];
        zip_int64_t got;
        zip_uint64_t total = 0;
        while (zf && out && (got = zip_fread(zf, buf, sizeof buf)) > 0 &&
               (total += (zip_uint64_t)got) <= (zip_uint64_t)MAX_FILE_BYTES)
            fwrite(buf, 1, (size_t)got, out);
        if (!zf || !out || ferror(out) || total != zs.size) {
            fprintf(stderr, "officemeter " CMD ": %s: cannot extract %s\n", zip_path, zs.name);
            rc = -1;
        }
        if (zf)
            zip_fclose(zf);
        if (out)
            fclose(out);
    }
    zip_discard(z);
    return rc;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            char *grown = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Every file of the manifest is there with its hash; nothing else is. */
static int check_files(const char *dir, json_t *manifest, size_t *checked)
{
    json_t *files = json_object_get(manifest, "files"), *e;
    size_t i;
    int bad = 0;
    json_array_foreach(files, i, e) {
        const char *rel = json_string_value(json_object_get(e, "path"));
        const char *want = json_string_value(json_object_get(e, "sha256"));
        char path[PATH_MAX * 2], sha[OM_SHA256_HEX];
        if (!rel || !want || !safe_name(rel)) {
            printf("FAIL manifest entry %zu is not a file of the pack\n", i);
            bad = -1;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        if (om_sha256_file(path, sha) < 0) {
            printf("FAIL %s: missing\n", rel);
            bad = -1;
        } else if (strcmp(sha, want) != 0) {
            printf("FAIL %s: SHA-256 %s, the manifest says %s\n", rel, sha, want);
            bad = -1;
        }
        (*checked)++;
    }
    return bad;
}

static int approval_of(const char *dir, om_report_approval *view, bool *found)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/report/approval.json", dir);
    *found = access(path, F_OK) == 0;
    if (!*found)
        return 0;
    json_t *o = json_load_file(path, 0, NULL);
    if (!o)
        return -1;
    memset(view, 0, sizeof *view);
    snprintf(view->approved_at, sizeof view->approved_at, "%s",
             json_string_value(json_object_get(o, "approved_at")) ?: "");
    snprintf(view->approved_by, sizeof view->approved_by, "%s",
             json_string_value(json_object_get(o, "approved_by")) ?: "");
    snprintf(view->sha256, sizeof view->sha256, "%s",
             json_string_value(json_object_get(o, "sha256")) ?: "");
    snprintf(view->current_sha256, sizeof view->current_sha256, "%s",
             json_string_value(json_object_get(o, "current_sha256")) ?: "");
    view->restated = json_is_true(json_object_get(o, "restated"));
    json_t *reasons = json_object_get(o, "reasons"), *figures = json_object_get(o, "figures"), *e;
    size_t i;
    view->reasons = calloc(json_array_size(reasons) + 1, sizeof *view->reasons);
    view->figures = calloc(json_array_size(figures) + 1, sizeof *view->figures);
    json_array_foreach(reasons, i, e) view->reasons[view->nreasons++] =
        strdup(json_string_value(e) ?: "");
    json_array_foreach(figures, i, e) {
        om_restated_figure *f = &view->figures[view->nfigures++];
        f->what = strdup(json_string_value(json_object_get(e, "figure")) ?: "");
        f->approved = strdup(json_string_value(json_object_get(e, "approved")) ?: "");
        f->now = strdup(json_string_value(json_object_get(e, "now")) ?: "");
    }
    json_decref(o);
    return 0;
}

static int load_rollups(const char *dir, om_year_rows *ru)
{
    static const char *const names[] = {"data/rollups.csv", "data/events.csv"};
    om_diag diag;
    om_diag_init(&diag);
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX * 2];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *buf = slurp(path, &len);
        if (!buf) {
            om_diag_add(&diag, names[i], 0, 0, NULL, "missing");
            rc = -1;
            continue;
        }
        rc |= i == 0 ? om_rollups_read_csv(names[i], buf, len, &ru->rows, &ru->nrows, &diag)
                     : om_events_read_csv(names[i], buf, len, &ru->events, &ru->nevents, &diag);
        free(buf);
    }
    om_diag_print(&diag, stdout);
    om_diag_free(&diag);
    return rc;
}

/* The SHA-256 a writer gives the report: what the manifest must hold. */
static int rendered_sha(const om_report *r, write_fn fn, char sha[OM_SHA256_HEX])
{
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -1;
    int rc = fn(r, f);
    fclose(f);
    if (rc == 0)
        om_sha256_of(text, len, sha);
    free(text);
    return rc;
}

static const char *manifest_sha(json_t *manifest, const char *rel)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(manifest, "files"), i, e) {
        const char *p = json_string_value(json_object_get(e, "path"));
        if (p && strcmp(p, rel) == 0)
            return json_string_value(json_object_get(e, "sha256"));
    }
    return NULL;
}

static int compare(const char *what, const char *got, const char *want)
{
    if (want && strcmp(got, want) == 0) {
        printf("ok   %s: rebuilt, SHA-256 %s\n", what, got);
        return 0;
    }
    printf("FAIL %s: rebuilt SHA-256 %s, the pack holds %s\n", what, got, want ? want : "none");
    return -1;
}

static int rebuild(const char *dir, json_t *manifest)
{
    int year = (int)json_integer_value(json_object_get(manifest, "year"));
    const char *site = json_string_value(json_object_get(manifest, "site"));
    char sites[PATH_MAX * 2], cat[PATH_MAX * 2], factors[PATH_MAX * 2], policy[PATH_MAX * 2],
        bills[PATH_MAX * 2];
    snprintf(sites, sizeof sites, "%s/inputs/sites", dir);
    snprintf(cat, sizeof cat, "%s/inputs/meters", dir);
    snprintf(factors, sizeof factors, "%s/inputs/sites/emission-factors.yaml", dir);
    snprintf(policy, sizeof policy, "%s/inputs/sites/reporting.yaml", dir);
    snprintf(bills, sizeof bills, "%s/inputs/sites/bills", dir);
    om_env_opts o = {.sites_dir = sites, .catalogue = cat, .factors = factors, .policy = policy,
                     .bills = bills, .site = site};
    struct stat st;
    if (stat(bills, &st) < 0)
        o.bills = NULL; /* no bills: the policy's folder, which does not exist either */
    om_env env;
    om_year_rows ru = {0};
    om_report r;
    om_report_approval view;
    bool approved = false, computed = false;
    int rc = om_env_open_files(&env, CMD, &o) == 0 ? 0 : -1;
    if (rc == 0)
        rc = load_rollups(dir, &ru);
    if (rc == 0 && approval_of(dir, &view, &approved) < 0) {
        printf("FAIL report/approval.json: not the approval a pack holds\n");
        rc = -1;
    }
    const om_site *list = env.pf.sites.sites;
    size_t nlist = env.pf.sites.nsites;
    for (size_t i = 0; site && i < env.pf.sites.nsites; i++)
        if (strcmp(env.pf.sites.sites[i].site, site) == 0) {
            list = &env.pf.sites.sites[i];
            nlist = 1;
        }
    if (rc == 0) {
        om_kpi_input in = {list, nlist, &env.pf.factors, &env.pf.policy, year, ru.rows, ru.nrows,
                           ru.events, ru.nevents, &env.pf.bills, env.pf.sites.sites, env.pf.sites.nsites};
        rc = om_report_compute(&in, &r);
        computed = rc == 0;
    }
    if (rc == 0) {
        char sha[OM_SHA256_HEX], *json = NULL;
        rc |= om_report_fingerprint(&r, &json, sha);
        free(json);
        rc |= compare("the report's figures (JSON without its approval)", sha,
                      json_string_value(json_object_get(manifest, "report_sha256")));
        r.approval = approved ? &view : NULL;
        static const struct {
            const char *ext;
            write_fn fn;
        } text[] = {{"md", om_report_write_md}, {"csv", om_report_write_csv},
                    {"json", om_report_write_json}};
        for (size_t i = 0; i < 3; i++) {
            char rel[64];
            snprintf(rel, sizeof rel, "report/report-%d.%s", year, text[i].ext);
            rc |= rendered_sha(&r, text[i].fn, sha);
            rc |= compare(rel, sha, manifest_sha(manifest, rel));
        }
        char rel[64], path[PATH_MAX], err[256];
        snprintf(rel, sizeof rel, "report/report-%d.xlsx", year);
        snprintf(path, sizeof path, "%s/.rebuilt.xlsx", dir);
        if (om_report_write_xlsx(&r, path, err, sizeof err) == 0 && om_sha256_file(path, sha) == 0)
            rc |= compare(rel, sha, manifest_sha(manifest, rel));
        else
            rc = -1;
        unlink(path);
    }
    if (computed)
        om_report_free(&r);
    if (approved)
        om_approval_view_free(&view);
    om_year_rows_free(&ru);
    om_env_close(&env);
    return rc;
}

static int verify(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "officemeter " CMD ": %s: %s\n", path, strerror(errno));
        return 1;
    }
    char tmp[PATH_MAX] = "";
    const char *dir = path;
    if (!S_ISDIR(st.st_mode)) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/officemeter-evidence.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmp)) {
            fprintf(stderr, "officemeter " CMD ": %s: %s\n", tmp, strerror(errno));
            return 1;
        }
        if (unzip_to(path, tmp) < 0) {
            remove_tree(tmp);
            return 1;
        }
        dir = tmp;
    }
    char manifest_path[PATH_MAX * 2];
    snprintf(manifest_path, sizeof manifest_path, "%s/manifest.json", dir);
    json_error_t jerr;
    json_t *manifest = json_load_file(manifest_path, 0, &jerr);
    int rc = 0;
    if (!manifest || strcmp(json_string_value(json_object_get(manifest, "schema")) ?: "",
                            "officemeter.evidence.v1") != 0) {
        fprintf(stderr, "officemeter " CMD ": %s: no manifest.json of schema "
                        "officemeter.evidence.v1\n", path);
        rc = 1;
    }
    size_t checked = 0;
    if (rc == 0) {
        int files = check_files(dir, manifest, &checked);
        if (files == 0)
            printf("ok   %zu files match the manifest\n", checked);
        int built = rebuild(dir, manifest);
        rc = files < 0 || built < 0 ? 1 : 0;
        printf("%s: %s\n", path, rc == 0 ? "verified: the report rebuilt from the pack's files "
                                           "alone has the same SHA-256"
                                         : "NOT verified");
    }
    json_decref(manifest);
    if (tmp[0])
        remove_tree(tmp);
    return rc;
}

int om_cmd_evidence(int argc, char **argv)
{
    static const struct option opts[] = {{"year", required_argument, NULL, 'y'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"verify", required_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    const char *year_text = NULL, *output = NULL, *check = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "y:o:h", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'y': year_text = optarg; break;
        case 'o': output = optarg; break;
        case 'v': check = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "officemeter " CMD ": unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (check)
        return verify(check);
    int year;
    if (om_cli_parse_year(CMD, year_text, &year) < 0)
        return 2;
    if (!output) {
        fprintf(stderr, "officemeter " CMD ": give -o OUT.zip or -o FOLDER\n");
        return 2;
    }
    om_env env;
    int rc = om_env_open(&env, CMD, &eo);
    if (rc == 0)
        rc = make(&env, &eo, year, output);
    om_env_close(&env);
    return rc;
}
