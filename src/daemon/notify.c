/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.c - send sd_notify messages to $NOTIFY_SOCKET (see notify.h).
 *
 * One datagram per message, on a socket opened for that message and closed
 * again: messages are rare (READY once, WATCHDOG every few seconds), and a
 * socket kept open would go stale when systemd is restarted.
 */
#include "officemeter/daemon/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills addr from $NOTIFY_SOCKET. Returns 1, 0 when unset or empty, -1 with
 * errno EINVAL when it is neither a path nor an abstract name, or too long. */
static int notify_address(struct sockaddr_un *addr, socklen_t *len)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return 0;
    size_t n = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof addr->sun_path) {
        errno = EINVAL;
        return -1;
    }
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, name, n);
    if (name[0] == '@') {
        /* Abstract namespace: a leading NUL, and the length counts exactly
         * the name's bytes (no terminating NUL, which would be part of it). */
        addr->sun_path[0] = '\0';
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 1;
}

int om_notify(const char *state)
{
    struct sockaddr_un addr;
    socklen_t addrlen = 0;
    int have = notify_address(&addr, &addrlen);
    if (have <= 0)
        return have;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    size_t n = strlen(state);
    ssize_t sent = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&addr, addrlen);
    int saved = errno;
    close(fd);
    if (sent < 0) {
        errno = saved;
        return -1;
    }
    if ((size_t)sent != n) {
        errno = EMSGSIZE;
        return -1;
    }
    return 1;
}

/* "KEY=text" with newlines of text turned into spaces, in a buffer the
 * caller frees; NULL when out of memory. */
static char *assignment(const char *prefix, const char *key, const char *text)
{
    size_t len = strlen(prefix) + strlen(key) + 1 + strlen(text) + 1;
    char *msg = malloc(len);
    if (!msg)
        return NULL;
    int head = snprintf(msg, len, "%s%s=", prefix, key);
    char *p = msg + head;
    for (const char *s = text; *s; s++)
        *p++ = (*s == '\n' || *s == '\r') ? ' ' : *s;
    *p = '\0';
    return msg;
}

static int notify_with_status(const char *prefix, const char *status)
{
    char *msg = assignment(prefix, "STATUS", status);
    if (!msg) {
        errno = ENOMEM;
        return -1;
    }
    int rc = om_notify(msg);
    int saved = errno;
    free(msg);
    errno = saved;
    return rc;
}

int om_notify_ready(const char *status)
{
    if (!status)
        return om_notify("READY=1");
    return notify_with_status("READY=1\n", status);
}

int om_notify_watchdog(void)
{
    return om_notify("WATCHDOG=1");
}

int om_notify_stopping(void)
{
    return om_notify("STOPPING=1");
}

int om_notify_reloading(void)
{
    return om_notify("RELOADING=1");
}

int om_notify_status(const char *text)
{
    return notify_with_status("", text ? text : "");
}

/* A positive decimal number from the environment, or 0. */
static uint64_t env_positive(const char *name)
{
    const char *text = getenv(name);
    if (!text || *text < '0' || *text > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    return (uint64_t)v;
}

uint64_t om_notify_watchdog_usec(void)
{
    const char *pid_text = getenv("WATCHDOG_PID");
    if (pid_text) {
        uint64_t pid = env_positive("WATCHDOG_PID");
        if (pid == 0 || pid != (uint64_t)getpid())
            return 0;
    }
    return env_positive("WATCHDOG_USEC");
}
