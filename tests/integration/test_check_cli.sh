#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `officemeter check` as a user runs it: the shipped catalogue, portfolio,
# factors and policy pass; broken files fail with exit 1 and precise lines;
# bad usage exits 2.
set -euo pipefail
cd "$OM_SOURCE_DIR"
om="$OM_BIN/officemeter"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$($om check sites firmware-config 2>&1) || fail "shipped files do not pass: $out"
echo "$out" | grep -q '^ok: 14 meter models, [0-9]* sites, 1 factor files, 1 policy files, 1 agent configs, [0-9]* aggregator configs, 1 alert policies; 0 errors$' \
  || fail "unexpected summary: $out"

# The default paths are sites and firmware-config.
$om check >/dev/null 2>&1 || fail "check without arguments does not pass"

set +e
err=$($om check tests/data/broken 2>&1 >/dev/null); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "broken files: exit $rc, expected 1"
echo "$err" | grep -qF 'tests/data/broken/sites/badsite.yaml:21:61: meters[3].untis_id: unknown key' \
  || fail "typo'd key not reported with its position: $err"
echo "$err" | grep -qF 'tests/data/broken/sites/badsite.yaml:20:46: meters[2].gateway: unknown gateway (got "gw2", expected one of gw1)' \
  || fail "unknown gateway not reported: $err"
echo "$err" | grep -q '^failed: .*; [0-9]* errors$' || fail "no summary line: $err"

set +e
$om check --no-such-option >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad option: exit $rc, expected 2"
$om check --help | grep -q '^usage: officemeter check' || fail "--help"
$om --help | grep -q 'check' || fail "officemeter --help lists no commands"

# Site files with no catalogue to resolve their models against (run from a
# folder without firmware-config/, nothing installed): an error, not "ok".
empty=$(mktemp -d)
set +e
out=$(cd "$empty" && $om check --catalogue "$empty/none" "$OM_SOURCE_DIR/sites" 2>&1); rc=$?
set -e
rmdir "$empty"
[ "$rc" -eq 1 ] || fail "no catalogue: exit $rc, expected 1: $out"
echo "$out" | grep -q "meters cannot be checked (give --catalogue DIR)" || fail "no catalogue: $out"
