#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `officemeter check` as a user runs it: the shipped catalogue, portfolio,
# factors and policy pass; broken files fail with exit 1 and precise lines;
# bad usage exits 2.
set -euo pipefail
cd "$OM_SOURCE_DIR"
om="$OM_BIN/officemeter"
fail() { echo "FAIL: $*" >&2; exit 1; }
# Output is matched with grep <<<"$x", not echo "$x" | grep -q: under
# pipefail, grep -q leaving early can kill the echo with SIGPIPE and fail
# the pipeline although the line was there (seen under ASan, on a loaded
# machine).

out=$($om check sites firmware-config 2>&1) || fail "shipped files do not pass: $out"
grep -q '^ok: 14 meter models, [0-9]* sites, 1 factor files, 1 policy files, 1 agent configs, [0-9]* aggregator configs, [0-9]* web configs, [0-9]* bill files, 1 alert policies; 0 errors$' <<<"$out" \
  || fail "unexpected summary: $out"

# The default paths are sites and firmware-config.
$om check >/dev/null 2>&1 || fail "check without arguments does not pass"

set +e
err=$($om check tests/data/broken 2>&1 >/dev/null); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "broken files: exit $rc, expected 1"
grep -qF 'tests/data/broken/sites/badsite.yaml:21:61: meters[3].untis_id: unknown key' <<<"$err" \
  || fail "typo'd key not reported with its position: $err"
grep -qF 'tests/data/broken/sites/badsite.yaml:20:46: meters[2].gateway: unknown gateway (got "gw2", expected one of gw1)' <<<"$err" \
  || fail "unknown gateway not reported: $err"
grep -q '^failed: .*; [0-9]* errors$' <<<"$err" || fail "no summary line: $err"

set +e
$om check --no-such-option >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad option: exit $rc, expected 2"
grep -q '^usage: officemeter check' <<<"$($om check --help)" || fail "--help"
grep -q 'check' <<<"$($om --help)" || fail "officemeter --help lists no commands"

# Site files with no catalogue to resolve their models against (run from a
# folder without firmware-config/, nothing installed): an error, not "ok".
empty=$(mktemp -d)
set +e
out=$(cd "$empty" && $om check --catalogue "$empty/none" "$OM_SOURCE_DIR/sites" 2>&1); rc=$?
set -e
rmdir "$empty"
[ "$rc" -eq 1 ] || fail "no catalogue: exit $rc, expected 1: $out"
grep -q "meters cannot be checked (give --catalogue DIR)" <<<"$out" || fail "no catalogue: $out"

# Hostile files (issue 13, defect 10). `officemeter check` and the
# aggregator's --check take the same files of a sites folder as site files:
# one that lost its `site:` key fails both.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/sites"
cp sites/london.yaml "$work/sites/"
sed '/^site:/d' sites/london.yaml >"$work/sites/lost.yaml"
printf 'sites_dir: %s/sites\ncatalogue: %s/firmware-config/meters\ndatabase: %s/agg.db\nbroker: {uri: mqtt://127.0.0.1}\n' \
    "$work" "$OM_SOURCE_DIR" "$work" >"$work/agg.yaml"
set +e
out=$("$OM_BIN/officemeter-aggregator" --config "$work/agg.yaml" --check 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "aggregator --check passed a site file without site: ($out)"
grep -qF "$work/sites/lost.yaml:" <<<"$out" || fail "aggregator --check: $out"
set +e
out=$($om check "$work/sites" 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] && grep -qF "lost.yaml" <<<"$out" || fail "check passed lost.yaml: $out"

# A YAML syntax error in an agent config is that error alone (no false
# "no meter models" line), from a folder without a catalogue.
printf 'site_file: x.yaml\ngateway: [gw1\n' >"$work/agent.yaml"
set +e
out=$(cd "$work" && $om check "$work/agent.yaml" 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "syntax error: exit $rc"
grep -q 'YAML syntax error' <<<"$out" && ! grep -q 'no meter models' <<<"$out" &&
    grep -q '; 1 error$' <<<"$out" || fail "syntax error not alone: $out"

# 100 000 levels of nesting are refused at once (they took minutes), a NUL
# inside a string is an error naming the key.
python3 -c "import sys; n = 100000; sys.stdout.write('site: ' + '[' * n + ']' * n + '\n')" >"$work/deep.yaml"
start=$(date +%s%N)
set +e
out=$($om check "$work/deep.yaml" 2>&1); rc=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 1 ] && grep -q 'nested deeper than 32 levels' <<<"$out" || fail "deep nesting: $out"
[ "$ms" -lt 5000 ] || fail "deep nesting took $ms ms"
printf 'site: "sg-it\\0evil"\nname: x\n' >"$work/nul.yaml"
set +e
out=$($om check "$work/nul.yaml" 2>&1); rc=$?
set -e
grep -qF "nul.yaml:1:7: site: contains a NUL character" <<<"$out" || fail "NUL: $out"
echo "ok"
