#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alert delivery that loses nothing, on the real clock, with gateway_offline
# alerts raised and cleared by publishing the gateways' status:
#   1. the webhook receiver is down while alerts fire, resolve and are
#      acknowledged; then it answers 503 for a while, then 200: every change
#      arrives, in order per alert, and each idempotency key with one body;
#   2. the evaluator is SIGKILLed between a change and its delivery, and
#      again while the receiver holds the POST unanswered: after a restart
#      both changes arrive (the second twice, with the same key and body:
#      once in effect);
#   3. MQTT: every change on officemeter/v1/{site}/alerts/events, the open
#      alerts retained on officemeter/v1/{site}/alerts;
#   4. `officemeter alerts` exits 1 while a critical alert is open and
#      unsilenced, 0 once it is silenced; ack and silence are recorded with
#      who, when and why, and delivered as changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

SITE=office3
hook_port=$(om_free_port)
om_start_delivery_rig "webhooks: [{url: \"http://127.0.0.1:$hook_port/hook\", timeout_s: 2}]"
mosquitto_sub -p "$OM_BROKER_PORT" -q 1 -v -t "officemeter/v1/$SITE/alerts/events" \
    >"$OM_TMP/events.txt" 2>/dev/null &
om_track $!
for gw in gwa gwb gwc; do om_gateway_status "$SITE" "$gw" online; done
om_start_alerts_eval 0.3

om=("$OM_BIN/officemeter" alerts --config "$OM_TMP/agg.yaml")
pending() { "${om[@]}" deliveries | awk -v t="webhook http://127.0.0.1:$hook_port/hook" 'index($0, t) { print $2 }'; }
wait_delivered() {
    local i
    for i in $(seq 1 150); do
        [ "$(pending)" = 0 ] && return 0
        sleep 0.2
    done
    "${om[@]}" deliveries >&2
    om_fail "changes still pending for the webhook"
}

om_log "1. the receiver down: alerts fire, resolve, are acknowledged"
for gw in gwa gwb gwc; do
    om_gateway_status "$SITE" "$gw" offline
    om_wait_alert gateway_offline "$gw" open
    om_gateway_status "$SITE" "$gw" online
    om_wait_alert gateway_offline "$gw" resolved
done
om_gateway_status "$SITE" gwa offline
om_wait_alert gateway_offline gwa open
rc=0
"${om[@]}" >"$OM_TMP/list.txt" || rc=$?
[ "$rc" -eq 1 ] || om_fail "officemeter alerts exited $rc with a critical alert open, expected 1"
grep -q "gateway_offline" "$OM_TMP/list.txt" || om_fail "the open alert is not listed"
id=$(om_sqlite "$OM_DB" "SELECT id FROM alerts WHERE subject = 'gwa' AND state = 'open'")
"${om[@]}" ack "$id" --note "router rebooted by the landlord" --by alice >/dev/null ||
    om_fail "ack failed"
"${om[@]}" show "$id" --format json >"$OM_TMP/show.json"
python3 - "$OM_TMP/show.json" <<'PY' || om_fail "the acknowledgement is not recorded (see above)"
import json, sys
s = json.load(open(sys.argv[1]))
ack = s["alert"]["acknowledged"]
if not ack or ack["by"] != "alice" or ack["note"] != "router rebooted by the landlord" or not ack["at"]:
    sys.exit("acknowledged: %r" % ack)
last = s["history"][-1]
if last["change"] != "acknowledged" or last["by"] != "alice":
    sys.exit("history: %r" % s["history"])
PY
changes=$(om_alert_changes)
[ "$changes" -eq 8 ] || om_fail "expected 8 changes (3 x fired and resolved, fired, acknowledged), got $changes"
sleep 1
[ "$(pending)" -eq 8 ] || { "${om[@]}" deliveries >&2; om_fail "the 8 changes are not all pending"; }
"${om[@]}" deliveries | grep -q "connect\|refused\|Couldn" || om_fail "the delivery error is not shown"

om_log "... then up, answering 503 at first"
touch "$OM_TMP/fail"
om_start_sink "$hook_port" "$OM_TMP/hook.jsonl" --fail-file "$OM_TMP/fail" --hang-file "$OM_TMP/hang"
om_wait_lines "$OM_TMP/hook.jsonl" 2 20
rm "$OM_TMP/fail"
wait_delivered

om_log "2. SIGKILL between a change and its delivery"
om_stop_pid "$OM_SINK_PID"
kill -KILL "$OM_EVAL_PID"
wait "$OM_EVAL_PID" 2>/dev/null || true
om_start_alerts_eval 0.3
om_gateway_status "$SITE" gwb offline
for i in $(seq 1 100); do [ "$(om_alert_changes)" -ge 9 ] && break; sleep 0.05; done
[ "$(om_alert_changes)" -ge 9 ] || om_fail "gwb's alert did not fire"
kill -KILL "$OM_EVAL_PID"
wait "$OM_EVAL_PID" 2>/dev/null || true
om_start_sink "$hook_port" "$OM_TMP/hook.jsonl" --fail-file "$OM_TMP/fail" --hang-file "$OM_TMP/hang"
om_start_alerts_eval 0.3
wait_delivered

om_log "... and while the receiver holds the POST"
touch "$OM_TMP/hang"
before=$(om_count_lines "$OM_TMP/hook.jsonl")
om_gateway_status "$SITE" gwc offline
om_wait_lines "$OM_TMP/hook.jsonl" $((before + 1)) 20
grep -q '"status": "hang"' "$OM_TMP/hook.jsonl" || om_fail "the receiver did not hold a request"
kill -KILL "$OM_EVAL_PID"
wait "$OM_EVAL_PID" 2>/dev/null || true
rm "$OM_TMP/hang"
om_start_alerts_eval 0.3
wait_delivered

om_log "what the receiver has: every change, in order per alert, once in effect"
om_sqlite "$OM_DB" "SELECT a.id || '-' || h.seq FROM alert_history h JOIN alerts a ON a.id = h.alert WHERE h.notify = 1 ORDER BY h.id" >"$OM_TMP/changes.txt"
python3 - "$OM_TMP/hook.jsonl" "$OM_TMP/changes.txt" <<'PY' || om_fail "webhook deliveries are wrong (see above)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
want = [l.strip() for l in open(sys.argv[2]) if l.strip()]
ok = [l for l in lines if l["status"] == 200]
bodies = {}
for l in ok:
    key, body = l["key"], l["body"]
    if body["key"] != key:
        sys.exit("header key %s, body key %s" % (key, body["key"]))
    if key in bodies and bodies[key] != body:
        sys.exit("key %s delivered with two different bodies" % key)
    bodies[key] = body
got = sorted({k.split("-", 1)[1] for k in bodies})
if got != sorted(want):
    sys.exit("delivered %s, expected %s" % (got, sorted(want)))
# In order per alert: the first successful delivery of each change.
first, seen = {}, set()
for l in ok:
    if l["key"] in seen:
        continue
    seen.add(l["key"])
    aid, seq = l["body"]["alert"]["id"], l["body"]["seq"]
    if seq <= first.get(aid, 0):
        sys.exit("alert %d: change %d delivered after change %d" % (aid, seq, first[aid]))
    first[aid] = seq
dups = len(ok) - len(bodies)
if dups < 1:
    sys.exit("the change held by the receiver was not sent again after the SIGKILL")
kinds = [bodies[k]["change"] for k in sorted(bodies)]
print("%d changes delivered (%s), %d sent twice with the same key, %d refused with 503 first"
      % (len(bodies), ", ".join(sorted(set(kinds))), dups, sum(1 for l in lines if l["status"] == 503)))
PY

om_log "3. MQTT: every change as an event, the open alerts retained"
for i in $(seq 1 50); do
    [ "$(grep -o '"key":"[^"]*"' "$OM_TMP/events.txt" | sort -u | wc -l)" -ge "$(om_alert_changes)" ] && break
    sleep 0.2
done
python3 - "$OM_TMP/events.txt" "$OM_TMP/changes.txt" <<'PY' || om_fail "MQTT events are wrong (see above)"
import json, sys
keys = {json.loads(l.split(" ", 1)[1])["key"].split("-", 1)[1] for l in open(sys.argv[1])}
want = {l.strip() for l in open(sys.argv[2]) if l.strip()}
if keys != want:
    sys.exit("events %s, expected %s" % (sorted(keys), sorted(want)))
PY
mosquitto_sub -p "$OM_BROKER_PORT" -C 1 -W 5 -t "officemeter/v1/$SITE/alerts" >"$OM_TMP/retained.json" ||
    om_fail "no retained list of open alerts"
python3 - "$OM_TMP/retained.json" <<'PY' || om_fail "the retained list is wrong (see above)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "officemeter.alerts.v1" and r["site"] == "office3", r
got = sorted(a["gateway"] for a in r["open"])
if got != ["gwa", "gwb", "gwc"]:
    sys.exit("open in the retained list: %s" % got)
PY

om_log "4. silences: recorded, delivered, and the exit status"
"${om[@]}" silence --site "$SITE" --gateway gwa --until +1h --note "landlord works" --by bob >/dev/null ||
    om_fail "silence failed"
rc=0
"${om[@]}" >/dev/null || rc=$?
[ "$rc" -eq 1 ] || om_fail "exit $rc with gwb and gwc still critical and unsilenced"
"${om[@]}" silence --site "$SITE" --until "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" --by bob >/dev/null ||
    om_fail "silence of the site failed"
"${om[@]}" >/dev/null || om_fail "exit non-zero with every open alert silenced"
"${om[@]}" silences | grep -q "landlord works" || om_fail "the silence is not listed"
wait_delivered
python3 - "$OM_TMP/hook.jsonl" <<'PY' || om_fail "silences were not delivered (see above)"
import json, sys
silenced = [json.loads(l)["body"] for l in open(sys.argv[1])]
silenced = [b for b in silenced if b["change"] == "silenced"]
if not any(b["by"] == "bob" and b["note"] == "landlord works" and b["alert"]["gateway"] == "gwa"
           for b in silenced):
    sys.exit("no silenced change by bob for gwa: %r" % silenced)
PY
