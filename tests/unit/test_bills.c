/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bills.c - bills from the CSV reader to the months they count in.
 *
 * The reader: what spreadsheets write (a byte order mark, CRLF, quotes,
 * spaces, comments) reads into the right values; bytes a stranger may send
 * (NUL, control bytes, unclosed quotes, endless rows, random mutations)
 * give one error per bad row naming file, line, column and field, and never
 * crash. The spreading: a bill's quantity goes to months by days at month
 * and year edges in the site's zone, to the sites of a shared account by
 * floor area on each day or by fixed shares, and only to the time no main
 * meter is in service (docs/methodology.md, "Bills").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/config/bills.h"
#include "officemeter/report/billed.h"
#include "testutil.h"

#define HEADER "utility,account,period_start,period_end,quantity,unit,source,document\n"
#define DAY_MS 86400000LL

static int parse(const char *text, om_bill_set *set, om_diag *diag)
{
    memset(set, 0, sizeof *set);
    om_diag_init(diag);
    return om_bills_parse("b.csv", "alpha", text, strlen(text), set, diag);
}

static void done(om_bill_set *set, om_diag *diag)
{
    om_bills_free(set);
    om_diag_free(diag);
}

static void test_spreadsheet_export(void **state)
{
    (void)state;
    const char text[] = "\xef\xbb\xbf" "utility, account ,period_start,period_end,quantity,unit,"
                        "source,document\r\n"
                        "# a comment line, then a blank one\r\n"
                        "\r\n"
                        "water , \"W-1, level 3\",2024-01-01,2024-03-31, 1234.5 ,m3,landlord,"
                        "\"Q1 \"\"final\"\"\"\r\n"
                        "electricity,E-7,2024-02-01,2024-02-29,8.5,MWh,estimated,inv-2.pdf";
    om_bill_set set;
    om_diag diag;
    int rc = parse(text, &set, &diag);
    om_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(set.nbills, 2);
    const om_bill *w = &set.bills[0], *e = &set.bills[1];
    assert_string_equal(w->site, "alpha");
    assert_int_equal(w->utility, OM_UTILITY_WATER);
    assert_string_equal(w->account, "W-1, level 3");
    assert_int_equal(w->start, om_days_from_civil(2024, 1, 1));
    assert_int_equal(w->end, om_days_from_civil(2024, 3, 31));
    assert_int_equal(om_bill_days(w), 91);
    om_test_assert_exact(w->quantity, 1234.5);
    assert_int_equal(w->source, OM_BILL_LANDLORD);
    assert_string_equal(w->document, "Q1 \"final\"");
    assert_int_equal(w->line, 4);
    assert_string_equal(w->file, "b.csv");
    /* MWh in canonical kWh. */
    om_test_assert_exact(e->quantity, 8500);
    om_test_assert_exact(e->written, 8.5);
    assert_string_equal(e->unit, "MWh");
    assert_int_equal(e->source, OM_BILL_ESTIMATED);
    assert_int_equal(e->line, 5);
    done(&set, &diag);
}

/* Each bad row: one error, the others kept. */
static void expect_one(const char *row, const char *message)
{
    char text[1024];
    snprintf(text, sizeof text, HEADER "water,W,2024-01-01,2024-01-31,31,m3,invoice,OK-1\n%s\n"
                                       "water,W,2024-03-01,2024-03-31,31,m3,invoice,OK-3\n",
             row);
    om_bill_set set;
    om_diag diag;
    assert_int_equal(parse(text, &set, &diag), -1);
    if (diag.count != 1 || strcmp(diag.messages[0], message) != 0) {
        om_diag_print(&diag, stderr);
        fail_msg("expected: %s", message);
    }
    assert_int_equal(set.nbills, 2);
    done(&set, &diag);
}

static void test_bad_rows(void **state)
{
    (void)state;
    expect_one("steam,W,2024-02-01,2024-02-29,29,m3,invoice,X",
               "b.csv:3:1: utility: unknown value (got \"steam\", expected electricity or water)");
    expect_one("water,W,2024-02-30,2024-03-01,2,m3,invoice,X",
               "b.csv:3:9: period_start: invalid date (got \"2024-02-30\", expected YYYY-MM-DD)");
    expect_one("water,W,01/02/2024,2024-03-01,2,m3,invoice,X",
               "b.csv:3:9: period_start: invalid date (got \"01/02/2024\", expected YYYY-MM-DD)");
    expect_one("water,W,2024-02-01,2024-02-29,nan,m3,invoice,X",
               "b.csv:3:31: quantity: invalid quantity (got \"nan\", expected a number from 0 to "
               "1e12, such as 1234.5, without sign or thousands separator)");
    expect_one("water,W,2024-02-01,2024-02-29,0x1d,m3,invoice,X",
               "b.csv:3:31: quantity: invalid quantity (got \"0x1d\", expected a number from 0 to "
               "1e12, such as 1234.5, without sign or thousands separator)");
    expect_one("water,W,2024-02-01,2024-02-29,1e400,m3,invoice,X",
               "b.csv:3:31: quantity: invalid quantity (got \"1e400\", expected a number from 0 "
               "to 1e12, such as 1234.5, without sign or thousands separator)");
    expect_one("water,W,2024-02-01,2024-02-29,29,L,invoice,X",
               "b.csv:3:34: unit: unit does not suit water (got \"L\", expected m3)");
    expect_one("water,W,2024-02-01,2024-02-29,29,m3,invoice,\"X",
               "b.csv:3:45: document: quote not closed on this line (expected \"...\")");
    expect_one("water,W,2024-02-01,2024-02-29,29,m3,invoice,\"X\" Y",
               "b.csv:3:49: document: text after the closing quote (expected a comma or the end "
               "of the line)");
    expect_one("water,W,2024-02-01,2024-02-29,29,m3,invoice",
               "b.csv:3:45: 7 fields (expected 8: utility,account,period_start,period_end,"
               "quantity,unit,source,document)");
    expect_one("water,W,2024-02-01,2024-02-29,29,m3,invoice,X\x1b[2J",
               "b.csv:3:46: document: control byte 0x1b in the field (expected text)");
    char longname[400];
    memset(longname, 'a', 300);
    longname[300] = '\0';
    char row[512];
    snprintf(row, sizeof row, "water,W,2024-02-01,2024-02-29,29,m3,invoice,%s", longname);
    expect_one(row, "b.csv:3:45: document: longer than 256 characters");
}

/* A NUL byte, a missing header, an endless run of bad rows. */
static void test_hostile_buffers(void **state)
{
    (void)state;
    om_bill_set set;
    om_diag diag;
    const char nul[] = HEADER "water,W,2024-01-01,2024-01-31,3\0001,m3,invoice,X\n";
    memset(&set, 0, sizeof set);
    om_diag_init(&diag);
    assert_int_equal(om_bills_parse("b.csv", "alpha", nul, sizeof nul - 1, &set, &diag), -1);
    assert_int_equal(diag.count, 1);
    assert_string_equal(diag.messages[0],
                        "b.csv:2:32: quantity: control byte 0x00 in the field (expected text)");
    assert_int_equal(set.nbills, 0);
    done(&set, &diag);

    assert_int_equal(parse("water,W,2024-01-01,2024-01-31,31,m3,invoice,X\n", &set, &diag), -1);
    assert_string_equal(diag.messages[0],
                        "b.csv:1:1: header column 1 is \"water\" (expected utility)");
    done(&set, &diag);
    assert_int_equal(parse("", &set, &diag), -1);
    assert_string_equal(diag.messages[0],
                        "b.csv:1:1: no header (expected utility,account,period_start,period_end,"
                        "quantity,unit,source,document)");
    done(&set, &diag);

    /* 5000 bad rows: the first OM_BILLS_MAX_ERRORS, then one count. */
    size_t len = strlen(HEADER) + 5000 * 6 + 1;
    char *many = malloc(len);
    strcpy(many, HEADER);
    for (int i = 0; i < 5000; i++)
        strcat(many, "x,y,z\n");
    memset(&set, 0, sizeof set);
    om_diag_init(&diag);
    assert_int_equal(om_bills_parse("b.csv", "alpha", many, strlen(many), &set, &diag), -1);
    assert_int_equal(diag.count, OM_BILLS_MAX_ERRORS + 1);
    assert_string_equal(diag.messages[OM_BILLS_MAX_ERRORS], "b.csv: 4950 more errors not shown");
    done(&set, &diag);
    free(many);

    /* Not a site id. */
    memset(&set, 0, sizeof set);
    om_diag_init(&diag);
    assert_int_equal(om_bills_parse("../x.csv", "../x", HEADER, strlen(HEADER), &set, &diag), -1);
    assert_string_equal(diag.messages[0],
                        "../x.csv: the file name is not a site id (got \"../x\", expected SITE.csv)");
    done(&set, &diag);
}

/* Random mutations of a good file: the parser returns, every bill it keeps
 * is sound, and a failure always says why. (A fuzzer does this at scale.) */
static void test_mutations(void **state)
{
    (void)state;
    const char seed[] = HEADER "water,\"W,1\",2024-01-01,2024-01-31,31,m3,invoice,D-1\r\n"
                               "electricity,E,2023-12-20,2024-01-19,1.5,MWh,estimated,D-2\n";
    size_t n = sizeof seed - 1;
    char buf[sizeof seed + 8];
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, seed, n);
        size_t len = n;
        for (int k = 0; k < 1 + round % 4; k++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % len;
            x = x * 1103515245u + 12345u;
            int what = (int)(x >> 28) % 3;
            if (what == 0)
                buf[at] = (char)(x >> 16);
            else if (what == 1 && len > 1)
                memmove(buf + at, buf + at + 1, --len - at);
            else if (len < sizeof buf)
                memmove(buf + at + 1, buf + at, len++ - at), buf[at] = (char)(x >> 20);
        }
        om_bill_set set = {0};
        om_diag diag;
        om_diag_init(&diag);
        int rc = om_bills_parse("m.csv", "alpha", buf, len, &set, &diag);
        assert_true(rc == 0 || diag.count > 0);
        for (size_t i = 0; i < set.nbills; i++) {
            const om_bill *b = &set.bills[i];
            assert_true(b->end >= b->start && om_bill_days(b) <= OM_BILL_MAX_DAYS);
            assert_true(b->quantity >= 0 && b->quantity <= 1e15);
            assert_true(b->account[0] && b->document[0]);
        }
        done(&set, &diag);
    }
}

static void test_double_counting(void **state)
{
    (void)state;
    om_bill_set set;
    om_diag diag;
    assert_int_equal(parse(HEADER "water,W,2024-01-01,2024-01-31,31,m3,invoice,A\n"
                                  "water,W,2024-02-01,2024-02-29,29,m3,invoice,B\n"
                                  "water,V,2024-01-15,2024-02-14,31,m3,invoice,C\n"
                                  "water,W,2024-01-31,2024-02-01,2,m3,invoice,D\n"
                                  "electricity,W,2024-01-01,2024-01-31,31,kWh,invoice,A\n",
                           &set, &diag),
                     0);
    /* Adjacent periods and another account are fine; a shared day and a
     * repeated document are not. */
    assert_int_equal(om_bills_overlap_of(&set, 1), SIZE_MAX);
    assert_int_equal(om_bills_overlap_of(&set, 2), SIZE_MAX);
    assert_int_equal(om_bills_overlap_of(&set, 3), 0);
    assert_int_equal(om_bills_overlap_of(&set, 4), 0);
    assert_int_equal(om_bills_check_overlaps(&set, &diag), 2);
    assert_string_equal(diag.messages[0],
                        "b.csv:5:1: period_start: water account W: 2024-01-31..2024-02-01 overlaps "
                        "line 2 (A, 2024-01-01..2024-01-31): the same days billed twice "
                        "(officemeter reconcile shows what it would double)");
    done(&set, &diag);
}

/* ---- spreading ------------------------------------------------------------ */

typedef struct {
    om_site site[2];
    om_meter meter[2];
    om_area_period area[2][2];
    om_policy policy;
    om_bill_set bills;
} world;

static void world_init(world *w, const char *zone)
{
    memset(w, 0, sizeof *w);
    const char *ids[2] = {"alpha", "beta"};
    for (int s = 0; s < 2; s++) {
        w->site[s].site = (char *)ids[s];
        w->site[s].timezone = (char *)zone;
        w->area[s][0] = (om_area_period){om_days_from_civil(2020, 1, 1), 100};
        w->site[s].floor_area = w->area[s];
        w->site[s].nfloor_area = 1;
    }
    w->policy.bills.use = OM_BILLS_FILL;
}

static void add_bills(world *w, const char *rows)
{
    char text[2048];
    snprintf(text, sizeof text, HEADER "%s", rows);
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_bills_parse("alpha.csv", "alpha", text, strlen(text), &w->bills, &diag);
    om_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    om_diag_free(&diag);
}

/* The part of the first bill in a site's month; asserts there is one. */
static const om_bill_month *part(const om_bill_month *p, size_t n, const char *site,
                                 unsigned month)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].site, site) == 0 && p[i].month == month)
            return &p[i];
    fail_msg("no part for %s month %u", site, month);
    return NULL;
}

static void test_month_and_year_edges(void **state)
{
    (void)state;
    world w;
    world_init(&w, "Europe/London");
    /* 31 days across the year end, 10 a day; 20 days across a month end; a
     * March in London (743 hours: the clocks go forward). */
    add_bills(&w, "water,W,2023-12-16,2024-01-15,310,m3,invoice,Y\n"
                  "water,W,2024-02-20,2024-03-10,200,m3,invoice,M\n"
                  "water,W,2024-03-11,2024-03-31,21,m3,invoice,D\n");
    om_bill_month *p;
    size_t n;
    assert_int_equal(om_bills_spread(w.site, 1, &w.bills, &w.policy, 2024, &p, &n), 0);
    /* 2024 only: January's 15 days of the first bill, not December's. */
    assert_int_equal(n, 4);
    const om_bill_month *jan = part(p, n, "alpha", 1);
    assert_int_equal(jan->days, 15);
    om_test_assert_near_what(jan->counted, 150, "January");
    assert_int_equal(jan->billed_ms, 15 * DAY_MS);
    om_test_assert_near_what(part(p, n, "alpha", 2)->counted, 100, "February");
    /* March: two bills, 10 days of one, 21 of the other; the 31st is 23 h. */
    size_t mar = 0;
    int64_t mar_ms = 0;
    double mar_qty = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].month == 3) {
            mar++;
            mar_ms += p[i].billed_ms;
            mar_qty += p[i].counted;
        }
    assert_int_equal(mar, 2);
    om_test_assert_near_what(mar_qty, 100 + 21, "March");
    assert_int_equal(mar_ms, 743 * 3600000LL);
    free(p);
    assert_int_equal(om_bills_spread(w.site, 1, &w.bills, &w.policy, 2023, &p, &n), 0);
    assert_int_equal(n, 1);
    om_test_assert_near_what(p[0].counted, 160, "December 2023");
    assert_int_equal(p[0].month, 12);
    free(p);
    om_bills_free(&w.bills);
}

/* A main meter from a timestamp inside a day: that day counts from the
 * bill only until the meter starts, in the site's zone. */
static void test_meter_takes_over(void **state)
{
    (void)state;
    world w;
    world_init(&w, "Asia/Shanghai");
    w.meter[0] = (om_meter){.id = (char *)"m", .utility = OM_UTILITY_WATER, .role = OM_ROLE_MAIN,
                            .active_from = om_test_iso("2024-03-05T18:00:00+08:00"),
                            .active_until = OM_TIME_NONE};
    w.site[0].meters = w.meter;
    w.site[0].nmeters = 1;
    add_bills(&w, "water,W,2024-03-01,2024-03-31,310,m3,invoice,B\n"
                  "electricity,E,2024-03-01,2024-03-31,310,kWh,invoice,E\n");
    om_bill_month *p;
    size_t n;
    assert_int_equal(om_bills_spread(w.site, 1, &w.bills, &w.policy, 2024, &p, &n), 0);
    assert_int_equal(n, 2);
    /* Four whole days and 18 hours of the fifth (local midnight to 18:00). */
    const om_bill_month *water = p[0].utility == OM_UTILITY_WATER ? &p[0] : &p[1];
    const om_bill_month *elec = p[0].utility == OM_UTILITY_WATER ? &p[1] : &p[0];
    om_test_assert_near_what(water->counted, 10 * (4 + 18.0 / 24), "water before the meter");
    assert_int_equal(water->billed_ms, (4 * 24 + 18) * 3600000LL);
    om_test_assert_near_what(water->metered_days, 31 - 4 - 18.0 / 24, "days the meter covers");
    om_test_assert_near_what(water->spread, 310, "the whole bill in March");
    /* A water meter does not cover electricity. */
    om_test_assert_near_what(elec->counted, 310, "electricity");
    /* reconcile_only keeps the bill out of the figures. */
    om_bill_rule rule = {(char *)"alpha", OM_UTILITY_ELECTRICITY, OM_BILLS_RECONCILE_ONLY, 0, 0};
    w.policy.bills.rules = &rule;
    w.policy.bills.nrules = 1;
    free(p);
    assert_int_equal(om_bills_spread(w.site, 1, &w.bills, &w.policy, 2024, &p, &n), 0);
    elec = p[0].utility == OM_UTILITY_WATER ? &p[1] : &p[0];
    assert_true(elec->reconcile_only);
    om_test_assert_exact(elec->counted, 0);
    assert_int_equal(elec->billed_ms, 0);
    free(p);
    om_bills_free(&w.bills);
}

static void test_shared_account(void **state)
{
    (void)state;
    world w;
    world_init(&w, "Asia/Singapore");
    /* alpha grows from 100 to 300 m² on 2024-01-11; beta stays at 100. */
    w.area[0][1] = (om_area_period){om_days_from_civil(2024, 1, 11), 300};
    w.site[0].nfloor_area = 2;
    char *sites[2] = {(char *)"alpha", (char *)"beta"};
    om_bill_account acc = {.account = (char *)"SHARED", .utility = OM_UTILITY_WATER,
                           .sites = sites, .nsites = 2};
    w.policy.bills.accounts = &acc;
    w.policy.bills.naccounts = 1;
    add_bills(&w, "water,SHARED,2024-01-01,2024-01-20,200,m3,landlord,S\n");
    om_bill_month *p;
    size_t n;
    assert_int_equal(om_bills_spread(w.site, 2, &w.bills, &w.policy, 2024, &p, &n), 0);
    assert_int_equal(n, 2);
    /* 10 a day: days 1-10 half each, days 11-20 three quarters to alpha. */
    om_test_assert_near_what(part(p, n, "alpha", 1)->counted, 50 + 75, "alpha");
    om_test_assert_near_what(part(p, n, "beta", 1)->counted, 50 + 25, "beta");
    om_test_assert_near_what(part(p, n, "alpha", 1)->share, 0.625, "alpha's mean share");
    free(p);
    /* Fixed shares. */
    om_account_share shares[2] = {{(char *)"alpha", 0.3}, {(char *)"beta", 0.7}};
    acc.sites = NULL;
    acc.nsites = 0;
    acc.shares = shares;
    acc.nshares = 2;
    assert_int_equal(om_bills_spread(w.site, 2, &w.bills, &w.policy, 2024, &p, &n), 0);
    om_test_assert_near_what(part(p, n, "alpha", 1)->counted, 60, "alpha fixed");
    om_test_assert_near_what(part(p, n, "beta", 1)->counted, 140, "beta fixed");
    free(p);
    /* A report of one site keeps the other's share out, not handed over. */
    assert_int_equal(om_bills_spread(w.site, 1, &w.bills, &w.policy, 2024, &p, &n), 0);
    assert_int_equal(n, 1);
    om_test_assert_near_what(p[0].counted, 60, "alpha alone");
    free(p);
    om_bills_free(&w.bills);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spreadsheet_export),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_hostile_buffers),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_double_counting),
        cmocka_unit_test(test_month_and_year_edges),
        cmocka_unit_test(test_meter_takes_over),
        cmocka_unit_test(test_shared_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
