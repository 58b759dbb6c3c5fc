/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamlcfg.c - the schema-driven YAML loader behind every config file.
 *
 * A mapping is parsed in three passes: (1) every key in the document is
 * matched to a declared field (unknown and duplicate keys are errors),
 * (2) declared fields that are absent get their default or a "missing"
 * error, (3) the schema's check hook runs cross-field rules. Values are
 * converted with strtoull/strtod and explicit range checks, never atoi.
 */
#include "yamlcfg_private.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/id.h"
#include "officemeter/base/isotime.h"

/* ---- path and errors -------------------------------------------------- */

size_t om_cfg_push_key(om_cfg_ctx *ctx, const char *key)
{
    size_t saved = strlen(ctx->path);
    snprintf(ctx->path + saved, sizeof ctx->path - saved, "%s%s", saved ? "." : "", key);
    return saved;
}

size_t om_cfg_push_index(om_cfg_ctx *ctx, size_t index)
{
    size_t saved = strlen(ctx->path);
    snprintf(ctx->path + saved, sizeof ctx->path - saved, "[%zu]", index);
    return saved;
}

void om_cfg_pop(om_cfg_ctx *ctx, size_t saved)
{
    ctx->path[saved] = '\0';
}

void om_cfg_error(om_cfg_ctx *ctx, const yaml_node_t *node, const char *suffix, const char *fmt,
                  ...)
{
    char msg[768], key[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (suffix && *suffix)
        snprintf(key, sizeof key, "%s%s%s", ctx->path, ctx->path[0] ? "." : "", suffix);
    else
        snprintf(key, sizeof key, "%s", ctx->path);
    size_t line = node ? node->start_mark.line + 1 : 0;
    size_t col = node ? node->start_mark.column + 1 : 0;
    om_diag_add(ctx->diag, ctx->file, line, col, key, "%s", msg);
}

const char *om_cfg_scalar(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)node->data.scalar.value;
}

const char *om_cfg_describe(const yaml_node_t *node, char *buf, size_t len)
{
    if (!node)
        snprintf(buf, len, "nothing");
    else if (node->type == YAML_MAPPING_NODE)
        snprintf(buf, len, "a mapping");
    else if (node->type == YAML_SEQUENCE_NODE)
        snprintf(buf, len, "a list");
    else if (node->data.scalar.length > 60)
        snprintf(buf, len, "\"%.57s...\"", (const char *)node->data.scalar.value);
    else
        snprintf(buf, len, "\"%s\"", (const char *)node->data.scalar.value);
    return buf;
}

yaml_node_t *om_cfg_get(om_cfg_ctx *ctx, yaml_node_t *mapping, const char *key)
{
    if (!mapping || mapping->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = mapping->data.mapping.pairs.start;
         p < mapping->data.mapping.pairs.top; p++) {
        const char *k = om_cfg_scalar(yaml_document_get_node(ctx->doc, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(ctx->doc, p->value);
    }
    return NULL;
}

yaml_node_t *om_cfg_item(om_cfg_ctx *ctx, yaml_node_t *sequence, size_t index)
{
    if (!sequence || sequence->type != YAML_SEQUENCE_NODE)
        return NULL;
    yaml_node_item_t *items = sequence->data.sequence.items.start;
    size_t n = (size_t)(sequence->data.sequence.items.top - items);
    return index < n ? yaml_document_get_node(ctx->doc, items[index]) : NULL;
}

/* ---- scalars ---------------------------------------------------------- */

/* YAML null: empty plain scalar, "~" or "null". */
static bool is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)node->data.scalar.value;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

static bool is_quoted(const yaml_node_t *node)
{
    return node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
           node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static void range_text(const om_cfg_field *f, bool integer, char *buf, size_t len)
{
    if (f->min == 0 && f->max == 0)
        snprintf(buf, len, integer ? "an integer" : "a number");
    else if (integer)
        snprintf(buf, len, "an integer from %.17g to %.17g", f->min, f->max);
    else
        snprintf(buf, len, "a number from %.17g to %.17g", f->min, f->max);
}

static bool in_range(const om_cfg_field *f, double v)
{
    if (f->min == 0 && f->max == 0)
        return true;
    return v >= f->min && v <= f->max;
}

static void store_uint(void *dst, size_t size, unsigned long long v)
{
    switch (size) {
    case 1: *(uint8_t *)dst = (uint8_t)v; break;
    case 2: *(uint16_t *)dst = (uint16_t)v; break;
    case 4: *(uint32_t *)dst = (uint32_t)v; break;
    default: *(uint64_t *)dst = (uint64_t)v; break;
    }
}

static void store_int(void *dst, size_t size, long long v)
{
    switch (size) {
    case 1: *(int8_t *)dst = (int8_t)v; break;
    case 2: *(int16_t *)dst = (int16_t)v; break;
    case 4: *(int32_t *)dst = (int32_t)v; break;
    default: *(int64_t *)dst = (int64_t)v; break;
    }
}

/* Decimal, or hexadecimal with 0x; a leading zero is decimal (not octal),
 * because "0010" in a register table means ten. */
static int parse_ull(const char *s, unsigned long long *out)
{
    int base = 10;
    const char *p = s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (*p == '\0' || *p == '-' || *p == '+' || *p == ' ')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, base);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_ll(const char *s, long long *out)
{
    bool neg = s[0] == '-';
    unsigned long long u;
    if (parse_ull(s + (neg || s[0] == '+'), &u) < 0)
        return -1;
    if (neg ? u > (unsigned long long)LLONG_MAX + 1 : u > (unsigned long long)LLONG_MAX)
        return -1;
    *out = neg ? (long long)(0 - u) : (long long)u;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    if (*s == '\0' || *s == ' ')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static void enum_expect(const om_cfg_field *f, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; f->names[i]; i++)
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                 i ? (f->names[i + 1] ? ", " : " or ") : "one of ", f->names[i]);
}

static int parse_scalar(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_field *f, void *dst)
{
    char got[96], expect[640];
    om_cfg_describe(node, got, sizeof got);
    const char *s = om_cfg_scalar(node);
    bool numeric = f->type == OM_CFG_UINT || f->type == OM_CFG_INT || f->type == OM_CFG_DOUBLE;

    if (!s || (numeric && is_quoted(node))) {
        switch (f->type) {
        case OM_CFG_UINT: case OM_CFG_INT: range_text(f, true, expect, sizeof expect); break;
        case OM_CFG_DOUBLE: range_text(f, false, expect, sizeof expect); break;
        case OM_CFG_BOOL: snprintf(expect, sizeof expect, "true or false"); break;
        case OM_CFG_ENUM: enum_expect(f, expect, sizeof expect); break;
        case OM_CFG_DATE: snprintf(expect, sizeof expect, "a date YYYY-MM-DD"); break;
        default: snprintf(expect, sizeof expect, "a text value"); break;
        }
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected %s)", got, expect);
        return -1;
    }

    switch (f->type) {
    case OM_CFG_STRING:
    case OM_CFG_ID:
        if (f->type == OM_CFG_ID && !om_id_valid(s)) {
            om_cfg_error(ctx, node, NULL,
                         "invalid id (got %s, expected 1 to %d lower-case letters, digits, "
                         "'-', '_' or '.', not starting with '-', '_' or '.')",
                         got, OM_ID_LEN);
            return -1;
        }
        if (s[0] == '\0') {
            om_cfg_error(ctx, node, NULL, "empty value (expected a text value)");
            return -1;
        }
        *(char **)dst = strdup(s);
        return 0;
    case OM_CFG_UINT: {
        unsigned long long v;
        range_text(f, true, expect, sizeof expect);
        if (parse_ull(s, &v) < 0 || !in_range(f, (double)v) ||
            (f->size < 8 && v >> (f->size * 8) != 0)) {
            bool integer = parse_ull(s, &v) == 0 || (s[0] == '-' && parse_ull(s + 1, &v) == 0);
            om_cfg_error(ctx, node, NULL, "%s (got %s, expected %s)",
                         integer ? "out of range" : "not an integer", got, expect);
            return -1;
        }
        store_uint(dst, f->size, v);
        return 0;
    }
    case OM_CFG_INT: {
        long long v;
        range_text(f, true, expect, sizeof expect);
        if (parse_ll(s, &v) < 0 || !in_range(f, (double)v)) {
            om_cfg_error(ctx, node, NULL, "%s (got %s, expected %s)",
                         parse_ll(s, &v) < 0 ? "not an integer" : "out of range", got, expect);
            return -1;
        }
        store_int(dst, f->size, v);
        return 0;
    }
    case OM_CFG_DOUBLE: {
        double v;
        range_text(f, false, expect, sizeof expect);
        if (parse_double(s, &v) < 0 || !in_range(f, v)) {
            om_cfg_error(ctx, node, NULL, "%s (got %s, expected %s)",
                         parse_double(s, &v) < 0 ? "not a finite number" : "out of range", got,
                         expect);
            return -1;
        }
        *(double *)dst = v;
        return 0;
    }
    case OM_CFG_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *(bool *)dst = s[0] == 't';
            return 0;
        }
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected true or false)", got);
        return -1;
    case OM_CFG_ENUM:
        for (int i = 0; f->names[i]; i++) {
            if (strcmp(s, f->names[i]) == 0) {
                store_int(dst, f->size, i);
                return 0;
            }
        }
        enum_expect(f, expect, sizeof expect);
        om_cfg_error(ctx, node, NULL, "unknown value (got %s, expected %s)", got, expect);
        return -1;
    case OM_CFG_DATE: {
        int32_t days;
        if (om_parse_date(s, &days) < 0) {
            om_cfg_error(ctx, node, NULL, "invalid date (got %s, expected a date YYYY-MM-DD)",
                         got);
            return -1;
        }
        *(int32_t *)dst = days;
        return 0;
    }
    default:
        return -1;
    }
}

/* ---- lists ------------------------------------------------------------ */

static size_t seq_length(const yaml_node_t *node)
{
    return (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
}

static int parse_list(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_field *f, void *dst,
                      void *obj)
{
    char got[96];
    if (node->type != YAML_SEQUENCE_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a list)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = seq_length(node);
    size_t *count = (size_t *)((char *)obj + f->count_offset);
    if (n == 0 && (f->flags & OM_CFG_NONEMPTY)) {
        om_cfg_error(ctx, node, NULL, "empty list (expected at least one entry)");
        return -1;
    }
    size_t elem = f->type == OM_CFG_LIST ? f->sub->size : sizeof(char *);
    char *items = n ? calloc(n, elem) : NULL;
    if (n && !items) {
        om_cfg_error(ctx, node, NULL, "out of memory");
        return -1;
    }
    *(void **)dst = items;
    *count = n;
    int rc = 0;
    om_cfg_field strfield = {.key = f->key, .type = OM_CFG_STRING, .size = sizeof(char *)};
    for (size_t i = 0; i < n; i++) {
        size_t saved = om_cfg_push_index(ctx, i);
        yaml_node_t *item = om_cfg_item(ctx, node, i);
        if (f->type == OM_CFG_LIST) {
            if (item->type != YAML_MAPPING_NODE) {
                char g[96];
                om_cfg_error(ctx, item, NULL, "wrong type (got %s, expected a mapping)",
                             om_cfg_describe(item, g, sizeof g));
                rc = -1;
            } else {
                om_cfg_parse_mapping(ctx, item, f->sub, items + i * elem);
            }
        } else if (parse_scalar(ctx, item, &strfield, items + i * elem) < 0) {
            rc = -1;
        }
        om_cfg_pop(ctx, saved);
    }
    return rc;
}

/* ---- fields and mappings ---------------------------------------------- */

static int parse_value(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_field *f, void *obj);

int om_cfg_parse_value(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_field *f, void *obj)
{
    size_t before = om_diag_count(ctx->diag);
    int rc = parse_value(ctx, node, f, obj);
    if ((rc < 0 || om_diag_count(ctx->diag) != before) &&
        ctx->nfailed < sizeof ctx->failed / sizeof ctx->failed[0])
        ctx->failed[ctx->nfailed++] = node;
    return rc;
}

bool om_cfg_key_valid(om_cfg_ctx *ctx, yaml_node_t *mapping, const char *key)
{
    yaml_node_t *node = om_cfg_get(ctx, mapping, key);
    if (!node)
        return false;
    for (size_t i = 0; i < ctx->nfailed; i++)
        if (ctx->failed[i] == node)
            return false;
    return true;
}

static int parse_value(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_field *f, void *obj)
{
    void *dst = (char *)obj + f->offset;
    char got[96];
    switch (f->type) {
    case OM_CFG_STRUCT:
        if (node->type != YAML_MAPPING_NODE) {
            om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a mapping)",
                         om_cfg_describe(node, got, sizeof got));
            return -1;
        }
        om_cfg_parse_mapping(ctx, node, f->sub, dst);
        return 0;
    case OM_CFG_LIST:
    case OM_CFG_STRLIST:
        return parse_list(ctx, node, f, dst, obj);
    case OM_CFG_CUSTOM:
        return f->custom(ctx, node, dst, f);
    default:
        return parse_scalar(ctx, node, f, dst);
    }
}

static const om_cfg_field *find_field(const om_cfg_schema *schema, const char *key)
{
    for (size_t i = 0; i < schema->nfields; i++)
        if (strcmp(schema->fields[i].key, key) == 0)
            return &schema->fields[i];
    return NULL;
}

static void known_keys(const om_cfg_schema *schema, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < schema->nfields && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 schema->fields[i].key);
}

static void apply_default(om_cfg_ctx *ctx, yaml_node_t *mapping, const om_cfg_field *f, void *obj)
{
    if (f->flags & OM_CFG_REQUIRED) {
        size_t saved = om_cfg_push_key(ctx, f->key);
        om_cfg_error(ctx, mapping, NULL, "missing required key");
        om_cfg_pop(ctx, saved);
        return;
    }
    if (f->type == OM_CFG_STRUCT) {
        /* An absent optional mapping still gets its keys' defaults, so
         * `intervals:` left out means the default intervals, not zero. */
        for (size_t i = 0; i < f->sub->nfields; i++)
            if (!(f->sub->fields[i].flags & OM_CFG_REQUIRED))
                apply_default(ctx, mapping, &f->sub->fields[i], (char *)obj + f->offset);
        return;
    }
    if (!f->defval)
        return;
    /* Defaults are written as YAML text and go through the same parser, so
     * a default can never be a value the parser would refuse. */
    yaml_node_t fake = {.type = YAML_SCALAR_NODE};
    fake.data.scalar.value = (yaml_char_t *)f->defval;
    fake.data.scalar.length = strlen(f->defval);
    fake.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
    fake.start_mark = mapping->start_mark;
    om_cfg_parse_value(ctx, &fake, f, obj);
}

void om_cfg_parse_mapping(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_schema *schema,
                          void *obj)
{
    bool seen[64] = {false};
    size_t seen_line[64] = {0};
    char got[96];

    if (node->type != YAML_MAPPING_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a mapping)",
                     om_cfg_describe(node, got, sizeof got));
        return;
    }
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *knode = yaml_document_get_node(ctx->doc, p->key);
        yaml_node_t *vnode = yaml_document_get_node(ctx->doc, p->value);
        const char *key = om_cfg_scalar(knode);
        if (!key) {
            om_cfg_error(ctx, knode, NULL, "a key must be plain text (got %s)",
                         om_cfg_describe(knode, got, sizeof got));
            continue;
        }
        const om_cfg_field *f = find_field(schema, key);
        size_t saved = om_cfg_push_key(ctx, key);
        if (!f) {
            char keys[512];
            known_keys(schema, keys, sizeof keys);
            om_cfg_error(ctx, knode, NULL, "unknown key (expected one of %s)", keys);
        } else {
            size_t idx = (size_t)(f - schema->fields);
            if (idx < 64 && seen[idx]) {
                om_cfg_error(ctx, knode, NULL, "duplicate key (first given at line %zu)",
                             seen_line[idx]);
            } else {
                if (idx < 64) {
                    seen[idx] = true;
                    seen_line[idx] = knode->start_mark.line + 1;
                }
                if (is_null(vnode) && !(f->flags & OM_CFG_REQUIRED))
                    apply_default(ctx, node, f, obj);
                else
                    om_cfg_parse_value(ctx, vnode, f, obj);
            }
        }
        om_cfg_pop(ctx, saved);
    }
    for (size_t i = 0; i < schema->nfields && i < 64; i++)
        if (!seen[i])
            apply_default(ctx, node, &schema->fields[i], obj);
    if (schema->check)
        schema->check(ctx, node, obj);
}

/* ---- documents -------------------------------------------------------- */

int om_cfg_load_file(const char *path, const om_cfg_schema *schema, void *obj, om_diag *diag,
                     void *user)
{
    size_t before = om_diag_count(diag);
    yaml_parser_t parser;
    yaml_document_t doc;
    unsigned char *text;
    if (om_cfg_read_document(path, &doc, &parser, &text, diag) < 0)
        return -1;
    om_cfg_ctx ctx = {.file = path, .doc = &doc, .diag = diag, .user = user};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        om_diag_add(diag, path, 1, 1, NULL, "empty file (expected a mapping of %s keys)",
                    schema->name);
    else
        om_cfg_parse_mapping(&ctx, root, schema, obj);
    /* A second document in one file is almost always a paste mistake. */
    yaml_document_t extra;
    if (yaml_parser_load(&parser, &extra)) {
        yaml_node_t *r2 = yaml_document_get_root_node(&extra);
        if (r2)
            om_diag_add(diag, path, r2->start_mark.line + 1, r2->start_mark.column + 1, NULL,
                        "a second YAML document (expected one per file)");
        yaml_document_delete(&extra);
    }
    om_cfg_close_document(&doc, &parser, text);
    return om_diag_count(diag) == before ? 0 : -1;
}

void om_cfg_free(const om_cfg_schema *schema, void *obj)
{
    if (!obj)
        return;
    for (size_t i = 0; i < schema->nfields; i++) {
        const om_cfg_field *f = &schema->fields[i];
        void *dst = (char *)obj + f->offset;
        switch (f->type) {
        case OM_CFG_STRING:
        case OM_CFG_ID:
            free(*(char **)dst);
            *(char **)dst = NULL;
            break;
        case OM_CFG_STRUCT:
            om_cfg_free(f->sub, dst);
            break;
        case OM_CFG_LIST:
        case OM_CFG_STRLIST: {
            size_t *count = (size_t *)((char *)obj + f->count_offset);
            char *items = *(char **)dst;
            for (size_t k = 0; items && k < *count; k++) {
                if (f->type == OM_CFG_LIST)
                    om_cfg_free(f->sub, items + k * f->sub->size);
                else
                    free(((char **)(void *)items)[k]);
            }
            free(items);
            *(char **)dst = NULL;
            *count = 0;
            break;
        }
        case OM_CFG_CUSTOM:
            if (f->custom_free)
                f->custom_free(dst);
            break;
        default:
            break;
        }
    }
}

int om_cfg_parse_parity(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    const char *s = om_cfg_scalar(node);
    char got[96];
    if (s && (strcmp(s, "N") == 0 || strcmp(s, "E") == 0 || strcmp(s, "O") == 0)) {
        *(char *)dst = s[0];
        return 0;
    }
    om_cfg_error(ctx, node, NULL, "unknown parity (got %s, expected N, E or O)",
                 om_cfg_describe(node, got, sizeof got));
    return -1;
}
