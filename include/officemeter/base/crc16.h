/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc16.h - the CRC of Modbus RTU frames (CRC-16/MODBUS: polynomial 0xA001
 * reflected, initial value 0xFFFF), sent low byte first after the frame.
 * The simulator checks and writes it; tests build frames with it.
 */
#ifndef OFFICEMETER_BASE_CRC16_H
#define OFFICEMETER_BASE_CRC16_H

#include <stddef.h>
#include <stdint.h>

uint16_t om_crc16_modbus(const uint8_t *buf, size_t len);

#endif
