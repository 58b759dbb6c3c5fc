/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag.h - collected diagnostics: every error of a file, then refuse.
 *
 * Loaders never stop at the first problem: a facilities engineer fixing a
 * site file wants the whole list. Each entry is formatted as
 *     file:line:col: key: what is wrong (got X, expected Y)
 * and kept in order of discovery.
 */
#ifndef OFFICEMETER_DIAG_H
#define OFFICEMETER_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char **messages;
    size_t count;
    size_t capacity;
} om_diag;

void om_diag_init(om_diag *diag);
void om_diag_free(om_diag *diag);

/* file:line:col: key: message. line/col are 1-based; 0 omits them. key may
 * be NULL or "" (the error is not about one key). */
void om_diag_add(om_diag *diag, const char *file, size_t line, size_t col, const char *key,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

void om_diag_print(const om_diag *diag, FILE *out);
/* Number of errors recorded. */
size_t om_diag_count(const om_diag *diag);

#endif
