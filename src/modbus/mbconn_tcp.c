/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn_tcp.c - Modbus TCP through libmodbus without blocking.
 *
 * libmodbus's calls block: modbus_connect() until the TCP handshake ends
 * (a host that is down costs the whole timeout), a read until the answer
 * comes. An agent with 64 Modbus TCP meters would need 64 threads to keep a
 * dead one from holding up the rest. Here the blocking points are split
 * off so that one thread can wait for all of them with poll(2): the socket
 * is connected without blocking and handed to libmodbus, which then frames
 * the request (modbus_send_raw_request) and reads the answer
 * (modbus_receive_confirmation) when it is already there. (An answer split
 * across TCP segments is completed by libmodbus's own wait for the rest,
 * bounded by its byte timeout: a short pause of the one thread.)
 *
 * libmodbus matches an answer to its request by transaction id inside
 * modbus_read_registers(); receiving separately, that check is the
 * caller's: one request outstanding per connection, and a connection whose
 * request timed out is closed, so an answer can only be to the request
 * just sent.
 */
#include "officemeter/modbus/mbconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A non-blocking socket connecting (or connected) to `addr`. */
static int start_connect(const struct addrinfo *addr, const char *target, char *err,
                         size_t errlen)
{
    int fd = socket(addr->ai_family, addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    addr->ai_protocol);
    if (fd < 0) {
        int saved = errno;
        snprintf(err, errlen, "cannot connect to %s: socket: %s", target, strerror(saved));
        errno = saved;
        return -1;
    }
    /* As libmodbus sets it: small frames go out at once. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, addr->ai_addr, addr->ai_addrlen) < 0 && errno != EINPROGRESS) {
        int saved = errno;
        close(fd);
        snprintf(err, errlen, "cannot connect to %s: %s", target, strerror(saved));
        errno = saved;
        return -1;
    }
    return fd;
}

modbus_t *om_mbconn_tcp_begin_at(const om_bus *bus, const struct addrinfo *addr,
                                 unsigned timeout_ms, int *fd, char *err, size_t errlen)
{
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    *fd = -1;
    if (bus->kind != OM_BUS_TCP || !bus->tcp.host) {
        snprintf(err, errlen, "%s: not a Modbus TCP bus with a host", target);
        errno = EINVAL;
        return NULL;
    }
    modbus_t *ctx = om_mbconn_new(bus, timeout_ms, err, errlen);
    if (!ctx)
        return NULL;
    int s = start_connect(addr, target, err, errlen);
    if (s < 0) {
        int saved = errno;
        modbus_free(ctx);
        errno = saved;
        return NULL;
    }
    /* From here modbus_close() closes the socket. */
    modbus_set_socket(ctx, s);
    *fd = s;
    return ctx;
}

modbus_t *om_mbconn_tcp_begin(const om_bus *bus, unsigned timeout_ms, int *fd, char *err,
                              size_t errlen)
{
    char target[300], service[16];
    om_mbconn_describe(bus, target, sizeof target);
    *fd = -1;
    if (bus->kind != OM_BUS_TCP || !bus->tcp.host) {
        snprintf(err, errlen, "%s: not a Modbus TCP bus with a host", target);
        errno = EINVAL;
        return NULL;
    }
    snprintf(service, sizeof service, "%u", bus->tcp.port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(bus->tcp.host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot connect to %s: cannot resolve host \"%s\": %s", target,
                 bus->tcp.host, gai_strerror(rc));
        errno = EHOSTUNREACH;
        return NULL;
    }
    modbus_t *ctx = om_mbconn_tcp_begin_at(bus, res, timeout_ms, fd, err, errlen);
    int saved = errno;
    freeaddrinfo(res);
    errno = saved;
    return ctx;
}

int om_mbconn_tcp_connected(modbus_t *ctx, const om_bus *bus, char *err, size_t errlen)
{
    int fd = modbus_get_socket(ctx), soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr == 0) {
        /* libmodbus waits with select() itself: give it the blocking socket
         * it expects for the partial reads of a frame. */
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0)
            fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        return 0;
    }
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    snprintf(err, errlen, "cannot connect to %s: %s", target, strerror(soerr));
    errno = soerr;
    return -1;
}

int om_mbconn_send_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                        uint16_t address, uint16_t count, char *err, size_t errlen)
{
    char target[300];
    if ((function != 3 && function != 4) || unit_id > 255) {
        om_mbconn_describe(bus, target, sizeof target);
        snprintf(err, errlen, "unit %u on %s: unsupported request (function %u)", unit_id,
                 target, function);
        errno = EINVAL;
        return -1;
    }
    uint8_t raw[6] = {(uint8_t)unit_id, (uint8_t)function, (uint8_t)(address >> 8),
                      (uint8_t)address, (uint8_t)(count >> 8), (uint8_t)count};
    if (modbus_send_raw_request(ctx, raw, sizeof raw) < 0) {
        int saved = errno;
        om_mbconn_describe_failure(ctx, bus, unit_id, function, address, saved, err, errlen);
        errno = saved;
        return -1;
    }
    return 0;
}

int om_mbconn_recv_read(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                        uint16_t address, uint16_t count, uint16_t *dest, char *err,
                        size_t errlen)
{
    uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    int n = modbus_receive_confirmation(ctx, rsp);
    int code = 0;
    int hl = modbus_get_header_length(ctx);
    if (n < 0)
        code = errno;
    else if (n < hl + 2 || rsp[2] != 0 || rsp[3] != 0)
        code = EMBBADDATA; /* too short, or not the Modbus protocol id */
    else if (rsp[hl] == (function | 0x80u))
        code = MODBUS_ENOBASE + rsp[hl + 1];
    else if (rsp[hl] != function || rsp[hl + 1] != 2u * count || n != hl + 2 + 2 * (int)count)
        code = EMBBADDATA;
    if (code) {
        om_mbconn_describe_failure(ctx, bus, unit_id, function, address, code, err, errlen);
        errno = code;
        return -1;
    }
    for (uint16_t i = 0; i < count; i++)
        dest[i] = (uint16_t)(rsp[hl + 2 + 2 * i] << 8 | rsp[hl + 3 + 2 * i]);
    return 0;
}
