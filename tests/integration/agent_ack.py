#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_ack.py - plays the aggregator for the agent's integration tests.

Reads `mosquitto_sub -v` lines ("topic payload") of readings messages from
stdin, records every poll (one JSON object per line, with its epoch and the
message's arrival order) in OUT, and acknowledges like the aggregator: per
(gateway, epoch), the highest seq up to which every seq was received or
listed as skipped, published with mosquitto_pub to the gateway's ack topic.

While the file PAUSE exists (optional) nothing is acknowledged: the
aggregator is down, or slow.

usage: agent_ack.py PORT OUT [PAUSE [--cafile CA]]
(with --cafile, acknowledgements are published over TLS)
"""
import json
import os
import subprocess
import sys

port, out_path = sys.argv[1], sys.argv[2]
pause = sys.argv[3] if len(sys.argv) > 3 else None
tls = sys.argv[4:6] if len(sys.argv) > 5 and sys.argv[4] == "--cafile" else []
seen = {}   # (site, gateway, epoch) -> set of seqs received or skipped
upto = {}   # (site, gateway, epoch) -> last acknowledged
out = open(out_path, "a", buffering=1)
message = 0

for line in sys.stdin:
    topic, _, payload = line.rstrip("\n").partition(" ")
    if not topic.endswith("/readings"):
        continue
    try:
        msg = json.loads(payload)
    except ValueError:
        print("agent_ack: not JSON on %s" % topic, file=sys.stderr)
        continue
    message += 1
    key = (msg["site"], msg["gateway"], msg["epoch"])
    seqs = seen.setdefault(key, set())
    for first, last in msg.get("skipped", []):
        seqs.update(range(first, last + 1))
    for poll in msg["polls"]:
        seqs.add(poll["seq"])
        rec = dict(poll)
        rec["epoch"] = msg["epoch"]
        rec["message"] = message
        out.write(json.dumps(rec, sort_keys=True) + "\n")
    if pause and os.path.exists(pause):
        continue
    n = upto.get(key, 0)
    while n + 1 in seqs:
        n += 1
    upto[key] = n
    if n == 0:
        continue
    ack = json.dumps({"v": 1, "epoch": msg["epoch"], "upto": n})
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1"] + tls + [
                    "-t", "officemeter/v1/%s/%s/ack" % (msg["site"], msg["gateway"]),
                    "-m", ack], check=False)
