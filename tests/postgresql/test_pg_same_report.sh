#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_same_report.sh - one stream of readings, two backends: the report
# fixture portfolio's readings (tests/unit/test_report.c: rollovers, a meter
# replacement, gaps, sub-meters above the main meter) sent as its three
# gateways would send them, through mosquitto, to two aggregators at once,
# one on SQLite and one on PostgreSQL. Then:
#   - both stored the same readings, bit for bit;
#   - `status`, `rejects --counts` print the same;
#   - `rollup` writes byte-identical CSVs (the months with the fixture's
#     rollover, gap, glitch and meter replacement);
#   - `report --format json|csv|md` are byte-identical, and equal to the
#     golden files the SQLite path has always been held to.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
FIX="$OM_SOURCE_DIR/tests/data/report"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
OM=("$OM_BIN/officemeter")
NOW=2025-02-01T00:00:00Z

om_log "the fixture's readings as its gateways' messages"
"$OM_BUILD_DIR/tests/test_report" --write-db "$OM_TMP/fixture.db" || om_fail "cannot write the fixture"
for site in "$FIX"/sites/{alpha,bravo,charlie,delta}.yaml; do
    name=$(basename "$site" .yaml)
    "${OM[@]}" list --site "$site" --catalogue "$CAT" --meters | sed "s/^/$name\t/"
done >"$OM_TMP/meters.tsv"
om_replay from-db --db "$OM_TMP/fixture.db" --meter-list "$OM_TMP/meters.tsv" \
    --out-dir "$OM_TMP/msgs" --per-message 200 --epoch 00000000000000f1

om_log "two aggregators on one broker: SQLite and PostgreSQL"
OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
mkdir -p "$OM_TMP/sites"
cp -r "$FIX"/sites/. "$OM_TMP/sites/" # the site files, policy, factors and bills
PG_DB=$OM_PG_URI
OM_AGG_DB="$OM_TMP/agg.db" OM_AGG_CLIENT=agg-sqlite \
    om_write_agg_config "$OM_TMP/sqlite.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
OM_AGG_DB="$PG_DB" OM_AGG_CLIENT=agg-pg \
    om_write_agg_config "$OM_TMP/pg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
om_start_aggregator "$OM_TMP/sqlite.yaml"
om_start_aggregator "$OM_TMP/pg.yaml"
# Both subscribed: a birth each one stores.
mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -r -t officemeter/v1/alpha/alpha-gw/status \
    -m '{"v":1,"state":"online"}'
for db in "$OM_TMP/agg.db" "$PG_DB"; do
    for i in $(seq 1 100); do
        "${OM[@]}" status --db "$db" --stale 100000000 2>/dev/null | grep -q "alpha-gw .*online" && break
        sleep 0.1
    done
done

for f in "$OM_TMP"/msgs/*.messages; do
    base=$(basename "$f" .messages)
    site=${base%%.*} gw=${base#*.}
    mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -t "officemeter/v1/$site/$gw/readings" -l <"$f"
done

om_log "waiting until both acknowledged every gateway's last poll"
expect=$(for f in "$OM_TMP"/msgs/*.last; do echo "$(basename "$f" .last)|$(cat "$f")"; done | sort)
for db in "$OM_TMP/agg.db" "$PG_DB"; do
    got=
    for i in $(seq 1 600); do
        got=$(om_db_sql "$db" "SELECT g.site || '.' || g.gateway, e.upto FROM epochs e JOIN gateways g ON g.id = e.gateway ORDER BY 1")
        [ "$got" = "$expect" ] && break
        sleep 0.1
    done
    [ "$got" = "$expect" ] || om_fail "$db: acknowledged $got, expected $expect"
done

om_log "the same readings, bit for bit"
READINGS="SELECT m.site, m.meter, q.name, r.t, r.value FROM readings r JOIN meters m ON m.id = r.meter JOIN quantities q ON q.id = r.quantity"
python3 - "$OM_TMP/fixture.db" "$OM_TMP/agg.db" "$PG_DB" <<PY || om_fail "the stored readings differ"
import sys
sys.path.insert(0, "$OM_SOURCE_DIR/tests/integration")
from agg_replay import db_rows
sql = "$READINGS"
sets = [sorted((r[0], r[1], r[2], r[3], float(r[4]).hex()) for r in db_rows(db, sql)) for db in sys.argv[1:]]
for name, rows in zip(("sqlite", "postgresql"), sets[1:]):
    if rows != sets[0]:
        missing = set(sets[0]) - set(rows)
        extra = set(rows) - set(sets[0])
        sys.exit("%s: %d readings missing, %d extra, e.g. %r %r" % (name, len(missing), len(extra),
                 sorted(missing)[:2], sorted(extra)[:2]))
print("%d readings, identical in both" % len(sets[0]), file=sys.stderr)
PY

declare -A DB=([sqlite]="$OM_TMP/agg.db" [pg]="$PG_DB")
om_log "status (meters and totals) and reject counts alike"
for b in sqlite pg; do
    # The gateways' block is when each aggregator received their messages:
    # its own clock. The meters' block and the totals are the data. (Before
    # them, a SQLite database's status has its aggregator's own state, from
    # the file beside it: a paragraph PostgreSQL has not.)
    "${OM[@]}" status --db "${DB[$b]}" --now "$NOW" --stale 100000000 |
        sed '1{/^aggregator: /{N;d}}' |
        awk 'seen; /^$/ { seen = 1 }' >"$OM_TMP/status.$b" || true
    "${OM[@]}" rejects --db "${DB[$b]}" --counts >"$OM_TMP/counts.$b"
done
cmp "$OM_TMP/status.sqlite" "$OM_TMP/status.pg" || {
    diff "$OM_TMP/status.sqlite" "$OM_TMP/status.pg" >&2; om_fail "status differs"; }
cmp "$OM_TMP/counts.sqlite" "$OM_TMP/counts.pg" || om_fail "reject counts differ"

om_log "rollups and reports from both"
run_both() { # ARGS... : officemeter ARGS on each backend, stdout to out.BACKEND
    local b
    for b in sqlite pg; do
        "${OM[@]}" "$@" --db "${DB[$b]}" --sites "$OM_TMP/sites" --catalogue "$CAT" --now "$NOW" \
            >"$OM_TMP/out.$b" 2>"$OM_TMP/err.$b" || { cat "$OM_TMP/err.$b" >&2; om_fail "$b: officemeter $*"; }
    done
}
mkdir -p "$OM_TMP/csv.sqlite" "$OM_TMP/csv.pg"
# The months with the fixture's events: a rollover (January), a week-long
# gap (March), a glitch (June), the main meter's replacement (July).
for m in 01 03 06 07; do
    for db in sqlite pg; do
        target=${DB[$db]}
        "${OM[@]}" rollup --month "2024-$m" --out "$OM_TMP/csv.$db" --db "$target" \
            --sites "$OM_TMP/sites" --catalogue "$CAT" --now "$NOW" >/dev/null ||
            om_fail "$db: rollup 2024-$m"
    done
done
diff -r "$OM_TMP/csv.sqlite" "$OM_TMP/csv.pg" >&2 || om_fail "rollup CSVs differ"
[ "$(ls "$OM_TMP/csv.pg" | wc -l)" -eq 16 ] || om_fail "expected 16 rollup CSVs (4 sites, 4 months)"
for fmt in json csv md; do
    run_both report --year 2024 --format "$fmt"
    cmp "$OM_TMP/out.sqlite" "$OM_TMP/out.pg" || {
        diff "$OM_TMP/out.sqlite" "$OM_TMP/out.pg" | head -20 >&2; om_fail "report --format $fmt differs"; }
    cmp "$OM_TMP/out.pg" "$FIX/golden/report-2024.$fmt" || {
        diff "$FIX/golden/report-2024.$fmt" "$OM_TMP/out.pg" | head -20 >&2
        om_fail "report --format $fmt differs from the golden file"; }
done
echo ok
