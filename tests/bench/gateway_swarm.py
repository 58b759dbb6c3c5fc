#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gateway_swarm.py - many stand-in gateways from one process, for the
many-gateways benchmark (bench_many_gateways.sh).

Each gateway holds one MQTT connection (3.1.1, spoken over a non-blocking
socket; one epoll loop carries them all), subscribes to its ack topic and,
every --interval-s seconds, publishes one readings message with one poll
of each of its meters (seqs 1, 2, … in one epoch, as an agent's outbox
numbers them). Gateways are spread evenly over the interval, as real ones
are. A message is kept until the aggregator's acknowledgement covers its
last seq, and sent again (same seqs, same content) after --resend-s.

What it measures: the ack latency of every message (publish to the ack
that covers it), the messages resent, and what was sent. It prints one
JSON summary at the end, after a drain of at most --drain-s in which
nothing new is published.

  gateway_swarm.py sites --dir DIR --sites S --gateways G --meters M
      writes the site files of the swarm (S sites x G gateways x M meters)
  gateway_swarm.py run --port P --sites S --gateways G --meters M
      --duration-s D [--interval-s 60] [--resend-s 10] [--drain-s 60]
"""
import argparse
import heapq
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from agg_replay import enc_len, enc_str  # noqa: E402  (the stand-in gateway's MQTT encoding)

VALUES = ("energy_import_kwh", "power_kw", "voltage_l1_v")


def site_id(s):
    return "s%04d" % s


def write_sites(args):
    os.makedirs(args.dir, exist_ok=True)
    for s in range(args.sites):
        lines = ["site: %s" % site_id(s), "name: Swarm office %d" % s,
                 "timezone: Europe/London", "grid_region: UK",
                 "floor_area_m2:", "  - {from: 2020-01-01, m2: 2000}", "gateways:"]
        for g in range(args.gateways):
            lines += ["  - id: g%d" % g, "    buses:",
                      "      - {id: rs485, rtu: {device: /dev/ttyUSB0, baud: 9600, parity: N,"
                      " data_bits: 8, stop_bits: 1}}"]
        lines.append("meters:")
        for g in range(args.gateways):
            for m in range(args.meters):
                lines.append("  - {id: g%d-m%02d, model: eastron-sdm630, gateway: g%d, bus: rs485,"
                             " unit_id: %d, utility: electricity, role: %s}"
                             % (g, m, g, m + 1, "main" if g == 0 and m == 0 else "sub"))
        with open(os.path.join(args.dir, site_id(s) + ".yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")


class Gateway:
    """One connection, its outbox of unacknowledged messages, its timings."""

    def __init__(self, site, gw, meters, epoch):
        self.site, self.gw, self.meters, self.epoch = site, gw, meters, epoch
        self.topic = "officemeter/v1/%s/%s/readings" % (site, gw)
        self.ack_topic = "officemeter/v1/%s/%s/ack" % (site, gw)
        self.sock = None
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.ready = False
        self.next_seq = 1
        self.next_pid = 1
        self.pending = []          # [last_seq, payload, first_sent, last_sent]
        self.energy = [random.uniform(1000, 90000) for _ in range(meters)]
        self.next_poll = 0.0
        self.last_io = 0.0

    def pid(self):
        p = self.next_pid
        self.next_pid = self.next_pid % 65535 + 1
        return p

    def send(self, data):
        self.wbuf += data

    def publish(self, payload):
        body = enc_str(self.topic) + struct.pack("!H", self.pid()) + payload
        self.send(bytes([0x32]) + enc_len(len(body)) + body)

    def message(self, now_ms):
        polls = []
        for m in range(self.meters):
            self.energy[m] += random.uniform(0.01, 0.5)
            polls.append({"seq": self.next_seq, "meter": "%s-m%02d" % (self.gw, m), "t": now_ms,
                          "values": {"energy_import_kwh": round(self.energy[m], 3),
                                     "power_kw": round(random.uniform(1, 60), 3),
                                     "voltage_l1_v": round(random.uniform(228, 242), 1)}})
            self.next_seq += 1
        body = {"v": 1, "site": self.site, "gateway": self.gw, "epoch": self.epoch,
                "polls": polls}
        return self.next_seq - 1, json.dumps(body, separators=(",", ":")).encode()


class Swarm:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.gws = []
        rnd = random.Random(args.seed)
        random.seed(args.seed)
        for s in range(args.sites):
            for g in range(args.gateways):
                epoch = "%016x" % rnd.getrandbits(64)
                self.gws.append(Gateway(site_id(s), "g%d" % g, args.meters, epoch))
        self.latencies = []
        self.sent_messages = 0
        self.resent = 0
        self.polls = 0
        self.connect_errors = 0
        self.lost_connections = 0

    # ---- connections --------------------------------------------------
    def connect(self, gw):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect(("127.0.0.1", self.args.port))
        except BlockingIOError:
            pass
        gw.sock, gw.rbuf, gw.wbuf, gw.ready = s, bytearray(), bytearray(), False
        cid = "swarm-%s-%s" % (gw.site, gw.gw)
        var = enc_str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 120)
        body = var + enc_str(cid)
        gw.send(b"\x10" + enc_len(len(body)) + body)
        gw.last_io = time.monotonic()
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, gw)

    def drop(self, gw):
        try:
            self.sel.unregister(gw.sock)
        except (KeyError, ValueError):
            pass
        gw.sock.close()
        gw.sock = None
        gw.ready = False
        self.lost_connections += 1

    def flush(self, gw):
        if not gw.wbuf:
            return
        try:
            n = gw.sock.send(gw.wbuf)
            del gw.wbuf[:n]
        except (BlockingIOError, InterruptedError):
            pass

    # ---- packets ------------------------------------------------------
    def packets(self, gw):
        buf = gw.rbuf
        while len(buf) >= 2:
            n, mult, i = 0, 1, 1
            while i < len(buf):
                b = buf[i]
                n += (b & 0x7F) * mult
                mult *= 128
                i += 1
                if not b & 0x80:
                    break
            else:
                return
            if len(buf) < i + n:
                return
            head, body = buf[0], bytes(buf[i:i + n])
            del buf[:i + n]
            yield head, body

    def on_packet(self, gw, head, body, now):
        ptype = head >> 4
        if ptype == 2:                      # CONNACK
            if body[1] != 0:
                raise OSError("connection refused: %d" % body[1])
            sub = struct.pack("!H", gw.pid()) + enc_str(gw.ack_topic) + b"\x01"
            gw.send(b"\x82" + enc_len(len(sub)) + sub)
        elif ptype == 9:                    # SUBACK: resend what is pending
            gw.ready = True
            for p in gw.pending:
                gw.publish(p[1])
                p[3] = now
                self.resent += 1
        elif ptype == 3:                    # PUBLISH: an acknowledgement
            tl = struct.unpack("!H", body[:2])[0]
            rest = body[2 + tl:]
            if (head >> 1) & 3:
                gw.send(b"\x40\x02" + rest[:2])
                rest = rest[2:]
            ack = json.loads(rest)
            if ack.get("epoch") != gw.epoch:
                return
            upto = ack["upto"]
            while gw.pending and gw.pending[0][0] <= upto:
                p = gw.pending.pop(0)
                if self.measuring:
                    self.latencies.append(now - p[2])

    def on_event(self, gw, mask, now):
        if mask & selectors.EVENT_WRITE:
            self.flush(gw)
        if mask & selectors.EVENT_READ:
            try:
                chunk = gw.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                chunk = None
            except OSError:
                chunk = b""
            if chunk == b"":
                self.drop(gw)
                return
            if chunk:
                gw.rbuf += chunk
                gw.last_io = now
                for head, body in self.packets(gw):
                    self.on_packet(gw, head, body, now)
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if gw.wbuf else 0)
        self.sel.modify(gw.sock, want, gw)

    # ---- the run ------------------------------------------------------
    def kick(self, gw):
        """Sends what is buffered; asks for writability if some is left."""
        self.flush(gw)
        if gw.wbuf:
            self.sel.modify(gw.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, gw)

    def poll_once(self, gw, now):
        last, payload = gw.message(int(time.time() * 1000))
        gw.pending.append([last, payload, now, now])
        if gw.ready:
            gw.publish(payload)
            self.kick(gw)
        self.sent_messages += 1
        self.polls += gw.meters

    def sweep(self, now):
        """Once a second: connections, resends, keepalive."""
        for gw in self.gws:
            if gw.sock is None:
                if now >= gw.connect_at:
                    self.connect(gw)
                continue
            if not gw.ready:
                continue
            for p in gw.pending:
                if now - p[3] >= self.args.resend_s:
                    gw.publish(p[1])
                    p[3] = now
                    self.resent += 1
            if now - gw.last_io >= 60:
                gw.send(b"\xc0\x00")            # PINGREQ
                gw.last_io = now
            if gw.wbuf:
                self.kick(gw)

    def run(self):
        a = self.args
        start = time.monotonic()
        n = len(self.gws)
        heap = []
        for i, gw in enumerate(self.gws):
            # Spread the connections over connect_s, the polls over the interval.
            gw.connect_at = start + a.connect_s * i / n
            heap.append((start + a.connect_s + a.interval_s * i / n, i))
        heapq.heapify(heap)
        self.measuring = False
        publish_from = start + a.connect_s
        measure_from = publish_from + a.interval_s    # the first round warms up
        publish_until = publish_from + a.interval_s + a.duration_s
        next_sweep = start
        while True:
            now = time.monotonic()
            self.measuring = now >= measure_from
            if now >= next_sweep:
                self.sweep(now)
                next_sweep = now + (0.2 if now < publish_from else 1.0)
            while heap and heap[0][0] <= now and now < publish_until:
                t, i = heapq.heappop(heap)
                self.poll_once(self.gws[i], now)
                heapq.heappush(heap, (t + a.interval_s, i))
            wait = min(next_sweep, heap[0][0]) - time.monotonic()
            for key, mask in self.sel.select(timeout=max(0.0, min(wait, 0.05))):
                self.on_event(key.data, mask, time.monotonic())
            if now >= publish_until:
                left = sum(len(g.pending) for g in self.gws)
                if left == 0 or now - publish_until > a.drain_s:
                    break
        unacked = sum(len(g.pending) for g in self.gws)
        lat = sorted(self.latencies)

        def pct(q):
            return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1) if lat else None
        return {"gateways": n, "meters_per_gateway": a.meters, "interval_s": a.interval_s,
                "messages": self.sent_messages, "polls": self.polls,
                "readings": self.polls * len(VALUES), "resent": self.resent,
                "unacked": unacked, "lost_connections": self.lost_connections,
                "acks_measured": len(lat), "ack_ms_p50": pct(0.50), "ack_ms_p99": pct(0.99),
                "ack_ms_max": round(lat[-1] * 1000, 1) if lat else None,
                "swarm_cpu_s": round(time.process_time(), 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("sites", "run"):
        p = sub.add_parser(name)
        p.add_argument("--sites", type=int, required=True)
        p.add_argument("--gateways", type=int, required=True)
        p.add_argument("--meters", type=int, required=True)
    sub.choices["sites"].add_argument("--dir", required=True)
    r = sub.choices["run"]
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--duration-s", type=float, required=True)
    r.add_argument("--interval-s", type=float, default=60)
    r.add_argument("--connect-s", type=float, default=20)
    r.add_argument("--resend-s", type=float, default=10)
    r.add_argument("--drain-s", type=float, default=60)
    r.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "sites":
        write_sites(args)
        return 0
    summary = Swarm(args).run()
    print(json.dumps(summary))
    return 0 if summary["unacked"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
