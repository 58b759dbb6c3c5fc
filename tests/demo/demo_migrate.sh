#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo_migrate.sh OUT - the demo's database (scripts/demo --out OUT) moved to
# PostgreSQL, as a group that started small would move it: `officemeter
# migrate` into a PostgreSQL cluster of its own, killed (SIGKILL) in the
# middle of the readings and run again, every table's row count and
# checksum equal; then the 2025 report from PostgreSQL, recomputed from
# the copied readings, byte-identical to the demo's own. Run by
# test_demo.sh after the demo; skipped (status 77) without PostgreSQL.
set -euo pipefail
out=${1:?usage: demo_migrate.sh DEMO-OUT}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
om_setup
om_start_postgres

OM=("$OM_BIN/officemeter")
SRC=$out/officemeter.db
N=$(om_sql "$SRC" "SELECT count(*) FROM readings")
PG=$(om_pg_database demo)
om_log "migrating the demo's $N readings, killed at a third"
"${OM[@]}" migrate --from "$SRC" --to "$PG" --verbose >"$OM_TMP/m1.out" 2>&1 &
mig=$!
om_track "$mig"
for i in $(seq 1 1200); do
    rows=$(sed -n 's/^  readings: \([0-9]*\) rows so far$/\1/p' "$OM_TMP/m1.out" | tail -1)
    [ -n "$rows" ] && [ "$rows" -ge $((N / 3)) ] && break
    kill -0 "$mig" 2>/dev/null || { cat "$OM_TMP/m1.out" >&2; om_fail "migrate ended before it was killed"; }
    sleep 0.05
done
kill -KILL "$mig"
wait "$mig" 2>/dev/null || true
copied=$(om_psql "$PG" "SELECT count(*) FROM readings")
[ "$copied" -gt 0 ] && [ "$copied" -lt "$N" ] || om_fail "not killed in the middle ($copied of $N)"
om_log "killed with $copied readings copied; again"
"${OM[@]}" migrate --from "$SRC" --to "$PG" >"$OM_TMP/m2.out" 2>&1 ||
    { cat "$OM_TMP/m2.out" >&2; om_fail "the second run failed"; }
sed -n '/^TABLE/,$p' "$OM_TMP/m2.out"
grep -q "hold the same rows" "$OM_TMP/m2.out" || om_fail "not every table verified"

om_log "the 2025 report from PostgreSQL, recomputed"
# (The URI's & would stand for the matched line in sed's replacement.)
sed "s|^database: .*|database: \"${PG//&/\\&}\"|" "$out/aggregator.yaml" >"$OM_TMP/aggregator.yaml"
"${OM[@]}" report --config "$OM_TMP/aggregator.yaml" --now 2026-01-01T01:00:00Z --year 2025 \
    --format json --recompute -o "$OM_TMP/report-2025.json" 2>"$OM_TMP/report.err" ||
    { cat "$OM_TMP/report.err" >&2; om_fail "report from PostgreSQL"; }
cmp "$out/report-2025.json" "$OM_TMP/report-2025.json" ||
    om_fail "the report from PostgreSQL differs from the demo's"
echo "demo database migrated: $N readings, every table equal, the same report"
