#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""modbus_count_proxy.py - a Modbus TCP proxy that counts what crosses it.

Listens on LISTEN_PORT, forwards every connection to 127.0.0.1:TARGET_PORT,
and records each request frame (MBAP length, unit, function, address, count)
with its time, and the bytes in both directions. The agent benchmark puts it
between a Modbus client (the agent, or collectd's modbus plugin) and the
simulator, so both clients are measured the same way.

Writes OUT (JSON) twice a second and at exit:
  {"requests": N, "bytes_sent": N, "bytes_received": N,
   "frames": [[t, unit, function, address, count], ...]}

usage: modbus_count_proxy.py LISTEN_PORT TARGET_PORT OUT
"""
import asyncio
import json
import os
import signal
import struct
import sys
import time

listen_port, target_port, out_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
stats = {"requests": 0, "bytes_sent": 0, "bytes_received": 0, "frames": []}


def dump():
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(stats, f)
    os.replace(tmp, out_path)


async def client_to_server(reader, writer):
    buf = b""
    while True:
        data = await reader.read(4096)
        if not data:
            break
        stats["bytes_sent"] += len(data)
        buf += data
        while len(buf) >= 7:
            length = struct.unpack(">H", buf[4:6])[0]
            if len(buf) < 6 + length:
                break
            frame, buf = buf[:6 + length], buf[6 + length:]
            unit, function = frame[6], frame[7]
            address, count = struct.unpack(">HH", frame[8:12]) if len(frame) >= 12 else (0, 0)
            stats["requests"] += 1
            stats["frames"].append([time.monotonic(), unit, function, address, count])
        writer.write(data)
        await writer.drain()
    writer.close()


async def server_to_client(reader, writer):
    while True:
        data = await reader.read(4096)
        if not data:
            break
        stats["bytes_received"] += len(data)
        writer.write(data)
        await writer.drain()
    writer.close()


async def handle(creader, cwriter):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cwriter.close()
        return
    await asyncio.gather(client_to_server(creader, swriter), server_to_client(sreader, cwriter),
                         return_exceptions=True)


async def periodic():
    while True:
        await asyncio.sleep(0.5)
        dump()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    task = asyncio.ensure_future(periodic())
    async with server:
        await stop
    task.cancel()
    dump()


asyncio.run(main())
