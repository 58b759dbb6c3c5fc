#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regression (issue 13, defect 9): the broker goes away for a few seconds.
# The aggregator logs the lost connection once, with the reason, and its
# failed attempts once (rate-limited), reconnects within its configured
# backoff (reconnect_max_s) once the broker is back, says so with the length
# of the outage, and acknowledges again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_aggregator_rig "reconnect_min_ms: 100" "reconnect_max_s: 1"
log="$OM_TMP/aggregator.log"

om_stop_broker
for i in $(seq 1 100); do
    grep -q "connection to mqtt://127.0.0.1:$OM_BROKER_PORT lost" "$log" && break
    sleep 0.05
done
grep -q "lost (closed by the broker or the network)" "$log" ||
    { cat "$log" >&2; om_fail "the lost connection was not logged with its reason"; }
sleep 4 # several attempts fail meanwhile

OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
start=$(date +%s%N)
for i in $(seq 1 100); do
    grep -q "reconnected to mqtt://127.0.0.1:$OM_BROKER_PORT after" "$log" && break
    sleep 0.05
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "reconnected to .* after [0-9.]* s without it" "$log" ||
    { cat "$log" >&2; om_fail "no reconnection logged within 5 s"; }
om_log "reconnected $ms ms after the broker was back"
# reconnect_max_s is 1: the next attempt comes within a second, and paho
# sets the connection up within about another (its threads poll at 1 s).
[ "$ms" -le 3000 ] || om_fail "reconnecting took $ms ms with reconnect_max_s: 1"

[ "$(grep -c ' lost (' "$log")" -eq 1 ] || { cat "$log" >&2; om_fail "the loss was not logged once"; }
[ "$(grep -c 'cannot connect to' "$log")" -eq 1 ] ||
    { cat "$log" >&2; om_fail "failed attempts not logged once (rate-limited)"; }
grep -q 'cannot connect to .*connection refused' "$log" ||
    om_fail "the failed attempt gave no reason: $(grep 'cannot connect' "$log")"

# And it works again: a poll is stored and acknowledged.
mosquitto_sub -p "$OM_BROKER_PORT" -q 1 -t officemeter/v1/sim-office/gw1/ack >"$OM_TMP/acks" 2>/dev/null &
om_track $!
sleep 0.3
t=$(( $(date +%s) * 1000 - 60000 ))
mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -t officemeter/v1/sim-office/gw1/readings -m \
    "{\"v\":1,\"site\":\"sim-office\",\"gateway\":\"gw1\",\"epoch\":\"00000000000000c1\",\"polls\":[{\"seq\":1,\"meter\":\"main\",\"t\":$t,\"values\":{\"energy_import_kwh\":1.5}}]}"
for i in $(seq 1 100); do
    grep -q '"upto":1}' "$OM_TMP/acks" && break
    sleep 0.05
done
grep -q '"epoch":"00000000000000c1","upto":1}' "$OM_TMP/acks" || om_fail "no acknowledgement after the outage"
sed -n '/ lost (/,$p' "$log" | grep -E 'lost|connect' >&2
echo "ok"
