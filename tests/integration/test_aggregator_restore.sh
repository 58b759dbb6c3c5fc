#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The aggregator's database restored from a backup, as README "Backups"
# describes: the polls acknowledged after the backup are gone from the
# database and from the gateway's outbox, so their seqs never come again.
# The aggregator gives that gap up after gap_close_s (here 4 s, above the
# agent's resend timeout of 3 s), records it in lost_seqs and logs it; the
# acknowledgement moves on and the agent's outbox drains; every poll made
# after the restore is stored.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

site="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
om_start_broker
port=$OM_BROKER_PORT
om_start_office_sim
buses=("${OM_BUSES[@]}")
om_start_office_aggregator "gap_close_s: 4"
db=$OM_DB
OM_AGENT_INTERVALS='{counters_s: 1, instant_s: 1, health_s: 1, backoff_max_s: 2}'
om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
om_start_agent "$OM_TMP/agent.yaml" "${buses[@]}"

upto() { om_sql "$db" "SELECT coalesce(max(upto), 0) FROM epochs"; }
outbox_depth() { om_sql "$OM_TMP/outbox.db" "SELECT count(*) FROM polls"; }
wait_upto() { # N SECONDS
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do [ "$(upto)" -ge "$1" ] && return 0; sleep 0.1; done
    om_fail "acknowledged up to $(upto) after $2 s, expected $1"
}

wait_upto 10 20
sqlite3 -readonly "$db" ".backup '$OM_TMP/backup.db'"
at_backup=$(om_sql "$OM_TMP/backup.db" "SELECT max(upto) FROM epochs")
wait_upto $(( at_backup + 15 )) 20
om_log "backup at seq $at_backup; restoring it with the aggregator acknowledged up to $(upto)"

kill -TERM "$OM_AGG_PID"
om_wait_exit "$OM_AGG_PID" 10
cp "$OM_TMP/backup.db" "$db"
rm -f "$db-wal" "$db-shm"
restored_at=$SECONDS
om_start_aggregator "$OM_TMP/agg.yaml"
[ "$(upto)" -eq "$at_backup" ] || om_fail "the restored database acknowledges $(upto), not $at_backup"

# The gap holds the acknowledgement back for gap_close_s, then is given up.
for i in $(seq 1 200); do
    [ -n "$(om_sql "$db" "SELECT first FROM lost_seqs")" ] && break
    sleep 0.1
done
lost=$(om_sql "$db" "SELECT first || '..' || last FROM lost_seqs")
[ -n "$lost" ] || { tail -20 "$OM_TMP/aggregator.log" >&2; om_fail "the gap was never given up"; }
[ $(( SECONDS - restored_at )) -ge 4 ] || om_fail "the gap was given up before gap_close_s"
first=${lost%%..*}
[ "$first" -eq $(( at_backup + 1 )) ] || om_fail "lost seqs $lost, expected to start at $(( at_backup + 1 ))"
grep -q "seqs $lost never arrived .* recorded as lost" "$OM_TMP/aggregator.log" ||
    om_fail "no log line for the lost seqs $lost"

# The acknowledgement moves on and the outbox drains.
last=${lost##*..}
wait_upto $(( last + 5 )) 20
for i in $(seq 1 100); do [ "$(outbox_depth)" -le 10 ] && break; sleep 0.1; done
[ "$(outbox_depth)" -le 10 ] || om_fail "the agent's outbox did not drain: $(outbox_depth) polls"

# Every poll after the lost range is stored: the seqs the agent made after
# it are all acknowledged and none of them is in lost_seqs.
om_stop_agent
next_seq=$(om_sql "$OM_TMP/outbox.db" "SELECT value FROM meta WHERE key = 'next_seq'")
[ "$(om_sql "$db" "SELECT count(*) FROM lost_seqs")" -eq 1 ] || om_fail "more than one lost range"
[ "$(upto)" -eq $(( next_seq - 1 )) ] || om_fail "acknowledged $(upto), the agent made $(( next_seq - 1 ))"
echo "ok"
