#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_rollup_bench.sh - benchmarks of the monthly rollup and the annual report
# (not a ctest test: it takes minutes and a few GB of disk).
#
#   tests/bench/run_rollup_bench.sh [BUILD_DIR]      (default: build)
#
# 1. Rollup of one month (April 2024, 30 days) for 1,000 meters (50 sites x 20
#    meters, in four time zones) with a reading every minute: 43.2 million
#    readings in the month, plus a day on each side. Wall time and peak memory of
#    `officemeter rollup`, cold (first run after writing the database) and warm,
#    and as the yardstick a bare SQLite SUM over the same rows in the same run.
# 2. Annual report for 200 sites (5 meters each, hourly readings for 2023 and
#    2024): the first run rolls up the 4,800 missing site-months; the figure is
#    the second run, built from the stored rollups only.
#
# Set OM_BENCH_DIR to keep the databases somewhere else than $TMPDIR.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
OM="$BUILD/bin/officemeter"
[ -x "$OM" ] && [ -x "$BUILD/bench/bench_rollup_gen" ] || { echo "build first: $BUILD" >&2; exit 1; }
WORK=$(mktemp -d "${OM_BENCH_DIR:-${TMPDIR:-/tmp}}/officemeter-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# measure LABEL CMD...: wall time and the peak resident memory of CMD.
measure() {
    local label=$1
    shift
    python3 - "$label" "$@" <<'PY'
import resource, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
dt = time.monotonic() - t0
if out.returncode != 0:
    sys.exit("%s failed (%d): %s" % (label, out.returncode, out.stderr.strip()))
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
print("%-46s %8.2f s  peak %7.1f MiB" % (label, dt, peak))
PY
}

CAT="$SRC/firmware-config/meters"
echo "== rollup: 1,000 meters, one month of 1-minute readings"
mkdir -p "$WORK/sites1"
t0=$(date +%s)
n=$("$BUILD/bench/bench_rollup_gen" "$WORK/month.db" "$WORK/sites1" 50 20 2024-03-31T00:00:00Z 2024-05-02T00:00:00Z 60)
echo "database: $n readings written in $(( $(date +%s) - t0 )) s, $(du -m "$WORK/month.db" | cut -f1) MiB"
inside=$(sqlite3 "$WORK/month.db" "SELECT count(*) FROM readings WHERE t >= 1711929600000 AND t < 1714521600000")
echo "readings in April 2024 (UTC): $inside"
ARGS=(--db "$WORK/month.db" --sites "$WORK/sites1" --catalogue "$CAT" --month 2024-04 --no-csv)
measure "officemeter rollup (cold)" "$OM" rollup "${ARGS[@]}"
measure "officemeter rollup (warm, replaces the month)" "$OM" rollup "${ARGS[@]}"
measure "sqlite3 SUM(value) GROUP BY meter (yardstick)" sqlite3 "$WORK/month.db" \
    "SELECT meter, sum(value) FROM readings WHERE t >= 1711929600000 AND t < 1714521600000 GROUP BY meter"
measure "sqlite3 SUM(value) of each meter by key range" sqlite3 "$WORK/month.db" \
    "SELECT m.id, (SELECT sum(value) FROM readings r WHERE r.meter = m.id AND r.quantity IN (SELECT id FROM quantities WHERE name IN ('energy_import_kwh', 'water_m3')) AND r.t >= 1711929600000 AND r.t < 1714521600000) FROM meters m"
rm -f "$WORK"/month.db*

echo "== annual report: 200 sites, from monthly rollups"
mkdir -p "$WORK/sites2"
t0=$(date +%s)
n=$("$BUILD/bench/bench_rollup_gen" "$WORK/year.db" "$WORK/sites2" 200 5 2022-12-30T00:00:00Z 2025-01-02T00:00:00Z 3600)
echo "database: $n readings written in $(( $(date +%s) - t0 )) s"
ARGS=(--db "$WORK/year.db" --sites "$WORK/sites2" --catalogue "$CAT" --now 2025-02-01T00:00:00Z --year 2024)
measure "report, first run (rolls up 4,800 site-months)" "$OM" report "${ARGS[@]}" --format json -o "$WORK/r0.json"
measure "report json from rollups" "$OM" report "${ARGS[@]}" --format json -o "$WORK/r.json"
measure "report md from rollups" "$OM" report "${ARGS[@]}" --format md -o "$WORK/r.md"
measure "report xlsx from rollups" "$OM" report "${ARGS[@]}" --format xlsx -o "$WORK/r.xlsx"
cmp "$WORK/r0.json" "$WORK/r.json" && echo "the report from stored rollups equals the first run's"
