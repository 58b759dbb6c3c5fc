/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalogue.c - load meter model files (firmware-config/meters/NAME.yaml).
 *
 * The format is documented in docs/catalogue.md; the schema tables below
 * are its executable form. Beyond per-key checks, a model is checked as a
 * whole: register counts agree with types, blocks do not overlap, counters
 * state their rollover, and the model id equals the file name, so a site
 * file's `model:` always names exactly one file.
 */
#include "officemeter/config/catalogue.h"
#include "officemeter/base/array.h"
#include "officemeter/base/path.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "yamlcfg_private.h"

static const char *const type_names[] = {"u16", "s16", "u32", "s32", "u64", "s64",
                                         "f32", "f64", "composite", NULL};
static const char *const order_names[] = {"ABCD", "CDAB", "BADC", "DCBA", NULL};
static const char *const scale_source_names[] = {"fixed", "litres_per_pulse", NULL};

/* ---- composite parts and sentinels ------------------------------------ */

static void check_part(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_part *part = obj;
    if (!om_type_is_integer(part->type))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "type"), "type",
                     "a composite part must be an integer type (got \"%s\", expected u16, s16, "
                     "u32, s32, u64 or s64)",
                     om_type_name(part->type));
}

static const om_cfg_field part_fields[] = {
    OM_F_UINT(om_part, offset, "offset", OM_CFG_REQUIRED, 0, 15, NULL),
    OM_F_ENUM(om_part, type, "type", OM_CFG_REQUIRED, type_names, NULL),
    OM_F_INT(om_part, multiplier, "multiplier", OM_CFG_REQUIRED, 1, 1e18, NULL),
};
static const om_cfg_schema part_schema = OM_SCHEMA(om_part, "part", part_fields, check_part);

static int parse_parts(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_regspec *spec = (om_regspec *)((char *)dst - offsetof(om_regspec, parts));
    char got[96];
    if (node->type != YAML_SEQUENCE_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a list of parts)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (n < 2 || n > OM_CODEC_MAX_PARTS) {
        om_cfg_error(ctx, node, NULL, "wrong number of parts (got %zu, expected 2 to %d)", n,
                     OM_CODEC_MAX_PARTS);
        return -1;
    }
    spec->nparts = n;
    for (size_t i = 0; i < n; i++) {
        size_t saved = om_cfg_push_index(ctx, i);
        om_cfg_parse_mapping(ctx, om_cfg_item(ctx, node, i), &part_schema, &spec->parts[i]);
        om_cfg_pop(ctx, saved);
    }
    return 0;
}

static int parse_sentinels(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_regspec *spec = (om_regspec *)((char *)dst - offsetof(om_regspec, sentinels));
    static const om_cfg_field bits = {.key = "not_available", .type = OM_CFG_UINT, .size = 8};
    char got[96];
    if (node->type != YAML_SEQUENCE_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a list of bit patterns)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (n > OM_CODEC_MAX_SENTINELS) {
        om_cfg_error(ctx, node, NULL, "too many patterns (got %zu, expected at most %d)", n,
                     OM_CODEC_MAX_SENTINELS);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t saved = om_cfg_push_index(ctx, i);
        if (om_cfg_parse_value(ctx, om_cfg_item(ctx, node, i), &bits, &spec->sentinels[i]) < 0)
            rc = -1;
        om_cfg_pop(ctx, saved);
    }
    spec->nsentinels = n;
    return rc;
}

/* ---- one quantity ----------------------------------------------------- */

static void check_quantity(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_quantity_def *q = obj;
    const om_quantity_info *info = om_quantity_get(q->quantity);
    size_t expected = om_codec_register_count(&q->spec);

    if (q->function != 3 && q->function != 4)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "function"), "function",
                     "unsupported function (got %u, expected 3 or 4)", q->function);
    if (q->spec.type == OM_TYPE_COMPOSITE && q->spec.nparts == 0)
        om_cfg_error(ctx, node, "parts", "missing: a composite type needs its parts");
    if (q->spec.type != OM_TYPE_COMPOSITE && om_cfg_get(ctx, node, "parts"))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "parts"), "parts",
                     "parts are only for type composite (got type %s)", om_type_name(q->spec.type));
    if (q->count && expected && q->count != expected && om_cfg_key_valid(ctx, node, "type") &&
        om_cfg_key_valid(ctx, node, "count"))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "count"), "count",
                     "does not match the type (got %u, expected %zu for %s)", q->count, expected,
                     om_type_name(q->spec.type));
    const char *problem = om_codec_spec_problem(&q->spec);
    if (problem && om_cfg_key_valid(ctx, node, "type") && om_cfg_key_valid(ctx, node, "scale") &&
        (q->spec.type != OM_TYPE_COMPOSITE || q->spec.nparts))
        om_cfg_error(ctx, node, NULL, "unusable register definition: %s", problem);
    if ((size_t)q->address + q->count > 65536)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "address"), "address",
                     "block runs past register 65535 (got %u + %u registers)", q->address,
                     q->count);
    if (q->spec.scale == 0.0 && om_cfg_key_valid(ctx, node, "scale"))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "scale"), "scale",
                     "must not be zero (got 0, expected the factor from raw to canonical units)");
    if (q->scale_source == OM_SCALE_LITRES_PER_PULSE && q->quantity != OM_Q_WATER_M3)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "scale_from"), "scale_from",
                     "litres_per_pulse applies only to water_m3 (got it on %s)", info->name);
    yaml_node_t *roll = om_cfg_get(ctx, node, "rollover");
    if (info->kind == OM_KIND_COUNTER && !roll)
        om_cfg_error(ctx, node, "rollover",
                     "missing required key for a counter (expected the raw value at which it "
                     "wraps, or 0 with a note)");
    if (info->kind != OM_KIND_COUNTER && roll)
        om_cfg_error(ctx, roll, "rollover", "only counters roll over (got it on %s, a %s value)",
                     info->name, "instantaneous");
}

static const om_cfg_field quantity_fields[] = {
    OM_F_UINT(om_quantity_def, function, "function", OM_CFG_REQUIRED, 1, 127, NULL),
    OM_F_UINT(om_quantity_def, address, "address", OM_CFG_REQUIRED, 0, 65535, NULL),
    OM_F_UINT(om_quantity_def, count, "count", OM_CFG_REQUIRED, 1, OM_CODEC_MAX_REGS, NULL),
    OM_F_ENUM(om_quantity_def, spec.type, "type", OM_CFG_REQUIRED, type_names, NULL),
    OM_F_ENUM(om_quantity_def, spec.order, "order", OM_CFG_REQUIRED, order_names, NULL),
    OM_F_DOUBLE(om_quantity_def, spec.scale, "scale", OM_CFG_REQUIRED, -1e12, 1e12, NULL),
    OM_F_ENUM(om_quantity_def, scale_source, "scale_from", 0, scale_source_names, "fixed"),
    OM_F_UINT(om_quantity_def, channel_stride, "channel_stride", 0, 0, 64, "0"),
    OM_F_CUSTOM(om_quantity_def, spec.parts, "parts", 0, parse_parts, NULL, "a list of parts"),
    OM_F_DOUBLE(om_quantity_def, rollover, "rollover", 0, 0, 1e20, "0"),
    OM_F_CUSTOM(om_quantity_def, spec.sentinels, "not_available", 0, parse_sentinels, NULL,
                "a list of bit patterns"),
    OM_F_BOOL(om_quantity_def, optional, "optional", 0, "false"),
    OM_F_STRING(om_quantity_def, note, "note", 0),
};
static const om_cfg_schema quantity_schema =
    OM_SCHEMA(om_quantity_def, "quantity", quantity_fields, check_quantity);

static void free_quantities(void *dst)
{
    om_model *m = (om_model *)((char *)dst - offsetof(om_model, quantities));
    for (size_t i = 0; i < m->nquantities; i++)
        om_cfg_free(&quantity_schema, &m->quantities[i]);
    free(m->quantities);
    m->quantities = NULL;
    m->nquantities = 0;
}

/* quantities: a mapping from canonical quantity name to its definition. */
static int parse_quantities(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_model *m = (om_model *)((char *)dst - offsetof(om_model, quantities));
    char got[96];
    if (node->type != YAML_MAPPING_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a mapping of quantities)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (n == 0) {
        om_cfg_error(ctx, node, NULL, "no quantities (expected at least one)");
        return -1;
    }
    m->quantities = calloc(n, sizeof *m->quantities);
    if (!m->quantities)
        return -1;
    bool seen[OM_Q__COUNT] = {false};
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &node->data.mapping.pairs.start[i];
        yaml_node_t *knode = yaml_document_get_node(ctx->doc, p->key);
        const char *name = om_cfg_scalar(knode);
        om_quantity q;
        if (!name || om_quantity_from_name(name, &q) < 0) {
            om_cfg_error(ctx, knode, NULL, "unknown quantity (got %s, expected one of %s)",
                         om_cfg_describe(knode, got, sizeof got), om_quantity_names());
            continue;
        }
        size_t saved = om_cfg_push_key(ctx, name);
        if (seen[q]) {
            om_cfg_error(ctx, knode, NULL, "duplicate quantity");
        } else {
            seen[q] = true;
            om_quantity_def *def = &m->quantities[m->nquantities++];
            def->quantity = q;
            om_cfg_parse_mapping(ctx, yaml_document_get_node(ctx->doc, p->value), &quantity_schema,
                                 def);
        }
        om_cfg_pop(ctx, saved);
    }
    return 0;
}

/* ---- the model -------------------------------------------------------- */

static const om_cfg_field serial_fields[] = {
    OM_F_UINT(om_serial_defaults, baud, "baud", OM_CFG_REQUIRED, 1200, 230400, NULL),
    OM_F_CUSTOM(om_serial_defaults, parity, "parity", OM_CFG_REQUIRED, om_cfg_parse_parity, NULL,
                "N, E or O"),
    OM_F_UINT(om_serial_defaults, data_bits, "data_bits", 0, 7, 8, "8"),
    OM_F_UINT(om_serial_defaults, stop_bits, "stop_bits", 0, 1, 2, "1"),
    OM_F_UINT(om_serial_defaults, unit_id, "unit_id", 0, 1, 247, "1"),
};
static const om_cfg_schema serial_schema =
    OM_SCHEMA(om_serial_defaults, "serial", serial_fields, NULL);

static int parse_interfaces(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_model *m = (om_model *)((char *)dst - offsetof(om_model, tcp));
    char got[96];
    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top == node->data.sequence.items.start) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a list of rtu and/or tcp)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    for (size_t i = 0; om_cfg_item(ctx, node, i); i++) {
        yaml_node_t *item = om_cfg_item(ctx, node, i);
        const char *s = om_cfg_scalar(item);
        if (s && strcmp(s, "rtu") == 0)
            m->rtu = true;
        else if (s && strcmp(s, "tcp") == 0)
            m->tcp = true;
        else {
            size_t saved = om_cfg_push_index(ctx, i);
            om_cfg_error(ctx, item, NULL, "unknown interface (got %s, expected rtu or tcp)",
                         om_cfg_describe(item, got, sizeof got));
            om_cfg_pop(ctx, saved);
        }
    }
    return 0;
}

static const char *file_stem(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, len, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot)
        *dot = '\0';
    return buf;
}

/* Two quantities read with the same function must not share registers:
 * an overlap is always a typo in an address. */
static void check_overlaps(om_cfg_ctx *ctx, yaml_node_t *node, const om_model *m)
{
    yaml_node_t *qnode = om_cfg_get(ctx, node, "quantities");
    for (size_t i = 0; i < m->nquantities; i++) {
        const om_quantity_def *a = &m->quantities[i];
        for (size_t j = i + 1; j < m->nquantities; j++) {
            const om_quantity_def *b = &m->quantities[j];
            if (a->function != b->function || !a->count || !b->count)
                continue;
            if (a->address < b->address + b->count && b->address < a->address + a->count) {
                const char *bname = om_quantity_get(b->quantity)->name;
                om_cfg_error(ctx, om_cfg_get(ctx, om_cfg_get(ctx, qnode, bname), "address"),
                             "", "quantities.%s.address: overlaps %s (registers %u..%u and %u..%u)",
                             bname, om_quantity_get(a->quantity)->name, b->address,
                             b->address + b->count - 1, a->address, a->address + a->count - 1);
            }
        }
        if (a->count > m->max_registers_per_request && m->max_registers_per_request)
            om_cfg_error(ctx, qnode, om_quantity_get(a->quantity)->name,
                         "needs %u registers, more than max_registers_per_request (%u)", a->count,
                         m->max_registers_per_request);
    }
}

static void check_model(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_model *m = obj;
    char stem[256];
    file_stem(ctx->file, stem, sizeof stem);
    if (m->id && strcmp(m->id, stem) != 0)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "model"), "model",
                     "must equal the file name (got \"%s\", expected \"%s\")", m->id, stem);
    if (m->rtu && !om_cfg_get(ctx, node, "serial"))
        om_cfg_error(ctx, node, "serial", "missing: an RTU model needs its factory serial settings");
    for (size_t i = 0; i < m->nquantities; i++) {
        const om_quantity_def *q = &m->quantities[i];
        if (q->channel_stride && !m->channels)
            om_cfg_error(ctx, node, "channels",
                         "missing: %s has a channel_stride, so the model must say how many "
                         "channels it has",
                         om_quantity_get(q->quantity)->name);
    }
    check_overlaps(ctx, node, m);
}

static const om_cfg_field model_fields[] = {
    OM_F_ID(om_model, id, "model", OM_CFG_REQUIRED),
    OM_F_STRING(om_model, vendor, "vendor", OM_CFG_REQUIRED),
    OM_F_STRING(om_model, name, "name", OM_CFG_REQUIRED),
    OM_F_STRING(om_model, source, "source", OM_CFG_REQUIRED),
    OM_F_STRING(om_model, numbering, "numbering", OM_CFG_REQUIRED),
    OM_F_CUSTOM(om_model, tcp, "interfaces", OM_CFG_REQUIRED, parse_interfaces, NULL,
                "a list of rtu and/or tcp"),
    OM_F_UINT(om_model, max_registers_per_request, "max_registers_per_request", OM_CFG_REQUIRED,
              1, 125, NULL),
    OM_F_UINT(om_model, min_gap_ms, "min_gap_ms", 0, 0, 10000, "0"),
    OM_F_UINT(om_model, timeout_ms, "timeout_ms", 0, 50, 10000, "1000"),
    OM_F_STRUCT(om_model, serial, "serial", 0, &serial_schema),
    OM_F_UINT(om_model, channels, "channels", 0, 0, 64, "0"),
    OM_F_STRLIST(om_model, quirks, nquirks, "quirks", 0),
    OM_F_CUSTOM(om_model, quantities, "quantities", OM_CFG_REQUIRED, parse_quantities,
                free_quantities, "a mapping of quantities"),
};
static const om_cfg_schema model_schema = OM_SCHEMA(om_model, "model", model_fields, check_model);

int om_model_load(const char *path, om_model *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    int rc = om_cfg_load_file(path, &model_schema, out, diag, NULL);
    out->path = strdup(path);
    return rc;
}

void om_model_free(om_model *model)
{
    if (!model)
        return;
    om_cfg_free(&model_schema, model);
    free(model->path);
    model->path = NULL;
}

int om_catalogue_load(const char *dir, om_catalogue *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    char **names;
    size_t n;
    if (om_dir_list(dir, om_path_is_yaml, &names, &n) < 0) {
        om_diag_add(diag, dir, 0, 0, NULL, "cannot read the catalogue folder");
        return -1;
    }
    int rc = 0;
    if (n == 0) {
        om_diag_add(diag, dir, 0, 0, NULL, "no meter model files (*.yaml) in the catalogue folder");
        rc = -1;
    }
    out->models = n ? calloc(n, sizeof *out->models) : NULL;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (om_model_load(path, &out->models[out->nmodels], diag) < 0)
            rc = -1;
        out->nmodels++;
    }
    om_dir_list_free(names, n);
    return rc;
}

void om_catalogue_free(om_catalogue *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->nmodels; i++)
        om_model_free(&cat->models[i]);
    free(cat->models);
    cat->models = NULL;
    cat->nmodels = 0;
}

const om_model *om_catalogue_find(const om_catalogue *cat, const char *id)
{
    for (size_t i = 0; cat && id && i < cat->nmodels; i++)
        if (cat->models[i].id && strcmp(cat->models[i].id, id) == 0)
            return &cat->models[i];
    return NULL;
}

const om_quantity_def *om_model_find_quantity(const om_model *model, om_quantity q)
{
    for (size_t i = 0; model && i < model->nquantities; i++)
        if (model->quantities[i].quantity == q)
            return &model->quantities[i];
    return NULL;
}

uint16_t om_quantity_address(const om_quantity_def *def, unsigned channel)
{
    return (uint16_t)(def->address + channel * def->channel_stride);
}

om_regspec om_quantity_spec(const om_quantity_def *def, double litres_per_pulse)
{
    om_regspec spec = def->spec;
    if (def->scale_source == OM_SCALE_LITRES_PER_PULSE)
        spec.scale = def->spec.scale * litres_per_pulse / 1000.0;
    return spec;
}
