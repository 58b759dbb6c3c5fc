/* SPDX-License-Identifier: Apache-2.0 */
/*
 * om_log.c - levelled, rate-limited logging to stderr (see om_log.h).
 *
 * The rate-limit table is small and linear: a gateway has tens of meters and
 * a handful of failure kinds, and a key is dropped once it recovers.
 */
#include "officemeter/daemon/log.h"
#include "officemeter/base/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIMIT_SLOTS 256
#define KEY_LEN 96

typedef struct {
    char key[KEY_LEN];
    int64_t last_ms;   /* monotonic time of the last line written */
    uint64_t suppressed;
    int used;
} limit_slot;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static om_log_level log_level = OM_LOG_INFO;
static char log_ident[64];
static limit_slot slots[LIMIT_SLOTS];

static const char *const level_names[] = {"error", "warning", "info", "debug"};
/* syslog priorities: err 3, warning 4, info 6, debug 7 */
static const int level_prio[] = {3, 4, 6, 7};

int om_log_level_parse(const char *name, om_log_level *out)
{
    for (int i = 0; i <= OM_LOG_DEBUG; i++) {
        if (name && strcmp(name, level_names[i]) == 0) {
            *out = (om_log_level)i;
            return 0;
        }
    }
    return -1;
}

void om_log_set_level(om_log_level level)
{
    pthread_mutex_lock(&log_lock);
    log_level = level;
    pthread_mutex_unlock(&log_lock);
}

void om_log_set_ident(const char *ident)
{
    pthread_mutex_lock(&log_lock);
    snprintf(log_ident, sizeof log_ident, "%s", ident ? ident : "");
    pthread_mutex_unlock(&log_lock);
}

/* Caller holds log_lock. One fprintf per line so lines never interleave. */
__attribute__((format(printf, 3, 0)))
static void write_line(om_log_level level, const char *suffix, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    static int journal = -1;
    if (journal < 0)
        journal = getenv("JOURNAL_STREAM") != NULL;
    if (journal)
        fprintf(stderr, "<%d>%s%s%s%s\n", level_prio[level], log_ident,
                log_ident[0] ? ": " : "", msg, suffix);
    else
        fprintf(stderr, "%s%s%s: %s%s\n", log_ident, log_ident[0] ? ": " : "",
                level_names[level], msg, suffix);
    fflush(stderr);
}

void om_log(om_log_level level, const char *fmt, ...)
{
    pthread_mutex_lock(&log_lock);
    if (level <= log_level) {
        va_list ap;
        va_start(ap, fmt);
        write_line(level, "", fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&log_lock);
}

static limit_slot *find_slot(const char *key, int create)
{
    limit_slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < LIMIT_SLOTS; i++) {
        limit_slot *s = &slots[i];
        if (s->used && strncmp(s->key, key, KEY_LEN - 1) == 0)
            return s;
        if (!s->used && !free_slot)
            free_slot = s;
        if (s->used && (!oldest || s->last_ms < oldest->last_ms))
            oldest = s;
    }
    if (!create)
        return NULL;
    /* A full table forgets its stalest key: at worst one extra line. */
    limit_slot *s = free_slot ? free_slot : oldest;
    memset(s, 0, sizeof *s);
    snprintf(s->key, KEY_LEN, "%s", key);
    s->used = 1;
    s->last_ms = INT64_MIN;
    return s;
}

int om_log_limited(const char *key, int64_t interval_ms, om_log_level level, const char *fmt, ...)
{
    int written = 0;
    pthread_mutex_lock(&log_lock);
    limit_slot *s = find_slot(key, 1);
    int64_t now = om_mono_ms();
    if (s->last_ms == INT64_MIN || now - s->last_ms >= interval_ms) {
        char suffix[80] = "";
        if (s->suppressed)
            snprintf(suffix, sizeof suffix, " (%llu more since the last report)",
                     (unsigned long long)s->suppressed);
        if (level <= log_level) {
            va_list ap;
            va_start(ap, fmt);
            write_line(level, suffix, fmt, ap);
            va_end(ap);
        }
        s->last_ms = now;
        s->suppressed = 0;
        written = 1;
    } else {
        s->suppressed++;
    }
    pthread_mutex_unlock(&log_lock);
    return written;
}

void om_log_recovered(const char *key, om_log_level level, const char *fmt, ...)
{
    pthread_mutex_lock(&log_lock);
    limit_slot *s = find_slot(key, 0);
    if (s) {
        if (level <= log_level) {
            va_list ap;
            va_start(ap, fmt);
            write_line(level, "", fmt, ap);
            va_end(ap);
        }
        s->used = 0;
    }
    pthread_mutex_unlock(&log_lock);
}
