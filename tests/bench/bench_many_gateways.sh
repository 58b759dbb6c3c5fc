#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_many_gateways.sh - the central side under a fleet: GATEWAYS stand-in
# gateways (default 5 000: 500 sites x 10) of METERS meters (20) each, every
# gateway publishing one poll of each meter every INTERVAL_S (60) seconds,
# all from one process (gateway_swarm.py: one MQTT connection per gateway,
# as in the field) to mosquitto on loopback, for DURATION_S (180) seconds
# after a first, unmeasured round. Figures: the acknowledgement latency of
# every message (publish -> the ack that covers it) at p50 / p99 / max
# against the target of two commit intervals at p99, what was resent, the
# aggregators' CPU, and the readings stored against those sent (every poll
# once). Not a ctest test: it prints figures.
#
#   tests/bench/bench_many_gateways.sh                 (SQLite, one aggregator)
#   DATABASE=postgresql AGGREGATORS=2 tests/bench/bench_many_gateways.sh
#
# Environment: SITES (500), GATEWAYS_PER_SITE (10), METERS (20), INTERVAL_S,
# DURATION_S, COMMIT_MS (200: the aggregator's commit_interval_ms),
# DATABASE (sqlite | postgresql), AGGREGATORS (1; 2 or more need PostgreSQL:
# a shared subscription group).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
om_setup

SITES=${SITES:-500}
GATEWAYS_PER_SITE=${GATEWAYS_PER_SITE:-10}
METERS=${METERS:-20}
INTERVAL_S=${INTERVAL_S:-60}
DURATION_S=${DURATION_S:-180}
COMMIT_MS=${COMMIT_MS:-200}
DATABASE=${DATABASE:-sqlite}
AGGREGATORS=${AGGREGATORS:-1}
gateways=$((SITES * GATEWAYS_PER_SITE))
[ "$AGGREGATORS" -eq 1 ] || [ "$DATABASE" = postgresql ] ||
    om_fail "AGGREGATORS=$AGGREGATORS needs DATABASE=postgresql (one SQLite file has one writer)"
# One descriptor per gateway in the broker and in the swarm, and some.
ulimit -n $((gateways * 2 + 1024)) || om_fail "cannot raise the open-file limit to $((gateways * 2 + 1024))"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fleet: $gateways gateways ($SITES sites x $GATEWAYS_PER_SITE) x $METERS meters, a poll of each every $INTERVAL_S s;" \
    "$DATABASE, $AGGREGATORS aggregator(s), commit_interval_ms $COMMIT_MS"
swarm() { python3 "$here/gateway_swarm.py" "$@"; }
swarm sites --dir "$OM_TMP/sites" --sites "$SITES" --gateways "$GATEWAYS_PER_SITE" --meters "$METERS"

if [ "$DATABASE" = postgresql ]; then
    OM_PG_FSYNC=on om_start_postgres
    db=$(om_pg_database fleet)
else
    db=$OM_TMP/fleet.db
fi
OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pids=()
for i in $(seq 1 "$AGGREGATORS"); do
    OM_AGG_DB=$db OM_AGG_CLIENT="agg-fleet-$i" OM_AGG_COMMIT_MS=$COMMIT_MS \
        om_write_agg_config "$OM_TMP/agg.$i.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites" "log_level: warning"
    [ "$AGGREGATORS" -eq 1 ] ||
        sed -i "s/client_id: agg-fleet-$i}/client_id: agg-fleet-$i, shared_group: fleet}/" "$OM_TMP/agg.$i.yaml"
    t0=$SECONDS
    om_start_aggregator "$OM_TMP/agg.$i.yaml"
    echo "aggregator $i ready in $((SECONDS - t0)) s ($((gateways * METERS)) meters in the site files)"
    pids+=("$OM_AGG_PID")
done
cpu0=0
for p in "${pids[@]}"; do cpu0=$((cpu0 + $(cpu_ticks "$p"))); done
broker0=$(cpu_ticks "$OM_BROKER_PID")

wall0=$SECONDS
rc=0
swarm run --port "$OM_BROKER_PORT" --sites "$SITES" --gateways "$GATEWAYS_PER_SITE" \
    --meters "$METERS" --interval-s "$INTERVAL_S" --duration-s "$DURATION_S" >"$OM_TMP/swarm.json" || rc=$?
wall=$((SECONDS - wall0))
cpu1=0
for p in "${pids[@]}"; do cpu1=$((cpu1 + $(cpu_ticks "$p"))); done
broker1=$(cpu_ticks "$OM_BROKER_PID")
hz=$(getconf CLK_TCK)
cat "$OM_TMP/swarm.json"
[ "$rc" -eq 0 ] || { tail -20 "$OM_TMP/aggregator.log" >&2; om_fail "not every message was acknowledged"; }
for p in "${pids[@]}"; do om_stop_pid "$p"; done
stored=$(om_db_sql "$db" "SELECT count(*) FROM readings")
python3 - "$OM_TMP/swarm.json" "$stored" "$COMMIT_MS" "$(( cpu1 - cpu0 ))" "$(( broker1 - broker0 ))" "$hz" "$wall" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
stored, commit_ms, agg_ticks, broker_ticks, hz, wall = map(float, sys.argv[2:])
print("messages %d (%d polls, %d readings), resent %d, connections lost %d"
      % (s["messages"], s["polls"], s["readings"], s["resent"], s["lost_connections"]))
print("readings stored %d of %d sent: %s" % (stored, s["readings"],
      "every poll once" if stored == s["readings"] else "MISMATCH"))
print("ack latency over %d messages: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 <= %d ms: %s)"
      % (s["acks_measured"], s["ack_ms_p50"], s["ack_ms_p99"], s["ack_ms_max"], 2 * commit_ms,
         "met" if s["ack_ms_p99"] <= 2 * commit_ms else "NOT met"))
print("CPU over %d s: aggregators %.1f s (%.0f %% of a core), mosquitto %.1f s, the swarm %.1f s"
      % (wall, agg_ticks / hz, 100 * agg_ticks / hz / wall, broker_ticks / hz, s["swarm_cpu_s"]))
sys.exit(0 if stored == s["readings"] else 1)
PY
