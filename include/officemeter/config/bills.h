/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bills.h - utility bills and landlord statements: the second source of
 * consumption, for the time no main meter covers (sites/bills/SITE.csv).
 *
 * One CSV file per site, one row per invoice or statement:
 *     utility,account,period_start,period_end,quantity,unit,source,document
 * Periods are local calendar dates of the site, both days included, as an
 * invoice prints them. Every bad row is an error naming file, line, column
 * and field; nothing is skipped. The parser is a pure function over a
 * buffer (no I/O), so it can be fuzzed as it is. Format and rules:
 * docs/sites.md ("Bills") and docs/methodology.md ("Bills").
 */
#ifndef OFFICEMETER_BILLS_H
#define OFFICEMETER_BILLS_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/diag.h"
#include "officemeter/base/id.h"
#include "officemeter/config/site.h"

/* The longest account and document text. */
#define OM_BILL_TEXT_LEN 96
/* A bill covers at most this many days. */
#define OM_BILL_MAX_DAYS 731
/* Errors reported per file before the rest are only counted. */
#define OM_BILLS_MAX_ERRORS 50

typedef enum {
    OM_BILL_INVOICE,   /* the utility's invoice on an actual reading */
    OM_BILL_LANDLORD,  /* a landlord's re-bill or service-charge statement */
    OM_BILL_ESTIMATED, /* an invoice on an estimated reading: counted, shown as estimated */
    OM_BILL__COUNT
} om_bill_source;

typedef struct {
    char site[OM_ID_MAX]; /* the site whose file holds the bill */
    om_utility utility;
    char account[OM_BILL_TEXT_LEN + 1];
    om_date start, end;   /* local dates of the site, both included */
    double quantity;      /* canonical units: kWh or m³ */
    double written;       /* the quantity as written, in `unit` */
    char unit[8];         /* as written: kWh, MWh, m3 */
    om_bill_source source;
    char document[OM_BILL_TEXT_LEN + 1];
    const char *file;     /* the file it came from (owned by the set) */
    size_t line;
} om_bill;

typedef struct {
    om_bill *bills;
    size_t nbills, cap;
    char **files; /* every file read, in order */
    size_t nfiles;
} om_bill_set;

/* Parses one site's bills from buf[0..len) (not NUL-terminated; any bytes)
 * and appends them to set. `file` names the input in messages. Returns 0
 * when the buffer added no error to diag, -1 otherwise (rows without error
 * are still appended). */
int om_bills_parse(const char *file, const char *site, const char *buf, size_t len,
                   om_bill_set *set, om_diag *diag);

/* Reads path and parses it; the site is the file's stem ("bills/alpha.csv"
 * holds alpha's bills). */
int om_bills_load(const char *path, om_bill_set *set, om_diag *diag);
/* Every *.csv of a folder, in name order; a missing folder holds no bills. */
int om_bills_load_dir(const char *dir, om_bill_set *set, om_diag *diag);
void om_bills_free(om_bill_set *set);

/* Two bills of one site, utility and account whose periods share a day, or
 * one document entered twice: the same consumption counted twice. Reports
 * each pair to diag (as an error) and returns how many there are. */
size_t om_bills_check_overlaps(const om_bill_set *set, om_diag *diag);
/* Bill files of sites that are not among sites[0..n): one error per file.
 * Returns how many. */
size_t om_bills_check_sites(const om_bill_set *set, const om_site *sites, size_t n,
                            om_diag *diag);
/* The bill j < i that bill i overlaps or repeats, or SIZE_MAX. */
size_t om_bills_overlap_of(const om_bill_set *set, size_t i);

const char *om_bill_source_name(om_bill_source source);
/* Days of a bill's period. */
unsigned om_bill_days(const om_bill *bill);

#endif
