/* SPDX-License-Identifier: Apache-2.0 */
/*
 * calendar.h - local days, months and years in an IANA time zone, as
 * [start, end) instants in ms UTC.
 *
 * Months and years are the site's local calendar (its IANA zone): the
 * March of a London office starts at 00:00 GMT and ends at 00:00 BST, so
 * it is one hour shorter than 31 days. Everything returned is ms UTC.
 */
#ifndef OFFICEMETER_CALENDAR_H
#define OFFICEMETER_CALENDAR_H

#include <stdint.h>

/* A local calendar date: days since 1970-01-01 (no time zone). */
typedef int32_t om_date;

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

#endif
