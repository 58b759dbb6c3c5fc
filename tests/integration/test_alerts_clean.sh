#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# False alarms: the demo portfolio (sites/: four offices, four time zones,
# thirteen meters, an office without water, a meter retired and one added)
# runs clean for two simulated months, 2024-02-15 to 2024-04-16 (London's
# clocks go forward on 2024-03-31), through the whole pipeline at 500 000x,
# with the shipped alert policy (sites/alerts.yaml) and the clock rules
# scaled to the simulated clock (tests/data/alerts/drill-fast.yaml). Not one
# alert may fire. Prints the meter-days judged.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

START=2024-02-15T00:00:00Z END=2024-04-16T00:00:00Z SPEED=500000
# Under ASan the agents cannot keep up with 500 000x on two cores: their
# outboxes grow and late polls look like anomalies. A quarter of the speed
# there (the same simulated months, four times the real time).
om_sanitized && SPEED=125000
om=$OM_BIN/officemeter
OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
mkdir -p "$OM_TMP/sites"
cp "$OM_SOURCE_DIR"/sites/*.yaml "$OM_TMP/sites/"
# The demo's polling: every 15 minutes; a gap is more than three hours.
sed -i 's/^gap_intervals:.*/gap_intervals: 12\npoll_interval_s: 900/' "$OM_TMP/sites/reporting.yaml"
# The shipped policy, its defaults replaced by the drill's scaled clock rules.
python3 - "$OM_TMP/sites/alerts.yaml" "$OM_SOURCE_DIR/tests/data/alerts/drill-fast.yaml" <<'PY'
import re, sys
shipped, drill = open(sys.argv[1]).read(), open(sys.argv[2]).read()
block = re.search(r"^defaults:\n(?:  .*\n)+", drill, re.M).group(0)
new, n = re.subn(r"^defaults:\n(?:  .*\n)+", block, shipped, flags=re.M)
assert n == 1, "no defaults block in the shipped policy"
open(sys.argv[1], "w").write(new)
PY
"$om" check --catalogue "$OM_SOURCE_DIR/firmware-config/meters" "$OM_TMP/sites" >/dev/null ||
    om_fail "the portfolio with the drill's policy does not pass check"
om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
om_start_aggregator "$OM_TMP/agg.yaml"
OM_DB="$OM_TMP/agg.db"

# Every bus of every gateway on a loopback port of one simulator.
sim_args=()
declare -A agent_buses
gateways=()
for site in "$OM_TMP"/sites/*.yaml; do
    grep -q '^site:' "$site" || continue
    sim_args+=(--site "$site")
    while IFS=$'\t' read -r gw bus _rest; do
        port=$(om_free_port)
        sim_args+=(--bus "$gw/$bus=tcp:127.0.0.1:$port")
        [ -n "${agent_buses[$gw]:-}" ] || gateways+=("$gw:$site")
        agent_buses[$gw]="${agent_buses[$gw]:-} --bus $gw/$bus=tcp:127.0.0.1:$port"
    done < <("$om" list --site "$site" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --buses)
done
OM_CLOCK="$OM_TMP/clock.json"
om_start_sim "${sim_args[@]}" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
    --start "$START" --speed "$SPEED" --delay 4 --clock-file "$OM_CLOCK"
for entry in "${gateways[@]}"; do
    gw=${entry%%:*} site=${entry#*:}
    OM_AGENT_INTERVALS='{counters_s: 900, instant_s: 900, health_s: 1, backoff_max_s: 2}' \
        om_agent_config "$OM_TMP/agent-$gw.yaml" "$site" "$gw"
    sed -i "s|^outbox: .*|outbox: $OM_TMP/outbox-$gw.db|; s|client_id: test-agent|client_id: test-$gw|" \
        "$OM_TMP/agent-$gw.yaml"
    # shellcheck disable=SC2086 # the overrides are words on purpose
    "$OM_BIN/officemeter-agent" --config "$OM_TMP/agent-$gw.yaml" --sim-clock "$OM_CLOCK" \
        ${agent_buses[$gw]} 2>>"$OM_TMP/agent-$gw.log" &
    om_track $!
done
om_start_alerts_eval 0.2 --sim-clock "$OM_CLOCK"
om_wait_sim "$OM_CLOCK" "$END" 180
sleep 1
kill -TERM "$OM_EVAL_PID"
om_wait_exit "$OM_EVAL_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || { cat "$OM_TMP/alerts.log" >&2; om_fail "the evaluator exited $OM_EXIT_STATUS"; }

om_alert_lines >"$OM_TMP/alerts.jsonl"
# What the rules watched: meter-days of readings, and rules run per meter.
days=$(om_sql "$OM_DB" "SELECT printf('%.0f', sum(last_t - first_t) / 86400000.0) FROM meters")
meters=$(om_sql "$OM_DB" "SELECT count(DISTINCT subject) FROM alert_rule_state WHERE rule = 'meter_stale'")
rules=$(om_sql "$OM_DB" "SELECT count(*) FROM alert_rule_state")
echo "clean portfolio $START .. $END: $meters meters, $days meter-days of readings, $rules (rule, meter or gateway) pairs evaluated; false alarms: $(om_count_lines "$OM_TMP/alerts.jsonl")"
if [ -s "$OM_TMP/alerts.jsonl" ]; then
    cat "$OM_TMP/alerts.jsonl" >&2
    om_fail "alerts fired on a clean portfolio (above)"
fi
[ "$meters" -eq 13 ] || om_fail "meter_stale ran for $meters meters, expected the 13 of the portfolio"
