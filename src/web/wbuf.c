/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wbuf.c - the growing text buffer every response is written into, with
 * HTML escaping and the number format of the pages.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

static bool reserve(wbuf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void wb_putn(wbuf *b, const char *text, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, text, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void wb_put(wbuf *b, const char *text)
{
    wb_putn(b, text, strlen(text));
}

void wb_printf(wbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        wb_putn(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void wb_html(wbuf *b, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '<': wb_put(b, "&lt;"); break;
        case '>': wb_put(b, "&gt;"); break;
        case '&': wb_put(b, "&amp;"); break;
        case '"': wb_put(b, "&quot;"); break;
        case '\'': wb_put(b, "&#39;"); break;
        default: wb_putn(b, p, 1);
        }
    }
}

void wb_fixed(wbuf *b, double v, int decimals)
{
    if (isnan(v) || isinf(v)) {
        wb_put(b, "–");
        return;
    }
    char digits[64];
    snprintf(digits, sizeof digits, "%.*f", decimals, v);
    /* Thousands separated by a thin space, as the report's Markdown does
     * not: pages are for reading, the JSON is for machines. */
    const char *p = digits;
    if (*p == '-') {
        wb_put(b, "−");
        p++;
    }
    const char *dot = strchr(p, '.');
    size_t whole = dot ? (size_t)(dot - p) : strlen(p);
    for (size_t i = 0; i < whole; i++) {
        if (i > 0 && (whole - i) % 3 == 0)
            wb_put(b, "\u2009");
        wb_putn(b, p + i, 1);
    }
    if (dot)
        wb_put(b, dot);
}

void wb_free(wbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
