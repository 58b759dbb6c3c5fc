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
    local rc=$? pid
    for pid in "${OM_TRACKED_PIDS[@]}"; do
        om_stop_pid "$pid"
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

# A TCP port on 127.0.0.1 that was free a moment ago.
om_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
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
