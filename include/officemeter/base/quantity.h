/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quantity.h - the canonical quantities that flow from meters to reports.
 *
 * The name carries the unit (energy_import_kwh), so a payload is readable
 * without a schema. Counters are cumulative and become consumption by
 * differences; instantaneous values are sampled.
 */
#ifndef OFFICEMETER_QUANTITY_H
#define OFFICEMETER_QUANTITY_H

#include <stddef.h>

typedef enum { OM_KIND_COUNTER, OM_KIND_INSTANT } om_quantity_kind;

typedef enum {
    OM_Q_ENERGY_IMPORT_KWH,
    OM_Q_ENERGY_EXPORT_KWH,
    OM_Q_WATER_M3,
    OM_Q_POWER_KW,
    OM_Q_VOLTAGE_L1_V,
    OM_Q_VOLTAGE_L2_V,
    OM_Q_VOLTAGE_L3_V,
    OM_Q_FLOW_M3H,
    OM_Q__COUNT
} om_quantity;

typedef struct {
    om_quantity id;
    const char *name; /* payload key, e.g. "energy_import_kwh" */
    om_quantity_kind kind;
    const char *unit; /* "kWh", "m³", "kW", "V", "m³/h" */
} om_quantity_info;

const om_quantity_info *om_quantity_get(om_quantity q);
/* Returns 0 and sets *out, or -1 for an unknown name. */
int om_quantity_from_name(const char *name, om_quantity *out);
/* "energy_import_kwh, energy_export_kwh, ..." for error messages. */
const char *om_quantity_names(void);

#endif
