/* SPDX-License-Identifier: Apache-2.0 */
/*
 * om_log.h - the daemons' log: one line per event on stderr, with a level.
 *
 * journald (or whoever runs the daemon) collects stderr, so there is no
 * syslog or file handling here. Each line is "LEVEL: message"; when stderr
 * is the journal (JOURNAL_STREAM set), lines get the "<N>" priority prefix
 * that journald understands instead.
 *
 * Repeated failures are rate-limited, not silenced: om_log_limited() keeps a
 * small table of keys (e.g. "meter sh-main timeout"); the first event of a
 * key is logged, later ones at most once per interval with "(N more since)",
 * and om_log_recovered() logs once when the condition clears.
 *
 * Thread-safe: one mutex around the table and each write.
 */
#ifndef OFFICEMETER_OM_LOG_H
#define OFFICEMETER_OM_LOG_H

#include <stdint.h>

typedef enum { OM_LOG_ERROR, OM_LOG_WARNING, OM_LOG_INFO, OM_LOG_DEBUG } om_log_level;

/* "error", "warning", "info", "debug"; returns 0, or -1 for anything else. */
int om_log_level_parse(const char *name, om_log_level *out);
void om_log_set_level(om_log_level level);
/* Prefix every line with the program name ("officemeter-agent: "). NULL: none. */
void om_log_set_ident(const char *ident);

void om_log(om_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs under `key` at most once per interval_ms (the first time always).
 * Returns 1 when the line was written, 0 when it was counted only. */
int om_log_limited(const char *key, int64_t interval_ms, om_log_level level, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
/* The condition of `key` is over: if it was logged, log `fmt` once and
 * forget the key; otherwise do nothing. */
void om_log_recovered(const char *key, om_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Default rate-limit interval for repeated failures. */
#define OM_LOG_REPEAT_MS (5 * 60 * 1000)

#endif
