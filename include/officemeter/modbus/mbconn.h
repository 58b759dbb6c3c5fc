/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn.h - open a libmodbus client context for a site bus.
 *
 * One place decides how a bus becomes a modbus_t: TCP host and port, or an
 * RTU device with its serial settings, with response timeouts that suit the
 * meter model. Errors name the bus, device or host, and modbus_strerror().
 */
#ifndef OFFICEMETER_MBCONN_H
#define OFFICEMETER_MBCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modbus.h>
#include <netdb.h>

#include "officemeter/config/catalogue.h"
#include "officemeter/config/site.h"

/* Create a context for `bus` without connecting it (nor resolving a TCP
 * host's name). timeout_ms: response timeout. NULL with a reason in err. */
modbus_t *om_mbconn_new(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen);
/* Create and connect a context for `bus`. timeout_ms: response timeout.
 * Returns NULL with a one-line reason in err. */
modbus_t *om_mbconn_open(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen);

/* Read `count` registers with function 3 or 4. Returns 0, or -1 with a reason
 * naming the target (host/device, unit id, function, address) and the Modbus
 * exception or error in err, and errno as libmodbus set it. */
int om_mbconn_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                   uint16_t address, uint16_t count, uint16_t *dest, char *err, size_t errlen);

/* ---- Modbus TCP without blocking (many buses served by one thread) ------
 *
 * The same frames through libmodbus, split where a blocking call would
 * wait: connecting, and the answer to a request. The caller waits for the
 * socket (poll(2)) and keeps one request outstanding per connection. */

/* Creates the context for TCP bus `bus` and starts connecting on a
 * non-blocking socket: wait for POLLOUT on *fd, then call
 * om_mbconn_tcp_connected. Returns NULL with a reason in err. A host name
 * is resolved here, blocking: om_mbconn_tcp_begin_at with the addresses
 * from resolve.h does not wait for the resolver. */
modbus_t *om_mbconn_tcp_begin(const om_bus *bus, unsigned timeout_ms, int *fd, char *err,
                              size_t errlen);
/* The same, to the one address `addr` of the bus's host. */
modbus_t *om_mbconn_tcp_begin_at(const om_bus *bus, const struct addrinfo *addr,
                                 unsigned timeout_ms, int *fd, char *err, size_t errlen);
/* Completes a connection begun by om_mbconn_tcp_begin once its socket is
 * writable. Returns 0, or -1 with a reason in err and errno (the context
 * stays the caller's to free). */
int om_mbconn_tcp_connected(modbus_t *ctx, const om_bus *bus, char *err, size_t errlen);
/* Sends a read request (function 3 or 4). Returns 0, or -1 with a reason
 * in err and errno. */
int om_mbconn_send_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                        uint16_t address, uint16_t count, char *err, size_t errlen);
/* Receives the answer to that request once the socket is readable, with the
 * checks and messages of om_mbconn_read: 0, or -1 with err and errno
 * (MODBUS_ENOBASE + exception code for an exception). */
int om_mbconn_recv_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                        uint16_t address, uint16_t count, uint16_t *dest, char *err,
                        size_t errlen);

/* ---- shared by the above ---------------------------------------------- */

/* "/dev/ttyUSB0 (bus rs485-1)" or "10.0.0.20:502 (bus lan)". */
void om_mbconn_describe(const om_bus *bus, char *buf, size_t len);
/* One line for a failed read: the libmodbus error `code` (errno) of a
 * request to unit_id (exception, timeout, CRC, wrong unit, other). */
void om_mbconn_describe_failure(modbus_t *ctx, const om_bus *bus, unsigned unit_id,
                                unsigned function, uint16_t address, int code, char *err,
                                size_t errlen);


/* What a failed read means, from libmodbus's errno: the one classification
 * the agent's bus workers, the probe and the messages above share. */
typedef enum {
    OM_MB_EXCEPTION,  /* the device answered with an exception (*exception: its code) */
    OM_MB_TIMEOUT,    /* no answer within the response timeout */
    OM_MB_BAD_CRC,    /* an answer with a wrong CRC: noise, baud rate, wiring */
    OM_MB_GARBLED,    /* an answer that is not the one asked for: wrong unit, length, data */
    OM_MB_CONNECTION, /* the TCP connection or the serial device failed: reconnect */
    OM_MB_OTHER,
} om_mb_failure;

om_mb_failure om_mb_classify(int code, unsigned *exception);
/* Exceptions 10 and 11: a gateway found no device behind it. The device is
 * as absent as one that does not answer. */
bool om_mb_exception_is_absent(unsigned exception);

#endif
