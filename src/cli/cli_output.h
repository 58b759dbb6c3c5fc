/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_output.h - what the commands that write files share: a file written
 * whole or not at all (a temporary name, flushed, renamed), and --year.
 */
#ifndef OFFICEMETER_CLI_OUTPUT_H
#define OFFICEMETER_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* Writes through fn to `path` via a temporary name in the same folder,
 * flushed to disk and renamed over it; to stdout when path is NULL; in
 * place when path is not a regular file (om_cli_special_target). Prints
 * "officemeter CMD: PATH: reason" and returns -1 on failure. */
int om_cli_write_output(const char *cmd, const char *path, int (*fn)(void *user, FILE *out),
                        void *user);

/* The temporary name om_cli_write_output uses for path. */
void om_cli_temp_name(const char *path, char *buf, size_t len);

/* True when path exists and is not a regular file: /dev/null, /dev/stdout,
 * a FIFO. Such a target is written in place: a rename would replace the
 * device itself with a file (as root, /dev/null for the whole machine). */
bool om_cli_special_target(const char *path);

/* Copies the file src into path (written in place, for special targets).
 * Prints "officemeter CMD: PATH: reason" and returns -1 on failure. */
int om_cli_copy_into(const char *cmd, const char *src, const char *path);

/* --year YYYY, 1990 to 2100. Prints the reason and returns -1 when missing
 * or invalid. */
int om_cli_parse_year(const char *cmd, const char *text, int *year);

#endif
