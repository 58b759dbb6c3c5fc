#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile inputs (issue 13): a storm of 12 000 mutated and forged messages
# (blind byte mutations of readings, extreme numbers where overflows hide,
# seqs at and beyond 2^53, health counters near 2^63, deep nesting, broken
# status, forged and malformed topics, random bytes) on the same broker as
# a stand-in gateway sending 6 000 valid polls that it resends until they
# are acknowledged. Every valid poll is stored exactly once, the gateway's
# acknowledgement reaches its last poll, the aggregator stays up (under
# the sanitizer build too) and its log stays rate-limited; the refusals are
# recorded with their codes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_aggregator_rig
db=$OM_DB
log="$OM_TMP/aggregator.log"

om_replay storm --port "$OM_BROKER_PORT" --count 6000 --seed 1301 >"$OM_TMP/storm1.json" &
storm1=$!
om_track "$storm1"
om_start_burst 00000000000000e7 6000 3 5 --per-message 50 --timeout 120
pub=$OM_BURST_PID
om_replay storm --port "$OM_BROKER_PORT" --count 6000 --seed 1302 >"$OM_TMP/storm2.json" &
storm2=$!
om_track "$storm2"

om_wait_exit "$storm1" 120
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "the first storm failed"
om_wait_exit "$storm2" 120
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "the second storm failed"
om_wait_exit "$pub" 120
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "the valid polls were not all acknowledged: $(cat "$OM_TMP/burst.json")"
kill -0 "$OM_AGG_PID" || { tail -30 "$log" >&2; om_fail "the aggregator died in the storm"; }
om_replay check --db "$db" --expected "$OM_TMP/burst.rows" --only-meters main,hvac,lifts >&2 ||
    om_fail "the valid polls were not stored exactly once"

# Refusals are recorded with their codes; the log is rate-limited.
counts=$("$OM_BIN/officemeter" rejects --db "$db" --counts)
for code in bad_json bad_seq too_deep bad_topic; do
    grep -q " $code " <<<"$counts" || { echo "$counts" >&2; om_fail "no $code among the rejects"; }
done
total=$(om_sql "$db" "SELECT sum(count) FROM reject_counts")
lines=$(wc -l <"$log")
om_log "$total refusals recorded, $lines log lines"
[ "$total" -gt 5000 ] || om_fail "only $total refusals recorded for 12 000 hostile messages"
[ "$lines" -lt 200 ] || { tail -20 "$log" >&2; om_fail "$lines log lines: not rate-limited"; }
"$OM_BIN/officemeter" status --db "$db" --stale 100000000 >/dev/null || om_fail "status failed after the storm"

# A clean stop after the storm.
kill -TERM "$OM_AGG_PID"
om_wait_exit "$OM_AGG_PID" 20
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "the aggregator exited $OM_EXIT_STATUS after SIGTERM"
grep -q "sanitizer\|runtime error" "$log" && { grep -m5 "sanitizer\|runtime error" "$log" >&2; om_fail "sanitizer findings"; }
echo "ok"
