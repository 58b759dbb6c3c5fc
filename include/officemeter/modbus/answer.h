/* SPDX-License-Identifier: Apache-2.0 */
/*
 * answer.h - is this frame the answer to that request? Modbus TCP and RTU
 * read answers judged without I/O.
 *
 * A meter, a TCP-to-RS-485 gateway or anything between them may answer
 * late, twice, for another unit, cut short, too long or a byte at a time.
 * Every answer the agent and the probe take registers from passes through
 * one of the two judges below first: the bytes received so far and the
 * request they may answer go in, a verdict and a reason come out. No I/O,
 * no allocation, no state, so that unit tests feed them hand-made frames
 * and a fuzzer random ones.
 *
 * What makes a frame the answer (Modbus Application Protocol v1.1b3, 6.3,
 * 6.4, 7; Modbus Messaging on TCP/IP v1.0b, 3.1.3; Modbus over Serial Line
 * v1.02, 2.5.1):
 *
 *   TCP  transaction id = the request's   (else STALE: an extra or late
 *                                          frame, dropped, not decoded)
 *        protocol id 0, MBAP length 2..254 (else REFUSED: the stream has
 *                                          lost its framing)
 *        unit id = the request's, function = the request's (or with bit
 *        7 set: an exception, MBAP length 3), byte count = 2 × registers
 *        asked and MBAP length = 3 + byte count
 *   RTU  unit id, function, byte count as above; the CRC over the frame
 *        (a bad CRC is noise on the line); RTU has no transaction id, so
 *        a frame of the right shape is the answer: the bus worker flushes
 *        the line after a timeout instead.
 */
#ifndef OFFICEMETER_MODBUS_ANSWER_H
#define OFFICEMETER_MODBUS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

/* A read request (function 3 or 4) as sent. */
typedef struct {
    uint16_t transaction; /* Modbus TCP: the MBAP transaction id; unused on RTU */
    uint8_t unit;
    uint8_t function;
    uint16_t address;
    uint16_t count;       /* registers, 1..125 */
} om_mb_request;

#define OM_MB_TCP_REQUEST_LEN 12 /* MBAP (7) + function, address, count */
#define OM_MB_RTU_REQUEST_LEN 8  /* unit, function, address, count, CRC */
#define OM_MB_TCP_MAX_FRAME 260  /* MBAP header (6) + length of at most 254 */
#define OM_MB_RTU_MAX_FRAME 256

/* The request's bytes; returns their number. */
size_t om_mb_encode_tcp(const om_mb_request *req, uint8_t out[OM_MB_TCP_REQUEST_LEN]);
size_t om_mb_encode_rtu(const om_mb_request *req, uint8_t out[OM_MB_RTU_REQUEST_LEN]);

typedef enum {
    OM_MB_PARTIAL, /* not a whole frame yet: read on, until the request's deadline */
    OM_MB_STALE,   /* TCP: a whole frame of another transaction (an extra frame, a
                    * late answer): drop frame_len bytes and read on */
    OM_MB_ANSWER,  /* the answer: registers at `data`, or an exception */
    OM_MB_REFUSED, /* not the answer to this request: the request failed, and what
                    * follows on the connection or line cannot be trusted */
} om_mb_verdict;

typedef enum {
    OM_MB_FAULT_NONE,
    OM_MB_FAULT_WRONG_UNIT, /* a well-formed answer from another unit id */
    OM_MB_FAULT_BAD_CRC,    /* RTU: the CRC does not match */
    OM_MB_FAULT_GARBLED,    /* protocol id, length, function or byte count wrong */
} om_mb_fault;

typedef struct {
    size_t frame_len;    /* STALE, ANSWER, REFUSED: bytes of buf the frame takes */
    unsigned exception;  /* ANSWER: 0 for registers, else the exception code */
    const uint8_t *data; /* ANSWER with registers: `count` big-endian registers */
    om_mb_fault fault;   /* REFUSED */
    char reason[112];    /* STALE, REFUSED: what is wrong, e.g. "transaction id 7, not 9" */
} om_mb_judgement;

/* Judges buf[0..len), the bytes received since the request was sent (or
 * since the last frame dropped), against req. */
om_mb_verdict om_mb_judge_tcp(const uint8_t *buf, size_t len, const om_mb_request *req,
                              om_mb_judgement *out);
om_mb_verdict om_mb_judge_rtu(const uint8_t *buf, size_t len, const om_mb_request *req,
                              om_mb_judgement *out);

/* An ANSWER's registers into dest[0..count). */
void om_mb_answer_registers(const om_mb_judgement *j, uint16_t count, uint16_t *dest);

#endif
