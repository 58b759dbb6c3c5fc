/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_xlsx.h - the annual report as an Excel workbook (libxlsxwriter).
 *
 * Lives with the CLI because only the `officemeter` executable links
 * libxlsxwriter; the other formats are in the core library (kpi.h).
 */
#ifndef OFFICEMETER_CLI_REPORT_XLSX_H
#define OFFICEMETER_CLI_REPORT_XLSX_H

#include <stddef.h>

#include "officemeter/report/kpi.h"

/* Writes the workbook to path: sheets "KPIs", "Sites", "Monthly" and
 * "Factors and notes". Numbers are stored as numbers at full precision
 * (as libxlsxwriter writes them: 16 significant digits), formatted to the
 * rounding the other human formats show. Returns 0, or -1 with err set. */
int om_report_write_xlsx(const om_report *r, const char *path, char *err, size_t errlen);

#endif
