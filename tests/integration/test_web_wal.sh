#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_web_wal.sh - the web view reads while the aggregator writes (WAL
# readers never block the writer), and the hourly aggregates survive what
# the readings survive:
#  1. a burst of polls through a real broker while pages and the API are
#     loaded in a loop: every load 200, the acknowledgements keep coming;
#  2. the aggregator SIGKILLed while a site page loads: the page still
#     loads, the aggregator restarts, the stand-in gateway resends, and every
#     poll is stored once;
#  3. the hourly aggregates and reading counts equal a recomputation from
#     the readings, row for row, after the duplicates and the kill; the
#     status API counts exactly the readings stored.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

metrics_port=$(om_free_port)
OM_AGG_COMMIT_MS=500 om_start_aggregator_rig "metrics_listen: 127.0.0.1:$metrics_port"
db=$OM_DB
# The web view reports too: the portfolio's factors and policy beside the site.
cp "$OM_SOURCE_DIR/sites/emission-factors.yaml" "$OM_SOURCE_DIR/sites/reporting.yaml" "$OM_TMP/sites/"
cat >"$OM_TMP/web.yaml" <<YAML
aggregator_config: $OM_TMP/agg.yaml
listen: 127.0.0.1:$(om_free_port)
cache_s: 0
page_cache_s: 0
YAML
om_start_web "$OM_TMP/web.yaml"
base="http://$(sed -n 's/^listen: //p' "$OM_TMP/web.yaml")"
now=$(( $(date +%s) * 1000 ))

om_log "pages while the aggregator ingests a burst"
om_start_burst 00000000000000e1 20000 3 20 --t0 $((now - 3 * 86400000))
pub=$OM_BURST_PID
loads=0
acks_before=$(om_sql "$db" "SELECT coalesce(max(upto), 0) FROM epochs")
for _ in $(seq 1 8); do
    for url in /sites/sim-office /api/v1/status "/api/v1/sites/sim-office/daily" \
               "/api/v1/sites/sim-office/meters/main/readings?quantity=energy_import_kwh"; do
        code=$(om_http_status "$base$url")
        [ "$code" = 200 ] || om_fail "$url during the burst: HTTP $code: $(head -c 300 "$OM_TMP/body")"
        loads=$((loads + 1))
    done
done
acks_after=$(om_sql "$db" "SELECT coalesce(max(upto), 0) FROM epochs")
om_log "$loads loads during the burst; acknowledged $acks_before -> $acks_after"
[ "$acks_after" -gt "$acks_before" ] || om_fail "the aggregator stood still while pages loaded"

om_wait_exit "$pub" 90
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "burst: not all acknowledged: $(cat "$OM_TMP/burst.json")"
mv "$OM_TMP/burst.rows" "$OM_TMP/burst1.rows"
rm -f "$OM_TMP/progress"

om_log "the aggregator's own metrics (metrics_listen)"
[ "$(om_http_status "http://127.0.0.1:$metrics_port/metrics")" = 200 ] || om_fail "aggregator /metrics"
promtool check metrics <"$OM_TMP/body" || om_fail "promtool refuses the aggregator's /metrics"
python3 - "$OM_TMP/body" <<'PY' || om_fail "the aggregator's metrics do not count the burst"
import re, sys
text = open(sys.argv[1]).read()
count = int(re.search(r"^officemeter_aggregator_commit_duration_seconds_count (\d+)$", text, re.M).group(1))
readings = int(re.search(r"^officemeter_aggregator_readings_total (\d+)$", text, re.M).group(1))
inf = int(re.search(r'^officemeter_aggregator_commit_duration_seconds_bucket\{le="\+Inf"\} (\d+)$', text, re.M).group(1))
assert count > 0 and inf == count and readings >= 60000, (count, inf, readings)
PY
sed 's/^metrics_listen: .*/metrics_listen: nowhere/' "$OM_TMP/agg.yaml" >"$OM_TMP/bad-agg.yaml"
"$OM_BIN/officemeter-aggregator" --config "$OM_TMP/bad-agg.yaml" --check 2>"$OM_TMP/err" &&
    om_fail "a bad metrics_listen was accepted"
grep -q "metrics_listen: not an address" "$OM_TMP/err" || om_fail "no reason: $(cat "$OM_TMP/err")"

om_log "SIGKILL of the aggregator during a page load, in the middle of a burst"
om_start_burst 00000000000000e3 30000 3 40 --t0 $((now - 2 * 86400000))
pub=$OM_BURST_PID
curl -s -o "$OM_TMP/page.html" -w '%{http_code}' --max-time 60 "$base/sites/sim-office" \
    >"$OM_TMP/page.code" &
page=$!
kill -KILL "$OM_AGG_PID"
wait "$OM_AGG_PID" 2>/dev/null || true
wait "$page" || true
[ "$(cat "$OM_TMP/page.code")" = 200 ] || om_fail "the page loaded during the kill: HTTP $(cat "$OM_TMP/page.code")"
grep -q 'id="meters"' "$OM_TMP/page.html" || om_fail "the page loaded during the kill is incomplete"
[ "$(om_http_status "$base/api/v1/status")" = 200 ] || om_fail "status with the aggregator down"
committed=$(om_sql "$db" "SELECT count(*) FROM readings")
[ "$committed" -lt $(( 60000 + 90000 )) ] || om_fail "the kill came after the burst"
om_start_aggregator "$OM_TMP/agg.yaml"
om_wait_exit "$pub" 90
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "burst: not all acknowledged: $(cat "$OM_TMP/burst.json")"
grep -q '"resends": 0,' "$OM_TMP/burst.json" && om_fail "the kill cost no resend"
cat "$OM_TMP/burst1.rows" "$OM_TMP/burst.rows" >"$OM_TMP/all.rows"
om_replay check --db "$db" --expected "$OM_TMP/all.rows" >&2 || om_fail "stored rows differ"
om_log "duplicates on top"
om_replay publish --port "$OM_BROKER_PORT" --epoch 00000000000000e2 --polls 400 --per-message 40 \
    --duplicate --t0 $((now - 3 * 86400000)) --timeout 30 >/dev/null ||
    om_fail "duplicates not acknowledged"
kill -TERM "$OM_AGG_PID"
om_wait_exit "$OM_AGG_PID" 30

om_log "hourly aggregates against the readings"
diff=$(om_sql "$db" "
  WITH g AS (SELECT meter, quantity, t / 3600000 AS hour, count(*) AS n, min(value) AS mn,
                    max(value) AS mx, sum(value) AS s, min(t) AS ft, max(t) AS lt
             FROM readings GROUP BY 1, 2, 3)
  SELECT (SELECT count(*) FROM g LEFT JOIN meter_hours h USING (meter, quantity, hour)
          WHERE h.n IS NOT g.n OR h.min IS NOT g.mn OR h.max IS NOT g.mx
             OR h.first_t IS NOT g.ft OR h.last_t IS NOT g.lt OR abs(h.sum - g.s) > 1e-6 * abs(g.s))
       + (SELECT count(*) FROM meter_hours) - (SELECT count(*) FROM g)")
[ "$diff" = 0 ] || om_fail "$diff hourly aggregate rows differ from the readings"
counts=$(om_sql "$db" "SELECT count(*) FROM (SELECT meter, quantity, count(*) AS n FROM readings
                       GROUP BY 1, 2) g LEFT JOIN meter_counts c USING (meter, quantity)
                       WHERE c.n IS NOT g.n")
[ "$counts" = 0 ] || om_fail "$counts reading counts differ"
stored=$(om_sql "$db" "SELECT count(*) FROM readings")
om_http_status "$base/api/v1/status" >/dev/null
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]["readings"]; assert t == int(sys.argv[2]), (t, sys.argv[2])' \
    "$OM_TMP/body" "$stored" || om_fail "the status API's count differs from the readings ($stored)"
echo "ok: $stored readings, aggregates equal to a recomputation"
