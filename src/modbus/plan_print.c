/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_print.c - the request plan as text, for `officemeter-agent --plan`.
 *
 * Written for the person commissioning a bus: each request in the notation
 * of a Modbus tool (function, hex start address, register count) with the
 * quantities it carries, then what a poll cycle costs on that bus and what
 * one request per quantity would have cost. Example:
 *
 *   bus rs485 (RTU /dev/ttyUSB0 9600 8N1), gateway gw1: 1 meter
 *     meter main (eastron-sdm630, unit 1): 3 requests, 12 registers
 *       FC04 0x0000+6 (voltage_l1_v, voltage_l2_v, voltage_l3_v)
 *       FC04 0x0034+2 (power_kw)
 *       FC04 0x0048+4 (energy_import_kwh, energy_export_kwh)
 *     per cycle: 3 requests, 12 registers, 63 bytes (24 sent, 39 received),
 *       estimated wire time 162.5 ms
 *     one request per quantity: 6 requests, ...
 */
#include "officemeter/modbus/plan.h"

static const char *quantity_name(om_quantity q)
{
    const om_quantity_info *info = om_quantity_get(q);
    return info ? info->name : "?";
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_set(FILE *out, om_quantity_set set)
{
    const char *sep = "";
    for (unsigned q = 0; q < OM_Q__COUNT; q++) {
        if (set & OM_QSET(q)) {
            fprintf(out, "%s%s", sep, quantity_name((om_quantity)q));
            sep = ", ";
        }
    }
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

void om_plan_print_request(FILE *out, const om_plan_request *req)
{
    fprintf(out, "FC%02u 0x%04X+%u (", (unsigned)req->function, (unsigned)req->address,
            (unsigned)req->count);
    for (size_t i = 0; i < req->nitems; i++)
        fprintf(out, "%s%s", i ? ", " : "", quantity_name(req->items[i].quantity));
    fputs(")\n", out);
}

void om_plan_print_meter(FILE *out, const om_meter_plan *plan)
{
    const char *model_id = plan->model && plan->model->id ? plan->model->id : "?";
    bool channelled = plan->model && plan->model->channels;
    if (plan->meter) {
        fprintf(out, "  meter %s (%s", plan->meter->id, model_id);
        if (channelled)
            fprintf(out, ", channel %u", plan->channel);
        fprintf(out, ", unit %u)", plan->meter->unit_id);
    } else {
        fprintf(out, "  model %s", model_id);
        if (channelled)
            fprintf(out, " channel %u", plan->channel);
    }
    size_t regs = om_meter_plan_registers(plan);
    fprintf(out, ": %zu %s, %zu %s\n", plan->nrequests,
            plural(plan->nrequests, "request", "requests"), regs,
            plural(regs, "register", "registers"));
    for (size_t i = 0; i < plan->nrequests; i++) {
        fputs("    ", out);
        om_plan_print_request(out, &plan->requests[i]);
    }
    om_quantity_set refused = plan->wanted & plan->hints.unsupported;
    if (refused) {
        fputs("    not read, the meter answers exception 2 (illegal data address): ", out);
        print_set(out, refused);
        fputc('\n', out);
    }
}

static void print_bus_header(FILE *out, const om_bus_plan *plan)
{
    const om_bus *bus = plan->bus;
    if (bus->kind == OM_BUS_RTU)
        fprintf(out, "bus %s (RTU %s %u %u%c%u)", bus->id, bus->rtu.device, bus->rtu.baud,
                bus->rtu.data_bits, bus->rtu.parity ? bus->rtu.parity : 'N', bus->rtu.stop_bits);
    else
        fprintf(out, "bus %s (TCP %s:%u)", bus->id, bus->tcp.host, bus->tcp.port);
    fprintf(out, ", gateway %s: %zu %s\n", plan->gateway->id, plan->nmeters,
            plural(plan->nmeters, "meter", "meters"));
}

/* Say what the wire-time estimate assumes, so nobody mistakes it for a
 * measurement. */
static void print_assumptions(FILE *out, const om_bus_plan *plan)
{
    const om_rtu_params *rtu = &plan->bus->rtu;
    fprintf(out,
            "  (estimate: %u bits per character, %.3f ms silence before each frame, "
            "%.1f ms meter turnaround and the model's min_gap_ms per request)\n",
            om_rtu_char_bits(rtu->data_bits, rtu->parity, rtu->stop_bits),
            ms(om_rtu_silence_us(rtu->baud, rtu->data_bits, rtu->parity, rtu->stop_bits)),
            ms(plan->turnaround_us));
}

static void print_totals(FILE *out, const om_bus_plan *plan)
{
    const om_plan_totals *t = &plan->totals;
    bool rtu = plan->bus->kind == OM_BUS_RTU;
    fprintf(out, "  per cycle: %zu %s, %zu %s, %zu bytes (%zu sent, %zu received)",
            t->requests, plural(t->requests, "request", "requests"), t->registers,
            plural(t->registers, "register", "registers"), t->bytes_sent + t->bytes_received,
            t->bytes_sent, t->bytes_received);
    if (rtu)
        fprintf(out, ", estimated wire time %.1f ms", ms(t->wire_us));
    fputc('\n', out);
    fprintf(out, "  one request per quantity: %zu %s, %zu bytes", t->naive_requests,
            plural(t->naive_requests, "request", "requests"), t->naive_bytes);
    if (rtu)
        fprintf(out, ", estimated wire time %.1f ms", ms(t->naive_wire_us));
    if (t->naive_requests)
        fprintf(out, "; the plan saves %zu %s (%.0f%%)", t->naive_requests - t->requests,
                plural(t->naive_requests - t->requests, "request", "requests"),
                100.0 * (double)(t->naive_requests - t->requests) / (double)t->naive_requests);
    fputc('\n', out);
    if (rtu)
        print_assumptions(out, plan);
}

static void plan_print_bus(FILE *out, const om_bus_plan *plan)
{
    print_bus_header(out, plan);
    for (size_t i = 0; i < plan->nmeters; i++)
        om_plan_print_meter(out, &plan->meters[i]);
    print_totals(out, plan);
}

void om_plan_print(FILE *out, const om_gateway_plan *plan)
{
    fprintf(out, "gateway %s: %zu %s\n", plan->gateway->id, plan->nbuses,
            plural(plan->nbuses, "bus", "buses"));
    for (size_t i = 0; i < plan->nbuses; i++) {
        fputc('\n', out);
        plan_print_bus(out, &plan->buses[i]);
    }
}
