/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wjson.c - jansson values to text the way the report JSON writes them:
 * keys in insertion order, two-space indentation, and every real as the
 * shortest text that reads back as the same double (base/numfmt.h), so a
 * figure the API serves is digit for digit the report's.
 */
#include <jansson.h>
#include <stdio.h>

#include "officemeter/base/numfmt.h"
#include "wjson.h"

static void indent(wbuf *b, int depth)
{
    wb_put(b, "\n");
    for (int i = 0; i < depth; i++)
        wb_put(b, "  ");
}

void web_json_string(wbuf *b, const char *s)
{
    wb_put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            wb_printf(b, "\\%c", *p);
        else if (*p == '\n')
            wb_put(b, "\\n");
        else if (*p < 0x20)
            wb_printf(b, "\\u%04x", *p);
        else
            wb_putn(b, (const char *)p, 1);
    }
    wb_put(b, "\"");
}

static void dump(wbuf *b, const json_t *v, int depth)
{
    char num[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        wb_put(b, "{");
        json_object_foreach((json_t *)v, key, item) {
            wb_put(b, first ? "" : ",");
            indent(b, depth + 1);
            web_json_string(b, key);
            wb_put(b, ": ");
            dump(b, item, depth + 1);
            first = false;
        }
        if (!first)
            indent(b, depth);
        wb_put(b, "}");
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        wb_put(b, "[");
        json_array_foreach(v, i, item) {
            wb_put(b, i ? "," : "");
            indent(b, depth + 1);
            dump(b, item, depth + 1);
        }
        if (json_array_size(v))
            indent(b, depth);
        wb_put(b, "]");
        break;
    }
    case JSON_STRING: web_json_string(b, json_string_value(v)); break;
    case JSON_INTEGER: wb_printf(b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL:
        if (om_format_double(json_real_value(v), num, sizeof num) == 0)
            wb_put(b, "null");
        else
            wb_put(b, num);
        break;
    case JSON_TRUE: wb_put(b, "true"); break;
    case JSON_FALSE: wb_put(b, "false"); break;
    case JSON_NULL: wb_put(b, "null"); break;
    }
}

void web_json_dump(wbuf *b, const json_t *v)
{
    dump(b, v, 0);
    wb_put(b, "\n");
}

json_t *web_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
