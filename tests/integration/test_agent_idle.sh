#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Between polls the agent's delivery loop sleeps until its next deadline
# instead of waking every second: an idle agent's main thread does not wake
# for seconds on end, yet SIGHUP and SIGTERM still act at once (the signal
# handlers wake the loop).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

# Hourly polls and health: nothing falls due during the test (unless it
# straddles an hour boundary, checked below).
OM_AGENT_INTERVALS="{counters_s: 3600, instant_s: 3600, health_s: 3600}" \
OM_AGENT_DELIVERY="{resend_after_s: 30, connect_timeout_s: 5}" \
    om_start_office_agent_rig
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

# signal_acts SIGNAL LOG-LINE: sends SIGNAL and fails unless LOG-LINE shows
# up in the agent's log within 400 ms.
signal_acts() {
    local start i ms=99999
    start=$(now_ms)
    kill -"$1" "$OM_AGENT_PID"
    for i in $(seq 1 500); do
        if grep -q -- "$2" "$OM_TMP/agent.log"; then ms=$(( $(now_ms) - start )); break; fi
        sleep 0.01
    done
    om_log "SIG$1 to the sleeping loop: \"$2\" after $ms ms"
    [ "$ms" -lt 400 ] || om_fail "SIG$1 took $ms ms to reach the sleeping loop"
}

signal_acts HUP "configuration reloaded"
sleep 1.5
signal_acts TERM "stopping: finishing the current polls"
om_wait_exit "$OM_AGENT_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "the agent exited $OM_EXIT_STATUS after SIGTERM"
echo "PASS"
