/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mb_answer.c - the judges of a Modbus read answer (answer.h) on
 * hand-made frames, and the TCP receive that uses them (mbconn.h) on a
 * socket pair: the answer whole, cut anywhere, of another transaction,
 * from another unit, with another function, byte count, protocol id or an
 * impossible length, an exception; on RTU a bad CRC. Then what a socket
 * delivers: a stale frame before the answer, an extra one after it, an
 * answer a byte at a time, a peer that hangs up half-way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "officemeter/modbus/answer.h"
#include "officemeter/modbus/mbconn.h"
#include "testutil.h"

static const om_mb_request req = {
    .transaction = 0x1234, .unit = 7, .function = 4, .address = 0x0048, .count = 2};

/* A TCP answer to `r` with registers 0x4142 0x4344, or with the changes
 * the caller makes to it; returns its length. */
static size_t tcp_answer(const om_mb_request *r, uint8_t *f)
{
    const uint8_t frame[] = {(uint8_t)(r->transaction >> 8), (uint8_t)r->transaction, 0, 0, 0, 7,
                             r->unit, r->function, 4, 0x41, 0x42, 0x43, 0x44};
    memcpy(f, frame, sizeof frame);
    return sizeof frame;
}

static size_t rtu_answer(const om_mb_request *r, uint8_t *f)
{
    const uint8_t frame[] = {r->unit, r->function, 4, 0x41, 0x42, 0x43, 0x44};
    memcpy(f, frame, sizeof frame);
    om_test_put_crc(f, sizeof frame);
    return sizeof frame + 2;
}

static void assert_registers(const om_mb_judgement *j)
{
    uint16_t regs[2];
    om_mb_answer_registers(j, 2, regs);
    assert_int_equal(regs[0], 0x4142);
    assert_int_equal(regs[1], 0x4344);
}

static void assert_refused(om_mb_verdict v, const om_mb_judgement *j, om_mb_fault fault,
                           const char *reason)
{
    if (v != OM_MB_REFUSED || j->fault != fault || !strstr(j->reason, reason))
        fail_msg("verdict %d fault %d reason \"%s\"; want refused, fault %d, \"%s\"", v,
                 j->fault, j->reason, fault, reason);
}

static void test_encode(void **state)
{
    (void)state;
    uint8_t out[OM_MB_TCP_REQUEST_LEN];
    assert_int_equal(om_mb_encode_tcp(&req, out), 12);
    const uint8_t tcp[] = {0x12, 0x34, 0, 0, 0, 6, 7, 4, 0x00, 0x48, 0x00, 0x02};
    assert_memory_equal(out, tcp, sizeof tcp);
    /* The request every Modbus tool sends for unit 1, 0x0048+2, with its CRC. */
    om_mb_request r = req;
    r.unit = 1;
    uint8_t rtu[OM_MB_RTU_REQUEST_LEN];
    assert_int_equal(om_mb_encode_rtu(&r, rtu), 8);
    const uint8_t want[] = {0x01, 0x04, 0x00, 0x48, 0x00, 0x02, 0xF1, 0xDD};
    assert_memory_equal(rtu, want, sizeof want);
}

static void test_tcp_answer_and_every_cut(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = tcp_answer(&req, f);
    om_mb_judgement j;
    assert_int_equal(om_mb_judge_tcp(f, n, &req, &j), OM_MB_ANSWER);
    assert_int_equal(j.frame_len, n);
    assert_int_equal(j.exception, 0);
    assert_registers(&j);
    for (size_t cut = 0; cut < n; cut++)
        if (om_mb_judge_tcp(f, cut, &req, &j) != OM_MB_PARTIAL)
            fail_msg("%zu of %zu bytes: not partial", cut, n);
    /* What follows the frame is not the judge's business. */
    f[n] = 0xEE;
    assert_int_equal(om_mb_judge_tcp(f, n + 1, &req, &j), OM_MB_ANSWER);
    assert_int_equal(j.frame_len, n);
}

static void test_tcp_exception(void **state)
{
    (void)state;
    const uint8_t f[] = {0x12, 0x34, 0, 0, 0, 3, 7, 0x84, 2};
    om_mb_judgement j;
    assert_int_equal(om_mb_judge_tcp(f, sizeof f, &req, &j), OM_MB_ANSWER);
    assert_int_equal(j.exception, 2);
    assert_int_equal(j.frame_len, sizeof f);
    const uint8_t zero[] = {0x12, 0x34, 0, 0, 0, 3, 7, 0x84, 0};
    assert_refused(om_mb_judge_tcp(zero, sizeof zero, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "exception");
    const uint8_t longer[] = {0x12, 0x34, 0, 0, 0, 4, 7, 0x84, 2, 0};
    assert_refused(om_mb_judge_tcp(longer, sizeof longer, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "an exception answer of 3 bytes");
}

static void test_tcp_other_transaction_is_stale(void **state)
{
    (void)state;
    om_mb_request earlier = req;
    earlier.transaction = 0x1233;
    uint8_t f[64];
    size_t n = tcp_answer(&earlier, f);
    f[9] = 0x7F; /* whatever it holds */
    om_mb_judgement j;
    assert_int_equal(om_mb_judge_tcp(f, n, &req, &j), OM_MB_STALE);
    assert_int_equal(j.frame_len, n);
    assert_string_equal(j.reason, "transaction id 4659, not 4660");
    /* Stale even when it is another unit's, or garbled inside. */
    f[6] = 9;
    f[7] = 3;
    assert_int_equal(om_mb_judge_tcp(f, n, &req, &j), OM_MB_STALE);
}

static void test_tcp_refused(void **state)
{
    (void)state;
    uint8_t f[300];
    size_t n;
    om_mb_judgement j;

    n = tcp_answer(&req, f);
    f[6] = 8;
    assert_refused(om_mb_judge_tcp(f, n, &req, &j), &j, OM_MB_FAULT_WRONG_UNIT,
                   "unit id 8, not 7");
    assert_int_equal(j.frame_len, n);

    n = tcp_answer(&req, f);
    f[2] = 0x00;
    f[3] = 0x01;
    assert_refused(om_mb_judge_tcp(f, n, &req, &j), &j, OM_MB_FAULT_GARBLED, "protocol id 1");
    f[2] = 0x01; /* libmodbus 3.1.6 took a protocol id with one zero byte */
    f[3] = 0x00;
    assert_refused(om_mb_judge_tcp(f, n, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "protocol id 256");

    n = tcp_answer(&req, f);
    f[7] = 3;
    assert_refused(om_mb_judge_tcp(f, n, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "function 3, not 4");

    n = tcp_answer(&req, f); /* byte count says 2, MBAP length says 4 */
    f[8] = 2;
    assert_refused(om_mb_judge_tcp(f, n, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "2 bytes of registers, not 4");

    n = tcp_answer(&req, f); /* three registers for two, consistently framed */
    f[5] = 9;
    f[8] = 6;
    f[13] = 0x45;
    f[14] = 0x46;
    assert_refused(om_mb_judge_tcp(f, 15, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "6 bytes of registers, not 4");

    /* Lengths that cannot frame anything: refused at once, however many
     * bytes came. */
    static const unsigned bad_lengths[] = {0, 1, 255, 256, 0xFFFF};
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        n = tcp_answer(&req, f);
        f[4] = (uint8_t)(bad_lengths[i] >> 8);
        f[5] = (uint8_t)bad_lengths[i];
        assert_refused(om_mb_judge_tcp(f, 6, &req, &j), &j, OM_MB_FAULT_GARBLED,
                       "MBAP length");
    }
    /* The longest length there is: partial until 260 bytes, then judged. */
    memset(f, 0, sizeof f);
    n = tcp_answer(&req, f);
    f[5] = 254;
    assert_int_equal(om_mb_judge_tcp(f, 259, &req, &j), OM_MB_PARTIAL);
    assert_refused(om_mb_judge_tcp(f, 260, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "bytes of registers");
}

static void test_rtu(void **state)
{
    (void)state;
    uint8_t f[300];
    om_mb_judgement j;
    size_t n = rtu_answer(&req, f);
    assert_int_equal(om_mb_judge_rtu(f, n, &req, &j), OM_MB_ANSWER);
    assert_int_equal(j.frame_len, n);
    assert_registers(&j);
    for (size_t cut = 0; cut < n; cut++)
        if (om_mb_judge_rtu(f, cut, &req, &j) != OM_MB_PARTIAL)
            fail_msg("%zu of %zu bytes: not partial", cut, n);

    f[4] ^= 0x01;
    assert_refused(om_mb_judge_rtu(f, n, &req, &j), &j, OM_MB_FAULT_BAD_CRC, "CRC");

    om_mb_request other = req;
    other.unit = 9;
    n = rtu_answer(&other, f);
    assert_refused(om_mb_judge_rtu(f, n, &req, &j), &j, OM_MB_FAULT_WRONG_UNIT,
                   "unit id 9, not 7");
    assert_int_equal(j.frame_len, n); /* the whole frame, to be dropped */

    other = req;
    other.function = 3;
    n = rtu_answer(&other, f);
    assert_refused(om_mb_judge_rtu(f, 2, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "function 3, not 4");

    const uint8_t three[] = {7, 4, 6, 0, 1, 0, 2, 0, 3};
    memcpy(f, three, sizeof three);
    om_test_put_crc(f, sizeof three);
    assert_refused(om_mb_judge_rtu(f, sizeof three + 2, &req, &j), &j, OM_MB_FAULT_GARBLED,
                   "6 bytes of registers, not 4");

    const uint8_t exc[] = {7, 0x84, 2};
    memcpy(f, exc, sizeof exc);
    om_test_put_crc(f, sizeof exc);
    assert_int_equal(om_mb_judge_rtu(f, 4, &req, &j), OM_MB_PARTIAL);
    assert_int_equal(om_mb_judge_rtu(f, 5, &req, &j), OM_MB_ANSWER);
    assert_int_equal(j.exception, 2);
}

/* ---- the TCP receive over a socket pair ----------------------------------- */

typedef struct {
    int peer;
    modbus_t *ctx;
    om_bus bus;
    om_mb_pending p;
} pair;

static int pair_setup(void **state)
{
    pair *x = calloc(1, sizeof *x);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    x->ctx = modbus_new_tcp("127.0.0.1", 502);
    assert_non_null(x->ctx);
    modbus_set_socket(x->ctx, sv[0]);
    x->peer = sv[1];
    x->bus = (om_bus){.id = "lan", .kind = OM_BUS_TCP, .tcp = {.host = "10.0.0.20", .port = 502}};
    char err[300];
    assert_int_equal(om_mbconn_tcp_send(x->ctx, &x->bus, 7, 4, 0x0048, 2, &x->p, err,
                                        sizeof err), 0);
    uint8_t sent[OM_MB_TCP_REQUEST_LEN];
    assert_int_equal(read(x->peer, sent, sizeof sent), 12);
    assert_int_equal(sent[0] << 8 | sent[1], x->p.req.transaction);
    assert_int_not_equal(x->p.req.transaction, 0);
    *state = x;
    return 0;
}

static int pair_teardown(void **state)
{
    pair *x = *state;
    modbus_close(x->ctx);
    modbus_free(x->ctx);
    close(x->peer);
    free(x);
    return 0;
}

static void peer_send(pair *x, const uint8_t *buf, size_t len)
{
    assert_int_equal(write(x->peer, buf, len), (ssize_t)len);
}

static void test_stale_then_answer_then_extra(void **state)
{
    pair *x = *state;
    uint8_t f[128], regs_frame[32];
    om_mb_request late = x->p.req;
    late.transaction--;
    size_t n = tcp_answer(&late, f);
    f[9] = 0x7F; /* another meter's value, 2.6e38 as a float */
    size_t m = tcp_answer(&x->p.req, regs_frame);
    memcpy(f + n, regs_frame, m);
    memcpy(f + n + m, regs_frame, m); /* and an extra copy after the answer */
    peer_send(x, f, n + 2 * m);
    uint16_t regs[2];
    char err[300];
    assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err), 0);
    assert_int_equal(regs[0], 0x4142);
    assert_int_equal(regs[1], 0x4344);
    assert_int_equal(x->p.stale, 1);
    assert_int_equal(x->p.len, 0); /* the extra copy is dropped with it */
}

static void test_byte_by_byte(void **state)
{
    pair *x = *state;
    uint8_t f[32];
    size_t n = tcp_answer(&x->p.req, f);
    uint16_t regs[2];
    char err[300];
    for (size_t i = 0; i + 1 < n; i++) {
        peer_send(x, f + i, 1);
        assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err),
                         1);
    }
    peer_send(x, f + n - 1, 1);
    assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err), 0);
    assert_int_equal(regs[1], 0x4344);
    /* Nothing there: woken for nothing, wait on. */
    assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err), 1);
}

static void test_wrong_unit_and_hang_up(void **state)
{
    pair *x = *state;
    uint8_t f[32];
    om_mb_request other = x->p.req;
    other.unit = 8;
    size_t n = tcp_answer(&other, f);
    peer_send(x, f, n);
    uint16_t regs[2];
    char err[300];
    assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err), -1);
    assert_int_equal(errno, EMBBADSLAVE);
    assert_non_null(strstr(err, "answer from the wrong unit on 10.0.0.20:502 (bus lan) when "
                                "asking unit 7 (function 4, address 0x0048): unit id 8, not 7"));
    unsigned exc;
    assert_int_equal(om_mb_classify(EMBBADSLAVE, &exc), OM_MB_GARBLED);

    /* Half an answer, then the peer hangs up: a connection failure. */
    char err2[300];
    assert_int_equal(om_mbconn_tcp_send(x->ctx, &x->bus, 7, 4, 0x0048, 2, &x->p, err2,
                                        sizeof err2), 0);
    uint8_t sent[12];
    assert_int_equal(read(x->peer, sent, sizeof sent), 12);
    n = tcp_answer(&x->p.req, f);
    peer_send(x, f, 5);
    shutdown(x->peer, SHUT_WR);
    assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err), 1);
    assert_int_equal(om_mbconn_tcp_receive(x->ctx, &x->bus, &x->p, regs, err, sizeof err), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_non_null(strstr(err, "closed the connection"));
    assert_int_equal(om_mb_classify(ECONNRESET, &exc), OM_MB_CONNECTION);
}

static void test_transaction_ids_differ(void **state)
{
    (void)state;
    uint16_t last = om_mb_next_transaction();
    for (int i = 0; i < 70000; i++) {
        uint16_t t = om_mb_next_transaction();
        assert_int_not_equal(t, 0);
        assert_int_not_equal(t, last);
        last = t;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_tcp_answer_and_every_cut),
        cmocka_unit_test(test_tcp_exception),
        cmocka_unit_test(test_tcp_other_transaction_is_stale),
        cmocka_unit_test(test_tcp_refused),
        cmocka_unit_test(test_rtu),
        cmocka_unit_test_setup_teardown(test_stale_then_answer_then_extra, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_unit_and_hang_up, pair_setup, pair_teardown),
        cmocka_unit_test(test_transaction_ids_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
