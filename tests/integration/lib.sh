# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared helpers for the integration tests (source it, then call
# om_setup). Every process a test starts is registered with om_track and
# stopped by the EXIT trap; every temporary file lives under $OM_TMP.
#
#   . "$(dirname "$0")/lib.sh"
#   om_setup
#   port=$(om_free_port)
#   om_pty_pair "$OM_TMP/sim.tty" "$OM_TMP/client.tty"
#   "$OM_BIN/officemeter" sim ... --ready-file "$OM_TMP/ready" & om_track $!
#   om_wait_file "$OM_TMP/ready" 10 $!

OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OM_BIN=${OM_BIN:-$OM_SOURCE_DIR/build/bin}
OM_TRACKED_PIDS=()
OM_MOUNTS=()
OM_AT_EXIT=()
OM_TMP=

om_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

om_log() {
    echo "--- $*" >&2
}

# Registers a background process to be stopped at exit.
om_track() {
    OM_TRACKED_PIDS+=("$1")
}

# Stops one tracked process: TERM, up to 5 s, then KILL.
om_stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

om_cleanup() {
    local rc=$? pid mnt cmd
    for pid in "${OM_TRACKED_PIDS[@]}"; do
        om_stop_pid "$pid"
    done
    for cmd in ${OM_AT_EXIT[@]+"${OM_AT_EXIT[@]}"}; do
        eval "$cmd" || true
    done
    for mnt in ${OM_MOUNTS[@]+"${OM_MOUNTS[@]}"}; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    done
    if [ -n "$OM_TMP" ] && [ -d "$OM_TMP" ]; then
        if [ "$rc" -ne 0 ] && [ -n "${OM_KEEP_TMP:-}" ]; then
            echo "kept $OM_TMP" >&2
        else
            rm -rf "$OM_TMP"
        fi
    fi
    return "$rc"
}

# Creates $OM_TMP and installs the cleanup trap.
om_setup() {
    OM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/officemeter-test.XXXXXX")
    trap om_cleanup EXIT
    trap 'exit 130' INT TERM
}

# True when the programs under test are a sanitizer build (ASan + UBSan run
# them two to five times slower): tests that race a simulated clock slow it
# down there.
om_sanitized() {
    grep -q '^OM_SANITIZE:BOOL=ON' "${OM_BUILD_DIR:-.}/CMakeCache.txt" 2>/dev/null
}

# Tests that need root (a mount) call this first: when not root it prints a
# SKIP line and exits 77, which ctest reports as skipped (SKIP_RETURN_CODE).
om_require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: $(basename "$0") needs root ($*); CI runs the tests as root"
        exit 77
    fi
}

# Mounts a tmpfs of SIZE (e.g. 16m) on DIR (created), unmounted at exit:
# a small disk that a test can fill.
om_mount_tmpfs() {
    local dir=$1 size=$2
    mkdir -p "$dir"
    mount -t tmpfs -o "size=$size,mode=0755" tmpfs "$dir" || om_fail "cannot mount a tmpfs on $dir"
    OM_MOUNTS+=("$dir")
}

# Fills the file system of DIR to the last byte: DIR/room (ROOM_MB, default
# 0, MiB: what a test frees later to give a little space back), then
# DIR/filler with the rest.
om_fill_disk() {
    local dir=$1 room=${2:-0}
    [ "$room" -eq 0 ] || dd if=/dev/zero of="$dir/room" bs=1M count="$room" 2>/dev/null ||
        om_fail "no room for $room MiB in $dir"
    dd if=/dev/zero of="$dir/filler" bs=64k 2>/dev/null || true
    dd if=/dev/zero of="$dir/filler.tail" bs=512 2>/dev/null || true
}

# A TCP port on 127.0.0.1 that was free a moment ago.
# A free loopback TCP port, never one this test was given before (the
# kernel may hand out a port again once it is closed, and two buses of one
# simulator on the same port would be a confusing failure).
om_free_port() {
    [ -n "$OM_TMP" ] || om_fail "om_free_port before om_setup"
    python3 - "$OM_TMP/ports.given" <<'PY'
import os, socket, sys
record = sys.argv[1]
given = set(open(record).read().split()) if os.path.exists(record) else set()
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = str(s.getsockname()[1])
    s.close()
    if port not in given:
        break
with open(record, "a") as f:
    f.write(port + "\n")
print(port)
PY
}

# Waits until FILE exists and is not empty. Fails after TIMEOUT seconds
# (default 10), or at once when PID (optional) has exited.
om_wait_file() {
    local file=$1 timeout=${2:-10} pid=${3:-} i
    for i in $(seq 1 $((timeout * 20))); do
        [ -s "$file" ] && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            om_fail "process $pid exited before $file appeared"
        fi
        sleep 0.05
    done
    om_fail "timed out after ${timeout}s waiting for $file"
}

# Waits until PID exits (TIMEOUT seconds, default 10); its status goes to
# OM_EXIT_STATUS.
om_wait_exit() {
    local pid=$1 timeout=${2:-10} i
    for i in $(seq 1 $((timeout * 20))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            OM_EXIT_STATUS=0
            wait "$pid" || OM_EXIT_STATUS=$?
            return 0
        fi
        sleep 0.05
    done
    om_fail "process $pid still running after ${timeout}s"
}

# A pseudo-terminal pair joined by socat, reachable as the links A and B.
om_pty_pair() {
    local a=$1 b=$2
    socat -d -d "pty,raw,echo=0,link=$a" "pty,raw,echo=0,link=$b" 2>"$OM_TMP/socat.$$.$RANDOM.log" &
    om_track $!
    local i
    for i in $(seq 1 100); do
        [ -e "$a" ] && [ -e "$b" ] && return 0
        sleep 0.05
    done
    om_fail "socat did not create $a and $b"
}

# Starts `officemeter sim ARGS...` in the background, waits until it
# listens, and sets OM_SIM_PID. The ready file is $OM_TMP/sim.ready.N.
om_start_sim() {
    local ready="$OM_TMP/sim.ready.$RANDOM"
    "$OM_BIN/officemeter" sim --ready-file "$ready" "$@" 2>>"$OM_TMP/sim.log" &
    OM_SIM_PID=$!
    om_track "$OM_SIM_PID"
    if ! (om_wait_file "$ready" 10 "$OM_SIM_PID"); then
        cat "$OM_TMP/sim.log" >&2
        om_fail "the simulator did not become ready"
    fi
}

# The test office (tests/data/sites/sim-office.yaml) served by the simulator
# on two loopback TCP ports, one per bus. Sets OM_SITE, OM_RTU_PORT,
# OM_LAN_PORT and OM_BUSES, the matching --bus overrides for an agent or a
# probe. Extra arguments go to the simulator.
om_start_office_sim() {
    OM_SITE="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
    OM_RTU_PORT=$(om_free_port)
    OM_LAN_PORT=$(om_free_port)
    OM_BUSES=(--bus rs485-1=tcp:127.0.0.1:"$OM_RTU_PORT" --bus lan=tcp:127.0.0.1:"$OM_LAN_PORT")
    om_start_sim --site "$OM_SITE" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
        "${OM_BUSES[@]}" "$@"
}

# tests/data/sites/all-models.yaml (a meter of every catalogue model) served
# by the simulator: its RS-485 bus on a pseudo-terminal pair, its LAN bus on
# a loopback port, time frozen at START. Sets OM_SITE, OM_CATALOGUE,
# OM_STATE (the simulator's state file), OM_LAN_PORT and OM_BUSES, the --bus
# overrides for a client on the other end. Extra arguments go to the simulator.
om_start_all_models_sim() {
    local start=$1
    shift
    OM_SITE="$OM_SOURCE_DIR/tests/data/sites/all-models.yaml"
    OM_CATALOGUE="$OM_SOURCE_DIR/firmware-config/meters"
    OM_STATE="$OM_TMP/state.json"
    om_pty_pair "$OM_TMP/sim.tty" "$OM_TMP/client.tty"
    OM_LAN_PORT=$(om_free_port)
    OM_BUSES=(--bus "rs485=rtu:$OM_TMP/client.tty" --bus "lan=tcp:127.0.0.1:$OM_LAN_PORT")
    om_start_sim --site "$OM_SITE" --catalogue "$OM_CATALOGUE" --speed 0 \
        --bus "rs485=rtu:$OM_TMP/sim.tty" --bus "lan=tcp:127.0.0.1:$OM_LAN_PORT" \
        --start "$start" --state "$OM_STATE" "$@"
}

# om_check_registers STATE METER QUANTITY TYPE SCALE WORDS...: the words
# (hex, big-endian, as om_mbpoll_words prints them) decoded as TYPE (f32 or
# an unsigned integer) times SCALE equal exactly the register value the
# simulator's state file gives for METER's QUANTITY.
om_check_registers() {
    python3 - "$@" <<'PY'
import json, struct, sys
state, meter, qty, typ, scale = sys.argv[1:6]
words = [int(w, 16) for w in sys.argv[6:]]
raw = b"".join(struct.pack(">H", w) for w in words)
if typ == "f32":
    value = struct.unpack(">f", raw)[0] * float(scale)
else:
    value = int.from_bytes(raw, "big") * float(scale)
expect = json.load(open(state))["meters"][meter]["registers"][qty]
if expect is None or value != expect:
    sys.exit(f"{meter}.{qty}: registers {sys.argv[6:]} decode to {value!r}, state says {expect!r}")
print(f"ok {meter}.{qty} = {value!r}")
PY
}

# Reads registers with mbpoll and prints them as hex words on one line
# ("0005 B639 ..."); fails the test when mbpoll reports an error.
# Usage: om_mbpoll_words MBPOLL-ARGS... (without -t; pass -T 3 or -T 4 first
# for input or holding registers). Example:
#   om_mbpoll_words -T 3 -m tcp -p "$port" -a 1 -r 73 -c 2 127.0.0.1
om_mbpoll_words() {
    local table=3
    if [ "$1" = "-T" ]; then
        table=$2
        shift 2
    fi
    local out
    out=$(mbpoll -t "$table:hex" -1 -o 1 "$@" 2>&1) || om_fail "mbpoll $* failed: $(echo "$out" | tail -1)"
    echo "$out" | sed -n 's/^\[[0-9]*\]:[[:space:]]*0x\([0-9A-Fa-f]*\)[[:space:]]*$/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

# Runs mbpoll expecting it to fail; prints its last error line (stderr).
om_mbpoll_error() {
    local table=3
    if [ "$1" = "-T" ]; then
        table=$2
        shift 2
    fi
    local out
    if out=$(mbpoll -t "$table:hex" -1 "$@" 2>&1 >/dev/null); then
        om_fail "mbpoll $* succeeded, expected an error"
    fi
    echo "$out" | grep -v '^$' | tail -1
}

# Compares `officemeter probe --json` output (file PROBE) for METER with the
# simulator's state file STATE: the same quantities, every value equal
# exactly (null where the simulator serves none), no read errors.
om_compare_probe() {
    local state=$1 probe=$2 meter=$3
    python3 - "$state" "$probe" "$meter" <<'PY' || om_fail "probe of $meter differs from the simulator (see above)"
import json, sys
state_path, probe_path, meter = sys.argv[1:4]
with open(state_path) as f:
    expected = json.load(f)["meters"][meter]["registers"]
with open(probe_path) as f:
    probe = json.load(f)
problems = []
if probe.get("meter") != meter:
    problems.append("probe answered for meter %r" % probe.get("meter"))
if probe.get("errors"):
    problems.append("read errors: %r" % probe["errors"])
values = probe.get("values", {})
if set(values) != set(expected):
    problems.append("quantities differ: probe %s, simulator %s" % (sorted(values), sorted(expected)))
for q in sorted(set(values) & set(expected)):
    got, want = values[q], expected[q]
    if got != want:
        problems.append("%s: probe %r, simulator %r" % (q, got, want))
for p in problems:
    print("%s: %s" % (meter, p), file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# ---- agent tests: broker, acknowledging subscriber, agent config ----------

# Starts mosquitto on a free loopback port and sets OM_BROKER_PORT and
# OM_BROKER_PID. Pass "persist" to keep messages across restarts (in
# $OM_TMP/broker-data/). A second start reuses the port. Lines in
# OM_BROKER_EXTRA are added to the config (they may replace
# allow_anonymous, which is true unless OM_BROKER_EXTRA sets it).
om_start_broker() {
    local persist=${1:-}
    OM_BROKER_PORT=${OM_BROKER_PORT:-$(om_free_port)}
    mkdir -p "$OM_TMP/broker-data"
    {
        echo "listener $OM_BROKER_PORT 127.0.0.1"
        # Started as root, mosquitto would switch to user "mosquitto", who
        # cannot read the test's private folder.
        echo "user $(id -un)"
        case "${OM_BROKER_EXTRA:-}" in
            *allow_anonymous*) ;;
            *) echo "allow_anonymous true" ;;
        esac
        [ -z "${OM_BROKER_EXTRA:-}" ] || echo "$OM_BROKER_EXTRA"
        if [ "$persist" = persist ]; then
            echo "persistence true"
            echo "persistence_location $OM_TMP/broker-data/"
            echo "autosave_interval 1"
        else
            echo "persistence false"
        fi
    } >"$OM_TMP/mosquitto.conf"
    mosquitto -c "$OM_TMP/mosquitto.conf" >>"$OM_TMP/mosquitto.log" 2>&1 &
    OM_BROKER_PID=$!
    om_track "$OM_BROKER_PID"
    local i
    for i in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$OM_BROKER_PORT") 2>/dev/null; then
            return 0
        fi
        kill -0 "$OM_BROKER_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$OM_TMP/mosquitto.log" >&2
    om_fail "mosquitto did not start on port $OM_BROKER_PORT"
}

om_stop_broker() {
    om_stop_pid "$OM_BROKER_PID"
}

# Starts the acknowledging subscriber (agent_ack.py) for every readings topic
# on the broker; polls go to FILE as JSON lines. While $OM_TMP/ack.pause
# exists nothing is acknowledged. Sets OM_ACK_PID.
om_start_ack() {
    local file=$1 fifo="$OM_TMP/ack.fifo.$RANDOM"
    : >"$file"
    mkfifo "$fifo"
    # Two tracked processes joined by a FIFO (not a pipeline in a subshell),
    # so the cleanup trap stops both by their ids.
    python3 "$OM_SOURCE_DIR/tests/integration/agent_ack.py" "$OM_BROKER_PORT" "$file" \
        "$OM_TMP/ack.pause" <"$fifo" 2>>"$OM_TMP/ack.log" &
    OM_ACK_PY_PID=$!
    om_track "$OM_ACK_PY_PID"
    mosquitto_sub -h 127.0.0.1 -p "$OM_BROKER_PORT" -q 1 -v -t 'officemeter/v1/+/+/readings' \
        >"$fifo" 2>>"$OM_TMP/ack.log" &
    OM_ACK_PID=$!
    om_track "$OM_ACK_PID"
    sleep 0.3 # let mosquitto_sub subscribe
}

om_stop_ack() {
    om_stop_pid "$OM_ACK_PID"
    om_stop_pid "$OM_ACK_PY_PID"
}

# Writes an agent config: om_agent_config FILE SITE GATEWAY [EXTRA-YAML].
# Polls every 1 s (counters every 2 s), health every 1 s, fast reconnects;
# OM_AGENT_INTERVALS and OM_AGENT_DELIVERY replace those two mappings.
om_agent_config() {
    local file=$1 site=$2 gateway=$3 extra=${4:-}
    cat >"$file" <<YAML
site_file: $site
gateway: $gateway
catalogue: $OM_SOURCE_DIR/firmware-config/meters
outbox: $OM_TMP/outbox.db
broker: {uri: "mqtt://127.0.0.1:$OM_BROKER_PORT", client_id: test-agent}
intervals: ${OM_AGENT_INTERVALS:-{counters_s: 2, instant_s: 1, health_s: 1, backoff_max_s: 4\}}
delivery: ${OM_AGENT_DELIVERY:-{resend_after_s: 3, connect_timeout_s: 5, reconnect_min_ms: 100, reconnect_max_s: 1\}}
log_level: info
$extra
YAML
}

# What most agent tests start from: mosquitto, the test office served by the
# simulator (om_start_office_sim), the ack player recording every poll in
# $OM_TMP/polls.jsonl, and $OM_TMP/agent.yaml for gateway gw1 (with
# OM_AGENT_INTERVALS and OM_AGENT_DELIVERY as om_agent_config takes them).
# Sets site to the office's site file.
om_start_office_agent_rig() {
    site="$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml"
    om_start_broker
    om_start_office_sim
    om_start_ack "$OM_TMP/polls.jsonl"
    om_agent_config "$OM_TMP/agent.yaml" "$site" gw1
}

# Number of lines of FILE (0 when missing).
om_count_lines() {
    if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# Waits until FILE has at least N lines (TIMEOUT seconds, default 20).
om_wait_lines() {
    local file=$1 n=$2 timeout=${3:-20} i
    for i in $(seq 1 $((timeout * 10))); do
        [ "$(om_count_lines "$file")" -ge "$n" ] && return 0
        sleep 0.1
    done
    om_fail "timed out after ${timeout}s waiting for $n lines in $file (have $(om_count_lines "$file"))"
}

# The retained health message of SITE/GATEWAY (JSON on stdout).
om_agent_health() {
    mosquitto_sub -h 127.0.0.1 -p "$OM_BROKER_PORT" -t "officemeter/v1/$1/$2/health" -C 1 -W 5
}

# Compares the polls received (JSON lines from om_start_ack) with the
# simulator's state file: for every meter listed (all of the state's when
# none), the last poll received carries exactly the registers' values (a
# quantity the state shows as null must be absent). Fails the test otherwise.
om_compare_agent_polls() {
    local state=$1 polls=$2
    shift 2
    python3 - "$state" "$polls" "$@" <<'PY' || om_fail "published values differ from the simulator (see above)"
import json, sys
state = json.load(open(sys.argv[1]))["meters"]
polls = [json.loads(l) for l in open(sys.argv[2])]
meters = sys.argv[3:] or sorted(state)
last = {}
for p in polls:
    last[p["meter"]] = p
problems = []
for m in meters:
    want = {k: v for k, v in state[m]["registers"].items() if v is not None}
    if m not in last:
        problems.append("%s: no poll received" % m)
        continue
    got = last[m]["values"]
    if set(got) != set(want):
        problems.append("%s: quantities differ: published %s, simulator %s" % (m, sorted(got), sorted(want)))
    for q in sorted(set(got) & set(want)):
        if got[q] != want[q]:
            problems.append("%s: %s published %r, simulator %r" % (m, q, got[q], want[q]))
for p in problems:
    print(p, file=sys.stderr)
print("compared %d meters with the simulator" % len(meters), file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# Starts officemeter-agent CONFIG [ARGS...] in the background (stderr to
# $OM_TMP/agent.log) and sets OM_AGENT_PID.
om_start_agent() {
    local config=$1
    shift
    env ${OM_AGENT_ENV[@]+"${OM_AGENT_ENV[@]}"} \
        "$OM_BIN/officemeter-agent" --config "$config" "$@" 2>>"$OM_TMP/agent.log" &
    OM_AGENT_PID=$!
    om_track "$OM_AGENT_PID"
    trap om_agent_on_exit EXIT
}

# EXIT trap once an agent was started: on failure, show the end of the
# agent's log, then clean up as om_cleanup does, passing it the status (it
# reads $?; the || keeps `set -e` from ending the trap early).
om_agent_on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ -f "$OM_TMP/agent.log" ]; then
        tail -40 "$OM_TMP/agent.log" >&2
    fi
    if [ "$rc" -eq 0 ]; then
        om_return 0
        om_cleanup
    else
        om_return "$rc" || om_cleanup
    fi
}

om_return() {
    return "$1"
}

# Stops the agent with SIGTERM and fails unless it exits 0 within 10 s.
om_stop_agent() {
    kill -TERM "$OM_AGENT_PID"
    om_wait_exit "$OM_AGENT_PID" 10
    [ "$OM_EXIT_STATUS" -eq 0 ] || { tail -20 "$OM_TMP/agent.log" >&2; om_fail "the agent exited $OM_EXIT_STATUS after SIGTERM"; }
}

# Checks the polls received (JSON lines from om_start_ack) of one epoch:
# every seq from 1 (or FIRST) to LAST arrived, and a seq received twice is
# the same poll (a resend), never a different one.
# Usage: om_check_seqs POLLS EPOCH LAST [FIRST]
om_check_seqs() {
    python3 - "$@" <<'PY' || om_fail "sequence check failed (see above)"
import json, sys
path, epoch, last = sys.argv[1], sys.argv[2], int(sys.argv[3])
first = int(sys.argv[4]) if len(sys.argv) > 4 else 1
by_seq, dups = {}, 0
for line in open(path):
    p = json.loads(line)
    if p["epoch"] != epoch:
        continue
    key = (p["meter"], p["t"], json.dumps(p["values"], sort_keys=True))
    if p["seq"] in by_seq:
        dups += 1
        if by_seq[p["seq"]] != key:
            sys.exit("seq %d received as two different polls: %r and %r" % (p["seq"], by_seq[p["seq"]], key))
    by_seq[p["seq"]] = key
missing = [s for s in range(first, last + 1) if s not in by_seq]
if missing:
    sys.exit("%d of seq %d..%d never arrived, e.g. %s" % (len(missing), first, last, missing[:10]))
print("seq %d..%d all received (%d resent duplicates, all identical)" % (first, last, dups), file=sys.stderr)
PY
}

# A field of the retained health message, e.g. om_health_field SITE GW outbox.polls
om_health_field() {
    om_agent_health "$1" "$2" | python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(json.dumps(v))' "$3"
}

# ---- MQTT broker and aggregator ------------------------------------------

# Writes an aggregator config FILE for broker PORT: sites from SITES_DIR,
# the shipped catalogue, database $OM_TMP/agg.db (or $OM_AGG_DB: a file or
# a postgresql:// URI), client id agg-test-PID (or $OM_AGG_CLIENT), commits
# every 50 ms (or $OM_AGG_COMMIT_MS), plus any extra lines.
om_write_agg_config() {
    local file=$1 port=$2 sites=$3
    shift 3
    {
        echo "sites_dir: $sites"
        echo "catalogue: $OM_SOURCE_DIR/firmware-config/meters"
        echo "database: \"${OM_AGG_DB:-$OM_TMP/agg.db}\""
        echo "broker: {uri: mqtt://127.0.0.1:$port, client_id: ${OM_AGG_CLIENT:-agg-test-$$}}"
        echo "commit_interval_ms: ${OM_AGG_COMMIT_MS:-50}"
        local line
        for line in "$@"; do echo "$line"; done
    } >"$file"
}

# Starts officemeter-aggregator with CONFIG, waits for its ready file; sets
# OM_AGG_PID. Log: $OM_TMP/aggregator.log (appended).
om_start_aggregator() {
    local config=$1 ready="$OM_TMP/agg.ready.$RANDOM"
    "$OM_BIN/officemeter-aggregator" --config "$config" --ready-file "$ready" \
        2>>"$OM_TMP/aggregator.log" &
    OM_AGG_PID=$!
    om_track "$OM_AGG_PID"
    if ! (om_wait_file "$ready" 10 "$OM_AGG_PID"); then
        cat "$OM_TMP/aggregator.log" >&2
        om_fail "the aggregator did not become ready"
    fi
}

# An aggregator on a copy of the test office's site file ($OM_TMP/sites),
# the broker on $OM_BROKER_PORT and the database $OM_AGG_DB (default
# $OM_TMP/agg.db; OM_DB); subscribed when this returns. Extra arguments are
# extra config lines.
om_start_office_aggregator() {
    mkdir -p "$OM_TMP/sites"
    cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_TMP/sites/"
    om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites" "$@"
    om_start_aggregator "$OM_TMP/agg.yaml"
    OM_DB="${OM_AGG_DB:-$OM_TMP/agg.db}"
    om_wait_aggregator_subscribed "$OM_BROKER_PORT" sim-office gw1 "$OM_DB"
}

# The rig of the aggregator tests: a broker that queues up to 100 000
# messages per client (their bursts are larger than mosquitto's default
# queue) and the test office's aggregator on it (om_start_office_aggregator:
# OM_BROKER_PORT, OM_DB). Extra arguments are extra aggregator config lines.
om_start_aggregator_rig() {
    OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
    om_start_office_aggregator "$@"
}

# agg_replay.py, the stand-in gateway that keeps every poll until it is
# acknowledged (see its --help).
om_replay() {
    python3 "$OM_SOURCE_DIR/tests/integration/agg_replay.py" "$@"
}

# om_start_burst EPOCH POLLS VALUES AFTER [agg_replay.py args...]: the
# stand-in gateway sends POLLS polls of VALUES readings each (100 polls a
# message, 20 messages in flight, resent after 1.5 s) in the background,
# and this returns once AFTER messages are acknowledged: the moment to break
# something. Sets OM_BURST_PID; the rows it expects stored are in
# $OM_TMP/burst.rows, its summary goes to $OM_TMP/burst.json.
om_start_burst() {
    local epoch=$1 polls=$2 values=$3 after=$4
    shift 4
    om_replay publish --port "$OM_BROKER_PORT" --epoch "$epoch" --polls "$polls" \
        --per-message 100 --values "$values" --resend-s 1.5 --window 20 \
        --expected "$OM_TMP/burst.rows" --progress "$OM_TMP/progress" --progress-after "$after" \
        --timeout 60 "$@" >"$OM_TMP/burst.json" &
    OM_BURST_PID=$!
    om_track "$OM_BURST_PID"
    om_wait_file "$OM_TMP/progress" 20 "$OM_BURST_PID"
}

# Publishes a retained birth for SITE/GATEWAY on PORT and waits until the
# aggregator has stored it: from then on its subscriptions are active.
om_wait_aggregator_subscribed() {
    local port=$1 site=$2 gw=$3 db=$4 i
    mosquitto_pub -p "$port" -q 1 -r -t "officemeter/v1/$site/$gw/status" \
        -m '{"v":1,"state":"online"}' || om_fail "mosquitto_pub to port $port failed"
    for i in $(seq 1 200); do
        if "$OM_BIN/officemeter" status --db "$db" --stale 100000000 2>/dev/null |
            grep -Eq "^$site +$gw +online"; then
            return 0
        fi
        sleep 0.05
    done
    cat "$OM_TMP/aggregator.log" >&2
    om_fail "the aggregator did not store the birth of $site/$gw"
}

# Runs an SQL query on the aggregator's database (read-only) and prints rows.
# om_expect_fail STATUS CMD ARGS...: CMD exits STATUS with exactly one line
# on stderr, which names the command ("officemeter ...").
om_expect_fail() {
    local want=$1 rc=0
    shift
    "$@" >/dev/null 2>"$OM_TMP/expect_fail.err" || rc=$?
    [ "$rc" = "$want" ] || om_fail "$*: exit $rc, expected $want: $(cat "$OM_TMP/expect_fail.err")"
    [ "$(wc -l <"$OM_TMP/expect_fail.err")" = 1 ] ||
        om_fail "$*: expected one line on stderr, got: $(cat "$OM_TMP/expect_fail.err")"
    grep -q "^officemeter " "$OM_TMP/expect_fail.err" || om_fail "$*: $(cat "$OM_TMP/expect_fail.err")"
}

om_sql() {
    python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
db.execute("PRAGMA busy_timeout = 5000")
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

# ---- the web view -------------------------------------------------------------

# A generated portfolio for the web tests (tests/bench/bench_web_gen.c):
# om_web_portfolio SITES METERS FROM UNTIL INTERVAL_S writes the site files
# to $OM_TMP/sites and the readings (with their hourly aggregates) to
# $OM_TMP/agg.db (OM_DB).
om_web_portfolio() {
    mkdir -p "$OM_TMP/sites"
    OM_DB="$OM_TMP/agg.db"
    "$OM_BUILD_DIR/bench/bench_web_gen" "$OM_DB" "$OM_TMP/sites" "$@" >"$OM_TMP/gen.out" ||
        om_fail "bench_web_gen $* failed"
}

# Writes web.yaml FILE for the portfolio of om_web_portfolio on a free
# loopback port (OM_WEB_PORT), plus any extra lines.
om_web_config() {
    local file=$1
    shift
    OM_WEB_PORT=${OM_WEB_PORT:-$(om_free_port)}
    {
        echo "database: $OM_DB"
        echo "sites_dir: $OM_TMP/sites"
        echo "catalogue: $OM_SOURCE_DIR/firmware-config/meters"
        echo "listen: 127.0.0.1:$OM_WEB_PORT"
        local line
        for line in "$@"; do echo "$line"; done
    } >"$file"
}

# Starts officemeter-web with CONFIG [ARGS...], waits until it listens; sets
# OM_WEB_PID. Log: $OM_TMP/web.log (appended). OM_WEB_NICE: a nice level, as
# the unit's Nice= gives it.
om_start_web() {
    local config=$1 ready="$OM_TMP/web.ready.$RANDOM"
    shift
    nice -n "${OM_WEB_NICE:-0}" "$OM_BIN/officemeter-web" --config "$config" --ready-file "$ready" "$@" \
        2>>"$OM_TMP/web.log" &
    OM_WEB_PID=$!
    om_track "$OM_WEB_PID"
    if ! (om_wait_file "$ready" 20 "$OM_WEB_PID"); then
        cat "$OM_TMP/web.log" >&2
        om_fail "officemeter-web did not become ready"
    fi
}

# om_http_status URL [CURL-ARGS...]: the HTTP status of a GET (body to
# $OM_TMP/body).
om_http_status() {
    local url=$1
    shift
    curl -s -o "$OM_TMP/body" -w '%{http_code}' --max-time 60 "$@" "$url"
}

# ---- alerts: a simulated office on a simulated clock, and the evaluator ----

# The simulated time now (ms UTC), from a simulator's clock file.
om_sim_now() {
    python3 - "$1" <<'PY'
import json, sys, time
c = json.load(open(sys.argv[1]))
elapsed_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000 - c["origin_mono_us"]
print(int(c["start_ms"] + max(0, elapsed_us) / 1000.0 * c["speed"]))
PY
}

# ms UTC of an ISO 8601 time.
om_iso_ms() {
    python3 -c 'import sys, datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp() * 1000))' "$1"
}

# Waits (real time) until the simulated clock of CLOCK-FILE reaches ISO,
# failing after TIMEOUT real seconds (default 120). The clock file says how
# long that is; the time is checked once more at the end.
om_wait_sim() {
    local clock=$1 iso=$2 timeout=${3:-120} left
    left=$(python3 - "$clock" "$(om_iso_ms "$iso")" <<'PY'
import json, sys, time
c = json.load(open(sys.argv[1]))
now_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
sim_now = c["start_ms"] + max(0, now_us - c["origin_mono_us"]) / 1000.0 * c["speed"]
held = max(0, c["origin_mono_us"] - now_us) / 1e6
print("%.3f" % (held + max(0, int(sys.argv[2]) - sim_now) / c["speed"] / 1000.0 if c["speed"] else 1e9))
PY
)
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$left" "$timeout" ||
        om_fail "simulated time would reach $iso in ${left}s, more than ${timeout}s"
    sleep "$left"
    [ "$(om_sim_now "$clock")" -ge "$(om_iso_ms "$iso")" ] || om_fail "simulated time did not reach $iso"
}

# The alerts rig: mosquitto, a copy of the test office's site file in
# $OM_TMP/sites with a reporting policy of 15-minute polls (a gap is more
# than six hours: at 100 000x a busy machine's hiccup of a few tens of
# milliseconds makes the agent skip ticks, and a night judged across such
# a hole is still judged on the counter's exact difference) and the alert
# policy ALERTS-FILE, the aggregator, and the
# simulator on its own clock ($OM_TMP/clock.json) from START at SPEED
# (held 3 s, so everything is connected before time runs). Extra arguments
# go to the simulator. Sets OM_SITE, OM_BUSES, OM_CLOCK, and everything
# om_start_aggregator sets.
om_start_alerts_rig() {
    local alerts=$1 start=$2 speed=$3
    shift 3
    OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
    mkdir -p "$OM_TMP/sites"
    cp "$OM_SOURCE_DIR/tests/data/sites/sim-office.yaml" "$OM_TMP/sites/"
    printf 'organisation: Test\npoll_interval_s: 900\ngap_intervals: 24\n' >"$OM_TMP/sites/reporting.yaml"
    cp "$alerts" "$OM_TMP/sites/alerts.yaml"
    OM_SITE="$OM_TMP/sites/sim-office.yaml"
    om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
    om_start_aggregator "$OM_TMP/agg.yaml"
    OM_DB="$OM_TMP/agg.db"
    local rtu lan
    rtu=$(om_free_port)
    lan=$(om_free_port)
    OM_BUSES=(--bus rs485-1=tcp:127.0.0.1:"$rtu" --bus lan=tcp:127.0.0.1:"$lan")
    OM_CLOCK="$OM_TMP/clock.json"
    om_start_sim --site "$OM_SITE" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
        "${OM_BUSES[@]}" --start "$start" --speed "$speed" --delay 3 --clock-file "$OM_CLOCK" "$@"
}

# The office's agent on the simulated clock: polls every 15 simulated
# minutes, health every real second. BROKER-PORT (default the broker's) is
# where it connects: an uplink of the simulator, for offline drills.
om_start_alerts_agent() {
    local port=${1:-$OM_BROKER_PORT}
    OM_AGENT_INTERVALS='{counters_s: 900, instant_s: 900, health_s: 1, backoff_max_s: 2}' \
        om_agent_config "$OM_TMP/agent.yaml" "$OM_SITE" gw1
    sed -i "s|mqtt://127.0.0.1:$OM_BROKER_PORT|mqtt://127.0.0.1:$port|" "$OM_TMP/agent.yaml"
    om_start_agent "$OM_TMP/agent.yaml" --sim-clock "$OM_CLOCK" "${OM_BUSES[@]}"
}

# Starts `officemeter alerts evaluate --config $OM_TMP/agg.yaml --every
# EVERY` with extra ARGS in the background (log: $OM_TMP/alerts.log); sets
# OM_EVAL_PID.
om_start_alerts_eval() {
    local every=$1
    shift
    "$OM_BIN/officemeter" alerts evaluate --config "$OM_TMP/agg.yaml" --every "$every" "$@" \
        2>>"$OM_TMP/alerts.log" &
    OM_EVAL_PID=$!
    om_track "$OM_EVAL_PID"
}

# Every alert as JSON lines (rule, subject, fired_at, resolved_at, …) from
# `officemeter alerts --all --format json`, oldest first. (The command
# exits 1 while a critical alert is open: that is not a failure here.)
om_alert_lines() {
    local out rc=0
    out=$("$OM_BIN/officemeter" alerts --config "$OM_TMP/agg.yaml" --all --format json "$@") || rc=$?
    [ "$rc" -le 1 ] || om_fail "officemeter alerts exited $rc"
    printf '%s\n' "$out" | python3 -c 'import json, sys
for a in reversed(json.load(sys.stdin)["alerts"]):
    print(json.dumps(a, sort_keys=True))'
}

# The alert delivery rig (real clock): mosquitto, the three-gateway office
# of tests/data/alerts/sites/office3.yaml, the aggregator, and an alert
# policy in which gateway_offline fires as soon as a status says offline,
# with the extra delivery YAML lines given (webhooks, alertmanager).
om_start_delivery_rig() {
    OM_BROKER_EXTRA="max_queued_messages 100000" om_start_broker
    mkdir -p "$OM_TMP/sites"
    cp "$OM_SOURCE_DIR/tests/data/alerts/sites/office3.yaml" "$OM_TMP/sites/"
    {
        echo "defaults:"
        echo "  meter_stale: {enabled: false}"
        echo "  gateway_offline: {offline_s: 0, no_health_s: 86400}"
        echo "delivery:"
        echo "  retry: {min_s: 1, max_s: 2}"
        local line
        for line in "$@"; do echo "  $line"; done
    } >"$OM_TMP/sites/alerts.yaml"
    om_write_agg_config "$OM_TMP/agg.yaml" "$OM_BROKER_PORT" "$OM_TMP/sites"
    om_start_aggregator "$OM_TMP/agg.yaml"
    OM_DB="$OM_TMP/agg.db"
}

# om_gateway_status SITE GATEWAY online|offline: what the agent would say
# (a birth with a health message, or its last will).
om_gateway_status() {
    mosquitto_pub -p "$OM_BROKER_PORT" -q 1 -r -t "officemeter/v1/$1/$2/status" \
        -m "{\"v\":1,\"state\":\"$3\"}" || om_fail "mosquitto_pub failed"
    if [ "$3" = online ]; then
        mosquitto_pub -p "$OM_BROKER_PORT" -q 0 -r -t "officemeter/v1/$1/$2/health" \
            -m "{\"v\":1,\"t\":$(date +%s%3N),\"clock_ok\":true}" || om_fail "mosquitto_pub failed"
    fi
}

# A query on a database with the sqlite3 shell (read-only, waiting up to
# 5 s for a writer): for loops that poll, where starting Python each time
# would cost more than the wait.
om_sqlite() {
    sqlite3 -readonly -cmd '.timeout 5000' "$1" "$2"
}

# om_wait_alert RULE SUBJECT open|resolved [TIMEOUT]: until the newest
# alert of RULE on SUBJECT is in that state.
om_wait_alert() {
    local rule=$1 subject=$2 state=$3 timeout=${4:-20} i
    for i in $(seq 1 $((timeout * 10))); do
        [ "$(om_sqlite "$OM_DB" "SELECT state FROM alerts WHERE rule = '$rule' AND subject = '$subject' ORDER BY id DESC LIMIT 1" 2>/dev/null)" = "$state" ] && return 0
        sleep 0.1
    done
    om_fail "no $state $rule alert on $subject within ${timeout}s"
}

# Changes recorded for delivery (notify) so far.
om_alert_changes() {
    om_sqlite "$OM_DB" "SELECT count(*) FROM alert_history WHERE notify = 1"
}

# Starts webhook_sink.py on PORT recording to LOG (extra arguments: its
# --fail-file, --hang-file); sets OM_SINK_PID.
om_start_sink() {
    local port=$1 log=$2 ready="$OM_TMP/sink.ready.$RANDOM"
    shift 2
    python3 "$OM_SOURCE_DIR/tests/integration/webhook_sink.py" --port "$port" --log "$log" \
        --ready "$ready" "$@" 2>>"$OM_TMP/sink.log" &
    OM_SINK_PID=$!
    om_track "$OM_SINK_PID"
    om_wait_file "$ready" 10 "$OM_SINK_PID"
}

# ---- PostgreSQL --------------------------------------------------------------

# A PostgreSQL cluster of the test's own (tests/postgresql/pg_cluster.sh),
# stopped and removed at exit. Sets OM_PG_URI (its database "officemeter"),
# OM_PG_DIR (folder and Unix socket) and OM_PG_BIN (psql and the server's
# tools). Without PostgreSQL installed the test ends here with status 77,
# which ctest reports as skipped.
om_start_postgres() {
    local out rc=0
    out=$("$OM_SOURCE_DIR/tests/postgresql/pg_cluster.sh" start) || rc=$?
    if [ "$rc" -eq 77 ]; then
        echo "skipped: PostgreSQL is not installed (scripts/setup installs it)"
        exit 77
    fi
    [ "$rc" -eq 0 ] || om_fail "the PostgreSQL test cluster did not start"
    OM_PG_DIR=$(sed -n 1p <<<"$out")
    OM_PG_URI=$(sed -n 2p <<<"$out")
    OM_PG_BIN=$(sed -n 3p <<<"$out")
    OM_AT_EXIT+=("'$OM_SOURCE_DIR/tests/postgresql/pg_cluster.sh' stop '$OM_PG_DIR'")
}

# A new empty database NAME in the test's cluster; prints its URI.
om_pg_database() {
    "$OM_PG_BIN/psql" -X -q -d "$OM_PG_URI" -c "CREATE DATABASE \"$1\"" >/dev/null ||
        om_fail "cannot create database $1"
    echo "postgresql:///$1?host=$OM_PG_DIR&user=officemeter"
}

# Runs an SQL query on a PostgreSQL database URI and prints the rows, the
# columns separated by | (like om_sql).
om_psql() {
    "$OM_PG_BIN/psql" -X -A -t -q -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# om_sql or om_psql, whichever the database is.
om_db_sql() {
    case "$1" in
        postgresql://*|postgres://*) om_psql "$@" ;;
        *) om_sql "$@" ;;
    esac
}
