#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Each daemon, started with its unit's ExecStart command line (taken from
# systemd/*.service and rendered by systemd/render.cmake with the build's bin
# folder and a test config folder, since CI does not run systemd), talks the
# sd_notify protocol as systemd would see it:
#  - READY=1 once it is configured and serving, from the main process
#    (NotifyAccess=main drops messages from any other pid);
#  - then WATCHDOG=1 at least every WATCHDOG_USEC (2 s here), so systemd's
#    WatchdogSec= restarts a wedged loop and never a healthy one;
#  - SIGTERM ends it with exit status 0 (Restart=on-failure leaves it down).
# NOTIFY_SOCKET is a datagram socket read by notify_listen.py. The agent
# polls a simulated meter on loopback and publishes to a mosquitto the test
# starts; the aggregator stores into a temporary database.
# A daemon that is not built at all is skipped; one that is built but does
# not notify fails the test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

WATCHDOG_USEC=2000000
etc="$OM_TMP/etc"
mkdir -p "$etc/sites"

# The ExecStart= command line of UNIT, rendered for this build and $etc.
exec_start() {
    cmake -DOM_RENDER_FILES="$OM_SOURCE_DIR/systemd/$1" -DOM_RENDER_OUT="$OM_TMP/units" \
        -DOM_BINDIR="$OM_BIN" -DOM_CONFDIR="$etc" -DOM_DATADIR=/usr/share/officemeter \
        -P "$OM_SOURCE_DIR/systemd/render.cmake" >&2 || om_fail "render.cmake failed"
    sed -n 's/^ExecStart=//p' "$OM_TMP/units/$1"
}

# Waits until the notification log has a datagram holding the assignment
# ASSIGN (e.g. READY=1) after line AFTER; prints its line number. Fails
# after TIMEOUT seconds or when PID has exited.
wait_message() {
    local log=$1 after=$2 assign=$3 timeout=$4 pid=$5 i n
    for i in $(seq 1 $((timeout * 10))); do
        n=$(tail -n +"$((after + 1))" "$log" |
            grep -n -E "\"msg\": \"([^\"]*\\\\n)?$assign(\\\\n[^\"]*)?\"" | head -1 | cut -d: -f1)
        if [ -n "$n" ]; then
            echo $((after + n))
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# check_daemon NAME UNIT: runs the unit's ExecStart, checks the messages.
check_daemon() {
    local name=$1 unit=$2 cmdline log sock
    cmdline=$(exec_start "$unit")
    [ -n "$cmdline" ] || om_fail "$unit has no ExecStart"
    sock="$OM_TMP/notify-$name.sock"
    log="$OM_TMP/notify-$name.jsonl"
    : >"$log"
    python3 "$OM_SOURCE_DIR/tests/integration/notify_listen.py" "$sock" "$log" \
        2>>"$OM_TMP/listen.log" &
    local listener=$!
    om_track "$listener"
    om_wait_file "$sock.ready" 10 "$listener"

    om_log "$name: $cmdline"
    # As systemd does: the daemon's own pid in WATCHDOG_PID, so that a child
    # inheriting the variables would not take the watchdog as its own.
    # shellcheck disable=SC2086 # the command line is split as systemd splits it (no quotes in it)
    NOTIFY_SOCKET="$sock" WATCHDOG_USEC=$WATCHDOG_USEC \
        bash -c 'export WATCHDOG_PID=$$; exec "$@"' _ $cmdline 2>>"$OM_TMP/$name.log" &
    local pid=$!
    om_track "$pid"

    local ready
    if ! ready=$(wait_message "$log" 0 READY=1 20 "$pid"); then
        tail -20 "$OM_TMP/$name.log" >&2
        cat "$log" >&2
        om_fail "$name: no READY=1 on \$NOTIFY_SOCKET within 20 s$(kill -0 "$pid" 2>/dev/null || echo ' (it exited)')"
    fi
    if ! wait_message "$log" "$ready" WATCHDOG=1 6 "$pid" >/dev/null; then
        tail -20 "$OM_TMP/$name.log" >&2
        cat "$log" >&2
        om_fail "$name: READY=1 but no WATCHDOG=1 within 6 s (WATCHDOG_USEC=$WATCHDOG_USEC)"
    fi
    sleep 3.5 # a few watchdog periods
    kill -0 "$pid" 2>/dev/null || om_fail "$name exited while running"
    python3 - "$log" "$ready" "$pid" "$WATCHDOG_USEC" "$name" <<'PY' || om_fail "$name: notifications wrong (above)"
import json, sys
path, ready, pid, usec, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
msgs = [json.loads(l) for l in open(path)]
problems = []
for m in msgs:
    if m["pid"] != pid:
        problems.append("%r sent by pid %d, not the main process %d (NotifyAccess=main drops it)"
                        % (m["msg"], m["pid"], pid))
readies = [m for m in msgs if "READY=1" in m["msg"].split("\n")]
if len(readies) != 1:
    problems.append("READY=1 sent %d times before any reload" % len(readies))
pings = [m["t"] for m in msgs[ready:] if "WATCHDOG=1" in m["msg"].split("\n")]
pings = [readies[0]["t"]] + pings
gaps = [b - a for a, b in zip(pings, pings[1:])]
if len(gaps) < 3:
    problems.append("only %d WATCHDOG=1 in %.1f s" % (len(gaps), msgs[-1]["t"] - pings[0]))
elif max(gaps) >= usec / 1e6:
    problems.append("WATCHDOG=1 %.2f s apart, watchdog is %.1f s: systemd would kill it"
                    % (max(gaps), usec / 1e6))
for p in problems:
    print("%s: %s" % (name, p), file=sys.stderr)
if not problems:
    print("%s: READY=1, then %d WATCHDOG=1 at most %.2f s apart, all from pid %d"
          % (name, len(gaps), max(gaps), pid), file=sys.stderr)
sys.exit(1 if problems else 0)
PY

    kill -TERM "$pid"
    om_wait_exit "$pid" 15
    [ "$OM_EXIT_STATUS" -eq 0 ] || { tail -20 "$OM_TMP/$name.log" >&2; om_fail "$name exited $OM_EXIT_STATUS after SIGTERM"; }
    if grep -q 'STOPPING=1' "$log"; then
        echo "$name: STOPPING=1 on SIGTERM, exit 0" >&2
    else
        echo "$name: exit 0 on SIGTERM (no STOPPING=1)" >&2
    fi
    om_stop_pid "$listener"
}

# Runs check_daemon in a subshell, so that one daemon's failure does not
# hide the other's result; the subshell stops what it started (the broker
# and the simulator belong to the main shell).
failed=()
run_check() {
    if ! (
        OM_TRACKED_PIDS=()
        trap 'rc=$?; for p in "${OM_TRACKED_PIDS[@]}"; do om_stop_pid "$p"; done; exit $rc' EXIT
        check_daemon "$@"
    ); then
        failed+=("$1")
    fi
}

ran=0
need_broker() {
    [ -n "${OM_BROKER_PID:-}" ] || om_start_broker
}

# A one-meter site on loopback: the simulator serves it, the agent polls it,
# the aggregator accepts its readings.
lan=$(om_free_port)
cat >"$etc/sites/notify-office.yaml" <<YAML
site: notify-office
name: sd_notify test office
timezone: Europe/London
grid_region: UK
floor_area_m2:
  - {from: 2023-01-01, m2: 100}
gateways:
  - id: gw1
    buses:
      - {id: lan, tcp: {host: 127.0.0.1, port: $lan}}
meters:
  - {id: main, model: eastron-sdm630, gateway: gw1, bus: lan, unit_id: 1,
     utility: electricity, role: main}
YAML

if [ -x "$OM_BIN/officemeter-agent" ]; then
    need_broker
    om_start_sim --site "$etc/sites/notify-office.yaml" \
        --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --speed 60
    om_agent_config "$etc/agent.yaml" "$etc/sites/notify-office.yaml" gw1
    run_check officemeter-agent officemeter-agent.service
    ran=$((ran + 1))
else
    echo "SKIP: officemeter-agent not built ($OM_BIN/officemeter-agent does not exist)"
fi

if [ -x "$OM_BIN/officemeter-aggregator" ]; then
    need_broker
    cat >"$etc/aggregator.yaml" <<YAML
sites_dir: sites
catalogue: $OM_SOURCE_DIR/firmware-config/meters
database: $OM_TMP/officemeter.db
broker: {uri: "mqtt://127.0.0.1:$OM_BROKER_PORT", client_id: notify-test-aggregator}
commit_interval_ms: 100
log_level: info
YAML
    run_check officemeter-aggregator officemeter-aggregator.service
    ran=$((ran + 1))
else
    echo "SKIP: officemeter-aggregator not built ($OM_BIN/officemeter-aggregator does not exist)"
fi

[ ${#failed[@]} -eq 0 ] || om_fail "${failed[*]}: sd_notify protocol not followed (above)"
echo "PASS ($ran daemons checked)"
