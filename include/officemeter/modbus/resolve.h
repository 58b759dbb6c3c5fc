/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resolve.h - a host name resolved on a thread of its own.
 *
 * getaddrinfo(3) blocks for as long as the resolver takes: with a DNS
 * server that does not answer, seconds per attempt. The thread that serves
 * every Modbus TCP bus cannot wait that long for one of them, so it starts
 * a resolution here, waits for om_resolve_fd() in its poll(2) with the
 * other buses' sockets, and takes the addresses when they are there. An
 * answer that comes after the caller gave up waiting is kept for its next
 * attempt.
 */
#ifndef OFFICEMETER_RESOLVE_H
#define OFFICEMETER_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include <netdb.h>

typedef struct om_resolve om_resolve;

/* Whether host is a numeric IPv4 or IPv6 address: nothing to look up. */
bool om_host_is_numeric(const char *host);

/* Starts looking up host (TCP, port `port`). NULL with a reason in err
 * when no thread could be started. */
om_resolve *om_resolve_start(const char *host, unsigned port, char *err, size_t errlen);

/* Becomes readable (POLLIN) once the answer is there, and stays so. */
int om_resolve_fd(const om_resolve *r);

/* Whether the answer is there. */
bool om_resolve_done(const om_resolve *r);

/* The answer, once done: the addresses in the resolver's order of
 * preference, or NULL with a reason naming the host in err. They belong to
 * r. */
const struct addrinfo *om_resolve_result(const om_resolve *r, char *err, size_t errlen);

/* Lets go of r: freed at once if the answer is there, otherwise by its
 * thread when the answer comes. NULL is ignored. */
void om_resolve_free(om_resolve *r);

/* The lookup that the threads run: getaddrinfo(3), unless a test puts a
 * slow one in its place (NULL: getaddrinfo again). Set it while no lookup
 * runs. */
typedef int om_lookup_fn(const char *host, const char *service, const struct addrinfo *hints,
                         struct addrinfo **res);
void om_resolve_set_lookup(om_lookup_fn *fn);

#endif
