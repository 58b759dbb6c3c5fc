/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sim_device.c - simulated meters' registers, exceptions and faults,
 * with the real catalogue and tests/data/sites/sim-office.yaml.
 *
 * Start: Monday 2024-03-04 10:00 (Europe/London = UTC in March): working
 * hours, so electricity and water both flow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "officemeter/config/catalogue.h"
#include "officemeter/base/isotime.h"
#include "officemeter/config/site.h"
#include "sim_device.h"
#include "sim_meter.h"

#define START 1709546400000LL /* 2024-03-04T10:00:00Z */
#define HOUR 3600000LL
#define SEED 1

typedef struct {
    om_catalogue cat;
    om_site site;
} world;

static int setup(void **state)
{
    static world w;
    om_diag diag;
    om_diag_init(&diag);
    if (om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &w.cat, &diag) != 0 ||
        om_site_load(OM_TEST_DATA "/sites/sim-office.yaml", &w.cat, &w.site, &diag) != 0) {
        om_diag_print(&diag, stderr);
        om_diag_free(&diag);
        return -1;
    }
    om_diag_free(&diag);
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    om_site_free(&w->site);
    om_catalogue_free(&w->cat);
    return 0;
}

static void meter(world *w, om_sim_meter *m, const char *id, const char *fault)
{
    const om_meter *sm = om_site_find_meter(&w->site, id);
    assert_non_null(sm);
    om_sim_faults f;
    om_sim_faults_init(&f);
    char name[64], err[256] = "";
    if (fault) {
        char text[128];
        snprintf(text, sizeof text, "%s=%s", id, fault);
        assert_int_equal(om_sim_fault_parse(text, name, sizeof name, &f, err, sizeof err), 0);
    }
    if (om_sim_meter_init(m, &w->site, sm, SEED, START, &f, err, sizeof err) != 0)
        fail_msg("%s: %s", id, err);
}

static const om_sim_qty *qty(const om_sim_meter *m, om_quantity q)
{
    for (size_t i = 0; i < m->nq; i++)
        if (m->q[i].quantity == q)
            return &m->q[i];
    fail_msg("meter %s has no quantity %d", m->meter->id, (int)q);
    return NULL;
}

static double decode(const om_sim_qty *q, const uint16_t *regs, om_decode_status expect)
{
    om_value v;
    assert_int_equal(om_codec_decode(&q->spec, regs, q->count, &v), expect);
    return v.value;
}

static void test_sdm630_registers(void **state)
{
    world *w = *state;
    om_sim_meter m;
    om_sim_device dev;
    uint16_t regs[125];
    meter(w, &m, "main", NULL);
    om_sim_device_init(&dev, 1);
    char err[256];
    assert_int_equal(om_sim_device_add(&dev, &m, err, sizeof err), 0);
    assert_int_equal(dev.max_registers, 80);

    const om_sim_qty *e = qty(&m, OM_Q_ENERGY_IMPORT_KWH);
    assert_int_equal(e->address, 0x48);
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x48, 2, regs), 0);
    double at_start = decode(e, regs, OM_DECODE_OK);
    assert_true(at_start == (double)(float)m.profile.initial);
    assert_true(at_start > 1000.0);

    int64_t later = START + 2 * HOUR;
    double used = om_sim_meter_true(&m, e, later);
    assert_true(used > 2 * 0.9 * m.profile.peak * 0.95);
    assert_int_equal(om_sim_device_read(&dev, later, 4, 0x48, 2, regs), 0);
    assert_true(decode(e, regs, OM_DECODE_OK) == (double)(float)(m.profile.initial + used));

    /* Power in W (scale 0.001) equals the profile's rate. */
    const om_sim_qty *p = qty(&m, OM_Q_POWER_KW);
    assert_int_equal(om_sim_device_read(&dev, later, 4, 0x34, 2, regs), 0);
    double kw = decode(p, regs, OM_DECODE_OK);
    assert_true(fabs(kw - om_sim_profile_rate(&m.profile, later)) < 1e-3);

    /* One read across voltages, reserved gap, power: gaps are zeros. */
    assert_int_equal(om_sim_device_read(&dev, later, 4, 0x00, 0x36, regs), 0);
    double v1 = decode(qty(&m, OM_Q_VOLTAGE_L1_V), regs, OM_DECODE_OK);
    assert_true(v1 > 225 && v1 < 235);
    for (int r = 6; r < 0x34; r++)
        assert_int_equal(regs[r], 0);
    assert_true(decode(p, regs + 0x34, OM_DECODE_OK) == kw);

    om_sim_device_free(&dev);
    om_sim_meter_free(&m);
}

static void test_exceptions(void **state)
{
    world *w = *state;
    om_sim_meter m;
    om_sim_device dev;
    uint16_t regs[125];
    char err[256];
    meter(w, &m, "main", NULL);
    om_sim_device_init(&dev, 1);
    assert_int_equal(om_sim_device_add(&dev, &m, err, sizeof err), 0);

    assert_int_equal(om_sim_device_read(&dev, START, 3, 0x48, 2, regs), 1);  /* holding */
    assert_int_equal(om_sim_device_read(&dev, START, 6, 0x48, 1, regs), 1);  /* write */
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x00, 81, regs), 3); /* > 80 */
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x48, 0, regs), 3);
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x4C, 2, regs), 2);  /* past the end */
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x4A, 4, regs), 2);  /* runs past it */
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x10, 2, regs), 2);  /* only a gap */
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x00, 0x4C, regs), 0); /* all of it */
    assert_int_equal(om_sim_device_read(&dev, START, 4, 0x4B, 1, regs), 0);  /* half a float */

    om_sim_device_free(&dev);
    om_sim_meter_free(&m);
}

static void test_pulse_channels_share_a_device(void **state)
{
    world *w = *state;
    om_sim_meter a, b;
    om_sim_device dev;
    uint16_t regs[125];
    char err[256];
    meter(w, &a, "water", NULL);         /* channel 0, 10 L per pulse */
    meter(w, &b, "kitchen-water", NULL); /* channel 1, 2.5 L per pulse */
    om_sim_device_init(&dev, 1);
    assert_int_equal(om_sim_device_add(&dev, &a, err, sizeof err), 0);
    assert_int_equal(om_sim_device_add(&dev, &b, err, sizeof err), 0);

    const om_sim_qty *qa = qty(&a, OM_Q_WATER_M3), *qb = qty(&b, OM_Q_WATER_M3);
    assert_int_equal(qa->address, 0x10);
    assert_int_equal(qb->address, 0x12);
    assert_true(fabs(qa->spec.scale - 0.01) < 1e-15);
    assert_true(fabs(qb->spec.scale - 0.0025) < 1e-15);

    int64_t t = START + 3 * HOUR + 17 * 1000;
    assert_int_equal(om_sim_device_read(&dev, t, 4, 0x10, 4, regs), 0);
    uint32_t pa = (uint32_t)regs[0] << 16 | regs[1];
    uint32_t pb = (uint32_t)regs[2] << 16 | regs[3];
    double ua = om_sim_meter_true(&a, qa, t), ub = om_sim_meter_true(&b, qb, t);
    assert_true(ua > 0.5 && ub > 0.1);
    assert_int_equal(pa, qa->initial_raw + (int64_t)floor(ua * 1000 / 10 + 1e-6));
    assert_int_equal(pb, qb->initial_raw + (int64_t)floor(ub * 1000 / 2.5 + 1e-6));

    /* The same unit id and channel twice is refused. */
    om_sim_meter c;
    meter(w, &c, "water", NULL);
    assert_int_equal(om_sim_device_add(&dev, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "share unit id 1"));
    om_sim_meter_free(&c);

    /* A different meter on a module's unit id is refused too. */
    meter(w, &c, "main", NULL);
    assert_int_equal(om_sim_device_add(&dev, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "have the same unit id 1"));
    om_sim_meter_free(&c);

    om_sim_device_free(&dev);
    om_sim_meter_free(&a);
    om_sim_meter_free(&b);
}

static void test_reset_fault(void **state)
{
    world *w = *state;
    om_sim_meter m;
    meter(w, &m, "water", "reset@2024-03-04T12:00:00Z");
    const om_sim_qty *q = qty(&m, OM_Q_WATER_M3);
    int64_t reset = START + 2 * HOUR;
    int64_t before = reset - 60000, after = reset + HOUR;
    assert_true(om_sim_meter_counter_raw(&m, q, before) > q->initial_raw);
    double since = om_sim_meter_true(&m, q, after) - om_sim_meter_true(&m, q, reset);
    assert_int_equal(om_sim_meter_counter_raw(&m, q, reset), 0);
    assert_int_equal(om_sim_meter_counter_raw(&m, q, after), (int64_t)floor(since / 0.01 + 1e-6));
    /* True consumption continues through the reset. */
    assert_true(om_sim_meter_true(&m, q, after) > om_sim_meter_true(&m, q, before));
    om_sim_meter_free(&m);
}

static void test_glitch_fault(void **state)
{
    world *w = *state;
    om_sim_meter m;
    uint16_t regs[4];
    meter(w, &m, "main", "glitch@2024-03-04T11:00:00Z");
    const om_sim_qty *q = qty(&m, OM_Q_ENERGY_IMPORT_KWH);
    int64_t g = START + HOUR;
    om_sim_meter_encode(&m, q, g - 1, regs);
    double before = decode(q, regs, OM_DECODE_OK);
    om_sim_meter_encode(&m, q, g, regs);
    assert_true(decode(q, regs, OM_DECODE_OK) == 0.0);
    om_sim_meter_encode(&m, q, g + 59999, regs);
    assert_true(decode(q, regs, OM_DECODE_OK) == 0.0);
    om_sim_meter_encode(&m, q, g + 60000, regs);
    assert_true(decode(q, regs, OM_DECODE_OK) >= before);
    om_sim_meter_free(&m);
}

static void test_rollover_fault(void **state)
{
    world *w = *state;
    om_sim_meter m;
    meter(w, &m, "water", "rollover");
    const om_sim_qty *q = qty(&m, OM_Q_WATER_M3);
    assert_int_equal(q->rollover, 4294967296LL);
    int64_t start_raw = om_sim_meter_counter_raw(&m, q, START);
    assert_true(start_raw > 4294967296LL - 1000 && start_raw < 4294967296LL);
    /* Within a working day the counter wraps, and keeps counting from 0. */
    int64_t t = START + 5 * HOUR;
    int64_t pulses = (int64_t)floor(om_sim_meter_true(&m, q, t) / 0.01 + 1e-6);
    int64_t raw = om_sim_meter_counter_raw(&m, q, t);
    assert_true(raw < start_raw);
    assert_int_equal(raw, start_raw + pulses - 4294967296LL);

    /* A model whose counter never wraps cannot show it. */
    om_sim_meter e;
    om_sim_faults f;
    char id[32], err[256];
    om_sim_faults_init(&f);
    assert_int_equal(om_sim_fault_parse("main=rollover", id, sizeof id, &f, err, sizeof err), 0);
    assert_int_equal(om_sim_meter_init(&e, &w->site, om_site_find_meter(&w->site, "main"), SEED,
                                       START, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "no counter that wraps"));
    om_sim_meter_free(&m);
}

static void test_na_fault(void **state)
{
    world *w = *state;
    om_sim_meter abb, sdm;
    uint16_t regs[4];
    meter(w, &abb, "lifts", "na");
    meter(w, &sdm, "main", "na");
    om_sim_meter_encode(&abb, qty(&abb, OM_Q_ENERGY_IMPORT_KWH), START, regs);
    decode(qty(&abb, OM_Q_ENERGY_IMPORT_KWH), regs, OM_DECODE_NOT_AVAILABLE);
    om_sim_meter_encode(&abb, qty(&abb, OM_Q_POWER_KW), START, regs);
    decode(qty(&abb, OM_Q_POWER_KW), regs, OM_DECODE_NOT_AVAILABLE);
    /* The SDM630 has no "not available" pattern: it keeps its values. */
    om_sim_meter_encode(&sdm, qty(&sdm, OM_Q_ENERGY_IMPORT_KWH), START, regs);
    assert_true(decode(qty(&sdm, OM_Q_ENERGY_IMPORT_KWH), regs, OM_DECODE_OK) > 0);
    om_sim_meter_free(&abb);
    om_sim_meter_free(&sdm);
}

static void test_abb_integer_counter(void **state)
{
    world *w = *state;
    om_sim_meter m;
    uint16_t regs[4];
    meter(w, &m, "lifts", NULL);
    const om_sim_qty *q = qty(&m, OM_Q_ENERGY_IMPORT_KWH);
    int64_t t = START + HOUR + 123;
    om_sim_meter_encode(&m, q, t, regs);
    om_value v;
    assert_int_equal(om_codec_decode(&q->spec, regs, 4, &v), OM_DECODE_OK);
    assert_true(v.exact);
    /* Whole 0.01 kWh units below start + consumption. */
    double used = om_sim_meter_true(&m, q, t);
    assert_int_equal(v.raw, q->initial_raw + (int64_t)floor(used / 0.01 + 1e-6));
    om_sim_meter_free(&m);
}

static void test_behaviour_follows_touched_meters(void **state)
{
    world *w = *state;
    om_sim_meter a, b;
    om_sim_device dev;
    char err[256];
    meter(w, &a, "water", "timeout");
    meter(w, &b, "kitchen-water", "slow:300");
    om_sim_device_init(&dev, 1);
    assert_int_equal(om_sim_device_add(&dev, &a, err, sizeof err), 0);
    assert_int_equal(om_sim_device_add(&dev, &b, err, sizeof err), 0);
    om_sim_behaviour x = om_sim_device_behaviour(&dev, 4, 0x12, 2);
    assert_false(x.timeout);
    assert_int_equal(x.slow_ms, 300);
    x = om_sim_device_behaviour(&dev, 4, 0x10, 4);
    assert_true(x.timeout);
    om_sim_device_free(&dev);
    om_sim_meter_free(&a);
    om_sim_meter_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdm630_registers),
        cmocka_unit_test(test_exceptions),
        cmocka_unit_test(test_pulse_channels_share_a_device),
        cmocka_unit_test(test_reset_fault),
        cmocka_unit_test(test_glitch_fault),
        cmocka_unit_test(test_rollover_fault),
        cmocka_unit_test(test_na_fault),
        cmocka_unit_test(test_abb_integer_counter),
        cmocka_unit_test(test_behaviour_follows_touched_meters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
