/* SPDX-License-Identifier: Apache-2.0 */
/*
 * numfmt.h - numbers as text that reads back exactly.
 *
 * Values are written with the fewest digits that read back as the same
 * double (15 digits when they suffice, else 16 or 17), always as JSON reals
 * ("42.0", not "42"), with a point whatever the locale, so a parser returns
 * exactly the double that was written. The readings payload and the report
 * JSON write every number this way.
 */
#ifndef OFFICEMETER_BASE_NUMFMT_H
#define OFFICEMETER_BASE_NUMFMT_H

#include <stddef.h>

/* Writes a double ("0.1", "42.0", "1e+300"); buf needs at least 32 bytes.
 * Returns the length, or 0 for NaN and infinities (JSON has none). */
size_t om_format_double(double value, char *buf, size_t len);

#endif
