/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.c - plan the read requests of one meter, and re-plan it after an
 * exception 2.
 *
 * The wanted quantities become (function, address, count) items; sorted by
 * function and address, they are merged left to right into the open request
 * while the gap before the next item and the merged span stay within limits.
 * For items on a line this greedy walk is optimal: any group of consecutive
 * items inside a valid request is itself valid, so taking as many as fit
 * never forces more requests later. Requests never need to hold items out of
 * address order, because a request reads everything between its ends.
 *
 * Exception 2 is learnt, not guessed: hints.isolated quantities always get a
 * request of their own, hints.unsupported ones are left out. Exception 2
 * only adds to them, so a meter settles after at most one split per merged
 * block and one refusal per quantity; om_plan_hints_forget takes them back
 * when the caller wants to ask again (the agent re-probes with backoff: a
 * meter may refuse for a while what it has).
 */
#include "officemeter/modbus/plan.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The Modbus application protocol caps function 03/04 reads at 125. */
#define MODBUS_MAX_READ 125u

_Static_assert(OM_Q__COUNT <= 32, "om_quantity_set has one bit per quantity");

/* ---- sets and options ------------------------------------------------- */

om_quantity_set om_qset_of_kind(om_quantity_kind kind)
{
    om_quantity_set set = 0;
    for (unsigned q = 0; q < OM_Q__COUNT; q++) {
        if (om_quantity_get((om_quantity)q)->kind == kind)
            set |= OM_QSET(q);
    }
    return set;
}

static om_quantity_set qset_of_model(const om_model *model)
{
    om_quantity_set set = 0;
    for (size_t i = 0; model && i < model->nquantities; i++) {
        if ((unsigned)model->quantities[i].quantity < OM_Q__COUNT)
            set |= OM_QSET(model->quantities[i].quantity);
    }
    return set;
}

void om_plan_options_init(om_plan_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->wanted = OM_QSET_ALL;
    opts->transport = OM_BUS_RTU;
    opts->max_gap_registers = OM_PLAN_DEFAULT_MAX_GAP;
    opts->max_gap_registers_tcp = OM_PLAN_TCP_MAX_GAP;
    opts->turnaround_us = OM_PLAN_DEFAULT_TURNAROUND_US;
}

unsigned om_plan_max_gap(const om_plan_options *opts, const om_model *model)
{
    if (!opts)
        return OM_PLAN_DEFAULT_MAX_GAP;
    for (size_t i = 0; model && model->id && i < opts->ngap_overrides; i++) {
        const om_plan_gap_override *ov = &opts->gap_overrides[i];
        if (ov->model_id && strcmp(ov->model_id, model->id) == 0)
            return ov->max_gap_registers;
    }
    return opts->transport == OM_BUS_TCP ? opts->max_gap_registers_tcp : opts->max_gap_registers;
}

/* ---- errors ----------------------------------------------------------- */

/* Every message names the meter (or the model when there is none), so the
 * agent's --check and --plan output says where to look. */
__attribute__((format(printf, 4, 5))) static int plan_error(const om_meter_plan *plan, char *err,
                                                            size_t errlen, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *model_id = plan->model && plan->model->id ? plan->model->id : "?";
    if (err && errlen) {
        if (plan->meter)
            snprintf(err, errlen, "meter %s (%s): %s", plan->meter->id ? plan->meter->id : "?",
                     model_id, what);
        else
            snprintf(err, errlen, "model %s: %s", model_id, what);
    }
    return -1;
}

/* ---- items ------------------------------------------------------------ */

static int item_cmp(const void *a, const void *b)
{
    const om_plan_item *x = a, *y = b;
    if (x->def->function != y->def->function)
        return x->def->function < y->def->function ? -1 : 1;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    return (int)x->quantity - (int)y->quantity;
}

static int check_model(const om_meter_plan *plan, char *err, size_t errlen)
{
    const om_model *m = plan->model;
    if (!m)
        return plan_error(plan, err, errlen, "no model to plan from");
    if (m->max_registers_per_request < 1 || m->max_registers_per_request > MODBUS_MAX_READ)
        return plan_error(plan, err, errlen,
                          "max_registers_per_request out of range (got %u, expected 1 to %u)",
                          m->max_registers_per_request, MODBUS_MAX_READ);
    if (m->channels && plan->channel >= m->channels)
        return plan_error(plan, err, errlen, "no channel %u (expected 0 to %u)", plan->channel,
                          m->channels - 1);
    return 0;
}

/* One wanted quantity as it lies on this meter's wire. */
static int make_item(const om_meter_plan *plan, const om_quantity_def *def, om_plan_item *out,
                     char *err, size_t errlen)
{
    const char *name = om_quantity_get(def->quantity)->name;
    unsigned long first = (unsigned long)def->address +
                          (unsigned long)plan->channel * def->channel_stride;
    if (def->count == 0)
        return plan_error(plan, err, errlen, "%s has no registers", name);
    if (def->count > plan->model->max_registers_per_request)
        return plan_error(plan, err, errlen,
                          "%s needs %u registers, more than max_registers_per_request (%u)",
                          name, def->count, plan->model->max_registers_per_request);
    if (first + def->count > 65536ul)
        return plan_error(plan, err, errlen,
                          "%s on channel %u ends beyond register 65535 (starts at %lu)", name,
                          plan->channel, first);
    *out = (om_plan_item){.quantity = def->quantity,
                          .def = def,
                          .address = (uint16_t)first,
                          .count = def->count,
                          .offset = 0};
    return 0;
}

/* The items to read, sorted; returns their number or -1. */
static int collect_items(const om_meter_plan *plan, om_plan_item *items, char *err, size_t errlen)
{
    om_quantity_set want = plan->wanted & ~plan->hints.unsupported, seen = 0;
    size_t n = 0;
    for (size_t i = 0; i < plan->model->nquantities; i++) {
        const om_quantity_def *def = &plan->model->quantities[i];
        if ((unsigned)def->quantity >= OM_Q__COUNT)
            return plan_error(plan, err, errlen, "unknown quantity number %d", (int)def->quantity);
        if (!(want & OM_QSET(def->quantity)))
            continue;
        if (seen & OM_QSET(def->quantity))
            return plan_error(plan, err, errlen, "%s is defined twice",
                              om_quantity_get(def->quantity)->name);
        seen |= OM_QSET(def->quantity);
        if (make_item(plan, def, &items[n], err, errlen) < 0)
            return -1;
        n++;
    }
    qsort(items, n, sizeof *items, item_cmp);
    return (int)n;
}

/* ---- merging ---------------------------------------------------------- */

/* Can `item` join the open request `req`? Items arrive in address order. */
static bool fits(const om_plan_request *req, const om_plan_item *item, unsigned max_gap,
                 unsigned max_regs)
{
    if (item->def->function != req->function)
        return false;
    unsigned end = (unsigned)req->address + req->count; /* one past the last register */
    unsigned item_end = (unsigned)item->address + item->count;
    unsigned gap = item->address > end ? item->address - end : 0;
    unsigned span = (item_end > end ? item_end : end) - req->address;
    return gap <= max_gap && span <= max_regs;
}

static void append(om_plan_request *req, om_plan_item item)
{
    unsigned end = (unsigned)req->address + req->count;
    unsigned item_end = (unsigned)item.address + item.count;
    item.offset = (uint16_t)(item.address - req->address);
    if (item_end > end)
        req->count = (uint16_t)(item_end - req->address);
    req->items[req->nitems++] = item;
}

static void open_request(om_plan_request *req, const om_plan_item *item)
{
    memset(req, 0, sizeof *req);
    req->function = item->def->function;
    req->address = item->address;
    append(req, *item);
}

int om_meter_replan(om_meter_plan *plan, char *err, size_t errlen)
{
    om_plan_item items[OM_Q__COUNT];
    plan->nrequests = 0;
    plan->planned = 0;
    if (check_model(plan, err, errlen) < 0)
        return -1;
    int n = collect_items(plan, items, err, errlen);
    if (n < 0)
        return -1;
    om_plan_request *open = NULL;
    for (int i = 0; i < n; i++) {
        bool alone = plan->hints.isolated & OM_QSET(items[i].quantity);
        if (open && !alone &&
            fits(open, &items[i], plan->max_gap_registers, plan->model->max_registers_per_request)) {
            append(open, items[i]);
        } else {
            open = &plan->requests[plan->nrequests++];
            open_request(open, &items[i]);
        }
        if (alone)
            open = NULL; /* nothing may join an isolated quantity */
        plan->planned |= OM_QSET(items[i].quantity);
    }
    return 0;
}

/* Everything a plan remembers for re-plans; the requests come later. */
static void plan_init(om_meter_plan *out, const om_model *model, unsigned channel,
                      const om_plan_options *opts, const om_plan_hints *hints)
{
    om_plan_options defaults;
    if (!opts) {
        om_plan_options_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    out->model = model;
    out->channel = channel;
    out->wanted = opts->wanted & qset_of_model(model);
    if (hints)
        out->hints = *hints;
    out->max_gap_registers = om_plan_max_gap(opts, model);
}

int om_plan_model(const om_model *model, unsigned channel, const om_plan_options *opts,
                  const om_plan_hints *hints, om_meter_plan *out, char *err, size_t errlen)
{
    plan_init(out, model, channel, opts, hints);
    return om_meter_replan(out, err, errlen);
}

int om_plan_meter(const om_meter *meter, const om_plan_options *opts, const om_plan_hints *hints,
                  om_meter_plan *out, char *err, size_t errlen)
{
    plan_init(out, meter->model, meter->channel, opts, hints);
    out->meter = meter;
    if (!meter->model) {
        snprintf(err, errlen, "meter %s: model %s is not in the catalogue",
                 meter->id ? meter->id : "?", meter->model_id ? meter->model_id : "(none)");
        return -1;
    }
    return om_meter_replan(out, err, errlen);
}

size_t om_meter_plan_registers(const om_meter_plan *plan)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->nrequests; i++)
        n += plan->requests[i].count;
    return n;
}

/* ---- exception 2 ------------------------------------------------------ */

om_plan_exc2 om_plan_hints_exception2(om_plan_hints *hints, const om_plan_request *req)
{
    if (!req || req->nitems == 0)
        return OM_PLAN_EXC2_NONE;
    om_quantity_set qs = 0;
    for (size_t i = 0; i < req->nitems; i++)
        qs |= OM_QSET(req->items[i].quantity);
    if (req->nitems == 1) {
        /* Alone and still refused: this meter does not have it. */
        if ((hints->unsupported & qs) == qs)
            return OM_PLAN_EXC2_NONE;
        hints->unsupported |= qs;
        hints->isolated |= qs;
        return OM_PLAN_EXC2_UNSUPPORTED;
    }
    /* The gap or one member is refused; which one is learnt by reading each
     * alone. A request already split (a stale copy) changes nothing. */
    if ((hints->isolated & qs) == qs)
        return OM_PLAN_EXC2_NONE;
    hints->isolated |= qs;
    return OM_PLAN_EXC2_SPLIT;
}

void om_plan_hints_forget(om_plan_hints *hints, om_quantity_set qs)
{
    hints->isolated &= ~qs;
    hints->unsupported &= ~qs;
}

om_plan_exc2 om_plan_exception2(om_meter_plan *plan, size_t index)
{
    if (index >= plan->nrequests)
        return OM_PLAN_EXC2_NONE;
    om_plan_exc2 action = om_plan_hints_exception2(&plan->hints, &plan->requests[index]);
    if (action != OM_PLAN_EXC2_NONE) {
        /* Cannot fail: the same model planned before, and the new hints only
         * isolate or drop quantities, which never makes a request larger. */
        char err[64];
        int rc = om_meter_replan(plan, err, sizeof err);
        assert(rc == 0);
        (void)rc;
    }
    return action;
}
