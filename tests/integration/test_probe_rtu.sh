#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_probe_rtu.sh - `officemeter probe` reads every RS-485 meter of
# tests/data/sites/all-models.yaml over Modbus RTU (a socat pseudo-terminal
# pair stands in for the line) and decodes exactly the values the simulator
# serves; the TCP meters of the same site are read at the same time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om_start_all_models_sim 2024-11-20T03:15:00+08:00
site=$OM_SITE catalogue=$OM_CATALOGUE state=$OM_STATE

probe() {
    "$OM_BIN/officemeter" probe --site "$site" --catalogue "$catalogue" "${OM_BUSES[@]}" "$@"
}

rtu_meters=$("$OM_BIN/officemeter" list --site "$site" --catalogue "$catalogue" --meters |
    awk -F'\t' '$3 == "rs485" { printf "%s ", $1 }')
[ "$(echo "$rtu_meters" | wc -w)" -eq 11 ] || om_fail "expected 11 RS-485 meters, got: $rtu_meters"

checked=0
for meter in $rtu_meters pm5xxx e1212 adam6051; do
    out=$OM_TMP/probe.$meter.json
    probe --meter "$meter" --json >"$out" 2>"$OM_TMP/probe.$meter.err" ||
        { cat "$OM_TMP/probe.$meter.err" >&2; om_fail "probe of $meter failed"; }
    om_compare_probe "$state" "$out" "$meter"
    checked=$((checked + 1))
done

# The RS-485 meters really went over the serial line.
python3 - "$OM_TMP" $rtu_meters <<'PY' || om_fail "RTU meters were not read over RTU"
import json, sys
tmp, meters = sys.argv[1], sys.argv[2:]
for m in meters:
    doc = json.load(open("%s/probe.%s.json" % (tmp, m)))
    bus = doc["bus"]
    if bus["kind"] != "rtu" or not bus["device"].endswith("client.tty"):
        sys.exit("%s read over %r" % (m, bus))
    if not any(v is not None for v in doc["values"].values()):
        sys.exit("%s: no values" % m)
PY

# Human output names the serial line and its settings.
probe --meter sdm630 >"$OM_TMP/human.txt"
grep -q "^bus  *rs485: rtu .*client.tty 9600 8N1, unit 1, timeout 500 ms$" "$OM_TMP/human.txt" ||
    { cat "$OM_TMP/human.txt" >&2; om_fail "human output does not describe the RTU bus"; }

# One master per line: while another officemeter program holds the serial
# device (here a stand-in holding the same lock), the probe refuses with a
# clear line instead of garbling that program's frames.
flock -n "$OM_TMP/client.tty" sleep 10 &
holder=$!
om_track "$holder"
sleep 0.3
rc=0
probe --meter sdm630 >/dev/null 2>"$OM_TMP/busy.err" || rc=$?
kill "$holder" 2>/dev/null || true
[ "$rc" -eq 1 ] || om_fail "probe on a line in use: exit $rc, expected 1"
grep -q "is in use by another officemeter program" "$OM_TMP/busy.err" ||
    om_fail "probe on a line in use: $(cat "$OM_TMP/busy.err")"

om_log "probe over RTU: $checked meters match the simulator"
