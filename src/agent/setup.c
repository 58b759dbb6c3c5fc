/* SPDX-License-Identifier: Apache-2.0 */
/*
 * setup.c - load and cross-check agent.yaml, catalogue, site, credentials.
 *
 * Every error of every file is collected before the caller decides, the way
 * `officemeter check` reports: a facilities engineer fixes the whole list in
 * one visit. Where a problem is about a key of agent.yaml, the message points
 * at that key's line.
 */
#include "setup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "officemeter/mqtt/mqtt.h"

static void check_tls_file(om_diag *diag, const char *config, const char *key, const char *path)
{
    if (path && access(path, R_OK) != 0)
        om_diag_add(diag, config, 0, 0, key, "cannot read %s: %s", path, strerror(errno));
}

static void load_credentials(om_agent_setup *s, om_diag *diag)
{
    const char *path = s->cfg.broker.credentials_file;
    if (!path)
        return;
    char err[512];
    if (om_mqtt_read_credentials(path, &s->username, &s->password, err, sizeof err) < 0)
        om_diag_add(diag, s->cfg.path, 0, 0, "broker.credentials_file", "%s", err);
}

static int collect_meters(om_agent_setup *s)
{
    s->meters = calloc(s->site.nmeters ? s->site.nmeters : 1, sizeof *s->meters);
    if (!s->meters)
        return -1;
    for (size_t i = 0; i < s->site.nmeters; i++) {
        const om_meter *m = &s->site.meters[i];
        if (m->gateway_id && strcmp(m->gateway_id, s->gateway->id) == 0)
            s->meters[s->nmeters++] = m;
    }
    return 0;
}

int om_agent_setup_load(const char *config_path, const om_agent_setup_options *opts,
                        om_agent_setup *out, om_diag *diag)
{
    memset(out, 0, sizeof *out);
    size_t before = om_diag_count(diag);
    if (om_agent_config_load(config_path, &out->cfg, diag) < 0 || !out->cfg.site_file ||
        !out->cfg.gateway)
        return -1;

    om_catalogue_load(out->cfg.catalogue, &out->cat, diag);
    out->loaded_cat = true;
    size_t before_site = om_diag_count(diag);
    om_site_load(out->cfg.site_file, &out->cat, &out->site, diag);
    out->loaded_site = true;
    if (om_diag_count(diag) == before_site) {
        out->gateway = om_site_find_gateway(&out->site, out->cfg.gateway);
        if (!out->gateway)
            om_diag_add(diag, config_path, out->cfg.gateway_line, out->cfg.gateway_col,
                        "gateway", "unknown gateway (got \"%s\", expected a gateway of %s)",
                        out->cfg.gateway, out->cfg.site_file);
    }
    if (out->gateway && opts && opts->noverrides) {
        char err[512];
        if (om_bus_override_apply(&out->site, opts->overrides, opts->noverrides, err,
                                  sizeof err) < 0)
            om_diag_add(diag, NULL, 0, 0, "--bus", "%s", err);
    }
    if (out->gateway && collect_meters(out) < 0)
        om_diag_add(diag, config_path, 0, 0, NULL, "out of memory");

    /* What connecting needs; --plan does not connect. */
    if (!opts || opts->credentials) {
        if (out->cfg.broker.use_tls) {
            check_tls_file(diag, config_path, "broker.tls.ca_file", out->cfg.broker.tls.ca_file);
            check_tls_file(diag, config_path, "broker.tls.cert_file",
                           out->cfg.broker.tls.cert_file);
            check_tls_file(diag, config_path, "broker.tls.key_file", out->cfg.broker.tls.key_file);
        }
        load_credentials(out, diag);
    }
    return om_diag_count(diag) == before ? 0 : -1;
}

void om_agent_setup_free(om_agent_setup *s)
{
    if (!s)
        return;
    free(s->meters);
    if (s->loaded_site)
        om_site_free(&s->site);
    if (s->loaded_cat)
        om_catalogue_free(&s->cat);
    om_agent_config_free(&s->cfg);
    if (s->password)
        memset(s->password, 0, strlen(s->password));
    free(s->username);
    free(s->password);
    memset(s, 0, sizeof *s);
}

const om_meter **om_agent_setup_bus_meters(const om_agent_setup *s, const om_bus *bus, size_t *n)
{
    *n = 0;
    const om_meter **list = calloc(s->nmeters ? s->nmeters : 1, sizeof *list);
    if (!list)
        return NULL;
    for (size_t i = 0; i < s->nmeters; i++)
        if (s->meters[i]->bus_id && strcmp(s->meters[i]->bus_id, bus->id) == 0)
            list[(*n)++] = s->meters[i];
    return list;
}
