#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The outbox file is deleted between two runs: the agent starts a new epoch
# at seq 1, so the aggregator (tracking sequences per gateway and epoch)
# never mistakes the new polls for old, already acknowledged ones. A stale
# acknowledgement of the old epoch (left retained on the ack topic) must be
# ignored, not applied to the new outbox.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_office_agent_rig
once() {
    "$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once --ack-timeout 10 \
        "${OM_BUSES[@]}" 2>>"$OM_TMP/agent.log" ||
        { tail "$OM_TMP/agent.log" >&2; om_fail "--once failed"; }
}

om_log "first outbox"
once
once
e1=$(om_health_field sim-office gw1 outbox.epoch | tr -d '"')
[ "$(om_count_lines "$OM_TMP/polls.jsonl")" -eq 10 ] || om_fail "expected 10 polls from two runs"
om_check_seqs "$OM_TMP/polls.jsonl" "$e1" 10

om_log "outbox deleted; a stale ack of the old epoch is retained on the ack topic"
rm -f "$OM_TMP/outbox.db" "$OM_TMP/outbox.db-wal" "$OM_TMP/outbox.db-shm"
mosquitto_pub -h 127.0.0.1 -p "$OM_BROKER_PORT" -q 1 -r -t officemeter/v1/sim-office/gw1/ack \
    -m "{\"v\":1,\"epoch\":\"$e1\",\"upto\":10}"
once
e2=$(om_health_field sim-office gw1 outbox.epoch | tr -d '"')
[ "$e2" != "$e1" ] || om_fail "a new outbox kept the old epoch $e1"
[ "$(om_health_field sim-office gw1 delivery.acks_other_epoch)" -ge 1 ] || om_fail "the stale ack was not recognised as another epoch's"
python3 - "$OM_TMP/polls.jsonl" "$e1" "$e2" <<'PY' || om_fail "epochs mixed up"
import json, sys
polls = [json.loads(l) for l in open(sys.argv[1])]
e1, e2 = sys.argv[2], sys.argv[3]
new = [p for p in polls if p["epoch"] == e2]
old = [p for p in polls if p["epoch"] == e1]
assert sorted(p["seq"] for p in new) == [1, 2, 3, 4, 5], new
assert len(old) == 10
# Same seq numbers, different polls: only the epoch tells them apart.
assert {(p["meter"], p["t"]) for p in new}.isdisjoint({(p["meter"], p["t"]) for p in old})
PY
om_check_seqs "$OM_TMP/polls.jsonl" "$e2" 5
echo "PASS"
