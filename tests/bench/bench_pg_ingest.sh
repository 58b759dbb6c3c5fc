#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_pg_ingest.sh - ingest into PostgreSQL, in one run, on one cluster
# (durable: fsync on), of the same rows three ways:
#   A. bare COPY into the store's readings table (bench_pg_copy: no JSON, no
#      MQTT, no checks, no conflict handling), one transaction per 100 000,
#      twice: in the text format, rows in the order the polls came, and in
#      the binary format, rows in key order (the fastest); the ratios are
#      taken against the faster of the two;
#   B. one aggregator, end to end: publish -> mosquitto -> judge -> COMMIT,
#      until the acknowledgement of every gateway's last poll;
#   C. two aggregators in a shared subscription group, the same way.
# The load is EPOCHS stand-in gateways' outboxes (default 8) of
# POLLS / EPOCHS polls of VALUES readings each (default 200 000 x 5),
# published interleaved. Not a ctest test: it prints figures.
#
#   tests/bench/bench_pg_ingest.sh        (after a build; OM_BIN: build/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
om_setup
OM_PG_FSYNC=on om_start_postgres

POLLS=${POLLS:-200000}
VALUES=${VALUES:-5}
EPOCHS=${EPOCHS:-8}
PER_MESSAGE=${PER_MESSAGE:-100}
readings=$((POLLS * VALUES))
each=$((POLLS / EPOCHS))
ms() { date +%s%3N; }
# CPU seconds of a process and of its children it has waited for (the
# server's backends are the postmaster's).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15 + $16 + $17) / hz}' "/proc/$1/stat"; }
server_pid() { head -1 "$OM_PG_DIR/data/postmaster.pid"; }
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) * 1000 / max(1, float(sys.argv[2]))))" "$1" "$2"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load: $EPOCHS gateways x $each polls x $VALUES values = $readings readings"

t0=$(( ($(date +%s) - 3 * 86400) * 1000 ))
for e in $(seq 1 "$EPOCHS"); do
    om_replay messages --polls "$each" --values "$VALUES" --per-message "$PER_MESSAGE" \
        --epoch "$(printf '%016x' "$e")" --t0 $((t0 + (e - 1) * each * 1000)) \
        --meters main,hvac,lifts,water,kitchen-water >"$OM_TMP/m.$e"
done
paste -d '\n' "$OM_TMP"/m.* | grep -v '^$' >"$OM_TMP/messages.txt"

# A. bare COPY, both ways.
bare() {
    local db rows secs cpu
    db=$(om_pg_database "bare_$1")
    read -r rows secs cpu < <("$OM_BUILD_DIR/bench/bench_pg_copy" "$db" "$POLLS" "$VALUES" 5 100000 "$t0" "$1")
    [ "$rows" -eq "$readings" ] || om_fail "bare COPY ($1): $rows rows, expected $readings"
    python3 -c "print(int(float('$secs') * 1000))"
}
t_text=$(bare text)
echo "A1. bare COPY, text:          $t_text ms, $(rate "$readings" "$t_text") readings/s"
t_binary=$(bare binary)
echo "A2. bare COPY, binary, keyed: $t_binary ms, $(rate "$readings" "$t_binary") readings/s"
t_copy=$((t_text < t_binary ? t_text : t_binary))
r_copy=$(rate "$readings" "$t_copy")

OM_BROKER_EXTRA="max_queued_messages 200000" om_start_broker
mkdir -p "$OM_TMP/sites"
cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_TMP/sites/"
# run NAME N: N aggregators (a shared group when N > 1) on a database of
# their own; the wall time until every gateway's last poll is acknowledged.
run() {
    local name=$1 n=$2 i pids=()
    local db
    db=$(om_pg_database "$name")
    for i in $(seq 1 "$n"); do
        OM_AGG_DB=$db OM_AGG_CLIENT="agg-$name-$i" OM_AGG_COMMIT_MS=200 \
            om_write_agg_config "$OM_TMP/$name.$i.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites" \
            "log_level: warning"
        [ "$n" -eq 1 ] || sed -i "s/client_id: agg-$name-$i}/client_id: agg-$name-$i, shared_group: bench}/" \
            "$OM_TMP/$name.$i.yaml"
        om_start_aggregator "$OM_TMP/$name.$i.yaml"
        pids+=("$OM_AGG_PID")
    done
    : >"$OM_TMP/acks.$name"
    mosquitto_sub -p "$OM_BROKER_PORT" -q 1 -t officemeter/v1/sim-office/gw1/ack >"$OM_TMP/acks.$name" &
    om_track $!
    sleep 1
    local start server0 broker0
    server0=$(cpu_s "$(server_pid)")
    broker0=$(cpu_s "$OM_BROKER_PID")
    start=$(ms)
    mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -t officemeter/v1/sim-office/gw1/readings -l \
        <"$OM_TMP/messages.txt"
    for i in $(seq 1 12000); do
        [ "$(grep -c "\"upto\":$each}" "$OM_TMP/acks.$name")" -ge "$EPOCHS" ] && break
        sleep 0.02
    done
    T=$(($(ms) - start))
    CPU_AGG=0
    for i in "${pids[@]}"; do CPU_AGG=$(python3 -c "print(round($CPU_AGG + $(cpu_s "$i"), 1))"); done
    CPU_BROKER=$(python3 -c "print(round($(cpu_s "$OM_BROKER_PID") - $broker0, 1))")
    [ "$(grep -c "\"upto\":$each}" "$OM_TMP/acks.$name")" -ge "$EPOCHS" ] ||
        om_fail "$name: not every gateway acknowledged"
    for i in "${pids[@]}"; do om_stop_pid "$i"; done
    sleep 0.5 # the backends of the aggregators' sessions exit and are counted
    CPU_SERVER=$(python3 -c "print(round($(cpu_s "$(server_pid)") - $server0, 1))")
    local stored
    stored=$(om_psql "$db" "SELECT count(*) FROM readings")
    [ "$stored" -eq "$readings" ] || om_fail "$name: stored $stored readings, expected $readings"
}
run one 1
t_one=$T
r_one=$(rate "$readings" "$t_one")
echo "B. one aggregator:           $t_one ms, $r_one readings/s (until the last ack)"
echo "   CPU: aggregator $CPU_AGG s, server $CPU_SERVER s, broker $CPU_BROKER s"
run two 2
t_two=$T
r_two=$(rate "$readings" "$t_two")
echo "C. two aggregators (shared): $t_two ms, $r_two readings/s (until the last ack)"
echo "   CPU: aggregators $CPU_AGG s, server $CPU_SERVER s, broker $CPU_BROKER s"
python3 - "$r_copy" "$r_one" "$r_two" <<'PY'
import sys
copy, one, two = map(float, sys.argv[1:])
print("one aggregator / the faster bare COPY: %.2f (target >= 0.5)" % (one / copy))
print("two aggregators / the faster bare COPY: %.2f" % (two / copy))
PY
