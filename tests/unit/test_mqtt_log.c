/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mqtt_log.c - the daemons' log: levels, and repeated failures
 * rate-limited but never silenced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/daemon/log.h"

static char captured[8192];

/* Runs fn with stderr redirected to a temporary file, and reads it back. */
static void capture(void (*fn)(void))
{
    char path[] = "/tmp/om-log-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, captured, sizeof captured - 1);
    captured[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
}

static size_t count(const char *needle)
{
    size_t n = 0;
    for (const char *p = captured; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void levels(void)
{
    om_log_set_ident("prog");
    om_log_set_level(OM_LOG_WARNING);
    om_log(OM_LOG_ERROR, "e %d", 1);
    om_log(OM_LOG_WARNING, "w");
    om_log(OM_LOG_INFO, "i");
    om_log(OM_LOG_DEBUG, "d");
}

static void test_levels(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    capture(levels);
    assert_string_equal(captured, "prog: error: e 1\nprog: warning: w\n");
    om_log_level l;
    assert_int_equal(om_log_level_parse("debug", &l), 0);
    assert_int_equal(l, OM_LOG_DEBUG);
    assert_int_equal(om_log_level_parse("chatty", &l), -1);
}

static void limited(void)
{
    om_log_set_level(OM_LOG_INFO);
    for (int i = 0; i < 5; i++)
        om_log_limited("meter m1 timeout", 60000, OM_LOG_WARNING, "meter m1: no answer");
    om_log_limited("meter m2 timeout", 60000, OM_LOG_WARNING, "meter m2: no answer");
    om_log_recovered("meter m1 timeout", OM_LOG_INFO, "meter m1 answers again");
    om_log_recovered("meter m3 timeout", OM_LOG_INFO, "meter m3 answers again"); /* never failed */
    om_log_limited("meter m1 timeout", 60000, OM_LOG_WARNING, "meter m1: no answer");
    /* interval 0: every time */
    om_log_limited("k", 0, OM_LOG_WARNING, "again");
    om_log_limited("k", 0, OM_LOG_WARNING, "again");
    /* after the interval: the next line says how many were held back */
    for (int i = 0; i < 3; i++)
        om_log_limited("burst", 50, OM_LOG_WARNING, "burst");
    usleep(60000);
    om_log_limited("burst", 50, OM_LOG_WARNING, "burst");
}

static void test_rate_limited(void **state)
{
    (void)state;
    capture(limited);
    /* first of five, then (after recovery) a new first */
    assert_int_equal(count("meter m1: no answer"), 2);
    assert_int_equal(count("meter m2: no answer"), 1);
    assert_int_equal(count("meter m1 answers again"), 1);
    assert_int_equal(count("meter m3 answers again"), 0);
    assert_int_equal(count("warning: again"), 2);
    assert_int_equal(count("warning: burst"), 2);
    assert_int_equal(count("burst (2 more since the last report)\n"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
