/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alertcfg.h - the alert policy (sites/alerts.yaml): which rules apply with
 * which thresholds, per site and per meter or gateway, each site's working
 * days and holidays, and where alerts are delivered.
 *
 * Every rule has a stable code (om_alert_rule_name) and built-in defaults
 * that work for an office; the file only says what differs. A parameter is
 * resolved from the most specific place that sets it:
 *
 *     built-in default  <-  defaults:  <-  sites[].rules  <-  sites[].meters[].rules
 *                                                         <-  sites[].gateways[].rules
 *
 * Format and meaning of every key: docs/alerts.md. Loaded like every other
 * configuration (yamlcfg): unknown keys and bad values are errors reported
 * as file:line:col: key: message, all of them.
 */
#ifndef OFFICEMETER_CONFIG_ALERTCFG_H
#define OFFICEMETER_CONFIG_ALERTCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/base/calendar.h"
#include "officemeter/base/diag.h"
#include "officemeter/config/site.h"

/* The rules, by stable code (the order is that of docs/alerts.md). */
typedef enum {
    OM_ALERT_METER_STALE,
    OM_ALERT_GATEWAY_OFFLINE,
    OM_ALERT_WATER_NIGHT_FLOW,
    OM_ALERT_WATER_CONTINUOUS_FLOW,
    OM_ALERT_BASE_LOAD_RISE,
    OM_ALERT_AFTER_HOURS_USE,
    OM_ALERT_COUNTER_ANOMALY,
    OM_ALERT_OUTBOX_BACKLOG,
    OM_ALERT_CLOCK_SKEW,
    OM_ALERT_REJECTS,
    OM_ALERT__COUNT
} om_alert_rule;

typedef enum { OM_SEV_INFO, OM_SEV_WARNING, OM_SEV_CRITICAL } om_alert_severity;

/* The numeric parameters of the rules. Each rule takes only its own (see
 * om_alert_rule_takes); times of day are minutes after local midnight. */
typedef enum {
    OM_AP_INTERVALS,          /* meter_stale: poll intervals without a reading */
    OM_AP_CLEAR_INTERVALS,    /* meter_stale: resolved when the latest is this fresh */
    OM_AP_OFFLINE_S,          /* gateway_offline: status "offline" for this long */
    OM_AP_NO_HEALTH_S,        /* gateway_offline: no health message for this long */
    OM_AP_NIGHT_FROM,         /* night window start, minutes of the local day */
    OM_AP_NIGHT_TO,           /* night window end (before the start: the next day) */
    OM_AP_STEP_MINUTES,       /* water_night_flow: the minimum is over steps this long */
    OM_AP_FLOW_M3H,           /* water_night_flow: a night above this is a bad night */
    OM_AP_CLEAR_FLOW_M3H,     /* ... at or below this, a clear night */
    OM_AP_NIGHTS,             /* consecutive bad nights that fire */
    OM_AP_CLEAR_NIGHTS,       /* consecutive clear nights that resolve */
    OM_AP_HOURS,              /* water_continuous_flow: the window */
    OM_AP_ZERO_M3,            /* ... an hour with at most this much is a zero hour */
    OM_AP_CLEAR_HOURS,        /* consecutive zero hours (anomaly: hours without one) that resolve */
    OM_AP_PERCENT,            /* base_load_rise: above the baseline by this much ... */
    OM_AP_KW,                 /* ... and by at least this many kW */
    OM_AP_CLEAR_PERCENT,      /* ... back within this much of it: a clear night */
    OM_AP_BASELINE_NIGHTS,    /* nights the median is taken over */
    OM_AP_MIN_BASELINE_NIGHTS, /* nights needed before judging at all */
    OM_AP_SHARE,              /* after_hours_use: a day off above this share of a working day */
    OM_AP_CLEAR_SHARE,        /* ... at or below this: a clear day off */
    OM_AP_REFERENCE_DAYS,     /* working days the reference median is taken over */
    OM_AP_MINUTES,            /* outbox_backlog: growing for this long */
    OM_AP_MIN_GROWTH,         /* ... by at least this many polls */
    OM_AP_SECONDS,            /* clock_skew: off by more than this */
    OM_AP_CLEAR_SECONDS,      /* ... resolved within this */
    OM_AP_PER_HOUR,           /* rejects: more than this many per hour ... */
    OM_AP_WINDOW_MINUTES,     /* ... over a window this long */
    OM_AP_SETTLE_MINUTES,     /* data-time rules: readings past a period's end before it is judged */
    OM_AP__COUNT
} om_alert_param;

/* counter_anomaly's `events`: a set of consumption-engine event kinds. */
enum {
    OM_ALERT_EV_RESET = 1u << 0,
    OM_ALERT_EV_GLITCH = 1u << 1,
    OM_ALERT_EV_BACKSTEP = 1u << 2,
    OM_ALERT_EV_JUMP = 1u << 3,
    OM_ALERT_EV_WRAP = 1u << 4,
};

/* A value the file may or may not set. */
typedef struct {
    double v;
    bool set;
} om_alert_opt;

/* One rule's settings in one place of the file. */
typedef struct {
    om_alert_opt enabled;  /* 0 or 1 */
    om_alert_opt severity; /* om_alert_severity */
    om_alert_opt events;   /* counter_anomaly: OM_ALERT_EV_* bits */
    om_alert_opt p[OM_AP__COUNT];
} om_alert_params;

/* The `rules:` mapping: one entry per rule code. */
typedef struct {
    om_alert_params r[OM_ALERT__COUNT];
} om_alert_ruleset;

typedef struct {
    char *id; /* meter or gateway id */
    om_alert_ruleset rules;
    size_t line;
} om_alert_subject;

typedef struct {
    char *site;
    unsigned working_days; /* bit 0 Monday ... bit 6 Sunday; 0: not set (Monday to Friday) */
    om_date *holidays;     /* local dates, as written */
    size_t nholidays;
    om_alert_ruleset rules;
    om_alert_subject *meters;
    size_t nmeters;
    om_alert_subject *gateways;
    size_t ngateways;
    size_t line;
} om_alert_site_cfg;

typedef struct {
    char *url;
    unsigned timeout_s;
    om_alert_severity min_severity; /* changes of lower severity are not sent */
} om_alert_webhook;

typedef struct {
    char *url;              /* base URL; POST {url}/api/v2/alerts; NULL: none */
    unsigned timeout_s;
    unsigned ends_after_s;  /* an open alert's endsAt: this long after each send */
    unsigned resend_resolved_s; /* resolved alerts are sent again for this long */
} om_alert_am;

typedef struct {
    bool mqtt; /* retained officemeter/v1/{site}/alerts and the event topic */
    om_alert_webhook *webhooks;
    size_t nwebhooks;
    om_alert_am alertmanager;
    unsigned retry_min_s; /* webhook backoff: min_s x 2^(failures - 1), at most max_s */
    unsigned retry_max_s;
} om_alert_delivery;

typedef struct {
    om_alert_ruleset defaults;
    om_alert_site_cfg *sites;
    size_t nsites;
    om_alert_delivery delivery;
    char *path; /* NULL: the built-in policy (no file) */
} om_alert_policy;

/* Loads sites/alerts.yaml. When sites is non-NULL, the sites, meters and
 * gateways it names must be declared there (and a meter's rules must suit
 * it). Returns 0, or -1 with every error in diag (out must still be freed). */
int om_alert_policy_load(const char *path, const om_site *sites, size_t nsites,
                         om_alert_policy *out, om_diag *diag);
/* The built-in policy: every default, no overrides, MQTT delivery only. */
void om_alert_policy_builtin(om_alert_policy *out);
void om_alert_policy_free(om_alert_policy *policy);

/* ---- rules and their parameters ---- */

const char *om_alert_rule_name(om_alert_rule rule);
int om_alert_rule_from_name(const char *name, om_alert_rule *out);
const char *om_alert_severity_name(om_alert_severity sev);
int om_alert_severity_from_name(const char *name, om_alert_severity *out);
const char *om_alert_param_name(om_alert_param p);
/* True when the rule takes parameter p. */
bool om_alert_rule_takes(om_alert_rule rule, om_alert_param p);
/* True for rules about a gateway (gateway_offline, outbox_backlog,
 * clock_skew, rejects); the others are about a meter. */
bool om_alert_rule_is_gateway(om_alert_rule rule);
/* True for rules judged on the readings' own time (periods of data), false
 * for those judged on the clock (meter_stale and the gateway rules). */
bool om_alert_rule_is_data_time(om_alert_rule rule);

/* Everything a rule needs for one subject, every parameter resolved. */
typedef struct {
    bool enabled;
    om_alert_severity severity;
    unsigned events; /* counter_anomaly */
    double p[OM_AP__COUNT];
} om_alert_settings;

/* Resolves a rule's settings for a meter or gateway (subject, may be NULL
 * for the site as a whole) of a site. A rule applies by default to the
 * meters that suit it (docs/alerts.md, "Rules"); `enabled: true` on a meter
 * extends it to a meter of the right utility that it would skip (a sub
 * meter for base_load_rise and after_hours_use). */
void om_alert_settings_for(const om_alert_policy *policy, const om_site *site,
                           om_alert_rule rule, const char *subject, om_alert_settings *out);
/* True when the rule applies to the meter (its utility and role, and the
 * policy's enabled), with *out its settings. */
bool om_alert_meter_rule(const om_alert_policy *policy, const om_site *site,
                         const om_meter *meter, om_alert_rule rule, om_alert_settings *out);

/* A site's calendar for after_hours_use: working days and holidays. */
typedef struct {
    unsigned working_days; /* bit 0 Monday ... bit 6 Sunday */
    const om_date *holidays;
    size_t nholidays;
} om_alert_calendar;

void om_alert_calendar_for(const om_alert_policy *policy, const char *site,
                           om_alert_calendar *out);
/* True when day is a working day (a working weekday, not a holiday). */
bool om_alert_calendar_working(const om_alert_calendar *cal, om_date day);

#endif
