/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agg_hold.c - storing, or held while the database cannot be written
 * (agg_hold.h): the log lines, the state file, the retry clock.
 *
 * One error line when holding starts, one reminder every 5 minutes, one
 * line when storing resumes: a full disk used to log an error per message
 * (7 000 lines in 3 minutes).
 */
#include "agg_hold.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/base/clock.h"
#include "officemeter/config/aggcfg.h"
#include "officemeter/daemon/log.h"

/* How often the state file is refreshed while held (counts move). */
#define STATE_EVERY_MS 5000

static void record(agg_hold *h, om_writer_phase phase, size_t held_messages)
{
    if (!h->file)
        return;
    om_writer_state s = {
        .pid = (long)getpid(),
        .phase = phase,
        .since_ms = phase == OM_WRITER_NOT_STORING ? h->since_wall_ms : om_wall_ms(),
        .updated_ms = om_wall_ms(),
        .held = held_messages,
        .not_held = h->not_held,
    };
    snprintf(s.reason, sizeof s.reason, "%s", phase == OM_WRITER_NOT_STORING ? h->reason : "");
    if (om_writer_state_write(h->file, &s) < 0)
        om_log_limited("state file", OM_LOG_REPEAT_MS, OM_LOG_WARNING,
                       "%s-state not updated (%s): officemeter status may show an old state",
                       h->database, strerror(errno));
}

void agg_hold_init(agg_hold *h, const char *database)
{
    memset(h, 0, sizeof *h);
    h->database = database;
    /* The state file lies beside a SQLite file; a PostgreSQL database is
     * shared by several aggregators and has no folder here: none is kept
     * (each daemon's log says when it holds). */
    if (om_database_is_postgresql(database))
        return;
    char err[512];
    h->file = om_writer_state_open(database, err, sizeof err);
    if (!h->file)
        om_log(OM_LOG_WARNING, "%s (officemeter status cannot tell whether this daemon is "
               "storing)", err);
    record(h, OM_WRITER_STORING, 0);
}

void agg_hold_begin(agg_hold *h, const char *reason, size_t held_messages)
{
    if (h->held)
        return;
    h->held = true;
    h->since_wall_ms = om_wall_ms();
    h->since_mono_ms = om_mono_ms();
    h->next_retry_ms = h->since_mono_ms + AGG_HOLD_RETRY_MS;
    h->next_state_ms = h->since_mono_ms + STATE_EVERY_MS;
    h->not_held = 0;
    snprintf(h->reason, sizeof h->reason, "%s", reason);
    om_log(OM_LOG_ERROR,
           "cannot write the database (%s): not storing and not acknowledging from now on; "
           "%zu messages held in memory, and newer ones while there is room; the gateways "
           "keep everything unacknowledged and send it again; trying again every %d ms",
           reason, held_messages, AGG_HOLD_RETRY_MS);
    record(h, OM_WRITER_NOT_STORING, held_messages);
}

bool agg_hold_retry_due(agg_hold *h, int64_t now_ms)
{
    if (!h->held || now_ms < h->next_retry_ms)
        return false;
    h->next_retry_ms = now_ms + AGG_HOLD_RETRY_MS;
    return true;
}

void agg_hold_leave(agg_hold *h)
{
    h->not_held++;
}

void agg_hold_still(agg_hold *h, size_t held_messages, const char *reason)
{
    int64_t now = om_mono_ms();
    snprintf(h->reason, sizeof h->reason, "%s", reason);
    if (now >= h->next_state_ms) {
        record(h, OM_WRITER_NOT_STORING, held_messages);
        h->next_state_ms = now + STATE_EVERY_MS;
    }
    /* The first call of a key always logs: the 5 minutes start now. */
    if (now - h->since_mono_ms >= OM_LOG_REPEAT_MS)
        om_log_limited("still held", OM_LOG_REPEAT_MS, OM_LOG_ERROR,
                       "still not storing after %" PRId64 " s: %s; %zu messages held, %" PRIu64
                       " left to their gateways", (now - h->since_mono_ms) / 1000, reason,
                       held_messages, h->not_held);
}

void agg_hold_end(agg_hold *h, size_t committed)
{
    if (!h->held)
        return;
    h->held = false;
    om_log(OM_LOG_INFO,
           "the database can be written again after %.1f s: committed the %zu messages held; "
           "storing and acknowledging again (%" PRIu64 " messages were left to their gateways, "
           "which send them again)",
           (double)(om_mono_ms() - h->since_mono_ms) / 1000.0, committed, h->not_held);
    om_log_recovered("still held", OM_LOG_INFO, "storing again");
    record(h, OM_WRITER_STORING, 0);
}

void agg_hold_stop(agg_hold *h, size_t held_messages)
{
    if (h->held)
        om_log(OM_LOG_ERROR, "stopping while the database cannot be written: %zu messages "
               "held were not stored nor acknowledged (their gateways send them again)",
               held_messages);
    h->held = false;
    record(h, OM_WRITER_STOPPED, 0);
}

void agg_hold_free(agg_hold *h)
{
    om_writer_state_close(h->file);
    h->file = NULL;
}
