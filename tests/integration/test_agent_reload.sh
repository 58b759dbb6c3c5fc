#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGHUP reloads the configuration: a configuration with errors is refused
# (its errors logged with file:line:col) and the running one kept, polling
# on; a good one is applied (a longer interval; then a new client id, which
# renews the MQTT connection). SIGTERM then finishes the current poll,
# flushes and exits 0, and every poll made arrives.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_AGENT_INTERVALS="{counters_s: 1, instant_s: 1, health_s: 1}" \
    om_start_office_agent_rig
cp "$OM_TMP/agent.yaml" "$OM_TMP/good.yaml"
om_start_agent "$OM_TMP/agent.yaml" "${OM_BUSES[@]}"
om_wait_lines "$OM_TMP/polls.jsonl" 10

om_log "SIGHUP with a broken configuration: refused, polling goes on"
sed -i 's/^gateway: gw1$/gateway: gw7/' "$OM_TMP/agent.yaml"
kill -HUP "$OM_AGENT_PID"
sleep 1
grep -q "reload refused: 1 error(s)" "$OM_TMP/agent.log" || om_fail "no 'reload refused' line"
grep -q "agent.yaml:2:10: gateway: unknown gateway (got \"gw7\"" "$OM_TMP/agent.log" || om_fail "the error was not logged with its position"
n=$(om_count_lines "$OM_TMP/polls.jsonl")
om_wait_lines "$OM_TMP/polls.jsonl" $((n + 10)) 5
kill -0 "$OM_AGENT_PID" || om_fail "the agent died on a bad reload"

om_log "SIGHUP with a good configuration: every 3 s from now on"
sed 's/{counters_s: 1, instant_s: 1, health_s: 1}/{counters_s: 3, instant_s: 3, health_s: 1}/' "$OM_TMP/good.yaml" >"$OM_TMP/agent.yaml"
kill -HUP "$OM_AGENT_PID"
sleep 1
grep -q "configuration reloaded" "$OM_TMP/agent.log" || om_fail "no 'configuration reloaded' line"
mark=$(om_count_lines "$OM_TMP/polls.jsonl")
sleep 4

om_log "SIGHUP with new broker settings (client id): a new connection, polling goes on"
sed -i 's/client_id: test-agent}/client_id: test-agent-2}/' "$OM_TMP/agent.yaml"
kill -HUP "$OM_AGENT_PID"
# paho's network thread picks up a new client's socket at its next timeout,
# within a second or so.
connects() { grep -c "info: connected to mqtt://127.0.0.1:$OM_BROKER_PORT" "$OM_TMP/agent.log" || true; }
for _ in $(seq 1 50); do [ "$(connects)" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c "configuration reloaded" "$OM_TMP/agent.log")" -eq 2 ] || om_fail "second reload not applied"
[ "$(connects)" -eq 2 ] || om_fail "no new connection after the reload"
n=$(om_count_lines "$OM_TMP/polls.jsonl")
om_wait_lines "$OM_TMP/polls.jsonl" $((n + 5)) 6

om_log "SIGTERM"
om_stop_agent
sleep 0.5
python3 - "$OM_TMP/polls.jsonl" "$mark" <<'PY' || om_fail "the new interval was not applied"
import json, sys
polls = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
ts = sorted({p["t"] // 1000 for p in polls if p["meter"] == "main"})
gaps = [b - a for a, b in zip(ts, ts[1:])]
assert gaps and all(g == 3 for g in gaps), gaps
PY
last=$(( $(om_health_field sim-office gw1 outbox.next_seq) - 1 ))
epoch=$(om_health_field sim-office gw1 outbox.epoch | tr -d '"')
om_check_seqs "$OM_TMP/polls.jsonl" "$epoch" "$last"
[ "$(om_health_field sim-office gw1 outbox.polls)" -eq 0 ] || om_fail "polls left unacknowledged at exit"
echo "PASS"
