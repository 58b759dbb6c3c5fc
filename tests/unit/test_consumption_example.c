/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_consumption_example.c - the worked example of docs/methodology.md:
 * its settings and readings are read from the page, run through the
 * counter curve, and every number in its results block must come out. A
 * change to the method or to the page that makes them disagree fails here.
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

#include "officemeter/report/consumption.h"
#include "officemeter/base/isotime.h"
#include "testutil.h"

#define DOC OM_SOURCE_DIR "/docs/methodology.md"

static char *read_doc(void)
{
    FILE *f = fopen(DOC, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The body of the fenced block after the marker comment (a copy). */
static char *block(const char *doc, const char *marker)
{
    char tag[128];
    snprintf(tag, sizeof tag, "<!-- worked example: %s -->", marker);
    const char *p = strstr(doc, tag);
    if (!p)
        fail_msg("%s: no \"%s\"", DOC, tag);
    p = strstr(p, "```");
    assert_non_null(p);
    p = strchr(p, '\n') + 1;
    const char *end = strstr(p, "```");
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

/* "key = value" in a block; the value as text. */
static const char *value_of(const char *blk, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    for (const char *line = blk; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && strncmp(line + klen, " = ", 3) == 0) {
            const char *v = line + klen + 3;
            size_t n = strcspn(v, "\n");
            snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), v);
            return buf;
        }
    }
    fail_msg("%s: no \"%s = ...\" in the example", DOC, key);
    return NULL;
}

static double number(const char *blk, const char *key)
{
    char buf[128];
    return strtod(value_of(blk, key, buf, sizeof buf), NULL);
}

static int64_t instant(const char *blk, const char *key)
{
    char buf[128];
    int64_t ms;
    assert_int_equal(om_parse_iso8601(value_of(blk, key, buf, sizeof buf), &ms), 0);
    return ms;
}

static void test_worked_example(void **state)
{
    char *doc = read_doc();
    char *settings = block(doc, "settings");
    char *readings = block(doc, "readings");
    char *results = block(doc, "results");

    om_sample s[64];
    size_t n = 0;
    for (char *line = strtok(readings, "\n"); line; line = strtok(NULL, "\n")) {
        char *comma = strchr(line, ',');
        assert_non_null(comma);
        *comma = '\0';
        assert_int_equal(om_parse_iso8601(line, &s[n].t), 0);
        s[n++].v = strtod(comma + 1, NULL);
    }
    om_counter_break br = {instant(settings, "replacement_at"), number(settings, "old_final"),
                           number(settings, "new_initial")};
    om_counter_opts o;
    om_counter_opts_default(&o);
    o.width = number(settings, "width");
    o.max_rate_per_h = number(settings, "max_rate_per_h");
    o.interval_ms = (int64_t)number(settings, "interval_s") * 1000;
    o.gap_intervals = (unsigned)number(settings, "gap_intervals");
    o.breaks = &br;
    o.nbreaks = 1;
    om_counter *c = om_counter_new(s, n, &o);
    assert_non_null(c);

    int64_t a = instant(settings, "period_start"), b = instant(settings, "period_end");
    double va, vb;
    assert_int_equal(om_counter_value_at(c, a, &va), 0);
    assert_int_equal(om_counter_value_at(c, b, &vb), 0);
    om_test_assert_near_what(va, number(results, "boundary_start"), "boundary_start");
    om_test_assert_near_what(vb, number(results, "boundary_end"), "boundary_end");
    om_consumption r;
    assert_int_equal(om_counter_consumption(c, a, b, &r), 0);
    om_test_assert_near_what(r.value, number(results, "consumption"), "consumption");
    om_test_assert_near_what(r.estimated, number(results, "estimated"), "estimated");
    om_test_assert_near_what(r.estimated / r.value, number(results, "estimated_share"), "estimated_share");
    om_test_assert_near_what((double)r.expected_ms / 3600000, number(results, "expected_h"), "expected_h");
    om_test_assert_near_what((double)r.actual_ms / 3600000, number(results, "actual_h"), "actual_h");
    om_test_assert_near_what((double)r.actual_ms / (double)r.expected_ms, number(results, "coverage"),
                 "coverage");
    om_test_assert_near_what((double)om_samples_count(s, n, a, b), number(results, "readings"), "readings");

    char want[256], got[256] = "";
    value_of(results, "events", want, sizeof want);
    size_t ne;
    const om_counter_event *ev = om_counter_events(c, &ne);
    for (size_t i = 0; i < ne; i++) {
        if (i)
            strcat(got, " ");
        strcat(got, om_counter_event_name(ev[i].kind));
    }
    assert_string_equal(got, want);

    om_counter_free(c);
    free(settings);
    free(readings);
    free(results);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_worked_example)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
