#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The aggregator against malformed and forged input, published with
# mosquitto_pub to a real broker: each message or poll is refused with a
# precise recorded reason, an undeclared meter is quarantined, the daemon
# keeps running, valid data around them is stored untouched, the
# acknowledgement passes the refused polls, and SIGTERM exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
port=$OM_BROKER_PORT
mkdir "$OM_TMP/sites"
cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_SOURCE_DIR/sites/london.yaml" "$OM_TMP/sites/"
om_write_agg_config "$OM_TMP/agg.yaml" "$port" "$OM_TMP/sites" "max_payload_bytes: 4096"
om_start_aggregator "$OM_TMP/agg.yaml"
db="$OM_TMP/agg.db"
om_wait_aggregator_subscribed "$port" sim-office gw1 "$db"

topic=officemeter/v1/sim-office/gw1/readings
epoch=0123456789abcdef
t=$(( $(date +%s) * 1000 - 60000 ))
mosquitto_sub -p "$port" -q 1 -t officemeter/v1/sim-office/gw1/ack >"$OM_TMP/acks" 2>/dev/null &
om_track $!
sleep 0.3

env() { # env POLLS [EXTRA]: a readings message of sim-office/gw1
    printf '{"v":1,"site":"sim-office","gateway":"gw1","epoch":"%s","polls":[%s]%s}' "$epoch" "$1" "${2:-}"
}
poll() { # poll SEQ METER T VALUES
    printf '{"seq":%s,"meter":"%s","t":%s,"values":{%s}}' "$1" "$2" "$3" "$4"
}
pub() { mosquitto_pub -p "$port" -q 1 -t "$topic" "$@" || om_fail "mosquitto_pub $*"; }

# Valid data before the suite.
pub -m "$(env "$(poll 1 main "$t" '"energy_import_kwh":100.25,"power_kw":2.5'),$(poll 2 hvac "$t" '"energy_import_kwh":7.5')")"

# Whole messages refused.
pub -m '{"v":1,"site":"sim-office",'
pub -m '{"v":"1","site":"sim-office","gateway":"gw1"}'
pub -m "$(env "$(poll 50 main "$t" '"power_kw":NaN')")"
pub -m "$(env "$(poll 51 main "$t" '"power_kw":Infinity')")"
pub -m "$(env "$(poll 52 main "$t" '"power_kw":1e400')")"
pub -m "$(env "$(poll 53 main "$t" '"power_kw":1.0')" | sed 's/"site":"sim-office"/"site":"london"/')"
pub -m "$(printf '{"v":1,"pad":"%05000d"}' 0)"
pub -m "$(printf '{"v":%s1%s}' "$(printf '[%.0s' $(seq 1 40))" "$(printf ']%.0s' $(seq 1 40))")"
pub -m '{"v":1,"site":"sim-office","site":"sim-office","gateway":"gw1"}'
pub -m "$(env "$(poll 54 main "$t" '"power_kw":1.0')" | sed 's/"v":1/"v":2/')"
pub -n
printf '\x80\xff\xfe\x00\x01binary\x9c\x00garbage' >"$OM_TMP/garbage.bin"
pub -f "$OM_TMP/garbage.bin"

# One bad poll in an otherwise good message: the others are kept.
pub -m "$(env "$(poll 3 main $((t + 1000)) '"power_kw":"12.5"'),$(poll 4 main $((t + 1000)) '"power_kw":3.5')")"
pub -m "$(env "$(poll 5 main -5 '"power_kw":1.0')")"
pub -m "$(env "$(poll 6 main 9000000000000000000 '"power_kw":1.0')")"
pub -m "$(env "$(poll 7 ldn-main "$t" '"power_kw":1.0')")"
pub -m "$(env "$(poll 8 newcomer "$t" '"water_m3":12.0')")"

# Valid data after the suite.
pub -m "$(env "$(poll 9 main $((t + 2000)) '"energy_import_kwh":100.5')")"

# Everything is committed: the acknowledgement reaches seq 9.
for i in $(seq 1 100); do
    grep -q '"upto":9}' "$OM_TMP/acks" 2>/dev/null && break
    sleep 0.05
done
grep -q "{\"v\":1,\"epoch\":\"$epoch\",\"upto\":9}" "$OM_TMP/acks" ||
    om_fail "no acknowledgement up to seq 9: $(cat "$OM_TMP/acks")"
kill -0 "$OM_AGG_PID" || om_fail "the aggregator died"

rejects=$("$OM_BIN/officemeter" rejects --db "$db" --limit 0)
expect() { # expect CODE TEXT
    echo "$rejects" | grep -F ": $1: " | grep -qF "$2" || {
        echo "$rejects" >&2
        om_fail "no reject $1 with \"$2\""
    }
}
expect bad_json 'invalid JSON: '
expect bad_type 'v: wrong type (got a string, expected 1)'
expect not_finite 'NaN and Infinity are not numbers in JSON'
expect number_too_large 'number too large: real number overflow'
expect site_mismatch 'site: "london" in the payload, "sim-office" in the topic'
expect too_large 'payload of 5016 bytes exceeds the cap of 4096 bytes'
expect too_deep 'JSON nested deeper than 8 levels'
expect duplicate_key "duplicate key: duplicate object key near '\"site\"'"
expect bad_version 'v: schema version 2 is not supported (expected 1)'
expect empty 'empty payload'
expect bad_utf8 'invalid UTF-8'
expect bad_type 'polls[0].values.power_kw: wrong type (got a string, expected a number)'
expect bad_time 'polls[0].t: -5 is before 2000-01-01T00:00:00Z'
expect bad_time 'polls[0].t: 9000000000000000000 is after the year 9999'
expect meter_other_site 'meter "ldn-main" belongs to site london'
n=$(echo "$rejects" | grep -c .)
[ "$n" -eq 16 ] || { echo "$rejects" >&2; om_fail "$n rejects recorded, expected 16"; }
echo "$rejects" | grep -F 'seq 3 meter main: bad_type' >/dev/null || om_fail "poll reject lacks seq and meter"

"$OM_BIN/officemeter" rejects --db "$db" --quarantine | grep -qF 'seq 8 meter newcomer t ' ||
    om_fail "the undeclared meter was not quarantined"
"$OM_BIN/officemeter" rejects --db "$db" --raw --limit 1 | grep -qF '    payload (' ||
    om_fail "rejects --raw shows no payload"

# Valid data undisturbed: exactly the five good readings, with their values.
rows=$(om_sql "$db" "SELECT m.meter, q.name, r.t - $t, r.value FROM readings r JOIN meters m ON m.id = r.meter JOIN quantities q ON q.id = r.quantity ORDER BY 1, 2, 3")
want="hvac|energy_import_kwh|0|7.5
main|energy_import_kwh|0|100.25
main|energy_import_kwh|2000|100.5
main|power_kw|0|2.5
main|power_kw|1000|3.5"
[ "$rows" = "$want" ] || om_fail "stored readings differ: $rows"

# SIGTERM: commit and exit 0.
kill -TERM "$OM_AGG_PID"
om_wait_exit "$OM_AGG_PID" 10
[ "$OM_EXIT_STATUS" -eq 0 ] || om_fail "aggregator exit status $OM_EXIT_STATUS after SIGTERM"
grep -q 'info: stopped' "$OM_TMP/aggregator.log" || om_fail "no stop line in the log"
echo "ok"
