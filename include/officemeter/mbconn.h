/*
 * mbconn.h - open a libmodbus client context for a site bus.
 *
 * One place decides how a bus becomes a modbus_t: TCP host and port, or an
 * RTU device with its serial settings, with response timeouts that suit the
 * meter model. Errors name the bus, device or host, and modbus_strerror().
 */
#ifndef OFFICEMETER_MBCONN_H
#define OFFICEMETER_MBCONN_H

#include <stddef.h>
#include <stdint.h>

#include <modbus.h>

#include "officemeter/catalogue.h"
#include "officemeter/site.h"

/* Create and connect a context for `bus`. timeout_ms: response timeout.
 * Returns NULL with a one-line reason in err. */
modbus_t *om_mbconn_open(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen);

/* Read `count` registers with function 3 or 4. Returns 0, or -1 with a reason
 * naming the target (host/device, unit id, function, address) and the Modbus
 * exception or error in err, and errno as libmodbus set it. */
int om_mbconn_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                   uint16_t address, uint16_t count, uint16_t *dest, char *err, size_t errlen);

/* The meaning of a Modbus exception code (1..11), e.g. "illegal data address". */
const char *om_modbus_exception_name(unsigned code);

#endif
