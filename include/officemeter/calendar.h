/*
 * calendar.h - a site's months and years, floor area over a year, and a
 * meter's service life within a period.
 *
 * Months and years are the site's local calendar (its IANA zone): the
 * March of a London office starts at 00:00 GMT and ends at 00:00 BST, so
 * it is one hour shorter than 31 days. Everything returned is ms UTC.
 */
#ifndef OFFICEMETER_CALENDAR_H
#define OFFICEMETER_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/site.h"

/* [start, end) of a local month, a local year, a local day. Return 0/-1
 * (unknown zone, month outside 1..12). */
int om_month_bounds(const char *zone, int year, unsigned month, int64_t *start, int64_t *end);
int om_year_bounds(const char *zone, int year, int64_t *start, int64_t *end);
int om_day_bounds(const char *zone, om_date day, int64_t *start, int64_t *end);

/* The local year and month of an instant. */
int om_month_of(const char *zone, int64_t t, int *year, unsigned *month);
/* The month before the one that contains `now` in zone. */
int om_last_complete_month(const char *zone, int64_t now, int *year, unsigned *month);

/* "2024-03" -> 2024, 3. Returns 0/-1. */
int om_parse_month(const char *text, int *year, unsigned *month);
/* Days in a month and a year of the proleptic Gregorian calendar. */
unsigned om_days_in_month(int year, unsigned month);
unsigned om_days_in_year(int year);

/* Floor area on a local date: the row in force, 0 before the first. */
double om_area_on(const om_area_period *rows, size_t n, om_date day);
/* Sum of area x days over the year / days in the year (an office that
 * opens or moves in the year counts each area for the days it held). */
double om_area_time_weighted(const om_area_period *rows, size_t n, int year);
/* Area in force on the year's last day. */
double om_area_year_end(const om_area_period *rows, size_t n, int year);

/* Clips [*a, *b) to the meter's service life; returns the length left in
 * ms (0 when the meter is not in service in the period). */
int64_t om_meter_active_clip(const om_meter *m, int64_t *a, int64_t *b);

/* The headcount of a year; false when the site gives none. */
bool om_site_headcount(const om_site *site, int year, unsigned *count);

#endif
