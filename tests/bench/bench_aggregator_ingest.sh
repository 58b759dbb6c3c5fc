#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_aggregator_ingest.sh - ingest throughput of officemeter-aggregator,
# end to end through mosquitto, next to two raw baselines measured in the
# same run on the same messages and rows:
#   A. mosquitto_sub alone receiving the messages (the broker's and the
#      network's ceiling),
#   B. bare SQLite inserting the same rows (the storage ceiling),
#   C. the aggregator: publish -> broker -> validate -> store -> commit, timed
#      until the acknowledgement of the last poll arrives (everything durable).
# Then the database's bytes per stored reading. Besides wall time, the CPU
# time of bare SQLite and of the aggregator's process is printed, and the
# ratio of the two: on a machine other work shares, that ratio moves far
# less than the wall-time one. tests/bench/bench_agg_pipeline breaks the
# aggregator's time down by phase (parse, judge, commit).
#
# Usage: tests/bench/bench_aggregator_ingest.sh   (after a build; OM_BIN
# defaults to build/bin). POLLS, VALUES (per poll) and PER_MESSAGE change the
# load; the default is 200 000 polls x 5 values = 1 000 000 readings in
# messages of 100 polls. Not a ctest test: it prints figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
om_setup

POLLS=${POLLS:-200000}
VALUES=${VALUES:-5}
PER_MESSAGE=${PER_MESSAGE:-100}
readings=$((POLLS * VALUES))
nmsg=$(((POLLS + PER_MESSAGE - 1) / PER_MESSAGE))
replay="$OM_SOURCE_DIR/tests/integration/agg_replay.py"
topic=officemeter/v1/sim-office/gw1/readings
ms() { date +%s%3N; }
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) * 1000 / max(1, float(sys.argv[2]))))" "$1" "$2"; }

[ -x "$OM_BIN/officemeter-aggregator" ] || om_fail "no $OM_BIN/officemeter-aggregator: build first"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load: $POLLS polls x $VALUES values = $readings readings in $nmsg messages"
python3 "$replay" messages --polls "$POLLS" --values "$VALUES" --per-message "$PER_MESSAGE" \
    --meters main,hvac,lifts,water,kitchen-water >"$OM_TMP/messages.txt"
echo "payload: $(stat -c %s "$OM_TMP/messages.txt") bytes of JSON"

OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
port=$OM_BROKER_PORT

# A. mosquitto_sub alone.
mosquitto_sub -p "$port" -q 1 -t "$topic" -C "$nmsg" >/dev/null &
sub=$!
om_track "$sub"
sleep 0.5
t0=$(ms)
mosquitto_pub -p "$port" -q 1 -t "$topic" -l <"$OM_TMP/messages.txt"
om_wait_exit "$sub" 300
t_sub=$(($(ms) - t0))
r_sub=$(rate "$readings" "$t_sub")
echo "A. mosquitto_sub alone:      $t_sub ms, $r_sub readings/s"

# B. bare SQLite, same rows.
read -r rows secs cpu_sql < <("$OM_BUILD_DIR/bench/bench_sqlite_insert" "$OM_TMP/bare.db" "$POLLS" "$VALUES" 5 100000)
t_sql=$(python3 -c "print(int(float('$secs') * 1000))")
r_sql=$(rate "$rows" "$t_sql")
echo "B. bare SQLite inserts:      $t_sql ms, $r_sql readings/s ($cpu_sql s CPU)"

# C. the aggregator, until the acknowledgement of the last poll.
mkdir "$OM_TMP/sites"
cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_TMP/sites/"
om_write_agg_config "$OM_TMP/agg.yaml" "$port" "$OM_TMP/sites" "log_level: warning"
sed -i 's/^commit_interval_ms: .*/commit_interval_ms: 200/' "$OM_TMP/agg.yaml"
om_start_aggregator "$OM_TMP/agg.yaml"
om_wait_aggregator_subscribed "$port" sim-office gw1 "$OM_TMP/agg.db"
mosquitto_sub -p "$port" -q 1 -t officemeter/v1/sim-office/gw1/ack >"$OM_TMP/acks" &
om_track $!
sleep 0.5
cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
cpu0=$(cpu "$OM_AGG_PID")
t0=$(ms)
mosquitto_pub -p "$port" -q 1 -t "$topic" -l <"$OM_TMP/messages.txt"
for i in $(seq 1 6000); do
    grep -qF "\"upto\":$POLLS}" "$OM_TMP/acks" && break
    sleep 0.02
done
t_agg=$(($(ms) - t0))
grep -qF "\"upto\":$POLLS}" "$OM_TMP/acks" || om_fail "no acknowledgement of the last poll"

r_agg=$(rate "$readings" "$t_agg")
cpu_agg=$(python3 -c "print('%.2f' % ($(cpu "$OM_AGG_PID") - $cpu0))")
echo "C. aggregator, end to end:   $t_agg ms, $r_agg readings/s (until the last ack; $cpu_agg s CPU)"
kill -TERM "$OM_AGG_PID"
om_wait_exit "$OM_AGG_PID" 30
stored=$(om_sql "$OM_TMP/agg.db" "SELECT count(*) FROM readings")
[ "$stored" -eq "$readings" ] || om_fail "stored $stored readings, expected $readings"

slower=$((r_sub < r_sql ? r_sub : r_sql))
python3 - "$r_agg" "$slower" "$r_sub" "$r_sql" "$cpu_sql" "$cpu_agg" <<'PY'
import sys
agg, slower, sub, sql, cpu_sql, cpu_agg = map(float, sys.argv[1:])
name = "mosquitto_sub" if sub <= sql else "bare SQLite"
print("ratio to the slower raw rate (%s): %.2f" % (name, agg / slower))
print("CPU ratio (bare SQLite's CPU / the aggregator's): %.2f" % (cpu_sql / cpu_agg))
print("target >= 100000 readings/s: %s" % ("met" if agg >= 100000 else "NOT met"))
PY

# Bytes per reading: the database after a clean stop (WAL checkpointed).
size=$(stat -c %s "$OM_TMP/agg.db")
bare=$(stat -c %s "$OM_TMP/bare.db")
python3 - "$size" "$stored" "$bare" "$rows" <<'PY'
import sys
size, n, bare, rows = map(int, sys.argv[1:])
print("database: %d bytes for %d readings: %.1f bytes per reading (bare table: %.1f)"
      % (size, n, size / n, bare / rows))
PY
