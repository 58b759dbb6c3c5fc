/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build.h - the annual report as every part serves it: `officemeter
 * report`, `evidence`, `explain` and officemeter-web build it here, so
 * that what a browser or a script gets is byte for byte what the command
 * writes, approval section included.
 *
 * A report is its figures (om_report), their fingerprint (the JSON without
 * an approval section, and its SHA-256: what an approval locks), what it
 * was built from (the inputs: the SHA-256 of each file and a digest of the
 * readings of each site-month), and, for an approved year, the comparison
 * with the approval (a restatement's reasons and changed figures).
 * docs/methodology.md, "Approval and restatement".
 */
#ifndef OFFICEMETER_PORTFOLIO_BUILD_H
#define OFFICEMETER_PORTFOLIO_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/portfolio/portfolio.h"
#include "officemeter/report/kpi.h"
#include "officemeter/store/approval.h"

/* The report's JSON without an approval section (malloc'd) and its
 * SHA-256: what an approval locks. Returns 0 or -1. */
int om_report_fingerprint(const om_report *r, char **json, char sha[65]);

/* What the report was built from, as JSON text (malloc'd, NULL: memory):
 * the SHA-256 of each site file, the policy, the factors, each bill file
 * and each meter model in use ("files"), and per site and month a digest
 * of the readings its meters' months were computed from ("readings"). */
char *om_report_inputs(const om_portfolio *pf, const om_report *r);

/* The digest of the "readings" part of om_report_inputs: the state of the
 * database a report was built from. */
int om_report_readings_sha256(const char *inputs_json, char sha[65]);

/* Compares this report (its fingerprint and inputs) with an approval.
 * Returns 0 or -1 (memory, an approval record that is not JSON). */
int om_approval_compare(const om_approval *a, const char *sha, const char *json,
                        const char *inputs_json, om_report_approval *view);
void om_approval_view_free(om_report_approval *view);

/* A built report. */
typedef struct {
    om_year_rows rows;  /* what it was computed from */
    om_report r;        /* r.approval points at view for an approved year */
    bool computed;
    char *json;         /* without the approval section */
    char sha[65];
    char *inputs;
    om_approval approval;
    bool approved;      /* the year has an approval (and the report is the portfolio's) */
    om_report_approval view;
} om_built_report;

/* In three steps, for a caller that gets the rows its own way (the web
 * view's cache): begin looks up the year's approval (b->approved); the
 * caller appends the rows to b->rows with om_portfolio_year, verify set
 * when b->approved; finish computes the figures, the fingerprint, the
 * inputs and the comparison. only: the report of one site (not compared
 * with the approval, which is of the whole portfolio). Each returns 0, or
 * -1 with the reason in err; om_built_report_free either way. */
int om_built_report_begin(om_store *st, int year, om_built_report *b, char *err, size_t errlen);
int om_built_report_finish(const om_portfolio *pf, const om_site *only, int year,
                           om_built_report *b, char *err, size_t errlen);

/* The three steps on one store: the rows as o says (verify also when the
 * year is approved). */
int om_portfolio_build_report(om_store *st, om_rollupdb *db, const om_portfolio *pf,
                              const om_site *only, int year, const om_rows_opts *o,
                              om_built_report *b, char *err, size_t errlen);
void om_built_report_free(om_built_report *b);

#endif
