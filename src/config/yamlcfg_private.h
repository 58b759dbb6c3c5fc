/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamlcfg.h - declared configuration: YAML documents into plain C structs.
 *
 * Every key of every file is declared once, as a row in a schema table
 * (name, type, where it goes, range, default, required), so that every
 * option is validated the same way and every error has the same shape:
 *     file:line:col: key.path: what is wrong (got X, expected Y)
 * Parsing never stops at the first error; the caller decides, after the
 * whole file, whether the load fails (any error in the diag).
 *
 * libyaml's document API is used because it keeps a start mark (line and
 * column) for every node, which is what makes precise messages possible.
 */
#ifndef OFFICEMETER_YAMLCFG_H
#define OFFICEMETER_YAMLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "officemeter/base/diag.h"

typedef enum {
    OM_CFG_STRING,  /* char *, strdup'd */
    OM_CFG_ID,      /* char *, [a-z0-9][a-z0-9._-]* */
    OM_CFG_INT,     /* signed integer of `size` bytes */
    OM_CFG_UINT,    /* unsigned integer of `size` bytes; decimal or 0x hex */
    OM_CFG_DOUBLE,  /* double, finite */
    OM_CFG_BOOL,    /* bool: true / false */
    OM_CFG_ENUM,    /* int-sized enum: index into `names` */
    OM_CFG_DATE,    /* int32_t days since 1970-01-01 */
    OM_CFG_STRUCT,  /* nested mapping, parsed with `sub` in place */
    OM_CFG_LIST,    /* sequence of `sub` structs: pointer at offset, size_t count at count_offset */
    OM_CFG_STRLIST, /* sequence of strings: char ** at offset, size_t count at count_offset */
    OM_CFG_CUSTOM,  /* parsed by `custom` */
} om_cfg_type;

#define OM_CFG_REQUIRED 1u
#define OM_CFG_NONEMPTY 2u /* lists: at least one element */

struct om_cfg_ctx;
struct om_cfg_field;
struct om_cfg_schema;

typedef int (*om_cfg_custom_fn)(struct om_cfg_ctx *ctx, yaml_node_t *node, void *dst,
                                const struct om_cfg_field *field);
typedef void (*om_cfg_free_fn)(void *dst);
/* Called after a mapping was parsed into obj: cross-field checks. */
typedef void (*om_cfg_check_fn)(struct om_cfg_ctx *ctx, yaml_node_t *node, void *obj);

typedef struct om_cfg_field {
    const char *key;
    om_cfg_type type;
    size_t offset;
    size_t size; /* integer width in bytes */
    unsigned flags;
    double min, max; /* numbers: inclusive range (both 0: unchecked) */
    const char *defval; /* default, as YAML text; NULL: zero / absent */
    const char *const *names; /* ENUM: NULL-terminated */
    const struct om_cfg_schema *sub;
    size_t count_offset;
    om_cfg_custom_fn custom;
    om_cfg_free_fn custom_free;
    const char *expect; /* CUSTOM: what is expected, for messages */
} om_cfg_field;

typedef struct om_cfg_schema {
    const char *name;
    size_t size;
    const om_cfg_field *fields;
    size_t nfields;
    om_cfg_check_fn check;
} om_cfg_schema;

typedef struct om_cfg_ctx {
    const char *file;
    yaml_document_t *doc;
    om_diag *diag;
    void *user;
    char path[256];
    /* Nodes whose value was refused, so that cross-field checks do not
     * pile a second, misleading error on top of the first. */
    const yaml_node_t *failed[256];
    size_t nfailed;
} om_cfg_ctx;

/* Field declaration helpers: OM_F_UINT(struct type, member, key, flags, min, max, default). */
#define OM_MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define OM_F(T, m, k, ty, fl) .key = (k), .type = (ty), .offset = offsetof(T, m), \
                              .size = OM_MEMBER_SIZE(T, m), .flags = (fl)
#define OM_F_STRING(T, m, k, fl) {OM_F(T, m, k, OM_CFG_STRING, fl)}
#define OM_F_ID(T, m, k, fl) {OM_F(T, m, k, OM_CFG_ID, fl)}
#define OM_F_UINT(T, m, k, fl, lo, hi, def) \
    {OM_F(T, m, k, OM_CFG_UINT, fl), .min = (lo), .max = (hi), .defval = (def)}
#define OM_F_INT(T, m, k, fl, lo, hi, def) \
    {OM_F(T, m, k, OM_CFG_INT, fl), .min = (lo), .max = (hi), .defval = (def)}
#define OM_F_DOUBLE(T, m, k, fl, lo, hi, def) \
    {OM_F(T, m, k, OM_CFG_DOUBLE, fl), .min = (lo), .max = (hi), .defval = (def)}
#define OM_F_BOOL(T, m, k, fl, def) {OM_F(T, m, k, OM_CFG_BOOL, fl), .defval = (def)}
#define OM_F_ENUM(T, m, k, fl, nm, def) {OM_F(T, m, k, OM_CFG_ENUM, fl), .names = (nm), .defval = (def)}
#define OM_F_DATE(T, m, k, fl) {OM_F(T, m, k, OM_CFG_DATE, fl)}
#define OM_F_STRUCT(T, m, k, fl, s) {OM_F(T, m, k, OM_CFG_STRUCT, fl), .sub = (s)}
#define OM_F_LIST(T, m, cnt, k, fl, s) \
    {OM_F(T, m, k, OM_CFG_LIST, fl), .sub = (s), .count_offset = offsetof(T, cnt)}
#define OM_F_STRLIST(T, m, cnt, k, fl) \
    {OM_F(T, m, k, OM_CFG_STRLIST, fl), .count_offset = offsetof(T, cnt)}
#define OM_F_CUSTOM(T, m, k, fl, fn, freefn, exp) \
    {OM_F(T, m, k, OM_CFG_CUSTOM, fl), .custom = (fn), .custom_free = (freefn), .expect = (exp)}
#define OM_SCHEMA(T, nm, arr, chk) \
    {.name = (nm), .size = sizeof(T), .fields = (arr), .nfields = sizeof(arr) / sizeof((arr)[0]), .check = (chk)}

/* Caps on a config file (yamldoc.c): bytes, nesting of mappings and lists,
 * and values. Our largest files are far below each. */
#define OM_CFG_MAX_BYTES (4 * 1024 * 1024)
#define OM_CFG_MAX_DEPTH 32
#define OM_CFG_MAX_NODES 250000

/* Reads path into *doc through `parser` (whose next yaml_parser_load
 * gives a second document, if any): the text (*text, owned by the caller)
 * is checked first against the caps above, for NUL characters in text and
 * for aliases of mappings and lists. Returns 0, or -1 with every error in
 * diag (NULL: quiet) and nothing to close. */
int om_cfg_read_document(const char *path, yaml_document_t *doc, yaml_parser_t *parser,
                         unsigned char **text, om_diag *diag);
void om_cfg_close_document(yaml_document_t *doc, yaml_parser_t *parser, unsigned char *text);
/* Only reads and checks path as om_cfg_read_document does: for a file of
 * unknown kind whose errors must still be reported. Returns 0 or -1. */
int om_cfg_check_syntax(const char *path, om_diag *diag);

/* Load a YAML file with one document and parse its root mapping into obj
 * with schema. Syntax errors are reported with their position. Returns 0
 * when the file added no error to diag, -1 otherwise (obj then holds what
 * could be parsed and must still be freed with om_cfg_free). */
int om_cfg_load_file(const char *path, const om_cfg_schema *schema, void *obj, om_diag *diag,
                     void *user);

/* Parse a mapping node into obj (used by custom handlers too). */
void om_cfg_parse_mapping(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_schema *schema,
                          void *obj);
/* Parse a single scalar field value (used by custom handlers). Returns 0/-1. */
int om_cfg_parse_value(om_cfg_ctx *ctx, yaml_node_t *node, const om_cfg_field *field, void *obj);

void om_cfg_free(const om_cfg_schema *schema, void *obj);

/* Report an error at node, for the current path plus `suffix` (may be NULL). */
void om_cfg_error(om_cfg_ctx *ctx, const yaml_node_t *node, const char *suffix, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Path stack: push ".key" or "[i]", pop back to a saved length. */
size_t om_cfg_push_key(om_cfg_ctx *ctx, const char *key);
size_t om_cfg_push_index(om_cfg_ctx *ctx, size_t index);
void om_cfg_pop(om_cfg_ctx *ctx, size_t saved);

/* Navigation for cross-checks: the value node of key in a mapping, the i-th
 * item of a sequence, or NULL. */
yaml_node_t *om_cfg_get(om_cfg_ctx *ctx, yaml_node_t *mapping, const char *key);
yaml_node_t *om_cfg_item(om_cfg_ctx *ctx, yaml_node_t *sequence, size_t index);
/* True when mapping has key and its value was parsed without error:
 * cross-field checks use it to stay quiet about values already refused. */
bool om_cfg_key_valid(om_cfg_ctx *ctx, yaml_node_t *mapping, const char *key);
/* The scalar's text, or NULL if the node is not a scalar. */
const char *om_cfg_scalar(const yaml_node_t *node);
/* "a mapping", "a sequence", "\"text\"" — what a node is, for messages. */
const char *om_cfg_describe(const yaml_node_t *node, char *buf, size_t len);



/* Custom field parser shared by catalogue and site files: a serial parity
 * "N", "E" or "O" stored as a char. */
int om_cfg_parse_parity(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f);

#endif
