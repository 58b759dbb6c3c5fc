/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_pollq.c - the queue between bus workers and the delivery
 * loop: polls wait for their cycle's end (one wake-up and one fsync per
 * cycle), unless a long cycle has kept the first of them waiting hold_ms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pollq.h"

static int notified;

static void count_notify(void *ctx)
{
    (void)ctx;
    notified++;
}

static om_poll_result poll_at(int64_t t)
{
    om_poll_result r;
    memset(&r, 0, sizeof r);
    r.t_ms = t;
    return r;
}

static void test_cycle_end_notifies_once(void **state)
{
    (void)state;
    om_pollq q;
    om_pollq_init(&q);
    q.notify = count_notify;
    notified = 0;
    om_pollq_cycle_end(&q); /* nothing queued: nothing to say */
    assert_int_equal(notified, 0);
    for (int i = 0; i < 12; i++) {
        om_poll_result r = poll_at(i);
        om_pollq_push(&q, &r);
    }
    assert_int_equal(notified, 0); /* a cycle in progress stays quiet */
    om_pollq_cycle_end(&q);
    assert_int_equal(notified, 1);
    om_poll_result *items = NULL;
    assert_int_equal(om_pollq_take(&q, &items), 12);
    for (int i = 0; i < 12; i++)
        assert_int_equal(items[i].t_ms, i); /* in the order they came */
    free(items);
    assert_int_equal(om_pollq_take(&q, &items), 0);
    free(items);
    om_pollq_destroy(&q);
}

static void test_long_cycle_is_told_early(void **state)
{
    (void)state;
    om_pollq q;
    om_pollq_init(&q);
    assert_int_equal(q.hold_ms, OM_POLLQ_HOLD_MS);
    q.hold_ms = 50;
    q.notify = count_notify;
    notified = 0;
    om_poll_result r = poll_at(1);
    om_pollq_push(&q, &r);
    assert_int_equal(notified, 0);
    usleep(80 * 1000);
    om_pollq_push(&q, &r); /* the first poll has waited 80 ms > 50 */
    assert_int_equal(notified, 1);
    om_poll_result *items = NULL;
    assert_int_equal(om_pollq_take(&q, &items), 2);
    free(items);
    /* after the take the clock starts again with the next poll */
    om_pollq_push(&q, &r);
    assert_int_equal(notified, 1);
    om_pollq_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle_end_notifies_once),
        cmocka_unit_test(test_long_cycle_is_told_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
