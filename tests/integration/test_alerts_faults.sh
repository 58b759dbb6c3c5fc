#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alerts from simulated faults, through the whole pipeline: simulator ->
# agent -> mosquitto -> aggregator -> `officemeter alerts evaluate` on the
# simulator's clock (100 000x, 26 simulated days in about 23 real seconds:
# slow enough that a busy machine seldom makes the agent skip an hour).
#   - a leak on the main water meter from Friday noon to Wednesday noon:
#     water_continuous_flow and water_night_flow fire within their bounds
#     and resolve once the leak stops;
#   - a base-load step of 6 kW on the main electricity meter:
#     base_load_rise fires on the third night;
#   - a counter reset on the HVAC sub-meter: counter_anomaly fires at the
#     reset and resolves 24 hours of data later;
#   - nothing else fires: not on the healthy meters (lifts, kitchen water),
#     not another rule on the faulty ones.
# Prints each rule's detection delay in simulated time (docs/alerts.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

LEAK_FROM=2024-01-05T12:00:00Z LEAK_UNTIL=2024-01-10T12:00:00Z
STEP_FROM=2024-01-20T00:00:00Z
RESET_AT=2024-01-24T10:00:00Z
END=2024-01-27T00:00:00Z
om_start_alerts_rig "$OM_SOURCE_DIR/tests/data/alerts/drill-fast.yaml" 2024-01-01T00:00:00Z 100000 \
    --fault "water=leak:0.2@$LEAK_FROM/$LEAK_UNTIL" --fault "main=baseload:6@$STEP_FROM" \
    --fault "hvac=reset@$RESET_AT"
om_start_alerts_agent
om_start_alerts_eval 0.2 --sim-clock "$OM_CLOCK"
om_wait_sim "$OM_CLOCK" "$END" 60
sleep 1 # the last cycle
kill -TERM "$OM_EVAL_PID"
om_wait_exit "$OM_EVAL_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || { cat "$OM_TMP/alerts.log" >&2; om_fail "the evaluator exited $OM_EXIT_STATUS"; }

om_alert_lines >"$OM_TMP/alerts.jsonl"
python3 - "$OM_TMP/alerts.jsonl" "$LEAK_FROM" "$LEAK_UNTIL" "$STEP_FROM" "$RESET_AT" <<'PY' ||
import datetime, json, sys
def ms(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000 if s else None
H = 3600000
alerts = [json.loads(l) for l in open(sys.argv[1])]
leak_from, leak_until, step, reset = (ms(x) for x in sys.argv[2:6])
seen = {}
for a in alerts:
    key = (a["rule"], a.get("meter") or a.get("gateway"))
    if key in seen:
        sys.exit("fired twice: %r" % (key,))
    seen[key] = a
want = {("water_night_flow", "water"), ("water_continuous_flow", "water"),
        ("base_load_rise", "main"), ("counter_anomaly", "hvac")}
if set(seen) != want:
    sys.exit("alerts %s, expected exactly %s" % (sorted(seen), sorted(want)))
# (rule, fault start, fired within, fault end or None, resolved within)
bounds = [("water_night_flow", "water", leak_from, 4 * 24 * H, leak_until, 3 * 24 * H),
          ("water_continuous_flow", "water", leak_from, 26 * H, leak_until, 24 * H),
          ("base_load_rise", "main", step, 4 * 24 * H, None, None),
          # the reset shows in the first reading after it: within the policy's gap (3 h)
          ("counter_anomaly", "hvac", reset, 3 * H, reset, 27 * H)]
print("%-22s %-6s %12s %12s %12s" % ("RULE", "METER", "FIRED AFTER", "DETECTED", "RESOLVED"))
for rule, meter, start, within, end, rwithin in bounds:
    a = seen[(rule, meter)]
    fired, detected, resolved = ms(a["fired_at"]), ms(a["detected_at"]), ms(a["resolved_at"])
    if not 0 <= fired - start <= within:
        sys.exit("%s fired at %s, %.1f h after the fault (bound %.0f h)" % (rule, a["fired_at"], (fired - start) / H, within / H))
    if detected < fired:
        sys.exit("%s detected before its data: %r" % (rule, a))
    if end is None:
        if a["state"] != "open":
            sys.exit("%s resolved while the fault lasts: %r" % (rule, a))
    elif resolved is None or not 0 <= resolved - end <= rwithin:
        sys.exit("%s resolved at %s, fault over at %s (bound %.0f h)" % (rule, a["resolved_at"], sys.argv[3], rwithin / H))
    print("%-22s %-6s %10.1f h %10.1f h %12s" % (rule, meter, (fired - start) / H, (detected - start) / H,
          "%.1f h" % ((resolved - end) / H) if resolved else "open"))
PY
    { tail -20 "$OM_TMP/alerts.log" >&2; cat "$OM_TMP/alerts.jsonl" >&2; om_fail "alerts differ from the faults (see above)"; }

om_log "the history keeps the figures each change was made on"
id=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["rule"] == "water_night_flow":
        print(a["id"])' "$OM_TMP/alerts.jsonl")
"$OM_BIN/officemeter" alerts show "$id" --config "$OM_TMP/agg.yaml" --format json >"$OM_TMP/show.json" ||
    om_fail "alerts show $id failed"
python3 - "$OM_TMP/show.json" <<'PY' || om_fail "the night flow alert's history (see above)"
import json, sys
h = json.load(open(sys.argv[1]))["history"]
if [c["change"] for c in h] != ["fired", "resolved"]:
    sys.exit("changes: %r" % [c["change"] for c in h])
fired = h[0]["evidence"]["nights"]
# Each above the threshold, none above the leak (0.2 m³/h, through 10-litre
# pulses and readings that a busy machine spaces unevenly).
if len(fired) != 3 or not all(0.01 < n["min_flow_m3h"] < 0.25 for n in fired):
    sys.exit("the three nights that fired it: %r" % fired)
if not all(n["min_flow_m3h"] <= 0.005 for n in h[1]["evidence"]["nights"]):
    sys.exit("the nights that resolved it: %r" % h[1]["evidence"])
PY
