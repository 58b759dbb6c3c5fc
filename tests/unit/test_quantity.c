/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_quantity.c - the canonical quantity table: names, kinds, units.
 *
 * The expected rows are the contract in docs/architecture.md (payload keys and
 * their units), written out here so that a change to the table is a visible
 * change to the contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "officemeter/base/quantity.h"

static const struct {
    om_quantity id;
    const char *name;
    om_quantity_kind kind;
    const char *unit;
} expected[] = {
    {OM_Q_ENERGY_IMPORT_KWH, "energy_import_kwh", OM_KIND_COUNTER, "kWh"},
    {OM_Q_ENERGY_EXPORT_KWH, "energy_export_kwh", OM_KIND_COUNTER, "kWh"},
    {OM_Q_WATER_M3, "water_m3", OM_KIND_COUNTER, "m\xc2\xb3"},
    {OM_Q_POWER_KW, "power_kw", OM_KIND_INSTANT, "kW"},
    {OM_Q_VOLTAGE_L1_V, "voltage_l1_v", OM_KIND_INSTANT, "V"},
    {OM_Q_VOLTAGE_L2_V, "voltage_l2_v", OM_KIND_INSTANT, "V"},
    {OM_Q_VOLTAGE_L3_V, "voltage_l3_v", OM_KIND_INSTANT, "V"},
    {OM_Q_FLOW_M3H, "flow_m3h", OM_KIND_INSTANT, "m\xc2\xb3/h"},
};

#define NEXPECTED (sizeof expected / sizeof expected[0])

static void test_table_matches_contract(void **state)
{
    (void)state;
    assert_int_equal(NEXPECTED, OM_Q__COUNT);
    for (size_t i = 0; i < NEXPECTED; i++) {
        const om_quantity_info *info = om_quantity_get(expected[i].id);
        assert_non_null(info);
        assert_int_equal(info->id, expected[i].id);
        assert_string_equal(info->name, expected[i].name);
        assert_int_equal(info->kind, expected[i].kind);
        assert_string_equal(info->unit, expected[i].unit);
    }
}

static void test_lookup_by_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < NEXPECTED; i++) {
        om_quantity q = OM_Q__COUNT;
        assert_int_equal(om_quantity_from_name(expected[i].name, &q), 0);
        assert_int_equal(q, expected[i].id);
    }
}

/* Every id's name leads back to the same id. */
static void test_names_round_trip(void **state)
{
    (void)state;
    for (int q = 0; q < OM_Q__COUNT; q++) {
        om_quantity back = OM_Q__COUNT;
        const om_quantity_info *info = om_quantity_get((om_quantity)q);
        assert_non_null(info);
        assert_int_equal(om_quantity_from_name(info->name, &back), 0);
        assert_int_equal(back, q);
    }
}

static void test_unknown_names(void **state)
{
    (void)state;
    const char *unknown[] = {
        "",
        "energy",
        "energy_import",
        "ENERGY_IMPORT_KWH",
        "energy_import_kwh ",
        " energy_import_kwh",
        "energy_import_wh",
        "water",
        "water_m3h",
        "voltage_l4_v",
        "power_w",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        om_quantity q = OM_Q_FLOW_M3H;
        if (om_quantity_from_name(unknown[i], &q) != -1)
            fail_msg("\"%s\" was accepted", unknown[i]);
        assert_int_equal(q, OM_Q_FLOW_M3H); /* untouched on failure */
    }
    om_quantity q;
    assert_int_equal(om_quantity_from_name(NULL, &q), -1);
}

static void test_get_out_of_range(void **state)
{
    (void)state;
    assert_null(om_quantity_get(OM_Q__COUNT));
    assert_null(om_quantity_get((om_quantity)(OM_Q__COUNT + 1)));
    assert_null(om_quantity_get((om_quantity)-1));
}

static void test_kinds(void **state)
{
    (void)state;
    size_t counters = 0;
    for (int q = 0; q < OM_Q__COUNT; q++) {
        if (om_quantity_get((om_quantity)q)->kind == OM_KIND_COUNTER)
            counters++;
    }
    assert_int_equal(counters, 3);
    assert_int_equal(om_quantity_get(OM_Q_WATER_M3)->kind, OM_KIND_COUNTER);
    assert_int_equal(om_quantity_get(OM_Q_ENERGY_EXPORT_KWH)->kind, OM_KIND_COUNTER);
    assert_int_equal(om_quantity_get(OM_Q_FLOW_M3H)->kind, OM_KIND_INSTANT);
    assert_int_equal(om_quantity_get(OM_Q_POWER_KW)->kind, OM_KIND_INSTANT);
}

/* The list for error messages names every quantity, in table order,
 * separated by ", ". */
static void test_names_list(void **state)
{
    (void)state;
    char want[512] = "";
    for (int q = 0; q < OM_Q__COUNT; q++) {
        if (q > 0)
            strcat(want, ", ");
        strcat(want, om_quantity_get((om_quantity)q)->name);
    }
    assert_string_equal(om_quantity_names(), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_contract),
        cmocka_unit_test(test_lookup_by_name),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_get_out_of_range),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_names_list),
    };
    return cmocka_run_group_tests_name("quantity", tests, NULL, NULL);
}
