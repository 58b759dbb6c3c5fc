#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_agent_bench.sh - officemeter-agent benchmarks (issue 3). Not a test:
# prints figures. Run after a build:
#
#   tests/bench/run_agent_bench.sh            # build/ under the source tree
#   OM_BUILD_DIR=/path/to/build BENCH_SECONDS=120 tests/bench/run_agent_bench.sh
#
# 1. Requests and bytes per poll cycle for one bus of 8 Eastron SDM630 and 4
#    Schneider iEM3155: the agent's plan (--plan), what the agent really sent
#    (through a counting Modbus TCP proxy), one request per quantity, and
#    collectd's modbus plugin reading the same simulated meters through the
#    same proxy (when collectd is installed: Debian package collectd-core).
#    Also the agent's measured cycle on the same bus as Modbus RTU over a
#    pseudo-terminal (silences and gaps enforced; a pty adds no baud delay).
# 2. Agent RSS and CPU per meter-poll with 64 simulated Modbus TCP meters
#    polled every 10 s (targets: RSS <= 8 MiB, <= 50 us CPU per meter-poll).
# 3. Catch-up after a one-hour outage of those 64 meters (23 040 polls in the
#    outbox): polls delivered and acknowledged per second (target: the hour
#    drains in <= 60 s).
# 4. The delivery loop's own work per poll cycle of 64 meters, without
#    threads, MQTT or Modbus (agent_tick_bench.c): append, hand out and
#    encode, acknowledge, in CPU microseconds per meter-poll.
# 5. The agent's fixed cost: the same 64 meters polled hourly, so that
#    nothing happens for BENCH_IDLE_SECONDS (default 30): CPU per second by
#    thread, what every second costs whatever the number of polls.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OM_SOURCE_DIR=${OM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
export OM_BIN=${OM_BIN:-$OM_BUILD_DIR/bin}
BENCH_SECONDS=${BENCH_SECONDS:-90}
. "$OM_SOURCE_DIR/tests/integration/lib.sh"
om_setup
cat_dir="$OM_SOURCE_DIR/firmware-config/meters"

say() { printf '%s\n' "$*"; }
# BENCH_PARTS="1 3" runs some of the parts (default: all).
want() { case " ${BENCH_PARTS:-1 2 3 4 5} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
hr() { say ""; say "== $* =="; }

om_start_broker
if want 1; then
# ---------------------------------------------------------------------------
hr "1. requests and bytes per cycle: 8 x SDM630 + 4 x iEM3155 on one bus"
site="$OM_TMP/bench-bus.yaml"
{
    echo "site: bench-bus"
    echo "name: Agent benchmark bus"
    echo "timezone: Europe/London"
    echo "grid_region: UK"
    echo "floor_area_m2: [{from: 2024-01-01, m2: 1000}]"
    echo "gateways:"
    echo "  - id: gw1"
    echo "    buses: [{id: rs485, rtu: {device: /dev/ttyUSB0, baud: 9600, parity: N, data_bits: 8, stop_bits: 1}}]"
    echo "meters:"
    for i in 1 2 3 4 5 6 7 8; do
        echo "  - {id: sdm-$i, model: eastron-sdm630, gateway: gw1, bus: rs485, unit_id: $i, utility: electricity, role: sub}"
    done
    for i in 1 2 3 4; do
        echo "  - {id: iem-$i, model: schneider-iem3x55, gateway: gw1, bus: rs485, unit_id: $((10 + i)), utility: electricity, role: sub}"
    done
} >"$site"
om_start_ack "$OM_TMP/polls1.jsonl"
om_agent_config "$OM_TMP/agent1.yaml" "$site" gw1
sed -i "s#^outbox: .*#outbox: $OM_TMP/outbox1.db#" "$OM_TMP/agent1.yaml"
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent1.yaml" --plan | sed -n '/per cycle/,$p'

sim_port=$(om_free_port)
om_start_sim --site "$site" --catalogue "$cat_dir" --bus rs485=tcp:127.0.0.1:"$sim_port"
proxy_agent=$(om_free_port)
python3 "$here/modbus_count_proxy.py" "$proxy_agent" "$sim_port" "$OM_TMP/count-agent.json" &
om_track $!
proxy_collectd=$(om_free_port)
python3 "$here/modbus_count_proxy.py" "$proxy_collectd" "$sim_port" "$OM_TMP/count-collectd.json" &
om_track $!
mosquitto_sub -h 127.0.0.1 -p "$OM_BROKER_PORT" -t officemeter/v1/bench-bus/gw1/readings \
    >"$OM_TMP/mqtt-agent.txt" 2>/dev/null &
om_track $!
sleep 0.5
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent1.yaml" --once --ack-timeout 10 \
    --bus rs485=tcp:127.0.0.1:"$proxy_agent" 2>>"$OM_TMP/agent1.log"
sleep 0.7

collectd_ran=no
if command -v collectd >/dev/null && [ -f /usr/lib/collectd/modbus.so ]; then
    conf="$OM_TMP/collectd.conf"
    mkdir -p "$OM_TMP/collectd-csv"
    data() { # name base type cmd collectd-type instance
        printf '  <Data "%s">\n    RegisterBase %s\n    RegisterType %s\n    RegisterCmd %s\n    Type "%s"\n    Instance "%s"\n  </Data>\n' "$@"
    }
    {
        echo "Hostname \"bench\""
        echo "FQDNLookup false"
        echo "BaseDir \"$OM_TMP\""
        echo "PIDFile \"$OM_TMP/collectd.pid\""
        echo "TypesDB \"/usr/share/collectd/types.db\""
        echo "Interval 2"
        echo "LoadPlugin logfile"
        echo "<Plugin logfile>"
        echo "  LogLevel \"info\""
        echo "  File \"$OM_TMP/collectd.log\""
        echo "</Plugin>"
        echo "LoadPlugin csv"
        echo "<Plugin csv>"
        echo "  DataDir \"$OM_TMP/collectd-csv\""
        echo "</Plugin>"
        # collectd's own way to MQTT: one message per value, QoS 1.
        echo "LoadPlugin mqtt"
        echo "<Plugin mqtt>"
        echo "  <Publish \"broker\">"
        echo "    Host \"127.0.0.1\""
        echo "    Port $OM_BROKER_PORT"
        echo "    ClientId \"collectd-bench\""
        echo "    Prefix \"collectd\""
        echo "    QoS 1"
        echo "  </Publish>"
        echo "</Plugin>"
        echo "LoadPlugin modbus"
        echo "<Plugin modbus>"
        # One <Data> per quantity, as collectd's modbus plugin is configured:
        # it reads each Data with its own request.
        data sdm-v1 0 Float ReadInput voltage l1
        data sdm-v2 2 Float ReadInput voltage l2
        data sdm-v3 4 Float ReadInput voltage l3
        data sdm-p 52 Float ReadInput power total
        data sdm-ei 72 Float ReadInput energy import
        data sdm-ee 74 Float ReadInput energy export
        data iem-v1 3027 Float ReadHolding voltage l1
        data iem-v2 3029 Float ReadHolding voltage l2
        data iem-v3 3031 Float ReadHolding voltage l3
        data iem-p 3059 Float ReadHolding power total
        data iem-ei 3203 Int64 ReadHolding energy import
        data iem-ee 3207 Int64 ReadHolding energy export
        echo "  <Host \"bus\">"
        echo "    Address \"127.0.0.1\""
        echo "    Port \"$proxy_collectd\""
        echo "    Interval 2"
        for i in 1 2 3 4 5 6 7 8; do
            echo "    <Slave $i>"
            echo "      Instance \"sdm-$i\""
            for d in sdm-v1 sdm-v2 sdm-v3 sdm-p sdm-ei sdm-ee; do echo "      Collect \"$d\""; done
            echo "    </Slave>"
        done
        for i in 1 2 3 4; do
            echo "    <Slave $((10 + i))>"
            echo "      Instance \"iem-$i\""
            for d in iem-v1 iem-v2 iem-v3 iem-p iem-ei iem-ee; do echo "      Collect \"$d\""; done
            echo "    </Slave>"
        done
        echo "  </Host>"
        echo "</Plugin>"
    } >"$conf"
    mosquitto_sub -h 127.0.0.1 -p "$OM_BROKER_PORT" -t 'collectd/#' -v >"$OM_TMP/mqtt-collectd.txt" 2>/dev/null &
    om_track $!
    sleep 0.3
    collectd -f -C "$conf" >>"$OM_TMP/collectd.log" 2>&1 &
    cpid=$!
    om_track "$cpid"
    sleep 7.5
    om_stop_pid "$cpid"
    sleep 0.7
    collectd_ran=yes
fi

python3 - "$OM_TMP/count-agent.json" "$OM_TMP/count-collectd.json" "$collectd_ran" "$OM_TMP/collectd-csv" "$OM_TMP/collectd.log" "$OM_TMP/mqtt-agent.txt" "$OM_TMP/mqtt-collectd.txt" <<'PY'
import json, os, sys

def cycles(frames, gap=0.5):
    """Split request times into poll cycles: a pause of gap seconds starts a new one."""
    out, cur, last = [], [], None
    for f in frames:
        if last is not None and f[0] - last > gap:
            out.append(cur)
            cur = []
        cur.append(f)
        last = f[0]
    if cur:
        out.append(cur)
    return out

a = json.load(open(sys.argv[1]))
print("agent (officemeter-agent --once through the counting proxy):")
print("  %d requests per cycle, %d bytes on the wire (Modbus TCP: %d sent, %d received)"
      % (a["requests"], a["bytes_sent"] + a["bytes_received"], a["bytes_sent"], a["bytes_received"]))
msgs = [l for l in open(sys.argv[6]) if l.strip()]
print("  MQTT: %d readings message(s) per cycle, %d bytes of payload (QoS 1, all 12 polls with seq)"
      % (len(msgs), sum(len(l) - 1 for l in msgs)))
if sys.argv[3] != "yes":
    print("collectd: not installed (apt-get install collectd-core), not measured")
    sys.exit(0)
c = json.load(open(sys.argv[2]))
cs = cycles(c["frames"])
full = [x for x in cs[1:-1]] or cs
if not cs:
    print("collectd: made no request; its log says:")
    print(open(sys.argv[5]).read()[-2000:])
    sys.exit(0)
per = sorted(len(x) for x in full)[len(full) // 2]
total_b = c["bytes_sent"] + c["bytes_received"]
print("collectd 5 modbus plugin (one <Data> per quantity, same meters, same proxy):")
print("  %d requests per cycle (median of %d cycles), about %d bytes per cycle (Modbus TCP)"
      % (per, len(full), total_b * per // max(1, c["requests"])))
files = []
for root, _, names in os.walk(sys.argv[4]):
    files += names
print("  collectd wrote %d value files (csv), so its reads succeeded" % len(files))
cm = [l for l in open(sys.argv[7]) if l.strip()]
if cm:
    topics = len({l.split(" ", 1)[0] for l in cm})
    pay = sum(len(l.split(" ", 1)[1]) - 1 for l in cm if " " in l)
    print("  MQTT (collectd mqtt plugin): %d messages in the run for %d values, about %d per cycle and %d bytes of payload per cycle (one message per value; nothing kept while the broker is down)"
          % (len(cm), topics, len(cm) * per // max(1, c["requests"]), pay * per // max(1, c["requests"])))
print("ratio: collectd makes %.1fx the requests of the agent" % (per / max(1, a["requests"])))
PY

# The same bus as Modbus RTU over a pseudo-terminal pair.
om_pty_pair "$OM_TMP/sim.tty" "$OM_TMP/agent.tty"
om_start_sim --site "$site" --catalogue "$cat_dir" --bus rs485=rtu:"$OM_TMP/sim.tty"
"$OM_BIN/officemeter-agent" --config "$OM_TMP/agent1.yaml" --once --ack-timeout 10 \
    --bus rs485=rtu:"$OM_TMP/agent.tty" 2>>"$OM_TMP/agent1.log"
om_health_field bench-bus gw1 buses.rs485.last_cycle_ms | python3 -c 'import sys
print("agent over RTU (pty, 9600 8N1 settings): measured cycle %.1f ms for 12 meters (t3.5 silences and model gaps enforced; a pty adds no baud-rate delay, so this is the floor set by silences, gaps and the simulator)" % float(sys.stdin.read()))'
om_stop_ack
fi

# ---------------------------------------------------------------------------
site64="$OM_TMP/bench-64.yaml"
# BENCH_LAYOUT=endpoints (default): 64 meters with a Modbus TCP interface
# each (64 buses, 64 connections, 64 worker threads); BENCH_LAYOUT=gateway:
# 64 unit ids behind one Modbus TCP gateway (one bus, one connection).
layout=${BENCH_LAYOUT:-endpoints}
# 64 distinct free ports (om_free_port may hand out a port twice in a row).
ports=$(python3 -c 'import socket
socks = []
for _ in range(64):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))')
read -r -a port <<<"$ports"
{
    echo "site: bench-64"
    echo "name: Agent benchmark, 64 TCP meters"
    echo "timezone: Europe/London"
    echo "grid_region: UK"
    echo "floor_area_m2: [{from: 2024-01-01, m2: 1000}]"
    echo "gateways:"
    echo "  - id: gw1"
    echo "    buses:"
    if [ "$layout" = gateway ]; then
        echo "      - {id: lan, tcp: {host: 127.0.0.1, port: $(om_free_port)}}"
    else
        for i in $(seq -w 1 64); do
            echo "      - {id: lan-$i, tcp: {host: 127.0.0.1, port: ${port[$((10#$i - 1))]}}}"
        done
    fi
    echo "meters:"
    for i in $(seq -w 1 64); do
        if [ "$layout" = gateway ]; then
            echo "  - {id: bench-$i, model: schneider-pm5xxx, gateway: gw1, bus: lan, unit_id: $((10#$i)), utility: electricity, role: sub}"
        else
            echo "  - {id: bench-$i, model: schneider-pm5xxx, gateway: gw1, bus: lan-$i, unit_id: 1, utility: electricity, role: sub}"
        fi
    done
} >"$site64"
om_start_sim --site "$site64" --catalogue "$cat_dir"
OM_AGENT_INTERVALS="{counters_s: 60, instant_s: 10, health_s: ${BENCH_HEALTH_S:-60}}" \
OM_AGENT_DELIVERY="{resend_after_s: 30, connect_timeout_s: 5}" \
    om_agent_config "$OM_TMP/agent2.yaml" "$site64" gw1
sed -i "s#^outbox: .*#outbox: $OM_TMP/outbox2.db#; s#^log_level: .*#log_level: warning#" "$OM_TMP/agent2.yaml"

# CPU by thread (parts 2 and 5): a snapshot of every thread's CPU time in
# ns (/proc/PID/task/*/schedstat), and the difference of two snapshots by
# group (main, bus workers, paho's threads): ms, or with SECONDS given, us
# of CPU per second and the total per meter-poll at 6.4 polls per second.
snap_threads() { for t in /proc/"$1"/task/*; do echo "$(basename "$t") $(cat "$t/comm") $(cut -d' ' -f1 "$t/schedstat")"; done; }
thread_cpu() { # thread_cpu SNAP0 SNAP1 PID [SECONDS]
    python3 - "$@" <<'PY'
import sys
def load(p):
    return {l.split()[0]: (l.split()[1], int(l.split()[2])) for l in open(p)}
a, b, pid = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
secs = float(sys.argv[4]) if len(sys.argv) > 4 else None
groups = {}
for tid, (comm, ns) in b.items():
    d = ns - a.get(tid, (comm, 0))[1]
    name = "main" if tid == pid else ("bus workers" if comm.startswith("officemeter") else comm)
    groups[name] = groups.get(name, 0) + d
for name, ns in sorted(groups.items(), key=lambda x: -x[1]):
    if secs:
        print("  %-16s %7.1f us of CPU per second" % (name, ns / 1e3 / secs))
    else:
        print("  %-16s %8.2f ms" % (name, ns / 1e6))
if secs:
    total = sum(groups.values()) / 1e3 / secs
    print("idle agent: %.1f us of CPU per second; at 6.4 polls per second (64 meters every 10 s) "
          "that is %.1f us per meter-poll before any poll is made" % (total, total / 6.4))
PY
}

if want 2; then
hr "2. 64 simulated Modbus TCP meters ($layout), 10 s interval: RSS and CPU"
om_start_ack "$OM_TMP/polls2.jsonl"
: >"$OM_TMP/agent.log"
om_start_agent "$OM_TMP/agent2.yaml"
apid=$OM_AGENT_PID
# CPU time of every thread of the process, in ns (/proc/PID/task/*/schedstat
# counts nanoseconds; /proc/PID/stat only clock ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%d\n", s}'; }
# Let the first cycle (connections, plans) pass, then measure whole cycles.
sleep 12
stat0=$(cut -d' ' -f14,15 "/proc/$apid/stat")
snap_threads "$apid" >"$OM_TMP/threads0"
c0=$(cpu_ns "$apid"); p0=$(om_count_lines "$OM_TMP/polls2.jsonl"); t0=$(date +%s.%N)
if [ -n "${BENCH_PERF:-}" ]; then # BENCH_PERF=FILE: a perf profile of the run
    perf record -F 25000 -g -o "$BENCH_PERF" -p "$apid" -- sleep "$BENCH_SECONDS" 2>/dev/null
else
    sleep "$BENCH_SECONDS"
fi
c1=$(cpu_ns "$apid"); p1=$(om_count_lines "$OM_TMP/polls2.jsonl"); t1=$(date +%s.%N)
snap_threads "$apid" >"$OM_TMP/threads1"
stat1=$(cut -d' ' -f14,15 "/proc/$apid/stat")
if [ -n "${BENCH_THREADS:-}" ]; then # CPU by thread: main, bus workers, paho
    thread_cpu "$OM_TMP/threads0" "$OM_TMP/threads1" "$apid"
fi
if [ -n "${BENCH_SMAPS:-}" ]; then
    awk '/^[0-9a-f]+-/ {name = $6} /^Rss:/ {rss[name] += $2} END {for (n in rss) if (rss[n] >= 64) printf "  %6d kB  %s\n", rss[n], n}' \
        "/proc/$apid/smaps" | sort -rn | head -25
fi
python3 - "$apid" "$c0" "$c1" "$p0" "$p1" "$t0" "$t1" "$stat0" "$stat1" "$(getconf CLK_TCK)" <<'PY'
import sys
pid, c0, c1, p0, p1, t0, t1, s0, s1, hz = sys.argv[1:]
status = dict(l.split(":", 1) for l in open("/proc/%s/status" % pid))
rss = int(status["VmRSS"].split()[0]); hwm = int(status["VmHWM"].split()[0])
polls = int(p1) - int(p0)
cpu_s = (int(c1) - int(c0)) / 1e9
wall = float(t1) - float(t0)
print("64 meters, %d meter-polls in %.0f s (expected %.0f)" % (polls, wall, 64 * wall / 10))
print("RSS now %.2f MiB, peak %.2f MiB (target <= 8 MiB)" % (rss / 1024, hwm / 1024))
print("CPU %.2f s in %.0f s: %.1f us per meter-poll (target <= 50 us), %.2f %% of one core"
      % (cpu_s, wall, cpu_s * 1e6 / max(1, polls), 100 * cpu_s / wall))
u0, k0 = map(int, s0.split()); u1, k1 = map(int, s1.split())
user, kern = (u1 - u0) / float(hz), (k1 - k0) / float(hz)
if user + kern > 0:
    print("of which user space %.0f %%, kernel %.0f %% (clock-tick resolution: %.2f s user, %.2f s system)"
          % (100 * user / (user + kern), 100 * kern / (user + kern), user, kern))
print("(CPU includes Modbus I/O, decoding, the outbox commit with fsync, publishing and acknowledgements)")
PY
kill -TERM "$apid"
om_wait_exit "$apid" 10
om_stop_ack
fi

if want 3; then
# ---------------------------------------------------------------------------
hr "3. catch-up after a one-hour outage of 64 meters"
fill="$OM_BUILD_DIR/bench/agent_bench_fill"
rm -f "$OM_TMP"/outbox3.db*
held=$("$fill" "$OM_TMP/outbox3.db" 64 3600 10)
say "outbox filled with $held polls (64 meters, one every 10 s for an hour)"
om_start_ack "$OM_TMP/polls3.jsonl"
sed "s#outbox2.db#outbox3.db#; s#health_s: [0-9]*#health_s: 1#" "$OM_TMP/agent2.yaml" >"$OM_TMP/agent3.yaml"
t0=$(date +%s.%N)
om_start_agent "$OM_TMP/agent3.yaml"
apid=$OM_AGENT_PID
for i in $(seq 1 1200); do
    [ "$(om_count_lines "$OM_TMP/polls3.jsonl")" -ge "$held" ] && break
    sleep 0.05
done
t1=$(date +%s.%N)
# acknowledged: the agent's outbox no longer holds the backlog
for i in $(seq 1 200); do
    acked=$(om_health_field bench-64 gw1 outbox.acked_upto 2>/dev/null || echo 0)
    [ "$acked" -ge "$held" ] && break
    sleep 0.1
done
t2=$(date +%s.%N)
python3 - "$held" "$t0" "$t1" "$t2" "$OM_TMP/polls3.jsonl" <<'PY'
import json, sys
held, t0, t1, t2 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
msgs = {json.loads(l)["message"] for l in open(sys.argv[5])}
print("delivered %d polls in %.2f s from start (%.0f polls/s, %d messages); acknowledged within %.2f s"
      % (held, t1 - t0, held / (t1 - t0), len(msgs), t2 - t0))
print("one hour drained in %.1f s = %.0fx real time (target: <= 60 s)" % (t2 - t0, 3600 / (t2 - t0)))
PY
kill -TERM "$apid"
om_wait_exit "$apid" 10
fi

if want 4; then
# ---------------------------------------------------------------------------
hr "4. delivery loop work per poll cycle (64 meters, outbox on this disk)"
tick="$OM_BUILD_DIR/bench/agent_tick_bench"
for i in 1 2 3; do
    rm -f "$OM_TMP"/outbox4.db*
    "$tick" "$OM_TMP/outbox4.db" 64 120
done
fi

if want 5; then
# ---------------------------------------------------------------------------
hr "5. fixed cost: the 64 meters polled hourly, nothing to do for ${BENCH_IDLE_SECONDS:-30} s"
om_start_ack "$OM_TMP/polls5.jsonl"
sed "s#outbox2.db#outbox5.db#; s#{counters_s: [0-9]*, instant_s: [0-9]*, health_s: [0-9]*}#{counters_s: 3600, instant_s: 3600, health_s: 3600}#" \
    "$OM_TMP/agent2.yaml" >"$OM_TMP/agent5.yaml"
grep -q "counters_s: 3600" "$OM_TMP/agent5.yaml" || om_fail "part 5: could not set hourly intervals"
om_start_agent "$OM_TMP/agent5.yaml"
apid=$OM_AGENT_PID
sleep 3 # connection, birth, first health
snap_threads "$apid" >"$OM_TMP/idle0"
sleep "${BENCH_IDLE_SECONDS:-30}"
snap_threads "$apid" >"$OM_TMP/idle1"
thread_cpu "$OM_TMP/idle0" "$OM_TMP/idle1" "$apid" "${BENCH_IDLE_SECONDS:-30}"
kill -TERM "$apid"
om_wait_exit "$apid" 10
om_stop_ack
fi
