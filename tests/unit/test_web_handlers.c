/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_web_handlers.c - every handler of officemeter-web called directly
 * (web_handle, no socket): parameters refused with a 400 that names them,
 * 403 outside a user's sites on every site route, the report and metrics
 * for users with every site only, 404 and 405, and the JSON shapes of the
 * API. Also the users file (errors with line and column, passwords checked
 * against crypt(3) hashes) and web.yaml's checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "officemeter/base/isotime.h"
#include "officemeter/config/webcfg.h"
#include "officemeter/store/store.h"
#include "officemeter/users/users.h"
#include "testutil.h"
#include "figures.h"
#include "officemeter/base/calendar.h"
#include "officemeter/base/tz.h"
#include "web.h"

static char dir[64];
static om_web_config cfg;
static web_ctx ctx;
static om_user fac = {.name = "fac", .all = false};
static char *fac_sites[] = {"w001"};

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void site_file(const char *id, const char *zone)
{
    char name[64], text[1024];
    snprintf(name, sizeof name, "sites/%s.yaml", id);
    snprintf(text, sizeof text,
             "site: %s\nname: Office %s\ntimezone: %s\ngrid_region: UK\n"
             "floor_area_m2:\n  - {from: 2020-01-01, m2: 1000}\n"
             "gateways:\n  - id: gw\n    buses:\n      - {id: rs485, rtu: {device: /dev/ttyUSB0}}\n"
             "meters:\n  - {id: main, model: eastron-sdm630, gateway: gw, bus: rs485, unit_id: 1,"
             " utility: electricity, role: main}\n"
             "  - {id: hvac, model: eastron-sdm630, gateway: gw, bus: rs485, unit_id: 2,"
             " utility: electricity, role: sub}\n", id, id, zone);
    write_file(name, text);
}

static void fill_database(const char *path)
{
    char err[512];
    om_store *st = om_store_open(path, OM_STORE_CREATE, err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    int64_t t0 = om_test_iso("2025-03-01T00:00:00Z");
    const char *sites[] = {"w000", "w001"}, *meters[] = {"main", "hvac"};
    int64_t seq = 0;
    assert_int_equal(om_store_begin(st), 0);
    for (int s = 0; s < 2; s++) {
        om_store_origin o = {sites[s], "gw", "00000000000000dd", t0};
        for (int m = 0; m < 2; m++)
            for (int i = 0; i < 4 * 24 * 10; i++) { /* ten days every 15 minutes */
                om_poll p = {0};
                p.seq = ++seq;
                p.meter = (char *)meters[m];
                p.t_ms = t0 + i * 900000LL;
                p.nvalues = 2;
                p.values[0] = (om_poll_value){OM_Q_ENERGY_IMPORT_KWH, 1000 + i * (m ? 1.0 : 2.5)};
                p.values[1] = (om_poll_value){OM_Q_POWER_KW, m ? 4 : 10};
                assert_int_equal(om_store_put_poll(st, &o, &p, NULL), 0);
            }
        assert_int_equal(om_store_gateway_state(st, sites[s], "gw", "online", t0), 0);
    }
    assert_int_equal(om_store_commit(st), 0);
    om_store_close(st);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/om-test-web.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char path[256], db[256];
    snprintf(path, sizeof path, "%s/sites", dir);
    mkdir(path, 0700);
    site_file("w000", "Europe/London");
    site_file("w001", "Asia/Shanghai");
    write_file("sites/emission-factors.yaml",
               "factors:\n  - {id: uk, region: UK, kind: grid_electricity, value: 0.2, unit: "
               "tCO2/MWh, activity_year: 2024, source: test, published: 2024-06-01, "
               "verification: verified}\n");
    write_file("sites/reporting.yaml", "organisation: Test Ltd\npoll_interval_s: 900\n");
    snprintf(db, sizeof db, "%s/agg.db", dir);
    fill_database(db);
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "database: %s\nsites_dir: %s/sites\ncatalogue: %s/firmware-config/"
             "meters\nthreads: 2\ncache_s: 0\nmax_points: 200\n", db, dir, OM_SOURCE_DIR);
    write_file("web.yaml", yaml);
    snprintf(path, sizeof path, "%s/web.yaml", dir);
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_web_config_load(path, &cfg, &diag);
    om_diag_print(&diag, stderr);
    om_diag_free(&diag);
    if (rc < 0 || web_open(&ctx, &cfg, om_test_iso("2025-03-11T00:00:00Z"), 2) < 0)
        return -1;
    fac.sites = fac_sites;
    fac.nsites = 1;
    return 0;
}

static int teardown(void **state)
{
    web_close(&ctx);
    om_web_config_free(&cfg);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- requests ------------------------------------------------------------------ */

typedef struct {
    char names[8][32];
    char values[8][64];
    const char *ptrs[8];
    size_t n;
} query;

static const char *query_arg(void *ctxp, const char *name)
{
    query *q = ctxp;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->names[i], name) == 0)
            return q->values[i];
    return NULL;
}

/* GET path?query as user (NULL: loopback without users); the response's
 * status, its body in *body (free it). */
static int get(const char *url, const om_user *user, char **body)
{
    query q = {0};
    char path[256];
    snprintf(path, sizeof path, "%s", url);
    char *qs = strchr(path, '?');
    if (qs) {
        *qs++ = '\0';
        for (char *tok = strtok(qs, "&"); tok && q.n < 8; tok = strtok(NULL, "&")) {
            char *eq = strchr(tok, '=');
            if (eq)
                *eq = '\0';
            snprintf(q.names[q.n], sizeof q.names[0], "%s", tok);
            snprintf(q.values[q.n], sizeof q.values[0], "%s", eq ? eq + 1 : "");
            q.ptrs[q.n] = q.names[q.n];
            q.n++;
        }
    }
    web_req rq = {"GET", path, query_arg, &q, q.ptrs, q.n, user};
    web_resp rs = {0};
    web_handle(&ctx, &rq, &rs);
    assert_false(rs.body.failed);
    if (body)
        *body = rs.body.data ? rs.body.data : strdup("");
    else
        free(rs.body.data);
    return rs.status;
}

static json_t *get_json(const char *url, int want)
{
    char *body;
    int status = get(url, NULL, &body);
    if (status != want)
        fail_msg("%s: %d, expected %d: %s", url, status, want, body);
    json_error_t e;
    json_t *v = json_loads(body, 0, &e);
    if (!v)
        fail_msg("%s: not JSON (%s): %.200s", url, e.text, body);
    free(body);
    return v;
}

static void expect(const char *url, const om_user *user, int want, const char *fragment)
{
    char *body;
    int status = get(url, user, &body);
    if (status != want || (fragment && !strstr(body, fragment)))
        fail_msg("%s: %d, expected %d with \"%s\": %.300s", url, status, want,
                 fragment ? fragment : "", body);
    free(body);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_bad_parameters(void **state)
{
    expect("/api/v1/sites/w000/monthly?year=19x", NULL, 400, "year: invalid year");
    expect("/api/v1/sites/w000/monthly?year=1800", NULL, 400, "year: invalid year");
    expect("/api/v1/sites/w000/monthly?month=3", NULL, 400, "month: unknown parameter");
    expect("/api/v1/sites/w000/daily?from=2025-02-30", NULL, 400, "from: invalid date");
    expect("/api/v1/sites/w000/daily?from=2025-03-05&to=2025-03-01", NULL, 400, "to: before");
    expect("/api/v1/sites/w000/daily?from=2020-01-01&to=2025-01-01", NULL, 400, "at most");
    expect("/api/v1/sites/w000/meters/main/readings?quantity=watts", NULL, 400,
           "quantity: unknown quantity");
    expect("/api/v1/sites/w000/meters/main/readings?points=100000", NULL, 400,
           "points: invalid number");
    expect("/api/v1/sites/w000/meters/main/readings?from=2025-03-02&to=2025-03-01", NULL, 400,
           "to: not after from");
    expect("/api/v1/sites/w000/meters/main/readings?from=now", NULL, 400, "from: invalid time");
    expect("/api/v1/report", NULL, 400, "year: missing");
    expect("/api/v1/report?year=2025&site=W0", NULL, 400, "site: not a site id");
    expect("/sites/w000/meters/main?to=soon", NULL, 400, "to: invalid time");
    expect("/sites/w000?year=x", NULL, 400, "year: invalid year");
    expect("/report/2025/download", NULL, 400, "format: missing");
    expect("/report/2025/download?format=pdf", NULL, 400, "format: unknown format");
    expect("/?x=1", NULL, 400, "x: unknown parameter");
}

static void test_not_found(void **state)
{
    expect("/sites/nope", NULL, 404, "no site");
    expect("/sites/w000/meters/nope", NULL, 404, "no meter");
    expect("/sites/w000/meters/main/x", NULL, 404, NULL);
    expect("/api/v1/sites/nope/monthly", NULL, 404, "no site");
    expect("/api/v1/sites/w000/meters/nope/readings", NULL, 404, "no meter");
    expect("/api/v1/other", NULL, 404, NULL);
    expect("/report/19", NULL, 404, NULL);
    expect("/nothing//here", NULL, 404, NULL);
    query q = {0};
    web_req rq = {"POST", "/", query_arg, &q, NULL, 0, NULL};
    web_resp rs = {0};
    web_handle(&ctx, &rq, &rs);
    assert_int_equal(rs.status, 405);
    free(rs.body.data);
}

static void test_forbidden_outside_sites(void **state)
{
    const char *urls[] = {"/sites/w000",
                          "/sites/w000/meters/main",
                          "/sites/w000/meters/nope",
                          "/sites/nope",
                          "/api/v1/sites/w000/monthly?year=2025",
                          "/api/v1/sites/w000/daily",
                          "/api/v1/sites/w000/meters/main/readings",
                          "/api/v1/report?year=2025",
                          "/api/v1/report?year=2025&site=w000",
                          "/report/2025",
                          "/report/2025?site=w000",
                          "/report/2025/download?format=json",
                          "/metrics"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        expect(urls[i], &fac, 403, NULL);
    expect("/sites/w001", &fac, 200, "Office w001");
    expect("/api/v1/report?year=2025&site=w001", &fac, 200, "officemeter.report.v2");
    char *body;
    assert_int_equal(get("/", &fac, &body), 200);
    assert_non_null(strstr(body, "data-site=\"w001\""));
    assert_null(strstr(body, "data-site=\"w000\""));
    free(body);
    assert_int_equal(get("/api/v1/sites", &fac, &body), 200);
    assert_null(strstr(body, "w000"));
    free(body);
    assert_int_equal(get("/api/v1/status", &fac, &body), 200);
    assert_null(strstr(body, "w000"));
    free(body);
}

static void test_json_shapes(void **state)
{
    json_t *v = get_json("/api/v1/sites", 200);
    json_t *sites = json_object_get(v, "sites");
    assert_int_equal(json_array_size(sites), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(sites, 0), "site")),
                        "w000");
    assert_int_equal(json_array_size(json_object_get(json_array_get(sites, 0), "meters")), 2);
    json_decref(v);

    v = get_json("/api/v1/sites/w000/monthly?year=2025", 200);
    json_t *months = json_object_get(v, "monthly");
    assert_int_equal(json_array_size(months), 12);
    json_t *march = json_array_get(months, 2);
    assert_string_equal(json_string_value(json_object_get(march, "month")), "2025-03");
    /* Ten days of main at 2.5 kWh per 15 minutes: 959 intervals. */
    om_test_assert_near(json_real_value(json_object_get(march, "electricity_mwh")),
                        959 * 2.5 / 1000);
    json_decref(v);

    v = get_json("/api/v1/sites/w000/daily?from=2025-03-02&to=2025-03-04", 200);
    json_t *days = json_object_get(v, "days");
    assert_int_equal(json_array_size(days), 3);
    om_test_assert_near(json_real_value(json_object_get(json_array_get(days, 0),
                                                        "electricity_kwh")), 96 * 2.5);
    om_test_assert_near(json_real_value(json_object_get(json_array_get(days, 0), "coverage")),
                        1);
    json_decref(v);

    v = get_json("/api/v1/sites/w000/meters/main/readings?from=2025-03-01&to=2025-03-11"
                 "&quantity=power_kw&points=100", 200);
    assert_true(json_array_size(json_object_get(v, "points")) <= 100);
    assert_string_equal(json_string_value(json_object_get(v, "source")), "hourly aggregates");
    om_test_assert_near(json_real_value(json_object_get(json_array_get(json_object_get(v,
                                                                                       "points"),
                                                                       0), "mean")), 10);
    json_decref(v);
    v = get_json("/api/v1/sites/w000/meters/main/readings?from=2025-03-01&to=2025-03-01T06:00:00Z"
                 "&points=100", 200);
    assert_string_equal(json_string_value(json_object_get(v, "source")), "readings");
    json_decref(v);

    v = get_json("/api/v1/status", 200);
    assert_int_equal(json_array_size(json_object_get(v, "meters")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "totals"),
                                                        "readings")), 2 * 2 * 960 * 2);
    json_decref(v);

    v = get_json("/api/v1/report?year=2025", 200);
    assert_string_equal(json_string_value(json_object_get(v, "schema")), "officemeter.report.v2");
    json_decref(v);
}

static void test_pages_and_metrics(void **state)
{
    expect("/", NULL, 200, "<table id=\"portfolio\">");
    expect("/sites/w000", NULL, 200, "<svg id=\"chart-monthly-electricity\"");
    expect("/sites/w000/meters/main?from=2025-03-01&to=2025-03-11", NULL, 200,
           "id=\"zoom-in\"");
    expect("/report/2025", NULL, 200, "data-kpi=\"energy_total_mwh\"");
    expect("/report/2025/download?format=md", NULL, 200, "| Energy consumption, total |");
    expect("/static/web.css", NULL, 200, "svg.chart");
    expect("/metrics", NULL, 200, "# TYPE officemeter_readings_stored_total counter");
}

static void test_users_file(void **state)
{
    char hash[256], err[256];
    assert_int_equal(om_users_hash("correct horse", hash, sizeof hash, err, sizeof err), 0);
    assert_int_equal(strncmp(hash, "$y$", 3), 0);
    char text[4096];
    snprintf(text, sizeof text,
             "# comment\nesg:%s:all\nfac:%s:w000,w001\nbad name:%s:all\nplain:secret:all\n"
             "x:%s:w0,\nfac:%s:all\n", hash, hash, hash, hash, hash);
    write_file("users", text);
    char path[256];
    snprintf(path, sizeof path, "%s/users", dir);
    om_users users;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_users_load(path, &users, &diag), -1);
    assert_int_equal(om_diag_count(&diag), 4);
    assert_non_null(strstr(diag.messages[0], "users:4:1: name: not a user name"));
    assert_non_null(strstr(diag.messages[1], "users:5:7: hash: not a crypt(3) hash"));
    assert_non_null(strstr(diag.messages[2], "sites: a comma ends"));
    assert_non_null(strstr(diag.messages[3], "users:7:1: name: user \"fac\" appears twice"));
    om_diag_free(&diag);
    const om_user *u = om_users_find(&users, "fac");
    assert_non_null(u);
    assert_true(om_user_may_see(u, "w001"));
    assert_false(om_user_may_see(u, "w002"));
    assert_int_equal(om_user_check_password(u, "correct horse"), 1);
    assert_int_equal(om_user_check_password(u, "correct horse "), 0);
    assert_true(om_user_may_see(om_users_find(&users, "esg"), "anything"));
    om_users_free(&users);
}

static void test_config_checks(void **state)
{
    write_file("bad.yaml", "listen: 127.0.0.1:99999\nproxy_user_header: \"X User\"\n"
                           "tls: {cert_file: a.pem}\n");
    char path[256];
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    om_web_config c;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_web_config_load(path, &c, &diag), -1);
    wbuf all = {0};
    for (size_t i = 0; i < diag.count; i++)
        wb_printf(&all, "%s\n", diag.messages[i]);
    assert_non_null(strstr(all.data, "give aggregator_config, or database and sites_dir"));
    assert_non_null(strstr(all.data, "bad.yaml:1:9: listen: not an address"));
    assert_non_null(strstr(all.data, "proxy_user_header: not a header name"));
    assert_non_null(strstr(all.data, "tls.key_file"));
    wb_free(&all);
    om_diag_free(&diag);
    om_web_config_free(&c);
}

/* The per-zone table of midnights the pages use: equal to the calendar's
 * day bounds across both changes of summer time; local days and hours. */
static void test_local_days(void **state)
{
    int32_t first = om_days_from_civil(2025, 3, 28);
    int64_t starts[220];
    assert_int_equal(om_tz_day_starts("Europe/London", first, 220, starts), 0);
    for (int i = 0; i < 220; i++) {
        int64_t start, end;
        assert_int_equal(om_day_bounds("Europe/London", first + i, &start, &end), 0);
        assert_int_equal(starts[i], start);
    }
    om_site london = {.site = "x", .timezone = "Europe/London"};
    /* 30 March 2025 has 23 hours: 02:00 BST is 01:00 UTC. */
    int64_t t = om_test_iso("2025-03-30T01:30:00Z");
    assert_int_equal(web_local_day(&london, t), om_days_from_civil(2025, 3, 30));
    int wday, hour;
    web_local_time(&london, t, &wday, &hour);
    assert_int_equal(wday, 6); /* a Sunday */
    assert_int_equal(hour, 1);
    assert_int_equal(web_day_start(&london, om_days_from_civil(2025, 7, 1)),
                     om_test_iso("2025-06-30T23:00:00Z"));
    assert_int_equal(web_year_before(&london, om_test_iso("2026-07-01T12:00:00Z")),
                     om_test_iso("2025-07-01T12:00:00Z"));
    assert_int_equal(web_month_start(&london, om_test_iso("2025-11-15T12:00:00Z")),
                     om_test_iso("2025-11-01T00:00:00Z"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_forbidden_outside_sites),
        cmocka_unit_test(test_json_shapes),
        cmocka_unit_test(test_pages_and_metrics),
        cmocka_unit_test(test_users_file),
        cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_local_days),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
