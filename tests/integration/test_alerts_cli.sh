#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `officemeter alerts` as a user meets it: --help everywhere (exit 0);
# bad usage exits 2 with one line; a broken alerts.yaml stops `check` and
# `alerts evaluate` with every error as file:line:col: key: message (exit 1);
# a database on which nothing was evaluated yet lists no alerts (exit 0);
# an unknown alert id exits 1; ids in a silence are checked against the
# site files; an evaluation with --now on an empty database records the
# declared gateway that never reported once the time has come.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

om="$OM_BIN/officemeter"
CAT="$OM_SOURCE_DIR/firmware-config/meters"
# expect STATUS TEXT COMMAND...: exit STATUS, TEXT on stderr (one line for usage errors).
expect() {
    local want=$1 text=$2 rc=0
    shift 2
    "$@" >"$OM_TMP/out" 2>"$OM_TMP/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$OM_TMP/err" >&2; om_fail "'$*' exited $rc, expected $want"; }
    [ -z "$text" ] || grep -qF -- "$text" "$OM_TMP/err" ||
        { cat "$OM_TMP/err" >&2; om_fail "'$*': no '$text' on stderr"; }
    if [ "$want" -eq 2 ] && [ "$(wc -l <"$OM_TMP/err")" -ne 1 ]; then
        cat "$OM_TMP/err" >&2
        om_fail "'$*': a usage error must be one line"
    fi
}

for sub in "" show ack silence silences deliveries evaluate; do
    # shellcheck disable=SC2086 # an empty subcommand is no word
    "$om" alerts $sub --help >"$OM_TMP/help" || om_fail "alerts $sub --help exited non-zero"
    grep -q "^usage: officemeter alerts" "$OM_TMP/help" || om_fail "alerts $sub --help: no usage"
done
"$om" --help | grep -q "^  alerts " || om_fail "alerts is not in officemeter --help"

mkdir -p "$OM_TMP/sites"
cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_TMP/sites/"
om_write_agg_config "$OM_TMP/agg.yaml" 1 "$OM_TMP/sites"
expect 2 "give --config FILE" "$om" alerts
expect 2 "unknown subcommand" "$om" alerts frobnicate --config "$OM_TMP/agg.yaml"
expect 2 "--format: expected table or json" "$om" alerts --config "$OM_TMP/agg.yaml" --format xml
expect 2 "--every: expected seconds" "$om" alerts evaluate --config "$OM_TMP/agg.yaml" --every 0
expect 2 "--now and --sim-clock exclude" "$om" alerts evaluate --config "$OM_TMP/agg.yaml" --now 2024-01-01T00:00:00Z --sim-clock x

om_log "no database yet"
expect 1 "no such database" "$om" alerts --config "$OM_TMP/agg.yaml"

om_log "a broken alert policy"
cp "$OM_SOURCE_DIR/tests/data/alerts/broken-alerts.yaml" "$OM_TMP/sites/alerts.yaml"
expect 1 "alerts.yaml:13:35: sites[0].meters[0].rules.water_night_flow: does not apply to main, an electricity meter" \
    "$om" check --catalogue "$CAT" "$OM_TMP/sites"
grep -q "14 errors" "$OM_TMP/err" || om_fail "check did not count the 14 errors: $(tail -1 "$OM_TMP/err")"
expect 1 "alerts.yaml:5:32: defaults.base_load_rise.night_from: invalid time of day" \
    "$om" alerts evaluate --config "$OM_TMP/agg.yaml" --catalogue "$CAT" --now 2024-01-01T00:00:00Z --no-deliver
grep -q "fix the files above first" "$OM_TMP/err" || om_fail "no closing line after the errors"
[ ! -e "$OM_TMP/agg.db" ] || om_fail "a broken policy created the database anyway"

om_log "the built-in rules without alerts.yaml, on the aggregator's fresh database"
rm "$OM_TMP/sites/alerts.yaml"
om_start_broker
om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
om_start_aggregator "$OM_TMP/agg.yaml"
om_stop_pid "$OM_AGG_PID"
expect 0 "" "$om" alerts --config "$OM_TMP/agg.yaml"
grep -q "no open alerts" "$OM_TMP/out" || om_fail "an empty list is not said"
expect 1 "no alert 42" "$om" alerts show 42 --config "$OM_TMP/agg.yaml"
expect 2 "give --note TEXT" "$om" alerts ack 1 --config "$OM_TMP/agg.yaml"
"$om" alerts evaluate --config "$OM_TMP/agg.yaml" --catalogue "$CAT" --now 2024-01-01T00:00:00Z --no-deliver ||
    om_fail "evaluate on an empty database failed"
"$om" alerts evaluate --config "$OM_TMP/agg.yaml" --catalogue "$CAT" --now 2024-01-01T00:20:00Z --no-deliver ||
    om_fail "evaluate on an empty database failed"
rc=0
"$om" alerts --config "$OM_TMP/agg.yaml" --now 2024-01-01T00:20:00Z >"$OM_TMP/list" || rc=$?
[ "$rc" -eq 1 ] || om_fail "exit $rc: a gateway that never reported for 20 minutes is a critical alert"
grep -q "gw1 .*gateway_offline .*no health message for 20 min" "$OM_TMP/list" ||
    { cat "$OM_TMP/list" >&2; om_fail "the silent gateway is not listed"; }

om_log "silences: ids checked against the site files"
expect 2 "meter \"nosuch\" is not declared" "$om" alerts silence --config "$OM_TMP/agg.yaml" \
    --catalogue "$CAT" --site sim-office --meter nosuch --until +1h
expect 2 "--rule: unknown rule" "$om" alerts silence --config "$OM_TMP/agg.yaml" \
    --catalogue "$CAT" --site sim-office --rule leak --until +1h
expect 2 "--until: expected a time ahead" "$om" alerts silence --config "$OM_TMP/agg.yaml" \
    --catalogue "$CAT" --site sim-office --until yesterday
"$om" alerts silence --config "$OM_TMP/agg.yaml" --catalogue "$CAT" --site sim-office \
    --gateway gw1 --until +2h --now 2024-01-01T00:20:00Z --by carol >"$OM_TMP/out" || om_fail "silence failed"
grep -q "sim-office/gw1 until 2024-01-01T02:20:00.000Z, by carol" "$OM_TMP/out" ||
    om_fail "silence said: $(cat "$OM_TMP/out")"
"$om" alerts --config "$OM_TMP/agg.yaml" --now 2024-01-01T00:21:00Z >/dev/null ||
    om_fail "exit non-zero with the critical alert silenced"

om_log "the simulator's drill faults: wrong as written, one line each"
sim=("$om" sim --site "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" --catalogue "$CAT"
     --bus rs485-1=tcp:127.0.0.1:1 --bus lan=tcp:127.0.0.1:2 --duration 0.1)
expect 2 "gw1=offline@… needs --uplink gw1=tcp:HOST:PORT" "${sim[@]}" --fault gw1=offline@2024-01-01T00:00:00Z
expect 2 "--uplink needs --broker HOST:PORT" "${sim[@]}" --uplink gw1=tcp:127.0.0.1:3
expect 2 "--uplink: unknown gateway 'gw9'" "${sim[@]}" --broker 127.0.0.1:4 --uplink gw9=tcp:127.0.0.1:3
expect 2 "bad time 'tomorrow'" "${sim[@]}" --fault water=leak:0.2@tomorrow
expect 1 "a base-load step needs an electricity meter" "${sim[@]}" --fault water=baseload:5
