#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_web.sh - officemeter-web on a large portfolio: latency of its pages
# with 20 concurrent clients, cold and warm, and the aggregator's ingest
# rate while the web view is under that load against its rate without it.
#
#   tests/bench/bench_web.sh        (after a build; prints figures, not a ctest test)
#
# Environment: SITES (200), METERS (10 per site), FROM (2024-12-04), UNTIL
# (2026-12-04: two years), INTERVAL_S (300: 5-minute readings), CLIENTS
# (20), REQUESTS (400 per URL, warm), DETAIL_FROM and DETAIL_INTERVAL_S
# (readings every DETAIL_INTERVAL_S, default 300, from DETAIL_FROM on: e.g.
# hourly readings for the older months and 5-minute ones for the recent
# ones, which are what the pages read raw), KEEP_DB (a folder: reuse or keep the
# generated portfolio there; generating the default one takes a while and
# about 30 GB).
#
# 1. The portfolio: bench_web_gen writes the site files and the readings
#    through the store's own writer (so the hourly aggregates are written as
#    the aggregator writes them); `officemeter rollup` then stores every
#    complete month, as the monthly timer would have.
# 2. For each URL (/, a site page, the monthly API, a one-year meter chart):
#    cold = a fresh officemeter-web with the database's pages dropped from
#    the OS cache (posix_fadvise DONTNEED on its files only), then CLIENTS
#    concurrent first requests; warm = REQUESTS more with CLIENTS at a time.
#    p50 and p95 from ab (apache2-utils). Target: p95 <= 100 ms.
# 3. Ingest: the aggregator on the same database takes POLLS polls from the
#    stand-in gateway (agg_replay.py) into site w000, timed until the last
#    acknowledgement, once alone and once while ab keeps CLIENTS clients on
#    the site page and the portfolio (ab at the web view's nice level: the
#    clients stand for browsers elsewhere). Target: within 10 % of each other.
# PAGE_CACHE_S (5) is the web view's page_cache_s: 0 measures every answer
# computed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
om_setup

SITES=${SITES:-200}
METERS=${METERS:-10}
FROM=${FROM:-2024-12-04T00:00:00Z}
UNTIL=${UNTIL:-2026-12-04T00:00:00Z}
INTERVAL_S=${INTERVAL_S:-300}
DETAIL_FROM=${DETAIL_FROM:-}
DETAIL_INTERVAL_S=${DETAIL_INTERVAL_S:-300}
CLIENTS=${CLIENTS:-20}
# The unit runs the web view at Nice=10: the aggregator comes first.
export OM_WEB_NICE=${OM_WEB_NICE:-10}
REQUESTS=${REQUESTS:-400}
POLLS=${POLLS:-100000}
NOW=$UNTIL
command -v ab >/dev/null || om_fail "ab not found (Debian package apache2-utils)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

data=${KEEP_DB:-$OM_TMP/data}
mkdir -p "$data/sites"
OM_DB="$data/agg.db"
if [ ! -s "$data/generated" ]; then
    echo "generating $SITES sites x $METERS meters, $FROM .. $UNTIL every $INTERVAL_S s"
    t0=$SECONDS
    detail=()
    [ -z "$DETAIL_FROM" ] || detail=("$DETAIL_FROM" "$DETAIL_INTERVAL_S")
    n=$("$OM_BUILD_DIR/bench/bench_web_gen" "$OM_DB" "$data/sites" "$SITES" "$METERS" "$FROM" \
        "$UNTIL" "$INTERVAL_S" "${detail[@]}") || om_fail "bench_web_gen failed"
    echo "  $n readings in $((SECONDS - t0)) s"
    t0=$SECONDS
    python3 - "$FROM" "$UNTIL" >"$data/months" <<'PY'
import sys
y, m = int(sys.argv[1][:4]), int(sys.argv[1][5:7])
ey, em = int(sys.argv[2][:4]), int(sys.argv[2][5:7])
while (y, m) < (ey, em):
    print("%04d-%02d" % (y, m))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
PY
    mkdir -p "$data/rollups"
    while read -r month; do
        "$OM_BIN/officemeter" rollup --db "$OM_DB" --sites "$data/sites" --now "$NOW" \
            --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --month "$month" \
            --out "$data/rollups" >/dev/null || om_fail "rollup $month failed"
    done <"$data/months"
    echo "  rollups of $(wc -l <"$data/months") months stored in $((SECONDS - t0)) s"
    echo "$n" >"$data/generated"
fi
echo "database: $(du -h "$OM_DB" | cut -f1), $(cat "$data/generated") readings"

drop_cache() {
    python3 - "$OM_DB" "$OM_DB-wal" "$OM_DB-shm" <<'PY'
import os, sys
for path in sys.argv[1:]:
    if os.path.exists(path):
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY
}
start_web() {
    OM_WEB_PORT=$(om_free_port)
    cat >"$OM_TMP/web.yaml" <<YAML
database: $OM_DB
sites_dir: $data/sites
catalogue: $OM_SOURCE_DIR/firmware-config/meters
listen: 127.0.0.1:$OM_WEB_PORT
threads: 4
page_cache_s: ${PAGE_CACHE_S:-5}
log_level: warning
YAML
    om_start_web "$OM_TMP/web.yaml" --now "$NOW"
}
# ab's "50%" and "95%" lines (ms), and failures.
percentiles() {
    awk '/^  50%/ {p50=$2} /^  95%/ {p95=$2} /^Failed requests/ {f=$3} /^Non-2xx/ {n=$3}
         END {printf "p50 %4d ms  p95 %4d ms  failed %d\n", p50, p95, f + n}' "$1"
}

year=$(echo "$NOW" | cut -c1-4)
urls=("/" "/sites/w000" "/api/v1/sites/w000/monthly?year=$year"
      "/sites/w000/meters/m0?from=$((year - 1))-12-01&to=$year-12-01")
echo
echo "latency, $CLIENTS concurrent clients (target p95 <= 100 ms)"
for url in "${urls[@]}"; do
    start_web
    drop_cache
    sleep 1 # the daemon's own start (its summaries warmer runs from here on)
    ab -q -c "$CLIENTS" -n "$CLIENTS" "http://127.0.0.1:$OM_WEB_PORT$url" >"$OM_TMP/cold.txt" 2>&1 ||
        om_fail "ab failed on $url"
    ab -q -c "$CLIENTS" -n "$REQUESTS" "http://127.0.0.1:$OM_WEB_PORT$url" >"$OM_TMP/warm.txt" 2>&1 ||
        om_fail "ab failed on $url"
    printf '  %-52s cold: %s\n' "$url" "$(percentiles "$OM_TMP/cold.txt")"
    printf '  %-52s warm: %s\n' "" "$(percentiles "$OM_TMP/warm.txt")"
    om_stop_pid "$OM_WEB_PID"
done

echo
echo "ingest into the same database: $POLLS polls x 3 values, alone and under web load"
mkdir -p "$OM_TMP/agg-sites"
cp "$data/sites/w000.yaml" "$OM_TMP/agg-sites/"
OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/agg-sites" "log_level: warning"
sed -i "s#^database: .*#database: $OM_DB#; s/^commit_interval_ms: .*/commit_interval_ms: 200/" "$OM_TMP/agg.yaml"
om_start_aggregator "$OM_TMP/agg.yaml"
meters=m0,m1,m2,m3,m4,m5,m6,m7
[ "$METERS" -ge 10 ] || meters=m0
ingest() { # EPOCH T0: seconds until every poll is acknowledged
    local t0=$SECONDS
    om_replay publish --port "$OM_BROKER_PORT" --site w000 --gateway gw --epoch "$1" \
        --polls "$POLLS" --per-message 100 --values 3 --meters "$meters" --t0 "$2" \
        --window 20 --timeout 600 >"$OM_TMP/ingest.json" || om_fail "ingest: $(cat "$OM_TMP/ingest.json")"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$OM_TMP/ingest.json"
}
# Fresh epochs and times each run (a kept database already has the last
# run's polls: they would only be acknowledged again).
read -r epoch1 epoch2 base_t0 < <(python3 -c 'import secrets, time
print(secrets.token_hex(8), secrets.token_hex(8), 1420070400000 + int(time.time()) % 1000 * 400000000)')
alone=$(ingest "$epoch1" "$base_t0")
start_web
# The clients stand for browsers on other machines: ab runs at the web
# view's nice level, so what competes with the aggregator is the server.
( while :; do
      nice -n "$OM_WEB_NICE" ab -q -c $((CLIENTS / 2)) -n 200 \
          "http://127.0.0.1:$OM_WEB_PORT/sites/w001" >/dev/null 2>&1 || true
  done ) &
load1=$!
( while :; do
      nice -n "$OM_WEB_NICE" ab -q -c $((CLIENTS / 2)) -n 200 \
          "http://127.0.0.1:$OM_WEB_PORT/" >/dev/null 2>&1 || true
  done ) &
load2=$!
om_track "$load1"
om_track "$load2"
sleep 2
loaded=$(ingest "$epoch2" $((base_t0 + 200000000)))
kill "$load1" "$load2" 2>/dev/null || true
python3 - "$POLLS" "$alone" "$loaded" <<'PY'
import sys
polls, alone, loaded = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
r0, r1 = polls * 3 / alone, polls * 3 / loaded
print("  alone:          %.0f readings/s (%.1f s)" % (r0, alone))
print("  under web load: %.0f readings/s (%.1f s)" % (r1, loaded))
print("  change: %+.1f %% (target: within 10 %%)" % ((r1 - r0) / r0 * 100))
PY
