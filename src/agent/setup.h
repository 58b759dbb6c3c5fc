/* SPDX-License-Identifier: Apache-2.0 */
/*
 * setup.h - everything the agent needs before it can start, loaded and
 * checked together: agent.yaml, the catalogue, the site file, the gateway,
 * --bus overrides, and the broker credentials.
 *
 * --check, --plan, startup and SIGHUP all go through om_agent_setup_load, so
 * a config that --check accepts is one the daemon starts with, and a reload
 * is refused for exactly the reasons --check would give.
 */
#ifndef OM_AGENT_SETUP_H
#define OM_AGENT_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "officemeter/config/agentcfg.h"
#include "officemeter/config/busoverride.h"
#include "officemeter/config/catalogue.h"
#include "officemeter/base/diag.h"
#include "officemeter/config/site.h"

typedef struct {
    om_agent_config cfg;
    om_catalogue cat;
    om_site site;
    const om_gateway *gateway;
    const om_meter **meters; /* the gateway's meters, in site order */
    size_t nmeters;
    char *username; /* from the credentials file; NULL: anonymous */
    char *password;
    bool loaded_cat, loaded_site;
} om_agent_setup;

typedef struct {
    const om_bus_override *overrides;
    size_t noverrides;
    bool credentials; /* read (and check) the credentials and TLS files */
} om_agent_setup_options;

/* Returns 0, or -1 with every problem in diag ("file:line:col: key: ...").
 * *out must be freed with om_agent_setup_free either way. */
int om_agent_setup_load(const char *config_path, const om_agent_setup_options *opts,
                        om_agent_setup *out, om_diag *diag);
void om_agent_setup_free(om_agent_setup *s);

/* Meters of the gateway on `bus`, in site order; *n gets their number.
 * The array is malloc'd (NULL when none). */
const om_meter **om_agent_setup_bus_meters(const om_agent_setup *s, const om_bus *bus, size_t *n);

#endif
