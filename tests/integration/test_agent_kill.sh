#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent is SIGKILLed in the middle of publishing a backlog, and started
# again on the same outbox: nothing is lost (every seq arrives), the epoch is
# the same, and numbering continues where it stopped (no seq reused for a
# different poll). Publishing is slowed down (2 messages of 5 polls a
# second) so that the kill lands while the backlog is going out.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_AGENT_DELIVERY="{resend_after_s: 3, connect_timeout_s: 5, reconnect_min_ms: 100, reconnect_max_s: 1, max_polls_per_message: 5, max_messages_per_s: 2}" \
    om_start_office_agent_rig
buses=("${OM_BUSES[@]}")
om_start_agent "$OM_TMP/agent.yaml" "${buses[@]}"
om_wait_lines "$OM_TMP/polls.jsonl" 5

om_log "broker down 4 s: a backlog builds up"
om_stop_broker
sleep 4
om_start_broker
sleep 1.5 # reconnected, backlog half published
made=$(( $(om_health_field sim-office gw1 outbox.next_seq) - 1 ))
before=$(om_count_lines "$OM_TMP/polls.jsonl")
kill -KILL "$OM_AGENT_PID"
om_log "SIGKILL while publishing: $made polls made, $before received so far"
om_wait_exit "$OM_AGENT_PID" 5
epoch=$(head -1 "$OM_TMP/polls.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])')
max_before=$(python3 -c 'import json,sys; print(max(json.loads(l)["seq"] for l in open(sys.argv[1])))' "$OM_TMP/polls.jsonl")

om_log "restart on the same outbox"
om_start_agent "$OM_TMP/agent.yaml" "${buses[@]}"
sleep 6
om_stop_agent
sleep 0.5
last=$(( $(om_health_field sim-office gw1 outbox.next_seq) - 1 ))
[ "$(om_health_field sim-office gw1 outbox.epoch)" = "\"$epoch\"" ] || om_fail "the epoch changed after SIGKILL"
[ "$last" -gt "$max_before" ] || om_fail "no new polls after the restart"
om_check_seqs "$OM_TMP/polls.jsonl" "$epoch" "$last"
# The kill really cut the backlog: some polls made before it arrived only
# after the restart (resent from the outbox).
python3 - "$OM_TMP/polls.jsonl" "$before" "$made" <<'PY' || om_fail "the kill did not land in the middle of publishing"
import json, sys
polls = [json.loads(l) for l in open(sys.argv[1])]
early = {p["seq"] for p in polls[:int(sys.argv[2])]}
late = set(range(1, int(sys.argv[3]) + 1)) - early
assert late, "everything made before the kill had already arrived"
print("%d polls made before the kill arrived after the restart" % len(late), file=sys.stderr)
PY
echo "PASS"
