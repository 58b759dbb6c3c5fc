/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_reconcile.c - the meters against the bills, with planted
 * discrepancies: a meter that missed a week (no readings, nothing counted)
 * and a bill entered twice are flagged with the right cause; a meter
 * replaced in a bill's period is named; a meter that starts mid-period is
 * compared on the days it covers; bills that match are not flagged.
 *
 * One London office, its main meter read every 30 minutes at 12 kW
 * (288 kWh a day), its monthly invoices at the same rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/report/reconcile.h"
#include "testutil.h"

#define STEP_MS (30 * 60 * 1000LL)
#define HEADER "utility,account,period_start,period_end,quantity,unit,source,document\n"

typedef struct {
    om_site site;
    om_meter meter;
    om_area_period area;
    om_replacement rep;
    om_counter_value old_final, new_initial;
    om_policy policy;
    om_bill_set bills;
    om_sample *s;
    size_t n;
} world;

/* Readings from 2023-12-25 to 2024-04-05 at 12 kW; from `silent_from` for
 * `silent_days` none, and the counter did not move (a meter off). */
static void world_init(world *w, const char *silent_from, int silent_days)
{
    memset(w, 0, sizeof *w);
    w->site.site = (char *)"ldn";
    w->site.timezone = (char *)"Europe/London";
    w->area = (om_area_period){om_days_from_civil(2020, 1, 1), 1000};
    w->site.floor_area = &w->area;
    w->site.nfloor_area = 1;
    w->meter = (om_meter){.id = (char *)"ldn-main", .utility = OM_UTILITY_ELECTRICITY,
                          .role = OM_ROLE_MAIN, .active_from = OM_TIME_NONE,
                          .active_until = OM_TIME_NONE};
    w->site.meters = &w->meter;
    w->site.nmeters = 1;
    w->policy.poll_interval_s = 1800;
    w->policy.gap_intervals = 4;
    w->policy.max_power_kw = 100;
    w->policy.bills.reconcile_threshold_pct = 5;
    int64_t a = om_test_iso("2023-12-25T00:00:00Z"), b = om_test_iso("2024-04-05T00:00:00Z");
    int64_t q0 = silent_from ? om_test_iso(silent_from) : INT64_MAX;
    int64_t q1 = silent_from ? q0 + silent_days * 86400000LL : INT64_MAX;
    w->s = calloc((size_t)((b - a) / STEP_MS) + 1, sizeof *w->s);
    double v = 1000, lost = 0;
    for (int64_t t = a; t <= b; t += STEP_MS) {
        if (t > q0 && t < q1)
            continue;
        if (t >= q1 && lost == 0)
            lost = 12.0 * (double)(q1 - q0) / 3600000.0;
        w->s[w->n++] = (om_sample){t, v + 12.0 * (double)(t - a) / 3600000.0 - lost};
    }
}

static void world_free(world *w)
{
    free(w->s);
    om_bills_free(&w->bills);
}

static int counter(void *user, const om_site *site, const om_meter *meter, om_quantity q,
                   int64_t a, int64_t b, unsigned context, om_sample **out, size_t *n)
{
    const world *w = user;
    size_t lo = 0, hi;
    while (lo < w->n && w->s[lo].t < a)
        lo++;
    for (hi = lo; hi < w->n && w->s[hi].t < b; hi++)
        ;
    size_t from = lo >= context ? lo - context : 0;
    size_t to = hi + context < w->n ? hi + context : w->n;
    *n = to - from;
    *out = malloc((*n ? *n : 1) * sizeof **out);
    memcpy(*out, w->s + from, *n * sizeof **out);
    return 0;
}

static void bills(world *w, const char *rows)
{
    char text[2048];
    snprintf(text, sizeof text, HEADER "%s", rows);
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_bills_parse("ldn.csv", "ldn", text, strlen(text), &w->bills, &diag), 0);
    om_diag_free(&diag);
}

/* January 744 h, February 696 h, March 743 h (the clocks go forward). */
#define INVOICES                                                                               \
    "electricity,E-1,2024-01-01,2024-01-31,8928,kWh,invoice,INV-01\n"                          \
    "electricity,E-1,2024-02-01,2024-02-29,8352,kWh,invoice,INV-02\n"                          \
    "electricity,E-1,2024-03-01,2024-03-31,8.916,MWh,invoice,INV-03\n"

static void reconcile(world *w, om_reconciliation *r)
{
    om_rollup_source src = {counter, NULL, w, NULL};
    assert_int_equal(om_reconcile(&w->site, 1, NULL, 0, &w->bills, &w->policy, 2024, 5, &src, r),
                     0);
}

static const om_recon_row *row_of(const om_reconciliation *r, const char *document)
{
    for (size_t i = 0; i < r->nrows; i++)
        if ((document == NULL && r->rows[i].bill == SIZE_MAX) ||
            (document && strcmp(r->rows[i].document, document) == 0))
            return &r->rows[i];
    fail_msg("no row for %s", document ? document : "the account");
    return NULL;
}

static void test_bills_match(void **state)
{
    (void)state;
    world w;
    world_init(&w, NULL, 0);
    bills(&w, INVOICES);
    om_reconciliation r;
    reconcile(&w, &r);
    assert_int_equal(r.nbills, 3);
    assert_int_equal(r.nflagged, 0);
    assert_int_equal(r.nrows, 4); /* three bills, one account */
    om_test_assert_near_what(row_of(&r, "INV-03")->metered, 12 * 743.0, "March, 743 h");
    om_test_assert_exact(row_of(&r, "INV-03")->variance, 0);
    om_test_assert_near_what(row_of(&r, NULL)->metered, 12 * (744 + 696 + 743.0), "quarter");
    for (size_t i = 0; i < r.nrows; i++)
        assert_int_equal(r.rows[i].causes, 0);
    om_reconciliation_free(&r);
    world_free(&w);
}

static void test_meter_missing_a_week(void **state)
{
    (void)state;
    world w;
    /* No readings for 7 days of February, and nothing counted for them:
     * the meter is 7 x 288 = 2016 kWh short of the invoice (-24.1 %). */
    world_init(&w, "2024-02-05T00:00:00Z", 7);
    bills(&w, INVOICES);
    om_reconciliation r;
    reconcile(&w, &r);
    const om_recon_row *feb = row_of(&r, "INV-02");
    om_test_assert_near_what(feb->variance, -2016, "February short");
    om_test_assert_near_what(feb->variance_pct, -2016 / 8352.0 * 100, "February %");
    assert_true(feb->flagged);
    assert_int_equal(feb->causes, 1u << OM_CAUSE_GAP);
    assert_non_null(strstr(feb->why, "ldn-main: 7 d 0 h without readings in the period"));
    /* The other months match and are not flagged; the quarter is. */
    assert_false(row_of(&r, "INV-01")->flagged);
    assert_false(row_of(&r, "INV-03")->flagged);
    assert_true(row_of(&r, NULL)->flagged == (2016 / 26196.0 * 100 > 5));
    assert_true(row_of(&r, NULL)->causes & (1u << OM_CAUSE_GAP));
    om_reconciliation_free(&r);
    world_free(&w);
}

static void test_bill_double_counted(void **state)
{
    (void)state;
    world w;
    world_init(&w, NULL, 0);
    /* February's invoice entered again as a re-issue with its own number. */
    bills(&w, INVOICES "electricity,E-1,2024-02-01,2024-02-29,8352,kWh,invoice,INV-02R\n");
    om_reconciliation r;
    reconcile(&w, &r);
    const om_recon_row *again = row_of(&r, "INV-02R"), *first = row_of(&r, "INV-02");
    assert_true(again->flagged);
    assert_true(first->flagged);
    assert_int_equal(again->causes, 1u << OM_CAUSE_DOUBLE);
    assert_non_null(strstr(again->why, "its days are also billed by INV-02 (line 3)"));
    /* Each alone matches the meter; together the account is 8352 kWh over. */
    om_test_assert_exact(again->variance, 0);
    const om_recon_row *total = row_of(&r, NULL);
    om_test_assert_near_what(total->compared, 26196 + 8352, "billed twice");
    om_test_assert_near_what(total->metered, 26196, "metered once");
    assert_true(total->flagged);
    assert_true(total->causes & (1u << OM_CAUSE_DOUBLE));
    om_reconciliation_free(&r);
    world_free(&w);
}

static void test_replacement_and_partial_meter(void **state)
{
    (void)state;
    world w;
    world_init(&w, NULL, 0);
    /* The meter is replaced on 10 March between readings; the site file
     * gives its final value 100 kWh too high, so March is over by 100. */
    int64_t at = om_test_iso("2024-03-10T10:10:00Z");
    size_t k = 0;
    while (w.s[k].t < at)
        k++;
    double final = w.s[k - 1].v + 12.0 * 10 / 60;
    for (size_t i = k; i < w.n; i++)
        w.s[i].v -= final; /* the new meter counts from 0 */
    w.old_final = (om_counter_value){OM_Q_ENERGY_IMPORT_KWH, final + 100};
    w.new_initial = (om_counter_value){OM_Q_ENERGY_IMPORT_KWH, 0};
    w.rep = (om_replacement){.meter_id = (char *)"ldn-main", .at = at,
                             .old_final = &w.old_final, .nold_final = 1,
                             .new_initial = &w.new_initial, .nnew_initial = 1};
    w.site.replacements = &w.rep;
    w.site.nreplacements = 1;
    /* And the meter is in service from 2024-01-11 only: January is
     * compared on 21 of its 31 days. */
    w.meter.active_from = om_test_iso("2024-01-11T00:00:00Z");
    bills(&w, INVOICES);
    om_reconciliation r;
    reconcile(&w, &r);
    const om_recon_row *mar = row_of(&r, "INV-03"), *jan = row_of(&r, "INV-01");
    om_test_assert_near_what(mar->variance, 100, "March over");
    assert_false(mar->flagged); /* 1.1 %: named, under the threshold */
    assert_int_equal(mar->causes, 1u << OM_CAUSE_REPLACEMENT);
    assert_non_null(strstr(mar->why, "ldn-main replaced at 2024-03-10T10:10:00.000Z"));
    om_test_assert_near_what(jan->compared, 8928.0 * 21 / 31, "January on 21 days");
    om_test_assert_near_what(jan->metered, 12 * 24 * 21.0, "January metered");
    om_test_assert_exact(jan->variance, 0);
    assert_int_equal(jan->causes, 1u << OM_CAUSE_PARTIAL);
    assert_non_null(strstr(jan->why, "a main meter covers 21.00 of the bill's 31 days"));
    om_reconciliation_free(&r);
    world_free(&w);
}

static void test_formats(void **state)
{
    (void)state;
    world w;
    world_init(&w, "2024-02-05T00:00:00Z", 7);
    bills(&w, INVOICES);
    om_reconciliation r;
    reconcile(&w, &r);
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(om_reconciliation_write_md(&r, f), 0);
    assert_int_equal(om_reconciliation_write_csv(&r, f), 0);
    assert_int_equal(om_reconciliation_write_json(&r, f), 0);
    fclose(f);
    assert_non_null(strstr(text, "| ldn | electricity | E-1 | INV-02 | 2024-02-01..2024-02-29 | "
                                 "8352.000 kWh | 8352.000 | 6336.000 | -2016.000 | -24.14% | "
                                 "**FLAG** | gap |"));
    assert_non_null(strstr(text, "ldn,ldn,electricity,E-1,INV-02,2024-02-01,2024-02-29,8352.000,"
                                 "8352.000,6336.000,0.000,-2016.000,-24.14,kWh,yes,gap,"));
    assert_non_null(strstr(text, "\"schema\": \"officemeter.reconcile.v1\""));
    assert_non_null(strstr(text, "\"document\": \"INV-02\""));
    free(text);
    om_reconciliation_free(&r);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bills_match),
        cmocka_unit_test(test_meter_missing_a_week),
        cmocka_unit_test(test_bill_double_counted),
        cmocka_unit_test(test_replacement_and_partial_meter),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
