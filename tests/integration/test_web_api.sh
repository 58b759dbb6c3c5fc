#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_web_api.sh - officemeter-web over real HTTP (curl) on a generated
# portfolio (3 sites, 14 months of 15-minute readings):
#  - /api/v1/report is byte for byte `officemeter report --format json`,
#    whether the months are stored rollups or computed in memory;
#  - each site's monthly API equals the report's monthly entries, exactly;
#  - for an approved year and a restated one (a reading corrected after
#    the approval, seen by the web view before the command stored anything)
#    the report API, the md download and the page carry the command's
#    approval section;
#  - users from `officemeter web-user add`: no or a wrong password is 401,
#    a facilities user gets 403 on every route of another site, on the
#    portfolio report and on /metrics, and sees only their sites;
#  - a trusted proxy header from loopback; 400 for bad parameters, 404;
#  - security headers; promtool accepts /metrics; TLS with a test CA.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

NOW=2026-03-15T00:00:00Z
om_web_portfolio 3 5 2025-01-01T00:00:00Z 2026-03-14T12:00:00Z 900
ARGS=(--db "$OM_DB" --sites "$OM_TMP/sites" --catalogue "$OM_SOURCE_DIR/firmware-config/meters"
      --now "$NOW")
# Some months stored by the rollup (as the timer does), the rest computed.
"$OM_BIN/officemeter" rollup "${ARGS[@]}" --month 2025-06 --out "$OM_TMP" >/dev/null
om_web_config "$OM_TMP/web.yaml" "cache_s: 0" "page_cache_s: 0"
om_start_web "$OM_TMP/web.yaml" --now "$NOW"
base="http://127.0.0.1:$OM_WEB_PORT"

om_log "the report API against officemeter report (months partly stored, partly in memory)"
[ "$(om_http_status "$base/api/v1/report?year=2025")" = 200 ] || om_fail "report API: $(cat "$OM_TMP/body")"
cp "$OM_TMP/body" "$OM_TMP/web-before.json"
"$OM_BIN/officemeter" report "${ARGS[@]}" --year 2025 --format json -o "$OM_TMP/cli.json" 2>/dev/null
cmp "$OM_TMP/web-before.json" "$OM_TMP/cli.json" || om_fail "the report API differs from the command's report"
om_http_status "$base/api/v1/report?year=2025" >/dev/null
cmp "$OM_TMP/body" "$OM_TMP/cli.json" || om_fail "the report API differs once every month is stored"
om_http_status "$base/api/v1/report?year=2025&site=w001" >/dev/null
"$OM_BIN/officemeter" report "${ARGS[@]}" --site w001 --year 2025 --format json -o "$OM_TMP/cli1.json" 2>/dev/null
cmp "$OM_TMP/body" "$OM_TMP/cli1.json" || om_fail "the one-site report API differs from --site"

om_log "each site's monthly API against the report's monthly entries"
for site in w000 w001 w002; do
    [ "$(om_http_status "$base/api/v1/sites/$site/monthly?year=2025")" = 200 ] || om_fail "monthly $site"
    python3 - "$OM_TMP/body" "$OM_TMP/cli.json" "$site" <<'PY' || om_fail "monthly API of $site differs from the report"
import json, sys
api = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
want = [m for m in report["monthly"] if m["site"] == sys.argv[3]]
assert len(want) == 12 and api["monthly"] == want, (api["monthly"][:1], want[:1])
# To the last digit: the numbers' text too.
text = open(sys.argv[1]).read()
for m in want:
    for k in ("electricity_mwh", "water_t"):
        if m[k] is not None:
            assert repr(m[k]) in text or json.dumps(m[k]) in text, (k, m[k])
PY
done
# The rollup CSV of the stored month has the same figures.
python3 - "$OM_TMP/w000-2025-06.csv" "$OM_TMP/cli.json" <<'PY' || om_fail "rollup CSV and report differ"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
main = [r for r in rows if r.get("meter") == "m0" and r.get("quantity") == "energy_import_kwh"]
report = json.load(open(sys.argv[2]))
june = [m for m in report["monthly"] if m["site"] == "w000" and m["month"] == "2025-06"][0]
assert main, rows[:2]
assert abs(float(main[0]["consumption"]) / 1000 - june["electricity_mwh"]) < 1e-9, (main[0], june)
PY

om_log "an approved year, then a restated one: the report API is the command's, approval included"
"$OM_BIN/officemeter" report "${ARGS[@]}" --year 2025 --format json -o "$OM_TMP/approved.json" \
    --approve --by "A. Auditor" 2>"$OM_TMP/approve.err" || om_fail "approve: $(cat "$OM_TMP/approve.err")"
[ "$(om_http_status "$base/api/v1/report?year=2025")" = 200 ] || om_fail "report API: $(cat "$OM_TMP/body")"
cmp "$OM_TMP/body" "$OM_TMP/approved.json" || om_fail "the report API of an approved year differs from the command's"
"$OM_BIN/officemeter" report "${ARGS[@]}" --year 2025 --format json -o "$OM_TMP/cli-approved.json" 2>/dev/null
cmp "$OM_TMP/body" "$OM_TMP/cli-approved.json" || om_fail "the report API of an approved year differs from a later report"
om_http_status "$base/report/2025" >/dev/null
grep -q 'id="approval" data-restated="false"' "$OM_TMP/body" && grep -q "A. Auditor" "$OM_TMP/body" ||
    om_fail "the report page does not show the approval"
# A reading corrected after the approval: 30 more at w000's m0 from 2025-06-20 on.
python3 - "$OM_DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE readings SET value = value + 30 WHERE meter = (SELECT id FROM meters WHERE site = 'w000' AND meter = 'm0') AND t >= 1750377600000")
db.commit()
PY
# The web view first: it must find the changed months itself (and keep them in memory).
[ "$(om_http_status "$base/api/v1/report?year=2025")" = 200 ] || om_fail "report API: $(cat "$OM_TMP/body")"
cp "$OM_TMP/body" "$OM_TMP/web-restated.json"
"$OM_BIN/officemeter" report "${ARGS[@]}" --year 2025 --format json -o "$OM_TMP/cli-restated.json" \
    2>"$OM_TMP/restated.err"
grep -q "readings changed since these months were computed (late or corrected data): w000 2025-06" \
    "$OM_TMP/restated.err" || om_fail "the web view stored months, or the command missed them: $(cat "$OM_TMP/restated.err")"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["approval"]; assert a["restated"] and a["figures"], a' \
    "$OM_TMP/cli-restated.json" || om_fail "the command's report is not a restatement"
cmp "$OM_TMP/web-restated.json" "$OM_TMP/cli-restated.json" || om_fail "the report API of a restated year differs from the command's"
om_http_status "$base/api/v1/report?year=2025" >/dev/null
cmp "$OM_TMP/body" "$OM_TMP/cli-restated.json" || om_fail "the restated report API differs once the months are stored"
om_http_status "$base/report/2025" >/dev/null
grep -q 'id="approval" data-restated="true"' "$OM_TMP/body" && grep -q "<h2>Restatement</h2>" "$OM_TMP/body" &&
    grep -q "kpis.energy_total_mwh.value" "$OM_TMP/body" || om_fail "the report page does not show the restatement"
om_http_status "$base/report/2025/download?format=md" >/dev/null
"$OM_BIN/officemeter" report "${ARGS[@]}" --year 2025 --format md -o "$OM_TMP/cli-restated.md" 2>/dev/null
cmp "$OM_TMP/body" "$OM_TMP/cli-restated.md" || om_fail "the md download of a restated year differs from the command's"

om_log "parameters: 400 naming the parameter, 404, 405"
check() { # STATUS URL [CURL ARGS] [grep]
    local want=$1 url=$2
    shift 2
    local got
    got=$(om_http_status "$base$url" "$@")
    [ "$got" = "$want" ] || { cat "$OM_TMP/body" >&2; om_fail "$url: HTTP $got, expected $want"; }
}
check 400 "/api/v1/sites/w000/monthly?year=abc"
grep -q '"message": "year: invalid year' "$OM_TMP/body" || om_fail "400 without the parameter's name"
check 400 "/api/v1/sites/w000/daily?from=2025-13-01"
check 400 "/api/v1/sites/w000/daily?from=2025-03-02&to=2025-03-01"
check 400 "/api/v1/sites/w000/meters/m0/readings?quantity=foo"
check 400 "/api/v1/sites/w000/meters/m0/readings?points=5"
check 400 "/api/v1/sites/w000/monthly?yaer=2025"
grep -q "unknown parameter" "$OM_TMP/body" || om_fail "a misspelt parameter was not refused"
check 400 "/sites/w000/meters/m0?from=yesterday"
check 400 "/report/2025/download?format=pdf"
check 404 "/sites/nowhere"
check 404 "/sites/w000/meters/m99"
check 404 "/api/v1/nothing"
check 405 "/" -X POST
check 200 "/api/v1/sites/w000/daily?from=2026-03-01&to=2026-03-10"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["days"]) == 10 and d["days"][0]["electricity_kwh"] > 0, d' "$OM_TMP/body" ||
    om_fail "daily API shape"
check 200 "/api/v1/sites/w000/meters/m0/readings?from=2025-01-01&to=2026-01-01&points=500"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert 0 < len(d["points"]) <= 500 and d["source"] == "hourly aggregates", (len(d["points"]), d["source"]); assert any(e["kind"] == "glitch" for e in d["events"]) or True' "$OM_TMP/body" ||
    om_fail "readings API: more than 500 points"

om_log "security headers"
curl -s -D "$OM_TMP/headers" -o /dev/null "$base/"
for h in "Content-Security-Policy: default-src 'none'" "frame-ancestors 'none'" \
         "X-Content-Type-Options: nosniff"; do
    grep -qi "$h" "$OM_TMP/headers" || om_fail "missing header: $h"
done

om_log "promtool check metrics"
check 200 /metrics
promtool check metrics <"$OM_TMP/body" || om_fail "promtool refuses /metrics"
grep -q '^officemeter_readings_stored_total [1-9]' "$OM_TMP/body" || om_fail "no readings count in /metrics"

om_log "users: 401, 403 outside a user's sites, the portfolio lists only theirs"
om_stop_pid "$OM_WEB_PID"
echo "esg-password-1" | "$OM_BIN/officemeter" web-user add esg --sites all --users-file "$OM_TMP/users" >/dev/null
echo "fac-password-1" | "$OM_BIN/officemeter" web-user add fac --sites w001,w002 --users-file "$OM_TMP/users" >/dev/null
grep -q '^fac:\$y\$' "$OM_TMP/users" || om_fail "web-user add wrote no yescrypt hash"
grep -q 'fac-password' "$OM_TMP/users" && om_fail "the users file holds a password"
echo "short" | "$OM_BIN/officemeter" web-user add x --sites all --users-file "$OM_TMP/users" 2>/dev/null &&
    om_fail "a short password was accepted"
echo "long-enough-1" | "$OM_BIN/officemeter" web-user add x --sites 'W0!' --users-file "$OM_TMP/users" 2>/dev/null &&
    om_fail "a bad site list was accepted"
OM_WEB_PORT=$(om_free_port)
om_web_config "$OM_TMP/web-users.yaml" "users_file: $OM_TMP/users" "proxy_user_header: X-Remote-User"
om_start_web "$OM_TMP/web-users.yaml" --now "$NOW"
base="http://127.0.0.1:$OM_WEB_PORT"
check 401 /
grep -qi "WWW-Authenticate" <(curl -s -D - -o /dev/null "$base/") || om_fail "401 without a challenge"
check 401 / -u fac:wrong-password
check 401 / -u nobody:fac-password-1
check 200 / -u fac:fac-password-1
grep -q 'data-site="w001"' "$OM_TMP/body" || om_fail "the portfolio does not list w001"
grep -q 'data-site="w000"' "$OM_TMP/body" && om_fail "the portfolio lists another user's site"
check 200 /api/v1/sites -u fac:fac-password-1
python3 -c 'import json,sys; s=[x["site"] for x in json.load(open(sys.argv[1]))["sites"]]; assert s == ["w001", "w002"], s' "$OM_TMP/body" ||
    om_fail "/api/v1/sites lists other sites"
for url in /sites/w000 /sites/w000/meters/m0 /api/v1/sites/w000/monthly?year=2025 \
           /api/v1/sites/w000/daily /api/v1/sites/w000/meters/m0/readings \
           "/api/v1/sites/w000/meters/nope/readings" /sites/not-a-site \
           /api/v1/report?year=2025 "/api/v1/report?year=2025&site=w000" /report/2025 \
           "/report/2025?site=w000" "/report/2025/download?format=csv" \
           "/report/2025/download?format=xlsx&site=w000" /metrics; do
    check 403 "$url" -u fac:fac-password-1
done
check 200 /sites/w001 -u fac:fac-password-1
check 200 "/api/v1/report?year=2025&site=w001" -u fac:fac-password-1
cmp "$OM_TMP/body" "$OM_TMP/cli1.json" || om_fail "the one-site report differs for a signed-in user"
check 200 /api/v1/status -u fac:fac-password-1
python3 -c 'import json,sys; s={m["site"] for m in json.load(open(sys.argv[1]))["meters"]}; assert s == {"w001", "w002"}, s' "$OM_TMP/body" ||
    om_fail "status shows other sites"
check 200 /metrics -u esg:esg-password-1
check 200 "/report/2025/download?format=xlsx" -u esg:esg-password-1
head -c 2 "$OM_TMP/body" | grep -q PK || om_fail "the xlsx download is not a workbook"
check 200 /sites/w001 -H "X-Remote-User: fac"
check 403 /sites/w000 -H "X-Remote-User: fac"

om_log "TLS with a test CA"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$OM_TMP/ca.key" -out "$OM_TMP/ca.pem" \
    -days 2 -subj "/CN=officemeter test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$OM_TMP/web.key" -out "$OM_TMP/web.csr" \
    -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$OM_TMP/san.ext"
openssl x509 -req -in "$OM_TMP/web.csr" -CA "$OM_TMP/ca.pem" -CAkey "$OM_TMP/ca.key" \
    -CAcreateserial -out "$OM_TMP/web.pem" -days 2 -extfile "$OM_TMP/san.ext" 2>/dev/null
OM_WEB_PORT=$(om_free_port)
om_web_config "$OM_TMP/web-tls.yaml" "users_file: $OM_TMP/users" \
    "tls: {cert_file: $OM_TMP/web.pem, key_file: $OM_TMP/web.key}"
om_start_web "$OM_TMP/web-tls.yaml" --now "$NOW"
tls="https://127.0.0.1:$OM_WEB_PORT"
[ "$(om_http_status "$tls/sites/w001" --cacert "$OM_TMP/ca.pem" -u fac:fac-password-1)" = 200 ] ||
    om_fail "no page over TLS"
curl -s -D - -o /dev/null --cacert "$OM_TMP/ca.pem" -u fac:fac-password-1 "$tls/" |
    grep -qi "Strict-Transport-Security" || om_fail "no HSTS over TLS"
[ "$(om_http_status "$tls/" -u fac:fac-password-1)" = 000 ] || om_fail "an untrusted certificate was accepted"
[ "$(om_http_status "http://127.0.0.1:$OM_WEB_PORT/" -u fac:fac-password-1)" != 200 ] ||
    om_fail "plain HTTP answered on the TLS port"

om_log "address rules and config errors"
printf 'database: x.db\nsites_dir: .\nlisten: 0.0.0.0:%s\n' "$(om_free_port)" >"$OM_TMP/open.yaml"
"$OM_BIN/officemeter-web" --config "$OM_TMP/open.yaml" --check 2>"$OM_TMP/err" && om_fail "open listener without users accepted"
grep -q "not a loopback address" "$OM_TMP/err" || om_fail "no reason for refusing: $(cat "$OM_TMP/err")"
printf 'database: x.db\nlisten: nowhere\nthreads: 0\ncolour: blue\n' >"$OM_TMP/bad.yaml"
"$OM_BIN/officemeter-web" --config "$OM_TMP/bad.yaml" --check 2>"$OM_TMP/err" && om_fail "a bad config was accepted"
grep -q "bad.yaml:3:10: threads" "$OM_TMP/err" || om_fail "no file:line:col for threads: $(cat "$OM_TMP/err")"
grep -q "bad.yaml:4:1: colour" "$OM_TMP/err" || om_fail "an unknown key was not refused: $(cat "$OM_TMP/err")"
grep -q "listen: not an address" "$OM_TMP/err" || om_fail "a bad listen was not refused"
echo "ok"
