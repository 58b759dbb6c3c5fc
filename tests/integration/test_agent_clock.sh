#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A gateway whose clock is obviously wrong (before this program's build date,
# as after a boot without a battery-backed clock or NTP) polls its meters but
# does not stamp or store readings, and says why: in its log, in the health
# message, and as --once's one line. libfaketime (Debian's faketime) moves
# the agent's clocks back to 2020 without touching the machine's. (It moves
# the monotonic clock too: with DONT_FAKE_MONOTONIC its wrapper of
# pthread_cond_timedwait misreads monotonic deadlines and every wait ends at
# once. One offset for both clocks keeps the agent's waits true.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_office_agent_rig
buses=("${OM_BUSES[@]}")
faketime_lib=$(find /usr/lib -name libfaketimeMT.so.1 -print -quit)
[ -n "$faketime_lib" ] || om_fail "libfaketime is not installed (scripts/setup installs faketime)"
# ASan wants its runtime first; the preloaded library comes before it.
OM_AGENT_ENV=(LD_PRELOAD="$faketime_lib" FAKETIME="-$(( $(date +%s) - 1577836800 ))" # 2020-01-01
              ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")

om_log "--once with the clock in 2020"
rc=0
env "${OM_AGENT_ENV[@]}" "$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once \
    "${buses[@]}" 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$OM_TMP/err" >&2; om_fail "--once exited $rc"; }
grep -q "the clock says 2020-01-01T00:00:0" "$OM_TMP/err" || om_fail "no explanation: $(cat "$OM_TMP/err")"
grep -q "before this program was built" "$OM_TMP/err" || om_fail "no explanation: $(cat "$OM_TMP/err")"
grep -q "^officemeter-agent: the clock is before this program's build date" "$OM_TMP/err" || om_fail "no final line: $(cat "$OM_TMP/err")"

om_log "the daemon: meters are polled, nothing is stored, health says why"
om_start_agent "$OM_TMP/agent.yaml" "${buses[@]}"
sleep 4
h=$(om_agent_health sim-office gw1)
om_stop_agent
[ "$(om_count_lines "$OM_TMP/polls.jsonl")" -eq 0 ] || om_fail "readings were published with a wrong clock"
echo "$h" | python3 -c 'import json,sys
h = json.load(sys.stdin)
assert h["clock_ok"] is False, h["clock_ok"]
assert h["delivery"]["unstamped"] >= 5 and h["delivery"]["stored"] == 0, h["delivery"]
assert h["outbox"]["appended"] == 0, h["outbox"]
assert h["meters"]["main"]["requests"] >= 3, h["meters"]["main"]
' || om_fail "health: $h"
n=$(grep -c "before this program was built" "$OM_TMP/agent.log" || true)
[ "$n" -eq 1 ] || om_fail "the clock problem was logged $n times in 4 s, expected once (rate-limited)"
echo "PASS"
