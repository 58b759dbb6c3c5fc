/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer_state.h - whether the database's writer (the aggregator) is
 * storing, told through a small file beside the database, DATABASE-state.
 *
 * The database itself cannot say it: when the disk is full, nothing can be
 * written to it. The state file is created at full size when the daemon
 * starts, and every change is written over it in place, which needs no new
 * disk space; so the file says "not storing" precisely when that matters.
 * `officemeter status` reads it.
 *
 * The text is one "key value" per line (pid, state, since, updated, held,
 * not_held, reason), padded to OM_WRITER_STATE_BYTES.
 */
#ifndef OFFICEMETER_STORE_WRITER_STATE_H
#define OFFICEMETER_STORE_WRITER_STATE_H

#include <stddef.h>
#include <stdint.h>

#define OM_WRITER_STATE_BYTES 1024

typedef enum {
    OM_WRITER_STORING,     /* committing and acknowledging */
    OM_WRITER_NOT_STORING, /* the database cannot be written: nothing acknowledged */
    OM_WRITER_STOPPED,     /* a clean stop */
} om_writer_phase;

typedef struct {
    long pid;
    om_writer_phase phase;
    int64_t since_ms;   /* wall clock, ms UTC: when this phase began */
    int64_t updated_ms; /* when the file was last written */
    uint64_t held;      /* NOT_STORING: messages held in memory, to be committed */
    uint64_t not_held;  /* NOT_STORING: messages left to their gateways to resend */
    char reason[256];   /* NOT_STORING: why the database cannot be written */
} om_writer_state;

typedef struct om_writer_state_file om_writer_state_file;

/* Creates (or takes over) DATABASE-state at its full size. Returns NULL
 * with a reason in err (the daemon runs on without it). */
om_writer_state_file *om_writer_state_open(const char *database, char *err, size_t errlen);
/* Writes s over the file in place. Returns 0, or -1 with errno. */
int om_writer_state_write(om_writer_state_file *f, const om_writer_state *s);
/* Closes; NULL is a no-op. The file stays (its last state is the news). */
void om_writer_state_close(om_writer_state_file *f);

/* Reads DATABASE-state: 1 with *out filled, 0 when there is none, -1 when
 * it cannot be read or is not such a file (err says why). */
int om_writer_state_read(const char *database, om_writer_state *out, char *err, size_t errlen);
/* "storing", "not_storing", "stopped". */
const char *om_writer_phase_name(om_writer_phase phase);

#endif
