/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_year.c - the oracle for a calendar year: what every simulated meter
 * truly consumed in it, integrated afresh from the profiles.
 *
 *   {"year": 2025,
 *    "meters": {"sh-main": {"site": "shanghai", "utility": "electricity",
 *                           "role": "main", "quantity": "energy_import_kwh",
 *                           "year": 312345.6, "active": 150123.4}}}
 *
 * "year" is the consumption over the calendar year in the site's time zone,
 * "active" the part of it inside the meter's service life (`active:` in the
 * site file; the whole year when it has none). Profiles are pure functions
 * of seed, meter and time, so this is what a simulator started at any time
 * before the year served over it, whatever the speed; a demo compares the
 * annual report against it. Faults that only change registers (reset,
 * rollover, glitch) do not change it; a leak does.
 */
#include <stdio.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/quantity.h"
#include "sim_private.h"

static const om_sim_qty *primary_counter(const om_sim_meter *m)
{
    for (size_t k = 0; k < m->nq; k++)
        if (m->q[k].counter && m->q[k].grows)
            return &m->q[k];
    return NULL;
}

static json_t *meter_year_json(const om_sim_meter *m, const om_sim_qty *q, int64_t a, int64_t b)
{
    int64_t ca = a, cb = b;
    double active = om_meter_active_clip(m->meter, &ca, &cb) > 0
                        ? om_sim_profile_between(&m->profile, ca, cb)
                        : 0.0;
    json_t *obj = json_object();
    json_object_set_new(obj, "site", json_string(m->site->site ? m->site->site : ""));
    json_object_set_new(obj, "utility", json_string(m->meter->utility == OM_UTILITY_WATER
                                                        ? "water"
                                                        : "electricity"));
    json_object_set_new(obj, "role", json_string(m->meter->role == OM_ROLE_MAIN ? "main" : "sub"));
    json_object_set_new(obj, "quantity", json_string(om_quantity_get(q->quantity)->name));
    json_object_set_new(obj, "year", json_real(om_sim_profile_between(&m->profile, a, b)));
    json_object_set_new(obj, "active", json_real(active));
    return obj;
}

json_t *om_sim_year_json(om_sim *sim, int year, char *err, size_t errlen)
{
    json_t *meters = json_object();
    for (size_t i = 0; i < sim->nmeters; i++) {
        const om_sim_meter *m = &sim->meters[i];
        const om_sim_qty *q = primary_counter(m);
        if (q == NULL)
            continue;
        int64_t a, b;
        if (om_year_bounds(m->site->timezone, year, &a, &b) != 0) {
            snprintf(err, errlen, "site '%s': cannot place year %d in time zone %s",
                     m->site->site, year, m->site->timezone);
            json_decref(meters);
            return NULL;
        }
        json_object_set_new(meters, m->meter->id, meter_year_json(m, q, a, b));
    }
    json_t *root = json_object();
    json_object_set_new(root, "year", json_integer(year));
    json_object_set_new(root, "meters", meters);
    return root;
}
