/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_output.c - files written whole or not at all, and --year.
 */
#include "cli_output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void om_cli_temp_name(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "%s.%ld.tmp", path, (long)getpid());
}

bool om_cli_special_target(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
}

/* A device or FIFO: written as it is, without fsync (which a device may
 * refuse) and without a rename. */
static int write_in_place(const char *cmd, const char *path, int (*fn)(void *user, FILE *out),
                          void *user)
{
    FILE *f = fopen(path, "wb");
    int rc = f && fn(user, f) == 0 && fflush(f) == 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "officemeter %s: %s: %s\n", cmd, path, strerror(errno));
    return rc;
}

static int copy_stream(void *user, FILE *out)
{
    FILE *in = user;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return -1;
    return ferror(in) ? -1 : 0;
}

int om_cli_copy_into(const char *cmd, const char *src, const char *path)
{
    FILE *in = fopen(src, "rb");
    if (!in) {
        fprintf(stderr, "officemeter %s: %s: %s\n", cmd, src, strerror(errno));
        return -1;
    }
    int rc = write_in_place(cmd, path, copy_stream, in);
    fclose(in);
    return rc;
}

int om_cli_write_output(const char *cmd, const char *path, int (*fn)(void *user, FILE *out),
                        void *user)
{
    if (om_cli_special_target(path))
        return write_in_place(cmd, path, fn, user);
    if (!path) {
        if (fn(user, stdout) < 0 || fflush(stdout) != 0) {
            fprintf(stderr, "officemeter %s: writing: %s\n", cmd, strerror(errno));
            return -1;
        }
        return 0;
    }
    char tmp[4200];
    om_cli_temp_name(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "officemeter %s: %s: %s\n", cmd, tmp, strerror(errno));
        return -1;
    }
    int rc = fn(user, f) == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "officemeter %s: %s: %s\n", cmd, path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}

int om_cli_parse_year(const char *cmd, const char *text, int *year)
{
    char *end;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || end == text || *end || v < 1990 || v > 2100) {
        fprintf(stderr, "officemeter %s: --year: %s (got \"%s\", expected a year from 1990 to "
                        "2100)\n", cmd, text ? "invalid year" : "missing", text ? text : "");
        return -1;
    }
    *year = (int)v;
    return 0;
}
