/* SPDX-License-Identifier: Apache-2.0 */
/*
 * approval.h - approved annual reports in the aggregator's database.
 *
 * `officemeter report --approve` records, per year, the SHA-256 of the
 * approved report's JSON, who approved it and when, the report itself and
 * the fingerprints of what it was built from (files and readings). A year
 * may be approved again (a restatement, with its reason); the latest
 * approval is the one later reports are compared with. Rows are only ever
 * added. docs/methodology.md, "Approval and restatement".
 */
#ifndef OFFICEMETER_APPROVAL_H
#define OFFICEMETER_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/store/store.h"

/* Version of the approval table (approval_meta 'schema'). */
#define OM_APPROVAL_SCHEMA 1

typedef struct {
    int year;
    int64_t approved_at; /* ms UTC */
    char *approved_by;
    char sha256[65];     /* of the report's JSON, without its approval section */
    char *report_json;   /* the approved report */
    char *inputs_json;   /* what it was built from: {"files": {...}, "readings": {...}} */
    char *reason;        /* why (a restatement); may be empty */
} om_approval;

/* The latest approval of a year: 1 when there is one, 0 when not, -1 on
 * an error (reason in err). A database without approvals has none. */
int om_approval_latest(om_store *st, int year, om_approval *out, char *err, size_t errlen);
/* Records an approval (creating the table on first use). Returns 0 or -1. */
int om_approval_add(om_store *st, const om_approval *a, char *err, size_t errlen);
void om_approval_free(om_approval *a);

#endif
