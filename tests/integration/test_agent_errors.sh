#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What goes wrong at startup is said in one clear line (or one line per
# error of a file, as file:line:col: key: message), with a non-zero exit:
# bad usage, a broken agent config, an unknown meter model, a credentials
# file that is missing or readable by others, an unreachable broker, a
# wrong password. The password never appears in any output. --check accepts
# a good configuration and --plan prints the request plan.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

agent="$OM_BIN/officemeter-agent"
site="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
OM_BROKER_PORT=$(om_free_port) # nobody listens here yet

# Runs the agent expecting exit status WANT; its stderr goes to $OM_TMP/err.
expect_exit() {
    local want=$1 rc=0
    shift
    "$agent" "$@" >"$OM_TMP/out" 2>"$OM_TMP/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$OM_TMP/err" >&2; om_fail "officemeter-agent $* exited $rc, expected $want"; }
}
expect_err() {
    grep -qF -- "$1" "$OM_TMP/err" || { cat "$OM_TMP/err" >&2; om_fail "expected on stderr: $1"; }
}
expect_lines() {
    local n
    n=$(grep -c . "$OM_TMP/err" || true)
    [ "$n" -eq "$1" ] || { cat "$OM_TMP/err" >&2; om_fail "expected $1 line(s) on stderr, got $n"; }
}

om_log "usage"
expect_exit 2 --bogus
expect_err "unknown option --bogus"
expect_lines 1
expect_exit 2 --once
expect_err "--config FILE is required"
expect_exit 2 --config x.yaml --once --plan
expect_exit 2 --config x.yaml --bus nonsense
expect_err "--bus:"
expect_exit 0 --help

om_log "broken agent config: every error with file:line:col"
cat >"$OM_TMP/broken.yaml" <<YAML
site_file: $site
gateway: gw1
broker: {uri: "mqtt://127.0.0.1:$OM_BROKER_PORT"}
intervals: {counters_s: 0, instant_s: 10}
delivery: {max_inflight: many}
colour: blue
YAML
expect_exit 1 --config "$OM_TMP/broken.yaml" --check
expect_err "$OM_TMP/broken.yaml:4:25: intervals.counters_s: out of range"
expect_err "$OM_TMP/broken.yaml:5:26: delivery.max_inflight: not an integer"
expect_err "$OM_TMP/broken.yaml:6:1: colour: unknown key"
expect_exit 1 --config "$OM_TMP/broken.yaml"
expect_err "intervals.counters_s: out of range"
expect_exit 1 --config "$OM_TMP/missing.yaml"
expect_lines 1

om_log "unknown meter model"
sed 's/model: abb-b23-b24/model: abb-b99/' "$site" >"$OM_TMP/sim-office.yaml"
om_agent_config "$OM_TMP/agent.yaml" "$OM_TMP/sim-office.yaml" gw1
expect_exit 1 --config "$OM_TMP/agent.yaml"
expect_err "sim-office.yaml:"
expect_err "unknown model (got \"abb-b99\""
expect_lines 1

om_log "credentials file missing, then readable by others"
om_agent_config "$OM_TMP/agent.yaml" "$site" gw1 "" 
sed -i "s#client_id: test-agent}#client_id: test-agent, credentials_file: $OM_TMP/credentials}#" "$OM_TMP/agent.yaml"
expect_exit 1 --config "$OM_TMP/agent.yaml"
expect_err "cannot read credentials file $OM_TMP/credentials: No such file or directory"
expect_lines 1
echo "gw1:Sup3r-S3cret" >"$OM_TMP/credentials"
chmod 644 "$OM_TMP/credentials"
expect_exit 1 --config "$OM_TMP/agent.yaml" --check
expect_err "is accessible by group or others (mode 0644"
expect_lines 2
grep -q "Sup3r-S3cret" "$OM_TMP/err" && om_fail "the password was printed"
chmod 600 "$OM_TMP/credentials"

om_log "--check and --plan on a good configuration"
expect_exit 0 --config "$OM_TMP/agent.yaml" --check
grep -q "ok (site sim-office, gateway gw1: 5 meters on 2 buses" "$OM_TMP/out" || om_fail "--check: $(cat "$OM_TMP/out")"
expect_exit 0 --config "$OM_TMP/agent.yaml" --plan
grep -q "FC04 0x0048+4 (energy_import_kwh, energy_export_kwh)" "$OM_TMP/out" || { cat "$OM_TMP/out" >&2; om_fail "--plan output"; }

om_log "unreachable broker"
sed -i 's/connect_timeout_s: 5/connect_timeout_s: 2/' "$OM_TMP/agent.yaml"
expect_exit 1 --config "$OM_TMP/agent.yaml"
expect_err "cannot connect to mqtt://127.0.0.1:$OM_BROKER_PORT: connection refused (no broker listening on 127.0.0.1 port $OM_BROKER_PORT)"
expect_lines 1
expect_exit 1 --config "$OM_TMP/agent.yaml" --once
expect_err "cannot connect to mqtt://127.0.0.1:$OM_BROKER_PORT: connection refused (no broker listening on 127.0.0.1 port $OM_BROKER_PORT)"

om_log "a broker that wants a password: wrong one, then right one"
mosquitto_passwd -c -b "$OM_TMP/passwd" gw1 "Sup3r-S3cret" 2>/dev/null
OM_BROKER_EXTRA="allow_anonymous false
password_file $OM_TMP/passwd" om_start_broker
echo "gw1:wrong-Pa55word" >"$OM_TMP/credentials"
expect_exit 1 --config "$OM_TMP/agent.yaml" --log-level debug
expect_err "cannot connect to mqtt://127.0.0.1:$OM_BROKER_PORT: connection refused: not authorised"
grep -q "wrong-Pa55word" "$OM_TMP/err" && om_fail "the password was printed"
echo "gw1:Sup3r-S3cret" >"$OM_TMP/credentials"
om_start_office_sim
# No acknowledging subscriber: --once publishes, waits 2 s, exits 3.
expect_exit 3 --config "$OM_TMP/agent.yaml" --once --ack-timeout 2 --log-level debug \
    "${OM_BUSES[@]}"
expect_err "no acknowledgement up to seq 5 within 2000 ms"
grep -q "Sup3r-S3cret" "$OM_TMP/err" && om_fail "the password was printed"
echo "PASS"
