#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units in systemd/ are valid and stay hardened:
#  - `systemd-analyze verify` accepts every unit without a single warning
#    about it. verify also checks that each Exec*= command exists, so the
#    units are first rendered by systemd/render.cmake (the same script the
#    install rules use) with /usr/bin replaced by the build's bin folder;
#  - `systemd-analyze security --offline` rates each service's exposure at
#    2.0 or below (a unit that loses its sandboxing fails here);
#  - the settings the deployment relies on (Type=notify with a watchdog, the
#    contract's ExecStart lines, the officemeter user, dialout for the agent
#    only, the monthly persistent timer) are there;
#  - the sysusers.d and tmpfiles.d snippets create the user and the state
#    folder in a scratch root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

command -v systemd-analyze >/dev/null || om_fail "systemd-analyze not found (Debian package: systemd)"
src="$OM_SOURCE_DIR/systemd"
units=(officemeter-agent.service officemeter-aggregator.service officemeter-rollup.service
       officemeter-rollup.timer officemeter-web.service officemeter-alerts.service
       officemeter-alerts.timer)
declare -A binary=([officemeter-agent.service]=officemeter-agent
                   [officemeter-aggregator.service]=officemeter-aggregator
                   [officemeter-web.service]=officemeter-web
                   [officemeter-rollup.service]=officemeter
                   [officemeter-alerts.service]=officemeter)

om_log "the contract's command lines"
grep -qx 'ExecStart=/usr/bin/officemeter-agent --config /etc/officemeter/agent.yaml' \
    "$src/officemeter-agent.service" || om_fail "agent ExecStart differs from the contract"
grep -qx 'ExecStart=/usr/bin/officemeter-aggregator --config /etc/officemeter/aggregator.yaml' \
    "$src/officemeter-aggregator.service" || om_fail "aggregator ExecStart differs from the contract"
grep -qx 'ExecStart=/usr/bin/officemeter rollup --config /etc/officemeter/aggregator.yaml' \
    "$src/officemeter-rollup.service" || om_fail "rollup ExecStart differs"
grep -qx 'ExecStart=/usr/bin/officemeter-web --config /etc/officemeter/web.yaml' \
    "$src/officemeter-web.service" || om_fail "web ExecStart differs"
grep -qx 'ExecStart=/usr/bin/officemeter alerts evaluate --config /etc/officemeter/aggregator.yaml' \
    "$src/officemeter-alerts.service" || om_fail "alerts ExecStart differs"

om_log "rendering the units against $OM_BIN"
to_verify=()
files=()
for u in "${units[@]}"; do
    files+=("$src/$u")
done
cmake -DOM_RENDER_FILES="$(IFS=';'; echo "${files[*]}")" -DOM_RENDER_OUT="$OM_TMP/units" \
    -DOM_BINDIR="$OM_BIN" -DOM_CONFDIR=/etc/officemeter -DOM_DATADIR=/usr/share/officemeter \
    -P "$src/render.cmake" || om_fail "render.cmake failed"
for u in "${units[@]}"; do
    [ -f "$OM_TMP/units/$u" ] || om_fail "render.cmake did not write $u"
    grep -q '/usr/bin/' "$OM_TMP/units/$u" && om_fail "rendered $u still names /usr/bin"
    b=${binary[$u]:-}
    if [ -n "$b" ] && [ ! -x "$OM_BIN/$b" ]; then
        # The timer needs its service; both wait for the CLI.
        echo "SKIP: $u: $OM_BIN/$b not built"
        [ "$u" = officemeter-rollup.service ] && skip_timer=1
        [ "$u" = officemeter-alerts.service ] && skip_alerts_timer=1
        continue
    fi
    [ "$u" = officemeter-rollup.timer ] && [ -n "${skip_timer:-}" ] && continue
    [ "$u" = officemeter-alerts.timer ] && [ -n "${skip_alerts_timer:-}" ] && continue
    to_verify+=("$OM_TMP/units/$u")
done
[ ${#to_verify[@]} -gt 0 ] || om_fail "no unit could be verified (nothing built in $OM_BIN?)"

om_log "systemd-analyze verify ${to_verify[*]##*/}"
rc=0
(cd "$OM_TMP/units" && systemd-analyze verify "${to_verify[@]}") >"$OM_TMP/verify.log" 2>&1 || rc=$?
cat "$OM_TMP/verify.log" >&2
# A warning about another unit (a broken unit elsewhere on the machine) is
# not ours; one naming our files or units is.
if grep -E "officemeter|$OM_TMP" "$OM_TMP/verify.log" >/dev/null; then
    om_fail "systemd-analyze verify warns about the units (above)"
fi
[ "$rc" -eq 0 ] || om_fail "systemd-analyze verify exited $rc"

# The check must be able to fail: a misspelt key and a missing binary.
sed -e 's/^WatchdogSec=/WatchdogSek=/' -e "s#^ExecStart=[^ ]*#ExecStart=$OM_TMP/missing#" \
    "$src/officemeter-agent.service" >"$OM_TMP/units/broken.service"
(cd "$OM_TMP/units" && systemd-analyze verify "$OM_TMP/units/broken.service") \
    >"$OM_TMP/broken.log" 2>&1 || true
grep -q "WatchdogSek" "$OM_TMP/broken.log" && grep -q "missing" "$OM_TMP/broken.log" \
    || { cat "$OM_TMP/broken.log" >&2; om_fail "verify did not report a broken unit"; }
rm "$OM_TMP/units/broken.service"

om_log "hardening: exposure of each service at most 2.0"
for f in "${to_verify[@]}"; do
    case "$f" in *.service) ;; *) continue ;; esac
    out=$(cd "$OM_TMP/units" && systemd-analyze security --offline=yes --threshold=20 "$f" 2>&1) \
        || { echo "$out" >&2; om_fail "${f##*/}: exposure above 2.0"; }
    echo "${f##*/}: $(echo "$out" | grep 'Overall exposure' | sed 's/.*: //')" >&2
done

om_log "the settings the deployment relies on"
prop() { # FILE KEY: the values of KEY, one per line
    sed -n "s/^$2=//p" "$1"
}
for d in agent aggregator web; do
    f="$src/officemeter-$d.service"
    [ "$(prop "$f" Type)" = notify ] || om_fail "$d: Type is not notify"
    [ "$(prop "$f" NotifyAccess)" = main ] || om_fail "$d: NotifyAccess is not main"
    [ -n "$(prop "$f" WatchdogSec)" ] || om_fail "$d: no WatchdogSec"
    [ "$(prop "$f" Restart)" = on-failure ] || om_fail "$d: Restart is not on-failure"
    [ "$(prop "$f" User)" = officemeter ] && [ "$(prop "$f" Group)" = officemeter ] \
        || om_fail "$d: not run as officemeter"
    [ "$(prop "$f" StateDirectory)" = officemeter ] || om_fail "$d: no StateDirectory"
    [ "$(prop "$f" ConfigurationDirectory)" = officemeter ] || om_fail "$d: no ConfigurationDirectory"
    [ "$(prop "$f" ExecReload)" = '/bin/kill -HUP $MAINPID' ] || om_fail "$d: ExecReload"
    for k in NoNewPrivileges ProtectHome PrivateTmp ProtectKernelTunables ProtectKernelModules \
             ProtectControlGroups RestrictNamespaces LockPersonality MemoryDenyWriteExecute; do
        [ "$(prop "$f" "$k")" = yes ] || om_fail "$d: $k is not yes"
    done
    [ "$(prop "$f" ProtectSystem)" = strict ] || om_fail "$d: ProtectSystem is not strict"
    prop "$f" CapabilityBoundingSet | grep -qx '' || om_fail "$d: capabilities not dropped"
done
[ "$(prop "$src/officemeter-agent.service" SupplementaryGroups)" = dialout ] \
    || om_fail "agent: not in the dialout group"
[ "$(prop "$src/officemeter-agent.service" PrivateDevices)" = no ] \
    || om_fail "agent: PrivateDevices must be no (serial ports)"
prop "$src/officemeter-agent.service" DeviceAllow | grep -qx 'char-ttyUSB rw' \
    || om_fail "agent: USB serial adapters not allowed"
[ -z "$(prop "$src/officemeter-aggregator.service" SupplementaryGroups)" ] \
    || om_fail "aggregator: must not get supplementary groups"
[ "$(prop "$src/officemeter-aggregator.service" PrivateDevices)" = yes ] \
    || om_fail "aggregator: PrivateDevices must be yes"
[ -z "$(prop "$src/officemeter-web.service" SupplementaryGroups)" ] &&
    [ "$(prop "$src/officemeter-web.service" PrivateDevices)" = yes ] \
    || om_fail "web: no supplementary groups, PrivateDevices yes"
[ "$(prop "$src/officemeter-rollup.service" Type)" = oneshot ] || om_fail "rollup: not oneshot"
[ "$(prop "$src/officemeter-rollup.timer" OnCalendar)" = '*-*-01 02:30:00' ] \
    || om_fail "timer: not on the 1st at 02:30"
[ "$(prop "$src/officemeter-rollup.timer" Persistent)" = true ] || om_fail "timer: not persistent"
[ "$(prop "$src/officemeter-alerts.service" Type)" = oneshot ] || om_fail "alerts: not oneshot"
[ "$(prop "$src/officemeter-alerts.service" User)" = officemeter ] || om_fail "alerts: not run as officemeter"
[ "$(prop "$src/officemeter-alerts.timer" OnUnitActiveSec)" = 1min ] || om_fail "alerts timer: not every minute"
next=$(systemd-analyze calendar --iterations=2 '*-*-01 02:30:00' | sed -n 's/.*Next elapse: *//p;s/.*Iter. #2: *//p')
echo "timer elapses: $(echo "$next" | tr '\n' ';')" >&2
echo "$next" | grep -q -- '-01 02:30:00' || om_fail "timer does not elapse on the 1st at 02:30"

om_log "sysusers.d and tmpfiles.d in a scratch root"
root="$OM_TMP/root"
mkdir -p "$root/etc"
cp /etc/passwd /etc/group "$root/etc/"
systemd-sysusers --root="$root" "$src/officemeter.sysusers" >&2 || om_fail "systemd-sysusers failed"
entry=$(grep '^officemeter:' "$root/etc/passwd") || om_fail "sysusers did not create officemeter"
uid=$(echo "$entry" | cut -d: -f3)
[ "$(echo "$entry" | cut -d: -f6)" = /var/lib/officemeter ] || om_fail "home: $entry"
grep -q '^officemeter:' "$root/etc/group" || om_fail "sysusers did not create the officemeter group"
systemd-tmpfiles --root="$root" --create "$src/officemeter.tmpfiles" >&2 \
    || om_fail "systemd-tmpfiles failed"
[ "$(stat -c '%a %u' "$root/var/lib/officemeter")" = "750 $uid" ] \
    || om_fail "/var/lib/officemeter: $(stat -c '%a %u' "$root/var/lib/officemeter"), expected 750 $uid"
[ -d "$root/etc/officemeter/sites" ] || om_fail "tmpfiles did not create /etc/officemeter/sites"
echo "PASS"
