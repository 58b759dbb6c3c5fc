#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_migrate_old_rollups.sh - `officemeter migrate` of a database whose
# rollup tables an older officemeter wrote (schema 1, before the readings
# digests): migrate opens its source read-only and cannot upgrade them, so
# it must refuse before it copies anything, with one line that says what
# to run; after `officemeter report` of this version has opened the file
# once (which upgrades them), the same migrate goes through and verifies.
# And a database that never rolled up a month (no rollup tables at all)
# migrates and verifies too.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
FIX="$OM_SOURCE_DIR/tests/data/report"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
SRC="$OM_TMP/agg.db"
NOW=2025-02-01T00:00:00Z
report() {
    "$OM_BIN/officemeter" report --db "$1" --sites "$FIX/sites" --catalogue "$CAT" --now "$NOW" \
        --year 2024 --format json -o "$2" 2>/dev/null
}

om_log "a database with stored rollups, taken back to rollup schema 1"
"$OM_BUILD_DIR/tests/test_report" --write-db "$SRC" || om_fail "cannot write the fixture"
[ "$(om_sql "$SRC" "SELECT count(*) FROM sqlite_master WHERE name = 'rollup_meta'")" = 0 ] ||
    om_fail "the fixture has rollup tables already"
om_log "a database that never rolled up a month migrates and verifies"
"$OM_BIN/officemeter" migrate --from "$SRC" --to "$(om_pg_database fresh)" >"$OM_TMP/fresh.out" ||
    { cat "$OM_TMP/fresh.out"; om_fail "migrate of a database without rollups failed"; }
report "$SRC" "$OM_TMP/before.json" || om_fail "report failed"
python3 - "$SRC" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("ALTER TABLE rollup_meters DROP COLUMN readings_sha256;"
                 "UPDATE rollup_meta SET value = 1 WHERE key = 'schema';")
db.commit()
PY

om_log "migrate refuses before copying, naming the version and what to run"
pg=$(om_pg_database target)
om_expect_fail 1 "$OM_BIN/officemeter" migrate --from "$SRC" --to "$pg"
grep -q "rollup tables are version 1, this program needs 2; run \`officemeter rollup\` or \`officemeter report\`" \
    "$OM_TMP/expect_fail.err" || om_fail "unexpected message: $(cat "$OM_TMP/expect_fail.err")"
copied=$(om_psql "$pg" "SELECT count(*) FROM pg_tables WHERE tablename = 'readings'")
if [ "$copied" != 0 ]; then
    [ "$(om_psql "$pg" "SELECT count(*) FROM readings")" = 0 ] ||
        om_fail "readings were copied before the refusal"
fi

om_log "a report of this version upgrades the tables; then migrate verifies"
report "$SRC" "$OM_TMP/upgraded.json" || om_fail "report on the old tables failed"
[ "$(om_sql "$SRC" "SELECT value FROM rollup_meta WHERE key = 'schema'")" = 2 ] ||
    om_fail "the rollup tables were not upgraded"
cmp -s "$OM_TMP/before.json" "$OM_TMP/upgraded.json" || om_fail "the report changed with the upgrade"
"$OM_BIN/officemeter" migrate --from "$SRC" --to "$pg" >"$OM_TMP/migrate.out" ||
    { cat "$OM_TMP/migrate.out"; om_fail "migrate after the upgrade failed"; }
report "$pg" "$OM_TMP/pg.json" || om_fail "report on PostgreSQL failed"
cmp -s "$OM_TMP/before.json" "$OM_TMP/pg.json" || om_fail "the report differs on PostgreSQL"
om_log "ok"
