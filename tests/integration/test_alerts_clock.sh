#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The clock rules through the whole pipeline, on the simulator's clock at
# 3600x (a simulated hour per real second):
#   - the lifts meter stops answering from 03:00 to 06:00 (timeout@):
#     meter_stale fires within its bound and resolves when it answers again;
#   - the gateway's uplink to the broker is cut from 09:00 to 12:00
#     (offline@, through the simulator's --uplink): the broker publishes its
#     last will, gateway_offline fires and resolves once it is back;
#   - while the gateway is offline its meters' staleness is left to the
#     gateway's alert, and the backlog that arrives in a burst afterwards
#     (history being backfilled) raises nothing;
#   - nothing else fires.
# Prints each rule's detection delay in simulated time (docs/alerts.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

DAY=2024-01-08
STALE_FROM=${DAY}T03:00:00Z STALE_UNTIL=${DAY}T06:00:00Z
OFF_FROM=${DAY}T09:00:00Z OFF_UNTIL=${DAY}T12:00:00Z
END=${DAY}T16:00:00Z
# Under ASan the agent drains its outbox after the outage too slowly for a
# simulated hour per real second, and the backlog looks like growth: a
# quarter of the speed there.
SPEED=3600
om_sanitized && SPEED=900
OM_BROKER_PORT=$(om_free_port)
uplink=$(om_free_port)
om_start_alerts_rig "$OM_SOURCE_DIR/tests/data/alerts/drill-clock.yaml" ${DAY}T00:00:00Z "$SPEED" \
    --broker "127.0.0.1:$OM_BROKER_PORT" --uplink "gw1=tcp:127.0.0.1:$uplink" \
    --fault "lifts=timeout@$STALE_FROM/$STALE_UNTIL" --fault "gw1=offline@$OFF_FROM/$OFF_UNTIL"
om_start_alerts_agent "$uplink"
om_start_alerts_eval 0.25 --sim-clock "$OM_CLOCK"
om_wait_sim "$OM_CLOCK" "$END" $((60 * 3600 / SPEED))
kill -TERM "$OM_EVAL_PID"
om_wait_exit "$OM_EVAL_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || { cat "$OM_TMP/alerts.log" >&2; om_fail "the evaluator exited $OM_EXIT_STATUS"; }
grep -q "uplink of gw1 cut" "$OM_TMP/sim.log" || om_fail "the simulator did not cut the uplink"
grep -q "uplink of gw1 restored" "$OM_TMP/sim.log" || om_fail "the simulator did not restore the uplink"

om_alert_lines >"$OM_TMP/alerts.jsonl"
python3 - "$OM_TMP/alerts.jsonl" "$STALE_FROM" "$STALE_UNTIL" "$OFF_FROM" "$OFF_UNTIL" <<'PY' ||
import datetime, json, sys
def ms(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000 if s else None
H = 3600000
alerts = [json.loads(l) for l in open(sys.argv[1])]
stale_from, stale_until, off_from, off_until = (ms(x) for x in sys.argv[2:6])
got = sorted((a["rule"], a.get("meter") or a.get("gateway")) for a in alerts)
want = [("gateway_offline", "gw1"), ("meter_stale", "lifts")]
if got != want:
    sys.exit("alerts %s, expected exactly %s" % (got, want))
# Bounds, simulated hours: meter_stale fires 8 intervals (2 h) after the last
# reading, plus the agent's timeout and an evaluation cycle (15 min) and a
# busy machine's second; it resolves at the first poll after the meter's
# backoff (2 real seconds). gateway_offline fires offline_s (2 min) after
# the last will, plus a cycle; it resolves with the first health after the
# agent reconnects (its backoff is up to a real second: a simulated hour).
bounds = {"meter_stale": (stale_from, 3.5 * H, stale_until, 4 * H),
          "gateway_offline": (off_from, 1.5 * H, off_until, 3 * H)}
print("%-16s %-6s %14s %14s" % ("RULE", "ON", "FIRED AFTER", "RESOLVED AFTER"))
for a in alerts:
    start, within, end, rwithin = bounds[a["rule"]]
    fired, resolved = ms(a["fired_at"]), ms(a["resolved_at"])
    if not 0 <= fired - start <= within:
        sys.exit("%s fired at %s (bound: %.1f h after %s)" % (a["rule"], a["fired_at"], within / H, sys.argv[2]))
    if resolved is None or not 0 <= resolved - end <= rwithin:
        sys.exit("%s resolved at %s (bound: %.1f h after the fault's end)" % (a["rule"], a["resolved_at"], rwithin / H))
    print("%-16s %-6s %12.2f h %12.2f h" % (a["rule"], a.get("meter") or a.get("gateway"),
          (fired - start) / H, (resolved - end) / H))
PY
    { tail -20 "$OM_TMP/alerts.log" >&2; cat "$OM_TMP/alerts.jsonl" >&2; om_fail "alerts differ from the faults (see above)"; }

om_log "the backlog of the outage arrived: readings all through it"
holes=$(om_sql "$OM_DB" "SELECT count(*) FROM (SELECT t - lag(t) OVER (ORDER BY t) AS d FROM readings r JOIN meters m ON m.id = r.meter JOIN quantities q ON q.id = r.quantity WHERE m.meter = 'main' AND q.name = 'energy_import_kwh' AND t BETWEEN $(om_iso_ms "$OFF_FROM") AND $(om_iso_ms "$OFF_UNTIL")) WHERE d > 3600000")
[ "$holes" -eq 0 ] || om_fail "$holes holes of over an hour in main's readings during the outage: the backlog did not arrive"
