/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c - `officemeter report`: the annual KPI report from monthly
 * rollups, in Markdown, CSV, JSON or XLSX.
 *
 * Months of the years it reads that are missing, provisional or computed
 * from other inputs are rolled up first; the report itself reads only the
 * stored rollups, so it costs sites x months (an approved year also checks
 * that the readings behind each stored month did not change). Output goes
 * to -o FILE through a temporary file and a rename, or to stdout.
 * --approve records the report as the year's approved one (portfolio/build.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_env.h"
#include "cli_output.h"
#include "commands.h"
#include "officemeter/report/kpi.h"
#include "officemeter/report/kpi_xlsx.h"

typedef enum { FMT_MD, FMT_CSV, FMT_JSON, FMT_XLSX } report_format;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter report --year YYYY --format md|csv|json|xlsx [-o FILE]\n"
            "                          (--db DB --sites DIR | --config FILE) [options]\n"
            "\n"
            "The annual KPI report (HKEX ESG Reporting Code A1.2, A2.1, A2.2, A1.5, A2.3,\n"
            "A2.4): the KPI table with the previous year restated and the share of each\n"
            "figure by source (metered, billed, estimated), the targets, why each figure\n"
            "moved, per-site breakdown, monthly table, factors with their sources,\n"
            "coverage and data-quality notes, and each site's estimates, bills and flags.\n"
            "Built from the stored monthly rollups and the bills; months missing,\n"
            "provisional or computed from other site files or policy are rolled up first.\n"
            "JSON carries full precision (schema officemeter.report.v2); Markdown, CSV and\n"
            "XLSX show rounded figures (XLSX cells hold the full numbers). Method:\n"
            "docs/methodology.md.\n"
            "\n"
            "  --year YYYY       the reporting year (each site's local calendar year)\n"
            "  --format FORMAT   md, csv, json or xlsx\n"
            "  -o, --output FILE write here (required for xlsx; default: stdout)\n"
            "  --recompute       roll up every month again, stored or not\n"
            "  --approve         record this report as the year's approved one (with --by)\n"
            "  --by NAME         who approves\n"
            "  --reason TEXT     why an approved year is approved again (a restatement)\n"
            "  --verify-readings recompute stored months whose readings changed since (always\n"
            "                    done for an approved year)\n"
            "\n"
            "A later report of an approved year that differs from the approved one is marked\n"
            "a restatement, with the figures that changed and why (late or corrected\n"
            "readings, a site file, the factors, the policy, bills).\n" OM_ENV_USAGE);
}

static int parse_format(const char *text, report_format *f)
{
    const char *names[] = {"md", "csv", "json", "xlsx"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *f = (report_format)i;
            return 0;
        }
    return -1;
}

static int write_text(const om_report *r, report_format fmt, FILE *out)
{
    switch (fmt) {
    case FMT_MD: return om_report_write_md(r, out);
    case FMT_CSV: return om_report_write_csv(r, out);
    case FMT_JSON: return om_report_write_json(r, out);
    default: return -1;
    }
}

typedef struct {
    const om_report *r;
    report_format fmt;
} text_job;

static int text_writer(void *user, FILE *out)
{
    const text_job *job = user;
    return write_text(job->r, job->fmt, out);
}

/* To `path` through a temporary name in the same folder and a rename. */
static int write_file(const om_report *r, report_format fmt, const char *path)
{
    if (fmt != FMT_XLSX) {
        text_job job = {r, fmt};
        return om_cli_write_output("report", path, text_writer, &job);
    }
    char tmp[4200], err[512] = "";
    bool special = om_cli_special_target(path);
    if (special) /* a device or FIFO: the workbook made in the temporary folder */
        snprintf(tmp, sizeof tmp, "%s/officemeter-report.%ld.xlsx",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    else
        om_cli_temp_name(path, tmp, sizeof tmp);
    if (om_report_write_xlsx(r, tmp, err, sizeof err) < 0) {
        fprintf(stderr, "officemeter report: %s: %s\n", path, err);
        unlink(tmp);
        return -1;
    }
    if (special) {
        int rc = om_cli_copy_into("report", tmp, path);
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) < 0) {
        fprintf(stderr, "officemeter report: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct {
    bool approve;
    const char *by;
    const char *reason;
    bool verify_readings;
} approve_opts;

/* --approve: record this report as the year's approved one. The same
 * report approved again changes nothing; a different one (a restatement)
 * needs a reason. */
static int approve(om_env *env, int year, const approve_opts *ao, om_built_report *b)
{
    if (b->r.provisional) {
        fprintf(stderr, "officemeter report: %d is provisional (a month was not over when "
                        "computed): it cannot be approved yet\n", year);
        return -1;
    }
    if (b->approved && strcmp(b->approval.sha256, b->sha) == 0) {
        fprintf(stderr, "officemeter report: %d is already approved as this report (%s, by %s)\n",
                year, b->view.approved_at, b->approval.approved_by);
        return 0;
    }
    if (b->approved && !ao->reason) {
        fprintf(stderr, "officemeter report: %d was approved on %s by %s and this report differs "
                        "(a restatement): give --reason TEXT to approve it\n",
                year, b->view.approved_at, b->approval.approved_by);
        return -1;
    }
    om_approval a = {year, env->now, (char *)ao->by, "", b->json, b->inputs,
                     (char *)(ao->reason ? ao->reason : "")};
    snprintf(a.sha256, sizeof a.sha256, "%s", b->sha);
    char err[1024];
    if (om_approval_add(env->st, &a, err, sizeof err) < 0) {
        fprintf(stderr, "officemeter report: %s\n", err);
        return -1;
    }
    om_approval_free(&b->approval);
    om_approval_view_free(&b->view);
    b->approval = (om_approval){year, env->now, strdup(ao->by), "", strdup(b->json),
                                strdup(b->inputs), strdup(a.reason)};
    snprintf(b->approval.sha256, sizeof b->approval.sha256, "%s", b->sha);
    b->approved = true;
    if (om_approval_compare(&b->approval, b->sha, b->json, b->inputs, &b->view) < 0)
        return -1;
    b->r.approval = &b->view;
    fprintf(stderr, "officemeter report: %d approved by %s (SHA-256 %s)\n", year, ao->by,
            b->sha);
    return 0;
}

static int run(om_env *env, const om_env_opts *eo, int year, report_format fmt,
               const char *output, bool recompute, const approve_opts *ao)
{
    om_built_report b;
    int rc = om_build_report(env, eo, year, recompute, ao->verify_readings, &b);
    if (rc == 0 && ao->approve)
        rc = approve(env, year, ao, &b);
    if (rc == 0 && b.approved && b.view.restated)
        fprintf(stderr, "officemeter report: this report RESTATES the one approved on %s by %s: "
                        "%zu figures changed\n",
                b.view.approved_at, b.approval.approved_by, b.view.nfigures);
    if (rc == 0) {
        if (output)
            rc = write_file(&b.r, fmt, output);
        else if (write_text(&b.r, fmt, stdout) < 0 || fflush(stdout) != 0)
            rc = -1;
    }
    om_built_report_free(&b);
    return rc;
}

int om_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"year", required_argument, NULL, 'y'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"recompute", no_argument, NULL, 'r'},
                                         {"approve", no_argument, NULL, 'A'},
                                         {"by", required_argument, NULL, 'B'},
                                         {"reason", required_argument, NULL, 'R'},
                                         {"verify-readings", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         OM_ENV_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    om_env_opts eo = {0};
    const char *year_text = NULL, *format_text = NULL, *output = NULL;
    bool recompute = false;
    approve_opts ao = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "y:f:o:h", opts, NULL)) != -1) {
        if (om_env_option(&eo, c, optarg))
            continue;
        switch (c) {
        case 'y': year_text = optarg; break;
        case 'f': format_text = optarg; break;
        case 'o': output = optarg; break;
        case 'r': recompute = true; break;
        case 'A': ao.approve = true; break;
        case 'B': ao.by = optarg; break;
        case 'R': ao.reason = optarg; break;
        case 'V': ao.verify_readings = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int year;
    report_format fmt;
    if (optind < argc) {
        fprintf(stderr, "officemeter report: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (om_cli_parse_year("report", year_text, &year) < 0)
        return 2;
    if (!format_text || parse_format(format_text, &fmt) < 0) {
        fprintf(stderr, "officemeter report: --format: %s (got \"%s\", expected md, csv, json "
                        "or xlsx)\n", format_text ? "unknown format" : "missing",
                format_text ? format_text : "");
        return 2;
    }
    if (fmt == FMT_XLSX && !output) {
        fprintf(stderr, "officemeter report: --format xlsx needs -o FILE (a workbook is not "
                        "written to a terminal)\n");
        return 2;
    }
    if (ao.approve && (!ao.by || !ao.by[0])) {
        fprintf(stderr, "officemeter report: --approve needs --by NAME (who approves)\n");
        return 2;
    }
    if ((ao.by || ao.reason) && !ao.approve) {
        fprintf(stderr, "officemeter report: --by and --reason go with --approve\n");
        return 2;
    }
    if (ao.approve && eo.site) {
        fprintf(stderr, "officemeter report: --approve approves the whole portfolio's report "
                        "(not with --site)\n");
        return 2;
    }
    om_env env;
    int rc = om_env_open(&env, "report", &eo);
    if (rc == 0)
        rc = run(&env, &eo, year, fmt, output, recompute, &ao) < 0 ? 1 : 0;
    om_env_close(&env);
    return rc;
}
