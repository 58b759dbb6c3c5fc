/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_tz.h - a site's UTC offset for every simulated minute, cheaply.
 *
 * The load profiles need the local weekday and hour of every simulated
 * minute, and at high --speed that is thousands of minutes per second.
 * Core's om_tz converts through the C library (a TZ switch per call), so
 * each profile keeps an interval over which the offset is known to be
 * constant: offsets change at most twice a year, always on a quarter hour,
 * so one lookup per simulated day (plus a short search on the day of a
 * change) is exact.
 */
#ifndef OM_SIM_TZ_H
#define OM_SIM_TZ_H

#include <stdint.h>

typedef struct {
    char zone[65];    /* IANA name, "" = UTC */
    int64_t from_ms;  /* offset_s holds over [from_ms, until_ms) */
    int64_t until_ms;
    int32_t offset_s;
} om_sim_tz;

/* Returns 0, or -1 when the name does not fit. */
int om_sim_tz_init(om_sim_tz *tz, const char *zone);


/* Local civil time of t: days since 1970-01-01, weekday (0 = Sunday) and
 * milliseconds since local midnight. */
typedef struct {
    int64_t days;
    int weekday;
    int64_t ms_of_day;
} om_sim_local;

om_sim_local om_sim_tz_local(om_sim_tz *tz, int64_t t_ms);

#endif
