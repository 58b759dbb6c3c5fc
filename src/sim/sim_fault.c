/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_fault.c - parsing and describing --fault METER=MODE.
 *
 * Numbers are parsed with strtoul/strtod and full end-pointer and range
 * checks: a typo in a drill must fail loudly, not simulate something else.
 */
#include "sim_fault.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/config/site.h"

#define MODES "timeout, exception:CODE, slow:MS, reset@TIME, rollover, glitch@TIME, leak:M3H, na, " \
              "leak:M3H@WHEN, baseload:KW[@WHEN], timeout@WHEN, offline@WHEN (WHEN: TIME or TIME/UNTIL)"

void om_sim_faults_init(om_sim_faults *f)
{
    memset(f, 0, sizeof *f);
    f->reset_at = OM_TIME_NONE;
    f->glitch_at = OM_TIME_NONE;
    f->leak_from = f->leak_until = OM_TIME_NONE;
    f->step_from = f->step_until = OM_TIME_NONE;
    f->timeout_from = f->timeout_until = OM_TIME_NONE;
    f->offline_from = f->offline_until = OM_TIME_NONE;
}

bool om_sim_fault_window(int64_t from, int64_t until, int64_t t)
{
    return (from == OM_TIME_NONE || t >= from) && (until == OM_TIME_NONE || t < until);
}

static int parse_flow(const char *s, double *out);

/* "TIME" or "TIME/UNTIL" (ISO 8601; UNTIL after TIME). */
static int parse_when(const char *text, int64_t *from, int64_t *until, char *err, size_t errlen)
{
    char buf[96];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (om_parse_iso8601(buf, from) != 0 || (slash && om_parse_iso8601(slash + 1, until) != 0)) {
        snprintf(err, errlen, "bad time '%s' (expected ISO 8601 TIME or TIME/UNTIL, e.g. "
                 "2024-03-01T02:00:00Z/2024-03-08T00:00:00Z)", text);
        return -1;
    }
    if (!slash)
        *until = OM_TIME_NONE;
    else if (*until <= *from) {
        snprintf(err, errlen, "bad time '%s': the end is not after the start", text);
        return -1;
    }
    return 0;
}

static int parse_kw(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v <= 0.0 || v > 100000.0)
        return -1;
    *out = v;
    return 0;
}

/* leak:M3H[@WHEN] and baseload:KW[@WHEN]. */
static int parse_amount_when(const char *mode, size_t prefix, bool leak, om_sim_faults *f,
                             char *err, size_t errlen)
{
    char amount[64];
    snprintf(amount, sizeof amount, "%s", mode + prefix);
    char *at = strchr(amount, '@');
    if (at)
        *at = '\0';
    int bad = leak ? parse_flow(amount, &f->leak_m3h) : parse_kw(amount, &f->step_kw);
    if (bad != 0) {
        snprintf(err, errlen, leak ? "bad leak flow '%s' (expected m³/h, 0 < flow <= 1000)"
                                   : "bad base load step '%s' (expected kW, 0 < step <= 100000)",
                 amount);
        return -1;
    }
    if (!at)
        return 0;
    const char *when = strchr(mode, '@') + 1;
    return leak ? parse_when(when, &f->leak_from, &f->leak_until, err, errlen)
                : parse_when(when, &f->step_from, &f->step_until, err, errlen);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_flow(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v <= 0.0 || v > 1000.0)
        return -1;
    *out = v;
    return 0;
}

static int parse_mode(const char *mode, om_sim_faults *f, char *err, size_t errlen)
{
    if (strcmp(mode, "timeout") == 0) {
        f->timeout = true;
    } else if (strncmp(mode, "timeout@", 8) == 0) {
        return parse_when(mode + 8, &f->timeout_from, &f->timeout_until, err, errlen);
    } else if (strncmp(mode, "offline@", 8) == 0) {
        f->offline = true;
        return parse_when(mode + 8, &f->offline_from, &f->offline_until, err, errlen);
    } else if (strncmp(mode, "baseload:", 9) == 0) {
        return parse_amount_when(mode, 9, false, f, err, errlen);
    } else if (strcmp(mode, "rollover") == 0) {
        f->rollover = true;
    } else if (strcmp(mode, "na") == 0) {
        f->na = true;
    } else if (strncmp(mode, "exception:", 10) == 0) {
        if (parse_ulong(mode + 10, 1, 11, &f->exception) != 0) {
            snprintf(err, errlen, "bad exception code '%s' (expected 1..11)", mode + 10);
            return -1;
        }
    } else if (strncmp(mode, "slow:", 5) == 0) {
        if (parse_ulong(mode + 5, 0, 600000, &f->slow_ms) != 0) {
            snprintf(err, errlen, "bad delay '%s' (expected milliseconds 0..600000)", mode + 5);
            return -1;
        }
    } else if (strncmp(mode, "reset@", 6) == 0 || strncmp(mode, "glitch@", 7) == 0) {
        bool reset = mode[0] == 'r';
        const char *when = strchr(mode, '@') + 1;
        if (om_parse_iso8601(when, reset ? &f->reset_at : &f->glitch_at) != 0) {
            snprintf(err, errlen, "bad time '%s' (expected ISO 8601, e.g. 2024-03-01T02:00:00Z)",
                     when);
            return -1;
        }
    } else if (strncmp(mode, "leak:", 5) == 0) {
        return parse_amount_when(mode, 5, true, f, err, errlen);
    } else {
        snprintf(err, errlen, "unknown fault mode '%s' (expected one of %s)", mode, MODES);
        return -1;
    }
    return 0;
}

int om_sim_fault_parse(const char *text, char *meter, size_t meterlen, om_sim_faults *f,
                       char *err, size_t errlen)
{
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text || eq[1] == '\0') {
        snprintf(err, errlen, "bad fault '%s' (expected METER=MODE)", text);
        return -1;
    }
    size_t n = (size_t)(eq - text);
    if (n >= meterlen) {
        snprintf(err, errlen, "bad fault '%s': meter id too long", text);
        return -1;
    }
    memcpy(meter, text, n);
    meter[n] = '\0';
    char reason[400];
    if (parse_mode(eq + 1, f, reason, sizeof reason) != 0) {
        snprintf(err, errlen, "fault for meter '%s': %s", meter, reason);
        return -1;
    }
    return 0;
}

/* Adds ", item" (or "item" first) to buf, truncating at len. */
static void append(char *buf, size_t len, const char *item)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

/* "@FROM" or "@FROM/UNTIL" after item, when the fault has a window. */
static void append_when(char *item, size_t len, int64_t from, int64_t until)
{
    char a[40], b[40];
    if (from == OM_TIME_NONE)
        return;
    size_t used = strlen(item);
    if (until == OM_TIME_NONE)
        snprintf(item + used, len - used, "@%s", om_format_iso8601(from, a, sizeof a));
    else
        snprintf(item + used, len - used, "@%s/%s", om_format_iso8601(from, a, sizeof a),
                 om_format_iso8601(until, b, sizeof b));
}

char *om_sim_faults_describe(const om_sim_faults *f, char *buf, size_t len)
{
    char item[128], when[40];
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (f->timeout)
        append(buf, len, "timeout");
    if (f->exception) {
        snprintf(item, sizeof item, "exception:%u", f->exception);
        append(buf, len, item);
    }
    if (f->slow_ms) {
        snprintf(item, sizeof item, "slow:%u", f->slow_ms);
        append(buf, len, item);
    }
    if (f->reset_at != OM_TIME_NONE) {
        snprintf(item, sizeof item, "reset@%s", om_format_iso8601(f->reset_at, when, sizeof when));
        append(buf, len, item);
    }
    if (f->rollover)
        append(buf, len, "rollover");
    if (f->glitch_at != OM_TIME_NONE) {
        snprintf(item, sizeof item, "glitch@%s",
                 om_format_iso8601(f->glitch_at, when, sizeof when));
        append(buf, len, item);
    }
    if (f->leak_m3h > 0.0) {
        snprintf(item, sizeof item, "leak:%g", f->leak_m3h);
        append_when(item, sizeof item, f->leak_from, f->leak_until);
        append(buf, len, item);
    }
    if (f->na)
        append(buf, len, "na");
    if (f->step_kw > 0.0) {
        snprintf(item, sizeof item, "baseload:%g", f->step_kw);
        append_when(item, sizeof item, f->step_from, f->step_until);
        append(buf, len, item);
    }
    if (f->timeout_from != OM_TIME_NONE || f->timeout_until != OM_TIME_NONE) {
        snprintf(item, sizeof item, "timeout");
        append_when(item, sizeof item, f->timeout_from, f->timeout_until);
        append(buf, len, item);
    }
    if (f->offline) {
        snprintf(item, sizeof item, "offline");
        append_when(item, sizeof item, f->offline_from, f->offline_until);
        append(buf, len, item);
    }
    return buf;
}
