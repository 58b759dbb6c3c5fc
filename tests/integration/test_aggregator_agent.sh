#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End to end: simulator -> officemeter-agent -> mosquitto -> officemeter-aggregator.
#  1. `officemeter-agent --once`: every meter polled once, N polls made, N
#     stored, the acknowledgement empties the outbox.
#  2. The agent running, the aggregator SIGKILLed twice (once while it
#     catches up a backlog) and restarted: every poll the agent made is
#     stored exactly once, value for value as the agent published it, and
#     the acknowledgements drain the outbox to zero.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

site="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
om_start_office_sim
buses=("${OM_BUSES[@]}")
om_start_aggregator_rig
port=$OM_BROKER_PORT
db=$OM_DB
om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
# Everything the agent publishes, recorded beside the aggregator.
mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -v -t 'officemeter/v1/+/+/readings' >"$OM_TMP/sent.txt" 2>/dev/null &
om_track $!
sleep 0.3

outbox_meta() { om_sql "$OM_TMP/outbox.db" "SELECT value FROM meta WHERE key = '$1'"; }
outbox_depth() { om_sql "$OM_TMP/outbox.db" "SELECT count(*) FROM polls"; }
stored_polls() { om_sql "$db" "SELECT count(*) FROM (SELECT DISTINCT meter, t FROM readings)"; }

om_log "--once"
rc=0
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once --ack-timeout 15 "${buses[@]}" \
    2>>"$OM_TMP/agent.log" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$OM_TMP/agent.log" >&2; om_fail "--once exited $rc (not acknowledged)"; }
made=$(( $(outbox_meta next_seq) - 1 ))
[ "$made" -eq 5 ] || om_fail "--once made $made polls, expected one per meter (5)"
[ "$(stored_polls)" -eq "$made" ] || om_fail "$made polls made, $(stored_polls) stored"
[ "$(outbox_depth)" -eq 0 ] || om_fail "outbox not empty after --once: $(outbox_depth)"
epoch=$(outbox_meta epoch)
[ "$(om_sql "$db" "SELECT upto FROM epochs WHERE epoch = '$epoch'")" = "$made" ] ||
    om_fail "stored acknowledgement state differs"

om_log "the agent running, the aggregator killed twice"
om_start_agent "$OM_TMP/agent.yaml" "${buses[@]}"
for i in $(seq 1 100); do [ "$(stored_polls)" -ge 20 ] && break; sleep 0.1; done
[ "$(stored_polls)" -ge 20 ] || om_fail "the agent's polls are not being stored"
kill -KILL "$OM_AGG_PID"
wait "$OM_AGG_PID" 2>/dev/null || true
sleep 3 # a backlog builds up in the outbox (and the broker's queue)
om_start_aggregator "$OM_TMP/agg.yaml"
sleep 0.2
kill -KILL "$OM_AGG_PID"
wait "$OM_AGG_PID" 2>/dev/null || true
sleep 1
om_start_aggregator "$OM_TMP/agg.yaml"
sleep 2
om_stop_agent
om_log "drain what is left with --once"
rc=0
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once --ack-timeout 20 "${buses[@]}" \
    2>>"$OM_TMP/agent.log" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$OM_TMP/agent.log" >&2; om_fail "final --once exited $rc"; }
[ "$(outbox_depth)" -eq 0 ] || om_fail "the outbox did not drain: $(outbox_depth) polls left"
made=$(( $(outbox_meta next_seq) - 1 ))
[ "$(stored_polls)" -eq "$made" ] || om_fail "$made polls made, $(stored_polls) stored"
[ "$(om_sql "$db" "SELECT upto FROM epochs WHERE epoch = '$epoch'")" = "$made" ] ||
    om_fail "acknowledgement state is not $made"

# Exactly what the agent published (each seq once, resends identical), value for value.
sleep 0.5
python3 - "$OM_TMP/sent.txt" "$db" "$epoch" "$made" <<'PY' || om_fail "stored readings differ from what the agent sent"
import json, sqlite3, sys
sent, db, epoch, made = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
polls = {}
for line in open(sent):
    topic, _, payload = line.rstrip("\n").partition(" ")
    msg = json.loads(payload)
    assert msg["epoch"] == epoch, msg["epoch"]
    for p in msg["polls"]:
        key = (p["meter"], p["t"], json.dumps(p["values"], sort_keys=True))
        assert polls.setdefault(p["seq"], key) == key, "seq %d sent as two polls" % p["seq"]
assert sorted(polls) == list(range(1, made + 1)), "sent seqs are not 1..%d" % made
want = set()
for meter, t, values in polls.values():
    for q, v in json.loads(values).items():
        want.add((meter, q, t, v))
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
have = set(con.execute("SELECT m.meter, q.name, r.t, r.value FROM readings r JOIN meters m "
                       "ON m.id = r.meter JOIN quantities q ON q.id = r.quantity"))
n = con.execute("SELECT count(*) FROM readings").fetchone()[0]
assert n == len(have) == len(want), (n, len(have), len(want))
assert have == want, ("missing", sorted(want - have)[:3], "extra", sorted(have - want)[:3])
print("%d polls, %d readings: stored exactly as sent; checksum %.6f" %
      (made, n, sum(v for _, _, _, v in have)), file=sys.stderr)
PY
resends=$(grep -c . "$OM_TMP/sent.txt")
om_log "$resends messages published for $made polls"
"$OM_BIN/officemeter" status --config "$OM_TMP/agg.yaml" --stale 3600 >"$OM_TMP/status.txt" ||
    { cat "$OM_TMP/status.txt" >&2; om_fail "status reports stale meters after a live run"; }
echo "PASS"
