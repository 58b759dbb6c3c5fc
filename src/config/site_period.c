/* SPDX-License-Identifier: Apache-2.0 */
/*
 * site_period.c - what a site file says about a period: the floor area in
 * force, a meter's service life, the headcount of a year.
 */
#include "officemeter/config/site.h"

#include "officemeter/base/isotime.h"

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
