/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn_read.c - one read request and its answer, through the judges of
 * answer.h: the blocking read of the serial bus workers, --once and the
 * probe, and the steps it shares with the TCP thread's requests
 * (mbconn_tcp.c).
 *
 * The deadline covers the whole answer, not only its first byte: a device
 * that dribbles its answer (a byte every 150 ms) or stops half-way costs
 * its request the response timeout and no more, where libmodbus waits up to
 * its byte timeout for every further byte. On a serial line the time the
 * request and the answer take at the line's speed is added, so that a long
 * answer at 2400 baud is not cut off by a timeout meant for the meter's
 * turnaround.
 */
#include "mbconn_private.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "officemeter/modbus/plan.h"

static uint16_t transaction_counter;

uint16_t om_mb_next_transaction(void)
{
    uint16_t t;
    do
        t = __atomic_add_fetch(&transaction_counter, 1, __ATOMIC_RELAXED);
    while (t == 0);
    return t;
}

int om_mb_pending_init(om_mb_pending *p, const om_bus *bus, unsigned unit_id,
                       unsigned function, uint16_t address, uint16_t count, char *err,
                       size_t errlen)
{
    if ((function != 3 && function != 4) || unit_id > 255 || count == 0 ||
        count > MODBUS_MAX_READ_REGISTERS) {
        char target[300];
        om_mbconn_describe(bus, target, sizeof target);
        snprintf(err, errlen,
                 "unit %u on %s: unsupported request (function %u, %u registers; expected "
                 "function 3 or 4 and 1 to %d registers)",
                 unit_id, target, function, (unsigned)count, MODBUS_MAX_READ_REGISTERS);
        errno = EINVAL;
        return -1;
    }
    p->req = (om_mb_request){.unit = (uint8_t)unit_id,
                             .function = (uint8_t)function,
                             .address = address,
                             .count = count};
    p->len = 0;
    p->stale = 0;
    return 0;
}

/* The line for a frame the judge refused. */
static void describe_refused(const om_mb_pending *p, const om_bus *bus,
                             const om_mb_judgement *j, char *err, size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    const om_mb_request *r = &p->req;
    if (j->fault == OM_MB_FAULT_WRONG_UNIT)
        snprintf(err, errlen,
                 "answer from the wrong unit on %s when asking unit %u (function %u, address "
                 "0x%04X): %s; two devices share a unit id, or a gateway routes to the wrong "
                 "one?",
                 target, r->unit, r->function, r->address, j->reason);
    else if (j->fault == OM_MB_FAULT_BAD_CRC)
        snprintf(err, errlen,
                 "bad CRC in the answer from unit %u on %s (function %u, address 0x%04X): "
                 "check baud rate, parity, wiring and termination",
                 r->unit, target, r->function, r->address);
    else
        snprintf(err, errlen,
                 "garbled answer from unit %u on %s to function %u, address 0x%04X: %s",
                 r->unit, target, r->function, r->address, j->reason);
}

static int refused_code(om_mb_fault fault)
{
    switch (fault) {
    case OM_MB_FAULT_WRONG_UNIT: return EMBBADSLAVE;
    case OM_MB_FAULT_BAD_CRC: return EMBBADCRC;
    default: return EMBBADDATA;
    }
}

/* An exception answer: its code as libmodbus numbers it, and the line. */
static int exception_failure(const om_mb_pending *p, const om_bus *bus, unsigned exception,
                             char *err, size_t errlen)
{
    int code = exception < MODBUS_EXCEPTION_MAX ? MODBUS_ENOBASE + (int)exception : EMBBADEXC;
    om_mbconn_describe_failure(NULL, bus, p->req.unit, p->req.function, p->req.address, code,
                               err, errlen);
    return code;
}

int om_mb_pending_judge(om_mb_pending *p, const om_bus *bus, bool tcp, uint16_t *dest,
                        char *err, size_t errlen)
{
    for (;;) {
        om_mb_judgement j;
        om_mb_verdict v = tcp ? om_mb_judge_tcp(p->buf, p->len, &p->req, &j)
                              : om_mb_judge_rtu(p->buf, p->len, &p->req, &j);
        int code;
        switch (v) {
        case OM_MB_PARTIAL:
            return 1;
        case OM_MB_STALE: /* not this request's: drop it, read on */
            p->stale++;
            memmove(p->buf, p->buf + j.frame_len, p->len - j.frame_len);
            p->len -= j.frame_len;
            continue;
        case OM_MB_ANSWER:
            p->len = 0; /* whatever came after the answer is an extra frame */
            if (j.exception == 0) {
                om_mb_answer_registers(&j, p->req.count, dest);
                return 0;
            }
            code = exception_failure(p, bus, j.exception, err, errlen);
            break;
        case OM_MB_REFUSED:
        default:
            p->len = 0;
            describe_refused(p, bus, &j, err, errlen);
            code = refused_code(j.fault);
            break;
        }
        errno = code;
        return -1;
    }
}

int om_mb_pending_closed(const om_mb_pending *p, const om_bus *bus, char *err, size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    snprintf(err, errlen,
             "%s closed the connection while unit %u's answer to function %u, address 0x%04X "
             "was awaited (%zu bytes of it came)",
             target, p->req.unit, p->req.function, p->req.address, p->len);
    errno = ECONNRESET;
    return -1;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static unsigned response_timeout_ms(modbus_t *ctx)
{
    uint32_t sec = 0, usec = 0;
    if (modbus_get_response_timeout(ctx, &sec, &usec) < 0 || (sec == 0 && usec == 0))
        return 1000;
    return sec * 1000u + usec / 1000u;
}

/* Time the request and its longest answer take on a serial line. */
static int64_t rtu_wire_us(const om_bus *bus, uint16_t count)
{
    const om_rtu_params *r = &bus->rtu;
    uint64_t chars = OM_MB_RTU_REQUEST_LEN + 5 + 2 * (uint64_t)count;
    return (int64_t)om_rtu_chars_us(chars, r->baud ? r->baud : 9600,
                                    r->data_bits ? r->data_bits : 8, r->parity ? r->parity : 'N',
                                    r->stop_bits ? r->stop_bits : 1);
}

static int rtu_send(modbus_t *ctx, const om_bus *bus, om_mb_pending *p, char *err,
                    size_t errlen)
{
    uint8_t frame[OM_MB_RTU_REQUEST_LEN];
    size_t n = om_mb_encode_rtu(&p->req, frame);
    ssize_t w = write(modbus_get_socket(ctx), frame, n);
    if (w == (ssize_t)n)
        return 0;
    int saved = w < 0 ? errno : EIO;
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    snprintf(err, errlen, "cannot send to unit %u on %s: %s", p->req.unit, target,
             w < 0 ? strerror(saved) : "short write");
    errno = saved;
    return -1;
}

/* Bytes that have come, into p; 1 when something came, 0 when nothing was
 * there yet, -1 when the connection or device failed (closed: ECONNRESET). */
static int take_bytes(int fd, bool tcp, om_mb_pending *p)
{
    size_t room = sizeof p->buf - p->len;
    ssize_t n = tcp ? recv(fd, p->buf + p->len, room, MSG_DONTWAIT)
                    : read(fd, p->buf + p->len, room);
    if (n > 0) {
        p->len += (size_t)n;
        return 1;
    }
    if (n == 0 && tcp) {
        errno = ECONNRESET;
        return -1;
    }
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -1;
}

int om_mbconn_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                   uint16_t address, uint16_t count, uint16_t *dest, char *err, size_t errlen)
{
    bool tcp = bus->kind == OM_BUS_TCP;
    om_mb_pending p;
    unsigned timeout_ms = response_timeout_ms(ctx);
    int rc = tcp ? om_mbconn_tcp_send(ctx, bus, unit_id, function, address, count, &p, err,
                                      errlen)
                 : om_mb_pending_init(&p, bus, unit_id, function, address, count, err, errlen);
    if (rc == 0 && !tcp)
        rc = rtu_send(ctx, bus, &p, err, errlen);
    if (rc < 0)
        return -1;
    int64_t deadline = mono_us() + (int64_t)timeout_ms * 1000 + (tcp ? 0 : rtu_wire_us(bus, count));
    int fd = modbus_get_socket(ctx);
    for (;;) {
        int64_t left_us = deadline - mono_us();
        if (left_us <= 0) {
            om_mbconn_describe_timeout(bus, unit_id, function, address, timeout_ms, p.len, err,
                                       errlen);
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, (int)((left_us + 999) / 1000));
        if (ready <= 0)
            continue; /* the deadline, or a signal: look again */
        int got = take_bytes(fd, tcp, &p);
        if (got < 0 && errno == ECONNRESET)
            return om_mb_pending_closed(&p, bus, err, errlen);
        if (got < 0) {
            int saved = errno;
            om_mbconn_describe_failure(ctx, bus, unit_id, function, address, saved, err,
                                       errlen);
            errno = saved;
            return -1;
        }
        if (got == 0 && !tcp && (pfd.revents & (POLLHUP | POLLERR))) {
            om_mbconn_describe_failure(ctx, bus, unit_id, function, address, EIO, err, errlen);
            errno = EIO;
            return -1;
        }
        if (got > 0 && (rc = om_mb_pending_judge(&p, bus, tcp, dest, err, errlen)) != 1)
            return rc;
    }
}
