/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_server.c - what TCP and RTU servers share: the endpoint, its devices,
 * and the answer to one request.
 *
 * An answer is decided under the simulator's lock (so the registers and the
 * oracle agree) and sent outside it (so a slow meter never blocks others).
 * Unknown unit ids get what the real thing would do: a TCP gateway answers
 * exception 0x0B (gateway target failed to respond), an RS-485 line stays
 * silent.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/clock.h"
#include "sim_private.h"

om_sim_server *om_sim_server_new(om_sim *sim, const om_bus *bus)
{
    om_sim_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return NULL;
    srv->sim = sim;
    srv->kind = bus->kind;
    srv->fd = -1;
    pthread_mutex_init(&srv->conns_lock, NULL);
    if (bus->kind == OM_BUS_TCP) {
        srv->host = strdup(bus->tcp.host ? bus->tcp.host : "0.0.0.0");
        srv->port = bus->tcp.port;
        snprintf(srv->label, sizeof srv->label, "tcp:%s:%u", srv->host, srv->port);
        if (srv->host == NULL)
            goto fail;
    } else {
        srv->rtu = bus->rtu;
        srv->rtu.device = strdup(bus->rtu.device ? bus->rtu.device : "");
        snprintf(srv->label, sizeof srv->label, "rtu:%s", srv->rtu.device ? srv->rtu.device : "");
        if (srv->rtu.device == NULL)
            goto fail;
    }
    return srv;
fail:
    om_sim_server_free(srv);
    return NULL;
}

void om_sim_server_free(om_sim_server *srv)
{
    if (srv == NULL)
        return;
    for (size_t i = 0; i < srv->ndevices; i++)
        om_sim_device_free(&srv->devices[i]);
    free(srv->devices);
    free(srv->host);
    free(srv->rtu.device);
    pthread_mutex_destroy(&srv->conns_lock);
    free(srv);
}

bool om_sim_server_matches(const om_sim_server *srv, const om_bus *bus)
{
    if (srv->kind != bus->kind)
        return false;
    if (bus->kind == OM_BUS_TCP)
        return bus->tcp.host && strcmp(srv->host, bus->tcp.host) == 0 &&
               srv->port == bus->tcp.port;
    return bus->rtu.device && strcmp(srv->rtu.device, bus->rtu.device) == 0;
}

static om_sim_device *server_device(om_sim_server *srv, unsigned unit_id)
{
    for (size_t i = 0; i < srv->ndevices; i++)
        if (srv->devices[i].unit_id == unit_id)
            return &srv->devices[i];
    return NULL;
}

int om_sim_server_add(om_sim_server *srv, om_sim_meter *m, char *err, size_t errlen)
{
    om_sim_device *dev = server_device(srv, m->meter->unit_id);
    if (dev == NULL) {
        om_sim_device *grown = realloc(srv->devices, (srv->ndevices + 1) * sizeof *grown);
        if (grown == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        srv->devices = grown;
        dev = &srv->devices[srv->ndevices++];
        om_sim_device_init(dev, m->meter->unit_id);
    }
    char reason[300];
    if (om_sim_device_add(dev, m, reason, sizeof reason) != 0) {
        snprintf(err, errlen, "%s: %s", srv->label, reason);
        return -1;
    }
    return 0;
}

void om_sim_server_pause(om_sim_server *srv, unsigned ms)
{
    int64_t until = om_mono_ms() + ms;
    for (;;) {
        int64_t left = until - om_mono_ms();
        if (left <= 0 || atomic_load(&srv->sim->stopping))
            return;
        struct pollfd p = {.fd = srv->sim->stop_pipe[0], .events = POLLIN};
        if (poll(&p, 1, (int)left) > 0)
            return;
    }
}

typedef struct {
    unsigned exception; /* 0: registers */
    bool silent;
    unsigned slow_ms;
    uint16_t address;
    uint16_t n;
    uint16_t regs[OM_SIM_MAX_READ];
} answer;

/* Decides the answer under the simulator's lock. */
static void decide(om_sim_server *srv, om_sim_device *dev, unsigned function, answer *a)
{
    om_sim *sim = srv->sim;
    pthread_mutex_lock(&sim->lock);
    om_sim_behaviour b = om_sim_device_behaviour_at(dev, om_sim_clock_now(&sim->clock), function,
                                                    a->address, a->n);
    a->silent = b.timeout;
    a->slow_ms = b.slow_ms;
    a->exception = b.exception;
    if (!a->silent && a->exception == 0) {
        uint16_t n = a->n <= OM_SIM_MAX_READ ? a->n : 0;
        a->exception = om_sim_device_read(dev, om_sim_clock_now(&sim->clock), function,
                                          a->address, n, a->regs);
    }
    pthread_mutex_unlock(&sim->lock);
}

static void reply_registers(modbus_t *ctx, const uint8_t *req, int len, const answer *a)
{
    modbus_mapping_t *map =
        modbus_mapping_new_start_address(0, 0, 0, 0, a->address, a->n, a->address, a->n);
    if (map == NULL)
        return;
    memcpy(map->tab_registers, a->regs, a->n * sizeof *a->regs);
    memcpy(map->tab_input_registers, a->regs, a->n * sizeof *a->regs);
    modbus_reply(ctx, req, len, map);
    modbus_mapping_free(map);
}

void om_sim_server_handle(om_sim_server *srv, modbus_t *ctx, const uint8_t *req, int len)
{
    int off = modbus_get_header_length(ctx);
    if (len < off + 1)
        return;
    unsigned unit = req[off - 1];
    unsigned function = req[off];
    om_sim_device *dev = server_device(srv, unit);
    if (dev == NULL) {
        if (srv->kind == OM_BUS_TCP)
            modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_GATEWAY_TARGET);
        return;
    }

    answer a = {0};
    if ((function == 3 || function == 4) && len >= off + 5) {
        a.address = (uint16_t)(req[off + 1] << 8 | req[off + 2]);
        a.n = (uint16_t)(req[off + 3] << 8 | req[off + 4]);
    }
    decide(srv, dev, function, &a);
    if (a.silent)
        return;
    if (a.slow_ms)
        om_sim_server_pause(srv, a.slow_ms);
    if (atomic_load(&srv->sim->stopping))
        return;
    if (a.exception)
        modbus_reply_exception(ctx, req, a.exception);
    else
        reply_registers(ctx, req, len, &a);
}
