/* SPDX-License-Identifier: Apache-2.0 */
/*
 * isotime.h - ISO 8601 dates and timestamps <-> int64 milliseconds UTC.
 *
 * Inside the program time is always int64 ms since the Unix epoch, UTC.
 * Text appears only in files people write (site files, command lines) and
 * in human output, so parsing is strict and errors are reported, not guessed.
 */
#ifndef OFFICEMETER_ISOTIME_H
#define OFFICEMETER_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 for a proleptic Gregorian date (no time zone). */
int32_t om_days_from_civil(int year, unsigned month, unsigned day);
void om_civil_from_days(int32_t days, int *year, unsigned *month, unsigned *day);

/* "YYYY-MM-DD" -> days since epoch. Returns 0, or -1 if malformed or not a
 * real calendar date. */
int om_parse_date(const char *text, int32_t *days);

/* "YYYY-MM-DDTHH:MM[:SS[.mmm]](Z|±HH:MM)" -> ms UTC. A bare date
 * "YYYY-MM-DD" is accepted as midnight UTC. Returns 0 or -1. */
int om_parse_iso8601(const char *text, int64_t *ms);

/* True when text has an explicit offset (Z or ±HH:MM). */
int om_iso8601_has_offset(const char *text);

/* "2024-03-01T02:00:00.000Z"; buf must hold at least 32 bytes. */
char *om_format_iso8601(int64_t ms, char *buf, size_t len);
/* "2024-03-01" */
char *om_format_date(int32_t days, char *buf, size_t len);

#endif
