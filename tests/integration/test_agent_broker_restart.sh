#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The broker goes away (3 s) while the agent polls, and comes back: first a broker
# without persistence (everything it held is gone), then one with
# persistence. Every poll made meanwhile must arrive, with its sequence
# number, and a seq that arrives twice must be the same poll (a resend).
# The outage must show in the health message (connections lost, failed
# connects), and SIGTERM must end the agent with status 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_office_agent_rig
om_start_agent "$OM_TMP/agent.yaml" "${OM_BUSES[@]}"

om_wait_lines "$OM_TMP/polls.jsonl" 10
epoch=$(head -1 "$OM_TMP/polls.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])')

outage() {
    local mode=$1
    local before
    before=$(om_count_lines "$OM_TMP/polls.jsonl")
    om_log "broker down for 3 s, back $mode"
    om_stop_broker
    sleep 3
    om_start_broker "$mode"
    # About 5 polls a second were made in the outage; all of them must come.
    om_wait_lines "$OM_TMP/polls.jsonl" $((before + 15)) 20
}
outage nopersist
outage persist
sleep 2 # a few more polls and acknowledgements after the last outage

health=$(om_agent_health sim-office gw1)
echo "$health" | python3 -c 'import json,sys
h = json.load(sys.stdin)
m = h["mqtt"]
assert m["connected"] and m["lost"] == 2 and m["connect_failures"] >= 2 and m["connects"] == 3, m
assert h["outbox"]["appended"] >= 40, h["outbox"]
assert h["delivery"]["unstamped"] == 0
' || om_fail "health does not show the outages: $health"

om_log "SIGTERM: finish, flush, exit 0"
om_stop_agent
grep -q "stopped" "$OM_TMP/agent.log" || om_fail "no 'stopped' line in the log"
sleep 0.5
# The final health (published at shutdown) says how many polls were made.
last=$(om_health_field sim-office gw1 outbox.next_seq)
last=$((last - 1))
[ "$last" -ge 40 ] || om_fail "only $last polls made"
om_check_seqs "$OM_TMP/polls.jsonl" "$epoch" "$last"

echo "PASS"
