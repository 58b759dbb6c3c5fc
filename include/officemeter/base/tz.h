/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tz.h - a site's local calendar: IANA time zones at period boundaries.
 *
 * Readings are UTC milliseconds; only months, years and human output are in
 * a site's zone. Conversion uses the system zone database (tzdata) through
 * the C library, under one lock: the process's TZ is left on the last zone
 * converted in (so the C library's own local time is not the machine's
 * once these are used; officemeter writes UTC everywhere else).
 */
#ifndef OFFICEMETER_TZ_H
#define OFFICEMETER_TZ_H

#include <stdint.h>
#include <time.h>

/* 0 when zone names an installed IANA zone ("Europe/London"), else -1. */
int om_tz_valid(const char *zone);

/* The UTC instant of local wall time days (since 1970-01-01) + seconds of
 * day in zone. A wall time skipped by a DST change maps to the instant just
 * after the gap; an ambiguous one to its first occurrence. Returns 0/-1. */
int om_tz_local_to_utc(const char *zone, int32_t days, int seconds_of_day, int64_t *ms);

/* Broken-down local time of a UTC instant in zone. Returns 0/-1. */
int om_tz_utc_to_local(const char *zone, int64_t ms, struct tm *out);

/* The UTC instants of local midnight (or the first instant after a
 * skipped one) of the n days first .. first + n - 1 in zone, with one
 * switch of zone instead of one per day (a dashboard needs hundreds).
 * Returns 0/-1. */
int om_tz_day_starts(const char *zone, int32_t first, size_t n, int64_t *out);

#endif
