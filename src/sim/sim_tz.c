/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_tz.c - cached UTC offsets on top of core's om_tz.
 *
 * Lookups are aligned to quarter hours (every zone changes offset on one),
 * so the cached interval [from, until) never splits a change: when the
 * offsets a day apart agree the whole day is taken as constant (no zone
 * changes twice within a day); otherwise a binary search over quarter hours
 * finds the change.
 */
#include "sim_tz.h"

#include <string.h>
#include <time.h>

#include "officemeter/base/tz.h"

#define QUARTER_MS (15 * 60 * 1000LL)
#define DAY_MS (24 * 3600 * 1000LL)

int om_sim_tz_init(om_sim_tz *tz, const char *zone)
{
    memset(tz, 0, sizeof *tz);
    tz->from_ms = 0;
    tz->until_ms = 0; /* empty: the first lookup fills it */
    if (zone == NULL || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0)
        zone = "";
    if (strlen(zone) >= sizeof tz->zone)
        return -1;
    strcpy(tz->zone, zone);
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int32_t lookup(const om_sim_tz *tz, int64_t t_ms)
{
    struct tm tm;
    if (tz->zone[0] == '\0' || om_tz_utc_to_local(tz->zone, t_ms, &tm) != 0)
        return 0; /* zones are validated when the site loads */
    return (int32_t)tm.tm_gmtoff;
}

static int32_t tz_offset(om_sim_tz *tz, int64_t t_ms)
{
    if (tz->zone[0] == '\0')
        return 0;
    if (t_ms >= tz->from_ms && t_ms < tz->until_ms)
        return tz->offset_s;

    int64_t lo = floor_div(t_ms, QUARTER_MS) * QUARTER_MS;
    int32_t off = lookup(tz, lo);
    int64_t hi = lo + DAY_MS;
    if (lookup(tz, hi) != off) {
        /* The offset changes within (lo, hi]: find the first quarter hour
         * with the new offset. */
        while (hi - lo > QUARTER_MS) {
            int64_t mid = lo + floor_div(hi - lo, 2 * QUARTER_MS) * QUARTER_MS;
            if (lookup(tz, mid) == off)
                lo = mid;
            else
                hi = mid;
        }
    }
    tz->from_ms = floor_div(t_ms, QUARTER_MS) * QUARTER_MS;
    tz->until_ms = hi;
    tz->offset_s = off;
    return off;
}

om_sim_local om_sim_tz_local(om_sim_tz *tz, int64_t t_ms)
{
    om_sim_local l;
    int64_t local = t_ms + (int64_t)tz_offset(tz, t_ms) * 1000;
    l.days = floor_div(local, DAY_MS);
    l.ms_of_day = local - l.days * DAY_MS;
    /* 1970-01-01 was a Thursday (weekday 4). */
    l.weekday = (int)(((l.days % 7) + 7 + 4) % 7);
    return l;
}
