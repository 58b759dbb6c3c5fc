#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_broker_failover.sh - a gateway with two brokers (broker.uris),
# each broker with an aggregator of its own, both aggregators on one
# PostgreSQL database (so either can acknowledge what the other stored).
#   1. The agent polls the simulated office through broker A.
#   2. A is stopped under load: the agent is on B within its reconnect
#      bound, and goes on delivering.
#   3. A comes back and B is stopped: the agent is back on A.
#   4. The meters go quiet, the outbox drains: every poll the agent made
#      (outbox.next_seq) is acknowledged, every poll seen on either broker
#      is stored exactly once with its values, nothing else is stored.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

# Two brokers (om_start_broker keeps the port it is given).
OM_BROKER_PORT=$(om_free_port)
om_start_broker
A=$OM_BROKER_PORT A_PID=$OM_BROKER_PID
OM_BROKER_PORT=$(om_free_port)
om_start_broker
B=$OM_BROKER_PORT B_PID=$OM_BROKER_PID

# What the gateway publishes on either broker, recorded for the check.
record() { # PORT FILE
    mosquitto_sub -p "$1" -q 1 -v -t 'officemeter/v1/+/+/readings' >>"$2" 2>/dev/null &
    om_track $!
}
record "$A" "$OM_TMP/seen.a"
record "$B" "$OM_TMP/seen.b"

mkdir -p "$OM_TMP/sites"
cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_TMP/sites/"
for port in "$A" "$B"; do
    OM_AGG_DB=$OM_PG_URI OM_AGG_CLIENT=agg-$port \
        om_write_agg_config "$OM_TMP/agg-$port.yaml" "$port" "$OM_TMP/sites"
    om_start_aggregator "$OM_TMP/agg-$port.yaml"
done

om_start_office_sim
SIM_PID=$OM_SIM_PID
om_agent_config "$OM_TMP/agent.yaml" "$OM_TMP/sites/sim-office.yaml" gw1
sed -i "s|^broker: .*|broker: {uris: [\"mqtt://127.0.0.1:$A\", \"mqtt://127.0.0.1:$B\"], client_id: test-agent}|" \
    "$OM_TMP/agent.yaml"
om_start_agent "$OM_TMP/agent.yaml" "${OM_BUSES[@]}"

acked() { # the database's acknowledgement of gw1's epoch (0: none yet)
    local u
    u=$(om_psql "$OM_PG_URI" "SELECT max(upto) FROM epochs") || u=
    echo "${u:-0}"
}
wait_acked() { # N SECONDS
    local i
    for i in $(seq 1 $(($2 * 10))); do
        [ "$(acked)" -ge "$1" ] && return 0
        sleep 0.1
    done
    om_fail "acknowledged $(acked), expected at least $1 within $2 s"
}
# "connected to URI" / "reconnected to URI" in the agent's log within SECONDS.
wait_on() { # PORT SECONDS
    local i
    for i in $(seq 1 $(($2 * 20))); do
        grep -q "connected to mqtt://127.0.0.1:$1\$" "$OM_TMP/agent.log" 2>/dev/null && return 0
        sleep 0.05
    done
    tail -20 "$OM_TMP/agent.log" >&2
    om_fail "the agent was not on the broker at port $1 within $2 s"
}

om_log "1. polling through broker A"
wait_on "$A" 10
wait_acked 15 20

om_log "2. broker A stopped under load"
before=$(acked)
t0=$(date +%s%N)
om_stop_pid "$A_PID"
wait_on "$B" 5
took=$(( ($(date +%s%N) - t0) / 1000000 ))
om_log "on broker B after $took ms (reconnect bound: 100 ms first retry + one refused connect)"
wait_acked $((before + 20)) 20

om_log "3. broker A back, broker B stopped: back on A"
OM_BROKER_PORT=$A
om_start_broker
A_PID=$OM_BROKER_PID
record "$A" "$OM_TMP/seen.a"
sleep 0.5
grep -c "connected to mqtt://127.0.0.1:$A\$" "$OM_TMP/agent.log" >"$OM_TMP/on_a_before"
om_stop_pid "$B_PID"
for i in $(seq 1 100); do
    [ "$(grep -c "connected to mqtt://127.0.0.1:$A\$" "$OM_TMP/agent.log")" -gt "$(cat "$OM_TMP/on_a_before")" ] && break
    sleep 0.05
done
[ "$(grep -c "connected to mqtt://127.0.0.1:$A\$" "$OM_TMP/agent.log")" -gt "$(cat "$OM_TMP/on_a_before")" ] ||
    om_fail "the agent did not come back to broker A"
before=$(acked)
wait_acked $((before + 10)) 20

om_log "4. meters quiet; the outbox drains"
kill -TERM "$SIM_PID"
om_wait_exit "$SIM_PID" 10
for i in $(seq 1 200); do
    depth=$(om_health_field sim-office gw1 outbox.polls 2>/dev/null || echo -1)
    [ "$depth" = 0 ] && break
    sleep 0.1
done
[ "$depth" = 0 ] || om_fail "the outbox still holds $depth polls"
om_stop_agent
sleep 0.3
last=$(($(om_health_field sim-office gw1 outbox.next_seq) - 1))
[ "$(acked)" -eq "$last" ] || om_fail "acknowledged $(acked) of $last polls"
om_log "$last polls made, all acknowledged"

cat "$OM_TMP/seen.a" "$OM_TMP/seen.b" | python3 -c '
import json, sys
for line in sys.stdin:
    topic, _, payload = line.partition(" ")
    m = json.loads(payload)
    for p in m["polls"]:
        print(json.dumps({"epoch": m["epoch"], **p}))' >"$OM_TMP/polls.jsonl"
epoch=$(head -1 "$OM_TMP/polls.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])')
om_check_seqs "$OM_TMP/polls.jsonl" "$epoch" "$last"
python3 - "$OM_TMP/polls.jsonl" "$OM_PG_URI" <<PY || om_fail "stored readings differ from the polls"
import json, sys
sys.path.insert(0, "$OM_SOURCE_DIR/tests/integration")
from agg_replay import db_rows, READINGS_SQL
want = set()
for line in open(sys.argv[1]):
    p = json.loads(line)
    for q, v in p["values"].items():
        want.add(("sim-office", p["meter"], q, p["t"], float(v)))
have = [(r[0], r[1], r[2], r[3], float(r[4])) for r in db_rows(sys.argv[2], READINGS_SQL)]
if len(have) != len(set(have)) or set(have) != want:
    sys.exit("stored %d (%d distinct), published %d; missing %r, extra %r"
             % (len(have), len(set(have)), len(want), sorted(want - set(have))[:3],
                sorted(set(have) - want)[:3]))
print("%d readings stored once each, as published" % len(want), file=sys.stderr)
PY
echo ok
