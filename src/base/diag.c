/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag.c - an ordered list of formatted error messages.
 */
#include "officemeter/base/diag.h"
#include "officemeter/base/array.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void om_diag_init(om_diag *diag)
{
    memset(diag, 0, sizeof *diag);
}

void om_diag_free(om_diag *diag)
{
    if (!diag)
        return;
    for (size_t i = 0; i < diag->count; i++)
        free(diag->messages[i]);
    free(diag->messages);
    memset(diag, 0, sizeof *diag);
}

static void append(om_diag *diag, char *msg)
{
    char **grown = om_grow(diag->messages, &diag->capacity, diag->count, sizeof *grown);
    if (!grown) {
        free(msg);
        return;
    }
    diag->messages = grown;
    diag->messages[diag->count++] = msg;
}

void om_diag_add(om_diag *diag, const char *file, size_t line, size_t col, const char *key,
                 const char *fmt, ...)
{
    char body[768], where[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(where, sizeof where, "%s:%zu:%zu: ", file ? file : "-", line, col);
    else
        snprintf(where, sizeof where, "%s: ", file ? file : "-");
    size_t len = strlen(where) + (key ? strlen(key) : 0) + strlen(body) + 4;
    char *msg = malloc(len);
    if (!msg)
        return;
    snprintf(msg, len, "%s%s%s%s", where, key && *key ? key : "", key && *key ? ": " : "", body);
    append(diag, msg);
}

void om_diag_print(const om_diag *diag, FILE *out)
{
    for (size_t i = 0; i < diag->count; i++)
        fprintf(out, "%s\n", diag->messages[i]);
}

size_t om_diag_count(const om_diag *diag)
{
    return diag->count;
}
