/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_state.c - the oracle: what every register holds and what was truly
 * consumed, at one simulated instant.
 *
 *   {"sim_time": 1709258400000, "sim_time_iso": "2024-03-01T02:00:00.000Z",
 *    "meters": {"sh-main": {"site": "shanghai",
 *                           "registers": {"energy_import_kwh": 123456.78, ...},
 *                           "true": {"energy_import_kwh": 12.5, ...}}}}
 *
 * "registers" is each quantity as its registers encode it, decoded with the
 * codec (so an f32 counter shows the float's value, a pulse counter whole
 * pulses); null when the registers hold a "not available" pattern. "true"
 * is consumption since the start for every counter, ignoring reset,
 * rollover and glitch faults. Everything is taken under the simulator's
 * lock at one simulated time, so it matches what a client read then.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "sim_private.h"

static json_t *register_value(om_sim_meter *m, const om_sim_qty *q, int64_t t)
{
    uint16_t regs[OM_CODEC_MAX_REGS];
    om_value v;
    om_sim_meter_encode(m, q, t, regs);
    if (om_codec_decode(&q->spec, regs, q->count, &v) != OM_DECODE_OK)
        return json_null();
    return json_real(v.value);
}

static json_t *meter_json(om_sim_meter *m, int64_t t)
{
    json_t *regs = json_object();
    json_t *truth = json_object();
    for (size_t k = 0; k < m->nq; k++) {
        const om_sim_qty *q = &m->q[k];
        const char *name = om_quantity_get(q->quantity)->name;
        json_object_set_new(regs, name, register_value(m, q, t));
        if (q->counter)
            json_object_set_new(truth, name, json_real(om_sim_meter_true(m, q, t)));
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "site", json_string(m->site->site ? m->site->site : ""));
    json_object_set_new(obj, "registers", regs);
    json_object_set_new(obj, "true", truth);
    return obj;
}

static json_t *state_json(om_sim *sim)
{
    json_t *meters = json_object();
    char iso[40];

    pthread_mutex_lock(&sim->lock);
    int64_t t = om_sim_clock_now(&sim->clock);
    for (size_t i = 0; i < sim->nmeters; i++)
        json_object_set_new(meters, sim->meters[i].meter->id, meter_json(&sim->meters[i], t));
    pthread_mutex_unlock(&sim->lock);

    json_t *root = json_object();
    json_object_set_new(root, "sim_time", json_integer(t));
    json_object_set_new(root, "sim_time_iso", json_string(om_format_iso8601(t, iso, sizeof iso)));
    json_object_set_new(root, "start", json_integer(sim->start_ms));
    json_object_set_new(root, "speed", json_real(sim->speed));
    json_object_set_new(root, "meters", meters);
    return root;
}

int om_sim_write_state(om_sim *sim, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "state file name too long: %s", path);
        return -1;
    }
    json_t *root = state_json(sim);
    int rc = json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write state file %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
