#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `officemeter sim` as a command: --help, one clear error line and a non-zero
# exit for every mistake (unknown meter, bad override, port in use, missing
# device), and simulated time: --speed, the state file (SIGUSR1, hourly,
# at exit) and --duration.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

SITE="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
SIM=("$OM_BIN/officemeter" sim --site "$SITE" --catalogue "$CAT")

"$OM_BIN/officemeter" sim --help | grep -q -- "--fault METER=MODE" || om_fail "--help"

# expect_error STATUS TEXT ARGS...: exit STATUS, one stderr line containing TEXT.
expect_error() {
    local want=$1 text=$2 status=0
    shift 2
    timeout 10 "$@" >"$OM_TMP/out" 2>"$OM_TMP/err" || status=$?
    [ "$status" -ne 124 ] || om_fail "$*: still running after 10 s"
    [ "$status" -eq "$want" ] || om_fail "$*: exit $status, expected $want ($(cat "$OM_TMP/err"))"
    [ "$(wc -l <"$OM_TMP/err")" -eq 1 ] || om_fail "$*: expected one line, got: $(cat "$OM_TMP/err")"
    grep -qF -- "$text" "$OM_TMP/err" || om_fail "$*: '$(cat "$OM_TMP/err")' does not say '$text'"
}

p1=$(om_free_port)
p2=$(om_free_port)
BUSES=(--bus "lan=tcp:127.0.0.1:$p1" --bus "rs485-1=tcp:127.0.0.1:$p2")
expect_error 2 "unknown meter 'nope'" "${SIM[@]}" "${BUSES[@]}" --fault nope=timeout
expect_error 2 "unknown fault mode 'sleepy'" "${SIM[@]}" "${BUSES[@]}" --fault main=sleepy
expect_error 2 "bad bus override 'lan=tcp:127.0.0.1'" "${SIM[@]}" --bus lan=tcp:127.0.0.1
expect_error 2 "'rs485-9' matches no bus" "${SIM[@]}" "${BUSES[@]}" --bus rs485-9=rtu:/dev/null
expect_error 2 "--start: bad timestamp" "${SIM[@]}" "${BUSES[@]}" --start 2024-02-30
expect_error 2 "--speed: bad value" "${SIM[@]}" "${BUSES[@]}" --speed -1
expect_error 2 "unknown option '--colour'" "${SIM[@]}" --colour
expect_error 2 "--site FILE is required" "$OM_BIN/officemeter" sim
expect_error 1 "a leak needs a water meter" "${SIM[@]}" "${BUSES[@]}" --fault main=leak:1
expect_error 1 "cannot write state file $OM_TMP/no-dir/state.json.tmp" \
    "${SIM[@]}" "${BUSES[@]}" --state "$OM_TMP/no-dir/state.json"
expect_error 1 "cannot open serial device $OM_TMP/no-such-tty" \
    "${SIM[@]}" --bus "lan=tcp:127.0.0.1:$p1" --bus "rs485-1=rtu:$OM_TMP/no-such-tty"
status=0
timeout 10 "${SIM[@]}" --site "$OM_TMP/missing.yaml" "${BUSES[@]}" 2>"$OM_TMP/err" || status=$?
[ "$status" -eq 1 ] || om_fail "missing site file: exit $status"
tail -1 "$OM_TMP/err" | grep -q "cannot load site file $OM_TMP/missing.yaml" ||
    om_fail "missing site file: $(cat "$OM_TMP/err")"

# Port in use: a second simulator on the same ports.
om_start_sim --site "$SITE" --catalogue "$CAT" "${BUSES[@]}" --speed 0
expect_error 1 "cannot listen on 127.0.0.1:" "${SIM[@]}" "${BUSES[@]}"
grep -q "Address already in use" "$OM_TMP/err" || om_fail "port in use: $(cat "$OM_TMP/err")"
om_stop_pid "$OM_SIM_PID"

# Simulated time at 3600x from Monday 10:00: one simulated hour per second.
state="$OM_TMP/state.json"
om_start_sim --site "$SITE" --catalogue "$CAT" "${BUSES[@]}" --speed 3600 \
    --start 2024-03-04T10:00:00Z --state "$state" --seed 3
om_wait_file "$state" 5 "$OM_SIM_PID"
cp "$state" "$OM_TMP/state0.json"
sleep 1.6
kill -USR1 "$OM_SIM_PID"
sleep 0.3
cp "$state" "$OM_TMP/state1.json"
# Hourly writes happen without any signal.
sleep 1.5
cp "$state" "$OM_TMP/state2.json"
python3 - "$OM_TMP"/state0.json "$OM_TMP"/state1.json "$OM_TMP"/state2.json <<'PY'
import json, sys
s0, s1, s2 = (json.load(open(p)) for p in sys.argv[1:4])
start = 1709546400000
assert s0["sim_time"] - start < 600_000, s0["sim_time"]
hours = (s1["sim_time"] - start) / 3.6e6
assert 1.5 < hours < 4, f"{hours} simulated hours after ~1.9 s at 3600x"
assert s2["sim_time"] > s1["sim_time"] + 3.6e6 * 0.5, (s1["sim_time"], s2["sim_time"])
for m in ("main", "hvac", "lifts"):
    used = s1["meters"][m]["true"]["energy_import_kwh"]
    grew = s1["meters"][m]["registers"]["energy_import_kwh"] - s0["meters"][m]["registers"]["energy_import_kwh"]
    assert used > 0, (m, used)
    # Registers grow by the true consumption (f32 or 0.01 kWh resolution).
    assert abs(grew - (used - s0["meters"][m]["true"]["energy_import_kwh"])) < 0.1, (m, grew, used)
w = s1["meters"]["water"]
assert w["true"]["water_m3"] > 0, w
PY

# --duration stops the simulator by itself and the final state is written.
om_stop_pid "$OM_SIM_PID"
rm -f "$state"
"${SIM[@]}" "${BUSES[@]}" --speed 0 --state "$state" --duration 0.5 2>/dev/null &
pid=$!
om_track "$pid"
om_wait_exit "$pid" 5
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "--duration: exit $OM_EXIT_STATUS"
[ -s "$state" ] || om_fail "--duration: no state file"
[ ! -e "$state.tmp" ] || om_fail "temporary state file left behind"
# Several sites at once, buses told apart by gateway.
p3=$(om_free_port)
p4=$(om_free_port)
om_start_sim --site "$SITE" --site "$OM_SOURCE_DIR/tests/data/sites/sim-branch.yaml" --catalogue "$CAT" \
    --bus "gw1/lan=tcp:127.0.0.1:$p1" --bus "gw1/rs485-1=tcp:127.0.0.1:$p2" \
    --bus "br-gw1/lan=tcp:127.0.0.1:$p3" --bus "br-gw1/rs485-1=tcp:127.0.0.1:$p4" \
    --speed 0 --state "$state"
python3 - "$state" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["meters"]
assert m["main"]["site"] == "sim-office" and m["br-main"]["site"] == "sim-branch", sorted(m)
PY
om_mbpoll_words -m tcp -p "$p3" -a 1 -r 17 -c 2 127.0.0.1 >/dev/null
om_stop_pid "$OM_SIM_PID"

# --clock-file and --delay: the clock other processes share. Simulated time
# stands at --start during the delay, and the file's origin is the
# monotonic instant it ends.
clock="$OM_TMP/clock.json"
m0=$(python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)')
om_start_sim --site "$SITE" --catalogue "$CAT" "${BUSES[@]}" --speed 3600 --delay 2 \
    --start 2024-03-04T10:00:00Z --state "$state" --clock-file "$clock"
kill -USR1 "$OM_SIM_PID"
sleep 0.3
python3 - "$clock" "$state" "$m0" <<'PY'
import json, sys, time
c, s, m0 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert c["start_ms"] == 1709546400000 and c["speed"] == 3600, c
now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
assert m0 + 2_000_000 <= c["origin_mono_us"] <= now + 2_000_000, (m0, c, now)
assert c["origin_mono_us"] > now, "the delay is over already: the test machine is too slow"
assert s["sim_time"] == c["start_ms"], ("time moved during the delay", s["sim_time"])
PY
om_stop_pid "$OM_SIM_PID"
expect_error 2 "--delay: bad value" "${SIM[@]}" "${BUSES[@]}" --delay -1

# --oracle-year: each meter's true consumption in a calendar year, serving
# nothing; the part in the meter's service life is never more than the year.
"${SIM[@]}" --oracle-year 2024 >"$OM_TMP/oracle.json" 2>"$OM_TMP/err" || om_fail "--oracle-year: $(cat "$OM_TMP/err")"
python3 - "$OM_TMP/oracle.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["year"] == 2024, o["year"]
m = o["meters"]
assert m["main"]["quantity"] == "energy_import_kwh" and m["main"]["role"] == "main", m["main"]
assert m["water"]["quantity"] == "water_m3" and m["water"]["utility"] == "water", m["water"]
for name, v in m.items():
    assert 0 <= v["active"] <= v["year"] + 1e-9, (name, v)
# An office main meter: hundreds of MWh a year (peak ~60 kW x 0.8..1.2).
assert 100_000 < m["main"]["year"] < 400_000, m["main"]
PY
expect_error 2 "--oracle-year: bad year" "${SIM[@]}" --oracle-year 24
echo "PASS"
