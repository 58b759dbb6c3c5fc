/* SPDX-License-Identifier: Apache-2.0 */
/*
 * answer.c - the two judges of a read answer (answer.h), and the requests
 * they judge against.
 *
 * The order of the checks matters. On TCP the MBAP length comes first: it
 * is what frames the stream, and a length out of range means nothing after
 * it can be located. Then the transaction id, before anything about the
 * contents: a frame of another transaction is dropped whatever it holds
 * (a late answer, a gateway's duplicate). On RTU the CRC comes first, since
 * a frame that fails it says nothing reliable about its unit or function.
 */
#include "officemeter/modbus/answer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "officemeter/base/crc16.h"

#define EXCEPTION_BIT 0x80u

static void put_pdu(const om_mb_request *req, uint8_t *out)
{
    out[0] = req->function;
    out[1] = (uint8_t)(req->address >> 8);
    out[2] = (uint8_t)req->address;
    out[3] = (uint8_t)(req->count >> 8);
    out[4] = (uint8_t)req->count;
}

size_t om_mb_encode_tcp(const om_mb_request *req, uint8_t out[OM_MB_TCP_REQUEST_LEN])
{
    out[0] = (uint8_t)(req->transaction >> 8);
    out[1] = (uint8_t)req->transaction;
    out[2] = 0; /* protocol id: Modbus */
    out[3] = 0;
    out[4] = 0; /* length of what follows: unit id + 5 */
    out[5] = 6;
    out[6] = req->unit;
    put_pdu(req, out + 7);
    return OM_MB_TCP_REQUEST_LEN;
}

size_t om_mb_encode_rtu(const om_mb_request *req, uint8_t out[OM_MB_RTU_REQUEST_LEN])
{
    out[0] = req->unit;
    put_pdu(req, out + 1);
    uint16_t crc = om_crc16_modbus(out, 6);
    out[6] = (uint8_t)crc; /* low byte first */
    out[7] = (uint8_t)(crc >> 8);
    return OM_MB_RTU_REQUEST_LEN;
}

__attribute__((format(printf, 4, 5))) static om_mb_verdict
refuse(om_mb_judgement *out, om_mb_fault fault, size_t frame_len, const char *fmt, ...)
{
    out->fault = fault;
    out->frame_len = frame_len;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    return OM_MB_REFUSED;
}

static void clear(om_mb_judgement *out)
{
    memset(out, 0, sizeof *out);
}

/* The PDU of a whole frame that passed the transport's checks: function,
 * then exception or byte count. pdu_len counts function code and data. */
static om_mb_verdict judge_pdu(const uint8_t *pdu, size_t pdu_len, size_t frame_len,
                               const om_mb_request *req, om_mb_judgement *out)
{
    unsigned fc = pdu[0];
    out->frame_len = frame_len;
    if (fc == (req->function | EXCEPTION_BIT)) {
        if (pdu_len != 2 || pdu[1] == 0)
            return refuse(out, OM_MB_FAULT_GARBLED, frame_len,
                          "an exception answer of %u bytes with code %u", (unsigned)pdu_len,
                          pdu_len >= 2 ? pdu[1] : 0u);
        out->exception = pdu[1];
        return OM_MB_ANSWER;
    }
    if (fc != req->function)
        return refuse(out, OM_MB_FAULT_GARBLED, frame_len, "function %u, not %u", fc,
                      req->function);
    size_t want = 2u * req->count;
    if (pdu_len < 2 || pdu[1] != want || pdu_len != 2 + want)
        return refuse(out, OM_MB_FAULT_GARBLED, frame_len,
                      "%u bytes of registers, not %u", pdu_len >= 2 ? pdu[1] : 0u,
                      (unsigned)want);
    out->data = pdu + 2;
    return OM_MB_ANSWER;
}

om_mb_verdict om_mb_judge_tcp(const uint8_t *buf, size_t len, const om_mb_request *req,
                              om_mb_judgement *out)
{
    clear(out);
    if (len < 6)
        return OM_MB_PARTIAL;
    unsigned mbap_len = (unsigned)buf[4] << 8 | buf[5];
    if (mbap_len < 2 || mbap_len > OM_MB_TCP_MAX_FRAME - 6)
        return refuse(out, OM_MB_FAULT_GARBLED, len, "MBAP length %u (%u at most)", mbap_len,
                      OM_MB_TCP_MAX_FRAME - 6);
    size_t frame_len = 6 + (size_t)mbap_len;
    if (len < frame_len)
        return OM_MB_PARTIAL;
    unsigned protocol = (unsigned)buf[2] << 8 | buf[3];
    if (protocol != 0)
        return refuse(out, OM_MB_FAULT_GARBLED, frame_len, "protocol id %u, not %u (Modbus)",
                      protocol, 0);
    unsigned transaction = (unsigned)buf[0] << 8 | buf[1];
    if (transaction != req->transaction) {
        out->frame_len = frame_len;
        snprintf(out->reason, sizeof out->reason, "transaction id %u, not %u", transaction,
                 (unsigned)req->transaction);
        return OM_MB_STALE;
    }
    if (buf[6] != req->unit)
        return refuse(out, OM_MB_FAULT_WRONG_UNIT, frame_len, "unit id %u, not %u", buf[6],
                      req->unit);
    return judge_pdu(buf + 7, mbap_len - 1, frame_len, req, out);
}

om_mb_verdict om_mb_judge_rtu(const uint8_t *buf, size_t len, const om_mb_request *req,
                              om_mb_judgement *out)
{
    clear(out);
    if (len < 2)
        return OM_MB_PARTIAL;
    unsigned fc = buf[1];
    size_t frame_len;
    if (fc == (req->function | EXCEPTION_BIT)) {
        frame_len = 5; /* unit, function, code, CRC */
    } else if (fc == req->function) {
        if (len < 3)
            return OM_MB_PARTIAL;
        frame_len = 5 + (size_t)buf[2]; /* unit, function, count, data, CRC */
    } else {
        /* Without the function the frame's length is unknown: what is
         * there is all that can be dropped. */
        return refuse(out, OM_MB_FAULT_GARBLED, len, "function %u, not %u", fc, req->function);
    }
    if (len < frame_len)
        return OM_MB_PARTIAL;
    uint16_t crc = (uint16_t)(buf[frame_len - 2] | buf[frame_len - 1] << 8);
    if (om_crc16_modbus(buf, frame_len - 2) != crc)
        return refuse(out, OM_MB_FAULT_BAD_CRC, frame_len, "CRC 0x%04X, not 0x%04X", crc,
                      om_crc16_modbus(buf, frame_len - 2));
    if (buf[0] != req->unit)
        return refuse(out, OM_MB_FAULT_WRONG_UNIT, frame_len, "unit id %u, not %u", buf[0],
                      req->unit);
    return judge_pdu(buf + 1, frame_len - 3, frame_len, req, out);
}

void om_mb_answer_registers(const om_mb_judgement *j, uint16_t count, uint16_t *dest)
{
    for (uint16_t i = 0; i < count; i++)
        dest[i] = (uint16_t)(j->data[2 * i] << 8 | j->data[2 * i + 1]);
}
