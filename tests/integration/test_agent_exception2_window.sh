#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_exception2_window.sh - a meter that answers exception 2 (illegal
# data address) to everything for a few seconds, then normally again (issue
# 13, defect 6: it used to be disabled until the agent restarted).
#
# During the window the agent splits the blocks and gives the quantities
# up; the energy counter, which the annual figures need, is given up with
# one error line and shows in health as counters_refused. Afterwards
# everything is asked again with backoff (here at most 2 s later) and read:
# the energy is published again, one line says so, and the flag is gone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

lan=$(om_free_port)
window=$OM_TMP/refuse
python3 "$OM_SOURCE_DIR/tests/integration/hostile_modbus.py" "$OM_TMP/hostile.ready" \
    "$lan=exc2:$window" 2>"$OM_TMP/hostile.log" &
om_track $!
om_wait_file "$OM_TMP/hostile.ready" 10 $!
site=$OM_TMP/window.yaml
cat >"$site" <<YAML
site: window
name: Exception 2 window test site
timezone: Europe/London
grid_region: UK
floor_area_m2: [{from: 2023-01-01, m2: 100}]
gateways:
  - id: gw1
    buses: [{id: lan, tcp: {host: 127.0.0.1, port: $lan}}]
meters:
  - {id: w1, model: test-gappy, gateway: gw1, bus: lan, unit_id: 1, utility: electricity, role: main}
YAML

om_start_broker
om_start_ack "$OM_TMP/polls.jsonl"
OM_AGENT_INTERVALS="{counters_s: 1, instant_s: 1, health_s: 1, backoff_max_s: 2}" \
    om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
sed -i "s#^catalogue: .*#catalogue: $OM_SOURCE_DIR/tests/data/agent/meters#" "$OM_TMP/agent.yaml"
om_start_agent "$OM_TMP/agent.yaml"
om_wait_lines "$OM_TMP/polls.jsonl" 2

# The window: everything refused for 4 s.
touch "$window"
refused=
for i in $(seq 1 40); do
    sleep 0.1
    if om_health_field window gw1 meters.w1.counters_refused | grep -q energy_import_kwh; then
        refused=yes
        break
    fi
done
[ -n "$refused" ] || om_fail "health never flagged the refused energy counter: $(om_agent_health window gw1)"
sleep 3
rm "$window"
end_ms=$(($(date +%s%N) / 1000000))

# Asked again within the backoff (2 s at most here) and read again.
back=
for i in $(seq 1 60); do
    if python3 - "$OM_TMP/polls.jsonl" "$end_ms" <<'PY'; then back=yes; break; fi
import json, sys
after = [json.loads(l) for l in open(sys.argv[1])]
after = [p for p in after if p["t"] > int(sys.argv[2]) and "energy_import_kwh" in p["values"]]
sys.exit(0 if len(after) >= 2 else 1)
PY
    sleep 0.1
done
[ -n "$back" ] || om_fail "the energy counter was not read again after the window"
sleep 1.2
flag=$(om_health_field window gw1 meters.w1.counters_refused)
[ "$flag" = "[]" ] || om_fail "counters_refused still $flag after the meter answered again"
om_stop_agent

log=$OM_TMP/agent.log
n=$(grep -c "error: meter w1 refused energy_import_kwh .* the annual figures need this counter" "$log" || true)
[ "$n" -eq 1 ] || om_fail "giving up the energy counter was logged $n times, expected once"
grep -q "meter w1 answers .*energy_import_kwh.* again" "$log" || om_fail "no line saying the energy answers again"
python3 - "$OM_TMP/polls.jsonl" "$end_ms" <<'PY' || om_fail "published values after the window"
import json, struct, sys
f32 = lambda x: struct.unpack(">f", struct.pack(">f", x))[0]
polls = [json.loads(l) for l in open(sys.argv[1])]
after = [p for p in polls if p["t"] > int(sys.argv[2])]
assert after and all(p["values"].get("energy_import_kwh", f32(1001.25)) == f32(1001.25) for p in after), after
# the instantaneous values are back too
assert any("voltage_l1_v" in p["values"] and "power_kw" in p["values"] for p in after), after
PY
echo "PASS"
