/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_sql.c - text for the PostgreSQL backend: a growing buffer, array
 * literals for unnest(), numbers that read back exactly, and reading
 * values out of results (text and binary).
 *
 * Doubles travel as text in COPY and in parameters: "%.17g" reads back as
 * the same double (and the server's float8 input is exact), so a reading
 * stored through PostgreSQL is bit for bit the one that arrived. Results
 * come back either as text in the server's shortest exact form
 * (extra_float_digits = 3, set per session) or in binary.
 */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

static int reserve(pg_buf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *grown = realloc(b->s, cap);
    if (!grown) {
        b->oom = true;
        return -1;
    }
    b->s = grown;
    b->cap = cap;
    return 0;
}

void pg_buf_add(pg_buf *b, const char *text, size_t len)
{
    if (reserve(b, len) < 0)
        return;
    memcpy(b->s + b->len, text, len);
    b->len += len;
    b->s[b->len] = '\0';
}

void pg_buf_str(pg_buf *b, const char *text)
{
    pg_buf_add(b, text, strlen(text));
}

void pg_buf_printf(pg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pg_buf_int(pg_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    pg_buf_add(b, tmp, (size_t)n);
}

void pg_buf_double(pg_buf *b, double v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    pg_buf_add(b, tmp, (size_t)n);
}

void pg_buf_array_open(pg_buf *b)
{
    pg_buf_add(b, "{", 1);
}

void pg_buf_array_close(pg_buf *b)
{
    pg_buf_add(b, "}", 1);
}

static void comma(pg_buf *b)
{
    if (b->len > 0 && b->s[b->len - 1] != '{')
        pg_buf_add(b, ",", 1);
}

void pg_buf_array_text(pg_buf *b, const char *text)
{
    comma(b);
    pg_buf_add(b, "\"", 1);
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            pg_buf_add(b, "\\", 1);
        pg_buf_add(b, p, 1);
    }
    pg_buf_add(b, "\"", 1);
}

void pg_buf_array_int(pg_buf *b, int64_t v)
{
    comma(b);
    pg_buf_int(b, v);
}

void pg_buf_array_double(pg_buf *b, double v)
{
    comma(b);
    pg_buf_double(b, v);
}

void pg_buf_array_null(pg_buf *b)
{
    comma(b);
    pg_buf_add(b, "NULL", 4);
}

void pg_buf_reset(pg_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->s)
        b->s[0] = '\0';
}

void pg_buf_free(pg_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* ---- results ----------------------------------------------------------------- */

int64_t pg_int(const PGresult *r, int row, int col, int64_t dflt)
{
    if (PQgetisnull(r, row, col))
        return dflt;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double pg_double(const PGresult *r, int row, int col, double dflt)
{
    if (PQgetisnull(r, row, col))
        return dflt;
    return strtod(PQgetvalue(r, row, col), NULL);
}

int64_t pg_bin_int8(const PGresult *r, int row, int col)
{
    uint64_t be;
    memcpy(&be, PQgetvalue(r, row, col), sizeof be);
    return (int64_t)be64toh(be);
}

double pg_bin_float8(const PGresult *r, int row, int col)
{
    uint64_t be;
    memcpy(&be, PQgetvalue(r, row, col), sizeof be);
    be = be64toh(be);
    double v;
    memcpy(&v, &be, sizeof v);
    return v;
}

void pg_copy_text(char *dst, size_t len, const PGresult *r, int row, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}
