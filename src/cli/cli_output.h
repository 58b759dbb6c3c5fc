/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_output.h - what the commands that write files share: a file written
 * whole or not at all (a temporary name, flushed, renamed), and --year.
 */
#ifndef OFFICEMETER_CLI_OUTPUT_H
#define OFFICEMETER_CLI_OUTPUT_H

#include <stdio.h>

/* Writes through fn to `path` via a temporary name in the same folder,
 * flushed to disk and renamed over it; to stdout when path is NULL. Prints
 * "officemeter CMD: PATH: reason" and returns -1 on failure. */
int om_cli_write_output(const char *cmd, const char *path, int (*fn)(void *user, FILE *out),
                        void *user);

/* The temporary name om_cli_write_output uses for path. */
void om_cli_temp_name(const char *path, char *buf, size_t len);

/* --year YYYY, 1990 to 2100. Prints the reason and returns -1 when missing
 * or invalid. */
int om_cli_parse_year(const char *cmd, const char *text, int *year);

#endif
