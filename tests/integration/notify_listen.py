#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""notify_listen.py - stand in for systemd's notification socket.

Binds an AF_UNIX datagram socket at PATH (as systemd does for a Type=notify
unit), asks the kernel for each sender's credentials, and appends one JSON
line per datagram to OUT: {"t": monotonic seconds, "pid": sender's pid,
"msg": the datagram's text}. Writes PATH.ready once bound; runs until killed.

    notify_listen.py PATH OUT
"""
import json
import socket
import struct
import sys
import time

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(path)
with open(path + ".ready", "w") as f:
    f.write("listening\n")
ucred = struct.calcsize("3i")
with open(out, "a", buffering=1) as log:
    while True:
        data, anc, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(ucred))
        pid = 0
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", payload[:ucred])[0]
        log.write(json.dumps({"t": time.monotonic(), "pid": pid,
                              "msg": data.decode("utf-8", "replace")}) + "\n")
