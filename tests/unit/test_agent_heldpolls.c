/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_heldpolls.c - what the agent keeps in memory while the outbox
 * cannot store (a full disk; issue 13, defect 8): per meter the newest
 * poll and its newest counter reading, every other poll counted as lost,
 * handed back oldest first, copied so that they outlive their site.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "heldpolls.h"

static om_meter meter_a = {.id = (char *)"a"}, meter_b = {.id = (char *)"b"};

static om_poll_result poll_of(const om_meter *m, int64_t t, bool counter, double v)
{
    om_poll_result r;
    memset(&r, 0, sizeof r);
    r.meter = m;
    r.t_ms = t;
    r.values[r.nvalues++] = (om_poll_value){OM_Q_POWER_KW, v};
    if (counter)
        r.values[r.nvalues++] = (om_poll_value){OM_Q_ENERGY_IMPORT_KWH, 1000 + v};
    return r;
}

static void test_newest_and_newest_counter(void **state)
{
    (void)state;
    om_held_polls h;
    om_held_polls_init(&h);
    size_t lost = 0;
    om_poll_result r;
    r = poll_of(&meter_a, 1000, true, 1);
    lost += om_held_polls_add(&h, &r);
    r = poll_of(&meter_b, 1000, true, 2);
    lost += om_held_polls_add(&h, &r);
    assert_int_equal(lost, 0);
    /* Instantaneous ticks: a's counter reading stays, the newest with it. */
    r = poll_of(&meter_a, 2000, false, 3);
    lost += om_held_polls_add(&h, &r);
    assert_int_equal(lost, 0);
    r = poll_of(&meter_a, 3000, false, 4);
    lost += om_held_polls_add(&h, &r);
    assert_int_equal(lost, 1); /* the 2000 one */
    assert_int_equal(h.n, 3);
    /* A counter reading replaces everything of its meter. */
    r = poll_of(&meter_a, 4000, true, 5);
    lost += om_held_polls_add(&h, &r);
    assert_int_equal(lost, 3);
    r = poll_of(&meter_b, 4000, false, 6);
    lost += om_held_polls_add(&h, &r);
    assert_int_equal(lost, 3);

    const om_held_poll *held;
    size_t n = om_held_polls_sorted(&h, &held);
    assert_int_equal(n, 3);
    assert_int_equal(held[0].t_ms, 1000); /* b's counter reading, oldest first */
    assert_string_equal(held[0].meter, "b");
    assert_int_equal(held[0].nvalues, 2);
    for (size_t i = 1; i < n; i++)
        assert_true(held[i - 1].t_ms <= held[i].t_ms);
    om_held_polls_clear(&h);
    assert_int_equal(h.n, 0);
    om_held_polls_free(&h);
}

/* However long the disk stays full: at most two polls per meter. */
static void test_bounded(void **state)
{
    (void)state;
    om_held_polls h;
    om_held_polls_init(&h);
    size_t lost = 0;
    for (int64_t t = 1; t <= 10000; t++) {
        om_poll_result r = poll_of(t % 2 ? &meter_a : &meter_b, t * 1000, t % 7 == 0, (double)t);
        lost += om_held_polls_add(&h, &r);
        assert_true(h.n <= 4);
    }
    assert_int_equal(lost + h.n, 10000);
    om_held_polls_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newest_and_newest_counter),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
