/* SPDX-License-Identifier: Apache-2.0 */
/*
 * path.h - file names and folders as the config loaders, the bill reader
 * and the CLI read them: a folder's names in a stable (sorted) order, so
 * that every run reports the same files in the same order, and one join.
 */
#ifndef OFFICEMETER_BASE_PATH_H
#define OFFICEMETER_BASE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* "dir/name", malloc'd (NULL: out of memory). */
char *om_path_join(const char *dir, const char *name);

/* name ends with suffix (and is longer than it). */
bool om_path_has_suffix(const char *name, const char *suffix);
/* name ends with .yaml or .yml. */
bool om_path_is_yaml(const char *name);

/* The names in dir that keep accepts (every one when keep is NULL), names
 * starting with '.' left out, sorted by strcmp; *names is malloc'd (free it
 * with om_dir_list_free). Returns 0, or -1 with errno set (the folder
 * cannot be read: ENOENT when it does not exist; ENOMEM). */
int om_dir_list(const char *dir, bool (*keep)(const char *name), char ***names, size_t *n);
void om_dir_list_free(char **names, size_t n);

#endif
