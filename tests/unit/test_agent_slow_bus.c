/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_slow_bus.c - a slow Modbus TCP device stalls no other bus
 * (regression test of issue 13, defect 5).
 *
 * The TCP thread runs on its own schedule (1 s ticks) for two buses:
 *   live     one SDM630 answering every read at once;
 *   trickle  three SDM630s behind a device that dribbles every answer,
 *            one byte every 150 ms (a whole answer would take 1.4 s),
 *            each answer for the request before the one just asked.
 * The thread must not wait for the dribbled bytes (the deadline of a
 * request covers its whole answer: 500 ms), and the trickle bus's cycle
 * (three timeouts, 1.5 s) must not take a tick from the live bus: the live
 * meter is polled at every tick, within its first 300 ms, while the
 * trickle bus counts overruns of its own. Nothing the trickle device sent
 * is ever taken for an answer.
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
#include "clock.h"
#include "officemeter/base/clock.h"
#include "officemeter/daemon/log.h"
#include "tcpmux.h"

enum { LIVE, TRICKLE, NBUS };
#define TRICKLE_METERS 3
#define NMETERS (1 + TRICKLE_METERS)
#define TRICKLE_BYTE_MS 150
#define RUN_MS 4600

typedef struct {
    int listener;
    unsigned port;
    int bus;
    volatile int *stop;
    pthread_t thread;
} server;

/* Sends `len` bytes of `frame`, one every TRICKLE_BYTE_MS when trickling;
 * false when the client has gone. */
static bool send_frame(const server *sv, int fd, const uint8_t *frame, size_t len)
{
    if (sv->bus == LIVE)
        return send(fd, frame, len, MSG_NOSIGNAL) == (ssize_t)len;
    for (size_t i = 0; i < len && !*sv->stop; i++) {
        if (send(fd, frame + i, 1, MSG_NOSIGNAL) != 1)
            return false;
        usleep(TRICKLE_BYTE_MS * 1000);
    }
    return true;
}

/* One connection, one request at a time. The live device answers zeros;
 * the trickle device answers 0x7F7F registers (3.4e38 as a float, which
 * nothing may ever publish) under the previous request's transaction id. */
static void serve_connection(const server *sv, int fd)
{
    uint8_t in[260], out[300];
    unsigned prev_tid = 0;
    while (!*sv->stop) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(fd, in, sizeof in);
        if (n < 12)
            return;
        unsigned count = (unsigned)(in[10] << 8 | in[11]);
        unsigned tid = (unsigned)(in[0] << 8 | in[1]);
        memcpy(out, in, 4);
        out[4] = 0;
        out[5] = (uint8_t)(3 + 2 * count);
        out[6] = in[6];
        out[7] = in[7];
        out[8] = (uint8_t)(2 * count);
        memset(out + 9, sv->bus == LIVE ? 0x00 : 0x7F, 2 * count);
        if (sv->bus == TRICKLE) {
            out[0] = (uint8_t)(prev_tid >> 8);
            out[1] = (uint8_t)prev_tid;
        }
        prev_tid = tid;
        if (!send_frame(sv, fd, out, 9 + 2 * count))
            return;
    }
}

static void *server_main(void *arg)
{
    server *sv = arg;
    while (!*sv->stop) {
        struct pollfd p = {.fd = sv->listener, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(sv->listener, NULL, NULL);
        if (fd < 0)
            continue;
        serve_connection(sv, fd);
        close(fd);
    }
    return NULL;
}

static void start_server(server *sv, int bus, volatile int *stop)
{
    sv->bus = bus;
    sv->stop = stop;
    sv->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(sv->listener, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->listener, 8), 0);
    socklen_t len = sizeof a;
    getsockname(sv->listener, (struct sockaddr *)&a, &len);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

typedef struct {
    pthread_mutex_t lock;
    size_t n;
    om_poll_result polls[64];
} sink_log;

static void sink(void *ctx, const om_poll_result *r)
{
    sink_log *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (s->n < 64)
        s->polls[s->n++] = *r;
    pthread_mutex_unlock(&s->lock);
}

static void write_site(const char *path, const server *sv)
{
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fprintf(out, "site: slow\nname: Slow bus test\ntimezone: Europe/London\ngrid_region: UK\n"
                 "floor_area_m2: [{from: 2023-01-01, m2: 100}]\n"
                 "gateways:\n  - id: gw1\n    buses:\n"
                 "      - {id: live, tcp: {host: 127.0.0.1, port: %u}}\n"
                 "      - {id: trickle, tcp: {host: 127.0.0.1, port: %u}}\n"
                 "meters:\n"
                 "  - {id: live, model: eastron-sdm630, gateway: gw1, bus: live, unit_id: 1, "
                 "utility: electricity, role: sub}\n",
            sv[LIVE].port, sv[TRICKLE].port);
    for (int i = 1; i <= TRICKLE_METERS; i++)
        fprintf(out,
                "  - {id: slow%d, model: eastron-sdm630, gateway: gw1, bus: trickle, "
                "unit_id: %d, utility: electricity, role: sub}\n",
                i, i);
    fclose(out);
}

static void test_slow_bus_takes_no_tick_from_another(void **state)
{
    (void)state;
    volatile int stop = 0;
    server sv[NBUS];
    start_server(&sv[LIVE], LIVE, &stop);
    start_server(&sv[TRICKLE], TRICKLE, &stop);

    char dir[] = "/tmp/om-slowbus-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/slow.yaml", dir);
    write_site(path, sv);
    om_catalogue cat;
    om_site site;
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &cat, &diag), 0);
    if (om_site_load(path, &cat, &site, &diag) != 0)
        fail_msg("site: %s", diag.count ? diag.messages[0] : "?");
    om_diag_free(&diag);
    unlink(path);
    rmdir(dir);

    sink_log log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    om_bus_worker *w[NBUS];
    char err[300];
    for (int b = 0; b < NBUS; b++) {
        const om_meter *ms[NMETERS];
        size_t nm = 0;
        for (size_t i = 0; i < site.nmeters; i++)
            if (strcmp(site.meters[i].bus_id, site.gateways[0].buses[b].id) == 0)
                ms[nm++] = &site.meters[i];
        om_bus_worker_config cfg = {
            .bus = &site.gateways[0].buses[b],
            .meters = ms,
            .nmeters = nm,
            .schedule = {.counters_ms = 1000, .instant_ms = 1000},
            .backoff_max_ms = 1000, /* the trickle meters are tried at every tick */
            .sink = sink,
            .sink_ctx = &log,
        };
        w[b] = om_bus_worker_new(&cfg, err, sizeof err);
        if (!w[b])
            fail_msg("om_bus_worker_new: %s", err);
    }
    om_log_set_level(OM_LOG_ERROR); /* the timeouts here are on purpose */
    om_tcp_mux *mx = om_tcp_mux_new(w, NBUS);
    assert_non_null(mx);
    int64_t started = om_clock_wall_ms();
    assert_int_equal(om_tcp_mux_start(mx), 0);
    usleep(RUN_MS * 1000);
    om_tcp_mux_free(mx);
    int64_t ended = om_clock_wall_ms();
    stop = 1;
    for (int b = 0; b < NBUS; b++)
        pthread_join(sv[b].thread, NULL);

    /* The live meter: a poll at every tick of the run, each early in it. */
    int64_t first_tick = started / 1000 + 1, last_tick = ended / 1000;
    size_t live = 0;
    for (size_t i = 0; i < log.n; i++) {
        const om_poll_result *r = &log.polls[i];
        if (strcmp(r->meter->id, "live") != 0)
            fail_msg("meter %s published: the trickle device's frames were taken", r->meter->id);
        if (r->t_ms % 1000 > 300)
            fail_msg("live poll %zu came %lld ms into its tick", i, (long long)(r->t_ms % 1000));
        for (size_t k = 0; k < r->nvalues; k++)
            assert_true(r->values[k].value == 0.0);
        live++;
    }
    if ((int64_t)live < last_tick - first_tick)
        fail_msg("the live meter was polled %zu times in ticks %lld..%lld", live,
                 (long long)first_tick, (long long)last_tick);

    om_bus_stats live_stats, slow_stats;
    om_bus_worker_stats(w[LIVE], &live_stats);
    om_bus_worker_stats(w[TRICKLE], &slow_stats);
    assert_int_equal(live_stats.overruns, 0);
    assert_true(slow_stats.overruns >= 1);
    om_meter_counters c;
    om_bus_worker_meter_snapshot(w[TRICKLE], 0, NULL, &c, NULL);
    assert_true(c.timeouts >= 1);
    assert_int_equal(c.polls, 0);
    if (!strstr(c.last_error, "answer from unit 1"))
        fail_msg("last error: %s", c.last_error);

    for (int b = 0; b < NBUS; b++) {
        om_bus_worker_free(w[b]);
        close(sv[b].listener);
    }
    om_site_free(&site);
    om_catalogue_free(&cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_bus_takes_no_tick_from_another),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
