#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_cli_special_target.sh - `-o` naming something that is not a regular
# file (a FIFO here; /dev/null or /dev/stdout in use) is written in place:
# commands write files through a temporary name and a rename, which would
# replace the device itself (as root, /dev/null for the whole machine).
# A FIFO stays a FIFO and its reader gets exactly what stdout gets, for the
# text formats and for xlsx; a regular file is still
# replaced whole.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
FIX="$OM_SOURCE_DIR/tests/data/report"
DB="$OM_TMP/agg.db"
"$OM_BUILD_DIR/tests/test_report" --write-db "$DB" || om_fail "cannot write the fixture"
report=("$OM_BIN/officemeter" report --db "$DB" --sites "$FIX/sites"
        --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --now 2025-02-01T00:00:00Z --year 2024)

# through_fifo OUT CMD...: runs CMD with "-o FIFO" while a reader copies
# the FIFO to OUT; the FIFO must still be one afterwards.
through_fifo() {
    local out=$1 fifo="$OM_TMP/pipe"
    shift
    rm -f "$fifo"
    mkfifo "$fifo"
    cat "$fifo" >"$out" &
    local reader=$!
    "$@" -o "$fifo" 2>"$OM_TMP/err" || { cat "$OM_TMP/err"; om_fail "$*: failed into a FIFO"; }
    wait "$reader"
    [ -p "$fifo" ] || om_fail "$*: the FIFO was replaced by a $(stat -c %F "$fifo")"
    [ -z "$(ls "$OM_TMP" | grep '\.tmp$' || true)" ] || om_fail "$*: a temporary file was left"
}

for fmt in json md csv; do
    "${report[@]}" --format "$fmt" >"$OM_TMP/stdout.$fmt" 2>/dev/null
    through_fifo "$OM_TMP/fifo.$fmt" "${report[@]}" --format "$fmt"
    cmp -s "$OM_TMP/stdout.$fmt" "$OM_TMP/fifo.$fmt" || om_fail "$fmt through a FIFO differs from stdout"
done
through_fifo "$OM_TMP/fifo.xlsx" "${report[@]}" --format xlsx
[ "$(head -c 2 "$OM_TMP/fifo.xlsx")" = PK ] || om_fail "the xlsx through a FIFO is not a workbook"
"${report[@]}" --format xlsx -o "$OM_TMP/file.xlsx" 2>/dev/null
[ "$(stat -c %s "$OM_TMP/fifo.xlsx")" = "$(stat -c %s "$OM_TMP/file.xlsx")" ] ||
    om_fail "the xlsx through a FIFO differs in size from the one written to a file"

# A regular file is still replaced whole (a reader of the old one keeps it).
echo old >"$OM_TMP/out.json"
exec 3<"$OM_TMP/out.json"
"${report[@]}" --format json -o "$OM_TMP/out.json" 2>/dev/null
[ "$(cat <&3)" = old ] || om_fail "a regular file was written in place, not replaced"
exec 3<&-
cmp -s "$OM_TMP/stdout.json" "$OM_TMP/out.json" || om_fail "the report written to a file differs"
om_log "ok"
