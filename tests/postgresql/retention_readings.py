#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""retention_readings.py - a gateway's polls for the retention test: one
electricity meter (energy counter, power, a voltage) and one water meter
(a pulse counter), polled every INTERVAL seconds from START for DAYS days,
with what retention must not disturb: a glitch (one counter reading far
off, then back), a reset of the water counter to near zero, a gap of two
hours, and a daily load curve so that nights differ from days. Prints the
readings messages, one per line (for mosquitto_pub -l), and writes the last
seq to --last.

  retention_readings.py --site S --gateway G --main M --water W --start ISO
                        --days N [--interval S] --last FILE
"""
import argparse
import datetime
import json
import math


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", required=True)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--main", required=True)
    ap.add_argument("--water", required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--epoch", default="00000000000000b7")
    ap.add_argument("--per-message", type=int, default=500)
    ap.add_argument("--last", required=True)
    args = ap.parse_args()

    t0 = int(datetime.datetime.fromisoformat(args.start.replace("Z", "+00:00")).timestamp()) * 1000
    n = args.days * 86400 // args.interval
    step = args.interval * 1000
    gap = range(n // 3, n // 3 + 7200 // args.interval)      # two hours without polls
    glitch = n // 2                                             # one absurd energy reading
    reset = 2 * n // 3                                          # the water counter restarts
    kwh, m3 = 12345.0, 678.0
    polls = []
    for i in range(n):
        t = t0 + i * step
        hour = (t // 3600000) % 24
        kw = 20.0 + 30.0 * max(0.0, math.sin((hour - 6) / 12 * math.pi)) + (i % 7) * 0.125
        kwh += kw * args.interval / 3600.0
        m3 += (0.002 if 7 <= hour < 19 else 0.0005) * args.interval / 60.0
        if i == reset:
            m3 = 0.01
        if i in gap:
            continue
        energy = kwh if i != glitch else kwh * 40
        # Values rounded to what a meter's register shows: exact in binary
        # and in JSON, and typical of the data (repeats, steps).
        polls.append({"meter": args.main, "t": t,
                      "values": {"energy_import_kwh": round(energy, 2), "power_kw": round(kw, 3),
                                 "voltage_l1_v": round(230.0 + (i % 11) * 0.1, 1)}})
        polls.append({"meter": args.water, "t": t, "values": {"water_m3": round(m3, 3)}})
    for k, p in enumerate(polls, 1):
        p["seq"] = k
    for i in range(0, len(polls), args.per_message):
        body = {"v": 1, "site": args.site, "gateway": args.gateway, "epoch": args.epoch,
                "polls": [dict(seq=p["seq"], meter=p["meter"], t=p["t"], values=p["values"])
                          for p in polls[i:i + args.per_message]]}
        print(json.dumps(body, separators=(",", ":")))
    with open(args.last, "w") as f:
        f.write("%d\n" % len(polls))


if __name__ == "__main__":
    main()
