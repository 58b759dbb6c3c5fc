#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A meter refuses a merged block with exception 2 (illegal data address): the
# agent's catalogue says the model has an L1 voltage next to energy and power
# (one read of 10 registers), but the firmware variant the simulator serves
# has no voltage. The planner must split the block, give up the voltage, log
# each event once (not every cycle, nor at every re-probe: what was refused
# is asked again with backoff, issue 13), and readings of energy and power
# must go on, equal to the simulator's registers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

data="$OM_SOURCE_DIR/tests/data/agent"
om_start_broker
lan=$(om_free_port)
om_start_sim --site "$data/agent-exc2.yaml" --catalogue "$data/variant/meters" \
    --bus lan=tcp:127.0.0.1:"$lan" --speed 0 --start 2024-03-04T10:00:00Z --state "$OM_TMP/state.json"
om_start_ack "$OM_TMP/polls.jsonl"
OM_AGENT_INTERVALS="{counters_s: 1, instant_s: 1, health_s: 1, backoff_max_s: 4}" \
    om_agent_config "$OM_TMP/agent.yaml" "$data/agent-exc2.yaml" gw1
sed -i "s#^catalogue: .*#catalogue: $data/meters#" "$OM_TMP/agent.yaml"

"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --plan >"$OM_TMP/plan.txt"
grep -q "0x0000+10" "$OM_TMP/plan.txt" || { cat "$OM_TMP/plan.txt" >&2; om_fail "expected one merged read of 10 registers in the plan"; }

om_start_agent "$OM_TMP/agent.yaml" --bus lan=tcp:127.0.0.1:"$lan"
om_wait_lines "$OM_TMP/polls.jsonl" 8
sleep 1
om_stop_agent

for m in gappy1 gappy2; do
    n=$(grep -c "meter $m refused the merged read" "$OM_TMP/agent.log" || true)
    [ "$n" -eq 1 ] || om_fail "$m: the split was logged $n times, expected once"
    n=$(grep -c "meter $m refused voltage_l1_v" "$OM_TMP/agent.log" || true)
    [ "$n" -eq 1 ] || om_fail "$m: giving up the voltage was logged $n times, expected once"
done
python3 - "$OM_TMP/polls.jsonl" <<'PY' || om_fail "readings did not continue after the split"
import json, sys
polls = [json.loads(l) for l in open(sys.argv[1])]
for m in ("gappy1", "gappy2"):
    mine = [p for p in polls if p["meter"] == m]
    assert len(mine) >= 4, (m, len(mine))
    for p in mine:
        assert set(p["values"]) == {"energy_import_kwh", "power_kw"}, p
PY
om_compare_agent_polls "$OM_TMP/state.json" "$OM_TMP/polls.jsonl"
h=$(om_agent_health agent-exc2 gw1)
echo "$h" | python3 -c 'import json,sys
m = json.load(sys.stdin)["meters"]["gappy1"]
# Each re-probe costs one refused merged read and one refused voltage: the
# first at once, then after 2 s, then every 4 s (backoff_max_s).
assert 1 <= m["splits"] <= 3 and m["unsupported"] == ["voltage_l1_v"], m
assert m["exceptions"] == 2 * m["splits"] and m["timeouts"] == 0 and m["partial_polls"] == 0, m
assert m["counters_refused"] == [], m
' || om_fail "health does not show the split: $h"
echo "PASS"
