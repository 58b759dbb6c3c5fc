/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busoverride.c - "[GATEWAY/]BUS=rtu:DEVICE" and "...=tcp:HOST:PORT".
 *
 * The same site file is served by the simulator and read by the probe and
 * the agent on loopback or over a pseudo-terminal pair; an override changes
 * where a bus is, never which meters are on it or their serial settings.
 */
#include "officemeter/config/busoverride.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_range(const char *from, const char *to)
{
    size_t n = (size_t)(to - from);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, from, n);
        s[n] = '\0';
    }
    return s;
}

static int parse_port(const char *s, unsigned *port)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

/* "HOST:PORT"; HOST may be "[v6]" or contain no colon. */
static int parse_tcp(const char *spec, om_bus_override *out, char *err, size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec) {
        snprintf(err, errlen, "tcp target '%s' needs HOST:PORT", spec);
        return -1;
    }
    if (parse_port(colon + 1, &out->port) != 0) {
        snprintf(err, errlen, "bad port '%s' (expected 1..65535)", colon + 1);
        return -1;
    }
    const char *from = spec, *to = colon;
    if (*from == '[' && to[-1] == ']') {
        from++;
        to--;
    }
    if (to <= from) {
        snprintf(err, errlen, "tcp target '%s' has an empty host", spec);
        return -1;
    }
    out->host = dup_range(from, to);
    return out->host ? 0 : -1;
}

static int parse_target(const char *target, om_bus_override *out, char *err, size_t errlen)
{
    if (strncmp(target, "tcp:", 4) == 0) {
        out->kind = OM_BUS_TCP;
        return parse_tcp(target + 4, out, err, errlen);
    }
    if (strncmp(target, "rtu:", 4) == 0) {
        out->kind = OM_BUS_RTU;
        if (target[4] == '\0') {
            snprintf(err, errlen, "rtu target needs a device (rtu:/dev/ttyUSB0)");
            return -1;
        }
        out->device = strdup(target + 4);
        return out->device ? 0 : -1;
    }
    snprintf(err, errlen, "unknown target '%s' (expected tcp:HOST:PORT or rtu:DEVICE)", target);
    return -1;
}

int om_bus_override_parse(const char *text, om_bus_override *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text) {
        snprintf(err, errlen, "bad bus override '%s' (expected [GATEWAY/]BUS=tcp:HOST:PORT or "
                              "[GATEWAY/]BUS=rtu:DEVICE)", text);
        return -1;
    }
    const char *slash = memchr(text, '/', (size_t)(eq - text));
    const char *bus = text;
    if (slash) {
        if (slash == text || slash + 1 == eq) {
            snprintf(err, errlen, "bad bus override '%s': empty gateway or bus id", text);
            return -1;
        }
        out->gateway_id = dup_range(text, slash);
        bus = slash + 1;
    }
    out->bus_id = dup_range(bus, eq);
    if (out->bus_id == NULL || (slash && out->gateway_id == NULL)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    char reason[200];
    if (parse_target(eq + 1, out, reason, sizeof reason) != 0) {
        snprintf(err, errlen, "bad bus override '%s': %s", text, reason);
        goto fail;
    }
    return 0;
fail:
    om_bus_override_free(out);
    return -1;
}

void om_bus_override_free(om_bus_override *ov)
{
    if (ov == NULL)
        return;
    free(ov->gateway_id);
    free(ov->bus_id);
    free(ov->device);
    free(ov->host);
    memset(ov, 0, sizeof *ov);
}

static int retarget(om_bus *bus, const om_bus_override *ov)
{
    if (ov->kind == OM_BUS_TCP) {
        char *host = strdup(ov->host);
        if (host == NULL)
            return -1;
        free(bus->tcp.host);
        bus->tcp.host = host;
        bus->tcp.port = ov->port;
    } else {
        char *device = strdup(ov->device);
        if (device == NULL)
            return -1;
        free(bus->rtu.device);
        bus->rtu.device = device;
        /* A TCP bus served over a serial line gets the usual defaults. */
        if (bus->kind == OM_BUS_TCP && bus->rtu.baud == 0) {
            bus->rtu.baud = 9600;
            bus->rtu.parity = 'N';
            bus->rtu.data_bits = 8;
            bus->rtu.stop_bits = 1;
        }
    }
    bus->kind = ov->kind;
    return 0;
}

static void describe(const om_bus_override *ov, char *buf, size_t len)
{
    if (ov->gateway_id)
        snprintf(buf, len, "%s/%s", ov->gateway_id, ov->bus_id);
    else
        snprintf(buf, len, "%s", ov->bus_id);
}

static bool matches(const om_gateway *gw, const om_bus *bus, const om_bus_override *ov)
{
    if (ov->gateway_id && (!gw->id || strcmp(gw->id, ov->gateway_id) != 0))
        return false;
    return bus->id && strcmp(bus->id, ov->bus_id) == 0;
}

static size_t count_matches(const om_site *site, const om_bus_override *ov)
{
    size_t matched = 0;
    for (size_t g = 0; g < site->ngateways; g++)
        for (size_t b = 0; b < site->gateways[g].nbuses; b++)
            matched += matches(&site->gateways[g], &site->gateways[g].buses[b], ov);
    return matched;
}

/* Every override is checked before any is applied, so a failed call leaves
 * the site as it was. */
int om_bus_override_apply(om_site *site, const om_bus_override *ovs, size_t n, char *err,
                          size_t errlen)
{
    for (size_t k = 0; k < n; k++) {
        if (count_matches(site, &ovs[k]) == 0) {
            char name[160];
            describe(&ovs[k], name, sizeof name);
            snprintf(err, errlen, "bus override '%s' matches no bus of site '%s'", name,
                     site->site ? site->site : "?");
            return -1;
        }
    }
    for (size_t k = 0; k < n; k++) {
        for (size_t g = 0; g < site->ngateways; g++) {
            om_gateway *gw = &site->gateways[g];
            for (size_t b = 0; b < gw->nbuses; b++) {
                if (matches(gw, &gw->buses[b], &ovs[k]) && retarget(&gw->buses[b], &ovs[k]) != 0) {
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
            }
        }
    }
    return 0;
}
