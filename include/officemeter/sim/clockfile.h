/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clockfile.h - reading the simulator's clock file (officemeter sim
 * --clock-file), so that another process runs on the same simulated time:
 * the alert evaluator in drills (`officemeter alerts evaluate --sim-clock`).
 */
#ifndef OFFICEMETER_SIM_CLOCKFILE_H
#define OFFICEMETER_SIM_CLOCKFILE_H

#include <stddef.h>

#include "officemeter/base/simclock.h"

/* Reads {"start_ms":…,"speed":…,"origin_mono_us":…} into c. Returns 0, or
 * -1 with the reason (naming the file) in err. */
int om_sim_clock_load(const char *path, om_sim_clock *c, char *err, size_t errlen);

#endif
