#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_disk_full.sh - the agent's outbox on a small disk that fills up
# (issue 13, defect 8: 264 polls used to go with one rate-limited line and
# no word when space came back).
#
# The outbox lives on an 8 MiB tmpfs (root only: otherwise SKIP). With the
# aggregator's acknowledgements paused, so that the outbox must grow, the
# disk is filled to the last byte for about five seconds, then freed. The
# agent must say once that it cannot store and once that it stores again,
# keep the newest poll of each meter in memory meanwhile and store it when
# space returns, count what it let go of in health, and lose nothing it had
# stored: every seq arrives, and every poll polled is stored or counted lost.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup
om_require_root "it mounts a small tmpfs to fill"
om_mount_tmpfs "$OM_TMP/disk" 8m

om_start_office_agent_rig
OM_AGENT_DELIVERY="{resend_after_s: 2, connect_timeout_s: 5, reconnect_min_ms: 100, reconnect_max_s: 1}" \
OM_AGENT_INTERVALS="{counters_s: 2, instant_s: 1, health_s: 1, backoff_max_s: 4}" \
    om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
sed -i "s#^outbox: .*#outbox: $OM_TMP/disk/outbox.db#" "$OM_TMP/agent.yaml"
om_start_agent "$OM_TMP/agent.yaml" "${OM_BUSES[@]}"
om_wait_lines "$OM_TMP/polls.jsonl" 10

touch "$OM_TMP/ack.pause"
om_fill_disk "$OM_TMP/disk"
full_ms=$(($(date +%s%N) / 1000000))
for i in $(seq 1 100); do
    grep -q "cannot store" "$OM_TMP/agent.log" && break
    sleep 0.1
done
grep -q "cannot store" "$OM_TMP/agent.log" || om_fail "the outbox never failed on the full disk"
sleep 4
om_health_field sim-office gw1 delivery >"$OM_TMP/delivery.full"
rm -f "$OM_TMP/disk/filler" "$OM_TMP/disk/filler.tail"
freed_ms=$(($(date +%s%N) / 1000000))
sleep 2
rm "$OM_TMP/ack.pause"
sleep 4
om_stop_agent
sleep 0.5

# What matters first: nothing stored was lost, and each meter's newest
# poll from while the disk was full was kept and delivered.
h=$(om_agent_health sim-office gw1)
epoch=$(echo "$h" | python3 -c 'import json,sys; print(json.load(sys.stdin)["outbox"]["epoch"])')
last=$(echo "$h" | python3 -c 'import json,sys; print(json.load(sys.stdin)["outbox"]["next_seq"] - 1)')
om_check_seqs "$OM_TMP/polls.jsonl" "$epoch" "$last"
python3 - "$OM_TMP/polls.jsonl" "$full_ms" "$freed_ms" <<'PY' || om_fail "the newest poll of each meter was not kept through the full disk"
import json, sys
polls = [json.loads(l) for l in open(sys.argv[1])]
full, freed = int(sys.argv[2]), int(sys.argv[3])
for m in ("main", "hvac", "lifts", "water", "kitchen-water"):
    during = [p for p in polls if p["meter"] == m and full + 1500 < p["t"] < freed]
    assert during, "%s: no poll from while the disk was full" % m
PY

# Then what health and the log say.
python3 - "$OM_TMP/delivery.full" <<'PY' || om_fail "health while the disk was full: $(cat "$OM_TMP/delivery.full")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["storing"] is False and d["store_failures"] >= 2 and d["lost"] >= 1, d
assert 1 <= d["held"] <= 2 * 5, d  # at most two polls per meter
PY
echo "$h" | python3 -c 'import json, sys
h = json.load(sys.stdin)
d = h["delivery"]
polled = sum(m["polls"] for m in h["meters"].values())
assert d["storing"] is True and d["held"] == 0 and d["lost"] >= 1, d
assert polled == d["stored"] + d["lost"] + d["unstamped"], (polled, d)
assert h["outbox"]["polls"] == 0, h["outbox"]
print("polled %d: stored %d, lost %d" % (polled, d["stored"], d["lost"]), file=sys.stderr)
' || om_fail "health after the disk was freed: $h"
n=$(grep -c "cannot store polls in the outbox" "$OM_TMP/agent.log" || true)
[ "$n" -eq 1 ] || om_fail "the failure to store was logged $n times, expected once"
n=$(grep -c "storing polls in the outbox again" "$OM_TMP/agent.log" || true)
[ "$n" -eq 1 ] || om_fail "the recovery was logged $n times, expected once"
echo "PASS"
