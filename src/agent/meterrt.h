/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meterrt.h - one meter at run time: its request plans, what it taught the
 * planner, its counters and its backoff.
 *
 * A meter has three plans: counters only, instantaneous values only, and
 * both (a tick that reads everything). They share the meter's hints: when
 * one plan meets exception 2 and is split, the others are re-planned with
 * the same knowledge, so the meter is never asked the refused block again.
 *
 * The bus worker that polls the meter is the only writer; the health
 * reporter reads a copy of the counters under the worker's lock.
 */
#ifndef OM_AGENT_METERRT_H
#define OM_AGENT_METERRT_H

#include <stdbool.h>
#include <stdint.h>

#include "officemeter/proto/payload.h"
#include "officemeter/modbus/plan.h"
#include "officemeter/config/site.h"

typedef enum { OM_PSET_COUNTERS, OM_PSET_INSTANT, OM_PSET_BOTH, OM_PSET__COUNT } om_pset;

typedef struct {
    uint64_t polls;          /* polls that produced at least one value */
    uint64_t partial_polls;  /* of which some wanted quantity was missing */
    uint64_t failed_polls;   /* no value at all */
    uint64_t skipped;        /* ticks skipped while backing off */
    uint64_t requests;
    uint64_t timeouts;
    uint64_t crc_errors;
    uint64_t exceptions;
    uint64_t other_errors;   /* connection errors, short answers */
    uint64_t not_available;  /* values dropped: "not available" sentinel */
    uint64_t not_finite;     /* values dropped: NaN or infinity */
    uint64_t invalid;        /* values dropped: undecodable */
    uint64_t splits;         /* merged blocks split after exception 2 */
    uint64_t unsupported;    /* quantities given up after exception 2 alone */
    int64_t last_good_ms;    /* wall clock of the last poll with values; 0: never */
    uint32_t last_latency_us;
    uint32_t max_latency_us;
    uint64_t latency_sum_us;
    uint64_t latency_count;
    unsigned consecutive_failures;
    int64_t retry_at_ms;     /* wall tick before which the meter is not polled; 0: none */
    char last_error[320];
} om_meter_counters;

/* Exception 2 is not forever. A meter may refuse for a while what it has
 * (a firmware update, a restart, a gateway that answers exception 2 while
 * its serial side is busy): every quantity a refusal touched is asked
 * again, as if nothing had been learnt about it, base × 2^(refusals − 1)
 * after the refusal, at most max later (the agent passes its shorter
 * interval and backoff_max_s, as for a dead meter). A meter that truly
 * lacks a register costs one refused request every few minutes; one that
 * recovers is read again within that time. A quantity's refusals are
 * forgotten once it is read in a request planned without hints about it. */
typedef struct {
    unsigned refusals[OM_Q__COUNT];
    int64_t retry_at_ms[OM_Q__COUNT]; /* wall ms at which its hints are forgotten; 0: none */
    int64_t next_ms;                  /* the earliest retry_at_ms; 0: none */
    om_quantity_set given_up;     /* refused even alone (and logged so) until read again */
    om_quantity_set split_logged; /* its first split was logged: later ones are not */
} om_reprobe;

typedef struct {
    const om_meter *meter;
    om_meter_plan plans[OM_PSET__COUNT];
    om_plan_hints hints;
    om_reprobe re;
    om_meter_counters c;
} om_meter_rt;

/* Plans the meter's three sets with opts (wanted is overridden) for the
 * line the site file declares for `bus` (its merge-gap limit). Returns 0,
 * or -1 with a reason in err. */
int om_meter_rt_init(om_meter_rt *rt, const om_meter *meter, const om_bus *bus,
                     const om_plan_options *opts,
                     char *err, size_t errlen);

om_pset om_pset_for(bool counters, bool instant);

/* Request `index` of plan `set` was refused with exception 2: record it,
 * re-plan every set, count it. Returns what changed. */
om_plan_exc2 om_meter_rt_exception2(om_meter_rt *rt, om_pset set, size_t index);

/* After om_meter_rt_exception2 returned `what` (not NONE) for `req`:
 * schedules re-probes of its quantities from t_ms (base_ms, max_ms: see
 * om_reprobe). Returns true when the event is news worth a log line: the
 * first split of one of its quantities, or a quantity given up that was not
 * given up already. */
bool om_meter_rt_refused(om_meter_rt *rt, const om_plan_request *req, om_plan_exc2 what,
                         int64_t t_ms, int64_t base_ms, int64_t max_ms);
/* At tick_ms: forgets the hints whose re-probe is due and re-plans. Returns
 * the quantities asked again (0 when none was due: cheap). */
om_quantity_set om_meter_rt_reprobe(om_meter_rt *rt, int64_t tick_ms);
/* `got` was read in answer to `req`: forgets the refusals of what was read
 * without hints. Returns the quantities that had been given up and answer
 * again. */
om_quantity_set om_meter_rt_answered(om_meter_rt *rt, const om_plan_request *req,
                                     om_quantity_set got);
/* What the meter does not give now: refused alone, or given up and being
 * asked again. */
om_quantity_set om_meter_rt_unsupported(const om_meter_rt *rt);

/* Decode one answered request into values (appended to out, *n updated;
 * out holds OM_Q__COUNT), counting dropped values in rt->c. Returns the
 * quantities that yielded a value. */
om_quantity_set om_meter_rt_decode(om_meter_rt *rt, const om_plan_request *req,
                                   const uint16_t *regs, om_poll_value *out, size_t *n);

/* Sort values by quantity (the payload's order). */
void om_poll_values_sort(om_poll_value *values, size_t n);

#endif
