#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_report_e2e.sh - the whole chain: the simulator in accelerated time (600
# simulated seconds per real second) -> officemeter-agent -> mosquitto ->
# officemeter-aggregator -> officemeter rollup -> officemeter report, and the
# report's figures against the simulator's own integrated consumption (its
# --state "true" values).
#
# The agent stamps readings with its own (real) clock, one reading a second,
# each second holding ten simulated minutes. The report therefore counts the
# consumption between the first and the last reading of each meter, and the
# simulator's integral over its whole run differs from it by what was used
# before the first reading and after the last one. That is the bound checked
# (docs/methodology.md, "Interpolation bound"; here the period's boundaries lie
# outside the data, so the curve is clipped to the data instead of being
# interpolated, and the clipped head and tail are the error):
#     0 <= true - report <= max rate x (head + tail) + 2 counter quanta
# with head and tail in simulated time, measured from the real clock around
# the simulator's start and stop. Also checked: the report equals the
# difference of the last and first stored readings (nothing lost or added
# between agent and report), and the rollup's month equals the report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

SPEED=600
FIX="$OM_SOURCE_DIR/tests/data/report/e2e"
SITE="$FIX/e2e-office.yaml"
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

om_start_broker
om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$FIX"
om_start_aggregator "$OM_TMP/agg.yaml"
DB="$OM_TMP/agg.db"
om_wait_aggregator_subscribed "$OM_BROKER_PORT" e2e-office gw1 "$DB"

rtu=$(om_free_port)
lan=$(om_free_port)
BUSES=(--bus rs485-1=tcp:127.0.0.1:"$rtu" --bus lan=tcp:127.0.0.1:"$lan")
r0=$(now_ms)
om_start_sim --site "$SITE" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" "${BUSES[@]}" \
    --speed "$SPEED" --start 2024-03-05T09:00:00Z --state "$OM_TMP/state.json"
SIM_PID=$OM_SIM_PID

OM_AGENT_INTERVALS='{counters_s: 1, instant_s: 1, health_s: 5, backoff_max_s: 2}'
om_agent_config "$OM_TMP/agent.yaml" "$SITE" gw1
om_start_agent "$OM_TMP/agent.yaml" "${BUSES[@]}"

om_log "collecting readings for about 12 s (2 simulated hours)"
count() {
    om_sql "$DB" "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter JOIN quantities q ON q.id = r.quantity WHERE m.meter = '$1' AND q.name = '$2'"
}
for i in $(seq 1 300); do
    [ "$(count main energy_import_kwh)" -ge 12 ] && [ "$(count water water_m3)" -ge 12 ] && break
    kill -0 "$OM_AGENT_PID" 2>/dev/null || om_fail "the agent exited"
    sleep 0.1
done
[ "$(count main energy_import_kwh)" -ge 12 ] || om_fail "fewer than 12 readings of main after 30 s"
om_stop_agent
kill -TERM "$SIM_PID"
om_wait_exit "$SIM_PID" 10
r_end=$(now_ms)
# Every poll the agent published and the aggregator acknowledged is stored.
sleep 0.3

year=$(python3 -c "import time; print(time.gmtime($r0 / 1000).tm_year)")
end_year=$(python3 -c "import time; print(time.gmtime($r_end / 1000).tm_year)")
ARGS=(--config "$OM_TMP/agg.yaml" --now "$(date -u -d "@$(( r_end / 1000 + 1 ))" +%Y-%m-%dT%H:%M:%SZ)")
for y in $(seq "$year" "$end_year"); do
    "$OM_BIN/officemeter" report "${ARGS[@]}" --year "$y" --format json -o "$OM_TMP/report-$y.json" \
        2>>"$OM_TMP/report.log" || { cat "$OM_TMP/report.log" >&2; om_fail "report $y failed"; }
done
month=$(date -u -d "@$(( r0 / 1000 ))" +%Y-%m)
mkdir "$OM_TMP/out"
"$OM_BIN/officemeter" rollup "${ARGS[@]}" --month "$month" --out "$OM_TMP/out" >"$OM_TMP/rollup.txt"
cat "$OM_TMP/rollup.txt" >&2

om_sql "$DB" "SELECT m.meter, q.name, r.t, r.value FROM readings r JOIN meters m ON m.id = r.meter JOIN quantities q ON q.id = r.quantity ORDER BY m.meter, q.name, r.t" >"$OM_TMP/readings.txt"

python3 - "$OM_TMP/state.json" "$OM_TMP/readings.txt" "$r0" "$r_end" "$SPEED" "$OM_TMP/out/e2e-office-$month.csv" "$OM_TMP"/report-*.json <<'PY' || om_fail "the report does not match the simulator (see above)"
import csv, json, sys
state = json.load(open(sys.argv[1]))["meters"]
r0, r_end, speed = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rollup_csv, reports = sys.argv[6], sys.argv[7:]
series = {}
for line in open(sys.argv[2]):
    meter, q, t, v = line.strip().split("|")
    series.setdefault((meter, q), []).append((int(t), float(v)))

def sum_reports(get):
    total, seen = 0.0, False
    for path in reports:
        site = json.load(open(path))["sites"][0]
        v = get(site)
        if v is not None:
            total += v
            seen = True
    return total if seen else None

# (meter, quantity, report figure, unit factor, max rate per simulated hour, quantum)
# Max rates from docs/simulator.md: main electricity peaks at about 60 kW x 1.2 (seed)
# x 1.05 (noise); water at 1.5 x about 1.2 m3/h (taken as 2.0).
checks = [
    ("main", "energy_import_kwh", sum_reports(lambda s: s["energy_mwh"]), 1000.0, 76.0, 0.016),
    ("water", "water_m3", sum_reports(lambda s: s["water_t"]), 1.0, 2.0, 0.01),
]
problems = []
for meter, q, figure, scale, max_rate, quantum in checks:
    pts = series.get((meter, q), [])
    if len(pts) < 12 or figure is None:
        problems.append("%s: %d readings, report figure %r" % (meter, len(pts), figure))
        continue
    reported = figure * scale
    stored = pts[-1][1] - pts[0][1]
    true = state[meter]["true"][q]
    head_h = (pts[0][0] - r0) / 3600000.0 * speed
    tail_h = (r_end - pts[-1][0]) / 3600000.0 * speed
    bound = max_rate * (head_h + tail_h) + 2 * quantum
    print("%s: report %.6f, stored last-first %.6f, simulator true %.6f, missed %.6f "
          "(bound %.6f: head %.3f h, tail %.3f h simulated)" %
          (meter, reported, stored, true, true - reported, bound, head_h, tail_h), file=sys.stderr)
    if abs(reported - stored) > 1e-9 * max(1.0, abs(stored)):
        problems.append("%s: report %r != last - first stored reading %r" % (meter, reported, stored))
    if not (-2 * quantum <= true - reported <= bound):
        problems.append("%s: simulator %r - report %r = %r outside [%r, %r]" %
                        (meter, true, reported, true - reported, -2 * quantum, bound))
    if true < 1 and meter == "main":
        problems.append("main: the simulator counted almost nothing (%r kWh)" % true)

# The month's rollup CSV: the site total equals the report (one month holds the run
# unless it crossed a month boundary, then the report is larger).
rows = {r["meter"] + "/" + r["utility"]: r for r in csv.DictReader(open(rollup_csv, newline=""))}
for key, check in (("(site total)/electricity", checks[0]), ("(site total)/water", checks[1])):
    got = float(rows[key]["consumption"])
    want = check[2] * check[3]
    if got > want + 1e-6 or (len(reports) == 1 and abs(got - want) > 1e-6 * max(1, want)):
        problems.append("rollup %s %r vs report %r" % (key, got, want))
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "ok"
