/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alertcfg.c - the alert policy file (sites/alerts.yaml): schema tables,
 * cross-checks against the site files, the built-in defaults, and the
 * resolution of a rule's settings for one meter or gateway.
 *
 * Overrides must be told apart from values that happen to equal a
 * default, so every rule setting is an om_alert_opt (value and "set"),
 * parsed by the custom handlers below through the loader's own scalar
 * parser: the same range checks and messages as every other file.
 */
#include "officemeter/config/alertcfg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "yamlcfg_private.h"

static const char *const rule_names[OM_ALERT__COUNT + 1] = {
    "meter_stale",     "gateway_offline", "water_night_flow", "water_continuous_flow",
    "base_load_rise",  "after_hours_use", "counter_anomaly",  "outbox_backlog",
    "clock_skew",      "rejects",         NULL};
static const char *const severity_names[] = {"info", "warning", "critical", NULL};
static const char *const param_names[OM_AP__COUNT] = {
    [OM_AP_INTERVALS] = "intervals",
    [OM_AP_CLEAR_INTERVALS] = "clear_intervals",
    [OM_AP_OFFLINE_S] = "offline_s",
    [OM_AP_NO_HEALTH_S] = "no_health_s",
    [OM_AP_NIGHT_FROM] = "night_from",
    [OM_AP_NIGHT_TO] = "night_to",
    [OM_AP_STEP_MINUTES] = "step_minutes",
    [OM_AP_FLOW_M3H] = "flow_m3h",
    [OM_AP_CLEAR_FLOW_M3H] = "clear_flow_m3h",
    [OM_AP_NIGHTS] = "nights",
    [OM_AP_CLEAR_NIGHTS] = "clear_nights",
    [OM_AP_HOURS] = "hours",
    [OM_AP_ZERO_M3] = "zero_m3",
    [OM_AP_CLEAR_HOURS] = "clear_hours",
    [OM_AP_PERCENT] = "percent",
    [OM_AP_KW] = "kw",
    [OM_AP_CLEAR_PERCENT] = "clear_percent",
    [OM_AP_BASELINE_NIGHTS] = "baseline_nights",
    [OM_AP_MIN_BASELINE_NIGHTS] = "min_baseline_nights",
    [OM_AP_SHARE] = "share",
    [OM_AP_CLEAR_SHARE] = "clear_share",
    [OM_AP_REFERENCE_DAYS] = "reference_days",
    [OM_AP_MINUTES] = "minutes",
    [OM_AP_MIN_GROWTH] = "min_growth",
    [OM_AP_SECONDS] = "seconds",
    [OM_AP_CLEAR_SECONDS] = "clear_seconds",
    [OM_AP_PER_HOUR] = "per_hour",
    [OM_AP_WINDOW_MINUTES] = "window_minutes",
    [OM_AP_SETTLE_MINUTES] = "settle_minutes",
};
static const char *const event_names[] = {"reset", "glitch", "backstep", "jump", "wrap", NULL};
static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};

/* ---- custom values: each fills an om_alert_opt ---------------------------- */

static int parse_opt_number(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f,
                            om_cfg_type type)
{
    om_alert_opt *o = dst;
    om_cfg_field g = *f;
    g.type = type;
    g.offset = 0;
    g.size = type == OM_CFG_DOUBLE ? sizeof(double) : sizeof(uint32_t);
    uint32_t u = 0;
    double d = 0;
    if (om_cfg_parse_value(ctx, node, &g, type == OM_CFG_DOUBLE ? (void *)&d : (void *)&u) < 0)
        return -1;
    o->v = type == OM_CFG_DOUBLE ? d : (double)u;
    o->set = true;
    return 0;
}

static int parse_opt_real(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    return parse_opt_number(ctx, node, dst, f, OM_CFG_DOUBLE);
}

static int parse_opt_count(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    return parse_opt_number(ctx, node, dst, f, OM_CFG_UINT);
}

static int parse_opt_bool(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_alert_opt *o = dst;
    om_cfg_field g = {.key = f->key, .type = OM_CFG_BOOL, .size = sizeof(bool)};
    bool b = false;
    if (om_cfg_parse_value(ctx, node, &g, &b) < 0)
        return -1;
    o->v = b;
    o->set = true;
    return 0;
}

static int parse_opt_severity(om_cfg_ctx *ctx, yaml_node_t *node, void *dst,
                              const om_cfg_field *f)
{
    om_alert_opt *o = dst;
    om_cfg_field g = {.key = f->key, .type = OM_CFG_ENUM, .size = sizeof(int),
                      .names = severity_names};
    int sev = 0;
    if (om_cfg_parse_value(ctx, node, &g, &sev) < 0)
        return -1;
    o->v = sev;
    o->set = true;
    return 0;
}

/* "HH:MM", 00:00 to 24:00. */
static int parse_opt_time(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_alert_opt *o = dst;
    const char *s = om_cfg_scalar(node);
    unsigned h, m;
    char tail, got[96];
    if (s && strlen(s) == 5 && sscanf(s, "%2u:%2u%c", &h, &m, &tail) == 2 && s[2] == ':' &&
        m < 60 && (h < 24 || (h == 24 && m == 0))) {
        o->v = h * 60 + m;
        o->set = true;
        return 0;
    }
    om_cfg_error(ctx, node, NULL, "invalid time of day (got %s, expected HH:MM from 00:00 to 24:00)",
                 om_cfg_describe(node, got, sizeof got));
    return -1;
}

/* A list of names from `names`: a bit each. */
static int parse_name_set(om_cfg_ctx *ctx, yaml_node_t *node, const char *const *names,
                          const char *what, unsigned *bits)
{
    char got[96];
    if (node->type != YAML_SEQUENCE_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a list of %s)",
                     om_cfg_describe(node, got, sizeof got), what);
        return -1;
    }
    *bits = 0;
    int rc = 0;
    for (size_t i = 0;; i++) {
        yaml_node_t *item = om_cfg_item(ctx, node, i);
        if (!item)
            break;
        const char *s = om_cfg_scalar(item);
        int k = 0;
        while (s && names[k] && strcmp(names[k], s) != 0)
            k++;
        if (!s || !names[k]) {
            size_t saved = om_cfg_push_index(ctx, i);
            char expect[160] = "";
            for (int j = 0; names[j]; j++)
                snprintf(expect + strlen(expect), sizeof expect - strlen(expect), "%s%s",
                         j ? ", " : "", names[j]);
            om_cfg_error(ctx, item, NULL, "unknown %s (got %s, expected one of %s)", what,
                         om_cfg_describe(item, got, sizeof got), expect);
            om_cfg_pop(ctx, saved);
            rc = -1;
            continue;
        }
        *bits |= 1u << k;
    }
    return rc;
}

static int parse_opt_events(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_alert_opt *o = dst;
    unsigned bits;
    if (parse_name_set(ctx, node, event_names, "counter event", &bits) < 0)
        return -1;
    o->v = bits;
    o->set = true;
    return 0;
}

static int parse_working_days(om_cfg_ctx *ctx, yaml_node_t *node, void *dst,
                              const om_cfg_field *f)
{
    unsigned bits;
    if (parse_name_set(ctx, node, day_names, "day", &bits) < 0)
        return -1;
    if (bits == 0) {
        om_cfg_error(ctx, node, NULL, "empty list (expected at least one working day)");
        return -1;
    }
    *(unsigned *)dst = bits;
    return 0;
}

/* holidays: a list of dates; the count sits at f->count_offset. */
static int parse_holidays(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    char got[96];
    size_t *count = (size_t *)((char *)dst - f->offset + f->count_offset);
    if (node->type != YAML_SEQUENCE_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a list of dates YYYY-MM-DD)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    om_date *days = n ? calloc(n, sizeof *days) : NULL;
    *(om_date **)dst = days;
    *count = 0;
    om_cfg_field date = {.key = f->key, .type = OM_CFG_DATE, .size = sizeof(om_date)};
    int rc = 0;
    for (size_t i = 0; days && i < n; i++) {
        size_t saved = om_cfg_push_index(ctx, i);
        if (om_cfg_parse_value(ctx, om_cfg_item(ctx, node, i), &date, &days[*count]) == 0)
            (*count)++;
        else
            rc = -1;
        om_cfg_pop(ctx, saved);
    }
    return rc;
}

static void free_holidays(void *dst)
{
    free(*(om_date **)dst);
    *(om_date **)dst = NULL;
}

/* ---- one schema per rule ------------------------------------------------------- */

#define P_OFF(i) offsetof(om_alert_params, p[i])
#define REAL(i, lo, hi)                                                                        \
    {.key = NULL, .type = OM_CFG_CUSTOM, .offset = P_OFF(i), .min = (lo), .max = (hi),          \
     .custom = parse_opt_real, .expect = "a number", .size = (i)}
#define COUNT(i, lo, hi)                                                                       \
    {.key = NULL, .type = OM_CFG_CUSTOM, .offset = P_OFF(i), .min = (lo), .max = (hi),          \
     .custom = parse_opt_count, .expect = "an integer", .size = (i)}
#define TIME(i)                                                                                \
    {.key = NULL, .type = OM_CFG_CUSTOM, .offset = P_OFF(i), .custom = parse_opt_time,         \
     .expect = "HH:MM", .size = (i)}
#define COMMON                                                                                 \
    {.key = "enabled", .type = OM_CFG_CUSTOM, .offset = offsetof(om_alert_params, enabled),     \
     .custom = parse_opt_bool, .expect = "true or false", .size = OM_AP__COUNT},               \
    {.key = "severity", .type = OM_CFG_CUSTOM, .offset = offsetof(om_alert_params, severity),   \
     .custom = parse_opt_severity, .expect = "info, warning or critical", .size = OM_AP__COUNT}
#define SETTLE COUNT(OM_AP_SETTLE_MINUTES, 0, 10080)
#define DAY_MIN 1440.0

/* The key of a parameter field is its name in param_names (set below, by
 * index kept in .size, so that every rule spells a parameter the same way). */
static om_cfg_field meter_stale_f[] = {
    COMMON, REAL(OM_AP_INTERVALS, 1, 100000), REAL(OM_AP_CLEAR_INTERVALS, 0, 100000)};
static om_cfg_field gateway_offline_f[] = {
    COMMON, COUNT(OM_AP_OFFLINE_S, 0, 2592000), COUNT(OM_AP_NO_HEALTH_S, 1, 2592000)};
static om_cfg_field water_night_flow_f[] = {
    COMMON, TIME(OM_AP_NIGHT_FROM), TIME(OM_AP_NIGHT_TO), COUNT(OM_AP_STEP_MINUTES, 1, DAY_MIN),
    REAL(OM_AP_FLOW_M3H, 0, 1000), REAL(OM_AP_CLEAR_FLOW_M3H, 0, 1000),
    COUNT(OM_AP_NIGHTS, 1, 60), COUNT(OM_AP_CLEAR_NIGHTS, 1, 60), SETTLE};
static om_cfg_field water_continuous_flow_f[] = {
    COMMON, COUNT(OM_AP_HOURS, 1, 168), REAL(OM_AP_ZERO_M3, 0, 1000),
    COUNT(OM_AP_CLEAR_HOURS, 1, 168), SETTLE};
static om_cfg_field base_load_rise_f[] = {
    COMMON, TIME(OM_AP_NIGHT_FROM), TIME(OM_AP_NIGHT_TO), REAL(OM_AP_PERCENT, 0, 10000),
    REAL(OM_AP_KW, 0, 1e6), REAL(OM_AP_CLEAR_PERCENT, 0, 10000), COUNT(OM_AP_NIGHTS, 1, 60),
    COUNT(OM_AP_CLEAR_NIGHTS, 1, 60), COUNT(OM_AP_BASELINE_NIGHTS, 3, 60),
    COUNT(OM_AP_MIN_BASELINE_NIGHTS, 1, 60), SETTLE};
static om_cfg_field after_hours_use_f[] = {
    COMMON, REAL(OM_AP_SHARE, 0, 100), REAL(OM_AP_CLEAR_SHARE, 0, 100),
    COUNT(OM_AP_REFERENCE_DAYS, 1, 60), SETTLE};
static om_cfg_field counter_anomaly_f[] = {
    COMMON,
    {.key = "events", .type = OM_CFG_CUSTOM, .offset = offsetof(om_alert_params, events),
     .custom = parse_opt_events, .expect = "a list of counter events", .size = OM_AP__COUNT},
    COUNT(OM_AP_CLEAR_HOURS, 1, 8760)};
static om_cfg_field outbox_backlog_f[] = {
    COMMON, COUNT(OM_AP_MINUTES, 1, 100000), COUNT(OM_AP_MIN_GROWTH, 1, 1000000000)};
static om_cfg_field clock_skew_f[] = {
    COMMON, COUNT(OM_AP_SECONDS, 1, 10000000), COUNT(OM_AP_CLEAR_SECONDS, 0, 10000000)};
static om_cfg_field rejects_f[] = {
    COMMON, REAL(OM_AP_PER_HOUR, 0, 1e9), COUNT(OM_AP_WINDOW_MINUTES, 1, 100000)};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static struct {
    om_cfg_field *fields;
    size_t n;
} rule_fields[OM_ALERT__COUNT] = {
    [OM_ALERT_METER_STALE] = {meter_stale_f, N(meter_stale_f)},
    [OM_ALERT_GATEWAY_OFFLINE] = {gateway_offline_f, N(gateway_offline_f)},
    [OM_ALERT_WATER_NIGHT_FLOW] = {water_night_flow_f, N(water_night_flow_f)},
    [OM_ALERT_WATER_CONTINUOUS_FLOW] = {water_continuous_flow_f, N(water_continuous_flow_f)},
    [OM_ALERT_BASE_LOAD_RISE] = {base_load_rise_f, N(base_load_rise_f)},
    [OM_ALERT_AFTER_HOURS_USE] = {after_hours_use_f, N(after_hours_use_f)},
    [OM_ALERT_COUNTER_ANOMALY] = {counter_anomaly_f, N(counter_anomaly_f)},
    [OM_ALERT_OUTBOX_BACKLOG] = {outbox_backlog_f, N(outbox_backlog_f)},
    [OM_ALERT_CLOCK_SKEW] = {clock_skew_f, N(clock_skew_f)},
    [OM_ALERT_REJECTS] = {rejects_f, N(rejects_f)},
};

static void check_params(om_cfg_ctx *ctx, yaml_node_t *node, void *obj);

static om_cfg_schema rule_schema[OM_ALERT__COUNT];
static om_cfg_field ruleset_fields[OM_ALERT__COUNT];
static om_cfg_schema ruleset_schema;

/* Fills in the parameter keys and the schemas once (the tables above are
 * written by parameter index, so a key is spelled in one place). */
static void init_schemas(void)
{
    static bool done;
    if (done)
        return;
    for (int r = 0; r < OM_ALERT__COUNT; r++) {
        for (size_t i = 0; i < rule_fields[r].n; i++) {
            om_cfg_field *f = &rule_fields[r].fields[i];
            if (!f->key)
                f->key = param_names[f->size];
            f->size = sizeof(om_alert_opt);
        }
        rule_schema[r] = (om_cfg_schema){.name = rule_names[r], .size = sizeof(om_alert_params),
                                         .fields = rule_fields[r].fields,
                                         .nfields = rule_fields[r].n, .check = check_params};
        ruleset_fields[r] = (om_cfg_field){.key = rule_names[r], .type = OM_CFG_STRUCT,
                                           .offset = offsetof(om_alert_ruleset, r) +
                                                     (size_t)r * sizeof(om_alert_params),
                                           .size = sizeof(om_alert_params),
                                           .sub = &rule_schema[r]};
    }
    ruleset_schema = (om_cfg_schema){.name = "rules", .size = sizeof(om_alert_ruleset),
                                     .fields = ruleset_fields, .nfields = OM_ALERT__COUNT};
    done = true;
}

/* A clear threshold must not be beyond the firing one, in one mapping. */
static void check_pair(om_cfg_ctx *ctx, yaml_node_t *node, const om_alert_params *p,
                       om_alert_param fire, om_alert_param clear, bool clear_below)
{
    const om_alert_opt *a = &p->p[fire], *b = &p->p[clear];
    if (!a->set || !b->set || !om_cfg_key_valid(ctx, node, param_names[clear]))
        return;
    if (clear_below ? b->v > a->v : b->v < a->v)
        om_cfg_error(ctx, om_cfg_get(ctx, node, param_names[clear]), param_names[clear],
                     "%s the firing threshold (got %g, %s is %g): there would be no hysteresis",
                     clear_below ? "above" : "below", b->v, param_names[fire], a->v);
}

static void check_params(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    const om_alert_params *p = obj;
    check_pair(ctx, node, p, OM_AP_FLOW_M3H, OM_AP_CLEAR_FLOW_M3H, true);
    check_pair(ctx, node, p, OM_AP_PERCENT, OM_AP_CLEAR_PERCENT, true);
    check_pair(ctx, node, p, OM_AP_SHARE, OM_AP_CLEAR_SHARE, true);
    check_pair(ctx, node, p, OM_AP_SECONDS, OM_AP_CLEAR_SECONDS, true);
    check_pair(ctx, node, p, OM_AP_INTERVALS, OM_AP_CLEAR_INTERVALS, true);
    check_pair(ctx, node, p, OM_AP_BASELINE_NIGHTS, OM_AP_MIN_BASELINE_NIGHTS, true);
    const om_alert_opt *from = &p->p[OM_AP_NIGHT_FROM], *to = &p->p[OM_AP_NIGHT_TO];
    if (from->set && to->set && from->v == to->v)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "night_to"), "night_to",
                     "the night window is empty (night_from and night_to are both %02d:%02d)",
                     (int)to->v / 60, (int)to->v % 60);
}

/* ---- sites, subjects, delivery ------------------------------------------------ */

static const om_cfg_field meter_subject_fields[] = {
    OM_F_ID(om_alert_subject, id, "meter", OM_CFG_REQUIRED),
    {.key = "rules", .type = OM_CFG_STRUCT, .offset = offsetof(om_alert_subject, rules),
     .sub = &ruleset_schema},
};
static const om_cfg_field gateway_subject_fields[] = {
    OM_F_ID(om_alert_subject, id, "gateway", OM_CFG_REQUIRED),
    {.key = "rules", .type = OM_CFG_STRUCT, .offset = offsetof(om_alert_subject, rules),
     .sub = &ruleset_schema},
};
static const om_cfg_schema meter_subject_schema =
    OM_SCHEMA(om_alert_subject, "meter", meter_subject_fields, NULL);
static const om_cfg_schema gateway_subject_schema =
    OM_SCHEMA(om_alert_subject, "gateway", gateway_subject_fields, NULL);

static const om_cfg_field site_fields[] = {
    OM_F_ID(om_alert_site_cfg, site, "site", OM_CFG_REQUIRED),
    {.key = "working_days", .type = OM_CFG_CUSTOM,
     .offset = offsetof(om_alert_site_cfg, working_days), .custom = parse_working_days,
     .expect = "a list of days"},
    {.key = "holidays", .type = OM_CFG_CUSTOM, .offset = offsetof(om_alert_site_cfg, holidays),
     .count_offset = offsetof(om_alert_site_cfg, nholidays), .custom = parse_holidays,
     .custom_free = free_holidays, .expect = "a list of dates"},
    {.key = "rules", .type = OM_CFG_STRUCT, .offset = offsetof(om_alert_site_cfg, rules),
     .sub = &ruleset_schema},
    OM_F_LIST(om_alert_site_cfg, meters, nmeters, "meters", 0, &meter_subject_schema),
    OM_F_LIST(om_alert_site_cfg, gateways, ngateways, "gateways", 0, &gateway_subject_schema),
};
static const om_cfg_schema site_schema = OM_SCHEMA(om_alert_site_cfg, "site", site_fields, NULL);

static void check_url(om_cfg_ctx *ctx, yaml_node_t *node, const char *url)
{
    if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "url"), "url",
                     "not an HTTP URL (got \"%s\", expected http://… or https://…)", url);
}

static void check_webhook(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    check_url(ctx, node, ((om_alert_webhook *)obj)->url);
}

static void check_am(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    check_url(ctx, node, ((om_alert_am *)obj)->url);
}

static const om_cfg_field webhook_fields[] = {
    OM_F_STRING(om_alert_webhook, url, "url", OM_CFG_REQUIRED),
    OM_F_UINT(om_alert_webhook, timeout_s, "timeout_s", 0, 1, 300, "10"),
    OM_F_ENUM(om_alert_webhook, min_severity, "min_severity", 0, severity_names, "info"),
};
static const om_cfg_schema webhook_schema =
    OM_SCHEMA(om_alert_webhook, "webhook", webhook_fields, check_webhook);

static const om_cfg_field am_fields[] = {
    OM_F_STRING(om_alert_am, url, "url", OM_CFG_REQUIRED),
    OM_F_UINT(om_alert_am, timeout_s, "timeout_s", 0, 1, 300, "10"),
    OM_F_UINT(om_alert_am, ends_after_s, "ends_after_s", 0, 30, 86400, "300"),
    OM_F_UINT(om_alert_am, resend_resolved_s, "resend_resolved_s", 0, 0, 604800, "3600"),
};
static const om_cfg_schema am_schema = OM_SCHEMA(om_alert_am, "alertmanager", am_fields, check_am);

typedef struct {
    unsigned min_s, max_s;
} retry_cfg;

static void check_retry(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    retry_cfg *r = obj;
    if (r->max_s < r->min_s && om_cfg_key_valid(ctx, node, "max_s"))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "max_s"), "max_s",
                     "below min_s (got %u, min_s is %u)", r->max_s, r->min_s);
}

static const om_cfg_field retry_fields[] = {
    OM_F_UINT(retry_cfg, min_s, "min_s", 0, 1, 86400, "30"),
    OM_F_UINT(retry_cfg, max_s, "max_s", 0, 1, 604800, "3600"),
};
static const om_cfg_schema retry_schema = OM_SCHEMA(retry_cfg, "retry", retry_fields, check_retry);

/* delivery.retry lands in two members of om_alert_delivery. */
static int parse_retry(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_alert_delivery *d = (om_alert_delivery *)((char *)dst - offsetof(om_alert_delivery,
                                                                         retry_min_s));
    retry_cfg r = {30, 3600};
    om_cfg_parse_mapping(ctx, node, &retry_schema, &r);
    d->retry_min_s = r.min_s;
    d->retry_max_s = r.max_s;
    return 0;
}

static int parse_am(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_cfg_parse_mapping(ctx, node, &am_schema, dst);
    return 0;
}

static void free_am(void *dst)
{
    om_cfg_free(&am_schema, dst);
}

static const om_cfg_field delivery_fields[] = {
    OM_F_BOOL(om_alert_delivery, mqtt, "mqtt", 0, "true"),
    OM_F_LIST(om_alert_delivery, webhooks, nwebhooks, "webhooks", 0, &webhook_schema),
    {.key = "alertmanager", .type = OM_CFG_CUSTOM,
     .offset = offsetof(om_alert_delivery, alertmanager), .custom = parse_am,
     .custom_free = free_am, .expect = "a mapping"},
    {.key = "retry", .type = OM_CFG_CUSTOM, .offset = offsetof(om_alert_delivery, retry_min_s),
     .custom = parse_retry, .expect = "a mapping"},
};
static const om_cfg_schema delivery_schema =
    OM_SCHEMA(om_alert_delivery, "delivery", delivery_fields, NULL);

static void check_policy(om_cfg_ctx *ctx, yaml_node_t *node, void *obj);

static const om_cfg_field policy_fields[] = {
    {.key = "defaults", .type = OM_CFG_STRUCT, .offset = offsetof(om_alert_policy, defaults),
     .sub = &ruleset_schema},
    OM_F_LIST(om_alert_policy, sites, nsites, "sites", 0, &site_schema),
    OM_F_STRUCT(om_alert_policy, delivery, "delivery", 0, &delivery_schema),
};
static const om_cfg_schema policy_schema =
    OM_SCHEMA(om_alert_policy, "alert policy", policy_fields, check_policy);

/* ---- cross-checks with the site files ----------------------------------------- */

typedef struct {
    const om_site *sites;
    size_t nsites;
} site_set;

static const om_site *find_site(const site_set *set, const char *id)
{
    for (size_t i = 0; set && id && i < set->nsites; i++)
        if (set->sites[i].site && strcmp(set->sites[i].site, id) == 0)
            return &set->sites[i];
    return NULL;
}

/* The rules of a ruleset that are set at all (any key). */
static bool rule_given(const om_alert_params *p)
{
    if (p->enabled.set || p->severity.set || p->events.set)
        return true;
    for (int i = 0; i < OM_AP__COUNT; i++)
        if (p->p[i].set)
            return true;
    return false;
}

static bool rule_suits_meter(om_alert_rule r, const om_meter *m)
{
    switch (r) {
    case OM_ALERT_WATER_NIGHT_FLOW:
    case OM_ALERT_WATER_CONTINUOUS_FLOW:
        return m->utility == OM_UTILITY_WATER;
    case OM_ALERT_BASE_LOAD_RISE:
        return m->utility == OM_UTILITY_ELECTRICITY;
    default:
        return !om_alert_rule_is_gateway(r);
    }
}

/* meter: the site's meter when known (the site files were given), else NULL. */
static void check_subject_rules(om_cfg_ctx *ctx, yaml_node_t *item, const om_alert_subject *s,
                                bool meter_list, const om_meter *meter, size_t index,
                                const char *list)
{
    yaml_node_t *rules = om_cfg_get(ctx, item, "rules");
    char key[96];
    for (int r = 0; r < OM_ALERT__COUNT; r++) {
        if (!rule_given(&s->rules.r[r]))
            continue;
        snprintf(key, sizeof key, "%s[%zu].rules.%s", list, index, rule_names[r]);
        yaml_node_t *at = om_cfg_get(ctx, rules, rule_names[r]);
        bool gateway_rule = om_alert_rule_is_gateway((om_alert_rule)r);
        if (meter_list && gateway_rule)
            om_cfg_error(ctx, at, key, "a gateway rule (set it under gateways:, or in the "
                         "site's rules:)");
        else if (!meter_list && !gateway_rule)
            om_cfg_error(ctx, at, key, "a meter rule (set it under meters:, or in the site's "
                         "rules:)");
        else if (meter && !rule_suits_meter((om_alert_rule)r, meter))
            om_cfg_error(ctx, at, key, "does not apply to %s, a%s %s meter", meter->id,
                         meter->utility == OM_UTILITY_ELECTRICITY ? "n" : "",
                         meter->utility == OM_UTILITY_ELECTRICITY ? "electricity" : "water");
    }
}

static void check_subjects(om_cfg_ctx *ctx, yaml_node_t *site_node, const om_alert_site_cfg *sc,
                           const om_site *site, bool meters)
{
    const char *list = meters ? "meters" : "gateways";
    const char *idkey = meters ? "meter" : "gateway";
    yaml_node_t *seq = om_cfg_get(ctx, site_node, list);
    size_t n = meters ? sc->nmeters : sc->ngateways;
    const om_alert_subject *subs = meters ? sc->meters : sc->gateways;
    char key[96];
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = om_cfg_item(ctx, seq, i);
        const char *id = subs[i].id;
        if (!id)
            continue;
        snprintf(key, sizeof key, "%s[%zu].%s", list, i, idkey);
        for (size_t k = 0; k < i; k++)
            if (subs[k].id && strcmp(subs[k].id, id) == 0)
                om_cfg_error(ctx, om_cfg_get(ctx, item, idkey), key,
                             "listed twice (also %s[%zu])", list, k);
        const om_meter *meter = NULL;
        if (site && meters && !(meter = om_site_find_meter(site, id))) {
            om_cfg_error(ctx, om_cfg_get(ctx, item, idkey), key,
                         "unknown meter (got \"%s\", expected a meter of %s)", id, site->path);
            continue;
        }
        if (site && !meters && !om_site_find_gateway(site, id)) {
            om_cfg_error(ctx, om_cfg_get(ctx, item, idkey), key,
                         "unknown gateway (got \"%s\", expected a gateway of %s)", id,
                         site->path);
            continue;
        }
        check_subject_rules(ctx, item, &subs[i], meters, meter, i, list);
    }
}

static void check_policy(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_alert_policy *p = obj;
    const site_set *set = ctx->user;
    yaml_node_t *list = om_cfg_get(ctx, node, "sites");
    char key[64];
    for (size_t i = 0; i < p->nsites; i++) {
        const om_alert_site_cfg *sc = &p->sites[i];
        yaml_node_t *item = om_cfg_item(ctx, list, i);
        if (!sc->site)
            continue;
        snprintf(key, sizeof key, "sites[%zu].site", i);
        for (size_t k = 0; k < i; k++)
            if (p->sites[k].site && strcmp(p->sites[k].site, sc->site) == 0)
                om_cfg_error(ctx, om_cfg_get(ctx, item, "site"), key,
                             "listed twice (also sites[%zu])", k);
        const om_site *site = find_site(set, sc->site);
        if (set && !site) {
            char names[512] = "";
            for (size_t k = 0; k < set->nsites; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         k ? ", " : "", set->sites[k].site ? set->sites[k].site : "?");
            om_cfg_error(ctx, om_cfg_get(ctx, item, "site"), key,
                         "unknown site (got \"%s\", expected one of %s)", sc->site,
                         set->nsites ? names : "the sites checked with it");
            continue;
        }
        size_t saved = om_cfg_push_key(ctx, "sites");
        size_t saved2 = om_cfg_push_index(ctx, i);
        check_subjects(ctx, item, sc, site, true);
        check_subjects(ctx, item, sc, site, false);
        om_cfg_pop(ctx, saved2);
        om_cfg_pop(ctx, saved);
    }
}

/* ---- loading -------------------------------------------------------------------- */

int om_alert_policy_load(const char *path, const om_site *sites, size_t nsites,
                         om_alert_policy *out, om_diag *diag)
{
    init_schemas();
    memset(out, 0, sizeof *out);
    out->path = strdup(path);
    site_set set = {sites, nsites};
    out->delivery.retry_min_s = 30;
    out->delivery.retry_max_s = 3600;
    return om_cfg_load_file(path, &policy_schema, out, diag, sites ? &set : NULL);
}

void om_alert_policy_builtin(om_alert_policy *out)
{
    init_schemas();
    memset(out, 0, sizeof *out);
    out->delivery.mqtt = true;
    out->delivery.retry_min_s = 30;
    out->delivery.retry_max_s = 3600;
}

void om_alert_policy_free(om_alert_policy *policy)
{
    if (!policy)
        return;
    init_schemas();
    om_cfg_free(&policy_schema, policy);
    free(policy->path);
    policy->path = NULL;
}

/* ---- names ---------------------------------------------------------------------- */

const char *om_alert_rule_name(om_alert_rule rule)
{
    return (unsigned)rule < OM_ALERT__COUNT ? rule_names[rule] : "?";
}

int om_alert_rule_from_name(const char *name, om_alert_rule *out)
{
    for (int r = 0; name && r < OM_ALERT__COUNT; r++)
        if (strcmp(rule_names[r], name) == 0) {
            *out = (om_alert_rule)r;
            return 0;
        }
    return -1;
}

const char *om_alert_severity_name(om_alert_severity sev)
{
    return (unsigned)sev <= OM_SEV_CRITICAL ? severity_names[sev] : "?";
}

int om_alert_severity_from_name(const char *name, om_alert_severity *out)
{
    for (int s = 0; name && severity_names[s]; s++)
        if (strcmp(severity_names[s], name) == 0) {
            *out = (om_alert_severity)s;
            return 0;
        }
    return -1;
}

const char *om_alert_param_name(om_alert_param p)
{
    return (unsigned)p < OM_AP__COUNT ? param_names[p] : "?";
}

bool om_alert_rule_takes(om_alert_rule rule, om_alert_param p)
{
    if ((unsigned)rule >= OM_ALERT__COUNT)
        return false;
    init_schemas();
    for (size_t i = 0; i < rule_fields[rule].n; i++)
        if (rule_fields[rule].fields[i].offset == P_OFF(p))
            return true;
    return false;
}

bool om_alert_rule_is_gateway(om_alert_rule rule)
{
    return rule == OM_ALERT_GATEWAY_OFFLINE || rule == OM_ALERT_OUTBOX_BACKLOG ||
           rule == OM_ALERT_CLOCK_SKEW || rule == OM_ALERT_REJECTS;
}

bool om_alert_rule_is_data_time(om_alert_rule rule)
{
    return rule == OM_ALERT_WATER_NIGHT_FLOW || rule == OM_ALERT_WATER_CONTINUOUS_FLOW ||
           rule == OM_ALERT_BASE_LOAD_RISE || rule == OM_ALERT_AFTER_HOURS_USE ||
           rule == OM_ALERT_COUNTER_ANOMALY;
}

/* ---- built-in defaults and resolution ----------------------------------------- */

typedef struct {
    om_alert_rule rule;
    om_alert_param param;
    double value;
} builtin;

/* docs/alerts.md, "Rules", has the same table for people. */
static const builtin builtins[] = {
    {OM_ALERT_METER_STALE, OM_AP_INTERVALS, 4},
    {OM_ALERT_METER_STALE, OM_AP_CLEAR_INTERVALS, 2},
    {OM_ALERT_GATEWAY_OFFLINE, OM_AP_OFFLINE_S, 120},
    {OM_ALERT_GATEWAY_OFFLINE, OM_AP_NO_HEALTH_S, 600},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_NIGHT_FROM, 60},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_NIGHT_TO, 300},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_STEP_MINUTES, 60},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_FLOW_M3H, 0.01},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_CLEAR_FLOW_M3H, 0.005},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_NIGHTS, 3},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_CLEAR_NIGHTS, 2},
    {OM_ALERT_WATER_NIGHT_FLOW, OM_AP_SETTLE_MINUTES, 60},
    {OM_ALERT_WATER_CONTINUOUS_FLOW, OM_AP_HOURS, 24},
    {OM_ALERT_WATER_CONTINUOUS_FLOW, OM_AP_ZERO_M3, 0.001},
    {OM_ALERT_WATER_CONTINUOUS_FLOW, OM_AP_CLEAR_HOURS, 2},
    {OM_ALERT_WATER_CONTINUOUS_FLOW, OM_AP_SETTLE_MINUTES, 60},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_NIGHT_FROM, 60},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_NIGHT_TO, 300},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_PERCENT, 20},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_KW, 2},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_CLEAR_PERCENT, 10},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_NIGHTS, 3},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_CLEAR_NIGHTS, 2},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_BASELINE_NIGHTS, 28},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_MIN_BASELINE_NIGHTS, 14},
    {OM_ALERT_BASE_LOAD_RISE, OM_AP_SETTLE_MINUTES, 60},
    {OM_ALERT_AFTER_HOURS_USE, OM_AP_SHARE, 0.7},
    {OM_ALERT_AFTER_HOURS_USE, OM_AP_CLEAR_SHARE, 0.6},
    {OM_ALERT_AFTER_HOURS_USE, OM_AP_REFERENCE_DAYS, 10},
    {OM_ALERT_AFTER_HOURS_USE, OM_AP_SETTLE_MINUTES, 60},
    {OM_ALERT_COUNTER_ANOMALY, OM_AP_CLEAR_HOURS, 24},
    {OM_ALERT_OUTBOX_BACKLOG, OM_AP_MINUTES, 30},
    {OM_ALERT_OUTBOX_BACKLOG, OM_AP_MIN_GROWTH, 100},
    {OM_ALERT_CLOCK_SKEW, OM_AP_SECONDS, 120},
    {OM_ALERT_CLOCK_SKEW, OM_AP_CLEAR_SECONDS, 30},
    {OM_ALERT_REJECTS, OM_AP_PER_HOUR, 10},
    {OM_ALERT_REJECTS, OM_AP_WINDOW_MINUTES, 60},
};

static const om_alert_severity builtin_severity[OM_ALERT__COUNT] = {
    [OM_ALERT_METER_STALE] = OM_SEV_WARNING,
    [OM_ALERT_GATEWAY_OFFLINE] = OM_SEV_CRITICAL,
    [OM_ALERT_WATER_NIGHT_FLOW] = OM_SEV_CRITICAL,
    [OM_ALERT_WATER_CONTINUOUS_FLOW] = OM_SEV_WARNING,
    [OM_ALERT_BASE_LOAD_RISE] = OM_SEV_WARNING,
    [OM_ALERT_AFTER_HOURS_USE] = OM_SEV_INFO,
    [OM_ALERT_COUNTER_ANOMALY] = OM_SEV_WARNING,
    [OM_ALERT_OUTBOX_BACKLOG] = OM_SEV_WARNING,
    [OM_ALERT_CLOCK_SKEW] = OM_SEV_WARNING,
    [OM_ALERT_REJECTS] = OM_SEV_WARNING,
};

static void overlay(om_alert_settings *s, const om_alert_params *p)
{
    if (p->enabled.set)
        s->enabled = p->enabled.v != 0;
    if (p->severity.set)
        s->severity = (om_alert_severity)(int)p->severity.v;
    if (p->events.set)
        s->events = (unsigned)p->events.v;
    for (int i = 0; i < OM_AP__COUNT; i++)
        if (p->p[i].set)
            s->p[i] = p->p[i].v;
}

static const om_alert_site_cfg *site_cfg(const om_alert_policy *policy, const char *site)
{
    for (size_t i = 0; policy && site && i < policy->nsites; i++)
        if (policy->sites[i].site && strcmp(policy->sites[i].site, site) == 0)
            return &policy->sites[i];
    return NULL;
}

static const om_alert_subject *subject_cfg(const om_alert_site_cfg *sc, const char *id,
                                           bool gateway)
{
    size_t n = sc ? (gateway ? sc->ngateways : sc->nmeters) : 0;
    const om_alert_subject *subs = sc ? (gateway ? sc->gateways : sc->meters) : NULL;
    for (size_t i = 0; id && i < n; i++)
        if (subs[i].id && strcmp(subs[i].id, id) == 0)
            return &subs[i];
    return NULL;
}

/* A clear threshold beyond the firing one (possible when they come from
 * different places) is taken as the firing one. */
static void clamp_clear(om_alert_settings *s)
{
    static const om_alert_param pairs[][2] = {
        {OM_AP_FLOW_M3H, OM_AP_CLEAR_FLOW_M3H}, {OM_AP_PERCENT, OM_AP_CLEAR_PERCENT},
        {OM_AP_SHARE, OM_AP_CLEAR_SHARE},       {OM_AP_SECONDS, OM_AP_CLEAR_SECONDS},
        {OM_AP_INTERVALS, OM_AP_CLEAR_INTERVALS}, {OM_AP_BASELINE_NIGHTS, OM_AP_MIN_BASELINE_NIGHTS},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (s->p[pairs[i][1]] > s->p[pairs[i][0]])
            s->p[pairs[i][1]] = s->p[pairs[i][0]];
}

static void settings_for(const om_alert_policy *policy, const char *site, om_alert_rule rule,
                         const char *subject, om_alert_settings *out, bool *subject_enabled)
{
    memset(out, 0, sizeof *out);
    out->enabled = true;
    out->severity = builtin_severity[rule];
    out->events = OM_ALERT_EV_RESET | OM_ALERT_EV_GLITCH | OM_ALERT_EV_BACKSTEP | OM_ALERT_EV_JUMP;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (builtins[i].rule == rule)
            out->p[builtins[i].param] = builtins[i].value;
    if (policy)
        overlay(out, &policy->defaults.r[rule]);
    const om_alert_site_cfg *sc = site_cfg(policy, site);
    if (sc)
        overlay(out, &sc->rules.r[rule]);
    const om_alert_subject *sub = subject_cfg(sc, subject, om_alert_rule_is_gateway(rule));
    if (sub)
        overlay(out, &sub->rules.r[rule]);
    if (subject_enabled)
        *subject_enabled = sub && sub->rules.r[rule].enabled.set && sub->rules.r[rule].enabled.v;
    clamp_clear(out);
}

void om_alert_settings_for(const om_alert_policy *policy, const om_site *site,
                           om_alert_rule rule, const char *subject, om_alert_settings *out)
{
    settings_for(policy, site ? site->site : NULL, rule, subject, out, NULL);
}

bool om_alert_meter_rule(const om_alert_policy *policy, const om_site *site,
                         const om_meter *meter, om_alert_rule rule, om_alert_settings *out)
{
    if (om_alert_rule_is_gateway(rule) || !rule_suits_meter(rule, meter))
        return false;
    bool explicit_on;
    settings_for(policy, site->site, rule, meter->id, out, &explicit_on);
    if (!out->enabled)
        return false;
    bool by_role = true;
    if (rule == OM_ALERT_BASE_LOAD_RISE || rule == OM_ALERT_AFTER_HOURS_USE)
        by_role = meter->role == OM_ROLE_MAIN;
    return by_role || explicit_on;
}

void om_alert_calendar_for(const om_alert_policy *policy, const char *site,
                           om_alert_calendar *out)
{
    const om_alert_site_cfg *sc = site_cfg(policy, site);
    out->working_days = sc && sc->working_days ? sc->working_days : 0x1Fu; /* Monday to Friday */
    out->holidays = sc ? sc->holidays : NULL;
    out->nholidays = sc ? sc->nholidays : 0;
}

bool om_alert_calendar_working(const om_alert_calendar *cal, om_date day)
{
    /* 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday. */
    int weekday = (int)(((int64_t)day % 7 + 7 + 3) % 7);
    if (!(cal->working_days & (1u << weekday)))
        return false;
    for (size_t i = 0; i < cal->nholidays; i++)
        if (cal->holidays[i] == day)
            return false;
    return true;
}
