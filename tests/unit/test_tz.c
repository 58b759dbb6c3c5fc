/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tz.c - time zone conversion (base/tz.h) as the dashboards use it:
 * many zones in turn and from several threads at once. TZ now stays on the
 * last zone used (tz.c: why), so every conversion must be right whatever
 * zone came before it, and a zone that is not installed stays refused
 * however often it is asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/tz.h"

#define HOUR 3600000LL

/* 2024-03-31T00:30:00Z: London still on GMT, half an hour before BST. */
#define T_SPRING 1711845000000LL

typedef struct {
    const char *zone;
    int64_t utc_ms;
    int hour, minute, mday; /* local wall time */
} case_t;

/* Offsets checked by hand against the zone database: whole hours, half
 * and quarter hours, a 30-minute DST shift, southern summer. */
static const case_t cases[] = {
    {"Europe/London", T_SPRING, 0, 30, 31},            /* GMT */
    {"Europe/London", T_SPRING + HOUR, 2, 30, 31},     /* BST from 01:00Z */
    {"America/New_York", T_SPRING, 20, 30, 30},        /* EDT: -4 */
    {"Asia/Kolkata", T_SPRING, 6, 0, 31},              /* +5:30 */
    {"Asia/Kathmandu", T_SPRING, 6, 15, 31},           /* +5:45 */
    {"Australia/Lord_Howe", T_SPRING, 11, 30, 31},     /* +11 (summer) */
    {"Australia/Sydney", T_SPRING, 11, 30, 31},        /* +11 (AEDT) */
    {"UTC", T_SPRING, 0, 30, 31},
};
#define NCASES (sizeof cases / sizeof cases[0])

static int check(const case_t *c)
{
    struct tm tm;
    if (om_tz_utc_to_local(c->zone, c->utc_ms, &tm) < 0)
        return -1;
    if (tm.tm_hour != c->hour || tm.tm_min != c->minute || tm.tm_mday != c->mday)
        return -1;
    /* And back: the local wall time's instant. */
    int64_t days = (c->utc_ms + (int64_t)tm.tm_gmtoff * 1000) / (24 * HOUR);
    int64_t back;
    if (om_tz_local_to_utc(c->zone, (int32_t)days, c->hour * 3600 + c->minute * 60, &back) < 0)
        return -1;
    return back == c->utc_ms ? 0 : -1;
}

static void test_zones_in_turn(void **state)
{
    (void)state;
    /* Every zone after every other one, twice round. */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < NCASES; i++)
            for (size_t j = 0; j < NCASES; j++) {
                assert_int_equal(check(&cases[i]), 0);
                assert_int_equal(check(&cases[j]), 0);
            }
}

static void test_day_starts_after_other_zones(void **state)
{
    (void)state;
    struct tm tm;
    assert_int_equal(om_tz_utc_to_local("Asia/Kathmandu", T_SPRING, &tm), 0);
    /* London's midnights around the spring change: 2024-03-30, 31, 04-01
     * (days 19812 .. 19814): GMT, GMT, then BST (23:00Z the day before). */
    int64_t starts[3];
    assert_int_equal(om_tz_day_starts("Europe/London", 19812, 3, starts), 0);
    assert_int_equal(starts[0], 19812LL * 24 * HOUR);
    assert_int_equal(starts[1], 19813LL * 24 * HOUR);
    assert_int_equal(starts[2], 19814LL * 24 * HOUR - HOUR);
}

static void test_unknown_zone_stays_refused(void **state)
{
    (void)state;
    struct tm tm;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(om_tz_valid("Mars/Olympus_Mons"), -1);
        assert_int_equal(om_tz_utc_to_local("Mars/Olympus_Mons", T_SPRING, &tm), -1);
        assert_int_equal(om_tz_valid("Europe/London"), 0);
    }
    assert_int_equal(om_tz_valid("../etc/passwd"), -1);
    assert_int_equal(om_tz_valid("/etc/localtime"), -1);
    assert_int_equal(om_tz_valid(""), -1);
    assert_int_equal(om_tz_valid(NULL), -1);
}

typedef struct {
    size_t first; /* the case this thread starts at */
    int failures;
} job_t;

static void *convert_many(void *arg)
{
    job_t *job = arg;
    for (size_t k = 0; k < 4000; k++)
        if (check(&cases[(job->first + k * 3) % NCASES]) < 0)
            job->failures++;
    return NULL;
}

static void test_threads_at_once(void **state)
{
    (void)state;
    job_t jobs[4] = {{0, 0}, {1, 0}, {2, 0}, {5, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, convert_many, &jobs[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zones_in_turn),
        cmocka_unit_test(test_day_starts_after_other_zones),
        cmocka_unit_test(test_unknown_zone_stays_refused),
        cmocka_unit_test(test_threads_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
