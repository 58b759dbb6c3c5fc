#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_report_backends.sh - the annual report of a large portfolio on
# SQLite and on PostgreSQL: the same database (bench_web.sh's generated
# portfolio, SITES x METERS x two years) migrated with `officemeter migrate`
# into a PostgreSQL cluster made for the run (durable: fsync on), then on
# each backend, timed:
#   1. `report --year YEAR --format json` from the stored monthly rollups
#      (the usual run: the monthly timer has stored them);
#   2. the same with --recompute: every site's every month rolled up again
#      from its readings (what a changed site file or factor costs);
# and the outputs compared byte for byte. Not a ctest test: it prints figures.
#
#   KEEP_DB=DIR tests/bench/bench_report_backends.sh
#
# KEEP_DB is a folder bench_web.sh filled (agg.db, sites/); without it a
# portfolio of SITES (200) x METERS (10) x two years of INTERVAL_S (3600)
# readings is generated first (about 10 minutes at the defaults). YEAR
# (2025) is the reported year, NOW (2026-12-04T00:00:00Z) the clock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
om_setup

SITES=${SITES:-200}
METERS=${METERS:-10}
INTERVAL_S=${INTERVAL_S:-3600}
YEAR=${YEAR:-2025}
NOW=${NOW:-2026-12-04T00:00:00Z}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"

data=${KEEP_DB:-}
if [ -z "$data" ]; then
    data=$OM_TMP/data
    mkdir -p "$data/sites"
    t0=$SECONDS
    n=$("$OM_BUILD_DIR/bench/bench_web_gen" "$data/agg.db" "$data/sites" "$SITES" "$METERS" \
        2024-12-04T00:00:00Z "$NOW" "$INTERVAL_S") || om_fail "bench_web_gen failed"
    echo "generated $n readings in $((SECONDS - t0)) s"
fi
[ -s "$data/agg.db" ] || om_fail "$data/agg.db: no database"
# A private copy: the report stores the months it rolls up.
cp "$data/agg.db" "$OM_TMP/agg.db"
[ ! -e "$data/agg.db-wal" ] || cp "$data/agg.db-wal" "$OM_TMP/agg.db-wal"
sqlite_db=$OM_TMP/agg.db
readings=$(om_sql "$sqlite_db" "SELECT count(*) FROM readings")
echo "portfolio: $(ls "$data/sites"/*.yaml | grep -vc -e emission-factors -e reporting) sites," \
    "$readings readings, $(du -h "$sqlite_db" | cut -f1)"

# A report of this version first: it upgrades rollup tables an older one
# wrote (migrate reads its source as it is) and stores any month missing.
"$OM_BIN/officemeter" report --db "$sqlite_db" --sites "$data/sites" --now "$NOW" \
    --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --year "$YEAR" --format json \
    -o /dev/null 2>"$OM_TMP/first.err" || { cat "$OM_TMP/first.err"; om_fail "the first report failed"; }

OM_PG_FSYNC=on om_start_postgres
pg_db=$(om_pg_database report)
t0=$(date +%s%3N)
"$OM_BIN/officemeter" migrate --from "$sqlite_db" --to "$pg_db" --batch 100000 >"$OM_TMP/migrate.out" ||
    { cat "$OM_TMP/migrate.out"; om_fail "migrate failed"; }
echo "migrate to PostgreSQL: $(( $(date +%s%3N) - t0 )) ms (verified: $(grep -c . "$OM_TMP/migrate.out") lines of comparison, all equal)"

# run NAME DB ARGS...: the report's wall time in ms into $T, output in $OM_TMP/NAME.json.
run() {
    local name=$1 db=$2 t0
    shift 2
    t0=$(date +%s%3N)
    "$OM_BIN/officemeter" report --db "$db" --sites "$data/sites" --now "$NOW" \
        --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --year "$YEAR" --format json \
        -o "$OM_TMP/$name.json" "$@" 2>"$OM_TMP/$name.err" ||
        { cat "$OM_TMP/$name.err"; om_fail "report $name failed"; }
    T=$(( $(date +%s%3N) - t0 ))
}
for round in 1 2; do
    run sqlite.stored "$sqlite_db"; s1=$T
    run pg.stored "$pg_db"; p1=$T
    run sqlite.recompute "$sqlite_db" --recompute; s2=$T
    run pg.recompute "$pg_db" --recompute; p2=$T
    echo "round $round: from stored rollups: SQLite $s1 ms, PostgreSQL $p1 ms;" \
        "every month recomputed: SQLite $s2 ms, PostgreSQL $p2 ms"
done
cmp -s "$OM_TMP/sqlite.stored.json" "$OM_TMP/pg.stored.json" || om_fail "the stored reports differ"
cmp -s "$OM_TMP/sqlite.recompute.json" "$OM_TMP/pg.recompute.json" || om_fail "the recomputed reports differ"
cmp -s "$OM_TMP/sqlite.stored.json" "$OM_TMP/sqlite.recompute.json" ||
    om_fail "the report from stored rollups differs from the recomputed one"
echo "reports: byte-identical on both backends, stored and recomputed ($(stat -c %s "$OM_TMP/pg.stored.json") bytes of JSON)"
