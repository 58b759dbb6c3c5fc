#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end acknowledgement against a real broker, with a stand-in gateway
# (agg_replay.py) that keeps every poll until it is acknowledged and resends:
#  1. duplicate delivery (every message published twice): stored once;
#  2. the aggregator SIGKILLed in the middle of a burst and restarted: every
#     poll stored exactly once (row by row, values compared) and everything
#     acknowledged in the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

# Groups held for a second: a SIGKILL then almost surely finds received,
# PUBACKed and uncommitted messages to lose, which only a resend repairs
# (with 50 ms groups, under load, the kill often found nothing in flight).
OM_AGG_COMMIT_MS=1000 om_start_aggregator_rig
port=$OM_BROKER_PORT
db=$OM_DB
now=$(( $(date +%s) * 1000 ))

om_log "duplicate delivery"
om_replay publish --port "$port" --epoch 00000000000000d1 --polls 600 --per-message 40 \
    --duplicate --t0 $((now - 400000000)) --expected "$OM_TMP/dup.rows" --timeout 20 \
    >"$OM_TMP/dup.json" || om_fail "duplicates: not all acknowledged: $(cat "$OM_TMP/dup.json")"
om_replay check --db "$db" --expected "$OM_TMP/dup.rows" || om_fail "duplicates: stored rows differ"
dups=$(om_sql "$db" "SELECT count(*) FROM conflicts")
[ "$dups" = 0 ] || om_fail "duplicates recorded as $dups conflicts"

om_log "SIGKILL during a burst"
om_start_burst 00000000000000d2 30000 3 120 --t0 $((now - 200000000))
pub=$OM_BURST_PID
kill -KILL "$OM_AGG_PID"
wait "$OM_AGG_PID" 2>/dev/null || true
stored=$(om_sql "$db" "SELECT count(*) FROM readings")
om_log "killed with $stored readings committed; restarting"
[ "$stored" -gt 1200 ] && [ "$stored" -lt 91200 ] ||
    om_fail "the kill did not land in the middle of the burst ($stored readings committed)"
sleep 0.3
om_start_aggregator "$OM_TMP/agg.yaml"
# Readers while the daemon writes: never an error, never "database is locked".
reads=0
while kill -0 "$pub" 2>/dev/null; do
    rc=0
    "$OM_BIN/officemeter" status --db "$db" --stale 100000000 >/dev/null 2>"$OM_TMP/status.err" || rc=$?
    [ "$rc" -eq 0 ] && [ ! -s "$OM_TMP/status.err" ] ||
        om_fail "status during the burst: exit $rc: $(cat "$OM_TMP/status.err")"
    reads=$((reads + 1))
done
om_log "$reads status reads during the burst"
om_wait_exit "$pub" 60
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "burst: not all acknowledged: $(cat "$OM_TMP/burst.json")"
cat "$OM_TMP/burst.json" >&2
grep -q '"resends": 0,' "$OM_TMP/burst.json" &&
    om_fail "the kill cost no resend: it did not happen during the burst"
cat "$OM_TMP/dup.rows" "$OM_TMP/burst.rows" >"$OM_TMP/all.rows"
om_replay check --db "$db" --expected "$OM_TMP/all.rows" >&2 || om_fail "burst: stored rows differ"
upto=$(om_sql "$db" "SELECT upto FROM epochs WHERE epoch = '00000000000000d2'")
[ "$upto" = 30000 ] || om_fail "stored acknowledgement state is $upto, expected 30000"
echo "ok"
