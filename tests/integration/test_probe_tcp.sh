#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_probe_tcp.sh - `officemeter probe` reads every catalogue model over
# Modbus TCP and decodes exactly the values the simulator serves; mbpoll, an
# independent Modbus client, reads the same raw registers as the probe.
#
# Both buses of tests/data/sites/all-models.yaml are served on loopback (the
# RS-485 bus switched to TCP, as behind an Ethernet gateway), with time
# frozen (--speed 0) so the simulator's state file is the oracle.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

site=$OM_SOURCE_DIR/tests/data/sites/all-models.yaml
catalogue=$OM_SOURCE_DIR/firmware-config/meters
state=$OM_TMP/state.json

# Every catalogue model has a meter in the site file: a new model without one
# would silently escape this test.
used=$("$OM_BIN/officemeter" list --site "$site" --catalogue "$catalogue" --meters | cut -f5 | sort -u)
for f in "$catalogue"/*.yaml; do
    model=$(basename "$f" .yaml)
    echo "$used" | grep -qx "$model" || om_fail "all-models.yaml has no meter of model $model"
done

port_rtu=$(om_free_port)
port_lan=$(om_free_port)
buses=(--bus "rs485=tcp:127.0.0.1:$port_rtu" --bus "lan=tcp:127.0.0.1:$port_lan")

om_start_sim --site "$site" --catalogue "$catalogue" "${buses[@]}" --speed 0 \
    --start 2024-06-05T10:30:00+08:00 --state "$state"

meters=$(python3 -c 'import json, sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["meters"])))' "$state")
[ "$(echo "$meters" | wc -w)" -eq 14 ] || om_fail "expected 14 simulated meters, got: $meters"

probe() {
    "$OM_BIN/officemeter" probe --site "$site" --catalogue "$catalogue" "${buses[@]}" "$@"
}

# 1. Every meter, every quantity, exactly the simulator's value.
for meter in $meters; do
    out=$OM_TMP/probe.$meter.json
    probe --meter "$meter" --json >"$out" 2>"$OM_TMP/probe.$meter.err" ||
        { cat "$OM_TMP/probe.$meter.err" >&2; om_fail "probe of $meter exited $?"; }
    om_compare_probe "$state" "$out" "$meter"
done

# The comparison is not vacuous: real numbers came back, including exact
# integers for integer counters.
python3 - "$OM_TMP" $meters <<'PY' || om_fail "probe output lacks values or raw integers"
import json, sys
tmp, meters = sys.argv[1], sys.argv[2:]
nonnull = 0
for m in meters:
    doc = json.load(open("%s/probe.%s.json" % (tmp, m)))
    nonnull += sum(v is not None for v in doc["values"].values())
    for q, raw in doc["raw"].items():
        if raw["type"] != "f32" and doc["status"][q] == "ok" and "integer" not in raw:
            sys.exit("%s %s: no exact integer for an integer type" % (m, q))
iem = json.load(open("%s/probe.iem3x55.json" % tmp))
wh = iem["raw"]["energy_import_kwh"]["integer"]
if abs(wh * 0.001 - iem["values"]["energy_import_kwh"]) > 1e-9:
    sys.exit("iem3x55: integer %r does not match value %r" % (wh, iem["values"]["energy_import_kwh"]))
if nonnull < 50:
    sys.exit("only %d non-null values" % nonnull)
PY

# 2. Human output: one line per quantity with units and the request.
probe --meter sdm630 >"$OM_TMP/human.txt"
grep -Eq '^energy_import_kwh +[0-9]+\.[0-9]{3} kWh .*fc4 0x0048 +f32 ABCD +[0-9A-F]{4} [0-9A-F]{4}$' \
    "$OM_TMP/human.txt" || { cat "$OM_TMP/human.txt" >&2; om_fail "human output of sdm630"; }
grep -Eq '^voltage_l1_v +2[0-9]{2}\.[0-9]{3} V ' "$OM_TMP/human.txt" ||
    om_fail "human output lacks the L1 voltage"
probe --meter iem3x55 >"$OM_TMP/human-iem.txt"
grep -Eq '^energy_import_kwh +[0-9.]+ kWh +[0-9]+ +fc3 0x0C83 +s64 ABCD' "$OM_TMP/human-iem.txt" ||
    { cat "$OM_TMP/human-iem.txt" >&2; om_fail "human output of iem3x55 lacks the raw Wh integer"; }

# 3. mbpoll reads the same raw registers as the probe (the simulator speaks
# standard Modbus, and the probe reports what is on the wire).
python3 - "$OM_TMP" $meters <<'PY' >"$OM_TMP/requests.txt"
import json, sys
tmp, meters = sys.argv[1], sys.argv[2:]
for m in meters:
    doc = json.load(open("%s/probe.%s.json" % (tmp, m)))
    port_key = doc["bus"]["port"]
    for q, raw in sorted(doc["raw"].items()):
        print(m, doc["unit"], port_key, raw["function"], raw["address"],
              " ".join(str(r) for r in raw["registers"]))
PY
compared=0
while read -r meter unit port function address regs; do
    set -- $regs
    table=$([ "$function" = 4 ] && echo 3 || echo 4)
    got=$(mbpoll -m tcp -p "$port" -a "$unit" -r "$address" -0 -c $# -t "$table" -1 -o 1 \
          127.0.0.1 2>&1 | sed -n 's/^\[[0-9]*\]:[[:space:]]*\(-\{0,1\}[0-9]*\).*/\1/p' |
          while read -r v; do echo $(((v + 65536) % 65536)); done | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$regs" ] || om_fail "$meter fc$function $address: mbpoll read [$got], probe [$regs]"
    compared=$((compared + 1))
done <"$OM_TMP/requests.txt"
[ "$compared" -ge 50 ] || om_fail "only $compared register blocks compared with mbpoll"

om_log "probe over TCP: 14 meters match the simulator; $compared blocks match mbpoll"
