/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.c - building and running the simulator from site files.
 *
 * om_sim_new does everything that can fail because of what the user wrote
 * (files, overrides, faults) before anything is opened; om_sim_listen then
 * opens every endpoint, so that "port in use" and "no such device" are
 * reported before the ready file says the simulator is serving.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_private.h"

static int load_files(om_sim *sim, const om_sim_config *cfg, om_diag *diag, char *err,
                      size_t errlen)
{
    const char *dir = cfg->catalogue_dir ? cfg->catalogue_dir : "firmware-config/meters";
    int rc = om_catalogue_load(dir, &sim->cat, diag);
    sim->cat_loaded = true; /* freeable even after a failed load */
    if (rc != 0) {
        snprintf(err, errlen, "cannot load the meter catalogue from %s", dir);
        return -1;
    }
    sim->sites = calloc(cfg->nsites ? cfg->nsites : 1, sizeof *sim->sites);
    if (sim->sites == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->nsites; i++) {
        if (om_site_load(cfg->site_paths[i], &sim->cat, &sim->sites[i], diag) != 0) {
            sim->nsites = i + 1; /* a failed load leaves a freeable site */
            snprintf(err, errlen, "cannot load site file %s", cfg->site_paths[i]);
            return -1;
        }
        sim->nsites = i + 1;
    }
    return 0;
}

/* Each override must match a bus in at least one site. */
static int apply_overrides(om_sim *sim, const om_sim_config *cfg, char *err, size_t errlen)
{
    for (size_t k = 0; k < cfg->noverrides; k++) {
        size_t matched = 0;
        char reason[256] = "";
        for (size_t i = 0; i < sim->nsites; i++) {
            if (om_bus_override_apply(&sim->sites[i], &cfg->overrides[k], 1, reason,
                                      sizeof reason) == 0)
                matched++;
        }
        if (matched == 0) {
            snprintf(err, errlen, "--bus: %s", reason);
            return -1;
        }
    }
    return 0;
}

static void list_meters(const om_sim *sim, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sim->nsites; i++)
        for (size_t j = 0; j < sim->sites[i].nmeters && used + 1 < len; j++)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                     sim->sites[i].meters[j].id);
}

static bool gateway_declared(const om_sim *sim, const char *id)
{
    for (size_t i = 0; i < sim->nsites; i++)
        if (om_site_find_gateway(&sim->sites[i], id))
            return true;
    return false;
}

/* --uplink GATEWAY=tcp:HOST:PORT, each for a declared gateway. */
static int build_uplinks(om_sim *sim, const om_sim_config *cfg, char *err, size_t errlen)
{
    if (cfg->nuplinks == 0)
        return 0;
    sim->uplinks = calloc(cfg->nuplinks, sizeof *sim->uplinks);
    if (!sim->uplinks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->nuplinks; i++) {
        om_sim_uplink *u = om_sim_uplink_new(sim, cfg->uplinks[i], cfg->broker, err, errlen);
        if (!u)
            return -1;
        sim->uplinks[sim->nuplinks++] = u;
        if (!gateway_declared(sim, om_sim_uplink_gateway(u))) {
            snprintf(err, errlen, "--uplink: unknown gateway '%s'", om_sim_uplink_gateway(u));
            return -1;
        }
    }
    return 0;
}

/* A gateway fault (offline@) goes to the gateway's uplink. 1: it was one,
 * 0: not a gateway fault, -1: an error in err. */
static int gateway_fault(om_sim *sim, const char *id, const om_sim_faults *f, char *err,
                         size_t errlen)
{
    if (!f->offline)
        return 0;
    for (size_t i = 0; i < sim->nuplinks; i++)
        if (strcmp(om_sim_uplink_gateway(sim->uplinks[i]), id) == 0) {
            om_sim_uplink_set_offline(sim->uplinks[i], f->offline_from, f->offline_until);
            return 1;
        }
    if (gateway_declared(sim, id))
        snprintf(err, errlen, "--fault: %s=offline@… needs --uplink %s=tcp:HOST:PORT (the agent "
                 "reaches the broker through it)", id, id);
    else
        snprintf(err, errlen, "--fault: unknown gateway '%s' (offline is a gateway fault)", id);
    return -1;
}

/* Parses every --fault into the per-meter table (same order as meters). */
static int parse_faults(om_sim *sim, const om_sim_config *cfg, om_sim_faults *faults,
                        char *err, size_t errlen)
{
    for (size_t k = 0; k < cfg->nfaults; k++) {
        char id[128];
        om_sim_faults f;
        om_sim_faults_init(&f);
        char reason[600];
        if (om_sim_fault_parse(cfg->faults[k], id, sizeof id, &f, reason, sizeof reason) != 0) {
            snprintf(err, errlen, "--fault: %s", reason);
            return -1;
        }
        int g = gateway_fault(sim, id, &f, err, errlen);
        if (g < 0)
            return -1;
        if (g > 0)
            continue;
        size_t matched = 0, idx = 0;
        for (size_t i = 0; i < sim->nsites; i++) {
            for (size_t j = 0; j < sim->sites[i].nmeters; j++, idx++) {
                if (strcmp(sim->sites[i].meters[j].id, id) != 0)
                    continue;
                /* Re-parse into the meter's own record so modes accumulate. */
                om_sim_fault_parse(cfg->faults[k], id, sizeof id, &faults[idx], err, errlen);
                matched++;
            }
        }
        if (matched == 0) {
            char names[512];
            list_meters(sim, names, sizeof names);
            snprintf(err, errlen, "--fault: unknown meter '%s' (the sites declare: %s)", id,
                     names);
            return -1;
        }
    }
    return 0;
}

static om_sim_server *server_for(om_sim *sim, const om_bus *bus, char *err, size_t errlen)
{
    for (size_t i = 0; i < sim->nservers; i++)
        if (om_sim_server_matches(sim->servers[i], bus))
            return sim->servers[i];
    om_sim_server **grown = realloc(sim->servers, (sim->nservers + 1) * sizeof *grown);
    om_sim_server *srv = grown ? om_sim_server_new(sim, bus) : NULL;
    if (grown)
        sim->servers = grown;
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sim->servers[sim->nservers++] = srv;
    return srv;
}

static int build_meters(om_sim *sim, const om_sim_config *cfg, om_sim_error *kind, char *err,
                        size_t errlen)
{
    size_t total = 0;
    for (size_t i = 0; i < sim->nsites; i++)
        total += sim->sites[i].nmeters;
    om_sim_faults *faults = calloc(total ? total : 1, sizeof *faults);
    sim->meters = calloc(total ? total : 1, sizeof *sim->meters);
    if (faults == NULL || sim->meters == NULL) {
        free(faults);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < total; i++)
        om_sim_faults_init(&faults[i]);
    int rc = parse_faults(sim, cfg, faults, err, errlen);
    if (rc != 0)
        *kind = OM_SIM_ERR_USAGE;

    size_t idx = 0;
    for (size_t i = 0; rc == 0 && i < sim->nsites; i++) {
        const om_site *site = &sim->sites[i];
        for (size_t j = 0; rc == 0 && j < site->nmeters; j++, idx++) {
            const om_meter *meter = &site->meters[j];
            om_sim_meter *m = &sim->meters[sim->nmeters];
            rc = om_sim_meter_init(m, site, meter, cfg->seed, cfg->start_ms, &faults[idx], err,
                                   errlen);
            if (rc != 0)
                break;
            sim->nmeters++;
            const om_bus *bus = om_site_meter_bus(site, meter);
            if (bus == NULL) {
                snprintf(err, errlen, "meter '%s': bus '%s' of gateway '%s' not found",
                         meter->id, meter->bus_id, meter->gateway_id);
                rc = -1;
                break;
            }
            om_sim_server *srv = server_for(sim, bus, err, errlen);
            rc = srv ? om_sim_server_add(srv, m, err, errlen) : -1;
        }
    }
    free(faults);
    return rc;
}

om_sim *om_sim_new(const om_sim_config *cfg, om_diag *diag, om_sim_error *kind, char *err,
                   size_t errlen)
{
    *kind = OM_SIM_ERR_SETUP;
    om_sim *sim = calloc(1, sizeof *sim);
    if (sim == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sim->stop_pipe[0] = sim->stop_pipe[1] = -1;
    pthread_mutex_init(&sim->lock, NULL);
    atomic_init(&sim->stopping, false);
    sim->start_ms = cfg->start_ms;
    sim->speed = cfg->speed;
    sim->delay_s = cfg->delay_s;
    om_sim_clock_start(&sim->clock, cfg->start_ms, cfg->speed, 0.0);

    if (pipe(sim->stop_pipe) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    if (cfg->nsites == 0) {
        snprintf(err, errlen, "no site file given (--site FILE)");
        goto fail;
    }
    if (load_files(sim, cfg, diag, err, errlen) != 0)
        goto fail;
    if (apply_overrides(sim, cfg, err, errlen) != 0) {
        *kind = OM_SIM_ERR_USAGE;
        goto fail;
    }
    if (build_uplinks(sim, cfg, err, errlen) != 0) {
        *kind = OM_SIM_ERR_USAGE;
        goto fail;
    }
    if (build_meters(sim, cfg, kind, err, errlen) != 0)
        goto fail;
    if (sim->nservers == 0) {
        snprintf(err, errlen, "the site files declare no meters");
        goto fail;
    }
    return sim;
fail:
    om_sim_free(sim);
    return NULL;
}

int om_sim_listen(om_sim *sim, char *err, size_t errlen)
{
    for (size_t i = 0; i < sim->nservers; i++) {
        om_sim_server *srv = sim->servers[i];
        int rc = srv->kind == OM_BUS_TCP ? om_sim_tcp_open(srv, err, errlen)
                                         : om_sim_rtu_open(srv, err, errlen);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < sim->nuplinks; i++)
        if (om_sim_uplink_open(sim->uplinks[i], err, errlen) != 0)
            return -1;
    return 0;
}

int om_sim_start(om_sim *sim, char *err, size_t errlen)
{
    pthread_mutex_lock(&sim->lock);
    om_sim_clock_start(&sim->clock, sim->start_ms, sim->speed, sim->delay_s);
    pthread_mutex_unlock(&sim->lock);
    for (size_t i = 0; i < sim->nservers; i++) {
        om_sim_server *srv = sim->servers[i];
        int rc = srv->kind == OM_BUS_TCP ? om_sim_tcp_start(srv, err, errlen)
                                         : om_sim_rtu_start(srv, err, errlen);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < sim->nuplinks; i++)
        if (om_sim_uplink_start(sim->uplinks[i], err, errlen) != 0)
            return -1;
    return 0;
}

void om_sim_stop(om_sim *sim)
{
    if (sim == NULL || sim->stop_pipe[1] < 0)
        return;
    if (!atomic_exchange(&sim->stopping, true)) {
        ssize_t n = write(sim->stop_pipe[1], "x", 1);
        (void)n;
    }
    for (size_t i = 0; i < sim->nservers; i++) {
        om_sim_server *srv = sim->servers[i];
        if (srv->kind == OM_BUS_TCP)
            om_sim_tcp_join(srv);
        else
            om_sim_rtu_join(srv);
    }
}

void om_sim_free(om_sim *sim)
{
    if (sim == NULL)
        return;
    om_sim_stop(sim);
    for (size_t i = 0; i < sim->nservers; i++)
        om_sim_server_free(sim->servers[i]);
    free(sim->servers);
    for (size_t i = 0; i < sim->nuplinks; i++)
        om_sim_uplink_free(sim->uplinks[i]);
    free(sim->uplinks);
    for (size_t i = 0; i < sim->nmeters; i++)
        om_sim_meter_free(&sim->meters[i]);
    free(sim->meters);
    for (size_t i = 0; i < sim->nsites; i++)
        om_site_free(&sim->sites[i]);
    free(sim->sites);
    if (sim->cat_loaded)
        om_catalogue_free(&sim->cat);
    for (int i = 0; i < 2; i++)
        if (sim->stop_pipe[i] >= 0)
            close(sim->stop_pipe[i]);
    pthread_mutex_destroy(&sim->lock);
    free(sim);
}

int64_t om_sim_now(om_sim *sim)
{
    pthread_mutex_lock(&sim->lock);
    int64_t t = om_sim_clock_now(&sim->clock);
    pthread_mutex_unlock(&sim->lock);
    return t;
}

int om_sim_write_clock(om_sim *sim, const char *path, char *err, size_t errlen)
{
    pthread_mutex_lock(&sim->lock);
    om_sim_clock c = sim->clock;
    pthread_mutex_unlock(&sim->lock);
    return om_sim_clock_write(&c, path, err, errlen);
}

void om_sim_describe(om_sim *sim, FILE *out)
{
    for (size_t i = 0; i < sim->nservers; i++) {
        const om_sim_server *srv = sim->servers[i];
        fprintf(out, "officemeter sim: serving %s:", srv->label);
        for (size_t d = 0; d < srv->ndevices; d++) {
            const om_sim_device *dev = &srv->devices[d];
            fprintf(out, " unit %u (", dev->unit_id);
            for (size_t k = 0; k < dev->nmeters; k++) {
                char faults[160];
                om_sim_faults_describe(&dev->meters[k]->faults, faults, sizeof faults);
                fprintf(out, "%s%s%s%s%s", k ? ", " : "", dev->meters[k]->meter->id,
                        faults[0] ? " [" : "", faults, faults[0] ? "]" : "");
            }
            fprintf(out, ")");
        }
        fprintf(out, "\n");
    }
    for (size_t i = 0; i < sim->nuplinks; i++)
        om_sim_uplink_describe(sim->uplinks[i], out);
}
