/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quantity.c - the table of canonical quantities.
 *
 * One row per quantity, indexed by its enum value, so that the payload key,
 * the kind (counter or instantaneous) and the unit are declared exactly once
 * and every module that names a quantity agrees on how it is spelt.
 */
#include "officemeter/base/quantity.h"

#include <string.h>

static const om_quantity_info quantities[OM_Q__COUNT] = {
    [OM_Q_ENERGY_IMPORT_KWH] = {OM_Q_ENERGY_IMPORT_KWH, "energy_import_kwh", OM_KIND_COUNTER,
                                "kWh"},
    [OM_Q_ENERGY_EXPORT_KWH] = {OM_Q_ENERGY_EXPORT_KWH, "energy_export_kwh", OM_KIND_COUNTER,
                                "kWh"},
    [OM_Q_WATER_M3] = {OM_Q_WATER_M3, "water_m3", OM_KIND_COUNTER, "m\u00b3"},
    [OM_Q_POWER_KW] = {OM_Q_POWER_KW, "power_kw", OM_KIND_INSTANT, "kW"},
    [OM_Q_VOLTAGE_L1_V] = {OM_Q_VOLTAGE_L1_V, "voltage_l1_v", OM_KIND_INSTANT, "V"},
    [OM_Q_VOLTAGE_L2_V] = {OM_Q_VOLTAGE_L2_V, "voltage_l2_v", OM_KIND_INSTANT, "V"},
    [OM_Q_VOLTAGE_L3_V] = {OM_Q_VOLTAGE_L3_V, "voltage_l3_v", OM_KIND_INSTANT, "V"},
    [OM_Q_FLOW_M3H] = {OM_Q_FLOW_M3H, "flow_m3h", OM_KIND_INSTANT, "m\u00b3/h"},
};

/* Written out rather than built at first use, so that it needs no lock; the
 * unit tests check that it lists the table above, in order. */
static const char quantity_names[] = "energy_import_kwh, energy_export_kwh, water_m3, power_kw, "
                                     "voltage_l1_v, voltage_l2_v, voltage_l3_v, flow_m3h";

const om_quantity_info *om_quantity_get(om_quantity q)
{
    if ((unsigned)q >= OM_Q__COUNT)
        return NULL;
    return &quantities[q];
}

int om_quantity_from_name(const char *name, om_quantity *out)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < OM_Q__COUNT; i++) {
        if (strcmp(quantities[i].name, name) == 0) {
            if (out != NULL)
                *out = quantities[i].id;
            return 0;
        }
    }
    return -1;
}

const char *om_quantity_names(void)
{
    return quantity_names;
}
