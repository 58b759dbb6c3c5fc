/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_tcp.c - Modbus TCP server: one listening socket per endpoint, one
 * thread per client connection.
 *
 * A real TCP gateway or meter serves several clients at once (the agent,
 * a commissioning laptop running probe); a thread per connection keeps a
 * slow or silent meter from holding up another client.
 *
 *   accept_main ── poll(listen fd, stop pipe) ── accept ──▶ conn_main
 *   conn_main   ── poll(socket, stop pipe) ── modbus_receive ── handle
 *   stop: the stop pipe turns readable; every loop returns; accept_main
 *         joins its connections before it returns.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>

#include "sim_private.h"

struct om_sim_conn {
    om_sim_server *srv;
    modbus_t *ctx;
    int fd;
    pthread_t thread;
    atomic_bool done;
    om_sim_conn *next;
};

int om_sim_tcp_open(om_sim_server *srv, char *err, size_t errlen)
{
    char service[16];
    snprintf(service, sizeof service, "%u", srv->port);
    srv->ctx = modbus_new_tcp_pi(srv->host, service);
    if (srv->ctx == NULL) {
        snprintf(err, errlen, "%s: %s", srv->label, modbus_strerror(errno));
        return -1;
    }
    errno = 0;
    srv->fd = modbus_tcp_pi_listen(srv->ctx, 16);
    if (srv->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s:%u: %s", srv->host, srv->port,
                 e ? strerror(e) : "no usable address");
        modbus_free(srv->ctx);
        srv->ctx = NULL;
        return -1;
    }
    return 0;
}

static void *conn_main(void *arg)
{
    om_sim_conn *c = arg;
    om_sim *sim = c->srv->sim;
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];

    while (!atomic_load(&sim->stopping)) {
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = sim->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        int len = modbus_receive(c->ctx, req);
        if (len < 0)
            break; /* closed by the client, or a broken frame: drop it */
        if (len > 0)
            om_sim_server_handle(c->srv, c->ctx, req, len);
    }
    atomic_store(&c->done, true);
    return NULL;
}

static void conn_free(om_sim_conn *c)
{
    pthread_join(c->thread, NULL);
    close(c->fd);
    modbus_free(c->ctx);
    free(c);
}

/* Joins connections whose client has gone; all of them when `all`. */
static void reap(om_sim_server *srv, bool all)
{
    pthread_mutex_lock(&srv->conns_lock);
    om_sim_conn **pp = &srv->conns;
    while (*pp) {
        om_sim_conn *c = *pp;
        if (all || atomic_load(&c->done)) {
            *pp = c->next;
            conn_free(c);
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&srv->conns_lock);
}

static void add_conn(om_sim_server *srv, int fd)
{
    om_sim_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        goto fail;
    c->srv = srv;
    c->fd = fd;
    /* The context only frames messages on an accepted socket. */
    c->ctx = modbus_new_tcp("127.0.0.1", (int)srv->port);
    if (c->ctx == NULL || modbus_set_socket(c->ctx, fd) != 0)
        goto fail;
    if (pthread_create(&c->thread, NULL, conn_main, c) != 0)
        goto fail;
    pthread_mutex_lock(&srv->conns_lock);
    c->next = srv->conns;
    srv->conns = c;
    pthread_mutex_unlock(&srv->conns_lock);
    return;
fail:
    fprintf(stderr, "officemeter sim: %s: cannot serve a new connection: %s\n", srv->label,
            strerror(errno));
    if (c && c->ctx)
        modbus_free(c->ctx);
    free(c);
    close(fd);
}

static void *accept_main(void *arg)
{
    om_sim_server *srv = arg;
    om_sim *sim = srv->sim;

    while (!atomic_load(&sim->stopping)) {
        struct pollfd p[2] = {{.fd = srv->fd, .events = POLLIN},
                              {.fd = sim->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, 1000) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        reap(srv, false);
        if (!(p[0].revents & POLLIN))
            continue;
        int fd = accept(srv->fd, NULL, NULL);
        if (fd < 0)
            continue;
        add_conn(srv, fd);
    }
    reap(srv, true);
    return NULL;
}

int om_sim_tcp_start(om_sim_server *srv, char *err, size_t errlen)
{
    if (pthread_create(&srv->thread, NULL, accept_main, srv) != 0) {
        snprintf(err, errlen, "%s: cannot start a thread: %s", srv->label, strerror(errno));
        return -1;
    }
    srv->started = true;
    return 0;
}

void om_sim_tcp_join(om_sim_server *srv)
{
    if (srv->started)
        pthread_join(srv->thread, NULL);
    srv->started = false;
    if (srv->fd >= 0)
        close(srv->fd);
    srv->fd = -1;
    if (srv->ctx)
        modbus_free(srv->ctx);
    srv->ctx = NULL;
}
