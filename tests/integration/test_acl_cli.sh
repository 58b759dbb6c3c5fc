#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `officemeter acl` as a command: the demo portfolio through --sites and
# through an aggregator config gives the same rules; -o writes the file;
# and it refuses, with a clear line and no ACL, a gateway id declared by two
# sites (one broker user cannot belong to two sites), an aggregator user
# equal to a gateway id, a folder without site files, a site file with
# errors, and bad usage. (TLS and the broker's enforcement:
# test_acl_tls.sh.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM=("$OM_BIN/officemeter" acl)
CAT="$OM_SOURCE_DIR/firmware-config/meters"
rules() { grep -v '^#' "$1" | grep .; }

om_log "the demo portfolio"
"${OM[@]}" --sites "$OM_SOURCE_DIR/sites" --catalogue "$CAT" >"$OM_TMP/stdout.acl" 2>"$OM_TMP/err"
grep -q "4 gateways of 4 sites" "$OM_TMP/err" || om_fail "summary line: $(cat "$OM_TMP/err")"
for gw in shanghai/sh-gw1 london/ldn-gw1 hongkong/hk-gw1 singapore/sg-gw1; do
    user=${gw#*/}
    rules "$OM_TMP/stdout.acl" | grep -A4 -x "user $user" >"$OM_TMP/$user.rules" \
        || om_fail "no user $user"
    [ "$(sed -n 2,5p "$OM_TMP/$user.rules" | tr '\n' '|')" = \
      "topic write officemeter/v1/$gw/readings|topic write officemeter/v1/$gw/status|topic write officemeter/v1/$gw/health|topic read officemeter/v1/$gw/ack|" ] \
        || { cat "$OM_TMP/$user.rules" >&2; om_fail "rules of $user"; }
done
[ "$(grep -c '^user ' "$OM_TMP/stdout.acl")" -eq 5 ] || om_fail "expected 5 users"
grep -qx "user officemeter-aggregator" "$OM_TMP/stdout.acl" || om_fail "no aggregator user"

om_log "--config, --aggregator-user, -o"
"${OM[@]}" --config "$OM_SOURCE_DIR/firmware-config/aggregator/aggregator.yaml" \
    --aggregator-user central -o "$OM_TMP/out.acl" 2>/dev/null || om_fail "--config failed"
[ "$(stat -c %a "$OM_TMP/out.acl")" = 644 ] || om_fail "-o file mode $(stat -c %a "$OM_TMP/out.acl")"
diff <(rules "$OM_TMP/stdout.acl" | sed 's/^user officemeter-aggregator$/user central/') \
     <(rules "$OM_TMP/out.acl") >&2 || om_fail "--config gives other rules than --sites"
ls "$OM_TMP" | grep -q 'out.acl.' && om_fail "temporary file left behind"

# refuse WHAT EXPECTED-TEXT ARGS...: exit 1 or 2, EXPECTED-TEXT on stderr, no ACL.
refuse() {
    local what=$1 text=$2 rc=0
    shift 2
    rm -f "$OM_TMP/refused.acl"
    "${OM[@]}" "$@" >"$OM_TMP/refused.out" 2>"$OM_TMP/refused.err" || rc=$?
    [ "$rc" -ne 0 ] || om_fail "$what: accepted"
    grep -q -- "$text" "$OM_TMP/refused.err" || { cat "$OM_TMP/refused.err" >&2; om_fail "$what: no '$text' on stderr"; }
    [ ! -s "$OM_TMP/refused.out" ] && [ ! -e "$OM_TMP/refused.acl" ] || om_fail "$what: an ACL was written"
    echo "refused: $what: $(grep -v '^officemeter acl: no ACL' "$OM_TMP/refused.err" | head -1)" >&2
}
mkdir -p "$OM_TMP/dup" "$OM_TMP/empty"
cp "$OM_SOURCE_DIR/sites/london.yaml" "$OM_TMP/dup/london.yaml"
sed 's/^site: london$/site: london2/' "$OM_SOURCE_DIR/sites/london.yaml" >"$OM_TMP/dup/london2.yaml"
refuse "a gateway id in two sites" 'gateway id "ldn-gw1" is also declared in' \
    --sites "$OM_TMP/dup" --catalogue "$CAT" -o "$OM_TMP/refused.acl"
refuse "the aggregator user is a gateway id" "is the aggregator's broker user" \
    --sites "$OM_SOURCE_DIR/sites" --catalogue "$CAT" --aggregator-user sh-gw1 -o "$OM_TMP/refused.acl"
refuse "no site files" "no site files" --sites "$OM_TMP/empty" --catalogue "$CAT"
refuse "a missing folder" "cannot read folder" --sites "$OM_TMP/nowhere" --catalogue "$CAT"
sed 's/^site: london2$/site: london2\nbogus_key: 1/' "$OM_TMP/dup/london2.yaml" >"$OM_TMP/empty/london2.yaml"
refuse "a site file with errors" "london2.yaml:" --sites "$OM_TMP/empty" --catalogue "$CAT"
refuse "neither --sites nor --config" "give either" 
refuse "both --sites and --config" "give either" --sites "$OM_TMP/dup" --config x.yaml
refuse "an extra argument" "unexpected argument" --sites "$OM_TMP/dup" extra
"${OM[@]}" --help | grep -q -- "--passwords" || om_fail "--help"
echo "PASS"
