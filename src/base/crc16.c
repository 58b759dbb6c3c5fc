/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc16.c - CRC-16/MODBUS, bit by bit (crc16.h). Frames are a few dozen
 * bytes, so a table would buy nothing worth its 512 bytes.
 */
#include "officemeter/base/crc16.h"

uint16_t om_crc16_modbus(const uint8_t *buf, size_t len)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}
