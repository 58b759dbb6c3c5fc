/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn.h - open a libmodbus client context for a site bus.
 *
 * One place decides how a bus becomes a modbus_t: TCP host and port, or an
 * RTU device with its serial settings, with response timeouts that suit the
 * meter model. Errors name the bus, device or host, and modbus_strerror().
 *
 * libmodbus opens, closes and flushes; the read requests and their answers
 * go through the frames of answer.h, because libmodbus sends every raw TCP
 * request with transaction id 0, does not compare an answer's unit id with
 * the request's on TCP, and waits for a trickling answer byte by byte.
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
#include "officemeter/modbus/answer.h"

/* Create a context for `bus` without connecting it (nor resolving a TCP
 * host's name). timeout_ms: response timeout. NULL with a reason in err. */
modbus_t *om_mbconn_new(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen);
/* Create and connect a context for `bus`. timeout_ms: response timeout.
 * Returns NULL with a one-line reason in err. */
modbus_t *om_mbconn_open(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen);

/* Read `count` registers with function 3 or 4, blocking: the request goes
 * out through the context, and the answer must be complete within the
 * context's response timeout (plus, on a serial line, the time its bytes
 * take at the line's speed), judged by answer.h (frames of other
 * transactions dropped on TCP). Returns 0, or -1 with a reason naming the
 * target (host/device, unit id, function, address) and the Modbus exception
 * or error in err, and errno: MODBUS_ENOBASE + code for an exception,
 * ETIMEDOUT, EMBBADCRC, EMBBADSLAVE, EMBBADDATA, or the system's error. */
int om_mbconn_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                   uint16_t address, uint16_t count, uint16_t *dest, char *err, size_t errlen);

/* ---- Modbus TCP without blocking (many buses served by one thread) ------
 *
 * The same requests and judges as om_mbconn_read, split where a blocking
 * call would wait: connecting, and the answer to a request. The caller
 * waits for the socket (poll(2)) with its own deadline for the whole
 * answer, and keeps one request outstanding per connection. */

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
/* A read request in flight on a Modbus TCP connection and the bytes
 * received for it so far. Frames of other transactions (an extra frame, an
 * answer that came after its request timed out) are dropped as they come,
 * never decoded (answer.h). */
typedef struct {
    om_mb_request req;
    uint8_t buf[2 * OM_MB_TCP_MAX_FRAME];
    size_t len;      /* bytes in buf */
    unsigned stale;  /* frames of other transactions dropped for this request */
} om_mb_pending;

/* Sends a read request (function 3 or 4) with the next transaction id
 * (om_mb_next_transaction) and makes *p await its answer. Returns 0, or -1
 * with a reason in err and errno. */
int om_mbconn_tcp_send(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                       uint16_t address, uint16_t count, om_mb_pending *p, char *err,
                       size_t errlen);
/* Reads what the socket holds (without waiting) and judges it: 1 when the
 * answer is not complete yet (wait for the socket again, until the
 * request's deadline), 0 with the registers in dest, or -1 with a reason in
 * err and errno (MODBUS_ENOBASE + code for an exception, EMBBADSLAVE for
 * another unit, EMBBADDATA for a garbled frame, ECONNRESET when the peer
 * closed the connection). */
int om_mbconn_tcp_receive(modbus_t *ctx, const om_bus *bus, om_mb_pending *p, uint16_t *dest,
                          char *err, size_t errlen);

/* A number for the next Modbus TCP request: consecutive requests on any
 * connection never share one (0 is skipped: many devices answer a
 * garbled request with transaction id 0). */
uint16_t om_mb_next_transaction(void);

/* ---- shared by the above ---------------------------------------------- */

/* "/dev/ttyUSB0 (bus rs485-1)" or "10.0.0.20:502 (bus lan)". */
void om_mbconn_describe(const om_bus *bus, char *buf, size_t len);
/* One line for a failed read: the libmodbus error `code` (errno) of a
 * request to unit_id (exception, timeout, CRC, wrong unit, other). */
void om_mbconn_describe_failure(modbus_t *ctx, const om_bus *bus, unsigned unit_id,
                                unsigned function, uint16_t address, int code, char *err,
                                size_t errlen);


/* The line for a request whose deadline passed with `received` bytes of
 * its answer (0: none; more: an answer cut short or dribbled too slowly). */
void om_mbconn_describe_timeout(const om_bus *bus, unsigned unit_id, unsigned function,
                                uint16_t address, unsigned timeout_ms, size_t received,
                                char *err, size_t errlen);

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
