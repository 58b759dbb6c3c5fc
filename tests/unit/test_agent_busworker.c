/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_agent_busworker.c - the bus worker on a serial line it does not know
 * is fake.
 *
 * A pseudo-terminal stands in for an RS-485 line; a thread on its master
 * side plays three meters and timestamps every request frame:
 *   unit 1 (SDM630)  answers every read with zeros;
 *   unit 2 (SDM630)  is dead: never answers;
 *   unit 3 (iEM3155) answers exception 2 to a read of the three voltages
 *                    at once (0x0BD3+6), as a firmware variant might.
 * The site is tests/data/agent/agent-rtu.yaml with its bus moved to the pty.
 * What is checked: the silence before every frame (t3.5 at 9600 baud plus
 * the larger of the two models' min_gap_ms), at most one request a cycle to
 * the dead meter and its exponential backoff, the split after exception 2
 * (logged once, polls complete), and partial polls delivered.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "busworker.h"
#include "officemeter/base/clock.h"
#include "clock.h"
#include "officemeter/daemon/log.h"
#include "officemeter/config/busoverride.h"
#include "officemeter/base/crc16.h"
#include "testutil.h"

#define MAX_FRAMES 256

typedef struct {
    int64_t at_us;    /* when the request's first byte arrived */
    int64_t reply_us; /* when the reply was written (0: none) */
    uint8_t unit, function;
    uint16_t address, count;
} frame;

typedef struct {
    int master;
    volatile int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    frame frames[MAX_FRAMES];
    size_t nframes;
} fake_line;

static int read_byte(int fd, uint8_t *b, int timeout_ms)
{
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    struct timeval tv = {.tv_sec = 0, .tv_usec = timeout_ms * 1000};
    if (select(fd + 1, &set, NULL, NULL, &tv) <= 0)
        return -1;
    return read(fd, b, 1) == 1 ? 0 : -1;
}

/* Records the frame, then answers it: the record exists before the client
 * can see the answer, so a cycle that has returned has all its frames. */
static void answer(fake_line *f, frame *fr)
{
    uint8_t out[300];
    size_t n;
    pthread_mutex_lock(&f->lock);
    size_t slot = f->nframes < MAX_FRAMES ? f->nframes++ : MAX_FRAMES;
    if (slot < MAX_FRAMES)
        f->frames[slot] = *fr;
    pthread_mutex_unlock(&f->lock);
    if (fr->unit == 2)
        return; /* dead */
    if (fr->unit == 3 && fr->address == 0x0BD3 && fr->count > 2) {
        out[0] = fr->unit;
        out[1] = (uint8_t)(fr->function | 0x80);
        out[2] = 2;
        n = 3;
    } else {
        out[0] = fr->unit;
        out[1] = fr->function;
        out[2] = (uint8_t)(fr->count * 2);
        memset(out + 3, 0, fr->count * 2u);
        n = 3 + fr->count * 2u;
    }
    om_test_put_crc(out, n);
    /* The reply time is taken just before the write: the agent cannot have
     * the answer earlier, so its silence counts from a later moment and a
     * correct agent always passes. Taken after the write, a descheduling of
     * this thread between the write and the clock (seen under ASan on a
     * loaded machine) made a correct silence look 2 ms short. */
    int64_t now = om_mono_us();
    if (write(f->master, out, n + 2) == (ssize_t)(n + 2) && slot < MAX_FRAMES) {
        pthread_mutex_lock(&f->lock);
        f->frames[slot].reply_us = now;
        pthread_mutex_unlock(&f->lock);
    }
}

static void *line_main(void *arg)
{
    fake_line *f = arg;
    uint8_t req[8];
    while (!f->stop) {
        if (read_byte(f->master, &req[0], 50) < 0)
            continue;
        int64_t at = om_mono_us();
        size_t got = 1;
        while (got < 8 && read_byte(f->master, &req[got], 100) == 0)
            got++;
        if (got < 8 || om_crc16_modbus(req, 6) != (uint16_t)(req[6] | req[7] << 8))
            continue; /* noise: resynchronise on the next byte */
        frame fr = {.at_us = at,
                    .unit = req[0],
                    .function = req[1],
                    .address = (uint16_t)(req[2] << 8 | req[3]),
                    .count = (uint16_t)(req[4] << 8 | req[5])};
        answer(f, &fr);
    }
    return NULL;
}

typedef struct {
    om_poll_result polls[64];
    size_t n;
} sink_log;

static void sink(void *ctx, const om_poll_result *r)
{
    sink_log *s = ctx;
    if (s->n < 64)
        s->polls[s->n++] = *r;
}

typedef struct {
    om_catalogue cat;
    om_site site;
    fake_line line;
    om_bus_worker *w;
    sink_log polls;
    const om_meter *meters[3];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    om_diag diag;
    om_diag_init(&diag);
    assert_int_equal(om_catalogue_load(OM_SOURCE_DIR "/firmware-config/meters", &fx->cat, &diag), 0);
    assert_int_equal(om_site_load(OM_TEST_DATA "/agent/agent-rtu.yaml", &fx->cat, &fx->site, &diag), 0);
    om_diag_free(&diag);

    fx->line.master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(fx->line.master >= 0);
    assert_int_equal(grantpt(fx->line.master), 0);
    assert_int_equal(unlockpt(fx->line.master), 0);
    char text[300], err[300];
    snprintf(text, sizeof text, "rs485=rtu:%s", ptsname(fx->line.master));
    om_bus_override ov;
    assert_int_equal(om_bus_override_parse(text, &ov, err, sizeof err), 0);
    assert_int_equal(om_bus_override_apply(&fx->site, &ov, 1, err, sizeof err), 0);
    om_bus_override_free(&ov);
    pthread_mutex_init(&fx->line.lock, NULL);
    assert_int_equal(pthread_create(&fx->line.thread, NULL, line_main, &fx->line), 0);

    for (size_t i = 0; i < 3; i++)
        fx->meters[i] = &fx->site.meters[i];
    om_bus_worker_config cfg = {
        .bus = &fx->site.gateways[0].buses[0],
        .meters = fx->meters,
        .nmeters = 3,
        .schedule = {.counters_ms = 1000, .instant_ms = 1000},
        .backoff_max_ms = 8000,
        .sink = sink,
        .sink_ctx = &fx->polls,
    };
    fx->w = om_bus_worker_new(&cfg, err, sizeof err);
    if (!fx->w)
        fail_msg("om_bus_worker_new: %s", err);
    om_log_set_level(OM_LOG_ERROR);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    om_bus_worker_free(fx->w);
    fx->line.stop = 1;
    pthread_join(fx->line.thread, NULL);
    close(fx->line.master);
    pthread_mutex_destroy(&fx->line.lock);
    om_site_free(&fx->site);
    om_catalogue_free(&fx->cat);
    free(fx);
    return 0;
}

static size_t frames_to(fake_line *f, uint8_t unit, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += f->frames[i].unit == unit;
    return n;
}

static unsigned model_gap_ms(uint8_t unit)
{
    return unit == 3 ? 10u : 20u; /* iEM3155 10 ms, SDM630 20 ms (catalogue) */
}

static void test_cycle(void **state)
{
    fixture *fx = *state;
    fake_line *f = &fx->line;

    /* Cycle 1 at tick 0: everything is tried. */
    om_bus_worker_cycle(fx->w, 1000000, true, true, false);
    size_t c1 = f->nframes;
    /* SDM630: 3 reads; dead: 1 (its other 2 are not tried); iEM3155: the
     * voltage block (6 registers) is refused, then 3 + power + energies. */
    assert_int_equal(frames_to(f, 1, 0, c1), 3);
    assert_int_equal(frames_to(f, 2, 0, c1), 1);
    assert_int_equal(frames_to(f, 3, 0, c1), 1 + 3 + 1 + 1);

    /* The line's silence: from the end of one exchange (a reply, or the
     * timeout of the dead meter) to the next request, at least t3.5 at
     * 9600 8N1 plus the larger model gap. */
    uint32_t t35 = om_rtu_silence_us(9600, 8, 'N', 1);
    assert_int_equal(t35, 3646);
    static frame seen[MAX_FRAMES];
    pthread_mutex_lock(&f->lock);
    memcpy(seen, f->frames, sizeof seen);
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 1; i < c1; i++) {
        const frame *prev = &seen[i - 1], *cur = &seen[i];
        if (!prev->reply_us)
            continue; /* after a timeout the wait is the timeout itself */
        unsigned gap = model_gap_ms(prev->unit) > model_gap_ms(cur->unit) ? model_gap_ms(prev->unit)
                                                                            : model_gap_ms(cur->unit);
        int64_t silence = cur->at_us - prev->reply_us;
        if (silence < (int64_t)t35 + gap * 1000)
            fail_msg("frame %zu (unit %u) came %lld us after the previous answer, expected >= %u us",
                     i, cur->unit, (long long)silence, t35 + gap * 1000);
    }

    /* Polls: unit 1 complete, unit 3 complete after the split, none for the dead one. */
    assert_int_equal(fx->polls.n, 2);
    assert_string_equal(fx->polls.polls[0].meter->id, "main");
    assert_int_equal(fx->polls.polls[0].nvalues, 6);
    assert_string_equal(fx->polls.polls[1].meter->id, "hvac");
    assert_int_equal(fx->polls.polls[1].nvalues, 6);
    for (size_t i = 1; i < fx->polls.polls[1].nvalues; i++)
        assert_true(fx->polls.polls[1].values[i - 1].quantity < fx->polls.polls[1].values[i].quantity);

    const om_meter *m;
    om_meter_counters c;
    om_bus_worker_meter_snapshot(fx->w, 1, &m, &c, NULL);
    assert_string_equal(m->id, "dead");
    assert_int_equal(c.timeouts, 1);
    assert_int_equal(c.requests, 1);
    assert_int_equal(c.consecutive_failures, 1);
    assert_int_equal(c.retry_at_ms, 1000000 + 1000);
    om_bus_worker_meter_snapshot(fx->w, 2, &m, &c, NULL);
    assert_int_equal(c.exceptions, 1);
    assert_int_equal(c.splits, 1);
    assert_int_equal(c.partial_polls, 0);

    /* Cycle 2 (next tick): the dead meter is tried again (first backoff
     * step is one interval), the split plan is used directly. */
    om_bus_worker_cycle(fx->w, 1001000, true, true, false);
    size_t c2 = f->nframes;
    assert_int_equal(frames_to(f, 2, c1, c2), 1);
    assert_int_equal(frames_to(f, 3, c1, c2), 5);
    om_bus_worker_meter_snapshot(fx->w, 1, NULL, &c, NULL);
    assert_int_equal(c.consecutive_failures, 2);
    assert_int_equal(c.retry_at_ms, 1001000 + 2000);

    /* Cycle 3: backing off, the dead meter costs nothing. */
    om_bus_worker_cycle(fx->w, 1002000, true, true, false);
    size_t c3 = f->nframes;
    assert_int_equal(frames_to(f, 2, c2, c3), 0);
    assert_int_equal(frames_to(f, 1, c2, c3), 3);
    om_bus_worker_meter_snapshot(fx->w, 1, NULL, &c, NULL);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.timeouts, 2);

    /* Counters only: the SDM630 reads just its energy block. */
    om_bus_worker_cycle(fx->w, 1003000, true, false, false);
    size_t c4 = f->nframes;
    assert_int_equal(frames_to(f, 1, c3, c4), 1);
    assert_int_equal(f->frames[c3].address, 0x0048);
    assert_int_equal(f->frames[c3].count, 4);

    om_bus_stats bs;
    om_bus_worker_stats(fx->w, &bs);
    assert_int_equal(bs.cycles, 4);
    assert_true(bs.connected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
