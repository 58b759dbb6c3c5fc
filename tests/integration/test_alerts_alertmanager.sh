#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alerts into Prometheus Alertmanager (Debian's prometheus-alertmanager, the
# real receiver) through its v2 API: a gateway goes offline and the alert
# appears in Alertmanager with officemeter's labels (alertname = the rule,
# site, gateway, severity) and summary; the gateway comes back and the
# alert is resolved there too. An Alertmanager that is down at first gets
# the alert once it is up (the open alerts are sent every cycle).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

command -v prometheus-alertmanager >/dev/null ||
    om_fail "prometheus-alertmanager is not installed (scripts/setup installs it)"
SITE=office3
am_port=$(om_free_port)
om_start_delivery_rig "alertmanager: {url: \"http://127.0.0.1:$am_port\", ends_after_s: 60, resend_resolved_s: 120}"
for gw in gwa gwb gwc; do om_gateway_status "$SITE" "$gw" online; done
om_start_alerts_eval 0.3

om_log "Alertmanager down: the alert waits"
om_gateway_status "$SITE" gwb offline
om_wait_alert gateway_offline gwb open
sleep 1
grep -q "Alertmanager: .*127.0.0.1:$am_port" "$OM_TMP/alerts.log" || om_fail "no failed post logged"

om_log "Alertmanager up: the alert is there, with its labels"
printf 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n' >"$OM_TMP/am.yml"
prometheus-alertmanager --config.file="$OM_TMP/am.yml" --storage.path="$OM_TMP/am" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= --log.level=warn \
    2>>"$OM_TMP/am.log" &
om_track $!
am_alerts() {
    curl -s -f "http://127.0.0.1:$am_port/api/v2/alerts?filter=alertname%3D%22gateway_offline%22"
}
found=""
for i in $(seq 1 100); do
    if am_alerts >"$OM_TMP/am.json" 2>/dev/null && grep -q '"gateway":"gwb"' "$OM_TMP/am.json"; then
        found=1
        break
    fi
    sleep 0.2
done
[ -n "$found" ] || { cat "$OM_TMP/am.log" >&2; om_fail "the alert did not reach Alertmanager"; }
python3 - "$OM_TMP/am.json" <<'PY' || om_fail "the alert in Alertmanager is wrong (see above)"
import json, sys
alerts = json.load(open(sys.argv[1]))
a = [x for x in alerts if x["labels"].get("gateway") == "gwb"]
if len(a) != 1:
    sys.exit("Alertmanager has %d alerts for gwb: %r" % (len(a), alerts))
a = a[0]
want = {"alertname": "gateway_offline", "site": "office3", "gateway": "gwb", "severity": "critical"}
if any(a["labels"].get(k) != v for k, v in want.items()) or "officemeter_alert" not in a["labels"]:
    sys.exit("labels: %r" % a["labels"])
if a["status"]["state"] != "active" or "gateway gwb" not in a["annotations"]["summary"]:
    sys.exit("status or annotations: %r" % a)
PY

om_log "the gateway is back: resolved in Alertmanager"
om_gateway_status "$SITE" gwb online
om_wait_alert gateway_offline gwb resolved
gone=""
for i in $(seq 1 100); do
    am_alerts >"$OM_TMP/am.json" 2>/dev/null || true
    if ! grep -q '"gateway":"gwb"' "$OM_TMP/am.json"; then
        gone=1
        break
    fi
    sleep 0.2
done
[ -n "$gone" ] || { cat "$OM_TMP/am.json" >&2; om_fail "Alertmanager still shows the resolved alert as active"; }
