/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_device.h - one Modbus unit id on a simulated bus: its register map.
 *
 * Usually a device is one meter; a counter module (Moxa ioLogik) is one
 * device whose channels are several site meters. The device answers reads
 * the way real meters do:
 *   function other than 3/4, or one the model never uses   exception 1
 *   count 0, or above the model's max_registers_per_request exception 3
 *   registers outside the span of the model's map,
 *   or a read that touches no defined register             exception 2
 *   gaps between defined registers inside the span          read as 0
 */
#ifndef OM_SIM_DEVICE_H
#define OM_SIM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_meter.h"

#define OM_SIM_MAX_READ 125

typedef struct {
    unsigned unit_id;
    om_sim_meter **meters;
    size_t nmeters;
    unsigned max_registers; /* the smallest limit among its meters' models */
} om_sim_device;

/* How the device misbehaves for one request (from its meters' faults). */
typedef struct {
    bool timeout;
    unsigned exception;
    unsigned slow_ms;
} om_sim_behaviour;

void om_sim_device_init(om_sim_device *dev, unsigned unit_id);
void om_sim_device_free(om_sim_device *dev);

/* Adds a meter; -1 with a reason when its registers overlap another's. */
int om_sim_device_add(om_sim_device *dev, om_sim_meter *m, char *err, size_t errlen);

/* Answers a read at simulated time t: 0 with n registers in regs, or the
 * Modbus exception code. Faults that change the answer (timeout, exception,
 * slow) are not applied here: see om_sim_device_behaviour. */
unsigned om_sim_device_read(om_sim_device *dev, int64_t t_ms, unsigned function,
                            uint16_t address, uint16_t n, uint16_t *regs);

/* The faults of the meters a request touches (all of the device's meters
 * when it touches none): timeout wins over exception, slow adds a delay. */
om_sim_behaviour om_sim_device_behaviour(const om_sim_device *dev, unsigned function,
                                         uint16_t address, uint16_t n);
/* The same at simulated time t, so that faults with a window (timeout@)
 * apply only within it. */
om_sim_behaviour om_sim_device_behaviour_at(const om_sim_device *dev, int64_t t_ms,
                                            unsigned function, uint16_t address, uint16_t n);

#endif
