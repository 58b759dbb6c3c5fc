/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wake.c - an eventfd as the delivery loop's alarm clock.
 */
#include "wake.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int om_wake_open(om_wake *w)
{
    w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return w->fd < 0 ? -1 : 0;
}

void om_wake_close(om_wake *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

void om_wake_signal(const om_wake *w)
{
    uint64_t one = 1;
    int saved = errno; /* a signal handler must leave errno as it found it */
    if (w->fd >= 0) {
        /* EAGAIN means the counter is near 2^64: already readable. */
        ssize_t n = write(w->fd, &one, sizeof one);
        (void)n;
    }
    errno = saved;
}

int om_wake_wait(const om_wake *w, int timeout_ms)
{
    if (w->fd < 0)
        return 0;
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    int rc = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (rc <= 0)
        return 0; /* timeout, or EINTR: the caller looks at its flags anyway */
    uint64_t count;
    ssize_t n = read(w->fd, &count, sizeof count);
    return n == (ssize_t)sizeof count;
}
