/* SPDX-License-Identifier: Apache-2.0 */
/*
 * path.c - joins, suffixes and sorted folder listings (path.h).
 */
#include "officemeter/base/path.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/array.h"

char *om_path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

bool om_path_has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && strcmp(name + n - m, suffix) == 0;
}

bool om_path_is_yaml(const char *name)
{
    return om_path_has_suffix(name, ".yaml") || om_path_has_suffix(name, ".yml");
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int om_dir_list(const char *dir, bool (*keep)(const char *name), char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (keep && !keep(e->d_name)))
            continue;
        char **grown = om_grow(*names, &cap, *n, sizeof *grown);
        char *copy = grown ? strdup(e->d_name) : NULL;
        if (!copy) {
            if (grown)
                *names = grown;
            rc = -1;
            break;
        }
        *names = grown;
        (*names)[(*n)++] = copy;
    }
    closedir(d);
    if (rc < 0) {
        om_dir_list_free(*names, *n);
        *names = NULL;
        *n = 0;
        errno = ENOMEM;
        return -1;
    }
    if (*n)
        qsort(*names, *n, sizeof **names, cmp_names);
    return 0;
}

void om_dir_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}
