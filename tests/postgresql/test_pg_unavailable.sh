#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_unavailable.sh - the PostgreSQL server goes away under an
# aggregator: it holds (stops storing and acknowledging, drops nothing, says
# so once), as it does on a full SQLite disk, and once the server is back it
# reconnects and commits what it held; nothing is lost although the
# messages were sent once only (no gateway resends them here).
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

FIX="$OM_SOURCE_DIR/tests/data/report"
mkdir -p "$OM_TMP/sites"
cp "$FIX"/sites/alpha.yaml "$OM_TMP/sites/"
om_start_broker
OM_AGG_DB="$OM_PG_URI" om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
om_start_aggregator "$OM_TMP/agg.yaml"
om_wait_aggregator_subscribed "$OM_BROKER_PORT" alpha alpha-gw "$OM_PG_URI"

E=00000000000000c1
t=$(( $(date +%s) * 1000 - 600000 ))
pub() { # SEQ: one poll of alpha-hvac
    mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -t officemeter/v1/alpha/alpha-gw/readings -m \
        "$(printf '{"v":1,"site":"alpha","gateway":"alpha-gw","epoch":"%s","polls":[{"seq":%s,"meter":"alpha-hvac","t":%s,"values":{"energy_import_kwh":%s}}]}' \
            "$E" "$1" $((t + $1 * 60000)) "$1.5")"
}
upto() { om_psql "$OM_PG_URI" "SELECT coalesce(max(upto), 0) FROM epochs WHERE epoch = '$E'" 2>/dev/null || echo -1; }
wait_upto() { # N TIMEOUT_S
    local i
    for i in $(seq 1 $(($2 * 10))); do
        [ "$(upto)" = "$1" ] && return 0
        sleep 0.1
    done
    cat "$OM_TMP/aggregator.log" >&2
    om_fail "the acknowledgement did not reach $1 (it is $(upto))"
}
pg_ctl_as_owner() { # as pg_cluster.sh runs the server: its folder's owner
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$(stat -c %U "$OM_PG_DIR")" -- "$OM_PG_BIN/pg_ctl" -D "$OM_PG_DIR/data" "$@"
    else
        "$OM_PG_BIN/pg_ctl" -D "$OM_PG_DIR/data" "$@"
    fi
}

om_log "stored and acknowledged while the server is up"
pub 1
wait_upto 1 20

om_log "the server stopped: held, not dropped"
pg_ctl_as_owner -m fast -w stop >/dev/null
pub 2
pub 3
for i in $(seq 1 100); do
    grep -q "cannot write the database" "$OM_TMP/aggregator.log" && break
    sleep 0.1
done
grep -q "cannot write the database" "$OM_TMP/aggregator.log" ||
    { cat "$OM_TMP/aggregator.log" >&2; om_fail "no hold while the server was down"; }
if grep -q "dropped a message" "$OM_TMP/aggregator.log"; then
    cat "$OM_TMP/aggregator.log" >&2
    om_fail "messages were dropped while the server was down"
fi
kill -0 "$OM_AGG_PID" || om_fail "the aggregator died"

om_log "the server back: the held polls committed and acknowledged"
pg_ctl_as_owner -l "$OM_PG_DIR/server.log" -w -t 60 \
    -o "-k $OM_PG_DIR -c listen_addresses= -c fsync=off -c full_page_writes=off" start >/dev/null
wait_upto 3 30
[ "$(om_psql "$OM_PG_URI" "SELECT count(*) FROM readings")" = 3 ] || om_fail "expected 3 readings"
grep -q "can be written again" "$OM_TMP/aggregator.log" ||
    { cat "$OM_TMP/aggregator.log" >&2; om_fail "no line saying storing resumed"; }
echo ok
