/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn.c - one way to turn a site bus into a connected libmodbus client.
 *
 * The agent, the probe and the tests all talk to meters through these two
 * functions, so a bus is opened with the same serial settings and timeouts
 * everywhere, and every failure reads the same way in the field:
 *
 *     no answer from unit 3 on /dev/ttyUSB0 (bus rs485-1) within 500 ms
 *         (function 4, address 0x0048)
 *     unit 1 on 10.0.0.20:502 (bus lan) answered exception 2 (illegal data
 *         address) to function 3, address 0x5000
 *
 * Why the messages name device or host, unit, function and address: the
 * person reading them stands next to a cabinet with a screwdriver and a
 * manual, and those four facts are what they can check.
 */
#include "officemeter/modbus/mbconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

/* Indexed by Modbus exception code (Modbus Application Protocol v1.1b3, 7). */
static const char *const exception_names[] = {
    [1] = "illegal function",
    [2] = "illegal data address",
    [3] = "illegal data value",
    [4] = "server device failure",
    [5] = "acknowledge",
    [6] = "server device busy",
    [7] = "negative acknowledge",
    [8] = "memory parity error",
    [10] = "gateway path unavailable",
    [11] = "gateway target device failed to respond",
};

static const char *modbus_exception_name(unsigned code)
{
    if (code < sizeof exception_names / sizeof exception_names[0] && exception_names[code])
        return exception_names[code];
    return "unknown exception";
}

/* "/dev/ttyUSB0 (bus rs485-1)" or "10.0.0.20:502 (bus lan)". */
void om_mbconn_describe(const om_bus *bus, char *buf, size_t len)
{
    const char *id = bus->id ? bus->id : "?";
    if (bus->kind == OM_BUS_RTU)
        snprintf(buf, len, "%s (bus %s)", bus->rtu.device ? bus->rtu.device : "?", id);
    else if (bus->tcp.host && strchr(bus->tcp.host, ':'))
        snprintf(buf, len, "[%s]:%u (bus %s)", bus->tcp.host, bus->tcp.port, id);
    else
        snprintf(buf, len, "%s:%u (bus %s)", bus->tcp.host ? bus->tcp.host : "?", bus->tcp.port,
                 id);
}

/* modbus_new_tcp() takes a dotted IPv4 address only; names and IPv6 go
 * through modbus_new_tcp_pi(), which resolves them itself. */
static modbus_t *new_tcp(const om_tcp_params *tcp)
{
    struct in_addr addr;
    if (inet_pton(AF_INET, tcp->host, &addr) == 1)
        return modbus_new_tcp(tcp->host, (int)tcp->port);
    char service[16];
    snprintf(service, sizeof service, "%u", tcp->port);
    return modbus_new_tcp_pi(tcp->host, service);
}

/* libmodbus reports a name that does not resolve as "Connection refused",
 * which sends people to check a firewall instead of a typo: resolve first. */
static int check_resolves(const om_tcp_params *tcp, const char *target, char *err,
                          size_t errlen)
{
    struct in_addr addr;
    if (inet_pton(AF_INET, tcp->host, &addr) == 1)
        return 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(tcp->host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot connect to %s: cannot resolve host \"%s\": %s", target,
                 tcp->host, gai_strerror(rc));
        errno = EHOSTUNREACH;
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

static modbus_t *new_rtu(const om_rtu_params *rtu)
{
    char parity = rtu->parity ? rtu->parity : 'N';
    unsigned baud = rtu->baud ? rtu->baud : 9600;
    unsigned data_bits = rtu->data_bits ? rtu->data_bits : 8;
    unsigned stop_bits = rtu->stop_bits ? rtu->stop_bits : 1;
    return modbus_new_rtu(rtu->device, (int)baud, parity, (int)data_bits, (int)stop_bits);
}

/* A serial line has one master: two programs talking on it at once (a
 * probe while the agent polls) garble each other's frames into timeouts and
 * CRC errors that look like wiring faults. An exclusive advisory lock on the
 * device keeps officemeter's own programs apart and says who to stop. */
static int lock_line(modbus_t *ctx, const char *target, char *err, size_t errlen)
{
    int fd = modbus_get_socket(ctx);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK)
        return 0; /* a device that cannot be locked is used as before */
    snprintf(err, errlen,
             "cannot open serial device %s: it is in use by another officemeter program "
             "(one master per RS-485 line: stop officemeter-agent before probing its bus)",
             target);
    return -1;
}

modbus_t *om_mbconn_new(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);

    if ((bus->kind == OM_BUS_RTU && !bus->rtu.device) ||
        (bus->kind == OM_BUS_TCP && !bus->tcp.host)) {
        snprintf(err, errlen, "%s: no %s configured", target,
                 bus->kind == OM_BUS_RTU ? "device" : "host");
        errno = EINVAL;
        return NULL;
    }
    modbus_t *ctx = bus->kind == OM_BUS_RTU ? new_rtu(&bus->rtu) : new_tcp(&bus->tcp);
    if (!ctx) {
        int saved = errno;
        snprintf(err, errlen, "%s: cannot create Modbus context: %s", target,
                 modbus_strerror(saved));
        errno = saved;
        return NULL;
    }
    if (timeout_ms == 0)
        timeout_ms = 1000;
    if (modbus_set_response_timeout(ctx, timeout_ms / 1000, (timeout_ms % 1000) * 1000) < 0) {
        int saved = errno;
        snprintf(err, errlen, "%s: invalid response timeout %u ms", target, timeout_ms);
        modbus_free(ctx);
        errno = saved;
        return NULL;
    }
    return ctx;
}

modbus_t *om_mbconn_open(const om_bus *bus, unsigned timeout_ms, char *err, size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    if (bus->kind == OM_BUS_TCP && bus->tcp.host &&
        check_resolves(&bus->tcp, target, err, errlen) < 0)
        return NULL;
    modbus_t *ctx = om_mbconn_new(bus, timeout_ms, err, errlen);
    if (!ctx)
        return NULL;
    if (modbus_connect(ctx) < 0) {
        int saved = errno;
        snprintf(err, errlen, "cannot %s %s: %s",
                 bus->kind == OM_BUS_RTU ? "open serial device" : "connect to", target,
                 modbus_strerror(saved));
        modbus_free(ctx);
        errno = saved;
        return NULL;
    }
    if (bus->kind == OM_BUS_RTU && lock_line(ctx, target, err, errlen) < 0) {
        modbus_close(ctx);
        modbus_free(ctx);
        errno = EBUSY;
        return NULL;
    }
    return ctx;
}

static unsigned response_timeout_ms(modbus_t *ctx)
{
    uint32_t sec = 0, usec = 0;
    if (modbus_get_response_timeout(ctx, &sec, &usec) < 0)
        return 0;
    return sec * 1000u + usec / 1000u;
}

om_mb_failure om_mb_classify(int code, unsigned *exception)
{
    if (code > MODBUS_ENOBASE && code < MODBUS_ENOBASE + MODBUS_EXCEPTION_MAX) {
        if (exception)
            *exception = (unsigned)(code - MODBUS_ENOBASE);
        return OM_MB_EXCEPTION;
    }
    switch (code) {
    case ETIMEDOUT: return OM_MB_TIMEOUT;
    case EMBBADCRC: return OM_MB_BAD_CRC;
    case EMBBADDATA:
    case EMBBADSLAVE:
    case EMBMDATA: return OM_MB_GARBLED;
    case ECONNRESET:
    case EPIPE:
    case ECONNREFUSED:
    case EBADF:
    case ENOTCONN:
    case EIO:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH: return OM_MB_CONNECTION;
    default: return OM_MB_OTHER;
    }
}

bool om_mb_exception_is_absent(unsigned exception)
{
    return exception == MODBUS_EXCEPTION_GATEWAY_PATH ||
           exception == MODBUS_EXCEPTION_GATEWAY_TARGET;
}

/* Turn a libmodbus failure (errno) into one line naming target and request. */
void om_mbconn_describe_failure(modbus_t *ctx, const om_bus *bus, unsigned unit_id,
                                unsigned function, uint16_t address, int code, char *err,
                                size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    char request[64];
    snprintf(request, sizeof request, "function %u, address 0x%04X", function, address);

    unsigned exc = 0;
    om_mb_failure kind = om_mb_classify(code, &exc);
    if (kind == OM_MB_EXCEPTION) {
        snprintf(err, errlen, "unit %u on %s answered exception %u (%s) to %s", unit_id, target,
                 exc, modbus_exception_name(exc), request);
    } else if (kind == OM_MB_TIMEOUT) {
        snprintf(err, errlen, "no answer from unit %u on %s within %u ms (%s)", unit_id, target,
                 response_timeout_ms(ctx), request);
    } else if (kind == OM_MB_BAD_CRC) {
        snprintf(err, errlen,
                 "bad CRC in the answer from unit %u on %s (%s): check baud rate, parity, "
                 "wiring and termination",
                 unit_id, target, request);
    } else if (code == EMBBADSLAVE) {
        snprintf(err, errlen, "answer from the wrong unit on %s when asking unit %u (%s): "
                 "two devices share a unit id?", target, unit_id, request);
    } else {
        snprintf(err, errlen, "reading unit %u on %s (%s) failed: %s", unit_id, target, request,
                 modbus_strerror(code));
    }
}

void om_mbconn_describe_timeout(const om_bus *bus, unsigned unit_id, unsigned function,
                                uint16_t address, unsigned timeout_ms, size_t received,
                                char *err, size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    if (received == 0)
        snprintf(err, errlen, "no answer from unit %u on %s within %u ms (function %u, "
                 "address 0x%04X)", unit_id, target, timeout_ms, function, address);
    else
        snprintf(err, errlen, "incomplete answer from unit %u on %s within %u ms (function %u, "
                 "address 0x%04X): %zu bytes came, a frame cut short or dribbled too slowly",
                 unit_id, target, timeout_ms, function, address, received);
}
