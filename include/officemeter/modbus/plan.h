/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.h - the agent's Modbus request planner.
 *
 * A meter model (catalogue.h) says where each quantity lives; a poll wants
 * some of them. The planner turns "these quantities of this meter" into the
 * fewest read requests that cover their registers, because on a shared
 * RS-485 line every request costs two frames, two 3.5-character silences,
 * the meter's turnaround and its minimum gap, while an unwanted register in
 * the middle of a block costs only two bytes.
 *
 * Rules, for one meter (docs/planner.md has the reasoning and examples):
 *   - requests never mix function codes (03 and 04 are different tables);
 *   - within one function, quantities are sorted by wire address and merged
 *     left to right while the gap of unwanted registers before the next one
 *     is at most max_gap_registers and the merged span stays within the
 *     model's max_registers_per_request; this greedy walk gives the fewest
 *     requests those two limits allow;
 *   - a quantity larger than max_registers_per_request is an error;
 *   - a request starts at a quantity's first register and ends at a
 *     quantity's last, so models that refuse odd-aligned reads (Eastron)
 *     are served as their quantities are laid out.
 *
 * Exception 2 (illegal data address): a meter may refuse a merged block
 * because a register in a gap does not exist, or because one quantity is
 * missing on its firmware variant. om_plan_exception2() records in the
 * meter plan's hints that the block's quantities are to be read one per
 * request from now on, and re-plans; a single quantity that still answers
 * exception 2 is marked unsupported and left out of later plans. Each call
 * says what changed, so the caller logs the event once. What was learnt can
 * be forgotten (om_plan_hints_forget), for the agent to ask again later.
 *
 * Bus plans add up requests, registers and bytes on the wire per poll cycle,
 * and for serial buses an estimate of the time the cycle occupies the line,
 * next to what one request per quantity would cost.
 */
#ifndef OFFICEMETER_PLAN_H
#define OFFICEMETER_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "officemeter/config/catalogue.h"
#include "officemeter/base/quantity.h"
#include "officemeter/config/site.h"

/* ---- sets of quantities ---------------------------------------------- */

/* A set of quantities, one bit per om_quantity. */
typedef uint32_t om_quantity_set;
#define OM_QSET(q) ((om_quantity_set)1u << (unsigned)(q))
#define OM_QSET_ALL ((om_quantity_set)((1u << OM_Q__COUNT) - 1u))

/* Every quantity of one kind (counters, or instantaneous values). */
om_quantity_set om_qset_of_kind(om_quantity_kind kind);

/* ---- options ----------------------------------------------------------- */

/* Merge across gaps of at most this many unwanted registers. Two bytes per
 * register against a request's fixed cost (about 20 characters of frames
 * and silences plus turnaround and min_gap_ms): 16 keeps the saving clear
 * on any baud rate without reading far into undocumented address space. */
#define OM_PLAN_DEFAULT_MAX_GAP 16u
/* The limit for meters on a Modbus TCP bus. There a request costs a round
 * trip through the meter's or gateway's request handling, and a register on
 * Ethernet costs nothing; behind a TCP-to-RS-485 gateway the serial side's
 * break-even (22-30 registers at 9600-19200 baud with a model's gap, plus
 * the gateway's own latency) still favours merging this far. */
#define OM_PLAN_TCP_MAX_GAP 32u
/* Nominal time a meter takes between the end of a request and the start of
 * its response, used only for wire-time estimates (not the timeout). */
#define OM_PLAN_DEFAULT_TURNAROUND_US 5000u

/* A different merge-gap limit for one model. */
typedef struct {
    const char *model_id;
    unsigned max_gap_registers;
} om_plan_gap_override;

typedef struct {
    om_quantity_set wanted; /* quantities to read; those a model lacks are skipped */
    om_bus_kind transport;  /* the bus's declared kind: picks the limit below */
    unsigned max_gap_registers;     /* serial buses */
    unsigned max_gap_registers_tcp; /* Modbus TCP buses */
    const om_plan_gap_override *gap_overrides; /* may be NULL */
    size_t ngap_overrides;
    unsigned turnaround_us; /* wire-time estimates only */
} om_plan_options;

/* Defaults: every quantity, a serial bus, OM_PLAN_DEFAULT_MAX_GAP (and
 * OM_PLAN_TCP_MAX_GAP for TCP), no overrides,
 * OM_PLAN_DEFAULT_TURNAROUND_US. Every function taking options accepts NULL
 * for these defaults. */
void om_plan_options_init(om_plan_options *opts);
/* The merge-gap limit that applies to a model under opts: its override,
 * else the limit of opts->transport. */
unsigned om_plan_max_gap(const om_plan_options *opts, const om_model *model);

/* ---- one meter --------------------------------------------------------- */

/* One quantity inside a request. */
typedef struct {
    om_quantity quantity;
    const om_quantity_def *def;
    uint16_t address; /* wire address for the meter's channel */
    uint16_t count;
    uint16_t offset;  /* its first register in the response, from 0 */
} om_plan_item;

/* One read request. A model defines each quantity at most once, so a request
 * and a meter plan hold at most OM_Q__COUNT entries and need no allocation. */
typedef struct {
    uint8_t function; /* 3 or 4 */
    uint16_t address;
    uint16_t count;
    size_t nitems;
    om_plan_item items[OM_Q__COUNT]; /* by address */
} om_plan_request;

/* What a meter has taught the planner; kept across re-plans. */
typedef struct {
    om_quantity_set isolated;    /* read one per request, never merged */
    om_quantity_set unsupported; /* refused even alone: not read */
} om_plan_hints;

typedef struct {
    const om_meter *meter; /* NULL when planned from a model alone */
    const om_model *model;
    unsigned channel;
    om_quantity_set wanted;  /* as asked, restricted to what the model defines */
    om_quantity_set planned; /* read by the requests: wanted minus unsupported */
    om_plan_hints hints;
    unsigned max_gap_registers; /* the limit used, for re-plans */
    size_t nrequests;
    om_plan_request requests[OM_Q__COUNT]; /* by function, then address */
} om_meter_plan;

/* Plan the reads of `model` on `channel` (0 unless a counter module). hints
 * may be NULL; they are copied into the plan. Returns 0, or -1 with a reason
 * in err (a quantity larger than max_registers_per_request, a channel the
 * model lacks, addresses beyond 65535). */
int om_plan_model(const om_model *model, unsigned channel, const om_plan_options *opts,
                  const om_plan_hints *hints, om_meter_plan *out, char *err, size_t errlen);

/* The same for a site meter (its resolved model and channel); errors name the
 * meter. */
int om_plan_meter(const om_meter *meter, const om_plan_options *opts, const om_plan_hints *hints,
                  om_meter_plan *out, char *err, size_t errlen);

/* Registers read by a meter plan (sum of request counts). */
size_t om_meter_plan_registers(const om_meter_plan *plan);

typedef enum {
    OM_PLAN_EXC2_NONE,       /* nothing new: already split or unsupported */
    OM_PLAN_EXC2_SPLIT,      /* a merged block is now read one quantity per request */
    OM_PLAN_EXC2_UNSUPPORTED /* a lone quantity is dropped from the plan */
} om_plan_exc2;

/* Record in hints that `req` was answered with exception 2 and say what that
 * changes. Does not re-plan. */
om_plan_exc2 om_plan_hints_exception2(om_plan_hints *hints, const om_plan_request *req);

/* Forget what exception 2 taught about qs: they are planned as if never
 * refused (merged with their neighbours, read again). Does not re-plan. A
 * re-plan with fewer hints cannot fail: the plan without any planned. */
void om_plan_hints_forget(om_plan_hints *hints, om_quantity_set qs);

/* Request `index` of `plan` was answered with exception 2: update the plan's
 * hints and re-plan it in place (request indexes change). Returns the action
 * taken, or OM_PLAN_EXC2_NONE for an index out of range. */
om_plan_exc2 om_plan_exception2(om_meter_plan *plan, size_t index);

/* Re-plan with the plan's own model, channel, wanted set, gap limit and
 * hints; returns 0 or -1 with a reason in err. */
int om_meter_replan(om_meter_plan *plan, char *err, size_t errlen);

/* ---- wire arithmetic -------------------------------------------------- */

/* Modbus RTU: 8-byte request (unit, function, address, count, CRC); response
 * 5 + 2 bytes per register. Modbus TCP: 7-byte MBAP header + 5 = 12; response
 * 9 + 2 per register. */
size_t om_plan_request_bytes(om_bus_kind kind);
size_t om_plan_response_bytes(om_bus_kind kind, unsigned registers);

/* Bits per character on the line: start + data + parity (E or O) + stop. */
unsigned om_rtu_char_bits(unsigned data_bits, char parity, unsigned stop_bits);
/* Time to send `chars` characters, in µs, rounded up. baud > 0. */
uint64_t om_rtu_chars_us(uint64_t chars, unsigned baud, unsigned data_bits, char parity,
                         unsigned stop_bits);
/* The RTU inter-frame silence t3.5 in µs: 3.5 character times rounded up, or
 * the fixed 1750 µs the Modbus serial line specification sets above 19200
 * baud. baud > 0. */
uint32_t om_rtu_silence_us(unsigned baud, unsigned data_bits, char parity, unsigned stop_bits);
/* The silence every request on `bus` waits for after the line's last frame:
 * t3.5 on a serial line (unset settings taken as 9600 8N1), 0 on TCP. The
 * agent and the probe pace requests with it, plus the model's min_gap_ms. */
uint32_t om_bus_silence_us(const om_bus *bus);
/* Estimated line time of one read of `registers` on an RTU bus: request and
 * response frames, a silence before each, turnaround and the model's gap. */
uint64_t om_rtu_read_us(const om_rtu_params *rtu, unsigned registers, unsigned min_gap_ms,
                        unsigned turnaround_us);

/* ---- one bus, one gateway ---------------------------------------------- */

/* Per poll cycle, every wanted quantity of every meter read once. */
typedef struct {
    size_t meters;
    size_t requests;
    size_t registers;
    size_t bytes_sent;     /* requests */
    size_t bytes_received; /* responses */
    uint64_t wire_us;      /* RTU only: estimated line time; 0 on TCP */
    /* the same, with one request per quantity */
    size_t naive_requests;
    size_t naive_bytes; /* sent + received */
    uint64_t naive_wire_us;
} om_plan_totals;

typedef struct {
    const om_site *site;
    const om_gateway *gateway;
    const om_bus *bus;
    unsigned turnaround_us;
    om_meter_plan *meters; /* the gateway's meters on this bus, in site order */
    size_t nmeters;
    om_plan_totals totals;
} om_bus_plan;

/* Plan every meter of `gateway_id` attached to `bus_id`. Returns 0, or -1
 * with a reason in err (unknown gateway or bus, a meter without a resolved
 * model, a planning error naming the meter). */
int om_plan_bus(const om_site *site, const char *gateway_id, const char *bus_id,
                const om_plan_options *opts, om_bus_plan *out, char *err, size_t errlen);
void om_bus_plan_free(om_bus_plan *plan);
/* Recompute plan->totals, e.g. after om_plan_exception2() on one meter. */
void om_bus_plan_totals(om_bus_plan *plan);

typedef struct {
    const om_gateway *gateway;
    om_bus_plan *buses; /* one per bus of the gateway, in site order */
    size_t nbuses;
} om_gateway_plan;

int om_plan_gateway(const om_site *site, const char *gateway_id, const om_plan_options *opts,
                    om_gateway_plan *out, char *err, size_t errlen);
void om_gateway_plan_free(om_gateway_plan *plan);

/* ---- printing (officemeter-agent --plan) ------------------------------- */

/* One line per request, "FC04 0x0000+6 (voltage_l1_v, voltage_l2_v, ...)". */
void om_plan_print_request(FILE *out, const om_plan_request *req);
void om_plan_print_meter(FILE *out, const om_meter_plan *plan);
/* Every bus of the gateway. */
void om_plan_print(FILE *out, const om_gateway_plan *plan);

#endif
