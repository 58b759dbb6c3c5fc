/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_rtu.c - Modbus RTU server: one thread per serial line.
 *
 * libmodbus's receive filters RTU requests on the one unit id set with
 * modbus_set_slave, but an RS-485 line carries several meters. So this file
 * frames requests itself (length from the function code, CRC check, resync
 * byte by byte after line noise) and lets libmodbus open the line with its
 * serial settings and send the replies (modbus_reply adds the CRC).
 *
 * A partial frame followed by silence is dropped, as a meter would; the
 * silence allowed is generous (FRAME_SILENCE_MS) because USB serial adapters
 * and pseudo-terminals deliver bytes in bursts.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modbus.h>

#include "sim_private.h"
#include "officemeter/base/crc16.h"

#define FRAME_SILENCE_MS 50
#define MIN_FRAME 4

/* CRC is sent low byte first. */
static bool crc_ok(const uint8_t *frame, size_t len)
{
    uint16_t crc = om_crc16_modbus(frame, len - 2);
    return frame[len - 2] == (crc & 0xFF) && frame[len - 1] == (crc >> 8);
}

/* Request length including the CRC: 0 when more bytes are needed to know,
 * -1 for a function without a fixed layout (framed by silence). */
static int request_length(const uint8_t *buf, size_t len)
{
    if (len < 2)
        return 0;
    switch (buf[1]) {
    case 1: case 2: case 3: case 4: case 5: case 6:
        return 8;
    case 7: case 11: case 12: case 17:
        return 4;
    case 15: case 16:
        return len < 7 ? 0 : 9 + buf[6];
    case 23:
        return len < 11 ? 0 : 13 + buf[10];
    default:
        return -1;
    }
}

int om_sim_rtu_open(om_sim_server *srv, char *err, size_t errlen)
{
    const om_rtu_params *r = &srv->rtu;
    char parity = (r->parity == 'E' || r->parity == 'O') ? r->parity : 'N';
    int data_bits = r->data_bits ? (int)r->data_bits : 8;
    int stop_bits = r->stop_bits ? (int)r->stop_bits : 1;

    srv->ctx = modbus_new_rtu(r->device, r->baud ? (int)r->baud : 9600, parity, data_bits,
                              stop_bits);
    if (srv->ctx == NULL) {
        snprintf(err, errlen, "cannot use serial device %s: %s", r->device,
                 modbus_strerror(errno));
        return -1;
    }
    if (modbus_connect(srv->ctx) != 0) {
        snprintf(err, errlen, "cannot open serial device %s: %s", r->device, strerror(errno));
        modbus_free(srv->ctx);
        srv->ctx = NULL;
        return -1;
    }
    srv->fd = modbus_get_socket(srv->ctx);
    return 0;
}

typedef struct {
    uint8_t buf[MODBUS_RTU_MAX_ADU_LENGTH * 2];
    size_t len;
} line_buffer;

static void consume(line_buffer *lb, size_t n)
{
    memmove(lb->buf, lb->buf + n, lb->len - n);
    lb->len -= n;
}

/* Handles every complete frame at the front of the buffer. */
static void process(om_sim_server *srv, line_buffer *lb)
{
    while (lb->len >= MIN_FRAME) {
        int need = request_length(lb->buf, lb->len);
        if (need <= 0)
            return; /* wait for more bytes, or for silence */
        if ((size_t)need > MODBUS_RTU_MAX_ADU_LENGTH) {
            consume(lb, 1);
            continue;
        }
        if (lb->len < (size_t)need)
            return;
        if (!crc_ok(lb->buf, (size_t)need)) {
            consume(lb, 1); /* noise: resynchronise on the next byte */
            continue;
        }
        om_sim_server_handle(srv, srv->ctx, lb->buf, need);
        consume(lb, (size_t)need);
    }
}

/* Silence ended whatever is buffered: a frame of unknown layout is
 * answered (exception 1) if its CRC holds, anything else is dropped. */
static void flush_on_silence(om_sim_server *srv, line_buffer *lb)
{
    if (lb->len >= MIN_FRAME && request_length(lb->buf, lb->len) < 0 &&
        lb->len <= MODBUS_RTU_MAX_ADU_LENGTH && crc_ok(lb->buf, lb->len))
        om_sim_server_handle(srv, srv->ctx, lb->buf, (int)lb->len);
    lb->len = 0;
}

static void *line_main(void *arg)
{
    om_sim_server *srv = arg;
    om_sim *sim = srv->sim;
    line_buffer lb = {.len = 0};

    while (!atomic_load(&sim->stopping)) {
        struct pollfd p[2] = {{.fd = srv->fd, .events = POLLIN},
                              {.fd = sim->stop_pipe[0], .events = POLLIN}};
        int rc = poll(p, 2, lb.len ? FRAME_SILENCE_MS : -1);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (rc == 0) {
            flush_on_silence(srv, &lb);
            continue;
        }
        if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL) && !(p[0].revents & POLLIN)) {
            /* The other end of a pseudo-terminal is closed: wait for it. */
            om_sim_server_pause(srv, 100);
            continue;
        }
        if (lb.len == sizeof lb.buf)
            lb.len = 0;
        ssize_t n = read(srv->fd, lb.buf + lb.len, sizeof lb.buf - lb.len);
        if (n > 0) {
            lb.len += (size_t)n;
            process(srv, &lb);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            om_sim_server_pause(srv, 100);
        }
    }
    return NULL;
}

int om_sim_rtu_start(om_sim_server *srv, char *err, size_t errlen)
{
    if (pthread_create(&srv->thread, NULL, line_main, srv) != 0) {
        snprintf(err, errlen, "%s: cannot start a thread: %s", srv->label, strerror(errno));
        return -1;
    }
    srv->started = true;
    return 0;
}

void om_sim_rtu_join(om_sim_server *srv)
{
    if (srv->started)
        pthread_join(srv->thread, NULL);
    srv->started = false;
    if (srv->ctx) {
        modbus_close(srv->ctx);
        modbus_free(srv->ctx);
    }
    srv->ctx = NULL;
    srv->fd = -1;
}
