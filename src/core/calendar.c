/*
 * calendar.c - local months and years as UTC instants; floor area and
 * service life over a period.
 *
 * A local period starts at local midnight of its first day; midnight is
 * never skipped by a DST change in the zones we serve, and om_tz_local_to_utc
 * maps a skipped wall time to the instant after the gap anyway, so
 * consecutive periods always meet: the end of one is the start of the next.
 */
#include "officemeter/calendar.h"

#include <stdio.h>
#include <string.h>

#include "officemeter/isotime.h"
#include "officemeter/tz.h"

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

double om_area_on(const om_area_period *rows, size_t n, om_date day)
{
    double area = 0;
    for (size_t i = 0; i < n && rows[i].from <= day; i++)
        area = rows[i].m2;
    return area;
}

double om_area_time_weighted(const om_area_period *rows, size_t n, int year)
{
    int32_t first = om_days_from_civil(year, 1, 1);
    int32_t next = om_days_from_civil(year + 1, 1, 1);
    double area_days = 0;
    /* Rows are in date order (the site loader checks it): each row holds
     * from its date to the next row's. */
    for (size_t i = 0; i < n; i++) {
        int32_t from = rows[i].from > first ? rows[i].from : first;
        int32_t until = i + 1 < n && rows[i + 1].from < next ? rows[i + 1].from : next;
        if (until > from)
            area_days += rows[i].m2 * (double)(until - from);
    }
    return area_days / (double)(next - first);
}

double om_area_year_end(const om_area_period *rows, size_t n, int year)
{
    return om_area_on(rows, n, om_days_from_civil(year, 12, 31));
}

int64_t om_meter_active_clip(const om_meter *m, int64_t *a, int64_t *b)
{
    if (m->active_from != OM_TIME_NONE && *a < m->active_from)
        *a = m->active_from;
    if (m->active_until != OM_TIME_NONE && *b > m->active_until)
        *b = m->active_until;
    if (*b < *a)
        *b = *a;
    return *b - *a;
}

bool om_site_headcount(const om_site *site, int year, unsigned *count)
{
    for (size_t i = 0; i < site->nheadcount; i++)
        if (site->headcount[i].year == year) {
            *count = site->headcount[i].count;
            return true;
        }
    return false;
}
