#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The simulator over Modbus RTU on a pseudo-terminal pair: several unit ids
# on one line, values identical to the state file, silence for unknown unit
# ids (as on a real RS-485 line), and the line keeps working afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

SITE="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
lan=$(om_free_port)
state="$OM_TMP/state.json"
om_pty_pair "$OM_TMP/sim.tty" "$OM_TMP/client.tty"

om_start_sim --site "$SITE" --catalogue "$CAT" \
    --bus "rs485-1=rtu:$OM_TMP/sim.tty" --bus "lan=tcp:127.0.0.1:$lan" \
    --speed 0 --start 2024-03-02T03:00:00Z --state "$state"
om_wait_file "$state" 5 "$OM_SIM_PID"

# The site's line settings: 9600 8N1 (mbpoll defaults to even parity).
RTU=(-m rtu -b 9600 -d 8 -s 1 -P none)

check() { om_check_registers "$state" "$@"; }

tty="$OM_TMP/client.tty"
check main energy_import_kwh f32 1 $(om_mbpoll_words "${RTU[@]}" -a 1 -r 73 -c 2 "$tty")
check hvac energy_import_kwh f32 1 $(om_mbpoll_words "${RTU[@]}" -a 2 -r 73 -c 2 "$tty")
check hvac power_kw f32 0.001 $(om_mbpoll_words "${RTU[@]}" -a 2 -r 53 -c 2 "$tty")
check lifts energy_import_kwh u64 0.01 $(om_mbpoll_words -T 4 "${RTU[@]}" -a 3 -r 0x5001 -c 4 "$tty")
check lifts voltage_l2_v u32 0.1 $(om_mbpoll_words -T 4 "${RTU[@]}" -a 3 -r 0x5B03 -c 2 "$tty")

# Saturday 03:00: night load, between 20 % and 40 % of a working peak.
python3 - "$state" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["meters"]
kw = s["main"]["registers"]["power_kw"]
assert 5 < kw < 35, f"main power at night {kw} kW"
PY

# An unknown unit id gets no answer at all; the next request still works.
err=$(om_mbpoll_error "${RTU[@]}" -a 42 -r 73 -c 2 -o 0.3 "$tty")
[[ $err == *"timed out"* ]] || om_fail "unknown unit id on RTU: got '$err'"
err=$(om_mbpoll_error "${RTU[@]}" -a 1 -r 1000 -c 2 -o 1 "$tty")
[[ $err == *"Illegal data address"* ]] || om_fail "undefined register on RTU: got '$err'"
check main energy_import_kwh f32 1 $(om_mbpoll_words "${RTU[@]}" -a 1 -r 73 -c 2 "$tty")

# A stray partial frame is dropped after a silence; the line keeps working.
printf '\x01\x02\xff' > "$tty"
sleep 0.2
check hvac energy_import_kwh f32 1 $(om_mbpoll_words "${RTU[@]}" -a 2 -r 73 -c 2 "$tty")

kill -TERM "$OM_SIM_PID"
om_wait_exit "$OM_SIM_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "sim exited with $OM_EXIT_STATUS after SIGTERM"
echo "PASS"
