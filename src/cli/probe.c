/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.c - `officemeter probe`: read one meter once and show what it says.
 *
 * The commissioning tool. It decodes with the same catalogue and codec as the
 * agent, so what the probe shows is what the agent will publish; it also
 * shows the raw registers, the request that fetched them, and the exact
 * integer behind an integer counter, so a wrong address, scale or word order
 * is visible at a glance. `--guess-order` decodes the same registers in all
 * four word orders and says which give plausible numbers, because a wrong
 * word order is the commonest commissioning mistake.
 *
 * Flow: parse options -> load catalogue and site -> apply --bus overrides ->
 * open the bus (om_mbconn_open) -> one request per quantity (split at the
 * model's max_registers_per_request, with the model's min_gap_ms between
 * requests) -> decode -> print a table, JSON, or the word-order guess.
 *
 * Exit status: 0 when every quantity was read (a "not available" pattern or
 * an optional quantity the variant does not have is an answer, not a
 * failure); 1 when the meter did not answer, answered an exception, or a file
 * is wrong; 2 on bad usage or an unknown meter.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <modbus.h>

#include "commands.h"
#include "officemeter/config/busoverride.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/base/codec.h"
#include "officemeter/base/diag.h"
#include "officemeter/modbus/mbconn.h"
#include "officemeter/modbus/plan.h"
#include "officemeter/base/quantity.h"
#include "officemeter/config/site.h"

#define PROG "officemeter probe"
#define DEFAULT_CATALOGUE "firmware-config/meters"
#define MAX_OVERRIDES 16

typedef struct {
    const char *site_path;
    const char *meter_id;
    const char *catalogue_dir;
    const char *bus_texts[MAX_OVERRIDES];
    size_t nbus_texts;
    bool json;
    bool guess_order;
    unsigned timeout_ms; /* 0: the model's timeout */
} probe_options;

typedef enum {
    READ_OK,
    READ_NOT_AVAILABLE,  /* a sentinel pattern: the meter has no value */
    READ_NOT_FINITE,     /* NaN or infinity */
    READ_NOT_SUPPORTED,  /* optional quantity, exception 2 */
    READ_FAILED,         /* no answer, exception, bad CRC, ... */
    READ_SKIPPED,        /* not attempted after a failure that ends the conversation */
} read_status;

typedef struct {
    const om_quantity_def *def;
    const char *name;
    uint16_t address; /* for the meter's channel */
    om_regspec spec;  /* with the meter's litres_per_pulse */
    uint16_t regs[OM_CODEC_MAX_REGS];
    size_t nregs;
    read_status status;
    om_value value;
    uint64_t sentinel; /* READ_NOT_AVAILABLE: the pattern seen */
    char error[512];
} probe_reading;

typedef struct {
    const om_meter *meter;
    const om_model *model;
    const om_bus *bus;
    unsigned timeout_ms;
    probe_reading *readings;
    size_t nreadings;
    size_t nfailed;
    const char *first_error;
} probe_result;

/* ---- options ----------------------------------------------------------- */

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --site FILE --meter ID [OPTIONS]\n"
            "\n"
            "Read every quantity of one meter once and print the decoded values, the raw\n"
            "registers and the request that fetched them.\n"
            "\n"
            "  --site FILE          site file declaring the meter and its bus\n"
            "  --meter ID           the meter to read\n"
            "  --catalogue DIR      meter catalogue (default: " DEFAULT_CATALOGUE ")\n"
            "  --bus [GW/]BUS=tcp:HOST:PORT | BUS=rtu:DEVICE\n"
            "                       read through another endpoint than the site file's\n"
            "                       (repeatable)\n"
            "  --timeout MS         response timeout (default: the model's timeout_ms)\n"
            "  --json               machine-readable output\n"
            "  --guess-order        decode the registers in all four word orders and mark\n"
            "                       the plausible ones\n"
            "  --help               this text\n"
            "\n"
            "Exit status: 0 every quantity read; 1 no answer, exception or bad file;\n"
            "2 bad usage or unknown meter.\n");
}

static int parse_timeout(const char *text, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || v < 1 || v > 60000 || text[0] == '-')
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Returns 0, or the exit status to return right away (2 bad usage, or -1 for
 * --help, which exits 0). */
static int parse_options(int argc, char **argv, probe_options *opt)
{
    enum { OPT_SITE = 1, OPT_METER, OPT_CATALOGUE, OPT_BUS, OPT_JSON, OPT_GUESS, OPT_TIMEOUT };
    static const struct option longopts[] = {
        {"site", required_argument, NULL, OPT_SITE},
        {"meter", required_argument, NULL, OPT_METER},
        {"catalogue", required_argument, NULL, OPT_CATALOGUE},
        {"bus", required_argument, NULL, OPT_BUS},
        {"json", no_argument, NULL, OPT_JSON},
        {"guess-order", no_argument, NULL, OPT_GUESS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(opt, 0, sizeof *opt);
    opt->catalogue_dir = DEFAULT_CATALOGUE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SITE: opt->site_path = optarg; break;
        case OPT_METER: opt->meter_id = optarg; break;
        case OPT_CATALOGUE: opt->catalogue_dir = optarg; break;
        case OPT_JSON: opt->json = true; break;
        case OPT_GUESS: opt->guess_order = true; break;
        case OPT_BUS:
            if (opt->nbus_texts == MAX_OVERRIDES) {
                fprintf(stderr, PROG ": too many --bus options (at most %d)\n", MAX_OVERRIDES);
                return 2;
            }
            opt->bus_texts[opt->nbus_texts++] = optarg;
            break;
        case OPT_TIMEOUT:
            if (parse_timeout(optarg, &opt->timeout_ms) < 0) {
                fprintf(stderr, PROG ": --timeout: expected milliseconds 1..60000, got \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        case 'h': print_help(stdout); return -1;
        default:
            fprintf(stderr, PROG ": unknown or incomplete option \"%s\" (try --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\" (try --help)\n", argv[optind]);
        return 2;
    }
    if (!opt->site_path || !opt->meter_id) {
        fprintf(stderr, PROG ": --site and --meter are required (try --help)\n");
        return 2;
    }
    return 0;
}

/* ---- configuration ----------------------------------------------------- */

static int apply_overrides(const probe_options *opt, om_site *site)
{
    om_bus_override ovs[MAX_OVERRIDES];
    size_t n = 0;
    char err[512];
    int rc = 2;
    for (; n < opt->nbus_texts; n++) {
        if (om_bus_override_parse(opt->bus_texts[n], &ovs[n], err, sizeof err) < 0) {
            fprintf(stderr, PROG ": --bus %s: %s\n", opt->bus_texts[n], err);
            goto done;
        }
    }
    if (om_bus_override_apply(site, ovs, n, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": --bus: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; i < n; i++)
        om_bus_override_free(&ovs[i]);
    return rc;
}

/* Loads catalogue and site; returns 0 or an exit status. */
static int load_config(const probe_options *opt, om_catalogue *cat, om_site *site)
{
    om_diag diag;
    om_diag_init(&diag);
    int rc = 1;
    if (om_catalogue_load(opt->catalogue_dir, cat, &diag) < 0) {
        om_diag_print(&diag, stderr);
        fprintf(stderr, PROG ": cannot load the meter catalogue %s\n", opt->catalogue_dir);
        goto done;
    }
    if (om_site_load(opt->site_path, cat, site, &diag) < 0) {
        om_diag_print(&diag, stderr);
        fprintf(stderr, PROG ": cannot load the site file %s\n", opt->site_path);
        goto done;
    }
    rc = apply_overrides(opt, site);
done:
    om_diag_free(&diag);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

static void sleep_us(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Silence before the next request, as the agent keeps it: the line's t3.5
 * (which libmodbus does not enforce) and the model's gap. */
static uint64_t request_gap_us(const om_model *model, const om_bus *bus)
{
    return om_bus_silence_us(bus) + 1000u * (uint64_t)model->min_gap_ms;
}

static void decode_reading(probe_reading *r)
{
    om_decode_status st = om_codec_decode(&r->spec, r->regs, r->nregs, &r->value);
    switch (st) {
    case OM_DECODE_OK: r->status = READ_OK; break;
    case OM_DECODE_NOT_AVAILABLE:
        r->status = READ_NOT_AVAILABLE;
        if (!om_codec_sentinel_shown(&r->spec, r->regs, r->nregs, &r->sentinel))
            r->sentinel = r->spec.nsentinels ? r->spec.sentinels[0] : 0;
        break;
    case OM_DECODE_NOT_FINITE: r->status = READ_NOT_FINITE; break;
    default:
        r->status = READ_FAILED;
        snprintf(r->error, sizeof r->error, "cannot decode %zu registers as %s", r->nregs,
                 om_type_name(r->spec.type));
        break;
    }
}

/* Fetch one quantity's registers, in pieces of at most max_registers_per_request.
 * Returns 0, or -1 with errno from libmodbus and the message in r->error. */
static int fetch_registers(modbus_t *ctx, const probe_result *res, probe_reading *r,
                           uint64_t gap_us, bool *first_request)
{
    unsigned max = res->model->max_registers_per_request ? res->model->max_registers_per_request
                                                         : 125;
    size_t done = 0;
    while (done < r->nregs) {
        size_t n = r->nregs - done < max ? r->nregs - done : max;
        if (!*first_request)
            sleep_us(gap_us);
        *first_request = false;
        if (om_mbconn_read(ctx, res->bus, res->meter->unit_id, r->def->function,
                           (uint16_t)(r->address + done), (uint16_t)n, r->regs + done, r->error,
                           sizeof r->error) < 0)
            return -1;
        done += n;
    }
    return 0;
}

/* Reads every quantity. A Modbus exception concerns one register, so the
 * others are still read; anything else (no answer, bad CRC, a dropped
 * connection) means the conversation is broken and the rest is skipped
 * rather than waiting out one timeout per quantity. */
static void read_all(modbus_t *ctx, probe_result *res)
{
    uint64_t gap = request_gap_us(res->model, res->bus);
    bool first = true;
    bool broken = false;
    for (size_t i = 0; i < res->nreadings; i++) {
        probe_reading *r = &res->readings[i];
        if (broken) {
            r->status = READ_SKIPPED;
            continue;
        }
        if (fetch_registers(ctx, res, r, gap, &first) == 0) {
            decode_reading(r);
        } else {
            unsigned exc = 0;
            bool exception = om_mb_classify(errno, &exc) == OM_MB_EXCEPTION;
            if (exception && exc == MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS && r->def->optional) {
                r->status = READ_NOT_SUPPORTED;
                continue;
            }
            r->status = READ_FAILED;
            broken = !exception;
        }
        if (r->status == READ_FAILED && res->nfailed++ == 0)
            res->first_error = r->error;
    }
}

static int prepare_readings(probe_result *res)
{
    const om_model *model = res->model;
    res->readings = calloc(model->nquantities ? model->nquantities : 1, sizeof *res->readings);
    if (!res->readings) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    res->nreadings = model->nquantities;
    for (size_t i = 0; i < model->nquantities; i++) {
        probe_reading *r = &res->readings[i];
        r->def = &model->quantities[i];
        r->name = om_quantity_get(r->def->quantity)->name;
        r->address = om_quantity_address(r->def, res->meter->channel);
        r->spec = om_quantity_spec(r->def, res->meter->litres_per_pulse);
        r->nregs = r->def->count;
        if (r->nregs == 0 || r->nregs > OM_CODEC_MAX_REGS) {
            fprintf(stderr, PROG ": %s: %s: invalid register count %zu\n", model->path,
                    r->name, r->nregs);
            return -1;
        }
        r->status = READ_SKIPPED;
    }
    return 0;
}

/* ---- human output ------------------------------------------------------ */

static void describe_bus(const om_bus *bus, char *buf, size_t len)
{
    if (bus->kind == OM_BUS_RTU)
        snprintf(buf, len, "%s: rtu %s %u %u%c%u", bus->id, bus->rtu.device, bus->rtu.baud,
                 bus->rtu.data_bits, bus->rtu.parity ? bus->rtu.parity : 'N', bus->rtu.stop_bits);
    else
        snprintf(buf, len, "%s: tcp %s:%u", bus->id, bus->tcp.host, bus->tcp.port);
}

/* Enough decimals to show one step of the quantity's scale, at least 3. */
static int decimals_for(const om_regspec *spec)
{
    double s = fabs(spec->scale);
    int d = 3;
    if (s > 0 && s < 1e-3)
        d = (int)ceil(-log10(s) - 1e-9);
    return d > 9 ? 9 : d;
}

static void format_value(const probe_reading *r, char *buf, size_t len)
{
    const char *unit = om_quantity_get(r->def->quantity)->unit;
    switch (r->status) {
    case READ_OK:
        snprintf(buf, len, "%.*f %s", decimals_for(&r->spec), r->value.value, unit);
        break;
    case READ_NOT_AVAILABLE:
        snprintf(buf, len, "n/a (sentinel 0x%llX)", (unsigned long long)r->sentinel);
        break;
    case READ_NOT_FINITE: snprintf(buf, len, "not finite (NaN or infinity)"); break;
    case READ_NOT_SUPPORTED: snprintf(buf, len, "not supported by this variant"); break;
    case READ_FAILED: snprintf(buf, len, "error (see below)"); break;
    case READ_SKIPPED: snprintf(buf, len, "not read"); break;
    }
}

static bool has_registers(const probe_reading *r)
{
    return r->status == READ_OK || r->status == READ_NOT_AVAILABLE ||
           r->status == READ_NOT_FINITE;
}

static void format_registers(const probe_reading *r, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (!has_registers(r)) {
        snprintf(buf, len, "-");
        return;
    }
    for (size_t i = 0; i < r->nregs && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%04X", i ? " " : "", r->regs[i]);
}

/* printf's %-*s pads bytes, not characters: "m³" would push the columns. */
static void print_cell(const char *text, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        chars += (*p & 0xC0) != 0x80;
    printf("%s%*s ", text, width > chars ? width - chars : 0, "");
}

static void print_header(const probe_result *res)
{
    char bus[400];
    describe_bus(res->bus, bus, sizeof bus);
    printf("meter     %s (model %s: %s %s)\n", res->meter->id, res->model->id,
           res->model->vendor, res->model->name);
    printf("bus       %s, unit %u, timeout %u ms\n", bus, res->meter->unit_id, res->timeout_ms);
    if (res->model->channels)
        printf("channel   %u\n", res->meter->channel);
    printf("\n%-18s %-34s %-20s %-12s %-14s %s\n", "quantity", "value", "raw integer",
           "request", "encoding", "registers (hex)");
}

static void print_table(const probe_result *res)
{
    print_header(res);
    for (size_t i = 0; i < res->nreadings; i++) {
        const probe_reading *r = &res->readings[i];
        char value[96], raw[32] = "-", request[32], encoding[24], regs[128];
        format_value(r, value, sizeof value);
        if (r->status == READ_OK && r->value.exact)
            snprintf(raw, sizeof raw, "%lld", (long long)r->value.raw);
        snprintf(request, sizeof request, "fc%u 0x%04X", r->def->function, r->address);
        snprintf(encoding, sizeof encoding, "%s %s", om_type_name(r->spec.type),
                 om_order_name(r->spec.order));
        format_registers(r, regs, sizeof regs);
        print_cell(r->name, 18);
        print_cell(value, 34);
        print_cell(raw, 20);
        print_cell(request, 12);
        print_cell(encoding, 14);
        printf("%s\n", regs);
    }
    for (size_t i = 0; i < res->nreadings; i++) {
        if (res->readings[i].status == READ_FAILED)
            printf("\n%s: %s", res->readings[i].name, res->readings[i].error);
    }
    if (res->nfailed)
        printf("\n");
}

/* ---- JSON output ------------------------------------------------------- */

/* Full precision: the JSON is compared bit for bit with the simulator's. */
static json_t *json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_registers(const probe_reading *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nregs; i++)
        json_array_append_new(a, json_integer(r->regs[i]));
    return a;
}

static const char *status_name(read_status s)
{
    static const char *const names[] = {
        [READ_OK] = "ok",
        [READ_NOT_AVAILABLE] = "not_available",
        [READ_NOT_FINITE] = "not_finite",
        [READ_NOT_SUPPORTED] = "not_supported",
        [READ_FAILED] = "error",
        [READ_SKIPPED] = "skipped",
    };
    return names[s];
}

static json_t *json_raw(const probe_reading *r)
{
    json_t *o = json_pack("{s:i, s:i, s:s, s:s}", "function", (int)r->def->function, "address",
                          (int)r->address, "type", om_type_name(r->spec.type), "order",
                          om_order_name(r->spec.order));
    json_object_set_new(o, "registers", has_registers(r) ? json_registers(r) : json_null());
    if (r->status == READ_OK && r->value.exact)
        json_object_set_new(o, "integer", json_integer(r->value.raw));
    if (r->status == READ_NOT_AVAILABLE) {
        /* As text: a 64-bit pattern does not fit a JSON integer. */
        char hex[24];
        snprintf(hex, sizeof hex, "0x%llX", (unsigned long long)r->sentinel);
        json_object_set_new(o, "sentinel", json_string(hex));
    }
    return o;
}

static json_t *json_meter_header(const probe_result *res)
{
    json_t *bus = json_pack("{s:s, s:s}", "id", res->bus->id, "kind",
                            res->bus->kind == OM_BUS_RTU ? "rtu" : "tcp");
    if (res->bus->kind == OM_BUS_RTU)
        json_object_set_new(bus, "device", json_string(res->bus->rtu.device));
    else {
        json_object_set_new(bus, "host", json_string(res->bus->tcp.host));
        json_object_set_new(bus, "port", json_integer(res->bus->tcp.port));
    }
    return json_pack("{s:s, s:s, s:o, s:i}", "meter", res->meter->id, "model", res->model->id,
                     "bus", bus, "unit", (int)res->meter->unit_id);
}

static void print_json_doc(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (text) {
        puts(text);
        free(text);
    }
    json_decref(doc);
}

static void print_json(const probe_result *res)
{
    json_t *doc = json_meter_header(res);
    json_t *values = json_object(), *raw = json_object(), *status = json_object();
    json_t *errors = json_object();
    for (size_t i = 0; i < res->nreadings; i++) {
        const probe_reading *r = &res->readings[i];
        json_object_set_new(values, r->name,
                            r->status == READ_OK ? json_number(r->value.value) : json_null());
        json_object_set_new(raw, r->name, json_raw(r));
        json_object_set_new(status, r->name, json_string(status_name(r->status)));
        if (r->status == READ_FAILED)
            json_object_set_new(errors, r->name, json_string(r->error));
    }
    json_object_set_new(doc, "values", values);
    json_object_set_new(doc, "raw", raw);
    json_object_set_new(doc, "status", status);
    json_object_set_new(doc, "errors", errors);
    print_json_doc(doc);
}

/* ---- word-order guess -------------------------------------------------- */

/*
 * Plausibility heuristic (docs/probe.md): a decoding is implausible when it is
 * a not-available pattern, NaN or infinity; when it is non-zero but smaller
 * than 1e-6 in canonical units (the exponent bits of a float landed in the
 * low bytes); or when it is outside what an office meter can show: counters
 * negative or at 1e9 kWh / m³ and above, power beyond ±10 MW, voltage below 0
 * or above 1000 V, flow beyond ±10000 m³/h. Returns NULL when plausible.
 */
static const char *implausible_reason(om_quantity q, om_decode_status st, double v)
{
    if (st == OM_DECODE_NOT_AVAILABLE)
        return "not-available pattern";
    if (st == OM_DECODE_NOT_FINITE || (st == OM_DECODE_OK && !isfinite(v)))
        return "NaN or infinity";
    if (st != OM_DECODE_OK)
        return "cannot decode";
    if (v != 0.0 && fabs(v) < 1e-6)
        return "tiny, bytes out of place";
    if (om_quantity_get(q)->kind == OM_KIND_COUNTER) {
        if (v < 0)
            return "negative counter";
        return v >= 1e9 ? "counter above 1e9" : NULL;
    }
    switch (q) {
    case OM_Q_POWER_KW: return fabs(v) > 10000.0 ? "beyond 10 MW" : NULL;
    case OM_Q_VOLTAGE_L1_V:
    case OM_Q_VOLTAGE_L2_V:
    case OM_Q_VOLTAGE_L3_V: return (v < 0 || v > 1000.0) ? "voltage outside 0..1000 V" : NULL;
    case OM_Q_FLOW_M3H: return fabs(v) > 10000.0 ? "flow beyond 10000 m3/h" : NULL;
    default: return NULL;
    }
}

typedef struct {
    om_decode_status status[OM_ORDER__COUNT];
    double value[OM_ORDER__COUNT];
    const char *reason[OM_ORDER__COUNT]; /* NULL: plausible */
} order_guess;

static void guess_orders(const probe_reading *r, order_guess *g)
{
    for (int o = 0; o < OM_ORDER__COUNT; o++) {
        om_regspec spec = r->spec;
        spec.order = (om_order)o;
        om_value v = {0};
        g->status[o] = om_codec_decode(&spec, r->regs, r->nregs, &v);
        g->value[o] = v.value;
        g->reason[o] = implausible_reason(r->def->quantity, g->status[o], v.value);
    }
}

/* Orders plausible for every quantity that answered, as a bit set. */
static unsigned plausible_for_all(const probe_result *res, size_t *nguessed)
{
    unsigned all = (1u << OM_ORDER__COUNT) - 1;
    *nguessed = 0;
    for (size_t i = 0; i < res->nreadings; i++) {
        const probe_reading *r = &res->readings[i];
        if (!has_registers(r))
            continue;
        order_guess g;
        guess_orders(r, &g);
        (*nguessed)++;
        for (int o = 0; o < OM_ORDER__COUNT; o++) {
            if (g.reason[o])
                all &= ~(1u << o);
        }
    }
    return all;
}

static void print_guess_quantity(const probe_reading *r)
{
    order_guess g;
    char regs[128];
    guess_orders(r, &g);
    format_registers(r, regs, sizeof regs);
    printf("%s (%s, registers %s)\n", r->name, om_type_name(r->spec.type), regs);
    for (int o = 0; o < OM_ORDER__COUNT; o++) {
        char value[64];
        if (g.status[o] == OM_DECODE_OK)
            snprintf(value, sizeof value, "%.6g", g.value[o]);
        else
            snprintf(value, sizeof value, "-");
        const char *verdict = g.reason[o] ? g.reason[o] : "plausible";
        if ((om_order)o == r->def->spec.order)
            printf("  %s  %-16s %-40s <- catalogue\n", om_order_name((om_order)o), value,
                   verdict);
        else
            printf("  %s  %-16s %s\n", om_order_name((om_order)o), value, verdict);
    }
}

static void print_order_set(unsigned set)
{
    bool any = false;
    for (int o = 0; o < OM_ORDER__COUNT; o++) {
        if (set & (1u << o)) {
            printf("%s%s", any ? " " : "", om_order_name((om_order)o));
            any = true;
        }
    }
    if (!any)
        printf("none");
}

static void print_guess(const probe_result *res)
{
    size_t nguessed = 0;
    unsigned all = plausible_for_all(res, &nguessed);
    printf("word order guess for meter %s (model %s)\n\n", res->meter->id, res->model->id);
    for (size_t i = 0; i < res->nreadings; i++) {
        if (has_registers(&res->readings[i]))
            print_guess_quantity(&res->readings[i]);
    }
    if (nguessed == 0) {
        printf("no quantity answered: nothing to guess from\n");
        return;
    }
    printf("\nplausible for every quantity: ");
    print_order_set(all);
    printf("\n");
    for (size_t i = 0; i < res->nreadings; i++) {
        const probe_reading *r = &res->readings[i];
        if (has_registers(r) && !(all & (1u << r->def->spec.order)))
            printf("warning: %s: the catalogue's order %s is not plausible for every quantity; "
                   "check the meter's word-order setting and the catalogue\n",
                   r->name, om_order_name(r->def->spec.order));
    }
}

static json_t *json_guess_quantity(const probe_reading *r)
{
    order_guess g;
    guess_orders(r, &g);
    json_t *orders = json_object();
    for (int o = 0; o < OM_ORDER__COUNT; o++) {
        json_t *e = json_pack("{s:o, s:b}", "value",
                              g.status[o] == OM_DECODE_OK ? json_number(g.value[o]) : json_null(),
                              "plausible", g.reason[o] == NULL);
        json_object_set_new(e, "reason", g.reason[o] ? json_string(g.reason[o]) : json_null());
        json_object_set_new(orders, om_order_name((om_order)o), e);
    }
    return json_pack("{s:s, s:o, s:o}", "catalogue", om_order_name(r->def->spec.order),
                     "registers", json_registers(r), "orders", orders);
}

static void print_guess_json(const probe_result *res)
{
    size_t nguessed = 0;
    unsigned all = plausible_for_all(res, &nguessed);
    json_t *doc = json_meter_header(res);
    json_t *guess = json_object(), *errors = json_object(), *plausible = json_array();
    for (size_t i = 0; i < res->nreadings; i++) {
        const probe_reading *r = &res->readings[i];
        if (has_registers(r))
            json_object_set_new(guess, r->name, json_guess_quantity(r));
        else if (r->status == READ_FAILED)
            json_object_set_new(errors, r->name, json_string(r->error));
    }
    for (int o = 0; nguessed && o < OM_ORDER__COUNT; o++) {
        if (all & (1u << o))
            json_array_append_new(plausible, json_string(om_order_name((om_order)o)));
    }
    json_object_set_new(doc, "guess", guess);
    json_object_set_new(doc, "plausible_orders", plausible);
    json_object_set_new(doc, "errors", errors);
    print_json_doc(doc);
}

/* ---- command ----------------------------------------------------------- */

static void report_failure(const probe_result *res)
{
    if (res->nfailed == 0)
        return;
    fprintf(stderr, PROG ": meter %s: %s", res->meter->id, res->first_error);
    if (res->nfailed > 1)
        fprintf(stderr, " (and %zu more failed reads)", res->nfailed - 1);
    fprintf(stderr, "\n");
}

static void print_result(const probe_options *opt, const probe_result *res)
{
    if (opt->guess_order && opt->json)
        print_guess_json(res);
    else if (opt->guess_order)
        print_guess(res);
    else if (opt->json)
        print_json(res);
    else
        print_table(res);
    fflush(stdout);
}

/* Resolve the meter, its model and bus; returns 0 or an exit status. */
static int resolve_meter(const probe_options *opt, const om_catalogue *cat, const om_site *site,
                         probe_result *res)
{
    res->meter = om_site_find_meter(site, opt->meter_id);
    if (!res->meter) {
        fprintf(stderr, PROG ": %s: no meter \"%s\" in this site\n", opt->site_path,
                opt->meter_id);
        return 2;
    }
    res->model = res->meter->model ? res->meter->model
                                   : om_catalogue_find(cat, res->meter->model_id);
    if (!res->model) {
        fprintf(stderr, PROG ": meter %s: model \"%s\" is not in the catalogue %s\n",
                res->meter->id, res->meter->model_id, opt->catalogue_dir);
        return 1;
    }
    res->bus = om_site_meter_bus(site, res->meter);
    if (!res->bus) {
        fprintf(stderr, PROG ": meter %s: bus \"%s\" of gateway \"%s\" is not in the site file\n",
                res->meter->id, res->meter->bus_id, res->meter->gateway_id);
        return 1;
    }
    res->timeout_ms = opt->timeout_ms   ? opt->timeout_ms
                      : res->model->timeout_ms ? res->model->timeout_ms
                                                : 1000;
    return 0;
}

static int probe_meter(const probe_options *opt, probe_result *res)
{
    char err[512];
    if (prepare_readings(res) < 0)
        return 1;
    modbus_t *ctx = om_mbconn_open(res->bus, res->timeout_ms, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, PROG ": meter %s: %s\n", res->meter->id, err);
        return 1;
    }
    read_all(ctx, res);
    modbus_close(ctx);
    modbus_free(ctx);
    print_result(opt, res);
    report_failure(res);
    return res->nfailed ? 1 : 0;
}

int om_cmd_probe(int argc, char **argv)
{
    probe_options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc)
        return rc < 0 ? 0 : rc;

    om_catalogue cat;
    om_site site;
    memset(&cat, 0, sizeof cat);
    memset(&site, 0, sizeof site);
    probe_result res;
    memset(&res, 0, sizeof res);

    rc = load_config(&opt, &cat, &site);
    if (rc == 0)
        rc = resolve_meter(&opt, &cat, &site, &res);
    if (rc == 0)
        rc = probe_meter(&opt, &res);

    free(res.readings);
    om_site_free(&site);
    om_catalogue_free(&cat);
    return rc;
}
