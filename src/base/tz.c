/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tz.c - time zone conversion through the C library and the TZ variable.
 *
 * glibc's mktime/localtime_r already implement the zone database, including
 * the POSIX rule strings that cover future years, so we borrow them: set
 * TZ under a mutex and convert. Conversions happen at period boundaries,
 * never per reading, but a dashboard page makes hundreds of them, and what
 * costs is changing zone: glibc reads the zone's file at each change. So
 * TZ stays on the last zone used instead of being switched back (nothing
 * in officemeter reads the process's own zone: logs and files are UTC),
 * converting in the zone TZ already names touches no file, and a zone name
 * checked once is not opened again to check it. (Reading zone files was
 * some 40 % of a site page computed cold: docs/web.md, Benchmark.)
 */
#include "officemeter/base/tz.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *zone_dir(void)
{
    const char *dir = getenv("TZDIR");
    return dir && *dir ? dir : "/usr/share/zoneinfo";
}

/* Zones found valid (the zone database does not lose a zone while we run;
 * a zone not found is looked for again each time). Under tz_lock. */
#define KNOWN_ZONES 64
static char known[KNOWN_ZONES][72];
static size_t nknown;

static bool is_known(const char *zone)
{
    for (size_t i = 0; i < nknown; i++)
        if (strcmp(known[i], zone) == 0)
            return true;
    return false;
}

static int check_file(const char *zone)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", zone_dir(), zone);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, fp);
    fclose(fp);
    return n == 4 && memcmp(magic, "TZif", 4) == 0 ? 0 : -1;
}

int om_tz_valid(const char *zone)
{
    if (!zone || !*zone || zone[0] == '/' || strstr(zone, "..") || strlen(zone) > 64)
        return -1;
    pthread_mutex_lock(&tz_lock);
    bool ok = is_known(zone);
    pthread_mutex_unlock(&tz_lock);
    if (ok)
        return 0;
    if (check_file(zone) < 0)
        return -1;
    pthread_mutex_lock(&tz_lock);
    if (!is_known(zone) && nknown < KNOWN_ZONES)
        snprintf(known[nknown++], sizeof known[0], "%s", zone);
    pthread_mutex_unlock(&tz_lock);
    return 0;
}

/* Sets TZ to zone, unless it names it already (then tzset() only compares
 * the string). Caller holds tz_lock. */
static void enter_zone(const char *zone)
{
    char spec[128];
    snprintf(spec, sizeof spec, ":%s", zone);
    const char *now = getenv("TZ");
    if (!now || strcmp(now, spec) != 0)
        setenv("TZ", spec, 1);
    tzset();
}

int om_tz_local_to_utc(const char *zone, int32_t days, int seconds_of_day, int64_t *ms)
{
    if (om_tz_valid(zone) < 0)
        return -1;
    int y;
    unsigned mo, d;
    om_civil_from_days(days, &y, &mo, &d);
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = seconds_of_day / 3600;
    tm.tm_min = seconds_of_day / 60 % 60;
    tm.tm_sec = seconds_of_day % 60;
    tm.tm_isdst = -1;
    pthread_mutex_lock(&tz_lock);
    enter_zone(zone);
    time_t t = mktime(&tm);
    pthread_mutex_unlock(&tz_lock);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

int om_tz_day_starts(const char *zone, int32_t first, size_t n, int64_t *out)
{
    if (om_tz_valid(zone) < 0)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&tz_lock);
    enter_zone(zone);
    for (size_t i = 0; i < n && rc == 0; i++) {
        int y;
        unsigned mo, d;
        om_civil_from_days(first + (int32_t)i, &y, &mo, &d);
        struct tm tm = {.tm_year = y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)d,
                        .tm_isdst = -1};
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            rc = -1;
        out[i] = (int64_t)t * 1000;
    }
    pthread_mutex_unlock(&tz_lock);
    return rc;
}

int om_tz_utc_to_local(const char *zone, int64_t ms, struct tm *out)
{
    if (om_tz_valid(zone) < 0)
        return -1;
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    pthread_mutex_lock(&tz_lock);
    enter_zone(zone);
    struct tm *r = localtime_r(&t, out);
    pthread_mutex_unlock(&tz_lock);
    return r ? 0 : -1;
}
