#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_retention.sh - `officemeter retention` on both backends: the same
# six weeks of one-minute polls (two offices, London and Delhi, a zone half
# an hour off UTC; an energy counter with a glitch, power, a voltage; a
# water counter that resets; a two-hour gap; day and night load) sent
# through mosquitto to a SQLite and a PostgreSQL aggregator. Then, on each:
#   - the 2024 report (json, recomputed) and the rollup CSVs of January and
#     February;
#   - retention with one month of raw readings kept, at 2024-04-15: most
#     readings of January and February are dropped;
#   - a report checking every month against its readings finds none
#     changed (retention refreshed the thinned months' digests) and
#     recomputes nothing; the report recomputed from what is left, and the
#     CSVs, are byte-identical to before; a second run has nothing to do;
#   - the two backends agree on what was kept, to the reading.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

CAT="$OM_SOURCE_DIR/firmware-config/meters"
OM=("$OM_BIN/officemeter")
NOW=2024-04-15T00:00:00Z
SITES="$OM_TMP/sites"
mkdir -p "$SITES"
site_file() { # ID NAME ZONE REGION GATEWAY PREFIX
    cat >"$SITES/$1.yaml" <<YAML
site: $1
name: $2
timezone: $3
grid_region: $4
floor_area_m2:
  - {from: 2023-01-01, m2: 800}
gateways:
  - id: $5
    buses:
      - {id: rs485, rtu: {device: /dev/ttyUSB0}}
      - {id: lan, tcp: {host: 192.0.2.1}}
meters:
  - {id: $6-main, model: eastron-sdm630, gateway: $5, bus: rs485, unit_id: 1,
     utility: electricity, role: main}
  - {id: $6-water, model: moxa-e1212, channel: 0, litres_per_pulse: 10, gateway: $5, bus: lan,
     unit_id: 1, utility: water, role: main}
YAML
}
site_file ret-ldn "Retention office, London" Europe/London UK ldn-gw ldn
site_file ret-del "Retention office, Delhi" Asia/Kolkata IN del-gw del
cat >"$SITES/emission-factors.yaml" <<'YAML'
factors:
  - {id: fx-uk, region: UK, kind: grid_electricity, value: 0.20705, unit: kgCO2e/kWh,
     activity_year: 2024, source: "Test factor", published: 2024-06-01, verification: unverified}
  - {id: fx-in, region: IN, kind: grid_electricity, value: 0.716, unit: tCO2/MWh,
     activity_year: 2024, source: "Test factor", published: 2024-06-01, verification: unverified}
YAML
cat >"$SITES/reporting.yaml" <<'YAML'
organisation: Retention Test Ltd
gap_intervals: 10
poll_interval_s: 60
YAML
"${OM[@]}" check --catalogue "$CAT" "$SITES" >/dev/null || om_fail "the test's portfolio is invalid"

om_log "six weeks of one-minute polls, to a SQLite and a PostgreSQL aggregator"
for g in ldn:ret-ldn:ldn-gw del:ret-del:del-gw; do
    IFS=: read -r prefix site gw <<<"$g"
    python3 "$(dirname "$0")/retention_readings.py" --site "$site" --gateway "$gw" \
        --main "$prefix-main" --water "$prefix-water" --start 2024-01-01T00:00:00Z --days 45 \
        --last "$OM_TMP/$gw.last" >"$OM_TMP/$gw.messages"
done
OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
PG=$OM_PG_URI
declare -A DB=([sqlite]="$OM_TMP/agg.db" [pg]="$PG")
for b in sqlite pg; do
    OM_AGG_DB="${DB[$b]}" OM_AGG_CLIENT=agg-$b OM_AGG_COMMIT_MS=200 om_write_agg_config "$OM_TMP/$b.yaml" \
        "$OM_BROKER_PORT" "$SITES"
    om_start_aggregator "$OM_TMP/$b.yaml"
done
sleep 0.5
for gw in ldn-gw del-gw; do
    site=ret-${gw%-gw}
    mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -t "officemeter/v1/$site/$gw/readings" \
        -l <"$OM_TMP/$gw.messages"
done
expect="del-gw=$(cat "$OM_TMP/del-gw.last") ldn-gw=$(cat "$OM_TMP/ldn-gw.last") "
for b in sqlite pg; do
    for i in $(seq 1 900); do
        got=$(om_db_sql "${DB[$b]}" "SELECT g.gateway || '=' || e.upto FROM epochs e JOIN gateways g ON g.id = e.gateway ORDER BY 1" | tr '\n' ' ')
        [ "$got" = "$expect" ] && break
        sleep 0.1
    done
    [ "$got" = "$expect" ] || om_fail "$b: acknowledged $got, expected $expect"
done

ARGS=(--sites "$SITES" --catalogue "$CAT" --now "$NOW")
reports() { # BACKEND TAG: the 2024 report recomputed, and the rollup CSVs of Jan and Feb
    local b=$1 tag=$2
    mkdir -p "$OM_TMP/$tag.$b"
    "${OM[@]}" report --db "${DB[$b]}" "${ARGS[@]}" --year 2024 --format json --recompute \
        -o "$OM_TMP/$tag.$b/report.json" 2>>"$OM_TMP/report.log" || om_fail "$b: report ($tag)"
    for m in 2024-01 2024-02; do
        "${OM[@]}" rollup --db "${DB[$b]}" "${ARGS[@]}" --month "$m" --out "$OM_TMP/$tag.$b" \
            >/dev/null || om_fail "$b: rollup $m ($tag)"
    done
}
count() { om_db_sql "${DB[$1]}" "SELECT count(*) FROM readings"; }

for b in sqlite pg; do
    om_log "$b: before"
    reports "$b" before
    before=$(count "$b")
    verified() { # TAG: the 2024 report from the stored months, each checked against its readings
        "${OM[@]}" report --db "${DB[$b]}" "${ARGS[@]}" --year 2024 --format json \
            --verify-readings -o "$OM_TMP/verified.$1.$b.json" 2>"$OM_TMP/verify.$1.$b.log" ||
            { cat "$OM_TMP/verify.$1.$b.log" >&2; om_fail "$b: report --verify-readings failed"; }
    }
    verified before
    om_log "$b: retention, one month of raw readings kept"
    "${OM[@]}" retention --db "${DB[$b]}" "${ARGS[@]}" --months 1 >"$OM_TMP/retention.$b" ||
        { cat "$OM_TMP/retention.$b" >&2; om_fail "$b: retention failed"; }
    cat "$OM_TMP/retention.$b" >&2
    after=$(count "$b")
    om_log "$b: $before readings before, $after after"
    [ "$after" -lt $((before / 4)) ] || om_fail "$b: retention dropped too little ($before -> $after)"
    grep -c "its rollups checked unchanged" "$OM_TMP/retention.$b" | grep -qx 4 ||
        om_fail "$b: expected two months of two sites thinned"
    # The stored digests of the thinned months were refreshed with the
    # thinning: a report that checks every month against its readings finds
    # none changed, rolls nothing up again, and is the report of before.
    # (April, still open, is rolled up by every report: the same line.)
    verified after
    if grep "readings changed" "$OM_TMP/verify.after.$b.log" >&2; then
        om_fail "$b: after retention, months were taken for changed and rolled up again"
    fi
    diff "$OM_TMP/verify.before.$b.log" "$OM_TMP/verify.after.$b.log" >&2 ||
        om_fail "$b: after retention, the report rolled up other months than before"
    cmp "$OM_TMP/before.$b/report.json" "$OM_TMP/verified.after.$b.json" ||
        om_fail "$b: the report from the stored months changed after retention"
    om_log "$b: after"
    reports "$b" after
    diff -r "$OM_TMP/before.$b" "$OM_TMP/after.$b" >&2 ||
        om_fail "$b: the report or a rollup changed after retention"
    "${OM[@]}" retention --db "${DB[$b]}" "${ARGS[@]}" --months 1 >"$OM_TMP/again.$b"
    grep -q "^0 readings dropped" "$OM_TMP/again.$b" || om_fail "$b: a second run did something"
done
diff -r "$OM_TMP/before.sqlite" "$OM_TMP/before.pg" >&2 || om_fail "the backends' reports differ"
python3 - "${DB[sqlite]}" "$PG" <<PY || om_fail "the backends kept different readings"
import sys
sys.path.insert(0, "$OM_SOURCE_DIR/tests/integration")
from agg_replay import db_rows, READINGS_SQL
a, b = (sorted((r[0], r[1], r[2], r[3], float(r[4]).hex()) for r in db_rows(db, READINGS_SQL))
        for db in sys.argv[1:])
sys.exit(0 if a == b else "sqlite kept %d readings, postgresql %d" % (len(a), len(b)))
PY
echo ok
