/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_meterrt.c - a meter's plans at run time: the three plan sets,
 * decoding with dropped values counted by reason, exception 2 learnt in
 * one plan applied to the others, and what was refused asked again with
 * backoff (a window of refusals must not disable a meter for good).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "meterrt.h"

static om_catalogue cat;
static const om_bus rtu_bus = {.id = (char *)"rs485", .kind = OM_BUS_RTU, .declared_kind = OM_BUS_RTU};
static const om_bus tcp_bus = {.id = (char *)"lan", .kind = OM_BUS_TCP, .declared_kind = OM_BUS_TCP};
/* An RS-485 line reached through a TCP port (--bus rs485=tcp:HOST:PORT). */
static const om_bus rtu_over_tcp = {.id = (char *)"rs485", .kind = OM_BUS_TCP,
                                    .declared_kind = OM_BUS_RTU};

static int load(void **state)
{
    (void)state;
    om_diag diag;
    om_diag_init(&diag);
    int rc = om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &cat, &diag);
    om_diag_free(&diag);
    return rc;
}

static int unload(void **state)
{
    (void)state;
    om_catalogue_free(&cat);
    return 0;
}

static om_meter meter_of(const char *model)
{
    om_meter m;
    memset(&m, 0, sizeof m);
    m.id = (char *)"m1";
    m.model_id = (char *)model;
    m.model = om_catalogue_find(&cat, model);
    assert_non_null(m.model);
    m.unit_id = 1;
    m.active_from = m.active_until = OM_TIME_NONE;
    return m;
}

static void test_plan_sets(void **state)
{
    (void)state;
    om_meter m = meter_of("eastron-sdm630");
    om_meter_rt rt;
    char err[256];
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_bus, NULL, err, sizeof err), 0);
    assert_int_equal(rt.plans[OM_PSET_COUNTERS].nrequests, 1); /* energies 0x0048+4 */
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 2);  /* voltages, power */
    assert_int_equal(rt.plans[OM_PSET_BOTH].nrequests, 3);
    assert_int_equal(om_pset_for(true, true), OM_PSET_BOTH);
    assert_int_equal(om_pset_for(true, false), OM_PSET_COUNTERS);
    assert_int_equal(om_pset_for(false, true), OM_PSET_INSTANT);
}

/* On a Modbus TCP bus the wider merge-gap limit applies: a PM5xxx's
 * voltages (3027+6) and total power (3059+2), 26 registers apart, are one
 * request; on a serial line, or a serial line reached through a TCP port
 * by an override, they stay two. */
static void test_plan_follows_declared_line(void **state)
{
    (void)state;
    om_meter m = meter_of("schneider-pm5xxx");
    om_meter_rt rt;
    char err[256];
    assert_int_equal(om_meter_rt_init(&rt, &m, &tcp_bus, NULL, err, sizeof err), 0);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 1);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].requests[0].address, 3027);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].requests[0].count, 34);
    assert_int_equal(rt.plans[OM_PSET_COUNTERS].nrequests, 1);
    assert_int_equal(rt.plans[OM_PSET_BOTH].nrequests, 2);
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_bus, NULL, err, sizeof err), 0);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 2);
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_over_tcp, NULL, err, sizeof err), 0);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 2);
    /* an explicit limit for TCP is honoured */
    om_plan_options o;
    om_plan_options_init(&o);
    o.max_gap_registers_tcp = 16;
    assert_int_equal(om_meter_rt_init(&rt, &m, &tcp_bus, &o, err, sizeof err), 0);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 2);
}

/* f32 big-endian words of a float. */
static void put_f32(uint16_t *regs, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    regs[0] = (uint16_t)(u >> 16);
    regs[1] = (uint16_t)u;
}

static void test_decode_drops(void **state)
{
    (void)state;
    om_meter m = meter_of("eastron-sdm630");
    om_meter_rt rt;
    char err[256];
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_bus, NULL, err, sizeof err), 0);
    const om_plan_request *volts = &rt.plans[OM_PSET_BOTH].requests[0];
    assert_int_equal(volts->count, 6);
    uint16_t regs[6];
    put_f32(regs, 230.5f);
    put_f32(regs + 2, NAN);
    put_f32(regs + 4, INFINITY);
    om_poll_value out[OM_Q__COUNT];
    size_t n = 0;
    om_quantity_set got = om_meter_rt_decode(&rt, volts, regs, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(got, OM_QSET(OM_Q_VOLTAGE_L1_V));
    assert_true(out[0].value == 230.5);
    assert_int_equal(rt.c.not_finite, 2);

    /* ABB B23: all-ones is "not available" */
    om_meter abb = meter_of("abb-b23-b24");
    assert_int_equal(om_meter_rt_init(&rt, &abb, &rtu_bus, NULL, err, sizeof err), 0);
    const om_plan_request *r = &rt.plans[OM_PSET_COUNTERS].requests[0];
    uint16_t ones[64];
    memset(ones, 0xFF, sizeof ones);
    n = 0;
    got = om_meter_rt_decode(&rt, r, ones, out, &n);
    assert_int_equal(n, 0);
    assert_int_equal(got, 0);
    assert_int_equal(rt.c.not_available, r->nitems);
}

static void test_exception2_shared(void **state)
{
    (void)state;
    om_meter m = meter_of("eastron-sdm630");
    om_meter_rt rt;
    char err[256];
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_bus, NULL, err, sizeof err), 0);
    /* The voltage block (request 0 of the instant plan) is refused. */
    assert_int_equal(om_meter_rt_exception2(&rt, OM_PSET_INSTANT, 0), OM_PLAN_EXC2_SPLIT);
    assert_int_equal(rt.c.splits, 1);
    /* The full plan learnt it too: voltages now one per request. */
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 4);
    assert_int_equal(rt.plans[OM_PSET_BOTH].nrequests, 5);
    assert_int_equal(rt.plans[OM_PSET_COUNTERS].nrequests, 1);
    /* L3 alone is refused too: dropped everywhere. */
    const om_meter_plan *both = &rt.plans[OM_PSET_BOTH];
    size_t l3 = both->nrequests;
    for (size_t i = 0; i < both->nrequests; i++)
        if (both->requests[i].nitems == 1 &&
            both->requests[i].items[0].quantity == OM_Q_VOLTAGE_L3_V)
            l3 = i;
    assert_true(l3 < both->nrequests);
    assert_int_equal(om_meter_rt_exception2(&rt, OM_PSET_BOTH, l3), OM_PLAN_EXC2_UNSUPPORTED);
    assert_int_equal(rt.c.unsupported, 1);
    assert_int_equal(rt.plans[OM_PSET_INSTANT].nrequests, 3);
    assert_false(rt.plans[OM_PSET_INSTANT].planned & OM_QSET(OM_Q_VOLTAGE_L3_V));
    assert_true(rt.hints.unsupported & OM_QSET(OM_Q_VOLTAGE_L3_V));
    /* A late refusal of something already handled changes nothing. */
    assert_int_equal(om_meter_rt_exception2(&rt, OM_PSET_BOTH, 99), OM_PLAN_EXC2_NONE);
}

/* Refuses the first request of plan `set` with exception 2 as the bus
 * worker does at time t; returns what changed. */
static om_plan_exc2 refuse_first(om_meter_rt *rt, om_pset set, int64_t t, bool *news)
{
    om_plan_request req = rt->plans[set].requests[0];
    om_plan_exc2 what = om_meter_rt_exception2(rt, set, 0);
    if (what != OM_PLAN_EXC2_NONE)
        *news = om_meter_rt_refused(rt, &req, what, t, 1000, 4000);
    return what;
}

/* Issue 13, defect 6: a window of exception 2 to everything must not
 * disable the meter for good. */
static void test_exception2_window_is_asked_again(void **state)
{
    (void)state;
    om_meter m = meter_of("eastron-sdm630");
    om_meter_rt rt;
    char err[256];
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_bus, NULL, err, sizeof err), 0);
    size_t planned = rt.plans[OM_PSET_BOTH].nrequests;
    const om_quantity_set counters = om_qset_of_kind(OM_KIND_COUNTER);
    bool news = false;
    /* Every request refused, split ones included, until nothing is left. */
    int events = 0;
    while (rt.plans[OM_PSET_BOTH].nrequests > 0) {
        assert_int_not_equal(refuse_first(&rt, OM_PSET_BOTH, 10000, &news), OM_PLAN_EXC2_NONE);
        assert_true(news); /* each a first: a split, or a quantity given up */
        assert_true(++events < 40);
    }
    assert_int_equal(rt.plans[OM_PSET_COUNTERS].nrequests, 0);
    assert_true((om_meter_rt_unsupported(&rt) & counters) == (rt.plans[OM_PSET_BOTH].wanted & counters));
    /* Nothing is asked again before its time ... */
    assert_int_equal(om_meter_rt_reprobe(&rt, 10999), 0);
    assert_int_equal(rt.plans[OM_PSET_BOTH].nrequests, 0);
    /* ... at it, the quantities refused once are (a merged block split,
     * then each alone: twice refused, 2 s) */
    assert_int_equal(rt.re.next_ms, 11000);
    om_quantity_set again = om_meter_rt_reprobe(&rt, 12000);
    assert_int_equal(again, rt.plans[OM_PSET_BOTH].wanted);
    assert_int_equal(rt.plans[OM_PSET_BOTH].nrequests, planned);
    assert_int_equal(rt.re.next_ms, 0);
    /* Still reported as not given until read: health stays steady. */
    assert_true(om_meter_rt_unsupported(&rt) & OM_QSET(OM_Q_ENERGY_IMPORT_KWH));
    /* The energy answers: it is back, and its refusals are forgotten. */
    const om_plan_request *req = NULL;
    for (size_t i = 0; i < rt.plans[OM_PSET_BOTH].nrequests; i++)
        for (size_t k = 0; k < rt.plans[OM_PSET_BOTH].requests[i].nitems; k++)
            if (rt.plans[OM_PSET_BOTH].requests[i].items[k].quantity == OM_Q_ENERGY_IMPORT_KWH)
                req = &rt.plans[OM_PSET_BOTH].requests[i];
    assert_non_null(req);
    om_quantity_set back = om_meter_rt_answered(&rt, req, OM_QSET(OM_Q_ENERGY_IMPORT_KWH));
    assert_int_equal(back, OM_QSET(OM_Q_ENERGY_IMPORT_KWH));
    assert_false(om_meter_rt_unsupported(&rt) & OM_QSET(OM_Q_ENERGY_IMPORT_KWH));
    assert_int_equal(rt.re.refusals[OM_Q_ENERGY_IMPORT_KWH], 0);
}

/* A quantity the meter truly lacks: asked again less and less often, up to
 * the cap, and logged once. */
static void test_exception2_backoff(void **state)
{
    (void)state;
    om_meter m = meter_of("eastron-sdm630");
    om_meter_rt rt;
    char err[256];
    assert_int_equal(om_meter_rt_init(&rt, &m, &rtu_bus, NULL, err, sizeof err), 0);
    int64_t t = 100000;
    static const int64_t delays[] = {2000, 4000, 4000, 4000};
    for (size_t round = 0; round < 4; round++) {
        bool news = false;
        /* The counters request: energy import and export, merged. */
        assert_int_equal(refuse_first(&rt, OM_PSET_COUNTERS, t, &news), OM_PLAN_EXC2_SPLIT);
        assert_true(news == (round == 0));
        assert_int_equal(refuse_first(&rt, OM_PSET_COUNTERS, t, &news), OM_PLAN_EXC2_UNSUPPORTED);
        assert_true(news == (round == 0)); /* still given up: no new line */
        /* The export answers alone: */
        const om_plan_request *exp = &rt.plans[OM_PSET_COUNTERS].requests[0];
        assert_int_equal(exp->items[0].quantity, OM_Q_ENERGY_EXPORT_KWH);
        om_meter_rt_answered(&rt, exp, OM_QSET(OM_Q_ENERGY_EXPORT_KWH));
        assert_int_equal(rt.re.retry_at_ms[OM_Q_ENERGY_IMPORT_KWH] - t, delays[round]);
        /* Asked again merged, as at first (the export's merge was due
         * earlier: refused merged, its refusals grow too). */
        t = rt.re.retry_at_ms[OM_Q_ENERGY_IMPORT_KWH];
        om_meter_rt_reprobe(&rt, t);
        assert_int_equal(rt.plans[OM_PSET_COUNTERS].nrequests, 1);
        assert_int_equal(rt.plans[OM_PSET_COUNTERS].requests[0].nitems, 2);
    }
}

static void test_sort(void **state)
{
    (void)state;
    om_poll_value v[] = {{OM_Q_POWER_KW, 1}, {OM_Q_ENERGY_IMPORT_KWH, 2}, {OM_Q_VOLTAGE_L1_V, 3}};
    om_poll_values_sort(v, 3);
    assert_int_equal(v[0].quantity, OM_Q_ENERGY_IMPORT_KWH);
    assert_int_equal(v[1].quantity, OM_Q_POWER_KW);
    assert_int_equal(v[2].quantity, OM_Q_VOLTAGE_L1_V);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_sets),
        cmocka_unit_test(test_plan_follows_declared_line),
        cmocka_unit_test(test_decode_drops),
        cmocka_unit_test(test_exception2_shared),
        cmocka_unit_test(test_exception2_window_is_asked_again),
        cmocka_unit_test(test_exception2_backoff),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
