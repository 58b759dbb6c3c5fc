/* SPDX-License-Identifier: Apache-2.0 */
/*
 * site.c - load and cross-check a site file (sites/NAME.yaml).
 *
 * Per-key rules live in the schema tables; the rules that relate keys to
 * each other (a meter's bus belongs to its gateway, floor-area periods do
 * not overlap, ids are unique, a model exists in the catalogue and has the
 * quantity the meter's utility needs) run in check_site() once the whole
 * file is parsed, so the order of keys in the file does not matter.
 */
#include "officemeter/config/site.h"

#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/base/tz.h"
#include "yamlcfg_private.h"

static const char *const utility_names[] = {"electricity", "water", NULL};
static const char *const role_names[] = {"main", "sub", NULL};

/* ---- custom values ---------------------------------------------------- */

static int parse_timestamp(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    const char *s = om_cfg_scalar(node);
    char got[96];
    if (!s || !om_iso8601_has_offset(s) || om_parse_iso8601(s, (int64_t *)dst) < 0) {
        om_cfg_error(ctx, node, NULL,
                     "invalid timestamp (got %s, expected YYYY-MM-DDTHH:MM:SS with Z or ±HH:MM)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    return 0;
}

/* A date (local midnight, resolved against the site's zone later) or a
 * timestamp with offset. Stored provisionally as UTC; see resolve_active. */
static int parse_date_or_timestamp(om_cfg_ctx *ctx, yaml_node_t *node, void *dst,
                                   const om_cfg_field *f)
{
    const char *s = om_cfg_scalar(node);
    int32_t days;
    char got[96];
    if (s && om_parse_date(s, &days) == 0) {
        *(int64_t *)dst = (int64_t)days * 86400000;
        return 0;
    }
    if (s && om_iso8601_has_offset(s) && om_parse_iso8601(s, (int64_t *)dst) == 0)
        return 0;
    om_cfg_error(ctx, node, NULL,
                 "invalid date or timestamp (got %s, expected YYYY-MM-DD or "
                 "YYYY-MM-DDTHH:MM:SS±HH:MM)",
                 om_cfg_describe(node, got, sizeof got));
    return -1;
}

typedef struct {
    int64_t from;
    int64_t until;
} active_period;

static const om_cfg_field active_fields[] = {
    {.key = "from", .type = OM_CFG_CUSTOM, .offset = offsetof(active_period, from),
     .custom = parse_date_or_timestamp, .expect = "a date or timestamp"},
    {.key = "until", .type = OM_CFG_CUSTOM, .offset = offsetof(active_period, until),
     .custom = parse_date_or_timestamp, .expect = "a date or timestamp"},
};
static const om_cfg_schema active_schema = OM_SCHEMA(active_period, "active", active_fields, NULL);

static int parse_active(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_meter *m = (om_meter *)((char *)dst - offsetof(om_meter, active_from));
    active_period p = {OM_TIME_NONE, OM_TIME_NONE};
    om_cfg_parse_mapping(ctx, node, &active_schema, &p);
    m->active_from = p.from;
    m->active_until = p.until;
    if (node->type == YAML_MAPPING_NODE && node->data.mapping.pairs.top ==
                                               node->data.mapping.pairs.start)
        om_cfg_error(ctx, node, NULL, "empty (expected from and/or until)");
    return 0;
}

/* {energy_import_kwh: 123.4, ...}: a list of (quantity, value) pairs whose
 * count sits at f->count_offset in the enclosing struct. */
static int parse_counter_values(om_cfg_ctx *ctx, yaml_node_t *node, void *dst,
                                const om_cfg_field *f)
{
    char *obj = (char *)dst - f->offset;
    size_t *count = (size_t *)(obj + f->count_offset);
    om_counter_value **values = dst;
    char got[96];
    if (node->type != YAML_MAPPING_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a mapping of counter values)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    *values = n ? calloc(n, sizeof **values) : NULL;
    static const om_cfg_field number = {.key = "value", .type = OM_CFG_DOUBLE, .min = 0,
                                        .max = 1e15};
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &node->data.mapping.pairs.start[i];
        yaml_node_t *knode = yaml_document_get_node(ctx->doc, p->key);
        const char *name = om_cfg_scalar(knode);
        om_quantity q;
        if (!name || om_quantity_from_name(name, &q) < 0 ||
            om_quantity_get(q)->kind != OM_KIND_COUNTER) {
            om_cfg_error(ctx, knode, NULL,
                         "not a counter quantity (got %s, expected energy_import_kwh, "
                         "energy_export_kwh or water_m3)",
                         om_cfg_describe(knode, got, sizeof got));
            continue;
        }
        size_t saved = om_cfg_push_key(ctx, name);
        om_counter_value *v = &(*values)[*count];
        v->quantity = q;
        if (om_cfg_parse_value(ctx, yaml_document_get_node(ctx->doc, p->value), &number, &v->value) == 0)
            (*count)++;
        om_cfg_pop(ctx, saved);
    }
    return 0;
}

static void free_counter_values(void *dst)
{
    free(*(om_counter_value **)dst);
    *(om_counter_value **)dst = NULL;
}

/* headcount: {2023: 310, 2024: 280} */
static int parse_headcount(om_cfg_ctx *ctx, yaml_node_t *node, void *dst, const om_cfg_field *f)
{
    om_site *site = (om_site *)((char *)dst - offsetof(om_site, headcount));
    char got[96];
    if (node->type != YAML_MAPPING_NODE) {
        om_cfg_error(ctx, node, NULL, "wrong type (got %s, expected a mapping YEAR: COUNT)",
                     om_cfg_describe(node, got, sizeof got));
        return -1;
    }
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    site->headcount = n ? calloc(n, sizeof *site->headcount) : NULL;
    static const om_cfg_field year = {.key = "year", .type = OM_CFG_INT, .size = sizeof(int),
                                      .min = 1990, .max = 2100};
    static const om_cfg_field count = {.key = "count", .type = OM_CFG_UINT,
                                       .size = sizeof(unsigned), .min = 0, .max = 10000000};
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &node->data.mapping.pairs.start[i];
        yaml_node_t *knode = yaml_document_get_node(ctx->doc, p->key);
        om_headcount h = {0};
        if (om_cfg_parse_value(ctx, knode, &year, &h.year) < 0)
            continue;
        size_t saved = om_cfg_push_key(ctx, om_cfg_scalar(knode));
        bool dup = false;
        for (size_t k = 0; k < site->nheadcount; k++)
            dup = dup || site->headcount[k].year == h.year;
        if (dup)
            om_cfg_error(ctx, knode, NULL, "duplicate year");
        else if (om_cfg_parse_value(ctx, yaml_document_get_node(ctx->doc, p->value), &count,
                                    &h.count) == 0)
            site->headcount[site->nheadcount++] = h;
        om_cfg_pop(ctx, saved);
    }
    return 0;
}

static void free_headcount(void *dst)
{
    free(*(om_headcount **)dst);
    *(om_headcount **)dst = NULL;
}

/* ---- schemas ---------------------------------------------------------- */

static const om_cfg_field rtu_fields[] = {
    OM_F_STRING(om_rtu_params, device, "device", OM_CFG_REQUIRED),
    OM_F_UINT(om_rtu_params, baud, "baud", 0, 1200, 230400, "9600"),
    OM_F_CUSTOM(om_rtu_params, parity, "parity", 0, om_cfg_parse_parity, NULL, "N, E or O"),
    OM_F_UINT(om_rtu_params, data_bits, "data_bits", 0, 7, 8, "8"),
    OM_F_UINT(om_rtu_params, stop_bits, "stop_bits", 0, 1, 2, "1"),
};
static const om_cfg_schema rtu_schema = OM_SCHEMA(om_rtu_params, "rtu", rtu_fields, NULL);

static const om_cfg_field tcp_fields[] = {
    OM_F_STRING(om_tcp_params, host, "host", OM_CFG_REQUIRED),
    OM_F_UINT(om_tcp_params, port, "port", 0, 1, 65535, "502"),
};
static const om_cfg_schema tcp_schema = OM_SCHEMA(om_tcp_params, "tcp", tcp_fields, NULL);

static void check_bus(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_bus *bus = obj;
    bool rtu = om_cfg_get(ctx, node, "rtu") != NULL, tcp = om_cfg_get(ctx, node, "tcp") != NULL;
    bus->line = node->start_mark.line + 1;
    if (rtu == tcp)
        om_cfg_error(ctx, node, NULL, "%s (expected exactly one of rtu or tcp)",
                     rtu ? "both rtu and tcp given" : "neither rtu nor tcp given");
    bus->kind = tcp ? OM_BUS_TCP : OM_BUS_RTU;
    bus->declared_kind = bus->kind;
    if (!bus->rtu.parity)
        bus->rtu.parity = 'N';
}

static const om_cfg_field bus_fields[] = {
    OM_F_ID(om_bus, id, "id", OM_CFG_REQUIRED),
    OM_F_STRUCT(om_bus, rtu, "rtu", 0, &rtu_schema),
    OM_F_STRUCT(om_bus, tcp, "tcp", 0, &tcp_schema),
};
static const om_cfg_schema bus_schema = OM_SCHEMA(om_bus, "bus", bus_fields, check_bus);

static const om_cfg_field gateway_fields[] = {
    OM_F_ID(om_gateway, id, "id", OM_CFG_REQUIRED),
    OM_F_LIST(om_gateway, buses, nbuses, "buses", OM_CFG_REQUIRED | OM_CFG_NONEMPTY, &bus_schema),
};
static const om_cfg_schema gateway_schema =
    OM_SCHEMA(om_gateway, "gateway", gateway_fields, NULL);

static void check_meter(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_meter *m = obj;
    m->line = node->start_mark.line + 1;
    if (!om_cfg_get(ctx, node, "active"))
        m->active_from = m->active_until = OM_TIME_NONE;
}

static const om_cfg_field meter_fields[] = {
    OM_F_ID(om_meter, id, "id", OM_CFG_REQUIRED),
    OM_F_ID(om_meter, model_id, "model", OM_CFG_REQUIRED),
    OM_F_ID(om_meter, gateway_id, "gateway", OM_CFG_REQUIRED),
    OM_F_ID(om_meter, bus_id, "bus", OM_CFG_REQUIRED),
    OM_F_UINT(om_meter, unit_id, "unit_id", OM_CFG_REQUIRED, 0, 255, NULL),
    OM_F_UINT(om_meter, channel, "channel", 0, 0, 63, "0"),
    OM_F_DOUBLE(om_meter, litres_per_pulse, "litres_per_pulse", 0, 0.001, 100000, NULL),
    OM_F_ENUM(om_meter, utility, "utility", OM_CFG_REQUIRED, utility_names, NULL),
    OM_F_ENUM(om_meter, role, "role", OM_CFG_REQUIRED, role_names, NULL),
    OM_F_CUSTOM(om_meter, active_from, "active", 0, parse_active, NULL, "{from, until}"),
};
static const om_cfg_schema meter_schema = OM_SCHEMA(om_meter, "meter", meter_fields, check_meter);

static const om_cfg_field area_fields[] = {
    OM_F_DATE(om_area_period, from, "from", OM_CFG_REQUIRED),
    OM_F_DOUBLE(om_area_period, m2, "m2", OM_CFG_REQUIRED, 1, 1e7, NULL),
};
static const om_cfg_schema area_schema = OM_SCHEMA(om_area_period, "floor area", area_fields, NULL);

static const om_cfg_field replacement_fields[] = {
    OM_F_ID(om_replacement, meter_id, "meter", OM_CFG_REQUIRED),
    OM_F_CUSTOM(om_replacement, at, "at", OM_CFG_REQUIRED, parse_timestamp, NULL, "a timestamp"),
    {.key = "old_final", .type = OM_CFG_CUSTOM, .offset = offsetof(om_replacement, old_final),
     .flags = OM_CFG_REQUIRED, .custom = parse_counter_values, .custom_free = free_counter_values,
     .count_offset = offsetof(om_replacement, nold_final)},
    {.key = "new_initial", .type = OM_CFG_CUSTOM, .offset = offsetof(om_replacement, new_initial),
     .flags = OM_CFG_REQUIRED, .custom = parse_counter_values, .custom_free = free_counter_values,
     .count_offset = offsetof(om_replacement, nnew_initial)},
};
static const om_cfg_schema replacement_schema =
    OM_SCHEMA(om_replacement, "replacement", replacement_fields, NULL);

static void check_instrument(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_instrument *in = obj;
    if (in->kind && strcmp(in->kind, "certificate") != 0 && strcmp(in->kind, "contract") != 0)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "kind"), "kind",
                     "unknown value (got \"%s\", expected certificate or contract)", in->kind);
}

static const om_cfg_field instrument_fields[] = {
    OM_F_INT(om_instrument, year, "year", OM_CFG_REQUIRED, 1990, 2100, NULL),
    OM_F_DOUBLE(om_instrument, mwh, "mwh", OM_CFG_REQUIRED, 0, 1e9, NULL),
    OM_F_STRING(om_instrument, kind, "kind", OM_CFG_REQUIRED),
};
static const om_cfg_schema instrument_schema =
    OM_SCHEMA(om_instrument, "instrument", instrument_fields, check_instrument);

static void check_site(om_cfg_ctx *ctx, yaml_node_t *node, void *obj);

static const om_cfg_field site_fields[] = {
    OM_F_ID(om_site, site, "site", OM_CFG_REQUIRED),
    OM_F_STRING(om_site, name, "name", OM_CFG_REQUIRED),
    OM_F_STRING(om_site, timezone, "timezone", OM_CFG_REQUIRED),
    OM_F_STRING(om_site, grid_region, "grid_region", OM_CFG_REQUIRED),
    OM_F_BOOL(om_site, net_export, "net_export", 0, "false"),
    OM_F_LIST(om_site, floor_area, nfloor_area, "floor_area_m2", OM_CFG_REQUIRED | OM_CFG_NONEMPTY,
              &area_schema),
    OM_F_CUSTOM(om_site, headcount, "headcount", 0, parse_headcount, free_headcount,
                "a mapping YEAR: COUNT"),
    OM_F_LIST(om_site, gateways, ngateways, "gateways", OM_CFG_REQUIRED | OM_CFG_NONEMPTY,
              &gateway_schema),
    OM_F_LIST(om_site, meters, nmeters, "meters", OM_CFG_REQUIRED | OM_CFG_NONEMPTY, &meter_schema),
    OM_F_LIST(om_site, replacements, nreplacements, "replacements", 0, &replacement_schema),
    OM_F_LIST(om_site, instruments, ninstruments, "instruments", 0, &instrument_schema),
};
static const om_cfg_schema site_schema = OM_SCHEMA(om_site, "site", site_fields, check_site);

/* ---- cross-checks ----------------------------------------------------- */

/* The node of list[i].key, for pointing an error at the right line. */
static yaml_node_t *list_key(om_cfg_ctx *ctx, yaml_node_t *root, const char *list, size_t i,
                             const char *key)
{
    yaml_node_t *item = om_cfg_item(ctx, om_cfg_get(ctx, root, list), i);
    yaml_node_t *v = key ? om_cfg_get(ctx, item, key) : NULL;
    return v ? v : item ? item : root;
}

static void check_floor_area(om_cfg_ctx *ctx, yaml_node_t *root, const om_site *s)
{
    char a[16], b[16], key[64];
    yaml_node_t *list = om_cfg_get(ctx, root, "floor_area_m2");
    for (size_t i = 1; i < s->nfloor_area; i++) {
        if (s->floor_area[i].from > s->floor_area[i - 1].from ||
            !om_cfg_key_valid(ctx, om_cfg_item(ctx, list, i), "from") ||
            !om_cfg_key_valid(ctx, om_cfg_item(ctx, list, i - 1), "from"))
            continue;
        snprintf(key, sizeof key, "floor_area_m2[%zu].from", i);
        om_cfg_error(ctx, list_key(ctx, root, "floor_area_m2", i, "from"), key,
                     "periods overlap or are out of order (got %s, expected a date after %s)",
                     om_format_date(s->floor_area[i].from, a, sizeof a),
                     om_format_date(s->floor_area[i - 1].from, b, sizeof b));
    }
}

static void check_gateways(om_cfg_ctx *ctx, yaml_node_t *root, const om_site *s)
{
    char key[96];
    for (size_t g = 0; g < s->ngateways; g++) {
        const om_gateway *gw = &s->gateways[g];
        for (size_t h = 0; h < g; h++) {
            if (gw->id && s->gateways[h].id && strcmp(gw->id, s->gateways[h].id) == 0) {
                snprintf(key, sizeof key, "gateways[%zu].id", g);
                om_cfg_error(ctx, list_key(ctx, root, "gateways", g, "id"), key,
                             "duplicate gateway id (got \"%s\", already used by gateways[%zu])",
                             gw->id, h);
            }
        }
        yaml_node_t *gnode = om_cfg_item(ctx, om_cfg_get(ctx, root, "gateways"), g);
        for (size_t b = 0; b < gw->nbuses; b++) {
            for (size_t c = 0; c < b; c++) {
                if (!gw->buses[b].id || !gw->buses[c].id ||
                    strcmp(gw->buses[b].id, gw->buses[c].id) != 0)
                    continue;
                snprintf(key, sizeof key, "gateways[%zu].buses[%zu].id", g, b);
                yaml_node_t *bnode = om_cfg_item(ctx, om_cfg_get(ctx, gnode, "buses"), b);
                om_cfg_error(ctx, om_cfg_get(ctx, bnode, "id"), key,
                             "duplicate bus id (got \"%s\", already used by buses[%zu])",
                             gw->buses[b].id, c);
            }
        }
    }
}

static void list_ids(char *buf, size_t len, size_t n, const char *(*id)(const void *, size_t),
                     const void *arr)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", id(arr, i));
}

static const char *gateway_id_at(const void *arr, size_t i)
{
    const char *id = ((const om_gateway *)arr)[i].id;
    return id ? id : "?";
}

static const char *bus_id_at(const void *arr, size_t i)
{
    const char *id = ((const om_bus *)arr)[i].id;
    return id ? id : "?";
}

/* Model-dependent checks: quantity for the utility, channel, pulse scale. */
static void check_meter_model(om_cfg_ctx *ctx, yaml_node_t *root, size_t i, om_meter *m,
                              const om_catalogue *cat)
{
    char key[96];
    m->model = om_catalogue_find(cat, m->model_id);
    if (!m->model) {
        snprintf(key, sizeof key, "meters[%zu].model", i);
        om_cfg_error(ctx, list_key(ctx, root, "meters", i, "model"), key,
                     "unknown model (got \"%s\", expected a file in the catalogue)", m->model_id);
        return;
    }
    om_quantity need = m->utility == OM_UTILITY_WATER ? OM_Q_WATER_M3 : OM_Q_ENERGY_IMPORT_KWH;
    const om_quantity_def *def = om_model_find_quantity(m->model, need);
    if (!def) {
        snprintf(key, sizeof key, "meters[%zu].utility", i);
        om_cfg_error(ctx, list_key(ctx, root, "meters", i, "utility"), key,
                     "model %s has no %s register (got utility %s)", m->model_id,
                     om_quantity_get(need)->name, utility_names[m->utility]);
    }
    if (m->channel && m->channel >= m->model->channels) {
        snprintf(key, sizeof key, "meters[%zu].channel", i);
        om_cfg_error(ctx, list_key(ctx, root, "meters", i, "channel"), key,
                     "out of range (got %u, expected 0 to %d for model %s)", m->channel,
                     (int)m->model->channels - 1, m->model_id);
    }
    bool pulses = false;
    for (size_t q = 0; q < m->model->nquantities; q++)
        pulses = pulses || m->model->quantities[q].scale_source == OM_SCALE_LITRES_PER_PULSE;
    if (pulses && m->litres_per_pulse <= 0) {
        snprintf(key, sizeof key, "meters[%zu].litres_per_pulse", i);
        om_cfg_error(ctx, list_key(ctx, root, "meters", i, NULL), key,
                     "missing: model %s counts pulses, so the meter needs its litres per pulse",
                     m->model_id);
    } else if (!pulses && m->litres_per_pulse > 0) {
        snprintf(key, sizeof key, "meters[%zu].litres_per_pulse", i);
        om_cfg_error(ctx, list_key(ctx, root, "meters", i, "litres_per_pulse"), key,
                     "not used: model %s does not count pulses", m->model_id);
    }
}

static void check_meter_refs(om_cfg_ctx *ctx, yaml_node_t *root, om_site *s,
                             const om_catalogue *cat)
{
    char key[96], ids[512];
    for (size_t i = 0; i < s->nmeters; i++) {
        om_meter *m = &s->meters[i];
        for (size_t k = 0; k < i; k++) {
            if (m->id && s->meters[k].id && strcmp(m->id, s->meters[k].id) == 0) {
                snprintf(key, sizeof key, "meters[%zu].id", i);
                om_cfg_error(ctx, list_key(ctx, root, "meters", i, "id"), key,
                             "duplicate meter id (got \"%s\", already used by meters[%zu])", m->id,
                             k);
            }
        }
        const om_gateway *gw = om_site_find_gateway(s, m->gateway_id);
        if (m->gateway_id && !gw) {
            snprintf(key, sizeof key, "meters[%zu].gateway", i);
            list_ids(ids, sizeof ids, s->ngateways, gateway_id_at, s->gateways);
            om_cfg_error(ctx, list_key(ctx, root, "meters", i, "gateway"), key,
                         "unknown gateway (got \"%s\", expected one of %s)", m->gateway_id, ids);
        }
        const om_bus *bus = gw ? om_gateway_find_bus(gw, m->bus_id) : NULL;
        if (gw && m->bus_id && !bus) {
            snprintf(key, sizeof key, "meters[%zu].bus", i);
            list_ids(ids, sizeof ids, gw->nbuses, bus_id_at, gw->buses);
            om_cfg_error(ctx, list_key(ctx, root, "meters", i, "bus"), key,
                         "unknown bus of gateway %s (got \"%s\", expected one of %s)", gw->id,
                         m->bus_id, ids);
        }
        if (bus && bus->kind == OM_BUS_RTU && (m->unit_id < 1 || m->unit_id > 247)) {
            snprintf(key, sizeof key, "meters[%zu].unit_id", i);
            om_cfg_error(ctx, list_key(ctx, root, "meters", i, "unit_id"), key,
                         "out of range for an RTU bus (got %u, expected 1 to 247)", m->unit_id);
        }
        for (size_t k = 0; bus && k < i; k++) {
            const om_meter *o = &s->meters[k];
            if (o->gateway_id && o->bus_id && strcmp(o->gateway_id, m->gateway_id) == 0 &&
                strcmp(o->bus_id, m->bus_id) == 0 && o->unit_id == m->unit_id &&
                o->channel == m->channel) {
                snprintf(key, sizeof key, "meters[%zu].unit_id", i);
                om_cfg_error(ctx, list_key(ctx, root, "meters", i, "unit_id"), key,
                             "unit id %u is already used on bus %s by meter %s", m->unit_id,
                             m->bus_id, o->id);
            }
        }
        if (cat && m->model_id)
            check_meter_model(ctx, root, i, m, cat);
        /* An RTU-only model may sit behind a TCP gateway, but a TCP-only
         * device (a counter module on Ethernet) cannot be on a serial line. */
        if (bus && m->model && bus->kind == OM_BUS_RTU && !m->model->rtu) {
            snprintf(key, sizeof key, "meters[%zu].bus", i);
            om_cfg_error(ctx, list_key(ctx, root, "meters", i, "bus"), key,
                         "model %s has no RS-485 interface (got RTU bus \"%s\", expected a TCP "
                         "bus)",
                         m->model_id, m->bus_id);
        }
    }
}

/* Dates in `active` are local midnights in the site's zone. */
static void resolve_active(om_cfg_ctx *ctx, yaml_node_t *root, om_site *s)
{
    char key[96];
    for (size_t i = 0; i < s->nmeters; i++) {
        om_meter *m = &s->meters[i];
        yaml_node_t *active = list_key(ctx, root, "meters", i, "active");
        const char *keys[2] = {"from", "until"};
        int64_t *vals[2] = {&m->active_from, &m->active_until};
        for (int k = 0; k < 2; k++) {
            const char *text = om_cfg_scalar(om_cfg_get(ctx, active, keys[k]));
            int32_t days;
            if (text && om_parse_date(text, &days) == 0 &&
                om_tz_local_to_utc(s->timezone, days, 0, vals[k]) < 0)
                *vals[k] = (int64_t)days * 86400000;
        }
        if (m->active_from != OM_TIME_NONE && m->active_until != OM_TIME_NONE &&
            m->active_from >= m->active_until) {
            snprintf(key, sizeof key, "meters[%zu].active", i);
            om_cfg_error(ctx, active, key, "empty service life (expected from before until)");
        }
    }
}

static void check_replacements(om_cfg_ctx *ctx, yaml_node_t *root, const om_site *s)
{
    char key[96];
    for (size_t i = 0; i < s->nreplacements; i++) {
        const om_replacement *r = &s->replacements[i];
        const om_meter *m = om_site_find_meter(s, r->meter_id);
        if (r->meter_id && !m) {
            snprintf(key, sizeof key, "replacements[%zu].meter", i);
            om_cfg_error(ctx, list_key(ctx, root, "replacements", i, "meter"), key,
                         "unknown meter (got \"%s\", expected a meter id of this site)",
                         r->meter_id);
            continue;
        }
        for (size_t k = 0; m && m->model && k < r->nold_final; k++) {
            if (om_model_find_quantity(m->model, r->old_final[k].quantity))
                continue;
            snprintf(key, sizeof key, "replacements[%zu].old_final", i);
            om_cfg_error(ctx, list_key(ctx, root, "replacements", i, "old_final"), key,
                         "model %s has no %s", m->model_id,
                         om_quantity_get(r->old_final[k].quantity)->name);
        }
        for (size_t k = 0; k < i; k++) {
            if (s->replacements[k].meter_id && r->meter_id &&
                strcmp(s->replacements[k].meter_id, r->meter_id) == 0 &&
                s->replacements[k].at >= r->at) {
                snprintf(key, sizeof key, "replacements[%zu].at", i);
                om_cfg_error(ctx, list_key(ctx, root, "replacements", i, "at"), key,
                             "replacements of meter %s must be in time order", r->meter_id);
            }
        }
    }
}

static void check_site(om_cfg_ctx *ctx, yaml_node_t *node, void *obj)
{
    om_site *s = obj;
    const om_catalogue *cat = ctx->user;
    const char *base = strrchr(ctx->file, '/');
    base = base ? base + 1 : ctx->file;
    size_t stem_len = strcspn(base, ".");
    if (s->site && (strlen(s->site) != stem_len || strncmp(s->site, base, stem_len) != 0))
        om_cfg_error(ctx, om_cfg_get(ctx, node, "site"), "site",
                     "must equal the file name (got \"%s\", expected \"%.*s\")", s->site,
                     (int)stem_len, base);
    if (s->timezone && om_tz_valid(s->timezone) < 0)
        om_cfg_error(ctx, om_cfg_get(ctx, node, "timezone"), "timezone",
                     "unknown time zone (got \"%s\", expected an IANA zone such as Asia/Shanghai)",
                     s->timezone);
    check_floor_area(ctx, node, s);
    check_gateways(ctx, node, s);
    check_meter_refs(ctx, node, s, cat);
    if (s->timezone && om_tz_valid(s->timezone) == 0)
        resolve_active(ctx, node, s);
    check_replacements(ctx, node, s);
}

/* ---- public API ------------------------------------------------------- */

int om_site_load(const char *path, const om_catalogue *cat, om_site *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    int rc = om_cfg_load_file(path, &site_schema, out, diag, (void *)cat);
    out->path = strdup(path);
    return rc;
}

void om_site_free(om_site *site)
{
    if (!site)
        return;
    om_cfg_free(&site_schema, site);
    free(site->path);
    site->path = NULL;
}

const om_gateway *om_site_find_gateway(const om_site *site, const char *id)
{
    for (size_t i = 0; id && i < site->ngateways; i++)
        if (site->gateways[i].id && strcmp(site->gateways[i].id, id) == 0)
            return &site->gateways[i];
    return NULL;
}

const om_bus *om_gateway_find_bus(const om_gateway *gw, const char *id)
{
    for (size_t i = 0; gw && id && i < gw->nbuses; i++)
        if (gw->buses[i].id && strcmp(gw->buses[i].id, id) == 0)
            return &gw->buses[i];
    return NULL;
}

const om_meter *om_site_find_meter(const om_site *site, const char *id)
{
    for (size_t i = 0; id && i < site->nmeters; i++)
        if (site->meters[i].id && strcmp(site->meters[i].id, id) == 0)
            return &site->meters[i];
    return NULL;
}

const om_bus *om_site_meter_bus(const om_site *site, const om_meter *meter)
{
    return om_gateway_find_bus(om_site_find_gateway(site, meter->gateway_id), meter->bus_id);
}
