#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agg_replay.py - a stand-in gateway for the aggregator's tests and benchmark.

It behaves like the agent's outbox toward the aggregator: polls numbered
1..N in one epoch, published with QoS 1 in messages of --per-message polls,
kept until the aggregator's acknowledgement ({"epoch":E,"upto":N}) covers
them, and sent again (same seqs, same content) when no acknowledgement
arrives within --resend-s. It reconnects when the broker goes away. The
values are exact binary fractions, so a sum is an exact checksum.

  agg_replay.py publish --port P --polls N [...] --expected FILE
      exits 0 once every poll is acknowledged (prints a JSON summary)
  agg_replay.py check --db FILE --expected FILE
      compares the database's readings with the expected rows, exactly
  agg_replay.py messages --polls N [...]
      prints the messages, one per line (for mosquitto_pub -l)
  agg_replay.py storm --port P --count N [--seed S]
      publishes N hostile messages (mutated readings, forged topics,
      absurd numbers, broken health and status) as fast as it can, for
      the meters water and kitchen-water only (so that the polls of a
      concurrent `publish` for main, hvac and lifts can be checked apart)
  agg_replay.py from-db --db FILE --meter-list LIST --out-dir DIR [--epoch E]
      the readings of a database as its gateways would have sent them:
      DIR/SITE.GATEWAY.messages (one message a line) and .last (the last
      seq); LIST is `officemeter list --meters` output, SITE<TAB>line

MQTT 3.1.1 is spoken directly over a socket (CONNECT, PUBLISH QoS 1,
SUBSCRIBE, PUBACK, PINGREQ): the test machines have no MQTT library for
Python, and this is all a gateway needs.
"""
import argparse
import json
import os
import random
import select
import socket
import sqlite3
import struct
import subprocess
import sys
import time

QUANTITIES = ("energy_import_kwh", "power_kw", "voltage_l1_v", "voltage_l2_v", "voltage_l3_v",
              "energy_export_kwh", "water_m3", "flow_m3h")


def enc_len(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def enc_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


class Mqtt:
    def __init__(self, port, client_id, clean=True, host="127.0.0.1"):
        self.addr = (host, port)
        self.client_id = client_id
        self.clean = clean
        self.sock = None
        self.buf = b""
        self.next_id = 1
        self.last_ping = 0.0

    def connect(self, timeout=5.0):
        self.close()
        s = socket.create_connection(self.addr, timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        var = enc_str("MQTT") + bytes([4, 0x02 if self.clean else 0]) + struct.pack("!H", 60)
        body = var + enc_str(self.client_id)
        s.sendall(b"\x10" + enc_len(len(body)) + body)
        self.sock = s
        self.buf = b""
        ptype, data = self._read_packet(timeout)
        if ptype != 2 or data[1] != 0:
            raise OSError("connection refused by the broker")
        self.sock.settimeout(None)
        self.last_ping = time.monotonic()

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _pid(self):
        pid = self.next_id
        self.next_id = self.next_id % 65535 + 1
        return pid

    def publish(self, topic, payload, qos=1, retain=False):
        head = 0x30 | (qos << 1) | (1 if retain else 0)
        body = enc_str(topic) + (struct.pack("!H", self._pid()) if qos else b"") + payload
        self.sock.sendall(bytes([head]) + enc_len(len(body)) + body)

    def subscribe(self, topic, qos=1):
        body = struct.pack("!H", self._pid()) + enc_str(topic) + bytes([qos])
        self.sock.sendall(b"\x82" + enc_len(len(body)) + body)

    def _read_packet(self, timeout):
        """One packet (type, body), or (None, None) when none came in time."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf):
                    b = self.buf[i]
                    n += (b & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not b & 0x80:
                        break
                else:
                    i = None
                if i is not None and len(self.buf) >= i + n:
                    ptype = self.buf[0] >> 4
                    flags = self.buf[0] & 0x0F
                    body = self.buf[i:i + n]
                    self.buf = self.buf[i + n:]
                    return ptype, (flags, body) if ptype == 3 else body
            left = deadline - time.monotonic()
            if left <= 0:
                return None, None
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("the broker closed the connection")
                self.buf += chunk

    def poll(self, timeout):
        """Messages (topic, payload) received within timeout."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            ptype, data = self._read_packet(max(0.0, deadline - time.monotonic()))
            if ptype is None:
                break
            if ptype == 3:
                flags, body = data
                tl = struct.unpack("!H", body[:2])[0]
                topic = body[2:2 + tl].decode()
                rest = body[2 + tl:]
                if (flags >> 1) & 3:
                    pid = rest[:2]
                    rest = rest[2:]
                    self.sock.sendall(b"\x40\x02" + pid)
                got.append((topic, rest))
            if time.monotonic() >= deadline:
                break
        if time.monotonic() - self.last_ping > 20:
            self.sock.sendall(b"\xc0\x00")
            self.last_ping = time.monotonic()
        return got


def make_polls(args):
    meters = args.meters.split(",")
    base = int(time.time() * 1000) - args.polls * 1000 - 60000 if args.t0 == 0 else args.t0
    polls = []
    for seq in range(1, args.polls + 1):
        vals = {}
        for q in QUANTITIES[:args.values]:
            # Exact binary fractions: sums are exact, so they are checksums.
            vals[q] = float(seq % 9973) * 0.25 + QUANTITIES.index(q) * 1000.0
        polls.append({"seq": seq, "meter": meters[seq % len(meters)], "t": base + seq * 1000,
                      "values": vals})
    return polls


def make_messages(args, polls):
    msgs = []
    for i in range(0, len(polls), args.per_message):
        chunk = polls[i:i + args.per_message]
        body = {"v": 1, "site": args.site, "gateway": args.gateway, "epoch": args.epoch,
                "polls": chunk}
        msgs.append((chunk[-1]["seq"], json.dumps(body, separators=(",", ":")).encode()))
    return msgs


def write_expected(path, args, polls):
    with open(path, "w") as f:
        for p in polls:
            for q, v in p["values"].items():
                f.write("%s\t%s\t%s\t%d\t%r\n" % (args.site, p["meter"], q, p["t"], v))


def cmd_publish(args):
    polls = make_polls(args)
    msgs = make_messages(args, polls)
    if args.expected:
        write_expected(args.expected, args, polls)
    topic = "officemeter/v1/%s/%s/readings" % (args.site, args.gateway)
    ack_topic = "officemeter/v1/%s/%s/ack" % (args.site, args.gateway)
    client = Mqtt(args.port, "replay-%s-%s" % (args.gateway, args.epoch))
    upto, sends, resends, reconnects = 0, 0, 0, 0
    sent_at = {}  # message index -> monotonic time of its last send
    start = time.monotonic()
    deadline = start + args.timeout
    connected = False
    while upto < args.polls and time.monotonic() < deadline:
        try:
            if not connected:
                client.connect()
                client.subscribe(ack_topic, 1)
                connected = True
                if sends:
                    reconnects += 1
                    sent_at.clear()  # like the outbox after a reconnect: all due again
            now = time.monotonic()
            for i, (last_seq, payload) in enumerate(msgs):
                if last_seq <= upto:
                    continue
                t = sent_at.get(i)
                if t is not None and now - t < args.resend_s:
                    continue
                if len(sent_at) and t is None and args.window and \
                        sum(1 for k in sent_at if msgs[k][0] > upto) >= args.window:
                    break
                client.publish(topic, payload)
                if args.duplicate:
                    client.publish(topic, payload)
                if t is not None:
                    resends += 1
                sends += 1
                sent_at[i] = now
                if args.progress and sends == args.progress_after:
                    open(args.progress, "w").write("%d\n" % sends)
            for t, body in client.poll(0.05):
                ack = json.loads(body)
                if ack.get("epoch") == args.epoch and ack.get("upto", 0) > upto:
                    upto = ack["upto"]
        except OSError:
            connected = False
            client.close()
            time.sleep(0.2)
    elapsed = time.monotonic() - start
    client.close()
    summary = {"polls": args.polls, "acked_upto": upto, "messages": len(msgs), "sends": sends,
               "resends": resends, "reconnects": reconnects, "seconds": round(elapsed, 3),
               "readings": sum(len(p["values"]) for p in polls)}
    print(json.dumps(summary))
    return 0 if upto >= args.polls else 1


def cmd_messages(args):
    for _, payload in make_messages(args, make_polls(args)):
        sys.stdout.buffer.write(payload + b"\n")
    return 0


# ---- the storm --------------------------------------------------------------

EXTREMES = [b"9223372036854775807", b"-9223372036854775808", b"9007199254740993",
            b"9223372036854775808", b"1e400", b"-1e400", b"NaN", b"Infinity", b"-0", b"0",
            b"-1", b"4611686018427387904", b"1e308", b"\"12\"", b"null", b"true", b"[]", b"{}",
            b"18446744073709551615", b"0.1e-400"]


def storm_base(rng, args, now_ms):
    """A valid readings message of the storm's own meters and epoch."""
    seq = rng.randint(1, 5000)
    polls = []
    for k in range(rng.randint(1, 4)):
        meter = rng.choice(["water", "kitchen-water"])
        polls.append({"seq": seq + k, "meter": meter, "t": now_ms - rng.randint(0, 10 ** 7),
                      "values": {"water_m3": rng.randint(0, 10 ** 6) / 4.0,
                                 "flow_m3h": rng.uniform(-5, 5)}})
    body = {"v": 1, "site": args.site, "gateway": args.gateway,
            "epoch": "%016x" % rng.choice([0xf1, 0xf2, rng.getrandbits(64)]), "polls": polls}
    if rng.random() < 0.2:
        body["skipped"] = [[1, max(1, seq - 1)]]
    return json.dumps(body, separators=(",", ":")).encode()


def mutate(rng, data):
    """One to four blind mutations: flips, cuts, splices, extreme numbers."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        if not data:
            data = bytearray(b"{")
        i = rng.randrange(len(data))
        if op == 0:
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[i:i + rng.randint(1, 16)]
        elif op == 2:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3:
            data = data[:i]
        elif op == 4:
            j = rng.randrange(len(data))
            data[i:i] = data[j:j + rng.randint(1, 64)]
        else:
            # Replace a number with an extreme one: where overflows hide.
            digits = [k for k in range(len(data)) if 48 <= data[k] <= 57]
            if digits:
                k = rng.choice(digits)
                a = k
                while a > 0 and 48 <= data[a - 1] <= 57:
                    a -= 1
                b = k
                while b < len(data) and 48 <= data[b] <= 57:
                    b += 1
                data[a:b] = rng.choice(EXTREMES)
    return bytes(data)


def storm_message(rng, args, now_ms):
    """(topic, payload) of one hostile message."""
    site, gw = args.site, args.gateway
    readings = "officemeter/v1/%s/%s/readings" % (site, gw)
    kind = rng.randrange(12)
    if kind < 6:
        return readings, mutate(rng, storm_base(rng, args, now_ms))
    if kind == 6:
        depth = rng.choice([9, 100, 10000])
        return readings, b'{"v":1,"polls":' + b"[" * depth + b"]" * depth + b"}"
    if kind == 7:
        counters = {"timeouts": int(rng.choice(EXTREMES[:2] + EXTREMES[10:12])) if rng.random() < 0.9 else 1,
                    "crc_errors": rng.choice([1, 2 ** 62, 2 ** 63 - 1]),
                    "exceptions": rng.choice([0, -5, 2 ** 62])}
        body = {"v": 1, "outbox": {"depth": rng.choice([0, 2 ** 63 - 1, -1])},
                "meters": {"water": counters, "kitchen-water": dict(counters)}}
        return ("officemeter/v1/%s/%s/health" % (site, gw),
                mutate(rng, json.dumps(body).encode()) if rng.random() < 0.3 else json.dumps(body).encode())
    if kind == 8:
        body = rng.choice([b'{"v":1,"state":"online"}', b'{"v":1,"state":"offline"}',
                           b'{"v":1,"state":"' + b"x" * 300 + b'"}', b"", b"\x00\xff",
                           b'{"v":1,"state":17}'])
        return "officemeter/v1/%s/%s/status" % (site, gw), body
    if kind == 9:
        # Another gateway and another site: quarantine, forged topics.
        topic = rng.choice(["officemeter/v1/%s/gw-x/readings" % site,
                            "officemeter/v1/london/%s/readings" % gw,
                            "officemeter/v1/new-site/gw1/readings",
                            "officemeter/v1/%s/%s/ack" % (site, gw),
                            "officemeter/v1/%s/%s/readings/extra" % (site, gw),
                            "officemeter/v1/UPPER/%s/readings" % gw])
        return topic, storm_base(rng, args, now_ms)
    if kind == 10:
        # The seq of the contract's edge and beyond (defect 2).
        seq = rng.choice([2 ** 53, 2 ** 53 + 1, 2 ** 63 - 1, 0, -1])
        body = {"v": 1, "site": site, "gateway": gw, "epoch": "00000000000000f3",
                "polls": [{"seq": seq, "meter": "water", "t": now_ms - 1000,
                           "values": {"water_m3": 1.0}}]}
        if rng.random() < 0.5:
            body["skipped"] = [[1, seq - 1]]
        return readings, json.dumps(body).encode()
    return readings, bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))


def cmd_storm(args):
    rng = random.Random(args.seed)
    client = Mqtt(args.port, "storm-%d" % args.seed)
    client.connect()
    now_ms = int(time.time() * 1000)
    sent = 0
    for i in range(args.count):
        topic, payload = storm_message(rng, args, now_ms)
        client.publish(topic, payload, qos=1)
        sent += 1
        if i % 200 == 0:
            client.poll(0.001)  # answers PUBACKs' company: keeps the socket drained
    client.poll(0.5)
    client.close()
    print(json.dumps({"storm": sent, "seed": args.seed}))
    return 0


READINGS_SQL = ("SELECT m.site, m.meter, q.name, r.t, r.value FROM readings r "
                "JOIN meters m ON m.id = r.meter JOIN quantities q ON q.id = r.quantity")


def db_rows(db, sql):
    """Rows of a SQLite file or a PostgreSQL URI (through psql: the test
    machines have no PostgreSQL module for Python). Numbers come back as
    int or float: the server's float8 text (extra_float_digits = 3) and
    Python's float() are both exact."""
    if not db.startswith(("postgresql://", "postgres://")):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        con.execute("PRAGMA busy_timeout = 5000")
        return list(con.execute(sql))
    psql = os.path.join(os.environ.get("OM_PG_BIN", ""), "psql") if os.environ.get("OM_PG_BIN") \
        else "psql"
    out = subprocess.run([psql, "-X", "-A", "-t", "-q", "-F", "\t", "-d", db, "-c",
                          "SET extra_float_digits = 3", "-c", sql],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    rows = []
    for line in out.splitlines():
        if not line:
            continue
        row = []
        for v in line.split("\t"):
            try:
                row.append(int(v))
            except ValueError:
                try:
                    row.append(float(v))
                except ValueError:
                    row.append(v)
        rows.append(tuple(row))
    return rows


def cmd_check(args):
    want = set()
    with open(args.expected) as f:
        for line in f:
            site, meter, q, t, v = line.rstrip("\n").split("\t")
            want.add((site, meter, q, int(t), float(v)))
    rows = [(r[0], r[1], r[2], r[3], float(r[4])) for r in db_rows(args.db, READINGS_SQL)]
    only = set(args.only_meters.split(",")) if args.only_meters else None
    have = set()
    dup = 0
    for row in rows:
        if only is not None and row[1] not in only:
            continue
        if row in have:
            dup += 1
        have.add(row)
    missing = want - have
    extra = have - want
    ok = not missing and not extra and not dup
    print(json.dumps({"expected": len(want), "stored": len(have), "missing": len(missing),
                      "extra": len(extra), "duplicates": dup,
                      "sum_expected": sum(r[4] for r in want), "sum_stored": sum(r[4] for r in have)}))
    for r in sorted(missing)[:5]:
        print("missing: %r" % (r,), file=sys.stderr)
    for r in sorted(extra)[:5]:
        print("extra: %r" % (r,), file=sys.stderr)
    return 0 if ok else 1


def cmd_from_db(args):
    gateway_of = {}
    with open(args.meter_list) as f:
        for line in f:
            site, meter, gateway = line.rstrip("\n").split("\t")[:3]
            gateway_of[(site, meter)] = gateway
    polls = {}  # (site, gateway) -> {(t, meter): values}
    for site, meter, q, t, v in db_rows(args.db, READINGS_SQL):
        gw = gateway_of[(site, meter)]
        polls.setdefault((site, gw), {}).setdefault((t, meter), {})[q] = float(v)
    os.makedirs(args.out_dir, exist_ok=True)
    for (site, gw), by_key in sorted(polls.items()):
        seq = 0
        with open(os.path.join(args.out_dir, "%s.%s.messages" % (site, gw)), "w") as out:
            keys = sorted(by_key)
            for i in range(0, len(keys), args.per_message):
                chunk = []
                for t, meter in keys[i:i + args.per_message]:
                    seq += 1
                    values = {q: by_key[(t, meter)][q] for q in sorted(by_key[(t, meter)])}
                    chunk.append({"seq": seq, "meter": meter, "t": t, "values": values})
                body = {"v": 1, "site": site, "gateway": gw, "epoch": args.epoch, "polls": chunk}
                out.write(json.dumps(body, separators=(",", ":")) + "\n")
        with open(os.path.join(args.out_dir, "%s.%s.last" % (site, gw)), "w") as f:
            f.write("%d\n" % seq)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["publish", "check", "messages", "storm", "from-db"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--site", default="sim-office")
    ap.add_argument("--gateway", default="gw1")
    ap.add_argument("--epoch", default="00000000000000e1")
    ap.add_argument("--meters", default="main,hvac,lifts")
    ap.add_argument("--polls", type=int, default=100)
    ap.add_argument("--values", type=int, default=2, help="quantities per poll (1..8)")
    ap.add_argument("--per-message", type=int, default=50)
    ap.add_argument("--t0", type=int, default=0, help="time of seq 0 (ms); 0: now - polls s")
    ap.add_argument("--resend-s", type=float, default=2.0)
    ap.add_argument("--window", type=int, default=0, help="messages in flight at most (0: all)")
    ap.add_argument("--duplicate", action="store_true", help="publish every message twice")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--expected")
    ap.add_argument("--progress", help="file written after --progress-after sends")
    ap.add_argument("--progress-after", type=int, default=1)
    ap.add_argument("--db", help="a SQLite file or a postgresql:// URI")
    ap.add_argument("--only-meters", help="check: compare the readings of these meters only")
    ap.add_argument("--count", type=int, default=1000, help="storm: messages")
    ap.add_argument("--seed", type=int, default=13, help="storm: the random seed")
    ap.add_argument("--meter-list", help="from-db: SITE<TAB>`officemeter list --meters` lines")
    ap.add_argument("--out-dir")
    args = ap.parse_args()
    return {"publish": cmd_publish, "check": cmd_check, "messages": cmd_messages,
            "storm": cmd_storm, "from-db": cmd_from_db}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
