/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agg_hold.h - what the daemon does while the database cannot be written
 * (disk full, I/O error): it stops storing and acknowledging, says so once,
 * holds what it can in memory, and tells `officemeter status` through the
 * state file beside the database (store/writer_state.h).
 *
 *          commit fails: database unavailable (agg_hold_begin)
 *   STORING ------------------------------------------------> HELD
 *      ^                                                        |
 *      |   a retry (every AGG_HOLD_RETRY_MS: checkpoint that    |
 *      +---- truncates the log, then the held group) commits ---+
 *            (agg_hold_end)
 *
 * Nothing is lost by holding: only what is committed is acknowledged, so
 * every gateway keeps its polls and sends again what was neither held nor
 * committed.
 */
#ifndef OFFICEMETER_AGG_HOLD_H
#define OFFICEMETER_AGG_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "officemeter/store/writer_state.h"

/* How often a held daemon tries the database again. */
#define AGG_HOLD_RETRY_MS 1000
/* What a held group may grow to in memory; beyond, messages are left to
 * their gateways (not acknowledged, so sent again). */
#define AGG_HOLD_MAX_MESSAGES 100000
#define AGG_HOLD_MAX_BYTES (64u * 1024 * 1024)

typedef struct {
    bool held;
    int64_t since_wall_ms, since_mono_ms;
    int64_t next_retry_ms;  /* monotonic */
    int64_t next_state_ms;  /* monotonic: the next refresh of the state file */
    uint64_t not_held;      /* messages left to their gateways while held */
    char reason[256];
    const char *database;
    om_writer_state_file *file;
} agg_hold;

/* Opens the state file (a warning when it cannot be: status then cannot
 * tell) and records "storing". */
void agg_hold_init(agg_hold *h, const char *database);
/* The database cannot be written (reason): logs it once and records it.
 * A no-op while already held. */
void agg_hold_begin(agg_hold *h, const char *reason, size_t held_messages);
/* Whether a retry is due now (monotonic ms). */
bool agg_hold_retry_due(agg_hold *h, int64_t now_ms);
/* A message arrived while held and there is no room for it: counted. */
void agg_hold_leave(agg_hold *h);
/* Still held after a retry: refreshes the state file now and then and
 * reminds the log every 5 minutes. */
void agg_hold_still(agg_hold *h, size_t held_messages, const char *reason);
/* The held messages were committed (committed of them): logs the return,
 * records "storing". A no-op when not held. */
void agg_hold_end(agg_hold *h, size_t committed);
/* A clean stop: records "stopped" (and says what stayed unstored). */
void agg_hold_stop(agg_hold *h, size_t held_messages);
void agg_hold_free(agg_hold *h);

#endif
