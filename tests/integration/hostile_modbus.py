#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""hostile_modbus.py - a raw-socket Modbus TCP server that answers wrongly on
purpose, for the agent's and the probe's hostile-input tests.

Serves read requests (functions 3 and 4) on one loopback port per bus, each
with a MODE. Every unit id has the same map, the test model test-gappy
(tests/data/agent/meters/test-gappy.yaml): float32 ABCD registers, energy at
0x0000, power in W at 0x0004, voltage at 0x0008. Unit U holds

    energy_import_kwh = 1000 + U + 0.25, power = 100 * U W, voltage = 230 + U / 4

so that a value published for the wrong meter, or decoded from a wrong
frame, is told apart. A frame that must never be decoded carries 6.19e24
in every register pair.

MODE is one of
    honest      answers every request at once
    wrong-unit  answers with unit id U + 100 and the values of unit U + 1
    wrong-tid   first a frame of another transaction (garbage), then the answer
    extra       the answer, then 20 ms later an extra copy of it (same
                transaction) with garbage
    trickle     the answer, one byte every 150 ms
    truncated   the first half of the answer, then nothing
    oversized   20 registers more than asked, consistently framed
    exc2:FILE   exception 2 (illegal data address) while FILE exists, else honest

usage: hostile_modbus.py READY_FILE PORT=MODE [PORT=MODE ...]
READY_FILE is written once every port listens. Counts of requests per port
and unit go to stderr when the server is stopped (SIGTERM).
"""
import asyncio
import os
import signal
import struct
import sys

GARBAGE = 6.19e24


def truth(unit):
    return {0x0000: 1000.0 + unit + 0.25, 0x0004: 100.0 * unit, 0x0008: 230.0 + unit / 4}


def registers(address, count, values):
    """count big-endian registers from address: float32 pairs where the map
    has a value (values: address -> float, or a float for every pair)."""
    out = bytearray()
    a = address
    while a < address + count:
        v = values if isinstance(values, float) else values.get(a - (a % 2))
        if v is None:
            out += b"\x00\x00"
        else:
            pair = struct.pack(">f", v)
            out += pair[0:2] if a % 2 == 0 else pair[2:4]
        a += 1
    return bytes(out)


def frame(tid, unit, fc, data):
    pdu = bytes([fc, len(data)]) + data
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def exception(tid, unit, fc, code):
    return struct.pack(">HHHBBB", tid, 0, 3, unit, fc | 0x80, code)


counts = {}


async def serve(reader, writer, port, mode):
    try:
        while True:
            req = await reader.readexactly(12)
            tid, _, _, unit, fc, address, count = struct.unpack(">HHHBBHH", req)
            counts[(port, unit)] = counts.get((port, unit), 0) + 1
            good = frame(tid, unit, fc, registers(address, count, truth(unit)))
            if mode == "honest":
                writer.write(good)
            elif mode == "wrong-unit":
                writer.write(frame(tid, (unit + 100) % 256, fc,
                                   registers(address, count, truth(unit + 1))))
            elif mode == "wrong-tid":
                writer.write(frame((tid + 0x100) % 65536, unit, fc,
                                   registers(address, count, GARBAGE)))
                await writer.drain()
                await asyncio.sleep(0.01)
                writer.write(good)
            elif mode == "extra":
                writer.write(good)
                await writer.drain()
                await asyncio.sleep(0.02)
                writer.write(frame(tid, unit, fc, registers(address, count, GARBAGE)))
            elif mode == "trickle":
                for i in range(len(good)):
                    writer.write(good[i:i + 1])
                    await writer.drain()
                    await asyncio.sleep(0.15)
            elif mode == "truncated":
                writer.write(good[:len(good) // 2])
            elif mode == "oversized":
                writer.write(frame(tid, unit, fc, registers(address, count + 20, truth(unit))))
            elif mode.startswith("exc2:"):
                if os.path.exists(mode[5:]):
                    writer.write(exception(tid, unit, fc, 2))
                else:
                    writer.write(good)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(ready, specs):
    servers = []
    for spec in specs:
        port, _, mode = spec.partition("=")
        port = int(port)
        servers.append(await asyncio.start_server(
            lambda r, w, p=port, m=mode: serve(r, w, p, m), "127.0.0.1", port))
    with open(ready, "w") as f:
        f.write("ready\n")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for (port, unit), n in sorted(counts.items()):
        print("port %d unit %d: %d requests" % (port, unit, n), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
