#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_web_prometheus.sh - a real Prometheus server (Debian's prometheus;
# label "prometheus") scrapes officemeter-web's /metrics with HTTP Basic as
# a user with every site, and its query API gives back the readings count
# that /metrics shows and the gateways online. Bounded: 60 s of waiting.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

command -v prometheus >/dev/null || om_fail "prometheus is not installed (scripts/setup installs it)"
om_web_portfolio 2 4 2026-01-01T00:00:00Z 2026-01-08T00:00:00Z 900
echo "it-password-1" | "$OM_BIN/officemeter" web-user add it --sites all \
    --users-file "$OM_TMP/users" >/dev/null
om_web_config "$OM_TMP/web.yaml" "users_file: $OM_TMP/users"
om_start_web "$OM_TMP/web.yaml" --now 2026-01-08T00:00:00Z
[ "$(om_http_status "http://127.0.0.1:$OM_WEB_PORT/metrics" -u it:it-password-1)" = 200 ] ||
    om_fail "/metrics: $(cat "$OM_TMP/body")"
want=$(sed -n 's/^officemeter_readings_stored_total \([0-9]*\)$/\1/p' "$OM_TMP/body")
[ -n "$want" ] || om_fail "no officemeter_readings_stored_total in /metrics"

prom_port=$(om_free_port)
cat >"$OM_TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: officemeter-web
    basic_auth: {username: it, password: it-password-1}
    static_configs: [{targets: ["127.0.0.1:$OM_WEB_PORT"]}]
YAML
promtool check config "$OM_TMP/prometheus.yml" >/dev/null || om_fail "promtool refuses the test's config"
prometheus --config.file "$OM_TMP/prometheus.yml" --storage.tsdb.path "$OM_TMP/tsdb" \
    --web.listen-address "127.0.0.1:$prom_port" >"$OM_TMP/prometheus.log" 2>&1 &
om_track $!
query() {
    curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
got=
for _ in $(seq 1 120); do
    got=$(query officemeter_readings_stored_total)
    [ -n "$got" ] && break
    sleep 0.5
done
[ "$got" = "$want" ] || { tail -20 "$OM_TMP/prometheus.log" >&2; om_fail "Prometheus has \"$got\", /metrics says $want"; }
[ "$(query 'up{job="officemeter-web"}')" = 1 ] || om_fail "the scrape target is not up"
[ "$(query officemeter_gateways_online)" = 2 ] || om_fail "gateways online: $(query officemeter_gateways_online)"
echo "ok: Prometheus scraped officemeter_readings_stored_total = $got"
