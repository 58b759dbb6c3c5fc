/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_tcpmux.c - one thread serving many Modbus TCP buses.
 *
 * A fake server thread listens on loopback ports, one per bus, each with a
 * behaviour (all five meters are SDM630s, 500 ms timeout):
 *   live     answers every read with zeros;
 *   dead     accepts the connection, never answers;
 *   garbled  answers its first request with the wrong function code,
 *            then properly;
 *   refused  nothing listens there;
 *   hanging  a listener whose accept queue is full, so the handshake of a
 *            new connection never completes;
 *   named    as live, given as "localhost": looked up on its own thread;
 *   noname   a host name that does not resolve;
 *   slow     as live, but its name takes the resolver 800 ms.
 * What is checked: the cycle of all five takes about one timeout, not the
 * sum of them; the live meter's poll is done long before the dead one times
 * out; the dead meter costs one request and backs off; the garbled answer
 * is counted and its connection replaced; refused and hanging connections
 * are bus failures with their reasons, and so is a name that does not
 * resolve; the named bus is polled like the live one and keeps its
 * connection; the slow name costs its bus the timeout, not the others (nor
 * the cycle) a wait, and its late answer serves the next attempt; one
 * cycle_end for the whole cycle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "busworker.h"
#include "officemeter/base/clock.h"
#include "officemeter/modbus/resolve.h"
#include "clock.h"
#include "officemeter/daemon/log.h"
#include "tcpmux.h"

enum { LIVE, DEAD, GARBLED, REFUSED, HANGING, NAMED, NONAME, SLOW, NBUS };
static const char *const bus_names[NBUS] = {"live",  "dead",   "garbled", "refused",
                                            "hanging", "named", "noname", "slow"};
static const char *const bus_hosts[NBUS] = {"127.0.0.1", "127.0.0.1",    "127.0.0.1",
                                            "127.0.0.1", "127.0.0.1",    "localhost",
                                            "\"bad name\"", "slowhost"};

/* The resolver, with one name that takes it 800 ms. */
static int slow_lookups, slow_answered;

static int lookup_with_a_slow_name(const char *host, const char *service,
                                   const struct addrinfo *hints, struct addrinfo **res)
{
    if (strcmp(host, "slowhost") != 0)
        return getaddrinfo(host, service, hints, res);
    __atomic_add_fetch(&slow_lookups, 1, __ATOMIC_SEQ_CST);
    usleep(800 * 1000);
    int rc = getaddrinfo("127.0.0.1", service, hints, res);
    __atomic_store_n(&slow_answered, 1, __ATOMIC_SEQ_CST);
    return rc;
}

typedef struct {
    int listener[NBUS]; /* -1: none */
    unsigned port[NBUS];
    int filler[2];      /* the connections that fill HANGING's queue */
    volatile int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    unsigned accepted[NBUS];
    unsigned requests[NBUS];
} fake_server;

typedef struct {
    int fd;
    int bus;
} conn;

static int listen_on(unsigned *port, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static void serve_request(fake_server *f, conn *c)
{
    uint8_t in[260];
    ssize_t n = read(c->fd, in, sizeof in);
    if (n <= 0) {
        close(c->fd);
        c->fd = -1;
        return;
    }
    if (n < 12)
        return;
    pthread_mutex_lock(&f->lock);
    f->requests[c->bus]++;
    pthread_mutex_unlock(&f->lock);
    if (c->bus == DEAD)
        return;
    unsigned count = (unsigned)(in[10] << 8 | in[11]);
    uint8_t out[300];
    memcpy(out, in, 4); /* transaction and protocol id */
    out[4] = 0;
    out[5] = (uint8_t)(3 + 2 * count);
    out[6] = in[6];
    out[7] = in[7];
    if (c->bus == GARBLED && f->requests[GARBLED] == 1)
        out[7] = (uint8_t)(in[7] + 1); /* an answer to some other request */
    out[8] = (uint8_t)(2 * count);
    memset(out + 9, 0, 2 * count);
    if (write(c->fd, out, 9 + 2 * count) < 0)
        return;
}

static void *server_main(void *arg)
{
    fake_server *f = arg;
    conn conns[32];
    size_t nconns = 0;
    while (!f->stop) {
        struct pollfd p[NBUS + 32];
        int owner[NBUS + 32];
        size_t n = 0;
        for (int b = 0; b < NBUS; b++) {
            if (f->listener[b] >= 0 && b != HANGING) {
                p[n] = (struct pollfd){.fd = f->listener[b], .events = POLLIN};
                owner[n++] = -1 - b;
            }
        }
        for (size_t i = 0; i < nconns; i++) {
            if (conns[i].fd >= 0) {
                p[n] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
                owner[n++] = (int)i;
            }
        }
        if (poll(p, n, 20) <= 0)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (!p[k].revents)
                continue;
            if (owner[k] < 0) {
                int b = -1 - owner[k];
                int fd = accept(f->listener[b], NULL, NULL);
                if (fd >= 0 && nconns < 32) {
                    conns[nconns++] = (conn){.fd = fd, .bus = b};
                    pthread_mutex_lock(&f->lock);
                    f->accepted[b]++;
                    pthread_mutex_unlock(&f->lock);
                } else if (fd >= 0) {
                    close(fd);
                }
            } else {
                serve_request(f, &conns[owner[k]]);
            }
        }
    }
    for (size_t i = 0; i < nconns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    return NULL;
}

static void fill_queue(fake_server *f)
{
    /* A backlog of 0 holds one finished handshake (Linux keeps backlog + 1);
     * with two connections queued and none accepted, the next SYN is
     * dropped and a connect to that port waits. */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)f->port[HANGING])};
    for (int i = 0; i < 2; i++) {
        f->filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(f->filler[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(50 * 1000);
}

typedef struct {
    int64_t cycle_start_us;
    om_poll_result polls[NBUS];
    int64_t at_us[NBUS];
    size_t n;
    unsigned cycle_ends;
} sink_log;

static void sink(void *ctx, const om_poll_result *r)
{
    sink_log *s = ctx;
    if (s->n < NBUS) {
        s->at_us[s->n] = om_mono_us() - s->cycle_start_us;
        s->polls[s->n++] = *r;
    }
}

static void cycle_end(void *ctx)
{
    sink_log *s = ctx;
    s->cycle_ends++;
}

typedef struct {
    char dir[64];
    om_catalogue cat;
    om_site site;
    fake_server server;
    om_bus_worker *w[NBUS];
    om_tcp_mux *mx;
    sink_log log;
} fixture;

static void write_site(fixture *fx, const char *path)
{
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fprintf(out, "site: mux\nname: TCP mux test\ntimezone: Europe/London\ngrid_region: UK\n"
                 "floor_area_m2: [{from: 2023-01-01, m2: 100}]\n"
                 "gateways:\n  - id: gw1\n    buses:\n");
    for (int b = 0; b < NBUS; b++)
        fprintf(out, "      - {id: %s, tcp: {host: %s, port: %u}}\n", bus_names[b],
                bus_hosts[b], fx->server.port[b]);
    fprintf(out, "meters:\n");
    for (int b = 0; b < NBUS; b++)
        fprintf(out,
                "  - {id: %s, model: eastron-sdm630, gateway: gw1, bus: %s, unit_id: 1, "
                "utility: electricity, role: sub}\n",
                bus_names[b], bus_names[b]);
    fclose(out);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    fake_server *f = &fx->server;
    pthread_mutex_init(&f->lock, NULL);
    for (int b = 0; b < NBUS; b++)
        f->listener[b] = listen_on(&f->port[b], b == HANGING ? 0 : 8);
    close(f->listener[REFUSED]); /* its port: nothing listens any more */
    f->listener[REFUSED] = -1;
    close(f->listener[NONAME]);
    f->listener[NONAME] = -1;
    fill_queue(f);
    assert_int_equal(pthread_create(&f->thread, NULL, server_main, f), 0);

    snprintf(fx->dir, sizeof fx->dir, "/tmp/om-tcpmux-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/mux.yaml", fx->dir);
    write_site(fx, path);
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &fx->cat, &diag), 0);
    if (om_site_load(path, &fx->cat, &fx->site, &diag) != 0)
        fail_msg("site: %s", diag.count ? diag.messages[0] : "?");
    om_diag_free(&diag);
    unlink(path);
    rmdir(fx->dir);

    char err[300];
    for (int b = 0; b < NBUS; b++) {
        const om_meter *m = &fx->site.meters[b];
        om_bus_worker_config cfg = {
            .bus = &fx->site.gateways[0].buses[b],
            .meters = &m,
            .nmeters = 1,
            .schedule = {.counters_ms = 1000, .instant_ms = 1000},
            .backoff_max_ms = 8000,
            .sink = sink,
            .cycle_end = cycle_end,
            .sink_ctx = &fx->log,
        };
        fx->w[b] = om_bus_worker_new(&cfg, err, sizeof err);
        if (!fx->w[b])
            fail_msg("om_bus_worker_new: %s", err);
    }
    fx->mx = om_tcp_mux_new(fx->w, NBUS);
    assert_non_null(fx->mx);
    om_log_set_level(OM_LOG_ERROR); /* the failures here are on purpose */
    om_resolve_set_lookup(lookup_with_a_slow_name);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    om_tcp_mux_free(fx->mx);
    om_resolve_set_lookup(NULL);
    for (int b = 0; b < NBUS; b++)
        om_bus_worker_free(fx->w[b]);
    fx->server.stop = 1;
    pthread_join(fx->server.thread, NULL);
    for (int b = 0; b < NBUS; b++)
        if (fx->server.listener[b] >= 0)
            close(fx->server.listener[b]);
    close(fx->server.filler[0]);
    close(fx->server.filler[1]);
    pthread_mutex_destroy(&fx->server.lock);
    om_site_free(&fx->site);
    om_catalogue_free(&fx->cat);
    free(fx);
    return 0;
}

static const om_poll_result *poll_of(const sink_log *s, const char *meter, int64_t *at_us)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->polls[i].meter->id, meter) == 0) {
            if (at_us)
                *at_us = s->at_us[i];
            return &s->polls[i];
        }
    return NULL;
}

/* The bus could not be reached once, for `reason`; that is not counted
 * against its meter. */
static void assert_bus_failed_once(const fixture *fx, int bus, const char *reason)
{
    om_bus_stats bs;
    om_meter_counters c;
    om_bus_worker_stats(fx->w[bus], &bs);
    assert_int_equal(bs.connect_failures, 1);
    if (!strstr(bs.last_error, reason))
        fail_msg("bus %s: \"%s\" is not in \"%s\"", bus_names[bus], reason, bs.last_error);
    om_bus_worker_meter_snapshot(fx->w[bus], 0, NULL, &c, NULL);
    assert_int_equal(c.failed_polls, 0);
}

/* The meter's poll is complete and came early in the cycle, long before
 * the dead meter's timeout. */
static void assert_early_poll(const fixture *fx, const char *meter)
{
    int64_t at_us;
    const om_poll_result *r = poll_of(&fx->log, meter, &at_us);
    if (!r)
        fail_msg("no poll of %s", meter);
    assert_int_equal(r->nvalues, 6);
    if (at_us > 300000)
        fail_msg("the poll of %s came %lld ms into the cycle", meter, (long long)(at_us / 1000));
}

static void test_one_thread_many_buses(void **state)
{
    fixture *fx = *state;
    fake_server *f = &fx->server;
    const int64_t tick = 1000000;

    fx->log.cycle_start_us = om_mono_us();
    om_tcp_mux_cycle(fx->mx, tick, true, true);
    int64_t took_ms = (om_mono_us() - fx->log.cycle_start_us) / 1000;

    /* Dead meter and hanging connection wait 500 ms each, side by side. */
    assert_true(took_ms >= 450);
    if (took_ms > 900)
        fail_msg("the cycle took %lld ms: the timeouts were waited one after the other",
                 (long long)took_ms);
    assert_int_equal(fx->log.cycle_ends, 1);

    /* live: a complete poll (on TCP the SDM630 is two requests), done long
     * before the dead meter's timeout */
    assert_early_poll(fx, "live");
    assert_int_equal(f->requests[LIVE], 2);

    /* dead: one request, one timeout, backing off */
    om_meter_counters c;
    om_bus_stats bs;
    assert_null(poll_of(&fx->log, "dead", NULL));
    assert_int_equal(f->requests[DEAD], 1);
    om_bus_worker_meter_snapshot(fx->w[DEAD], 0, NULL, &c, NULL);
    assert_int_equal(c.requests, 1);
    assert_int_equal(c.timeouts, 1);
    assert_int_equal(c.failed_polls, 1);
    assert_int_equal(c.retry_at_ms, tick + 1000);
    assert_non_null(strstr(c.last_error, "no answer from unit 1"));
    om_bus_worker_stats(fx->w[DEAD], &bs);
    assert_false(bs.connected); /* closed: a late answer is not taken for the next */

    /* garbled: the bad answer counted, a new connection for the next
     * request, whose values arrive */
    const om_poll_result *garbled = poll_of(&fx->log, "garbled", NULL);
    assert_non_null(garbled);
    assert_int_equal(garbled->nvalues, 3); /* power and the two energies */
    om_bus_worker_meter_snapshot(fx->w[GARBLED], 0, NULL, &c, NULL);
    assert_int_equal(c.other_errors, 1);
    assert_int_equal(c.partial_polls, 1);
    assert_int_equal(f->accepted[GARBLED], 2);

    /* refused and hanging: bus failures with their reasons */
    assert_bus_failed_once(fx, REFUSED, "Connection refused");
    assert_bus_failed_once(fx, HANGING, "no answer within 500 ms");

    /* named: looked up, then polled as the live one, as early */
    assert_early_poll(fx, "named");
    assert_int_equal(f->accepted[NAMED], 1);
    assert_int_equal(f->requests[NAMED], 2);

    /* noname: a bus failure that says which name did not resolve */
    assert_bus_failed_once(fx, NONAME, "cannot resolve host \"bad name\"");

    /* slow: its bus gave up at the timeout (the cycle's length, checked
     * above, did not wait for the resolver) */
    assert_bus_failed_once(fx, SLOW, "host name not resolved within 500 ms");
    assert_int_equal(f->accepted[SLOW], 0);

    /* Next tick: the dead meter is tried again on a new connection, the
     * refused bus waits for its reconnect delay (1 s), the live meter reuses
     * its connection. */
    fx->log.n = 0;
    fx->log.cycle_start_us = om_mono_us();
    om_tcp_mux_cycle(fx->mx, tick + 1000, false, true);
    assert_int_equal(f->requests[DEAD], 2);
    assert_int_equal(f->accepted[DEAD], 2);
    assert_int_equal(f->accepted[LIVE], 1);
    assert_int_equal(f->requests[LIVE], 4); /* instantaneous values: voltages, power */
    om_bus_worker_stats(fx->w[REFUSED], &bs);
    assert_int_equal(bs.connect_failures, 1);
    om_bus_worker_stats(fx->w[NONAME], &bs);
    assert_int_equal(bs.connect_failures, 1);
    assert_int_equal(f->accepted[NAMED], 1); /* its connection kept */
    assert_int_equal(f->requests[NAMED], 4);
    om_bus_worker_stats(fx->w[LIVE], &bs);
    assert_int_equal(bs.cycles, 2);
    assert_true(bs.connected);
    assert_int_equal(fx->log.cycle_ends, 2);

    /* Once the slow answer is in and the reconnect delay over, the slow
     * bus connects with that answer: no second lookup. */
    for (int i = 0; i < 200 && !__atomic_load_n(&slow_answered, __ATOMIC_SEQ_CST); i++)
        usleep(10 * 1000);
    usleep(1300 * 1000); /* the reconnect delay: 1 s, +-20 % */
    fx->log.n = 0;
    fx->log.cycle_start_us = om_mono_us();
    om_tcp_mux_cycle(fx->mx, tick + 5000, false, true);
    const om_poll_result *slow = poll_of(&fx->log, "slow", NULL);
    assert_non_null(slow);
    assert_int_equal(f->accepted[SLOW], 1);
    assert_int_equal(slow_lookups, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_thread_many_buses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
