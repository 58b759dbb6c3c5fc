#!/usr/bin/env bash
# Between polls the agent's delivery loop sleeps until its next deadline
# instead of waking every second: an idle agent's main thread does not wake
# for seconds on end, yet SIGHUP and SIGTERM still act at once (the signal
# handlers wake the loop).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

site="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
om_start_broker
om_start_office_sim
om_start_ack "$OM_TMP/polls.jsonl"
# Hourly polls and health: nothing falls due during the test (unless it
# straddles an hour boundary, checked below).
OM_AGENT_INTERVALS="{counters_s: 3600, instant_s: 3600, health_s: 3600}" \
OM_AGENT_DELIVERY="{resend_after_s: 30, connect_timeout_s: 5}" \
    om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
om_start_agent "$OM_TMP/agent.yaml" "${OM_BUSES[@]}"
om_agent_health sim-office gw1 >/dev/null || om_fail "no health message from the agent"
sleep 1.5 # connection, birth, first health and quota check are done

now_ms() { date +%s%3N; }
switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$OM_AGENT_PID/task/$OM_AGENT_PID/status"; }
t0=$(now_ms)
s0=$(switches)
sleep 4
s1=$(switches)
t1=$(now_ms)
# An hour boundary inside the window brings a poll (and its store and ack).
if [ $(( (t0 / 1000) / 3600 )) -eq $(( (t1 / 1000) / 3600 )) ]; then
    om_log "main thread woke $((s1 - s0)) times in 4 s of idleness"
    [ $((s1 - s0)) -le 1 ] || om_fail "an idle agent's main thread woke $((s1 - s0)) times in 4 s"
else
    om_log "an hour boundary fell inside the window: wake count not checked"
fi

wait_log() { # wait_log PATTERN COUNT: ms until PATTERN is in the log COUNT times (max 5 s)
    local start i
    start=$(now_ms)
    for i in $(seq 1 500); do
        [ "$(grep -c -- "$1" "$OM_TMP/agent.log")" -ge "$2" ] && { echo $(( $(now_ms) - start )); return 0; }
        sleep 0.01
    done
    echo 99999
}

om_log "SIGHUP to the sleeping loop"
kill -HUP "$OM_AGENT_PID"
ms=$(wait_log "configuration reloaded" 1)
om_log "reloaded after $ms ms"
[ "$ms" -lt 400 ] || om_fail "SIGHUP took $ms ms to reach the sleeping loop"

sleep 1.5
om_log "SIGTERM to the sleeping loop"
kill -TERM "$OM_AGENT_PID"
ms=$(wait_log "stopping: finishing the current polls" 1)
om_log "stopping after $ms ms"
[ "$ms" -lt 400 ] || om_fail "SIGTERM took $ms ms to reach the sleeping loop"
om_wait_exit "$OM_AGENT_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "the agent exited $OM_EXIT_STATUS after SIGTERM"
echo "PASS"
