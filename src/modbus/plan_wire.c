/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_wire.c - what a read costs on the wire: bytes, character times, the
 * RTU inter-frame silence, and the line time of one request.
 *
 * Frame sizes for a read of n registers (function 03 or 04):
 *   RTU request   unit, function, address(2), count(2), CRC(2)      = 8
 *   RTU response  unit, function, byte count, 2n data, CRC(2)       = 5 + 2n
 *   TCP request   MBAP (transaction 2, protocol 2, length 2, unit)
 *                 + function, address(2), count(2)                  = 12
 *   TCP response  MBAP + function, byte count, 2n data              = 9 + 2n
 *
 * A serial character is a start bit, the data bits, a parity bit unless the
 * parity is N, and the stop bits: 10 bits for 8N1, 11 for 8E1. The Modbus
 * serial line specification (V1.02, 2.5.1.1) asks for at least 3.5
 * character times of silence between frames, and fixes it at 1750 µs above
 * 19200 baud, where the character time would be too short for UARTs to
 * time reliably. The scheduler waits this long; the estimates count it.
 */
#include "officemeter/modbus/plan.h"

#include <assert.h>

size_t om_plan_request_bytes(om_bus_kind kind)
{
    return kind == OM_BUS_TCP ? 12 : 8;
}

size_t om_plan_response_bytes(om_bus_kind kind, unsigned registers)
{
    return (kind == OM_BUS_TCP ? 9 : 5) + 2 * (size_t)registers;
}

unsigned om_rtu_char_bits(unsigned data_bits, char parity, unsigned stop_bits)
{
    bool has_parity = parity == 'E' || parity == 'O' || parity == 'e' || parity == 'o';
    return 1 + data_bits + (has_parity ? 1 : 0) + stop_bits;
}

uint64_t om_rtu_chars_us(uint64_t chars, unsigned baud, unsigned data_bits, char parity,
                         unsigned stop_bits)
{
    assert(baud > 0);
    uint64_t bits = chars * om_rtu_char_bits(data_bits, parity, stop_bits);
    return (bits * 1000000u + baud - 1) / baud;
}

uint32_t om_rtu_silence_us(unsigned baud, unsigned data_bits, char parity, unsigned stop_bits)
{
    assert(baud > 0);
    if (baud > 19200)
        return 1750;
    /* 3.5 characters = 7 half characters, rounded up so a scheduler that
     * waits this long never cuts the silence short. */
    uint64_t half_bits = 7u * (uint64_t)om_rtu_char_bits(data_bits, parity, stop_bits);
    return (uint32_t)((half_bits * 1000000u + 2u * baud - 1) / (2u * (uint64_t)baud));
}

uint32_t om_bus_silence_us(const om_bus *bus)
{
    if (bus->kind != OM_BUS_RTU)
        return 0;
    const om_rtu_params *r = &bus->rtu;
    return om_rtu_silence_us(r->baud ? r->baud : 9600, r->data_bits ? r->data_bits : 8,
                             r->parity ? r->parity : 'N', r->stop_bits ? r->stop_bits : 1);
}

uint64_t om_rtu_read_us(const om_rtu_params *rtu, unsigned registers, unsigned min_gap_ms,
                        unsigned turnaround_us)
{
    uint64_t chars = om_plan_request_bytes(OM_BUS_RTU) +
                     om_plan_response_bytes(OM_BUS_RTU, registers);
    uint32_t silence = om_rtu_silence_us(rtu->baud, rtu->data_bits, rtu->parity, rtu->stop_bits);
    return om_rtu_chars_us(chars, rtu->baud, rtu->data_bits, rtu->parity, rtu->stop_bits) +
           2u * (uint64_t)silence + turnaround_us + 1000u * (uint64_t)min_gap_ms;
}
