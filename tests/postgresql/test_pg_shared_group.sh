#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_shared_group.sh - two aggregators in one MQTT 5 shared
# subscription group (broker.shared_group) on one PostgreSQL database, fed
# by three stand-in gateways (agg_replay.py: each keeps its polls until the
# cumulative acknowledgement covers them, and resends):
#   1. aggregator A is SIGKILLed in the middle of the bursts (groups are
#      held for a second, so it dies with received, uncommitted messages),
#      and restarted;
#   2. then B is SIGKILLed, and restarted;
#   3. then the broker is restarted (without persistence: what it held is
#      gone).
# In the end every gateway's acknowledgement reached its last seq, every
# poll is stored exactly once with its values (row by row), nothing is
# recorded as a conflict, and both aggregators did part of the work.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
mkdir -p "$OM_TMP/sites"
cp "$OM_SOURCE_DIR"/tests/data/report/sites/{alpha,bravo,charlie}.yaml "$OM_TMP/sites/"
for name in a b; do
    OM_AGG_DB=$OM_PG_URI OM_AGG_CLIENT=agg-$name OM_AGG_COMMIT_MS=1000 \
        om_write_agg_config "$OM_TMP/$name.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
    sed -i "s/client_id: agg-$name}/client_id: agg-$name, shared_group: aggregators}/" \
        "$OM_TMP/$name.yaml"
done
start() { # NAME: starts aggregator NAME, sets PID_NAME
    om_start_aggregator "$OM_TMP/$1.yaml"
    eval "PID_$1=$OM_AGG_PID"
}
start a
start b
sleep 0.5 # both subscribed

POLLS=6000
now=$(( $(date +%s) * 1000 ))
declare -A METERS=([alpha]=alpha-main,alpha-hvac,alpha-light [bravo]=bravo-main,bravo-servers
                   [charlie]=charlie-main,charlie-it)
pids=()
for site in alpha bravo charlie; do
    om_replay publish --port "$OM_BROKER_PORT" --site "$site" --gateway "$site-gw" \
        --meters "${METERS[$site]}" --epoch 00000000000000e7 --polls "$POLLS" --values 3 \
        --per-message 50 --window 10 --resend-s 2 --t0 $((now - 100000000)) --timeout 150 \
        --expected "$OM_TMP/$site.rows" --progress "$OM_TMP/$site.progress" --progress-after 25 \
        >"$OM_TMP/$site.json" &
    pids+=($!)
    om_track $!
done

acked() { # the lowest acknowledgement of the three gateways in the database
    om_psql "$OM_PG_URI" "SELECT CASE WHEN count(*) = 3 THEN min(upto) ELSE 0 END FROM epochs"
}
wait_acked_more() { # N: until the lowest acknowledgement grew by N
    local from i
    from=$(acked)
    for i in $(seq 1 300); do
        [ "$(acked)" -ge $((from + $1)) ] && return 0
        sleep 0.1
    done
    om_fail "the acknowledgements stopped at $(acked)"
}

om_wait_file "$OM_TMP/alpha.progress" 30
om_log "1. SIGKILL aggregator A in the middle of the bursts ($(acked) acknowledged)"
kill -KILL "$PID_a"
wait "$PID_a" 2>/dev/null || true
wait_acked_more 300 # B alone carries on
start a

wait_acked_more 300
om_log "2. SIGKILL aggregator B ($(acked) acknowledged)"
kill -KILL "$PID_b"
wait "$PID_b" 2>/dev/null || true
wait_acked_more 300
start b

wait_acked_more 300
om_log "3. broker restarted without persistence ($(acked) acknowledged)"
om_stop_broker
sleep 0.5
om_start_broker
[ "$(acked)" -lt "$POLLS" ] || om_fail "the bursts ended before the broker restart"

for i in 0 1 2; do
    om_wait_exit "${pids[$i]}" 150
    [ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "a gateway was not acknowledged: $(cat "$OM_TMP"/*.json)"
done
cat "$OM_TMP"/{alpha,bravo,charlie}.json >&2
python3 - "$OM_TMP"/{alpha,bravo,charlie}.json <<'PY' || om_fail "the kills cost no resend"
import json, sys
resends = sum(json.load(open(p))["resends"] for p in sys.argv[1:])
print("resends: %d" % resends, file=sys.stderr)
sys.exit(0 if resends > 0 else 1)
PY

got=$(om_psql "$OM_PG_URI" "SELECT g.gateway || '=' || e.upto FROM epochs e JOIN gateways g ON g.id = e.gateway ORDER BY 1" | tr '\n' ' ')
[ "$got" = "alpha-gw=$POLLS bravo-gw=$POLLS charlie-gw=$POLLS " ] ||
    om_fail "stored acknowledgement state: $got"
cat "$OM_TMP"/{alpha,bravo,charlie}.rows >"$OM_TMP/all.rows"
om_replay check --db "$OM_PG_URI" --expected "$OM_TMP/all.rows" >&2 || om_fail "stored rows differ"
[ "$(om_psql "$OM_PG_URI" "SELECT count(*) FROM conflicts")" = 0 ] || om_fail "conflicts recorded"
# Both members committed groups (the shared subscription spread the load):
# each logs its totals when it stops.
for name in a b; do
    kill -TERM "$(eval echo "\$PID_$name")"
done
for name in a b; do
    om_wait_exit "$(eval echo "\$PID_$name")" 20
done
n=$(grep -c "messages: .* commits" "$OM_TMP/aggregator.log" || true)
[ "$n" -ge 2 ] || om_fail "expected both aggregators to report commits (got $n summary lines)"
echo ok
