/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.h - the meter simulator: the meters of one or more site files, served
 * over Modbus TCP and RTU, with a deterministic oracle.
 *
 * Lifecycle:
 *     om_sim_new        load catalogue and sites, apply bus overrides and
 *                       faults, group meters into one server per endpoint
 *     om_sim_listen     bind TCP ports, open serial devices (errors here are
 *                       the user's: port in use, no such device)
 *     om_sim_start      start simulated time and the server threads
 *     om_sim_stop       close every server and join its threads
 *     om_sim_free
 *
 * Threads: one per server (TCP accept loop, or RTU line), one per TCP client
 * connection. Meters are evaluated under one lock, so the oracle and the
 * registers always agree.
 */
#ifndef OFFICEMETER_SIM_SIM_H
#define OFFICEMETER_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "officemeter/config/busoverride.h"
#include "officemeter/base/diag.h"

typedef struct {
    const char *catalogue_dir;
    const char *const *site_paths;
    size_t nsites;
    const om_bus_override *overrides;
    size_t noverrides;
    const char *const *faults; /* "METER=MODE" (or "GATEWAY=offline@…") */
    size_t nfaults;
    const char *const *uplinks; /* "GATEWAY=tcp:HOST:PORT": relay that gateway's MQTT */
    size_t nuplinks;
    const char *broker;         /* "HOST:PORT" the uplinks relay to */
    int64_t start_ms;
    double speed;
    double delay_s; /* simulated time stands at start_ms this long first */
    uint64_t seed;
} om_sim_config;

typedef struct om_sim om_sim;

typedef enum {
    OM_SIM_ERR_SETUP = 1, /* files, or a fault a meter cannot show */
    OM_SIM_ERR_USAGE = 2, /* an override or fault that is wrong as written */
} om_sim_error;

/* File errors (catalogue, sites) go to diag, everything else is one line in
 * err; *kind says whose mistake it is. Returns NULL on failure. */
om_sim *om_sim_new(const om_sim_config *cfg, om_diag *diag, om_sim_error *kind, char *err,
                   size_t errlen);
void om_sim_free(om_sim *sim);

int om_sim_listen(om_sim *sim, char *err, size_t errlen);
int om_sim_start(om_sim *sim, char *err, size_t errlen);
void om_sim_stop(om_sim *sim);

/* Current simulated time, ms UTC. */
int64_t om_sim_now(om_sim *sim);

/* One line per server, "tcp:127.0.0.1:1502 units 1 (sh-water)", to out. */
void om_sim_describe(om_sim *sim, FILE *out);

/* Writes the oracle to path atomically (path.tmp, then rename). */
int om_sim_write_state(om_sim *sim, const char *path, char *err, size_t errlen);
/* Each meter's true consumption over calendar year `year` in its site's
 * zone (docs/simulator.md, "The oracle of a year"); NULL with err. */
json_t *om_sim_year_json(om_sim *sim, int year, char *err, size_t errlen);
/* Publishes the simulated clock for other processes (om_sim_clock_write). */
int om_sim_write_clock(om_sim *sim, const char *path, char *err, size_t errlen);

#endif
