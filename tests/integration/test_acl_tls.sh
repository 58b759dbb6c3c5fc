#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS and per-gateway access control at a real broker. Two sites (alpha with
# gateway gw-a, beta with gw-b); `officemeter acl` writes the mosquitto ACL
# and a password template; the test makes a CA, a server certificate and a
# client certificate with openssl; mosquitto serves TLS only, on two loopback
# ports: one with username/password, one requiring a client certificate
# (its CN is the user). Shown over TLS with the clients' --cafile:
#  - gateway A publishes to its own topic, and the aggregator (which may read
#    every gateway's topics) receives it;
#  - A's publish under site beta is never delivered to the aggregator (the
#    broker drops it: mosquitto 2.0 says nothing under MQTT 3.1.1, and "not
#    authorized" in an MQTT 5 PUBACK), nor is A's forged ack for gw-b;
#  - A cannot read gw-b's ack topic, only its own;
#  - a plain MQTT client, a client that does not trust the server's CA, a
#    server certificate for another host name, a wrong password and an
#    anonymous client are all refused;
#  - with a client certificate instead of a password, the same ACL holds.
# Delivery is checked from the subscriber's side: after each forbidden
# publish, the same client publishes a marker to its own topic, and once
# the marker has arrived the forbidden message would have arrived before it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

command -v openssl >/dev/null || om_fail "openssl not found (Debian package: openssl)"
cd "$OM_TMP"

om_log "two sites, the ACL and the password template"
mkdir sites
for pair in alpha:gw-a beta:gw-b; do
    site=${pair%%:*} gw=${pair#*:}
    cat >"sites/$site.yaml" <<YAML
site: $site
name: $site office
timezone: UTC
grid_region: UK
floor_area_m2:
  - {from: 2023-01-01, m2: 100}
gateways:
  - id: $gw
    buses:
      - {id: lan, tcp: {host: 127.0.0.1, port: 502}}
meters:
  - {id: $site-main, model: eastron-sdm630, gateway: $gw, bus: lan, unit_id: 1,
     utility: electricity, role: main}
YAML
done
"$OM_BIN/officemeter" acl --sites sites --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
    -o broker.acl --passwords passwords.txt 2>acl.log || { cat acl.log >&2; om_fail "officemeter acl failed"; }
cat acl.log >&2
[ "$(stat -c %a passwords.txt)" = 600 ] || om_fail "passwords file is not 0600"
[ "$(cut -d: -f1 passwords.txt | tr '\n' ' ')" = "officemeter-aggregator gw-a gw-b " ] \
    || om_fail "password template users: $(cut -d: -f1 passwords.txt | tr '\n' ' ')"
grep -qvE '^[a-z-]+:[A-Za-z0-9]{24}$' passwords.txt && om_fail "password template lines malformed"
[ "$(cut -d: -f2 passwords.txt | sort -u | wc -l)" -eq 3 ] || om_fail "passwords are not distinct"
# Exactly the topics of the contract, per user.
python3 - broker.acl <<'PY' || om_fail "ACL content wrong (above)"
import sys
users, cur = {}, None
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    words = line.split()
    if words[0] == "user":
        cur = words[1]
        users[cur] = set()
    else:
        assert words[0] == "topic" and cur, "line outside a user: %r" % line
        users[cur].add((words[1], words[2]))
R = "officemeter/v1/"
want = {
    "officemeter-aggregator": {("read", R + "+/+/readings"), ("read", R + "+/+/status"),
                               ("read", R + "+/+/health"), ("write", R + "+/+/ack"),
                               ("write", R + "+/alerts"), ("write", R + "+/alerts/events")},
    "gw-a": {("write", R + "alpha/gw-a/readings"), ("write", R + "alpha/gw-a/status"),
             ("write", R + "alpha/gw-a/health"), ("read", R + "alpha/gw-a/ack")},
    "gw-b": {("write", R + "beta/gw-b/readings"), ("write", R + "beta/gw-b/status"),
             ("write", R + "beta/gw-b/health"), ("read", R + "beta/gw-b/ack")},
}
if users != want:
    sys.exit("ACL users/topics:\n%r\nexpected:\n%r" % (users, want))
PY
# The template must never be overwritten (it holds the passwords in use).
cp passwords.txt passwords.before
if "$OM_BIN/officemeter" acl --sites sites --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
        --passwords passwords.txt >/dev/null 2>err.log; then
    om_fail "officemeter acl overwrote an existing passwords file"
fi
grep -q "exists" err.log || om_fail "no clear message for an existing passwords file: $(cat err.log)"
cmp -s passwords.txt passwords.before || om_fail "existing passwords file was changed"
# The documented way to hash the template for the broker.
cp passwords.txt hashed.txt
mosquitto_passwd -U hashed.txt || om_fail "mosquitto_passwd -U refused the template"
[ "$(grep -c ':\$7\$' hashed.txt)" -eq 3 ] || om_fail "mosquitto_passwd -U did not hash every line"
# The broker's password file, made with mosquitto_passwd -b from the template.
: >broker.passwd
while IFS=: read -r user pass; do
    mosquitto_passwd -b broker.passwd "$user" "$pass"
done <passwords.txt
pw() { grep "^$1:" passwords.txt | cut -d: -f2; }
PW_AGG=$(pw officemeter-aggregator) PW_A=$(pw gw-a) PW_B=$(pw gw-b)

om_log "a test CA, server and client certificates (openssl)"
# newcert NAME CN CA EXTENSIONS: NAME.key, NAME.pem signed by CA (or self-signed CA).
newcert() {
    local name=$1 cn=$2 ca=$3 ext=$4
    if [ "$ca" = self ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -keyout "$name.key" -out "$name.pem" -subj "/CN=$cn" 2>>openssl.log
    else
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>>openssl.log
        printf '%s\n' "$ext" >"$name.ext"
        openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
            -days 2 -out "$name.pem" -extfile "$name.ext" 2>>openssl.log
    fi
}
newcert ca "officemeter test CA" self "" || { cat openssl.log >&2; om_fail "openssl: CA"; }
newcert rogue "some other CA" self ""
newcert server localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
newcert wrongname localhost ca "subjectAltName=DNS:mqtt.elsewhere.example
extendedKeyUsage=serverAuth"
newcert client-a gw-a ca "extendedKeyUsage=clientAuth"
newcert client-rogue gw-a rogue "extendedKeyUsage=clientAuth"
openssl verify -CAfile ca.pem server.pem client-a.pem >/dev/null || om_fail "test certificates do not verify"

om_log "mosquitto with TLS listeners, the generated ACL and passwords"
PORT=$(om_free_port)
PORT_CERT=$(om_free_port)
PORT_WRONG=$(om_free_port)
{
    # As root, mosquitto would drop to its own user, which cannot read the
    # test's private folder.
    [ "$(id -u)" -eq 0 ] && echo "user root"
    echo "per_listener_settings false"
    echo "allow_anonymous false"
    echo "persistence false"
    echo "password_file $OM_TMP/broker.passwd"
    echo "acl_file $OM_TMP/broker.acl"
    echo "listener $PORT 127.0.0.1"
    echo "cafile $OM_TMP/ca.pem"
    echo "certfile $OM_TMP/server.pem"
    echo "keyfile $OM_TMP/server.key"
    echo "listener $PORT_CERT 127.0.0.1"
    echo "cafile $OM_TMP/ca.pem"
    echo "certfile $OM_TMP/server.pem"
    echo "keyfile $OM_TMP/server.key"
    echo "require_certificate true"
    echo "use_identity_as_username true"
    echo "listener $PORT_WRONG 127.0.0.1"
    echo "cafile $OM_TMP/ca.pem"
    echo "certfile $OM_TMP/wrongname.pem"
    echo "keyfile $OM_TMP/wrongname.key"
} >mosquitto.conf
mosquitto -c mosquitto.conf >mosquitto.log 2>&1 &
BROKER=$!
om_track $BROKER
for port in $PORT $PORT_CERT $PORT_WRONG; do
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 $BROKER 2>/dev/null || { cat mosquitto.log >&2; om_fail "mosquitto exited"; }
        sleep 0.05
    done
done

TLS=(-h 127.0.0.1 -p "$PORT" --cafile "$OM_TMP/ca.pem")
CERT_A=(-h 127.0.0.1 -p "$PORT_CERT" --cafile "$OM_TMP/ca.pem" --cert "$OM_TMP/client-a.pem"
        --key "$OM_TMP/client-a.key")
A=("${TLS[@]}" -u gw-a -P "$PW_A" -i gw-a)
B=("${TLS[@]}" -u gw-b -P "$PW_B" -i gw-b)
AGG=("${TLS[@]}" -u officemeter-aggregator -P "$PW_AGG" -i officemeter-aggregator-pub)
T_A=officemeter/v1/alpha/gw-a
T_B=officemeter/v1/beta/gw-b

# wait_line FILE TEXT [TENTHS]: FILE gets a line ending in TEXT within
# TENTHS tenths of a second (default 100).
wait_line() {
    local i
    for i in $(seq 1 "${3:-100}"); do
        grep -q -- "$2\$" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# publish ARGS...: mosquitto_pub at QoS 1; fails the test if it fails.
publish() {
    mosquitto_pub -q 1 "$@" 2>>pub.log || { tail -3 pub.log >&2; om_fail "mosquitto_pub $* failed"; }
}
# start_sub FILE ARGS...: a background mosquitto_sub -v writing to FILE.
start_sub() {
    local file=$1
    shift
    : >"$file"
    mosquitto_sub -q 1 -v "$@" >"$file" 2>>sub.log &
    om_track $!
}
# sync_sub FILE PUB-ARGS... TOPIC: publish to TOPIC until FILE shows it (the
# subscription is then in place).
sync_sub() {
    local file=$1 i
    shift
    local topic=${*: -1}
    for i in $(seq 1 50); do
        mosquitto_pub -q 1 "${@:1:$#-1}" -t "$topic" -m "sync-$i" 2>>pub.log || true
        wait_line "$file" "sync-$i" 3 && return 0
    done
    cat sub.log pub.log mosquitto.log >&2
    om_fail "subscriber on $topic never received anything"
}

om_log "the aggregator receives gateway A's own readings over TLS"
start_sub agg.out "${TLS[@]}" -u officemeter-aggregator -P "$PW_AGG" -i agg-sub \
    -t 'officemeter/v1/+/+/readings' -t 'officemeter/v1/+/+/status'
sync_sub agg.out "${A[@]}" "$T_A/readings"
publish "${A[@]}" -t "$T_A/readings" -m own-a
wait_line agg.out "$T_A/readings own-a" || om_fail "A's own reading did not reach the aggregator"
publish "${A[@]}" -t "$T_A/status" -r -m online-a
wait_line agg.out "$T_A/status online-a" || om_fail "A's status did not reach the aggregator"
publish "${B[@]}" -t "$T_B/readings" -m own-b
wait_line agg.out "$T_B/readings own-b" || om_fail "B's own reading did not reach the aggregator"

om_log "gateway A cannot publish as site beta"
publish "${A[@]}" -t "$T_B/readings" -m forged-by-a
publish "${A[@]}" -t "$T_B/status" -m forged-status
publish "${A[@]}" -t "officemeter/v1/alpha/gw-b/readings" -m forged-gw
publish "${A[@]}" -t "$T_A/readings" -m marker-1
wait_line agg.out "$T_A/readings marker-1" || om_fail "marker not received"
grep -q forged agg.out && { cat agg.out >&2; om_fail "a publish outside A's own topics was delivered"; }
# Under MQTT 5 the broker says so in the PUBACK.
out=$(mosquitto_pub -V mqttv5 -q 1 "${A[@]}" -t "$T_B/readings" -m forged-v5 2>&1) || true
echo "$out" | grep -qi "not authori[sz]ed" || om_fail "MQTT 5 PUBACK did not refuse A's publish as beta: $out"
publish "${A[@]}" -t "$T_A/readings" -m marker-2
wait_line agg.out "$T_A/readings marker-2" || om_fail "marker 2 not received"
grep -q forged agg.out && om_fail "the MQTT 5 forged publish was delivered"

om_log "gateway A reads only its own ack; it cannot forge gw-b's ack"
start_sub a-ack.out "${A[@]}" -i gw-a-sub -t "$T_A/ack" -t "$T_B/ack"
start_sub b-ack.out "${B[@]}" -i gw-b-sub -t "$T_B/ack"
sync_sub a-ack.out "${AGG[@]}" "$T_A/ack"
sync_sub b-ack.out "${AGG[@]}" "$T_B/ack"
publish "${AGG[@]}" -t "$T_B/ack" -m '{"v":1,"upto":7,"for":"b"}'
publish "${A[@]}" -t "$T_B/ack" -m '{"v":1,"upto":999,"forged":true}'
publish "${AGG[@]}" -t "$T_A/ack" -m '{"v":1,"upto":5,"for":"a"}'
publish "${AGG[@]}" -t "$T_B/ack" -m '{"v":1,"upto":8,"for":"b"}'
wait_line a-ack.out "$T_A/ack {\"v\":1,\"upto\":5,\"for\":\"a\"}" || om_fail "A did not receive its own ack"
wait_line b-ack.out "$T_B/ack {\"v\":1,\"upto\":8,\"for\":\"b\"}" || om_fail "B did not receive its ack"
grep -q '"for":"b"' a-ack.out && { cat a-ack.out >&2; om_fail "A received gw-b's ack"; }
grep -q forged b-ack.out && { cat b-ack.out >&2; om_fail "A's forged ack reached gw-b"; }
[ "$(grep -c '"for":"b"' b-ack.out)" -eq 2 ] || om_fail "B's acks: $(cat b-ack.out)"

om_log "refused connections"
# refused NAME ARGS...: mosquitto_pub must fail to connect (its message,
# "refused-N", must then never be delivered).
n_refused=0
refused() {
    local name=$1
    shift
    n_refused=$((n_refused + 1))
    if mosquitto_pub -q 1 "$@" -t "$T_A/readings" -m "refused-$n_refused" 2>>refused.log; then
        om_fail "$name: the connection was accepted"
    fi
    echo "refused: $name ($(tail -1 refused.log))" >&2
}
refused "plain MQTT to the TLS port" -h 127.0.0.1 -p "$PORT" -u gw-a -P "$PW_A"
refused "a CA the client does not trust" -h 127.0.0.1 -p "$PORT" --cafile "$OM_TMP/rogue.pem" \
    -u gw-a -P "$PW_A"
refused "a server certificate for another host" -h 127.0.0.1 -p "$PORT_WRONG" \
    --cafile "$OM_TMP/ca.pem" -u gw-a -P "$PW_A"
refused "a wrong password" "${TLS[@]}" -u gw-a -P "$PW_B"
refused "an anonymous client" "${TLS[@]}"
refused "no client certificate" -h 127.0.0.1 -p "$PORT_CERT" --cafile "$OM_TMP/ca.pem"
refused "a client certificate of another CA" -h 127.0.0.1 -p "$PORT_CERT" \
    --cafile "$OM_TMP/ca.pem" --cert "$OM_TMP/client-rogue.pem" --key "$OM_TMP/client-rogue.key"
publish "${A[@]}" -t "$T_A/readings" -m marker-r
wait_line agg.out "$T_A/readings marker-r" || om_fail "marker-r not received"
grep -q "refused-" agg.out && om_fail "a refused client's message was delivered"

om_log "client certificate (CN = gw-a) instead of a password: same ACL"
publish "${CERT_A[@]}" -i gw-a-cert -t "$T_A/readings" -m cert-own
wait_line agg.out "$T_A/readings cert-own" || om_fail "A's publish with its certificate was not delivered"
publish "${CERT_A[@]}" -i gw-a-cert -t "$T_B/readings" -m forged-cert
publish "${CERT_A[@]}" -i gw-a-cert -t "$T_A/readings" -m marker-3
wait_line agg.out "$T_A/readings marker-3" || om_fail "marker 3 not received"
grep -q forged agg.out && om_fail "A's certificate published as site beta"
echo "PASS"
