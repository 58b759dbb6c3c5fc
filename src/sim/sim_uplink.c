/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_uplink.c - a gateway's uplink to the broker, simulated: a TCP relay
 * that the gateway's agent connects to instead of the broker, and that the
 * fault GATEWAY=offline@TIME[/UNTIL] cuts in simulated time.
 *
 * Cut means what a WAN outage means to both ends: every relayed connection
 * is closed at once (the broker sees its client vanish and publishes the
 * agent's last will, "offline"), and new connections are accepted and
 * closed until the window ends, so the agent keeps retrying and its outbox
 * fills; after the window, it connects again and sends its backlog in a
 * burst. One thread per uplink polls the listening socket, every relayed
 * pair and the simulator's stop pipe, and looks at the simulated clock at
 * least every POLL_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "officemeter/base/id.h"
#include "sim_private.h"

#define POLL_MS 20
#define MAX_PAIRS 16
#define CHUNK 16384

struct om_sim_uplink {
    om_sim *sim;
    char gateway[OM_ID_MAX];
    char host[128];
    unsigned port;
    char broker_host[128];
    unsigned broker_port;
    bool has_window;
    int64_t off_from, off_until;
    int lfd;
    int pairs[MAX_PAIRS][2]; /* agent side, broker side; -1 when free */
    pthread_t thread;
    bool started;
    bool was_cut;
};

/* "HOST:PORT" into host and port. */
static int split_host_port(const char *text, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= hostlen)
        return -1;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p == 0 || p > 65535)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (unsigned)p;
    return 0;
}

om_sim_uplink *om_sim_uplink_new(om_sim *sim, const char *spec, const char *broker, char *err,
                                 size_t errlen)
{
    const char *eq = strchr(spec, '=');
    om_sim_uplink *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->sim = sim;
    u->lfd = -1;
    for (int i = 0; i < MAX_PAIRS; i++)
        u->pairs[i][0] = u->pairs[i][1] = -1;
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof u->gateway ||
        strncmp(eq + 1, "tcp:", 4) != 0 ||
        split_host_port(eq + 5, u->host, sizeof u->host, &u->port) != 0) {
        snprintf(err, errlen, "--uplink: bad value '%s' (expected GATEWAY=tcp:HOST:PORT)", spec);
        goto fail;
    }
    memcpy(u->gateway, spec, (size_t)(eq - spec));
    if (!broker || split_host_port(broker, u->broker_host, sizeof u->broker_host,
                                   &u->broker_port) != 0) {
        snprintf(err, errlen, broker ? "--broker: bad value '%s' (expected HOST:PORT)"
                                     : "--uplink needs --broker HOST:PORT (where to relay to)%s",
                 broker ? broker : "");
        goto fail;
    }
    return u;
fail:
    free(u);
    return NULL;
}

const char *om_sim_uplink_gateway(const om_sim_uplink *u)
{
    return u->gateway;
}

void om_sim_uplink_set_offline(om_sim_uplink *u, int64_t from, int64_t until)
{
    u->has_window = true;
    u->off_from = from;
    u->off_until = until;
}

void om_sim_uplink_describe(const om_sim_uplink *u, FILE *out)
{
    fprintf(out, "officemeter sim: uplink %s: tcp:%s:%u -> %s:%u\n", u->gateway, u->host, u->port,
            u->broker_host, u->broker_port);
}

static int tcp_socket(const char *host, unsigned port, bool listening, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    char service[16];
    snprintf(service, sizeof service, "%u", port);
    if (listening)
        hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%u: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0 && listening)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || (listening ? bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 8) != 0
                             : connect(fd, res->ai_addr, res->ai_addrlen) != 0)) {
        snprintf(err, errlen, "%s:%u: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int om_sim_uplink_open(om_sim_uplink *u, char *err, size_t errlen)
{
    char why[300];
    u->lfd = tcp_socket(u->host, u->port, true, why, sizeof why);
    if (u->lfd < 0) {
        snprintf(err, errlen, "uplink of %s: cannot listen on %s", u->gateway, why);
        return -1;
    }
    return 0;
}

static void close_pair(om_sim_uplink *u, int i)
{
    for (int k = 0; k < 2; k++) {
        if (u->pairs[i][k] >= 0)
            close(u->pairs[i][k]);
        u->pairs[i][k] = -1;
    }
}

static bool cut_now(om_sim_uplink *u)
{
    return u->has_window && om_sim_fault_window(u->off_from, u->off_until, om_sim_now(u->sim));
}

static void take_connection(om_sim_uplink *u, bool cut)
{
    int fd = accept(u->lfd, NULL, NULL);
    if (fd < 0)
        return;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    int slot = -1;
    for (int i = 0; i < MAX_PAIRS && slot < 0; i++)
        if (u->pairs[i][0] < 0)
            slot = i;
    char why[300];
    int up = cut || slot < 0 ? -1 : tcp_socket(u->broker_host, u->broker_port, false, why,
                                               sizeof why);
    if (up < 0) {
        close(fd); /* offline, or the broker is down: the agent sees a dropped connection */
        return;
    }
    u->pairs[slot][0] = fd;
    u->pairs[slot][1] = up;
}

/* Moves what one side sent to the other; false when the pair ended. */
static bool relay(int from, int to)
{
    char buf[CHUNK];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return false;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void *uplink_thread(void *arg)
{
    om_sim_uplink *u = arg;
    while (!atomic_load(&u->sim->stopping)) {
        bool cut = cut_now(u);
        if (cut && !u->was_cut)
            fprintf(stderr, "officemeter sim: uplink of %s cut (offline)\n", u->gateway);
        else if (!cut && u->was_cut)
            fprintf(stderr, "officemeter sim: uplink of %s restored\n", u->gateway);
        u->was_cut = cut;
        struct pollfd p[2 + 2 * MAX_PAIRS];
        int idx[2 + 2 * MAX_PAIRS];
        nfds_t n = 0;
        p[n++] = (struct pollfd){.fd = u->sim->stop_pipe[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = u->lfd, .events = POLLIN};
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (u->pairs[i][0] < 0)
                continue;
            if (cut) {
                close_pair(u, i);
                continue;
            }
            for (int k = 0; k < 2; k++) {
                idx[n] = i * 2 + k;
                p[n++] = (struct pollfd){.fd = u->pairs[i][k], .events = POLLIN};
            }
        }
        if (poll(p, n, POLL_MS) <= 0)
            continue;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN)
            take_connection(u, cut);
        for (nfds_t j = 2; j < n; j++) {
            int i = idx[j] / 2, k = idx[j] % 2;
            if (!p[j].revents || u->pairs[i][k] < 0)
                continue;
            if (!relay(u->pairs[i][k], u->pairs[i][1 - k]))
                close_pair(u, i);
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        close_pair(u, i);
    return NULL;
}

int om_sim_uplink_start(om_sim_uplink *u, char *err, size_t errlen)
{
    int rc = pthread_create(&u->thread, NULL, uplink_thread, u);
    if (rc != 0) {
        snprintf(err, errlen, "uplink of %s: cannot start a thread: %s", u->gateway, strerror(rc));
        return -1;
    }
    u->started = true;
    return 0;
}

void om_sim_uplink_free(om_sim_uplink *u)
{
    if (!u)
        return;
    if (u->started)
        pthread_join(u->thread, NULL);
    if (u->lfd >= 0)
        close(u->lfd);
    free(u);
}
