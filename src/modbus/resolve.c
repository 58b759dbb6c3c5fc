/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resolve.c - a host name resolved on a thread of its own (resolve.h).
 *
 * A detached thread per lookup runs getaddrinfo(3) and writes an eventfd
 * when it is done. The lookup is shared by two owners, the caller and the
 * thread, with a reference count: whichever lets go last frees it, so a
 * caller that stops waiting (a deadline, a shutdown) never waits for a
 * resolver that hangs. Lookups are rare (a TCP bus's connect), so a thread
 * each is cheaper than a pool.
 */
#include "officemeter/modbus/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* getaddrinfo goes through NSS modules; 64 KiB is not always enough. */
#define RESOLVE_STACK (256 * 1024)

struct om_resolve {
    char *host;
    char service[8];
    int efd;
    int refs;   /* atomic: the caller and the thread */
    int done;   /* atomic: rc and res are set */
    int rc;     /* getaddrinfo's */
    struct addrinfo *res;
};

static om_lookup_fn *lookup = getaddrinfo;

void om_resolve_set_lookup(om_lookup_fn *fn)
{
    lookup = fn ? fn : getaddrinfo;
}

bool om_host_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return host &&
           (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1);
}

static void destroy(om_resolve *r)
{
    if (r->res)
        freeaddrinfo(r->res);
    close(r->efd);
    free(r->host);
    free(r);
}

static void unref(om_resolve *r)
{
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
        destroy(r);
}

static void *lookup_main(void *arg)
{
    om_resolve *r = arg;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    r->rc = lookup(r->host, r->service, &hints, &r->res);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof one);
    (void)n; /* an eventfd counter does not overflow from one write */
    unref(r);
    return NULL;
}

om_resolve *om_resolve_start(const char *host, unsigned port, char *err, size_t errlen)
{
    om_resolve *r = calloc(1, sizeof *r);
    if (!r || !(r->host = strdup(host))) {
        free(r);
        snprintf(err, errlen, "cannot resolve host \"%s\": out of memory", host);
        return NULL;
    }
    snprintf(r->service, sizeof r->service, "%u", port);
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->efd < 0) {
        snprintf(err, errlen, "cannot resolve host \"%s\": eventfd: %s", host, strerror(errno));
        free(r->host);
        free(r);
        return NULL;
    }
    r->refs = 2;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, RESOLVE_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, lookup_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve host \"%s\": cannot start a thread: %s", host,
                 strerror(rc));
        destroy(r);
        return NULL;
    }
    return r;
}

int om_resolve_fd(const om_resolve *r)
{
    return r->efd;
}

bool om_resolve_done(const om_resolve *r)
{
    return __atomic_load_n(&r->done, __ATOMIC_ACQUIRE) != 0;
}

const struct addrinfo *om_resolve_result(const om_resolve *r, char *err, size_t errlen)
{
    if (!om_resolve_done(r)) {
        snprintf(err, errlen, "host \"%s\" not resolved yet", r->host);
        return NULL;
    }
    if (r->rc != 0 || !r->res) {
        snprintf(err, errlen, "cannot resolve host \"%s\": %s", r->host,
                 r->rc ? gai_strerror(r->rc) : "no address");
        return NULL;
    }
    return r->res;
}

void om_resolve_free(om_resolve *r)
{
    if (r)
        unref(r);
}
