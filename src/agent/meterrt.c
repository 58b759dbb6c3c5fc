/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meterrt.c - a meter's plans, exception-2 re-planning and re-probing, and
 * decoding.
 *
 * Decoding goes through the core codec, so the agent, the probe and the
 * simulator agree by construction; a value the codec marks "not available"
 * or not finite is dropped and counted, never sent as a number.
 */
#include "meterrt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "officemeter/base/codec.h"
#include "schedule.h"


static om_quantity_set wanted_for(om_pset set)
{
    switch (set) {
    case OM_PSET_COUNTERS:
        return om_qset_of_kind(OM_KIND_COUNTER);
    case OM_PSET_INSTANT:
        return om_qset_of_kind(OM_KIND_INSTANT);
    default:
        return OM_QSET_ALL;
    }
}

om_pset om_pset_for(bool counters, bool instant)
{
    if (counters && instant)
        return OM_PSET_BOTH;
    return counters ? OM_PSET_COUNTERS : OM_PSET_INSTANT;
}

int om_meter_rt_init(om_meter_rt *rt, const om_meter *meter, const om_bus *bus,
                     const om_plan_options *opts, char *err, size_t errlen)
{
    memset(rt, 0, sizeof *rt);
    rt->meter = meter;
    om_plan_options o;
    if (opts)
        o = *opts;
    else
        om_plan_options_init(&o);
    o.transport = bus->declared_kind;
    for (int s = 0; s < OM_PSET__COUNT; s++) {
        o.wanted = wanted_for((om_pset)s);
        if (om_plan_meter(meter, &o, NULL, &rt->plans[s], err, errlen) < 0)
            return -1;
    }
    return 0;
}

om_plan_exc2 om_meter_rt_exception2(om_meter_rt *rt, om_pset set, size_t index)
{
    om_plan_exc2 what = om_plan_exception2(&rt->plans[set], index);
    if (what == OM_PLAN_EXC2_NONE)
        return what;
    rt->hints = rt->plans[set].hints;
    for (int s = 0; s < OM_PSET__COUNT; s++) {
        if (s == (int)set)
            continue;
        rt->plans[s].hints = rt->hints;
        char err[256];
        /* Cannot fail: the same model planned with no hints at all. */
        om_meter_replan(&rt->plans[s], err, sizeof err);
    }
    if (what == OM_PLAN_EXC2_SPLIT)
        rt->c.splits++;
    else
        rt->c.unsupported++;
    return what;
}

static om_quantity_set request_set(const om_plan_request *req)
{
    om_quantity_set qs = 0;
    for (size_t i = 0; i < req->nitems; i++)
        qs |= OM_QSET(req->items[i].quantity);
    return qs;
}

/* Every plan with the meter's hints, after they changed. Cannot fail: the
 * same model planned with no hints at all. */
static void replan_all(om_meter_rt *rt)
{
    for (int s = 0; s < OM_PSET__COUNT; s++) {
        rt->plans[s].hints = rt->hints;
        char err[256];
        om_meter_replan(&rt->plans[s], err, sizeof err);
    }
}

static void update_next(om_reprobe *re)
{
    re->next_ms = 0;
    for (int q = 0; q < OM_Q__COUNT; q++)
        if (re->retry_at_ms[q] && (!re->next_ms || re->retry_at_ms[q] < re->next_ms))
            re->next_ms = re->retry_at_ms[q];
}

bool om_meter_rt_refused(om_meter_rt *rt, const om_plan_request *req, om_plan_exc2 what,
                         int64_t t_ms, int64_t base_ms, int64_t max_ms)
{
    om_reprobe *re = &rt->re;
    om_quantity_set qs = request_set(req);
    for (int q = 0; q < OM_Q__COUNT; q++) {
        if (!(qs & OM_QSET(q)))
            continue;
        re->refusals[q]++;
        re->retry_at_ms[q] = t_ms + om_backoff_ms(base_ms, max_ms, re->refusals[q]);
    }
    update_next(re);
    bool news;
    if (what == OM_PLAN_EXC2_SPLIT) {
        news = (qs & ~re->split_logged) != 0;
        re->split_logged |= qs;
    } else {
        news = (qs & ~re->given_up) != 0;
        re->given_up |= qs;
    }
    return news;
}

om_quantity_set om_meter_rt_reprobe(om_meter_rt *rt, int64_t tick_ms)
{
    om_reprobe *re = &rt->re;
    if (!re->next_ms || tick_ms < re->next_ms)
        return 0;
    om_quantity_set again = 0;
    for (int q = 0; q < OM_Q__COUNT; q++)
        if (re->retry_at_ms[q] && re->retry_at_ms[q] <= tick_ms) {
            again |= OM_QSET(q);
            re->retry_at_ms[q] = 0;
        }
    update_next(re);
    om_plan_hints_forget(&rt->hints, again);
    replan_all(rt);
    return again;
}

om_quantity_set om_meter_rt_answered(om_meter_rt *rt, const om_plan_request *req,
                                     om_quantity_set got)
{
    om_reprobe *re = &rt->re;
    om_quantity_set hinted = rt->hints.isolated | rt->hints.unsupported;
    om_quantity_set plain = got & request_set(req) & ~hinted;
    for (int q = 0; q < OM_Q__COUNT; q++)
        if (plain & OM_QSET(q))
            re->refusals[q] = 0;
    om_quantity_set back = got & re->given_up;
    re->given_up &= ~got;
    return back;
}

om_quantity_set om_meter_rt_unsupported(const om_meter_rt *rt)
{
    return rt->hints.unsupported | rt->re.given_up;
}

om_quantity_set om_meter_rt_decode(om_meter_rt *rt, const om_plan_request *req,
                                   const uint16_t *regs, om_poll_value *out, size_t *n)
{
    om_quantity_set got = 0;
    for (size_t i = 0; i < req->nitems; i++) {
        const om_plan_item *item = &req->items[i];
        om_regspec spec = om_quantity_spec(item->def, rt->meter->litres_per_pulse);
        om_value v;
        om_decode_status st = om_codec_decode(&spec, regs + item->offset, item->count, &v);
        if (st == OM_DECODE_OK && !isfinite(v.value))
            st = OM_DECODE_NOT_FINITE;
        switch (st) {
        case OM_DECODE_OK:
            out[*n].quantity = item->quantity;
            out[*n].value = v.value;
            (*n)++;
            got |= OM_QSET(item->quantity);
            break;
        case OM_DECODE_NOT_AVAILABLE:
            rt->c.not_available++;
            break;
        case OM_DECODE_NOT_FINITE:
            rt->c.not_finite++;
            break;
        default:
            rt->c.invalid++;
            break;
        }
    }
    return got;
}

void om_poll_values_sort(om_poll_value *values, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        om_poll_value v = values[i];
        size_t j = i;
        while (j > 0 && values[j - 1].quantity > v.quantity) {
            values[j] = values[j - 1];
            j--;
        }
        values[j] = v;
    }
}
