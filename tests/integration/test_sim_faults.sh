#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault modes seen from a Modbus client: a timeout meter never answers, an
# exception meter answers its exception, a slow meter answers late, an "na"
# meter answers its "not available" pattern (null in the state file), and a
# healthy meter on the same bus is unaffected.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

state="$OM_TMP/state.json"
om_start_office_sim --speed 0 --start 2024-03-04T10:00:00Z --state "$state" \
    --fault main=timeout --fault hvac=exception:4 --fault lifts=na \
    --fault kitchen-water=slow:700
lan=$OM_LAN_PORT rs485=$OM_RTU_PORT
om_wait_file "$state" 5 "$OM_SIM_PID"
grep -q 'main \[timeout\]' "$OM_TMP/sim.log" || om_fail "startup log does not list the faults"

start=$(date +%s%N)
err=$(om_mbpoll_error -m tcp -p "$rs485" -a 1 -r 73 -c 2 -o 0.5 127.0.0.1)
[[ $err == *"timed out"* ]] || om_fail "timeout meter: got '$err'"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed_ms" -ge 450 ] || om_fail "timeout meter answered after ${elapsed_ms} ms"

err=$(om_mbpoll_error -m tcp -p "$rs485" -a 2 -r 73 -c 2 -o 1 127.0.0.1)
[[ $err == *"Slave device or server failure"* ]] || om_fail "exception:4 meter: got '$err'"

# "not available": all bits set in the u64 counter, null in the oracle.
words=$(om_mbpoll_words -T 4 -m tcp -p "$rs485" -a 3 -r 0x5001 -c 4 127.0.0.1)
[ "$words" = "FFFF FFFF FFFF FFFF" ] || om_fail "na meter: got '$words'"
python3 - "$state" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["meters"]
assert m["lifts"]["registers"]["energy_import_kwh"] is None, m["lifts"]
assert m["lifts"]["true"]["energy_import_kwh"] == 0.0, m["lifts"]
assert m["main"]["registers"]["energy_import_kwh"] > 0, m["main"]
PY

# Slow: the channel-1 meter answers after 700 ms; channel 0 at once.
start=$(date +%s%N)
om_mbpoll_words -m tcp -p "$lan" -a 1 -r 19 -c 2 127.0.0.1 >/dev/null
slow_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
om_mbpoll_words -m tcp -p "$lan" -a 1 -r 17 -c 2 127.0.0.1 >/dev/null
fast_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$slow_ms" -ge 700 ] || om_fail "slow meter answered after ${slow_ms} ms"
[ "$fast_ms" -lt 600 ] || om_fail "healthy channel took ${fast_ms} ms"

# A slow answer on one connection does not hold up another client.
(om_mbpoll_words -m tcp -p "$lan" -a 1 -r 19 -c 2 127.0.0.1 >/dev/null) &
slow_client=$!
om_track "$slow_client"
sleep 0.1
start=$(date +%s%N)
om_mbpoll_words -m tcp -p "$lan" -a 1 -r 17 -c 2 127.0.0.1 >/dev/null
parallel_ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait "$slow_client"
[ "$parallel_ms" -lt 500 ] || om_fail "second client waited ${parallel_ms} ms behind a slow one"
echo "PASS"
