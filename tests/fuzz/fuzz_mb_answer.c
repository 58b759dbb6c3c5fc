/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_mb_answer.c - the judges of Modbus answers (modbus/answer.h), fed
 * the bytes a device or gateway could send for a planned read request: the
 * first bytes of the input choose the request, the rest is the stream.
 * Whatever the bytes: a verdict's frame never reaches past what was
 * received, an answer's registers are exactly the requested ones, and a
 * stream judged frame by frame (dropping stale frames, as the agent does)
 * ends.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzzutil.h"
#include "officemeter/modbus/answer.h"

static void judge_stream(const uint8_t *buf, size_t len, const om_mb_request *req, bool tcp)
{
    size_t at = 0;
    for (unsigned frames = 0; at < len; frames++) {
        FUZZ_CHECK(frames <= len, "the judge did not advance through the stream");
        om_mb_judgement j;
        memset(&j, 0, sizeof j);
        om_mb_verdict v = tcp ? om_mb_judge_tcp(buf + at, len - at, req, &j)
                              : om_mb_judge_rtu(buf + at, len - at, req, &j);
        if (v == OM_MB_PARTIAL)
            return;
        FUZZ_CHECK(j.frame_len > 0 && j.frame_len <= len - at,
                   "a frame of %zu bytes in %zu received", j.frame_len, len - at);
        FUZZ_CHECK(memchr(j.reason, '\0', sizeof j.reason) != NULL, "reason not terminated");
        if (v == OM_MB_ANSWER) {
            if (j.exception == 0) {
                FUZZ_CHECK(j.data >= buf + at && j.data + 2u * req->count <= buf + at + j.frame_len,
                           "the registers lie outside the frame");
                uint16_t regs[125];
                om_mb_answer_registers(&j, req->count, regs);
            }
            return;
        }
        if (v == OM_MB_REFUSED)
            return;
        FUZZ_CHECK(tcp, "a stale frame on RTU");
        at += j.frame_len; /* STALE: dropped, read on */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    /* One at a time: the order of an initializer list's evaluation is not
     * specified. */
    om_mb_request req;
    req.transaction = fuzz_u16(&in);
    req.unit = fuzz_u8(&in);
    req.function = (fuzz_u8(&in) & 1) ? 4 : 3;
    req.address = fuzz_u16(&in);
    req.count = (uint16_t)(1 + fuzz_u8(&in) % 125);
    bool tcp = fuzz_u8(&in) & 1;
    uint8_t sent[OM_MB_TCP_REQUEST_LEN];
    size_t n = tcp ? om_mb_encode_tcp(&req, sent) : om_mb_encode_rtu(&req, sent);
    FUZZ_CHECK(n == (tcp ? OM_MB_TCP_REQUEST_LEN : OM_MB_RTU_REQUEST_LEN), "request length %zu", n);
    judge_stream(in.data, in.size, &req, tcp);
    return 0;
}
