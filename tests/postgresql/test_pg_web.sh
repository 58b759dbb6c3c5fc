#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_web.sh - officemeter-web on PostgreSQL answers as on SQLite: the
# same generated portfolio (tests/bench/bench_web_gen.c: 2 sites, 4 meters,
# two months of 15-minute readings with a gap, a glitch and a counter reset)
# written through the store's writer into a SQLite file and into a
# PostgreSQL database, each backend keeping its own hourly aggregates; then
# one officemeter-web on each, and every JSON answer of the daily, monthly
# and readings APIs (buckets from the aggregates and from the readings) and
# the report API compared byte for byte. The status page's reading counts
# (om_store_totals_quick, om_store_reading_counts) come from the aggregates
# too: /metrics' counts alike.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
NOW=2025-03-05T00:00:00Z
FROM=2025-01-01T00:00:00Z UNTIL=2025-03-01T00:00:00Z

om_log "one portfolio, two backends"
om_web_portfolio 2 4 "$FROM" "$UNTIL" 900 # SQLite: $OM_DB, site files in $OM_TMP/sites
SQLITE_DB=$OM_DB
PG_DB=$(om_pg_database web)
mkdir -p "$OM_TMP/sites-pg"
"$OM_BUILD_DIR/bench/bench_web_gen" "$PG_DB" "$OM_TMP/sites-pg" 2 4 "$FROM" "$UNTIL" 900 \
    >"$OM_TMP/gen-pg.out" || om_fail "bench_web_gen into PostgreSQL failed"
cmp "$OM_TMP/gen.out" "$OM_TMP/gen-pg.out" || om_fail "not the same number of readings"
diff -r "$OM_TMP/sites" "$OM_TMP/sites-pg" >&2 || om_fail "not the same site files"
om_log "$(cat "$OM_TMP/gen.out") readings in each"
[ "$(om_psql "$PG_DB" "SELECT sum(n) FROM meter_counts")" = "$(cat "$OM_TMP/gen.out")" ] ||
    om_fail "the PostgreSQL reading counts are not the readings written"

declare -A BASE
for b in sqlite pg; do
    OM_DB=$SQLITE_DB
    [ "$b" = pg ] && OM_DB=$PG_DB
    OM_WEB_PORT=$(om_free_port)
    om_web_config "$OM_TMP/web-$b.yaml" "cache_s: 0" "page_cache_s: 0"
    om_start_web "$OM_TMP/web-$b.yaml" --now "$NOW"
    BASE[$b]="http://127.0.0.1:$OM_WEB_PORT"
done

om_log "the JSON API, byte for byte"
URLS=()
for site in w000 w001; do
    URLS+=("/api/v1/sites/$site/daily?from=2025-01-01&to=2025-02-28"
           "/api/v1/sites/$site/monthly?year=2025")
    for m in m0 m1 m2 m3; do
        # Hour buckets and more (the aggregates), then buckets under an hour
        # (the readings), then a range that starts inside an hour.
        URLS+=("/api/v1/sites/$site/meters/$m/readings?from=2025-01-01&to=2025-03-01&points=200"
               "/api/v1/sites/$site/meters/$m/readings?from=2025-02-10&to=2025-02-12&points=500"
               "/api/v1/sites/$site/meters/$m/readings?from=2025-02-10T10:20:00Z&to=2025-02-20T00:00:00Z&points=50")
    done
    URLS+=("/api/v1/sites/$site/meters/m0/readings?from=2025-01-01&to=2025-03-01&points=100&quantity=energy_import_kwh")
done
URLS+=("/api/v1/report?year=2025")
sources=""
for url in "${URLS[@]}"; do
    for b in sqlite pg; do
        status=$(om_http_status "${BASE[$b]}$url")
        [ "$status" = 200 ] || { cat "$OM_TMP/body" >&2; om_fail "$b: $url: HTTP $status"; }
        mv "$OM_TMP/body" "$OM_TMP/body.$b"
    done
    cmp "$OM_TMP/body.sqlite" "$OM_TMP/body.pg" || {
        diff <(python3 -m json.tool "$OM_TMP/body.sqlite") <(python3 -m json.tool "$OM_TMP/body.pg") |
            head -20 >&2
        om_fail "$url differs between SQLite and PostgreSQL"; }
    sources+=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("source", ""))' \
        "$OM_TMP/body.pg")" "
done
# Both paths of om_store_buckets were compared, with points in them.
grep -q "hourly aggregates" <<<"$sources" && grep -q "readings" <<<"$sources" ||
    om_fail "not both sources of buckets were compared: $sources"
python3 - "$OM_TMP/body.pg" <<'PY' || om_fail "the report API is empty"
import json, sys
assert json.load(open(sys.argv[1]))["monthly"], "no months"
PY

om_log "the reading counts of /metrics alike"
for b in sqlite pg; do
    om_http_status "${BASE[$b]}/metrics" >/dev/null
    grep -E '^officemeter_(meter_readings_total|readings_stored_total)' "$OM_TMP/body" | sort >"$OM_TMP/metrics.$b" || true
done
[ -s "$OM_TMP/metrics.pg" ] || { om_http_status "${BASE[pg]}/metrics" >/dev/null; head -40 "$OM_TMP/body" >&2;
    om_fail "no reading counts in /metrics"; }
cmp "$OM_TMP/metrics.sqlite" "$OM_TMP/metrics.pg" || {
    diff "$OM_TMP/metrics.sqlite" "$OM_TMP/metrics.pg" >&2; om_fail "/metrics' reading counts differ"; }
echo ok
