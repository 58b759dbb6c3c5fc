/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn_tcp.c - Modbus TCP without blocking.
 *
 * libmodbus's calls block: modbus_connect() until the TCP handshake ends
 * (a host that is down costs the whole timeout), a read until the answer
 * comes, and every further byte of an answer up to its byte timeout. An
 * agent with 64 Modbus TCP meters would need 64 threads to keep a dead or
 * trickling one from holding up the rest. Here the blocking points are
 * split off so that one thread can wait for all of them with poll(2): the
 * socket is connected without blocking and stays so; a request is sent
 * with a transaction id of its own, and whatever the socket holds is read
 * and judged (answer.h) each time it becomes readable, until the answer is
 * whole or the caller's deadline passes. A frame with another transaction
 * id (a device's extra frame, an answer that came after its request timed
 * out) is dropped as it comes; bytes after the answer are dropped with it.
 */
#include "mbconn_private.h"

#include <errno.h>
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
    if (soerr == 0)
        return 0; /* stays non-blocking: requests and answers never wait */
    char target[300];
    om_mbconn_describe(bus, target, sizeof target);
    snprintf(err, errlen, "cannot connect to %s: %s", target, strerror(soerr));
    errno = soerr;
    return -1;
}

int om_mbconn_tcp_send(modbus_t *ctx, const om_bus *bus, unsigned unit_id, unsigned function,
                       uint16_t address, uint16_t count, om_mb_pending *p, char *err,
                       size_t errlen)
{
    if (om_mb_pending_init(p, bus, unit_id, function, address, count, err, errlen) < 0)
        return -1;
    p->req.transaction = om_mb_next_transaction();
    uint8_t frame[OM_MB_TCP_REQUEST_LEN];
    size_t n = om_mb_encode_tcp(&p->req, frame);
    /* Twelve bytes always fit an empty send buffer; one that is full holds
     * requests the device has not read: as good as a broken connection. */
    ssize_t w = send(modbus_get_socket(ctx), frame, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w == (ssize_t)n)
        return 0;
    int saved = w < 0 ? errno : EIO;
    if (saved == EAGAIN || saved == EWOULDBLOCK)
        saved = EIO;
    om_mbconn_describe_failure(ctx, bus, unit_id, function, address, saved, err, errlen);
    errno = saved;
    return -1;
}

int om_mbconn_tcp_receive(modbus_t *ctx, const om_bus *bus, om_mb_pending *p, uint16_t *dest,
                          char *err, size_t errlen)
{
    ssize_t n = recv(modbus_get_socket(ctx), p->buf + p->len, sizeof p->buf - p->len,
                     MSG_DONTWAIT);
    if (n == 0)
        return om_mb_pending_closed(p, bus, err, errlen);
    if (n < 0) {
        int saved = errno;
        if (saved == EAGAIN || saved == EWOULDBLOCK || saved == EINTR)
            return 1; /* woken for nothing: wait on */
        om_mbconn_describe_failure(ctx, bus, p->req.unit, p->req.function, p->req.address,
                                   saved, err, errlen);
        errno = saved;
        return -1;
    }
    p->len += (size_t)n;
    return om_mb_pending_judge(p, bus, true, dest, err, errlen);
}
