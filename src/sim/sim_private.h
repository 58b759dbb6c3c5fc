/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_private.h - the simulator's internals, shared by its files only.
 */
#ifndef OM_SIM_PRIVATE_H
#define OM_SIM_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <modbus.h>

#include "officemeter/config/catalogue.h"
#include "officemeter/config/site.h"
#include "officemeter/sim/sim.h"
#include "officemeter/base/simclock.h"
#include "sim_device.h"
#include "sim_meter.h"

typedef struct om_sim_conn om_sim_conn;
typedef struct om_sim_uplink om_sim_uplink;

/* One endpoint: a TCP host:port or an RTU device, with the devices (unit
 * ids) it serves. Buses of several sites that name the same endpoint share
 * one server. */
typedef struct {
    om_sim *sim;
    om_bus_kind kind;
    char *host;       /* tcp */
    unsigned port;
    om_rtu_params rtu;
    char label[300];  /* "tcp:127.0.0.1:1502", "rtu:/dev/pts/3" */
    om_sim_device *devices;
    size_t ndevices;

    modbus_t *ctx;    /* listening (tcp) or line (rtu) context */
    int fd;           /* listening socket or serial line, -1 when closed */
    pthread_t thread;
    bool started;
    pthread_mutex_t conns_lock;
    om_sim_conn *conns; /* tcp client connections */
} om_sim_server;

struct om_sim {
    om_catalogue cat;
    bool cat_loaded;
    om_site *sites;
    size_t nsites;
    om_sim_meter *meters;
    size_t nmeters;
    om_sim_server **servers;
    size_t nservers;
    om_sim_uplink **uplinks; /* gateways' relays to the broker (--uplink) */
    size_t nuplinks;

    om_sim_clock clock;
    int64_t start_ms;
    double speed;
    double delay_s;
    pthread_mutex_t lock; /* meters (profile cursors) and the clock */
    int stop_pipe[2];     /* readable once stopping: wakes every poll() */
    atomic_bool stopping;
};

/* sim_server.c */
om_sim_server *om_sim_server_new(om_sim *sim, const om_bus *bus);
void om_sim_server_free(om_sim_server *srv);
bool om_sim_server_matches(const om_sim_server *srv, const om_bus *bus);
int om_sim_server_add(om_sim_server *srv, om_sim_meter *m, char *err, size_t errlen);
/* Answers one request ADU (as received by ctx), or stays silent. */
void om_sim_server_handle(om_sim_server *srv, modbus_t *ctx, const uint8_t *req, int len);
/* Sleeps ms unless the simulator stops first. */
void om_sim_server_pause(om_sim_server *srv, unsigned ms);

/* sim_tcp.c */
int om_sim_tcp_open(om_sim_server *srv, char *err, size_t errlen);
int om_sim_tcp_start(om_sim_server *srv, char *err, size_t errlen);
void om_sim_tcp_join(om_sim_server *srv);

/* sim_uplink.c: a gateway's uplink to the broker, cut by offline@ */
om_sim_uplink *om_sim_uplink_new(om_sim *sim, const char *spec, const char *broker, char *err,
                                 size_t errlen);
const char *om_sim_uplink_gateway(const om_sim_uplink *u);
void om_sim_uplink_set_offline(om_sim_uplink *u, int64_t from, int64_t until);
void om_sim_uplink_describe(const om_sim_uplink *u, FILE *out);
int om_sim_uplink_open(om_sim_uplink *u, char *err, size_t errlen);
int om_sim_uplink_start(om_sim_uplink *u, char *err, size_t errlen);
/* Joins the thread (the simulator is stopping) and closes everything. */
void om_sim_uplink_free(om_sim_uplink *u);

/* sim_rtu.c */
int om_sim_rtu_open(om_sim_server *srv, char *err, size_t errlen);
int om_sim_rtu_start(om_sim_server *srv, char *err, size_t errlen);
void om_sim_rtu_join(om_sim_server *srv);

#endif
