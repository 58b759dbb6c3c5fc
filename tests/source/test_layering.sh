#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The layering check passes on the tree, and fails, naming the file, the
# line and the rule, on each kind of forbidden arrow planted in a copy:
# the agent using the store, a lower library using a higher one, a private
# header used across folders, a third-party header in a library that does
# not declare it, and a public header including a private one.
#   test_layering.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
rules="$1/layers.txt"
check() { python3 "$here/check_layers.py" --rules "$rules" --root "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

check "$src" >/dev/null 2>&1 || { check "$src"; fail "the tree breaks its own layering"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# plant FILE LINE EXPECTED: a copy of the tree with LINE added to FILE must
# fail with EXPECTED in the report.
plant() {
    rm -rf "$tmp/tree" && mkdir -p "$tmp/tree"
    cp -r "$src/src" "$src/include" "$tmp/tree/"
    sed -i "0,/^#include/s||$2\n#include|" "$tmp/tree/$1"
    local out rc=0
    out=$(check "$tmp/tree" 2>&1) || rc=$?
    [ "$rc" -eq 1 ] || fail "planted '$2' in $1: the check exited $rc"
    grep -qF "$3" <<<"$out" || fail "planted '$2' in $1: expected '$3' in: $out"
    echo "ok: $1: $2 -> $(grep -F "$3" <<<"$out" | head -n 1)"
}
plant src/agent/agent.c '#include "officemeter/store/store.h"' 'agent may not use store'
plant src/agent/deliver.c '#include "officemeter/report/kpi.h"' 'agent may not use report'
plant src/aggregator/aggregator.c '#include "officemeter/outbox/outbox.h"' 'aggregator may not use outbox'
plant src/aggregator/main.c '#include "officemeter/modbus/plan.h"' 'aggregator may not use modbus'
plant src/base/isotime.c '#include "officemeter/config/site.h"' 'base may not use config'
plant src/report/kpi.c '#include "officemeter/store/store.h"' 'report may not use store'
plant src/proto/ingest.c '#include <sqlite3.h>' 'does not declare the third-party library "sqlite"'
plant src/store/store.c '#include "../outbox/outbox_private.h"' 'a private header may be included only from its own folder'
plant src/agent/agent.c '#include "store_private.h"' 'no header store_private.h in src/agent/'
plant include/officemeter/proto/payload.h '#include "ingest_private.h"' 'public headers include public headers only'
echo "PASS"
