/* SPDX-License-Identifier: Apache-2.0 */
/*
 * approve.h - what `report --approve`, a later report of an approved year
 * and `officemeter evidence` share: the fingerprint of a report, of what
 * it was built from, and the comparison with an approval (a restatement's
 * reasons and changed figures). docs/methodology.md, "Approval and
 * restatement".
 */
#ifndef OFFICEMETER_CLI_APPROVE_H
#define OFFICEMETER_CLI_APPROVE_H

#include "officemeter/report/kpi.h"
#include "officemeter/store/approval.h"
#include "report_env.h"

/* The report's JSON without an approval section (malloc'd) and its
 * SHA-256: what an approval locks. Returns 0 or -1. */
int om_report_fingerprint(const om_report *r, char **json, char sha[65]);

/* What the report was built from, as JSON text (malloc'd): the SHA-256 of
 * each site file, the policy, the factors, each bill file and each meter
 * model in use ("files"), and per site and month a digest of the readings
 * its meters' months were computed from ("readings"). */
char *om_report_inputs(const om_env *env, const om_report *r);

/* The digest of the "readings" part of om_report_inputs: the state of the
 * database a report was built from. */
int om_report_readings_sha256(const char *inputs_json, char sha[65]);

/* Compares this report (its fingerprint and inputs) with an approval.
 * Returns 0 or -1 (memory, an approval record that is not JSON). */
int om_approval_compare(const om_approval *a, const char *sha, const char *json,
                        const char *inputs_json, om_report_approval *view);
void om_approval_view_free(om_report_approval *view);

/* A report as `report` and `evidence` build it: the rollups (recomputed
 * where missing, stale, or, for an approved year, where their readings
 * changed), the figures, their fingerprints, and the comparison with the
 * year's approval. */
typedef struct {
    om_env_rollups ru;
    om_site one;        /* --site: the report's one site */
    om_report r;
    bool computed;
    char *json;         /* without the approval section */
    char sha[65];
    char *inputs;
    om_approval approval;
    bool approved;      /* the year has an approval */
    om_report_approval view;
} om_built_report;

/* Builds it; verify_readings forces the readings check of stored months
 * (otherwise only for an approved year). Prints the reason and returns -1
 * on failure. */
int om_build_report(om_env *env, const om_env_opts *eo, int year, bool recompute,
                    bool verify_readings, om_built_report *b);
void om_built_report_free(om_built_report *b);

#endif
