#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The broker restarted without persistence in the middle of a burst: what it
# held in memory (queued, in flight) is gone, yet nothing is lost, because
# only the aggregator's commit acknowledges a poll: the stand-in gateway
# (agg_replay.py) and the aggregator reconnect, the gateway resends what is
# unacknowledged, and every poll is stored exactly once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_aggregator_rig
port=$OM_BROKER_PORT
db=$OM_DB

om_start_burst 00000000000000b1 30000 2 100
pub=$OM_BURST_PID
kill -KILL "$OM_BROKER_PID"
wait "$OM_BROKER_PID" 2>/dev/null || true
stored=$(om_sql "$db" "SELECT count(*) FROM readings")
om_log "broker killed with $stored readings committed; restarting it"
[ "$stored" -lt 60000 ] || om_fail "the broker stopped after the burst, not during it"
sleep 0.5
OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
om_wait_exit "$pub" 60
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "not all acknowledged: $(cat "$OM_TMP/burst.json")"
cat "$OM_TMP/burst.json" >&2
grep -q '"reconnects": 0,' "$OM_TMP/burst.json" && om_fail "the gateway never reconnected"
om_replay check --db "$db" --expected "$OM_TMP/burst.rows" >&2 || om_fail "stored rows differ"
kill -0 "$OM_AGG_PID" || om_fail "the aggregator died with the broker"
echo "ok"
