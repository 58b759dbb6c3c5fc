/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer_state.c - the aggregator's storing state beside the database
 * (writer_state.h): written in place at a fixed size, read by the CLI.
 */
#include "officemeter/store/writer_state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct om_writer_state_file {
    int fd;
};

static const char *const phase_names[] = {"storing", "not_storing", "stopped"};

const char *om_writer_phase_name(om_writer_phase phase)
{
    return (unsigned)phase < sizeof phase_names / sizeof phase_names[0] ? phase_names[phase]
                                                                        : "unknown";
}

static int state_path(const char *database, char *buf, size_t len)
{
    return snprintf(buf, len, "%s-state", database) < (int)len ? 0 : -1;
}

/* The text of s, padded with newlines to OM_WRITER_STATE_BYTES. */
static void format_state(const om_writer_state *s, char *buf)
{
    char reason[sizeof s->reason];
    snprintf(reason, sizeof reason, "%s", s->reason);
    for (char *p = reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    int n = snprintf(buf, OM_WRITER_STATE_BYTES,
                     "officemeter-writer-state 1\npid %ld\nstate %s\nsince %" PRId64
                     "\nupdated %" PRId64 "\nheld %" PRIu64 "\nnot_held %" PRIu64
                     "\nreason %s\n",
                     s->pid, om_writer_phase_name(s->phase), s->since_ms, s->updated_ms, s->held,
                     s->not_held, reason);
    size_t used = n < 0 ? 0 : (size_t)n < OM_WRITER_STATE_BYTES ? (size_t)n
                                                                : OM_WRITER_STATE_BYTES - 1;
    memset(buf + used, '\n', OM_WRITER_STATE_BYTES - used);
}

static int write_all(int fd, const char *buf)
{
    size_t done = 0;
    while (done < OM_WRITER_STATE_BYTES) {
        ssize_t n = pwrite(fd, buf + done, OM_WRITER_STATE_BYTES - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

om_writer_state_file *om_writer_state_open(const char *database, char *err, size_t errlen)
{
    char path[4096];
    if (state_path(database, path, sizeof path) < 0) {
        snprintf(err, errlen, "%s-state: path too long", database);
        return NULL;
    }
    om_writer_state_file *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    f->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    /* Every byte written now, so that later writes need no new space. */
    char buf[OM_WRITER_STATE_BYTES];
    om_writer_state blank = {.pid = (long)getpid(), .phase = OM_WRITER_STORING};
    format_state(&blank, buf);
    if (f->fd < 0 || write_all(f->fd, buf) < 0 || ftruncate(f->fd, OM_WRITER_STATE_BYTES) < 0 ||
        fsync(f->fd) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        om_writer_state_close(f);
        return NULL;
    }
    return f;
}

int om_writer_state_write(om_writer_state_file *f, const om_writer_state *s)
{
    if (!f)
        return 0;
    char buf[OM_WRITER_STATE_BYTES];
    format_state(s, buf);
    return write_all(f->fd, buf);
}

void om_writer_state_close(om_writer_state_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

/* "key value" of one line into s; unknown keys are ignored. */
static void parse_line(char *line, om_writer_state *s, int *fields)
{
    char *space = strchr(line, ' ');
    if (!space)
        return;
    *space = '\0';
    const char *value = space + 1;
    if (strcmp(line, "pid") == 0) {
        s->pid = strtol(value, NULL, 10);
        (*fields)++;
    } else if (strcmp(line, "state") == 0) {
        for (size_t i = 0; i < sizeof phase_names / sizeof phase_names[0]; i++)
            if (strcmp(value, phase_names[i]) == 0) {
                s->phase = (om_writer_phase)i;
                (*fields)++;
            }
    } else if (strcmp(line, "since") == 0) {
        s->since_ms = strtoll(value, NULL, 10);
    } else if (strcmp(line, "updated") == 0) {
        s->updated_ms = strtoll(value, NULL, 10);
    } else if (strcmp(line, "held") == 0) {
        s->held = strtoull(value, NULL, 10);
    } else if (strcmp(line, "not_held") == 0) {
        s->not_held = strtoull(value, NULL, 10);
    } else if (strcmp(line, "reason") == 0) {
        snprintf(s->reason, sizeof s->reason, "%s", value);
    }
}

int om_writer_state_read(const char *database, om_writer_state *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    if (state_path(database, path, sizeof path) < 0) {
        snprintf(err, errlen, "%s-state: path too long", database);
        return -1;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int fields = 0, lines = 0;
    bool ours = false;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (lines++ == 0)
            ours = strcmp(line, "officemeter-writer-state 1") == 0;
        else if (ours)
            parse_line(line, out, &fields);
    }
    fclose(fp);
    if (!ours || fields < 2) {
        snprintf(err, errlen, "%s: not a state file of officemeter-aggregator", path);
        return -1;
    }
    return 1;
}
