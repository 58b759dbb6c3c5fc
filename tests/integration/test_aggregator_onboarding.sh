#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Onboarding and operations: polls of a meter not yet declared are
# quarantined (and acknowledged); after the site file is fixed, SIGHUP makes
# the daemon store new polls of that meter directly and `officemeter
# requeue` stores the quarantined ones; a broken site file on SIGHUP is
# refused and the old sites kept. `officemeter status` shows online/offline,
# outbox depth and errors from health, and exits 1 when anything is stale.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_aggregator_rig
port=$OM_BROKER_PORT
db=$OM_DB
om="$OM_BIN/officemeter"
topic=officemeter/v1/sim-office/gw1
t=$(( $(date +%s) * 1000 - 60000 ))
msg() { # msg SEQ METER T
    printf '{"v":1,"site":"sim-office","gateway":"gw1","epoch":"00000000000000c1","polls":[{"seq":%s,"meter":"%s","t":%s,"values":{"energy_import_kwh":%s.5}}]}' "$1" "$2" "$3" "$1"
}
pub() { mosquitto_pub -p "$port" -q 1 -t "$topic/readings" -m "$1" || om_fail "mosquitto_pub"; }
wait_sql() { # wait_sql QUERY EXPECTED
    local i
    for i in $(seq 1 100); do
        [ "$(om_sql "$db" "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    om_fail "$1: got $(om_sql "$db" "$1"), expected $2"
}

pub "$(msg 1 newmeter "$t")"
pub "$(msg 2 newmeter $((t + 1000)))"
pub "$(msg 3 main "$t")"
wait_sql "SELECT count(*) FROM quarantine" 2
wait_sql "SELECT upto FROM epochs" 3
"$om" rejects --db "$db" --quarantine | grep -qF 'meter "newmeter" is not declared in' ||
    om_fail "quarantine reason missing"

# Declare the meter; requeue --dry-run changes nothing.
cat >>"$OM_TMP/sites/sim-office.yaml" <<'YAML'
  - {id: newmeter, model: eastron-sdm630, gateway: gw1, bus: rs485-1, unit_id: 9,
     utility: electricity, role: sub}
YAML
"$om" requeue --config "$OM_TMP/agg.yaml" --dry-run | grep -qF 'dry run: 2 polls stored' ||
    om_fail "dry run did not find the two polls"
[ "$(om_sql "$db" "SELECT count(*) FROM quarantine")" = 2 ] || om_fail "dry run changed the quarantine"

# SIGHUP: new polls of the meter are stored directly.
kill -HUP "$OM_AGG_PID"
for i in $(seq 1 100); do grep -q 'reloaded 1 site files' "$OM_TMP/aggregator.log" && break; sleep 0.05; done
grep -q 'reloaded 1 site files' "$OM_TMP/aggregator.log" || om_fail "no reload after SIGHUP"
pub "$(msg 4 newmeter $((t + 2000)))"
wait_sql "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter WHERE m.meter = 'newmeter'" 1
[ "$(om_sql "$db" "SELECT count(*) FROM quarantine")" = 2 ] || om_fail "poll 4 was quarantined"

# requeue stores the quarantined polls, once.
out=$("$om" requeue --config "$OM_TMP/agg.yaml")
echo "$out" | grep -qF '2 polls stored (2 new readings, 0 duplicates, 0 conflicts), 0 rejected, 0 still quarantined' ||
    om_fail "requeue: $out"
[ "$(om_sql "$db" "SELECT count(*) FROM quarantine")" = 0 ] || om_fail "quarantine not emptied"
[ "$(om_sql "$db" "SELECT group_concat(r.value) FROM readings r JOIN meters m ON m.id = r.meter WHERE m.meter = 'newmeter' ORDER BY r.t")" = "1.5,2.5,4.5" ] ||
    om_fail "newmeter readings differ"
"$om" requeue --config "$OM_TMP/agg.yaml" | grep -qF '0 polls stored' || om_fail "second requeue not empty"

# A broken site file on SIGHUP: refused, the old sites kept.
cp "$OM_TMP/sites/sim-office.yaml" "$OM_TMP/good.yaml"
echo "  - {id: broken, model: no-such-model, gateway: gw1, bus: rs485-1, unit_id: 10, utility: electricity, role: sub}" \
    >>"$OM_TMP/sites/sim-office.yaml"
kill -HUP "$OM_AGG_PID"
for i in $(seq 1 100); do grep -q 'site files not reloaded' "$OM_TMP/aggregator.log" && break; sleep 0.05; done
grep -q 'site files not reloaded' "$OM_TMP/aggregator.log" || om_fail "broken site file accepted"
grep -q 'unknown model (got "no-such-model"' "$OM_TMP/aggregator.log" || om_fail "site error not logged"
pub "$(msg 5 newmeter $((t + 3000)))"
wait_sql "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter WHERE m.meter = 'newmeter'" 4
cp "$OM_TMP/good.yaml" "$OM_TMP/sites/sim-office.yaml"

# Status: health, offline, stale.
mosquitto_pub -p "$port" -q 0 -r -t "$topic/health" \
    -m '{"v":1,"outbox":{"depth":12},"meters":{"main":{"requests":9,"timeouts":2,"crc_errors":1,"exceptions":0}}}'
for i in $(seq 1 100); do
    "$om" status --db "$db" --stale 3600 | grep -Eq '^sim-office +gw1 +online .* 12 +3 +ok$' && break
    sleep 0.05
done
out=$("$om" status --db "$db" --stale 3600) || om_fail "status --db: exit $?, all is fresh: $out"
echo "$out" | grep -Eq '^sim-office +gw1 +online .* 12 +3 +ok$' || om_fail "gateway line: $out"
echo "$out" | grep -Eq '^sim-office +newmeter +- .* ok$' || om_fail "meter line: $out"
# --now judges ages at another time: a day later everything is stale.
rc=0
out=$("$om" status --db "$db" --stale 3600 --now "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)") || rc=$?
[ "$rc" -eq 1 ] || om_fail "status --now a day later: exit $rc, expected 1 (stale): $out"
echo "$out" | grep -Eq '^sim-office +gw1 +online .* STALE$' || om_fail "--now: gateway not stale: $out"
rc=0
"$om" status --db "$db" --now yesterday 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--now: bad timestamp" "$OM_TMP/err" || om_fail "--now yesterday: exit $rc, $(cat "$OM_TMP/err")"
rc=0
out=$("$om" status --config "$OM_TMP/agg.yaml" --stale 3600) || rc=$?
[ "$rc" -eq 1 ] || om_fail "status --config with never-seen meters: exit $rc, expected 1"
echo "$out" | grep -Eq '^sim-office +hvac +gw1 +never +- +- +STALE$' || om_fail "hvac not stale: $out"
echo "$out" | grep -Eq '^sim-office +main +gw1 .* 3 +ok$' || om_fail "main not ok with 3 errors from health: $out"
rc=0
"$om" status --db "$db" --stale 30 >/dev/null || rc=$?
[ "$rc" -eq 1 ] || om_fail "readings a minute old with a 30 s threshold: exit $rc, expected 1"
mosquitto_pub -p "$port" -q 1 -r -t "$topic/status" -m '{"v":1,"state":"offline"}'
for i in $(seq 1 100); do
    "$om" status --db "$db" --stale 3600 | grep -Eq '^sim-office +gw1 +offline' && break
    sleep 0.05
done
"$om" status --db "$db" --stale 3600 | grep -Eq '^sim-office +gw1 +offline' || om_fail "last will not shown"
rc=0
"$om" status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || om_fail "status without --db or --config: exit $rc, expected 2"
rc=0
"$om" status --db "$OM_TMP/none.db" 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -qF 'no such database' "$OM_TMP/err" || om_fail "missing database: exit $rc"
echo "ok"
