/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamldoc.c - reading a config file into a libyaml document, with caps.
 *
 * Config files are written by people and copied around by scripts; a
 * broken or hostile one must give a clear error, quickly, never hang the
 * loader or exhaust memory. Before libyaml builds the document, one pass
 * over its events checks, with the key path of every finding:
 *   - the size: at most OM_CFG_MAX_BYTES (a large site file is 200 KB);
 *   - the nesting: at most OM_CFG_MAX_DEPTH mappings and lists (our files
 *     need 6; 100 000 levels used to take minutes, libyaml being quadratic
 *     in the depth, and jansson-like recursion would follow);
 *   - the nodes: at most OM_CFG_MAX_NODES;
 *   - aliases: an alias of a mapping or a list is refused, because the
 *     schema would parse the shared node once per reference (a few lines
 *     can then stand for billions of nodes); an alias of a text value is
 *     harmless and allowed;
 *   - NUL characters in text: "sg-it\0evil" would silently become "sg-it"
 *     in a C string, so an id, path or name is never truncated unseen.
 * Syntax errors are found by the same pass and reported as before, with
 * the position and the context where the construct started.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlcfg_private.h"

/* A level of the path being walked: a mapping (the key of the value being
 * read) or a list (the index of the item being read). */
typedef struct {
    bool mapping;
    bool want_key; /* mapping: the next scalar or collection is a key */
    size_t index;
    char key[48];
} level;

typedef struct {
    const char *file;
    om_diag *diag; /* NULL: quiet (the errors only make the load fail) */
    level levels[OM_CFG_MAX_DEPTH + 1];
    size_t depth;  /* levels in use; levels[0] is the document */
    size_t nodes;
    char **anchors; /* anchors of mappings and lists */
    size_t nanchors, anchors_cap;
    bool failed;  /* an error was found: the load fails */
    bool stop;    /* the walk cannot go on (too deep, too many nodes, no memory) */
} walk;

static void path_text(const walk *w, size_t upto, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 1; i < upto && used < len; i++) {
        const level *l = &w->levels[i];
        if (l->mapping)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "." : "", l->key);
        else
            used += (size_t)snprintf(buf + used, len - used, "[%zu]", l->index);
    }
}

static void fail_at(walk *w, const yaml_mark_t *mark, size_t upto, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports at mark, under the path of levels[1..upto). */
static void fail_at(walk *w, const yaml_mark_t *mark, size_t upto, const char *fmt, ...)
{
    w->failed = true;
    if (!w->diag)
        return;
    char key[256], msg[320];
    path_text(w, upto, key, sizeof key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    om_diag_add(w->diag, w->file, mark->line + 1, mark->column + 1, key[0] ? key : NULL, "%s",
                msg);
}

/* A node (scalar, alias or collection) was read in the current level: a
 * mapping then expects its next key, a list counts the item. */
static void node_done(walk *w)
{
    level *l = &w->levels[w->depth - 1];
    if (l->mapping)
        l->want_key = !l->want_key;
    else
        l->index++;
}

static bool is_key(const walk *w)
{
    const level *l = &w->levels[w->depth - 1];
    return l->mapping && l->want_key;
}

static int remember_anchor(walk *w, const yaml_char_t *anchor)
{
    if (!anchor)
        return 0;
    if (w->nanchors == w->anchors_cap) {
        size_t cap = w->anchors_cap ? 2 * w->anchors_cap : 8;
        char **grown = realloc(w->anchors, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->anchors = grown;
        w->anchors_cap = cap;
    }
    w->anchors[w->nanchors] = strdup((const char *)anchor);
    return w->anchors[w->nanchors++] ? 0 : -1;
}

static bool collection_anchor(const walk *w, const yaml_char_t *anchor)
{
    for (size_t i = 0; i < w->nanchors; i++)
        if (strcmp(w->anchors[i], (const char *)anchor) == 0)
            return true;
    return false;
}

static void on_scalar(walk *w, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    bool nul = strlen(text) != ev->data.scalar.length;
    if (is_key(w)) {
        level *l = &w->levels[w->depth - 1];
        snprintf(l->key, sizeof l->key, "%s", text);
        if (nul)
            fail_at(w, &ev->start_mark, w->depth, "a key contains a NUL character (\\0), "
                    "which no key of a config file may hold");
    } else if (nul) {
        fail_at(w, &ev->start_mark, w->depth, "contains a NUL character (\\0), which no text "
                "in a config file may hold (got \"%.40s\" before it)", text);
    }
    node_done(w);
}

static void on_alias(walk *w, const yaml_event_t *ev)
{
    if (collection_anchor(w, ev->data.alias.anchor)) {
        level *l = &w->levels[w->depth - 1];
        if (l->mapping && l->want_key)
            snprintf(l->key, sizeof l->key, "*%s", (const char *)ev->data.alias.anchor);
        fail_at(w, &ev->start_mark, w->depth, "alias *%s of a mapping or list (only text values "
                "may be aliased in a config file: write the mapping or list out)",
                (const char *)ev->data.alias.anchor);
    }
    node_done(w);
}

static void on_start(walk *w, const yaml_event_t *ev, bool mapping)
{
    const yaml_char_t *anchor = mapping ? ev->data.mapping_start.anchor
                                        : ev->data.sequence_start.anchor;
    if (is_key(w))
        snprintf(w->levels[w->depth - 1].key, sizeof w->levels[0].key, "(a %s as a key)",
                 mapping ? "mapping" : "list");
    if (w->depth > OM_CFG_MAX_DEPTH) {
        fail_at(w, &ev->start_mark, w->depth, "nested deeper than %d levels (a config file "
                "needs a few)", OM_CFG_MAX_DEPTH);
        w->stop = true;
        return;
    }
    if (remember_anchor(w, anchor) < 0) {
        fail_at(w, &ev->start_mark, w->depth, "out of memory");
        w->stop = true;
        return;
    }
    level *l = &w->levels[w->depth++];
    memset(l, 0, sizeof *l);
    l->mapping = mapping;
    l->want_key = true;
}

/* One event; false once the walk must stop. */
static bool on_event(walk *w, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        w->depth = 1;
        memset(&w->levels[0], 0, sizeof w->levels[0]);
        break;
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        if (++w->nodes > OM_CFG_MAX_NODES) {
            fail_at(w, &ev->start_mark, w->depth, "more than %d values (a config file needs "
                    "a few thousand)", OM_CFG_MAX_NODES);
            w->stop = true;
        } else if (ev->type == YAML_SCALAR_EVENT) {
            on_scalar(w, ev);
        } else if (ev->type == YAML_ALIAS_EVENT) {
            on_alias(w, ev);
        } else {
            on_start(w, ev, ev->type == YAML_MAPPING_START_EVENT);
        }
        break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        if (w->depth > 1)
            w->depth--;
        node_done(w);
        break;
    default:
        break;
    }
    return !w->stop;
}

static void syntax_error(const char *file, const yaml_parser_t *p, om_diag *diag)
{
    if (!diag)
        return;
    char started[64] = "";
    if (p->context)
        snprintf(started, sizeof started, " (started at %zu:%zu)", p->context_mark.line + 1,
                 p->context_mark.column + 1);
    om_diag_add(diag, file, p->problem_mark.line + 1, p->problem_mark.column + 1, NULL,
                "YAML syntax error: %s%s%s%s", p->problem ? p->problem : "unknown",
                p->context ? " " : "", p->context ? p->context : "", started);
}

/* The first pass (see the file comment); 0 when the text may be loaded. */
static int check_events(const char *file, const unsigned char *text, size_t len, om_diag *diag)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, text, len);
    walk w = {.file = file, .diag = diag, .depth = 1};
    bool more = true;
    while (more) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(file, &parser, diag);
            w.failed = true;
            break;
        }
        more = ev.type != YAML_STREAM_END_EVENT && on_event(&w, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < w.nanchors; i++)
        free(w.anchors[i]);
    free(w.anchors);
    return w.failed ? -1 : 0;
}

/* The whole file, at most OM_CFG_MAX_BYTES (read, not stat'ed: a pipe or a
 * device has no size). */
static unsigned char *read_capped(const char *path, size_t *len, om_diag *diag)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (diag)
            om_diag_add(diag, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap + 1);
    while (buf && n <= OM_CFG_MAX_BYTES) {
        if (n == cap) {
            cap *= 2;
            unsigned char *grown = realloc(buf, cap + 1);
            if (!grown)
                free(buf);
            buf = grown;
            if (!buf)
                break;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break; /* end of file, or an error (ferror below) */
    }
    int read_error = ferror(fp);
    fclose(fp);
    if (!buf || read_error || n > OM_CFG_MAX_BYTES) {
        if (diag && !buf)
            om_diag_add(diag, path, 0, 0, NULL, "out of memory");
        else if (diag && read_error)
            om_diag_add(diag, path, 0, 0, NULL, "cannot read: read error");
        else if (diag)
            om_diag_add(diag, path, 0, 0, NULL, "larger than the cap of %d bytes for a config "
                        "file", OM_CFG_MAX_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int om_cfg_read_document(const char *path, yaml_document_t *doc, yaml_parser_t *parser,
                         unsigned char **text, om_diag *diag)
{
    size_t len;
    *text = read_capped(path, &len, diag);
    if (!*text)
        return -1;
    if (check_events(path, *text, len, diag) < 0) {
        free(*text);
        *text = NULL;
        return -1;
    }
    yaml_parser_initialize(parser);
    yaml_parser_set_input_string(parser, *text, len);
    if (!yaml_parser_load(parser, doc)) {
        syntax_error(path, parser, diag); /* the first pass saw none: out of memory */
        yaml_parser_delete(parser);
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

void om_cfg_close_document(yaml_document_t *doc, yaml_parser_t *parser, unsigned char *text)
{
    yaml_document_delete(doc);
    yaml_parser_delete(parser);
    free(text);
}

int om_cfg_check_syntax(const char *path, om_diag *diag)
{
    yaml_document_t doc;
    yaml_parser_t parser;
    unsigned char *text;
    if (om_cfg_read_document(path, &doc, &parser, &text, diag) < 0)
        return -1;
    om_cfg_close_document(&doc, &parser, text);
    return 0;
}
