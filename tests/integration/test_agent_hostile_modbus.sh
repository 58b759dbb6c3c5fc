#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_hostile_modbus.sh - the agent and the probe against a Modbus TCP
# server that answers wrongly on purpose (hostile_modbus.py; issue 13,
# defects 3, 4 and 5): a wrong unit id, a frame of another transaction
# before the answer, an extra frame after it, an answer dribbled a byte
# every 150 ms, one cut in half, one with more registers than asked. One
# bus answers honestly.
#
# Nothing wrong is ever published: every published value is exactly the
# one of the meter's own unit; the meters whose device never answers right
# publish nothing and their errors say why (naming unit and bus). The
# honest bus keeps its 1 s interval, every tick, while the trickling bus
# overruns its own (logged naming it). The probe refuses the wrong unit
# and the garbled frame, and reads through the stale and the extra frame.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

declare -A port
for bus in healthy wrongunit wrongtid extra trickle truncated oversized; do
    port[$bus]=$(om_free_port)
done
python3 "$OM_SOURCE_DIR/tests/integration/hostile_modbus.py" "$OM_TMP/hostile.ready" \
    "${port[healthy]}=honest" "${port[wrongunit]}=wrong-unit" "${port[wrongtid]}=wrong-tid" \
    "${port[extra]}=extra" "${port[trickle]}=trickle" "${port[truncated]}=truncated" \
    "${port[oversized]}=oversized" 2>"$OM_TMP/hostile.log" &
om_track $!
om_wait_file "$OM_TMP/hostile.ready" 10 $!

# meter id, bus, unit id (units are distinct, so a value of another meter
# shows as such)
meters="good:healthy:1 wu:wrongunit:2 tid:wrongtid:3 ex1:extra:4 ex2:extra:5
tr1:trickle:6 tr2:trickle:9 tr3:trickle:10 tr4:trickle:11 cut:truncated:7 big:oversized:8"
site=$OM_TMP/hostile.yaml
{
    echo "site: hostile"
    echo "name: Hostile Modbus test site"
    echo "timezone: Europe/London"
    echo "grid_region: UK"
    echo "floor_area_m2: [{from: 2023-01-01, m2: 100}]"
    echo "gateways:"
    echo "  - id: gw1"
    echo "    buses:"
    for bus in "${!port[@]}"; do
        echo "      - {id: $bus, tcp: {host: 127.0.0.1, port: ${port[$bus]}}}"
    done
    echo "meters:"
    for m in $meters; do
        IFS=: read -r id bus unit <<<"$m"
        echo "  - {id: $id, model: test-gappy, gateway: gw1, bus: $bus, unit_id: $unit, utility: electricity, role: sub}"
    done
} >"$site"
catalogue=$OM_SOURCE_DIR/tests/data/agent/meters

# ---- the agent ------------------------------------------------------------
om_start_broker
om_start_ack "$OM_TMP/polls.jsonl"
OM_AGENT_INTERVALS="{counters_s: 2, instant_s: 1, health_s: 1, backoff_max_s: 2}" \
    om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
sed -i "s#^catalogue: .*#catalogue: $catalogue#" "$OM_TMP/agent.yaml"
om_start_agent "$OM_TMP/agent.yaml"
sleep 9
om_stop_agent

python3 - "$OM_TMP/polls.jsonl" "$meters" <<'PY' || om_fail "a wrong value was published, or the honest bus lost ticks (see above)"
import json, struct, sys
polls = [json.loads(l) for l in open(sys.argv[1])]
units = {m.split(":")[0]: int(m.split(":")[2]) for m in sys.argv[2].split()}
f32 = lambda x: struct.unpack(">f", struct.pack(">f", x))[0]
def truth(u):
    return {"energy_import_kwh": f32(1000.0 + u + 0.25), "power_kw": f32(100.0 * u) * 0.001,
            "voltage_l1_v": f32(230.0 + u / 4)}
bad = []
for p in polls:
    want = truth(units[p["meter"]])
    for q, v in p["values"].items():
        if abs(v - want[q]) > 1e-9 * abs(want[q]):
            bad.append("%s seq %d: %s = %r, its unit holds %r" % (p["meter"], p["seq"], q, v, want[q]))
for b in bad[:20]:
    print(b, file=sys.stderr)
assert not bad, "%d wrong values published" % len(bad)
by = {}
for p in polls:
    by.setdefault(p["meter"], []).append(p["t"])
print({m: len(ts) for m, ts in sorted(by.items())}, file=sys.stderr)
# Read through the stale and the extra frames, and only those.
assert set(by) == {"good", "tid", "ex1", "ex2"}, sorted(by)
# The honest bus: a poll at every tick, each early in it.
ts = sorted(by["good"])
ticks = [t // 1000 for t in ts]
late = [t % 1000 for t in ts]
assert len(ts) >= 7 and ticks == list(range(ticks[0], ticks[0] + len(ts))), ticks
assert max(late) < 500, late
PY

log=$OM_TMP/agent.log
grep -q "answer from the wrong unit on 127.0.0.1:${port[wrongunit]} (bus wrongunit) when asking unit 2" "$log" ||
    om_fail "no line about the wrong unit"
grep -q "incomplete answer from unit 6 on 127.0.0.1:${port[trickle]} (bus trickle) within 300 ms" "$log" ||
    om_fail "no line about the dribbled answer"
grep -q "incomplete answer from unit 7 on 127.0.0.1:${port[truncated]} (bus truncated)" "$log" ||
    om_fail "no line about the truncated answer"
grep -q "garbled answer from unit 8 on 127.0.0.1:${port[oversized]} (bus oversized)" "$log" ||
    om_fail "no line about the oversized answer"
grep -q "bus trickle: a poll cycle took longer than the interval (still polling meter tr" "$log" ||
    om_fail "no line naming the slow bus"
if grep -q "bus healthy: a poll cycle took longer" "$log"; then
    om_fail "the healthy bus overran"
fi
h=$(om_agent_health hostile gw1)
echo "$h" | python3 -c 'import json, sys
h = json.load(sys.stdin)
good = h["meters"]["good"]
assert good["timeouts"] == good["other_errors"] == 0 and good["polls"] >= 7, good
assert h["buses"]["healthy"]["overruns"] == 0, h["buses"]["healthy"]
assert h["buses"]["trickle"]["overruns"] >= 1, h["buses"]["trickle"]
for m in ("wu", "big"):
    assert h["meters"][m]["other_errors"] >= 1 and h["meters"][m]["polls"] == 0, h["meters"][m]
for m in ("tr1", "cut"):
    assert h["meters"][m]["timeouts"] >= 1 and h["meters"][m]["polls"] == 0, h["meters"][m]
' || om_fail "health: $h"

# ---- the probe --------------------------------------------------------------
probe() {
    rc=0
    "$OM_BIN/officemeter" probe --site "$site" --catalogue "$catalogue" --json "$@" \
        >"$OM_TMP/probe.json" 2>"$OM_TMP/probe.err" || rc=$?
}
probe_values_right() { # METER UNIT
    python3 - "$OM_TMP/probe.json" "$2" <<'PY' || { cat "$OM_TMP/probe.err" >&2; om_fail "probe of $1"; }
import json, struct, sys
doc, u = json.load(open(sys.argv[1])), int(sys.argv[2])
f32 = lambda x: struct.unpack(">f", struct.pack(">f", x))[0]
want = {"energy_import_kwh": f32(1000.0 + u + 0.25), "power_kw": f32(100.0 * u) * 0.001,
        "voltage_l1_v": f32(230.0 + u / 4)}
assert not doc.get("errors"), doc
for q, v in doc["values"].items():
    assert abs(v - want[q]) <= 1e-9 * abs(want[q]), (q, v, want[q])
PY
}
probe --meter wu
[ "$rc" -eq 1 ] && grep -q "answer from the wrong unit" "$OM_TMP/probe.err" ||
    { cat "$OM_TMP/probe.json" "$OM_TMP/probe.err" >&2; om_fail "probe took the wrong unit's answer (exit $rc)"; }
probe --meter big
[ "$rc" -eq 1 ] && grep -q "garbled answer from unit 8" "$OM_TMP/probe.err" ||
    { cat "$OM_TMP/probe.err" >&2; om_fail "probe took an oversized answer (exit $rc)"; }
start_ns=$(date +%s%N)
probe --meter tr1 --timeout 300
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
[ "$rc" -eq 1 ] && grep -q "incomplete answer from unit 6" "$OM_TMP/probe.err" ||
    { cat "$OM_TMP/probe.err" >&2; om_fail "probe of the trickling device (exit $rc)"; }
[ "$elapsed_ms" -lt 2000 ] || om_fail "the probe waited ${elapsed_ms} ms for a dribbled answer"
probe --meter tid
[ "$rc" -eq 0 ] || { cat "$OM_TMP/probe.err" >&2; om_fail "probe did not read through a stale frame (exit $rc)"; }
probe_values_right tid 3
probe --meter ex1
[ "$rc" -eq 0 ] || { cat "$OM_TMP/probe.err" >&2; om_fail "probe did not read through an extra frame (exit $rc)"; }
probe_values_right ex1 4
echo "PASS"
