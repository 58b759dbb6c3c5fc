/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busoverride.h - point a site's bus somewhere else, for tests and drills.
 *
 * A site file names the real wiring (/dev/ttyUSB0, 10.0.0.20:502). The
 * simulator and the probe accept overrides so the same site file can be
 * served and read on loopback or over a pseudo-terminal pair:
 *     --bus rs485-1=rtu:/dev/pts/7
 *     --bus lan=tcp:127.0.0.1:15020
 *     --bus sh-gw1/lan=tcp:127.0.0.1:15020   (gateway-qualified, when bus ids repeat)
 */
#ifndef OFFICEMETER_BUSOVERRIDE_H
#define OFFICEMETER_BUSOVERRIDE_H

#include <stddef.h>

#include "officemeter/config/site.h"

typedef struct {
    char *gateway_id; /* NULL: any gateway */
    char *bus_id;
    om_bus_kind kind;
    char *device;     /* rtu */
    char *host;       /* tcp */
    unsigned port;    /* tcp */
} om_bus_override;

/* Parse "BUS=rtu:DEVICE" or "[GATEWAY/]BUS=tcp:HOST:PORT". Returns 0, or -1
 * with a one-line reason in err. */
int om_bus_override_parse(const char *text, om_bus_override *out, char *err, size_t errlen);
void om_bus_override_free(om_bus_override *ov);

/* Apply overrides to a loaded site, in place: the bus keeps its serial
 * settings but changes device (rtu), or its host and port (tcp); an override
 * may also switch a bus's kind (an RTU bus served over TCP for a drill).
 * Returns 0, or -1 with a reason naming an override that matches no bus. */
int om_bus_override_apply(om_site *site, const om_bus_override *ovs, size_t n, char *err,
                          size_t errlen);

#endif
