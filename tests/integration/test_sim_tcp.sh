#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The simulator over Modbus TCP: with time frozen (--speed 0), mbpoll reads
# exactly the values the state file says, encoded as the catalogue says;
# unknown unit ids, undefined registers and oversized reads get the
# exceptions real devices give; several clients are served at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

SITE="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
lan=$(om_free_port)
rs485=$(om_free_port)
state="$OM_TMP/state.json"

# The RS-485 bus is served over TCP too (an override may switch the kind).
om_start_sim --site "$SITE" --catalogue "$CAT" \
    --bus "lan=tcp:127.0.0.1:$lan" --bus "gw1/rs485-1=tcp:127.0.0.1:$rs485" \
    --speed 0 --start 2024-03-04T10:00:00Z --seed 7 --state "$state"
om_wait_file "$state" 5 "$OM_SIM_PID"

check() { om_check_registers "$state" "$@"; }

# SDM630 (unit 1 and 2 on the RS-485 bus): f32 kWh at 0x48, W at 0x34, V at 0.
check main energy_import_kwh f32 1 $(om_mbpoll_words -m tcp -p "$rs485" -a 1 -r 73 -c 2 127.0.0.1)
check hvac energy_import_kwh f32 1 $(om_mbpoll_words -m tcp -p "$rs485" -a 2 -r 73 -c 2 127.0.0.1)
check main power_kw f32 0.001 $(om_mbpoll_words -m tcp -p "$rs485" -a 1 -r 53 -c 2 127.0.0.1)
words=($(om_mbpoll_words -m tcp -p "$rs485" -a 1 -r 1 -c 6 127.0.0.1))
check main voltage_l1_v f32 1 "${words[0]}" "${words[1]}"
check main voltage_l3_v f32 1 "${words[4]}" "${words[5]}"

# ABB B23 (unit 3): u64 in 0.01 kWh at 0x5000, holding registers.
check lifts energy_import_kwh u64 0.01 $(om_mbpoll_words -T 4 -m tcp -p "$rs485" -a 3 -r 0x5001 -c 4 127.0.0.1)

# Moxa E1212 (unit 1 on the LAN): channel 0 at 0x10 (10 L per pulse) and
# channel 1 at 0x12 (2.5 L per pulse), read in one request.
words=($(om_mbpoll_words -m tcp -p "$lan" -a 1 -r 17 -c 4 127.0.0.1))
check water water_m3 u32 0.01 "${words[0]}" "${words[1]}"
check kitchen-water water_m3 u32 0.0025 "${words[2]}" "${words[3]}"

# Reads spanning reserved registers get zeros there.
words=($(om_mbpoll_words -m tcp -p "$rs485" -a 1 -r 1 -c 76 127.0.0.1))
[ "${#words[@]}" -eq 76 ] || om_fail "expected 76 registers, got ${#words[@]}"
[ "${words[6]}${words[51]}" = "00000000" ] || om_fail "reserved registers not zero: ${words[6]} ${words[51]}"
check main energy_import_kwh f32 1 "${words[72]}" "${words[73]}"

# Exceptions.
err=$(om_mbpoll_error -m tcp -p "$lan" -a 9 -r 17 -c 2 -o 1 127.0.0.1)
[[ $err == *"Target device failed to respond"* ]] || om_fail "unknown unit id: got '$err'"
err=$(om_mbpoll_error -m tcp -p "$rs485" -a 1 -r 1000 -c 2 -o 1 127.0.0.1)
[[ $err == *"Illegal data address"* ]] || om_fail "undefined register: got '$err'"
err=$(om_mbpoll_error -T 4 -m tcp -p "$rs485" -a 1 -r 73 -c 2 -o 1 127.0.0.1)
[[ $err == *"Illegal"* ]] || om_fail "wrong function: got '$err'"
err=$(om_mbpoll_error -m tcp -p "$rs485" -a 1 -r 1 -c 81 -o 1 127.0.0.1)
[[ $err == *"Illegal data value"* ]] || om_fail "read above 80 registers: got '$err'"

# Several clients at once: an idle connection stays open while mbpoll reads.
exec 3<>"/dev/tcp/127.0.0.1/$lan"
check water water_m3 u32 0.01 $(om_mbpoll_words -m tcp -p "$lan" -a 1 -r 17 -c 2 127.0.0.1)
exec 3>&-

# Time is frozen: the state written at exit still matches.
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meters"]["main"]["registers"]["energy_import_kwh"])' "$state")
kill -TERM "$OM_SIM_PID"
om_wait_exit "$OM_SIM_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "sim exited with $OM_EXIT_STATUS after SIGTERM"
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meters"]["main"]["registers"]["energy_import_kwh"])' "$state")
[ "$before" = "$after" ] || om_fail "frozen time changed the counter: $before -> $after"
echo "PASS"
