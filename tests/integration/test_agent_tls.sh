#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT over TLS with server verification: a test CA signs the broker's
# certificate for 127.0.0.1; the agent, given the CA, publishes and gets its
# acknowledgement (--once exits 0). Given another CA, or a broker URI whose
# host does not match the certificate, it refuses with one clear line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

pki="$OM_TMP/pki"
mkdir -p "$pki"
mkca() { # DIR NAME
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
        -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
mkca "$pki/ca" "officemeter test CA"
mkca "$pki/other-ca" "some other CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/ext.cnf" -out "$pki/server.pem" 2>/dev/null
chmod 644 "$pki"/*.pem "$pki"/*.key
chmod 755 "$pki"

OM_BROKER_EXTRA="cafile $pki/ca.pem
certfile $pki/server.pem
keyfile $pki/server.key" om_start_broker
# The acknowledging subscriber talks TLS too.
site="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
om_start_office_sim
fifo="$OM_TMP/ack.fifo"
mkfifo "$fifo"
: >"$OM_TMP/polls.jsonl"
python3 "$OM_SOURCE_DIR/tests/integration/agent_ack.py" "$OM_BROKER_PORT" "$OM_TMP/polls.jsonl" \
    "$OM_TMP/ack.pause" --cafile "$pki/ca.pem" <"$fifo" 2>>"$OM_TMP/ack.log" &
om_track $!
mosquitto_sub -h 127.0.0.1 -p "$OM_BROKER_PORT" --cafile "$pki/ca.pem" -q 1 -v \
    -t 'officemeter/v1/+/+/readings' >"$fifo" 2>>"$OM_TMP/ack.log" &
om_track $!
sleep 0.5

om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
sed -i "s#^broker: .*#broker: {uri: \"mqtts://127.0.0.1:$OM_BROKER_PORT\", client_id: test-agent, tls: {ca_file: $pki/ca.pem}}#" "$OM_TMP/agent.yaml"
sed -i 's/connect_timeout_s: 5/connect_timeout_s: 3/' "$OM_TMP/agent.yaml"
buses=("${OM_BUSES[@]}")

om_log "verified TLS: published and acknowledged"
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once --ack-timeout 10 "${buses[@]}" \
    2>"$OM_TMP/err" || { cat "$OM_TMP/err" "$OM_TMP/ack.log" >&2; om_fail "--once over TLS failed"; }
[ "$(om_count_lines "$OM_TMP/polls.jsonl")" -eq 5 ] || om_fail "expected 5 polls over TLS"

om_log "a broker certificate from another CA: refused"
sed -i "s#ca_file: $pki/ca.pem#ca_file: $pki/other-ca.pem#" "$OM_TMP/agent.yaml"
rc=0
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --once "${buses[@]}" 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$OM_TMP/err" >&2; om_fail "exit $rc with an untrusted broker certificate"; }
grep -q "cannot connect to mqtts://127.0.0.1:$OM_BROKER_PORT: TLS handshake failed" "$OM_TMP/err" || om_fail "no clear line: $(cat "$OM_TMP/err")"
[ "$(grep -c . "$OM_TMP/err")" -eq 1 ] || om_fail "more than one line: $(cat "$OM_TMP/err")"

om_log "a CA file that cannot be read: --check says which"
sed -i "s#ca_file: $pki/other-ca.pem#ca_file: $pki/missing.pem#" "$OM_TMP/agent.yaml"
rc=0
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent.yaml" --check 2>"$OM_TMP/err" || rc=$?
[ "$rc" -eq 1 ] || om_fail "--check accepted a missing CA file"
grep -q "broker.tls.ca_file: cannot read $pki/missing.pem" "$OM_TMP/err" || om_fail "$(cat "$OM_TMP/err")"
echo "PASS"
