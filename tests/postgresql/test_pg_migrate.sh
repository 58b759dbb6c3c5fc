#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_migrate.sh - `officemeter migrate` from SQLite to PostgreSQL and
# back, on a database in which every table holds rows: the report
# fixture's 632 230 readings and its rollups, and, from a real aggregator,
# gateways, acknowledgement state with ranges above it, a conflict, rejects
# and their counts, a quarantined poll, a thinned and a lost range.
#   1. Into PostgreSQL, killed (SIGKILL) in the middle of the readings,
#      then run again: it goes on, and every table's row count and checksum
#      are equal; the copy holds no row twice.
#   2. The reports from both are byte-identical, from the copied rollups and
#      recomputed from the copied readings; so is `status`.
#   3. A missing source, a target that is not empty, or one that holds
#      another source's copy, is refused with one line.
#   4. Back from PostgreSQL into a new SQLite file: equal again.
# The hourly aggregates (meter_hours, meter_counts) and the alert tables
# (alerts from `officemeter alerts evaluate` on the source, a silence, an
# acknowledgement) are copied and verified like every other table, both
# ways; `officemeter alerts` lists the same on the copy.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
FIX="$OM_SOURCE_DIR/tests/data/report"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
OM=("$OM_BIN/officemeter")
SRC="$OM_TMP/agg.db"
NOW=2025-02-01T00:00:00Z

om_log "the source: the fixture's readings, then an aggregator's every kind of row"
"$OM_BUILD_DIR/tests/test_report" --write-db "$SRC" || om_fail "cannot write the fixture"
mkdir -p "$OM_TMP/sites"
cp "$FIX"/sites/*.yaml "$OM_TMP/sites/"
om_start_broker
om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites" "gap_close_s: 1"
om_start_aggregator "$OM_TMP/agg.yaml"
om_wait_aggregator_subscribed "$OM_BROKER_PORT" alpha alpha-gw "$SRC"
topic=officemeter/v1/alpha/alpha-gw/readings
t=$(( $(date +%s) * 1000 - 600000 ))
msg() { # EPOCH POLLS [EXTRA]
    printf '{"v":1,"site":"alpha","gateway":"alpha-gw","epoch":"%s","polls":[%s]%s}' "$@"
}
poll() { # SEQ METER T VALUE
    printf '{"seq":%s,"meter":"%s","t":%s,"values":{"energy_import_kwh":%s}}' "$@"
}
pub() { mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -t "$topic" -m "$1"; }
E=00000000000000a1
pub "$(msg $E "$(poll 1 alpha-hvac "$t" 1.5),$(poll 2 alpha-hvac $((t + 60000)) 2.5)")"
pub "$(msg $E "$(poll 2 alpha-hvac $((t + 60000)) 9.75)")"              # a conflict
pub "$(msg $E "$(poll 6 alpha-hvac $((t + 300000)) 4.5)" ',"skipped":[[4,4]]')" # thinned; 3, 5 open
pub "$(msg $E "$(poll 9 newcomer "$t" 1.0)")"                             # quarantined
pub '{"v":1,"site":"alpha",'                                              # rejected
sleep 1.3
pub "$(msg $E "$(poll 10 alpha-hvac $((t + 400000)) 5.5)")"               # gap 3 closed as lost
sleep 0.5
om_stop_pid "$OM_AGG_PID"
for now in 2024-03-01T00:00:00Z 2024-09-01T00:00:00Z; do
    "${OM[@]}" alerts evaluate --config "$OM_TMP/agg.yaml" --catalogue "$CAT" --now "$now" \
        --no-deliver 2>>"$OM_TMP/alerts.log" || { cat "$OM_TMP/alerts.log" >&2; om_fail "alerts evaluate"; }
done
"${OM[@]}" alerts silence --config "$OM_TMP/agg.yaml" --site alpha --until 2030-01-01T00:00:00Z \
    --note "copied too" --by test >/dev/null
"${OM[@]}" alerts ack "$(om_sql "$SRC" "SELECT min(id) FROM alerts")" --config "$OM_TMP/agg.yaml" \
    --note "seen" --by test >/dev/null
"${OM[@]}" alerts --config "$OM_TMP/agg.yaml" --all --format json --now 2024-09-01T00:00:00Z \
    >"$OM_TMP/alerts.src" || true
"${OM[@]}" report --db "$SRC" --sites "$OM_TMP/sites" --catalogue "$CAT" --now "$NOW" \
    --year 2024 --format json -o "$OM_TMP/source.json" 2>/dev/null
for table in conflicts rejects reject_counts quarantine thinned lost_seqs epoch_ranges \
             rollup_months rollup_events alerts alert_history alert_silences alert_rule_state; do
    [ "$(om_sql "$SRC" "SELECT count(*) FROM $table")" -gt 0 ] || om_fail "no $table in the source"
done

N=$(om_sql "$SRC" "SELECT count(*) FROM readings")
om_log "1. SQLite -> PostgreSQL ($N readings), killed in the middle, run again"
PG=$(om_pg_database target)
"${OM[@]}" migrate --from "$SRC" --to "$PG" --batch 5000 --verbose >"$OM_TMP/m1.out" 2>&1 &
mig=$!
om_track "$mig"
for i in $(seq 1 600); do
    grep -q "readings: 30000 rows so far" "$OM_TMP/m1.out" && break
    kill -0 "$mig" 2>/dev/null || { cat "$OM_TMP/m1.out" >&2; om_fail "migrate ended before it was killed"; }
    sleep 0.05
done
kill -KILL "$mig"
wait "$mig" 2>/dev/null || true
copied=$(om_psql "$PG" "SELECT count(*) FROM readings")
om_log "killed with $copied readings copied"
[ "$copied" -ge 30000 ] && [ "$copied" -lt "$N" ] || om_fail "not killed in the middle ($copied)"
"${OM[@]}" migrate --from "$SRC" --to "$PG" >"$OM_TMP/m2.out" 2>&1 ||
    { cat "$OM_TMP/m2.out" >&2; om_fail "the second run failed"; }
cat "$OM_TMP/m2.out" >&2
grep -Eq "^readings +$N +$N .* ok$" "$OM_TMP/m2.out" || om_fail "readings not verified"
H=$(om_sql "$SRC" "SELECT count(*) FROM meter_hours")
C=$(om_sql "$SRC" "SELECT count(*) FROM meter_counts")
[ "$H" -gt 0 ] && [ "$C" -gt 0 ] || om_fail "no hourly aggregates in the source"
grep -Eq "^meter_hours +$H +$H .* ok$" "$OM_TMP/m2.out" || om_fail "meter_hours not verified"
grep -Eq "^meter_counts +$C +$C .* ok$" "$OM_TMP/m2.out" || om_fail "meter_counts not verified"
A=$(om_sql "$SRC" "SELECT count(*) FROM alert_history")
grep -Eq "^alert_history +$A +$A .* ok$" "$OM_TMP/m2.out" || om_fail "alert_history not verified"
grep -Eq "^alert_meta +2 +2 .* ok$" "$OM_TMP/m2.out" || om_fail "alert_meta not verified"
OM_AGG_DB=$PG om_write_agg_config "$OM_TMP/agg-pg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
"${OM[@]}" alerts --config "$OM_TMP/agg-pg.yaml" --all --format json --now 2024-09-01T00:00:00Z \
    >"$OM_TMP/alerts.pg" || true
cmp "$OM_TMP/alerts.src" "$OM_TMP/alerts.pg" || om_fail "the alerts listed from the copy differ"
grep -q "hold the same rows" "$OM_TMP/m2.out" && ! grep -q DIFFERENT "$OM_TMP/m2.out" ||
    om_fail "not every table verified"
[ "$(om_psql "$PG" "SELECT count(*) FROM (SELECT DISTINCT meter, quantity, t FROM readings) x")" = "$N" ] ||
    om_fail "a reading copied twice"

om_log "2. the same reports from both"
report() { # DB OUT [ARGS...]
    local db=$1 out=$2
    shift 2
    "${OM[@]}" report --db "$db" --sites "$OM_TMP/sites" --catalogue "$CAT" --now "$NOW" \
        --year 2024 --format json -o "$out" "$@" 2>>"$OM_TMP/report.log" ||
        { cat "$OM_TMP/report.log" >&2; om_fail "report from $db"; }
}
report "$PG" "$OM_TMP/pg.json"
cmp "$OM_TMP/source.json" "$OM_TMP/pg.json" || om_fail "the report from the copied rollups differs"
# Recomputed from the copied readings, with the same clock: the same again.
report "$PG" "$OM_TMP/pg-re.json" --recompute
cmp "$OM_TMP/source.json" "$OM_TMP/pg-re.json" || om_fail "the report recomputed on PostgreSQL differs"
"${OM[@]}" status --db "$PG" --now "$NOW" --stale 100000000 >"$OM_TMP/status.pg" || true
# The first paragraph of a SQLite database's status is its aggregator's own
# state, from the file beside it (writer_state.h); a PostgreSQL database
# has none. The tables after it must be the same.
"${OM[@]}" status --db "$SRC" --now "$NOW" --stale 100000000 |
    sed '1{/^aggregator: /{N;d}}' >"$OM_TMP/status.src" || true
cmp "$OM_TMP/status.src" "$OM_TMP/status.pg" || om_fail "status differs"

om_log "3. refusals"
rc=0
"${OM[@]}" migrate --from "$OM_TMP/none.db" --to "$PG" >/dev/null 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$OM_TMP/err")" -eq 1 ] && grep -q "no such database" "$OM_TMP/err" ||
    om_fail "a missing source: exit $rc: $(cat "$OM_TMP/err")"
cp "$SRC" "$OM_TMP/other.db"
rc=0
"${OM[@]}" migrate --from "$OM_TMP/other.db" --to "$PG" >/dev/null 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$OM_TMP/err")" -eq 1 ] &&
    grep -q "holds a copy of another database" "$OM_TMP/err" ||
    om_fail "another source's copy: exit $rc: $(cat "$OM_TMP/err")"
rc=0
"${OM[@]}" migrate --from "$PG" --to "$OM_TMP/other.db" >/dev/null 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$OM_TMP/err")" -eq 1 ] &&
    grep -q "the target already holds meters" "$OM_TMP/err" ||
    om_fail "a target with data: exit $rc: $(cat "$OM_TMP/err")"

om_log "   and a copy that differs by one value is not passed"
one=$(om_psql "$PG" "SELECT meter || ',' || quantity || ',' || t FROM readings ORDER BY t DESC LIMIT 1")
was=$(om_psql "$PG" "SELECT value FROM readings WHERE (meter, quantity, t) = ($one)") # shortest exact text
om_psql "$PG" "UPDATE readings SET value = value + 0.001 WHERE (meter, quantity, t) = ($one)"
rc=0
"${OM[@]}" migrate --from "$SRC" --to "$PG" --verify-only >"$OM_TMP/v.out" 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -Eq "^readings .* DIFFERENT$" "$OM_TMP/v.out" ||
    om_fail "a changed reading went unnoticed: exit $rc"
om_psql "$PG" "UPDATE readings SET value = $was WHERE (meter, quantity, t) = ($one)"
"${OM[@]}" migrate --from "$SRC" --to "$PG" --verify-only >/dev/null || om_fail "not restored"

om_log "4. PostgreSQL -> a new SQLite file"
"${OM[@]}" migrate --from "$PG" --to "$OM_TMP/back.db" >"$OM_TMP/m3.out" 2>&1 ||
    { cat "$OM_TMP/m3.out" >&2; om_fail "the way back failed"; }
grep -q "hold the same rows" "$OM_TMP/m3.out" || { cat "$OM_TMP/m3.out" >&2; om_fail "not verified"; }
grep -Eq "^meter_hours +$H +$H .* ok$" "$OM_TMP/m3.out" || om_fail "meter_hours not verified back"
"${OM[@]}" migrate --from "$SRC" --to "$OM_TMP/back.db" --verify-only >/dev/null ||
    om_fail "the round trip changed something"
report "$OM_TMP/back.db" "$OM_TMP/back.json"
cmp "$OM_TMP/source.json" "$OM_TMP/back.json" || om_fail "the report after the round trip differs"
echo ok
