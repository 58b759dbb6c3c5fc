/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts.c - `officemeter alerts`: the alerts as people see them, and what
 * people do with them.
 *
 *   officemeter alerts [--site S] [--all] [--format table|json]   list; exit 1 while a
 *                                                                 critical alert is open
 *   officemeter alerts show ID                                   one alert and its history
 *   officemeter alerts ack ID --note TEXT                        acknowledge (who, when)
 *   officemeter alerts silence --site S [--meter M | --gateway G] [--rule R] --until T
 *   officemeter alerts silences [--all]
 *   officemeter alerts deliveries                                each target's progress
 *   officemeter alerts evaluate …                                the evaluator (alerts_run.c)
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts_cli.h"
#include "commands.h"
#include "officemeter/alerts/record.h"
#include "officemeter/base/clock.h"
#include "officemeter/base/id.h"
#include "officemeter/base/isotime.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: officemeter alerts (--config FILE | --db FILE) [--site S] [--all]\n"
        "                          [--since TIMESTAMP] [--limit N] [--format table|json]\n"
        "       officemeter alerts show ID [--format table|json]\n"
        "       officemeter alerts ack ID --note TEXT [--by NAME]\n"
        "       officemeter alerts silence --site S [--meter M | --gateway G] [--rule CODE]\n"
        "                                  --until TIME [--note TEXT] [--by NAME]\n"
        "       officemeter alerts silences [--all]\n"
        "       officemeter alerts deliveries\n"
        "       officemeter alerts evaluate --config FILE [...]   (see 'alerts evaluate --help')\n"
        "\n"
        "Lists the open alerts (--all: every alert), newest first. Exit status 1 while an\n"
        "open, unsilenced alert is critical (for monitoring), 0 otherwise, 2 on bad usage.\n"
        "Every subcommand takes --config FILE (aggregator.yaml) or --db FILE.\n"
        "\n"
        "  --site S          only this site\n"
        "  --all             resolved alerts too\n"
        "  --since TIME      only alerts fired or resolved at or after TIME\n"
        "  --limit N         at most N alerts (default: all)\n"
        "  --format F        table (default) or json\n"
        "  --note TEXT       why: kept with the acknowledgement or the silence\n"
        "  --by NAME         who (default: the login name, or SUDO_USER)\n"
        "  --until TIME      the end of a silence: ISO 8601, or +30m, +2h, +3d from now\n"
        "  --now TIMESTAMP   judge silences at this time instead of the clock\n"
        "\n"
        "See docs/alerts.md.\n");
}

/* Options of the subcommands other than evaluate. */
typedef struct {
    alerts_opts env;
    const char *site, *meter, *gateway, *rule, *note, *by, *until;
    bool all, json;
    int64_t since;
    size_t limit;
} cmd_opts;

enum { C_SITE = 1200, C_ALL, C_SINCE, C_LIMIT, C_FORMAT, C_NOTE, C_BY, C_UNTIL, C_METER, C_GATEWAY,
       C_RULE };

static int parse_options(int argc, char **argv, cmd_opts *o, const char *cmd)
{
    static const struct option opts[] = {ALERTS_LONG_OPTIONS,
                                         {"site", required_argument, NULL, C_SITE},
                                         {"all", no_argument, NULL, C_ALL},
                                         {"since", required_argument, NULL, C_SINCE},
                                         {"limit", required_argument, NULL, C_LIMIT},
                                         {"format", required_argument, NULL, C_FORMAT},
                                         {"note", required_argument, NULL, C_NOTE},
                                         {"by", required_argument, NULL, C_BY},
                                         {"until", required_argument, NULL, C_UNTIL},
                                         {"meter", required_argument, NULL, C_METER},
                                         {"gateway", required_argument, NULL, C_GATEWAY},
                                         {"rule", required_argument, NULL, C_RULE},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        if (alerts_option(&o->env, c, optarg))
            continue;
        switch (c) {
        case C_SITE: o->site = optarg; break;
        case C_ALL: o->all = true; break;
        case C_SINCE:
            if (om_parse_iso8601(optarg, &o->since) < 0) {
                fprintf(stderr, "officemeter %s: --since: expected an ISO 8601 time, got \"%s\"\n",
                        cmd, optarg);
                return 2;
            }
            break;
        case C_LIMIT: {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 0) {
                fprintf(stderr, "officemeter %s: --limit: expected a count, got \"%s\"\n", cmd,
                        optarg);
                return 2;
            }
            o->limit = (size_t)v;
            break;
        }
        case C_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0) {
                fprintf(stderr, "officemeter %s: --format: expected table or json, got \"%s\"\n",
                        cmd, optarg);
                return 2;
            }
            o->json = strcmp(optarg, "json") == 0;
            break;
        case C_NOTE: o->note = optarg; break;
        case C_BY: o->by = optarg; break;
        case C_UNTIL: o->until = optarg; break;
        case C_METER: o->meter = optarg; break;
        case C_GATEWAY: o->gateway = optarg; break;
        case C_RULE: o->rule = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    return 0;
}

/* ---- the list ----------------------------------------------------------------------- */

static void state_text(const om_alert_record *a, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", a->open ? "open" : "resolved",
             a->acked_by[0] ? ",acked" : "", a->silenced_until ? ",silenced" : "");
}

static void print_table(const om_alert_record *a, size_t n)
{
    printf("%-6s %-8s %-12s %-14s %-22s %-20s %-24s %s\n", "ID", "SEVERITY", "SITE", "SUBJECT",
           "RULE", "STATE", "FIRED", "SUMMARY");
    for (size_t i = 0; i < n; i++) {
        char state[40], when[40];
        state_text(&a[i], state, sizeof state);
        printf("%-6" PRId64 " %-8s %-12s %-14s %-22s %-20s %-24s %s\n", a[i].id,
               om_alert_severity_name(a[i].severity), a[i].site, a[i].subject,
               om_alert_rule_name(a[i].rule), state, om_format_iso8601(a[i].fired_at, when,
                                                                        sizeof when),
               a[i].summary);
    }
}

static int cmd_list(alerts_env *env, const cmd_opts *o)
{
    int64_t now = alerts_env_now(env);
    om_alert_record *rows = NULL;
    size_t n = 0;
    if (env->db) {
        om_alertdb_filter f = {.site = o->site, .open_only = !o->all, .since = o->since,
                               .limit = o->limit};
        if (om_store_read_begin(env->st) < 0 || om_alertdb_list(env->db, &f, now, &rows, &n) < 0) {
            om_store_read_end(env->st);
            fprintf(stderr, "officemeter alerts: %s\n", om_alertdb_errmsg(env->db));
            return 1;
        }
        om_store_read_end(env->st);
    }
    bool critical = false;
    for (size_t i = 0; i < n; i++)
        critical |= rows[i].open && rows[i].severity == OM_SEV_CRITICAL && !rows[i].silenced_until;
    if (o->json) {
        char *text = om_alert_list_json(rows, n, now);
        if (text)
            printf("%s\n", text);
        free(text);
    } else if (n == 0) {
        printf("no %salerts%s%s\n", o->all ? "" : "open ", o->site ? " at " : "",
               o->site ? o->site : "");
    } else {
        print_table(rows, n);
    }
    om_alert_records_free(rows, n);
    return critical ? 1 : 0;
}

/* ---- one alert ---------------------------------------------------------------------- */

static int parse_id(const char *text, int64_t *id)
{
    char *end;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || end == text || *end || v <= 0) {
        fprintf(stderr, "officemeter alerts: expected an alert id (a number), got \"%s\"\n",
                text ? text : "nothing");
        return -1;
    }
    *id = v;
    return 0;
}

static int load_alert(alerts_env *env, int64_t id, om_alert_record *a)
{
    int found = env->db ? om_alertdb_get(env->db, id, alerts_env_now(env), a) : 0;
    if (found < 0)
        fprintf(stderr, "officemeter alerts: %s\n", om_alertdb_errmsg(env->db));
    else if (found == 0)
        fprintf(stderr, "officemeter alerts: no alert %" PRId64 "\n", id);
    return found;
}

static void show_json(const om_alert_record *a, const om_alertdb_change_row *h, size_t n)
{
    char *rec = om_alert_record_json(a);
    json_t *o = json_object();
    json_object_set_new(o, "alert", rec ? json_loads(rec, 0, NULL) : json_null());
    free(rec);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char t[40], r[40];
        json_t *ev = json_loads(h[i].evidence ? h[i].evidence : "{}", 0, NULL);
        json_array_append_new(arr, json_pack("{s:i,s:s,s:s,s:s,s:s?,s:s?,s:s,s:o,s:b}",
            "seq", (json_int_t)h[i].seq, "change", om_alert_change_text(h[i].change),
            "t", om_format_iso8601(h[i].t, t, sizeof t),
            "recorded", om_format_iso8601(h[i].recorded, r, sizeof r),
            "by", h[i].who[0] ? h[i].who : NULL, "note", h[i].note[0] ? h[i].note : NULL,
            "summary", h[i].summary, "evidence", ev ? ev : json_object(),
            "delivered_to_receivers", h[i].notify));
    }
    json_object_set_new(o, "history", arr);
    char *text = json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

static void show_table(const om_alert_record *a, const om_alertdb_change_row *h, size_t n)
{
    char t1[40], t2[40];
    printf("alert %" PRId64 ": %s (%s), %s, %s %s\n", a->id, om_alert_rule_name(a->rule),
           om_alert_rule_title(a->rule), om_alert_severity_name(a->severity), a->site, a->subject);
    printf("  state     %s\n", a->open ? "open" : "resolved");
    printf("  fired     %s (detected %s)\n", om_format_iso8601(a->fired_at, t1, sizeof t1),
           om_format_iso8601(a->detected_at, t2, sizeof t2));
    if (!a->open)
        printf("  resolved  %s (detected %s)\n", om_format_iso8601(a->resolved_at, t1, sizeof t1),
               om_format_iso8601(a->resolved_detected_at, t2, sizeof t2));
    if (a->acked_by[0])
        printf("  acked     by %s at %s: %s\n", a->acked_by,
               om_format_iso8601(a->acked_at, t1, sizeof t1), a->ack_note);
    if (a->silenced_until)
        printf("  silenced  until %s\n", om_format_iso8601(a->silenced_until, t1, sizeof t1));
    printf("  summary   %s\n  evidence  %s\n\nhistory:\n", a->summary,
           a->evidence ? a->evidence : "{}");
    for (size_t i = 0; i < n; i++) {
        printf("  %u %-12s at %s, recorded %s%s%s%s%s%s\n", h[i].seq,
               om_alert_change_text(h[i].change), om_format_iso8601(h[i].t, t1, sizeof t1),
               om_format_iso8601(h[i].recorded, t2, sizeof t2), h[i].who[0] ? " by " : "",
               h[i].who, h[i].note[0] ? ": " : "", h[i].note, h[i].notify ? "" : " (silenced)");
        printf("      %s\n      %s\n", h[i].summary, h[i].evidence ? h[i].evidence : "{}");
    }
}

static int cmd_show(alerts_env *env, const cmd_opts *o, const char *id_text)
{
    int64_t id;
    if (parse_id(id_text, &id) < 0)
        return 2;
    om_alert_record a;
    om_store_read_begin(env->st);
    int found = load_alert(env, id, &a);
    om_alertdb_change_row *h = NULL;
    size_t n = 0;
    if (found > 0 && om_alertdb_history(env->db, id, &h, &n) < 0) {
        fprintf(stderr, "officemeter alerts: %s\n", om_alertdb_errmsg(env->db));
        found = -1;
    }
    om_store_read_end(env->st);
    if (found > 0) {
        if (o->json)
            show_json(&a, h, n);
        else
            show_table(&a, h, n);
        om_alert_record_free(&a);
    }
    om_alertdb_changes_free(h, n);
    return found > 0 ? 0 : 1;
}

/* ---- acknowledging and silencing ----------------------------------------------------- */

static int write_begin(alerts_env *env)
{
    if (om_store_begin(env->st) == 0)
        return 0;
    fprintf(stderr, "officemeter alerts: %s\n", om_store_errmsg(env->st));
    return -1;
}

static int write_end(alerts_env *env, int rc)
{
    if (rc == 0 && om_store_commit(env->st) == 0)
        return 0;
    fprintf(stderr, "officemeter alerts: %s\n",
            rc == 0 ? om_store_errmsg(env->st) : om_alertdb_errmsg(env->db));
    om_store_rollback(env->st);
    return -1;
}

static int cmd_ack(alerts_env *env, const cmd_opts *o, const char *id_text)
{
    int64_t id;
    if (parse_id(id_text, &id) < 0)
        return 2;
    if (!o->note || !*o->note) {
        fprintf(stderr, "officemeter alerts ack: give --note TEXT (what was done or why)\n");
        return 2;
    }
    char who[64];
    alerts_who(o->by, who, sizeof who);
    int64_t now = alerts_env_now(env), recorded = om_wall_ms();
    if (write_begin(env) < 0)
        return 1;
    om_alert_record a;
    int found = load_alert(env, id, &a);
    int rc = found > 0 ? 0 : -1;
    if (rc == 0)
        rc = om_alertdb_set_ack(env->db, id, who, recorded, o->note) < 0 ||
                     om_alertdb_change(env->db, id, OM_CHANGE_ACKNOWLEDGED, recorded, recorded, who,
                                       o->note, a.silenced_until == 0, now, NULL) < 0
                 ? -1
                 : 0;
    if (found > 0)
        om_alert_record_free(&a);
    if (found <= 0) {
        om_store_rollback(env->st);
        return 1;
    }
    if (write_end(env, rc) < 0)
        return 1;
    printf("alert %" PRId64 " acknowledged by %s\n", id, who);
    return 0;
}

/* --until: ISO 8601, or +N with m, h or d from now. */
static int parse_until(const char *text, int64_t now, int64_t *until)
{
    if (text && text[0] == '+') {
        char *end;
        long v = strtol(text + 1, &end, 10);
        int64_t unit = *end == 'm' ? 60000 : *end == 'h' ? 3600000 : *end == 'd' ? 86400000 : 0;
        if (end == text + 1 || v <= 0 || !unit || end[1] != '\0')
            return -1;
        *until = now + v * unit;
        return 0;
    }
    return text && om_iso8601_has_offset(text) ? om_parse_iso8601(text, until) : -1;
}

static int check_silence(alerts_env *env, const cmd_opts *o)
{
    if (!o->site || !o->until) {
        fprintf(stderr, "officemeter alerts silence: give --site S and --until TIME\n");
        return 2;
    }
    if (o->meter && o->gateway) {
        fprintf(stderr, "officemeter alerts silence: --meter and --gateway exclude each other\n");
        return 2;
    }
    const char *subject = o->meter ? o->meter : o->gateway;
    om_alert_rule rule;
    if (o->rule && om_alert_rule_from_name(o->rule, &rule) < 0) {
        fprintf(stderr, "officemeter alerts silence: --rule: unknown rule \"%s\" (expected a "
                        "code such as water_night_flow; see docs/alerts.md)\n", o->rule);
        return 2;
    }
    if (!om_id_valid(o->site) || (subject && !om_id_valid(subject))) {
        fprintf(stderr, "officemeter alerts silence: invalid id \"%s\"\n",
                !om_id_valid(o->site) ? o->site : subject);
        return 2;
    }
    if (!env->have_sites)
        return 0;
    const om_site *site = NULL;
    for (size_t i = 0; i < env->sites.nsites; i++)
        if (strcmp(env->sites.sites[i].site, o->site) == 0)
            site = &env->sites.sites[i];
    if (!site || (o->meter && !om_site_find_meter(site, o->meter)) ||
        (o->gateway && !om_site_find_gateway(site, o->gateway))) {
        fprintf(stderr, "officemeter alerts silence: %s \"%s\" is not declared in the site "
                        "files\n", !site ? "site" : o->meter ? "meter" : "gateway",
                !site ? o->site : subject);
        return 2;
    }
    return 0;
}

static int cmd_silence(alerts_env *env, const cmd_opts *o)
{
    int rc = check_silence(env, o);
    if (rc != 0)
        return rc;
    int64_t now = alerts_env_now(env);
    om_alertdb_silence s = {0};
    if (parse_until(o->until, now, &s.until) < 0 || s.until <= now) {
        fprintf(stderr, "officemeter alerts silence: --until: expected a time ahead (ISO 8601 "
                        "with an offset, or +30m, +2h, +3d), got \"%s\"\n", o->until);
        return 2;
    }
    snprintf(s.site, sizeof s.site, "%s", o->site);
    snprintf(s.subject, sizeof s.subject, "%s", o->meter ? o->meter : o->gateway ? o->gateway : "");
    snprintf(s.rule, sizeof s.rule, "%s", o->rule ? o->rule : "");
    alerts_who(o->by, s.who, sizeof s.who);
    snprintf(s.note, sizeof s.note, "%s", o->note ? o->note : "");
    s.created = om_wall_ms();
    int64_t id;
    if (write_begin(env) < 0)
        return 1;
    if (write_end(env, om_alertdb_silence_add(env->db, &s, now, &id)) < 0)
        return 1;
    char until[40];
    printf("silence %" PRId64 ": %s%s%s%s%s until %s, by %s\n", id, s.site, s.subject[0] ? "/" : "",
           s.subject, s.rule[0] ? " rule " : "", s.rule,
           om_format_iso8601(s.until, until, sizeof until), s.who);
    return 0;
}

static int cmd_silences(alerts_env *env, const cmd_opts *o)
{
    om_alertdb_silence *rows = NULL;
    size_t n = 0;
    if (env->db && om_alertdb_silences(env->db, o->all, &rows, &n) < 0) {
        fprintf(stderr, "officemeter alerts: %s\n", om_alertdb_errmsg(env->db));
        return 1;
    }
    printf("%-5s %-12s %-14s %-22s %-24s %-10s %s\n", "ID", "SITE", "SUBJECT", "RULE", "UNTIL",
           "BY", "NOTE");
    for (size_t i = 0; i < n; i++) {
        char until[40];
        printf("%-5" PRId64 " %-12s %-14s %-22s %-24s %-10s %s%s\n", rows[i].id, rows[i].site,
               rows[i].subject[0] ? rows[i].subject : "*", rows[i].rule[0] ? rows[i].rule : "*",
               om_format_iso8601(rows[i].until, until, sizeof until), rows[i].who, rows[i].note,
               rows[i].ended ? " (ended)" : "");
    }
    free(rows);
    return 0;
}

static int cmd_deliveries(alerts_env *env)
{
    om_alertdb_target *rows = NULL;
    size_t n = 0;
    int64_t last = 0;
    if (env->db && (om_alertdb_targets(env->db, &rows, &n) < 0 ||
                    om_alertdb_last_change(env->db, &last) < 0)) {
        fprintf(stderr, "officemeter alerts: %s\n", om_alertdb_errmsg(env->db));
        free(rows);
        return 1;
    }
    printf("%-8s %-8s %-8s %-24s %s\n", "UPTO", "PENDING", "FAILED", "NEXT TRY", "TARGET");
    for (size_t i = 0; i < n; i++) {
        char next[40];
        printf("%-8" PRId64 " %-8" PRId64 " %-8u %-24s %s%s%s\n", rows[i].upto,
               last - rows[i].upto, rows[i].failures,
               rows[i].failures ? om_format_iso8601(rows[i].next_try, next, sizeof next) : "-",
               rows[i].target, rows[i].last_error[0] ? ": " : "", rows[i].last_error);
    }
    free(rows);
    return 0;
}

/* ---- dispatch --------------------------------------------------------------------------- */

/* The subcommand may come after options (`alerts --config F ack 12`): it is
 * the first word that is neither an option nor an option's value; it is
 * moved to argv[1]. */
static void find_subcommand(int argc, char **argv)
{
    static const char *const with_value[] = {
        "--db", "--config", "--sites", "--catalogue", "--policy", "--rules", "--now",
        "--sim-clock", "--site", "--since", "--limit", "--format", "--note", "--by", "--until",
        "--meter", "--gateway", "--rule", "--every", "--log-level"};
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            char *sub = argv[i];
            memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof *argv);
            argv[1] = sub;
            return;
        }
        if (strcmp(argv[i], "--") == 0)
            return;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (strcmp(argv[i], with_value[k]) == 0) {
                i++; /* its value */
                break;
            }
    }
}

int om_cmd_alerts(int argc, char **argv)
{
    find_subcommand(argc, argv);
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (sub && strcmp(sub, "evaluate") == 0)
        return alerts_cmd_evaluate(argc - 1, argv + 1);
    static const char *const subs[] = {"show", "ack", "silence", "silences", "deliveries"};
    bool known = !sub;
    for (size_t i = 0; sub && i < sizeof subs / sizeof subs[0]; i++)
        known |= strcmp(sub, subs[i]) == 0;
    if (!known) {
        fprintf(stderr, "officemeter alerts: unknown subcommand \"%s\" (try 'officemeter alerts "
                        "--help')\n", sub);
        return 2;
    }
    int skip = sub ? 1 : 0;
    cmd_opts o = {0};
    int rc = parse_options(argc - skip, argv + skip, &o, "alerts");
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    /* show and ack take the id as their one argument. */
    bool wants_id = sub && (strcmp(sub, "show") == 0 || strcmp(sub, "ack") == 0);
    int args = argc - skip - optind;
    const char *id = wants_id && args > 0 ? argv[skip + optind] : NULL;
    if (args > (wants_id ? 1 : 0)) {
        fprintf(stderr, "officemeter alerts: unexpected argument \"%s\"\n",
                argv[skip + optind + (wants_id ? 1 : 0)]);
        return 2;
    }
    bool writes = sub && (strcmp(sub, "ack") == 0 || strcmp(sub, "silence") == 0);
    unsigned flags = writes ? ALERTS_WRITE : 0;
    if (sub && strcmp(sub, "silence") == 0 && (o.env.config || o.env.sites_dir))
        flags |= ALERTS_PORTFOLIO; /* ids are checked against the site files */
    alerts_env env;
    const char *name = sub ? sub : "alerts";
    char cmd[48];
    snprintf(cmd, sizeof cmd, "alerts%s%s", sub ? " " : "", sub ? sub : "");
    rc = alerts_env_open(&env, cmd, &o.env, flags);
    if (rc == 0) {
        if (!sub)
            rc = cmd_list(&env, &o);
        else if (strcmp(name, "show") == 0)
            rc = cmd_show(&env, &o, id);
        else if (strcmp(name, "ack") == 0)
            rc = cmd_ack(&env, &o, id);
        else if (strcmp(name, "silence") == 0)
            rc = cmd_silence(&env, &o);
        else if (strcmp(name, "silences") == 0)
            rc = cmd_silences(&env, &o);
        else
            rc = cmd_deliveries(&env);
    }
    alerts_env_close(&env);
    return rc;
}
