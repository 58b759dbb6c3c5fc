/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbconn_private.h - what the blocking read (mbconn_read.c) and the
 * non-blocking TCP requests (mbconn_tcp.c) share: turning the bytes
 * received for a request into registers or a failure line.
 */
#ifndef OM_MODBUS_MBCONN_PRIVATE_H
#define OM_MODBUS_MBCONN_PRIVATE_H

#include <stdbool.h>

#include "officemeter/modbus/mbconn.h"

/* Fills p->req for a read of `count` registers; -1 with a reason in err
 * and errno EINVAL for a function other than 3 or 4, a unit id above 255
 * or a count the answer could not carry. */
int om_mb_pending_init(om_mb_pending *p, const om_bus *bus, unsigned unit_id,
                       unsigned function, uint16_t address, uint16_t count, char *err,
                       size_t errlen);

/* Judges p->buf[0..p->len) with the judge of the transport (tcp or RTU),
 * dropping frames of other transactions as it goes: 1 when the answer is
 * not complete yet, 0 with the registers in dest (anything after the answer
 * is dropped: an extra frame), -1 with a reason in err and errno. */
int om_mb_pending_judge(om_mb_pending *p, const om_bus *bus, bool tcp, uint16_t *dest,
                        char *err, size_t errlen);

/* The connection was closed by the peer with `p` awaiting its answer:
 * ECONNRESET and a line saying so. */
int om_mb_pending_closed(const om_mb_pending *p, const om_bus *bus, char *err, size_t errlen);

#endif
