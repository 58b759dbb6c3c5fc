/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_clockfile.c - the reader of the clock file that om_sim_clock_write
 * writes (base/simclock.c), for processes that share simulated time.
 */
#include "officemeter/sim/clockfile.h"

#include <math.h>
#include <stdio.h>

#include <jansson.h>

int om_sim_clock_load(const char *path, om_sim_clock *c, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: %s", path, jerr.text);
        return -1;
    }
    json_t *start = json_object_get(root, "start_ms");
    json_t *speed = json_object_get(root, "speed");
    json_t *origin = json_object_get(root, "origin_mono_us");
    int rc = -1;
    if (!json_is_integer(start) || !json_is_number(speed) || !json_is_integer(origin))
        snprintf(err, errlen, "%s: expected start_ms, speed and origin_mono_us (written by "
                 "officemeter sim --clock-file)", path);
    else if (!isfinite(json_number_value(speed)) || json_number_value(speed) < 0)
        snprintf(err, errlen, "%s: speed must be 0 or more", path);
    else {
        c->start_ms = json_integer_value(start);
        c->speed = json_number_value(speed);
        c->origin_mono_us = json_integer_value(origin);
        rc = 0;
    }
    json_decref(root);
    return rc;
}
