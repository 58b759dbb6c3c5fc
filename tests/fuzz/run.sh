#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer target for a bounded time from its corpus (the test
# fuzz.NAME; scripts/fuzz runs them all).
#
#   run.sh BINARY NAME SECONDS WORK DICT COMMITTED [SEED...]
#
# The working corpus WORK/corpus/NAME grows from run to run; the committed
# inputs (COMMITTED, a folder) and the SEED fixtures are read as well. A
# crash, a leak, a timeout (25 s for one input) or an out-of-memory ends the
# run: its reproducer is WORK/artifacts/NAME-*, the exit status is 1 and
# the last lines say how to replay it. The figures of the run (executions,
# coverage, corpus) go to WORK/stats/NAME.
set -euo pipefail
bin=$1 name=$2 seconds=$3 work=$4 dict=$5 committed=$6
shift 6
mkdir -p "$work/corpus/$name" "$work/seeds/$name" "$work/artifacts" "$work/stats" "$work/logs"
rm -f "$work/seeds/$name"/*
for seed in "$@"; do
    cp "$seed" "$work/seeds/$name/$(basename "$(dirname "$seed")")-$(basename "$seed")"
done
dirs=("$work/corpus/$name" "$work/seeds/$name")
[ -d "$committed" ] && dirs+=("$committed")
args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=65536
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-")
[ -n "$dict" ] && args+=(-dict="$dict")
log="$work/logs/$name.log"
rc=0
"$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?
# libFuzzer's final statistics: stat::number_of_executed_units etc.
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
units=$(find "$work/corpus/$name" -type f | wc -l)
echo "$name ${execs:-0} ${cov:-0} ${ft:-0} $units $rc" >"$work/stats/$name"
if [ "$rc" -ne 0 ]; then
    tail -40 "$log" >&2
    artifact=$(ls -t "$work/artifacts/$name-"* 2>/dev/null | head -1 || true)
    echo "FAIL: fuzz target $name: exit $rc; reproducer: ${artifact:-none}" >&2
    [ -n "$artifact" ] && echo "replay: $bin $artifact" >&2
    exit 1
fi
echo "fuzz $name: ${execs:-0} executions in ${seconds}s, coverage ${cov:-0} edges, ${ft:-0} features, corpus $units"
