#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent publishes exactly what the meters hold, for every catalogue model:
# one meter of each model (tests/data/sites/all-models.yaml), the RS-485 bus
# over a pseudo-terminal pair (Modbus RTU) and the LAN bus over TCP, a frozen
# simulator, `officemeter-agent --once` through a real mosquitto, and every
# published value compared with the simulator's state file. The ABB B23 is
# told to answer "not available" patterns: its values must be dropped (never
# sent as numbers) and counted in the health message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

site="$OM_SOURCE_DIR/tests/data/sites/all-models.yaml"
om_start_broker
lan=$(om_free_port)
om_pty_pair "$OM_TMP/sim.tty" "$OM_TMP/agent.tty"
om_start_sim --site "$site" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
    --bus rs485=rtu:"$OM_TMP/sim.tty" --bus lan=tcp:127.0.0.1:"$lan" \
    --speed 0 --start 2024-03-04T10:00:00Z --state "$OM_TMP/state.json" --fault b23=na
om_start_ack "$OM_TMP/polls.jsonl"
om_agent_config "$OM_TMP/agent.yaml" "$site" gw1

om_log "--once over RTU (pty) and TCP"
rc=0
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once --ack-timeout 15 \
    --bus rs485=rtu:"$OM_TMP/agent.tty" --bus lan=tcp:127.0.0.1:"$lan" 2>"$OM_TMP/agent.log" || rc=$?
cat "$OM_TMP/agent.log" >&2
[ "$rc" -eq 0 ] || om_fail "--once exited $rc"
grep -q "13 of 14 meters answered" "$OM_TMP/agent.log" || om_fail "expected 13 of 14 meters to answer (B23 only says 'not available')"

# 13 polls, seq 1..13, one epoch, and every value equal to the registers.
[ "$(om_count_lines "$OM_TMP/polls.jsonl")" -eq 13 ] || om_fail "expected 13 polls, got $(om_count_lines "$OM_TMP/polls.jsonl")"
python3 - "$OM_TMP/polls.jsonl" <<'PY' || om_fail "bad sequence numbers"
import json, sys
polls = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(p["seq"] for p in polls) == list(range(1, 14)), [p["seq"] for p in polls]
assert len({p["epoch"] for p in polls}) == 1
assert all(p["t"] > 1.7e12 for p in polls)
PY
meters=$(python3 -c 'import json,sys; print(" ".join(m for m in sorted(json.load(open(sys.argv[1]))["meters"]) if m != "b23"))' "$OM_TMP/state.json")
# shellcheck disable=SC2086
om_compare_agent_polls "$OM_TMP/state.json" "$OM_TMP/polls.jsonl" $meters
grep -q '"b23"' "$OM_TMP/polls.jsonl" && om_fail "b23 answered only 'not available' but a poll was published"

om_log "health: dropped values counted, status retained"
om_agent_health all-models gw1 >"$OM_TMP/health.json"
python3 - "$OM_TMP/health.json" <<'PY' || om_fail "health message wrong"
import json, sys
h = json.load(open(sys.argv[1]))
b23 = h["meters"]["b23"]
assert b23["dropped"]["not_available"] == 6, b23
assert b23["timeouts"] == 0 and b23["requests"] >= 1, b23
sdm = h["meters"]["sdm630"]
assert sdm["requests"] == 3 and sdm["timeouts"] == 0 and sdm["last_good"] > 0, sdm
assert h["outbox"]["polls"] == 0 and h["outbox"]["acked_upto"] == 13, h["outbox"]
PY
status=$(mosquitto_sub -h 127.0.0.1 -p "$OM_BROKER_PORT" -t officemeter/v1/all-models/gw1/status -C 1 -W 5)
[ "$status" = '{"v":1,"state":"offline"}' ] || om_fail "status after --once: $status"
echo "PASS"
