/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_device.c - register map of one unit id, assembled from its meters.
 *
 * The map is not stored: each read walks the meters' quantities (a handful
 * per meter) and encodes the ones that overlap the request. The "span" of a
 * function is from its lowest defined register to the end of its highest;
 * real meters answer zeros for the reserved registers in between.
 */
#include "sim_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/quantity.h"

void om_sim_device_init(om_sim_device *dev, unsigned unit_id)
{
    memset(dev, 0, sizeof *dev);
    dev->unit_id = unit_id;
    dev->max_registers = OM_SIM_MAX_READ;
}

void om_sim_device_free(om_sim_device *dev)
{
    if (dev == NULL)
        return;
    free(dev->meters);
    dev->meters = NULL;
    dev->nmeters = 0;
}

static bool overlaps(uint32_t a0, uint32_t an, uint32_t b0, uint32_t bn)
{
    return a0 < b0 + bn && b0 < a0 + an;
}

static int check_overlap(const om_sim_device *dev, const om_sim_meter *m, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < dev->nmeters; i++) {
        const om_sim_meter *o = dev->meters[i];
        for (size_t a = 0; a < m->nq; a++) {
            for (size_t b = 0; b < o->nq; b++) {
                const om_sim_qty *qa = &m->q[a], *qb = &o->q[b];
                if (qa->function == qb->function &&
                    overlaps(qa->address, qa->count, qb->address, qb->count)) {
                    snprintf(err, errlen,
                             "meters '%s' and '%s' share unit id %u and both use register %u "
                             "(function %u); give them different unit ids or channels",
                             o->meter->id, m->meter->id, dev->unit_id, qa->address,
                             qa->function);
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* Only the channels of one counter module share a unit id. */
static int check_shareable(const om_sim_device *dev, const om_sim_meter *m, char *err,
                           size_t errlen)
{
    if (dev->nmeters == 0)
        return 0;
    const om_sim_meter *o = dev->meters[0];
    if (strcmp(o->model->id, m->model->id) != 0 || m->model->channels == 0) {
        snprintf(err, errlen,
                 "meters '%s' (%s) and '%s' (%s) have the same unit id %u; only the "
                 "channels of one counter module may share one",
                 o->meter->id, o->model->id, m->meter->id, m->model->id, dev->unit_id);
        return -1;
    }
    return 0;
}

int om_sim_device_add(om_sim_device *dev, om_sim_meter *m, char *err, size_t errlen)
{
    if (check_shareable(dev, m, err, errlen) != 0 || check_overlap(dev, m, err, errlen) != 0)
        return -1;
    om_sim_meter **grown = realloc(dev->meters, (dev->nmeters + 1) * sizeof *grown);
    if (grown == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    dev->meters = grown;
    dev->meters[dev->nmeters++] = m;
    unsigned limit = m->model->max_registers_per_request;
    if (limit > 0 && limit < dev->max_registers)
        dev->max_registers = limit;
    return 0;
}

/* Lowest defined register and end of the highest for a function; false
 * when the device defines none. */
static bool function_span(const om_sim_device *dev, unsigned function, uint32_t *lo,
                          uint32_t *hi)
{
    bool any = false;
    for (size_t i = 0; i < dev->nmeters; i++) {
        const om_sim_meter *m = dev->meters[i];
        for (size_t k = 0; k < m->nq; k++) {
            const om_sim_qty *q = &m->q[k];
            if (q->function != function)
                continue;
            uint32_t end = (uint32_t)q->address + q->count;
            if (!any || q->address < *lo)
                *lo = q->address;
            if (!any || end > *hi)
                *hi = end;
            any = true;
        }
    }
    return any;
}

static bool touches(const om_sim_meter *m, unsigned function, uint16_t address, uint16_t n)
{
    for (size_t k = 0; k < m->nq; k++) {
        const om_sim_qty *q = &m->q[k];
        if (q->function == function && overlaps(q->address, q->count, address, n))
            return true;
    }
    return false;
}

unsigned om_sim_device_read(om_sim_device *dev, int64_t t_ms, unsigned function,
                            uint16_t address, uint16_t n, uint16_t *regs)
{
    uint32_t lo = 0, hi = 0;
    if ((function != 3 && function != 4) || !function_span(dev, function, &lo, &hi))
        return 1; /* illegal function */
    if (n == 0 || n > dev->max_registers || n > OM_SIM_MAX_READ)
        return 3; /* illegal data value */
    if (address < lo || (uint32_t)address + n > hi)
        return 2; /* illegal data address */

    bool any = false;
    memset(regs, 0, n * sizeof *regs);
    for (size_t i = 0; i < dev->nmeters; i++) {
        om_sim_meter *m = dev->meters[i];
        for (size_t k = 0; k < m->nq; k++) {
            const om_sim_qty *q = &m->q[k];
            if (q->function != function || !overlaps(q->address, q->count, address, n))
                continue;
            uint16_t buf[OM_CODEC_MAX_REGS];
            om_sim_meter_encode(m, q, t_ms, buf);
            for (uint16_t r = 0; r < q->count; r++) {
                uint32_t at = (uint32_t)q->address + r;
                if (at >= address && at < (uint32_t)address + n)
                    regs[at - address] = buf[r];
            }
            any = true;
        }
    }
    return any ? 0 : 2;
}

om_sim_behaviour om_sim_device_behaviour(const om_sim_device *dev, unsigned function,
                                         uint16_t address, uint16_t n)
{
    return om_sim_device_behaviour_at(dev, OM_TIME_NONE, function, address, n);
}

/* timeout@FROM[/UNTIL]: silent within the window (never without a time). */
static bool timed_out(const om_sim_meter *m, int64_t t_ms)
{
    const om_sim_faults *f = &m->faults;
    if (f->timeout_from == OM_TIME_NONE && f->timeout_until == OM_TIME_NONE)
        return false;
    return t_ms != OM_TIME_NONE && om_sim_fault_window(f->timeout_from, f->timeout_until, t_ms);
}

om_sim_behaviour om_sim_device_behaviour_at(const om_sim_device *dev, int64_t t_ms,
                                            unsigned function, uint16_t address, uint16_t n)
{
    om_sim_behaviour b = {false, 0, 0};
    bool touched_any = false;
    for (size_t i = 0; i < dev->nmeters; i++)
        touched_any |= touches(dev->meters[i], function, address, n);

    for (size_t i = 0; i < dev->nmeters; i++) {
        const om_sim_meter *m = dev->meters[i];
        if (touched_any && !touches(m, function, address, n))
            continue;
        b.timeout |= m->faults.timeout || timed_out(m, t_ms);
        if (b.exception == 0)
            b.exception = m->faults.exception;
        if (m->faults.slow_ms > b.slow_ms)
            b.slow_ms = m->faults.slow_ms;
    }
    return b;
}
