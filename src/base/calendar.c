/* SPDX-License-Identifier: Apache-2.0 */
/*
 * calendar.c - local days, months and years as UTC instants.
 *
 * A local period starts at local midnight of its first day; midnight is
 * never skipped by a DST change in the zones we serve, and om_tz_local_to_utc
 * maps a skipped wall time to the instant after the gap anyway, so
 * consecutive periods always meet: the end of one is the start of the next.
 */
#include "officemeter/base/calendar.h"

#include <stdio.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"

unsigned om_days_in_month(int year, unsigned month)
{
    return (unsigned)(om_days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1,
                                         1) -
                      om_days_from_civil(year, month, 1));
}

unsigned om_days_in_year(int year)
{
    return (unsigned)(om_days_from_civil(year + 1, 1, 1) - om_days_from_civil(year, 1, 1));
}

static int local_midnight(const char *zone, int32_t day, int64_t *ms)
{
    return om_tz_local_to_utc(zone, day, 0, ms);
}

int om_day_bounds(const char *zone, om_date day, int64_t *start, int64_t *end)
{
    if (local_midnight(zone, day, start) < 0 || local_midnight(zone, day + 1, end) < 0)
        return -1;
    return 0;
}

int om_month_bounds(const char *zone, int year, unsigned month, int64_t *start, int64_t *end)
{
    if (month < 1 || month > 12)
        return -1;
    int32_t first = om_days_from_civil(year, month, 1);
    int32_t next = first + (int32_t)om_days_in_month(year, month);
    if (local_midnight(zone, first, start) < 0 || local_midnight(zone, next, end) < 0)
        return -1;
    return 0;
}

int om_year_bounds(const char *zone, int year, int64_t *start, int64_t *end)
{
    if (local_midnight(zone, om_days_from_civil(year, 1, 1), start) < 0 ||
        local_midnight(zone, om_days_from_civil(year + 1, 1, 1), end) < 0)
        return -1;
    return 0;
}

int om_month_of(const char *zone, int64_t t, int *year, unsigned *month)
{
    struct tm tm;
    if (om_tz_utc_to_local(zone, t, &tm) < 0)
        return -1;
    *year = tm.tm_year + 1900;
    *month = (unsigned)tm.tm_mon + 1;
    return 0;
}

int om_last_complete_month(const char *zone, int64_t now, int *year, unsigned *month)
{
    if (om_month_of(zone, now, year, month) < 0)
        return -1;
    if (*month == 1) {
        *month = 12;
        (*year)--;
    } else {
        (*month)--;
    }
    return 0;
}

int om_parse_month(const char *text, int *year, unsigned *month)
{
    int32_t days;
    char buf[16];
    if (!text || strlen(text) != 7)
        return -1;
    snprintf(buf, sizeof buf, "%s-01", text);
    if (om_parse_date(buf, &days) < 0)
        return -1;
    unsigned day;
    om_civil_from_days(days, year, month, &day);
    return 0;
}
