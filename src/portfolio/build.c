/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build.c - the annual report with its fingerprint, inputs and, for an
 * approved year, the comparison with the approval (build.h): one builder
 * for the command and the web view.
 */
#include "officemeter/portfolio/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int om_built_report_begin(om_store *st, int year, om_built_report *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    int found = om_approval_latest(st, year, &b->approval, err, errlen);
    if (found < 0)
        return -1;
    b->approved = found == 1;
    return 0;
}

int om_built_report_finish(const om_portfolio *pf, const om_site *only, int year,
                           om_built_report *b, char *err, size_t errlen)
{
    if (om_portfolio_report(pf, only, year, &b->rows, &b->r) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->computed = true;
    b->inputs = om_report_inputs(pf, &b->r);
    if (om_report_fingerprint(&b->r, &b->json, b->sha) < 0 || !b->inputs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* An approval is of the whole portfolio's report: a report of one site
     * is not compared with it (its readings are still checked). */
    if (b->approved && only) {
        om_approval_free(&b->approval);
        b->approved = false;
    }
    if (b->approved) {
        if (om_approval_compare(&b->approval, b->sha, b->json, b->inputs, &b->view) < 0) {
            snprintf(err, errlen, "the approval of %d cannot be read back", year);
            return -1;
        }
        b->r.approval = &b->view;
    }
    return 0;
}

int om_portfolio_build_report(om_store *st, om_rollupdb *db, const om_portfolio *pf,
                              const om_site *only, int year, const om_rows_opts *o,
                              om_built_report *b, char *err, size_t errlen)
{
    if (om_built_report_begin(st, year, b, err, errlen) < 0)
        return -1;
    om_rows_opts rows = *o;
    rows.verify |= b->approved;
    if (om_portfolio_year(st, db, pf, only, year, &rows, &b->rows, err, errlen) < 0)
        return -1;
    return om_built_report_finish(pf, only, year, b, err, errlen);
}

void om_built_report_free(om_built_report *b)
{
    if (b->computed)
        om_report_free(&b->r);
    om_year_rows_free(&b->rows);
    free(b->json);
    free(b->inputs);
    om_approval_free(&b->approval);
    om_approval_view_free(&b->view);
    memset(b, 0, sizeof *b);
}
