#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Late data: the same simulated week (a leak from Tuesday noon to Friday
# noon, a counter reset on Thursday) run twice through the whole pipeline
# at 100 000x: once live, once with the gateway's uplink cut from Monday
# noon to the next Monday, so that the whole week arrives in one burst
# when it is back. The data-time alerts are the same: the night rule's
# fired and resolved times exactly (they are period ends), the others
# within an hour (each run's readings are stamped when the meter answered,
# so the two runs' readings differ by the agent's jitter); the second run
# adds gateway_offline, and no meter goes stale in either.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

START=2024-01-01T00:00:00Z END=2024-01-09T12:00:00Z
FAULTS=(--fault "water=leak:0.2@2024-01-02T12:00:00Z/2024-01-05T12:00:00Z"
        --fault "hvac=reset@2024-01-04T10:00:00Z")

# run NAME [SIMULATOR ARGS...]: the week, into $OM_TMP/NAME.jsonl.
run() {
    local name=$1 uplink
    shift
    OM_BROKER_PORT=$(om_free_port)
    uplink=$(om_free_port)
    om_start_alerts_rig "$OM_SOURCE_DIR/tests/data/alerts/drill-fast.yaml" "$START" 100000 \
        --broker "127.0.0.1:$OM_BROKER_PORT" --uplink "gw1=tcp:127.0.0.1:$uplink" "${FAULTS[@]}" "$@"
    om_start_alerts_agent "$uplink"
    om_start_alerts_eval 0.2 --sim-clock "$OM_CLOCK"
    om_wait_sim "$OM_CLOCK" "$END" 60
    # Every meter's readings reached the end (the burst is in), then a few
    # evaluation cycles.
    local i end_ms
    end_ms=$(om_iso_ms "$END")
    for i in $(seq 1 100); do
        [ "$(om_sqlite "$OM_DB" "SELECT min(last_t) FROM meters")" -ge $((end_ms - 3600000)) ] && break
        sleep 0.1
    done
    sleep 1
    om_stop_pid "$OM_EVAL_PID"
    om_alert_lines >"$OM_TMP/$name.jsonl"
    om_stop_agent
    for pid in "$OM_SIM_PID" "$OM_AGG_PID" "$OM_BROKER_PID"; do om_stop_pid "$pid"; done
    mkdir -p "$OM_TMP/$name"
    mv "$OM_TMP"/agg.db* "$OM_TMP"/outbox.db* "$OM_TMP"/alerts.log "$OM_TMP"/agent.log "$OM_TMP/$name/"
    rm -rf "$OM_TMP/sites" "$OM_TMP/clock.json"
    unset OM_BROKER_PORT
}

om_log "live"
run live
om_log "in one burst after an outage"
run burst --fault "gw1=offline@2024-01-01T12:00:00Z/2024-01-08T00:00:00Z"
grep -q "uplink of gw1 restored" "$OM_TMP/sim.log" || om_fail "the uplink was not cut and restored"

python3 - "$OM_TMP/live.jsonl" "$OM_TMP/burst.jsonl" <<'PY' ||
import datetime, json, sys
def ms(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000 if s else None
def load(path):
    out = {}
    for l in open(path):
        a = json.loads(l)
        key = (a["rule"], a.get("meter") or a.get("gateway"))
        if key in out:
            sys.exit("%s: %r fired twice" % (path, key))
        out[key] = a
    return out
live, burst = load(sys.argv[1]), load(sys.argv[2])
want = {("water_night_flow", "water"), ("water_continuous_flow", "water"), ("counter_anomaly", "hvac")}
if set(live) != want:
    sys.exit("live: %s, expected %s" % (sorted(live), sorted(want)))
if set(burst) != want | {("gateway_offline", "gw1")}:
    sys.exit("burst: %s, expected %s and the gateway offline" % (sorted(burst), sorted(want)))
H = 3600000
print("%-22s %-26s %-26s %-26s %-26s" % ("RULE", "FIRED (live)", "FIRED (burst)", "RESOLVED (live)", "RESOLVED (burst)"))
for key in sorted(want):
    a, b = live[key], burst[key]
    tol = 0 if key[0] == "water_night_flow" else H
    for field in ("fired_at", "resolved_at"):
        if a[field] is None or b[field] is None or abs(ms(a[field]) - ms(b[field])) > tol:
            sys.exit("%s %s: live %s, burst %s (tolerance %d h)" % (key[0], field, a[field], b[field], tol // H))
    print("%-22s %-26s %-26s %-26s %-26s" % (key[0], a["fired_at"], b["fired_at"], a["resolved_at"], b["resolved_at"]))
    # Live, each was detected soon after its data; in the burst, after the outage.
    if key[0] == "water_night_flow" and not ms(b["detected_at"]) >= ms("2024-01-08T00:00:00+00:00"):
        sys.exit("the burst's night flow alert was detected before the data arrived: %r" % b)
PY
    { cat "$OM_TMP/live.jsonl" "$OM_TMP/burst.jsonl" >&2; om_fail "live and late alerts differ (see above)"; }
