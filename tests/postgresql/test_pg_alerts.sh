#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pg_alerts.sh - `officemeter alerts` on PostgreSQL gives the alerts it
# gives on SQLite: the same generated portfolio (tests/bench/bench_web_gen.c:
# 2 sites, 4 meters, January and February of 15-minute readings, with a
# six-hour gap, a glitch and a counter reset, and gateways that fall silent
# at the end) written into a SQLite file and into a PostgreSQL database; the
# evaluator run on both at the same simulated times (every other day across
# February and a week beyond), with a silence and an acknowledgement given
# to both on the way. Then the lists of every alert, each alert's history
# and the silences are compared; only what the wall clock stamps (when a
# change was recorded, when a silence or an acknowledgement was made) and
# the database's own instance in the idempotency keys may differ.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
om_setup
om_start_postgres

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
OM=("$OM_BIN/officemeter")
CAT="$OM_SOURCE_DIR/firmware-config/meters"
FROM=2025-01-01T00:00:00Z UNTIL=2025-03-01T00:00:00Z

om_log "one portfolio, two backends"
om_web_portfolio 2 4 "$FROM" "$UNTIL" 900 # SQLite: $OM_DB, site files in $OM_TMP/sites
PG_DB=$(om_pg_database alerts)
mkdir -p "$OM_TMP/sites-pg"
"$OM_BUILD_DIR/bench/bench_web_gen" "$PG_DB" "$OM_TMP/sites-pg" 2 4 "$FROM" "$UNTIL" 900 \
    >"$OM_TMP/gen-pg.out" || om_fail "bench_web_gen into PostgreSQL failed"
cmp "$OM_TMP/gen.out" "$OM_TMP/gen-pg.out" || om_fail "not the same number of readings"
declare -A CONF
for b in sqlite pg; do
    db=$OM_DB
    [ "$b" = pg ] && db=$PG_DB
    OM_AGG_DB=$db om_write_agg_config "$OM_TMP/agg-$b.yaml" "$(om_free_port)" "$OM_TMP/sites"
    CONF[$b]="$OM_TMP/agg-$b.yaml"
done

both() { # ARGS...: officemeter ARGS on each backend, stdout to out.BACKEND; the exit statuses equal
    local b rc
    for b in sqlite pg; do
        rc=0
        "${OM[@]}" "$@" --config "${CONF[$b]}" >"$OM_TMP/out.$b" 2>"$OM_TMP/err.$b" || rc=$?
        echo "$rc" >"$OM_TMP/rc.$b"
        [ "$rc" -le 1 ] || { cat "$OM_TMP/err.$b" >&2; om_fail "$b: officemeter $* exited $rc"; }
    done
    cmp -s "$OM_TMP/rc.sqlite" "$OM_TMP/rc.pg" || {
        cat "$OM_TMP/err.sqlite" "$OM_TMP/err.pg" >&2; om_fail "officemeter $*: exit statuses differ"; }
}
evaluate() { # TIME
    both alerts evaluate --catalogue "$CAT" --now "$1" --no-deliver
    [ "$(cat "$OM_TMP/rc.pg")" = 0 ] || { cat "$OM_TMP/err.pg" >&2; om_fail "evaluate at $1"; }
}
# The wall clock's stamps and the idempotency keys' instance set aside.
normalise() { # FILE
    python3 - "$1" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
data = json.loads(text)
# A change a person made (an acknowledgement, a silence) is at their time.
by_hand = ("acknowledged", "silenced")
def walk(v):
    if isinstance(v, dict):
        wall = ("recorded", "created", "acked_at", "at") + (("t",) if v.get("change") in by_hand else ())
        return {k: ("*" if k in wall else walk(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x) for x in v]
    if isinstance(v, str):
        return re.sub(r"\b[0-9a-f]{16}-(\d+-\d+)\b", r"*-\1", v)
    return v
print(json.dumps(walk(data), indent=1, sort_keys=True))
PY
}
compare() { # WHAT
    normalise "$OM_TMP/out.sqlite" >"$OM_TMP/norm.sqlite"
    normalise "$OM_TMP/out.pg" >"$OM_TMP/norm.pg"
    cmp -s "$OM_TMP/norm.sqlite" "$OM_TMP/norm.pg" || {
        diff "$OM_TMP/norm.sqlite" "$OM_TMP/norm.pg" | head -30 >&2; om_fail "$1 differs"; }
}

om_log "evaluated at the same times on both"
t0=$(om_iso_ms 2025-02-01T00:00:00Z)
for i in $(seq 0 2 34); do # every other day (i days)
    t=$(( t0 + i * 86400000 ))
    evaluate "$(date -u -d "@$(( t / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)"
    if [ "$i" -eq 10 ]; then
        both alerts silence --site w001 --until 2025-02-20T00:00:00Z --note "works" --by test \
            --now 2025-02-11T00:00:00Z
    fi
done
both alerts --all --format json --now 2025-03-08T00:00:00Z
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["alerts"]))' "$OM_TMP/out.pg")
om_log "$n alerts"
[ "$n" -ge 3 ] || { cat "$OM_TMP/out.pg" >&2; om_fail "too few alerts to compare ($n)"; }
compare "the list of alerts"
ids=$(python3 -c 'import json,sys; print(" ".join(str(a["id"]) for a in json.load(open(sys.argv[1]))["alerts"]))' "$OM_TMP/out.pg")

om_log "an acknowledgement, then every alert's history"
first=${ids%% *}
both alerts ack "$first" --note "looked at it" --by test
for id in $ids; do
    both alerts show "$id" --format json
    compare "alert $id"
done
both alerts silences --all
sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z//g' "$OM_TMP/out.sqlite" >"$OM_TMP/s.sqlite"
sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z//g' "$OM_TMP/out.pg" >"$OM_TMP/s.pg"
cmp "$OM_TMP/s.sqlite" "$OM_TMP/s.pg" || om_fail "the silences differ"
echo ok
