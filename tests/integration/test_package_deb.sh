#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages: CPack, run on the build tree being tested (no second
# build: `cpack --config $OM_BUILD_DIR/CPackConfig.cmake -B scratch`; its
# "preinstall" step finds the tree up to date when ctest runs), makes
# officemeter-common, and officemeter-gateway / officemeter-central for each
# daemon that is built. Each is unpacked (dpkg-deb -x / -e) into a scratch
# root, as one machine holding all three, and checked:
#  - contents: binaries, units, configuration, the catalogue (the same files
#    as firmware-config/meters), docs, sysusers.d/tmpfiles.d; no file in two
#    packages (they must be installable together);
#  - control data: Package, Version, Architecture, Depends (the libraries
#    the binaries link, found by dpkg-shlibdeps, and officemeter-common at
#    the same version), Recommends, conffiles, maintainer scripts;
#  - the packaged units name the packaged binaries and the /etc config;
#  - the packaged tools run against the packaged catalogue and examples.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
[ -f "$OM_BUILD_DIR/CPackConfig.cmake" ] || om_fail "no CPackConfig.cmake in $OM_BUILD_DIR (configure first)"
command -v dpkg-deb >/dev/null || om_fail "dpkg-deb not found"

version=$(sed -n 's/^project(officemeter VERSION \([0-9.]*\).*/\1/p' "$OM_SOURCE_DIR/CMakeLists.txt")
[ -n "$version" ] || om_fail "cannot read the project version from CMakeLists.txt"
debversion="$version-1"
arch=$(dpkg --print-architecture)

om_log "cpack (DEB) from $OM_BUILD_DIR"
if ! cpack --config "$OM_BUILD_DIR/CPackConfig.cmake" -B "$OM_TMP/pkg" >"$OM_TMP/cpack.log" 2>&1; then
    cat "$OM_TMP/cpack.log" >&2
    om_fail "cpack failed"
fi
grep -E "CMake (Warning|Error)|CPack (Warning|Error)" "$OM_TMP/cpack.log" >&2 && om_fail "cpack printed warnings (above)"

packages=(officemeter-common)
[ -x "$OM_BIN/officemeter-agent" ] && packages+=(officemeter-gateway)
[ -x "$OM_BIN/officemeter-aggregator" ] && packages+=(officemeter-central)
[ -x "$OM_BIN/officemeter-agent" ] || echo "SKIP: officemeter-gateway: officemeter-agent not built"
[ -x "$OM_BIN/officemeter-aggregator" ] || echo "SKIP: officemeter-central: officemeter-aggregator not built"

root="$OM_TMP/root"
mkdir -p "$root" "$OM_TMP/control"
for p in "${packages[@]}"; do
    deb="$OM_TMP/pkg/${p}_${debversion}_${arch}.deb"
    [ -f "$deb" ] || { ls "$OM_TMP/pkg" >&2; om_fail "cpack did not make $(basename "$deb")"; }
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -e "$deb" "$OM_TMP/control/$p"
    dpkg-deb -c "$deb" >"$OM_TMP/$p.contents"
    echo "$p: $(grep -c -v '/$' "$OM_TMP/$p.contents") files" >&2
done

om_log "no file in two packages; everything owned by root"
cat "$OM_TMP"/*.contents | awk '$1 !~ /^d/ {print $6}' | sort | uniq -d >"$OM_TMP/dups"
[ ! -s "$OM_TMP/dups" ] || { cat "$OM_TMP/dups" >&2; om_fail "files shipped by two packages"; }
awk '$2 != "root/root"' "$OM_TMP"/*.contents | grep . >&2 && om_fail "files not owned by root"

# field PACKAGE NAME: a control field
field() {
    sed -n "s/^$2: //p" "$OM_TMP/control/$1/control"
}
# has_dep PACKAGE DEPENDENCY: DEPENDENCY (a package name) is in Depends.
has_dep() {
    field "$1" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$2" \
        || om_fail "$1: Depends lacks $2 (Depends: $(field "$1" Depends))"
}
# has_file PATH [MODE]: a regular file of the unpacked root.
has_file() {
    [ -f "$root/$1" ] || om_fail "missing /$1"
    if [ -n "${2:-}" ]; then
        [ "$(stat -c %a "$root/$1")" = "$2" ] || om_fail "/$1: mode $(stat -c %a "$root/$1"), expected $2"
    fi
}
# check_script PACKAGE SCRIPT: an executable POSIX shell script.
check_script() {
    local f="$OM_TMP/control/$1/$2"
    [ -f "$f" ] || om_fail "$1: no $2"
    [ "$(stat -c %a "$f")" = 755 ] || om_fail "$1: $2 is not 0755"
    sh -n "$f" || om_fail "$1: $2 is not valid sh"
}

for p in "${packages[@]}"; do
    [ "$(field "$p" Package)" = "$p" ] || om_fail "$p: Package is $(field "$p" Package)"
    [ "$(field "$p" Version)" = "$debversion" ] || om_fail "$p: Version $(field "$p" Version), expected $debversion"
    [ "$(field "$p" Architecture)" = "$arch" ] || om_fail "$p: Architecture $(field "$p" Architecture)"
    [ -n "$(field "$p" Maintainer)" ] || om_fail "$p: no Maintainer"
    field "$p" Description | grep -q officemeter || om_fail "$p: no Description"
    has_dep "$p" libc6
    echo "$p: Depends: $(field "$p" Depends)" >&2
done

om_log "officemeter-common: CLI, catalogue, docs, user"
has_file usr/bin/officemeter 755
has_dep officemeter-common adduser
for lib in libmodbus5 libyaml-0-2 libjansson4 libsqlite3-0; do
    has_dep officemeter-common "$lib"
done
n=0
for src in "$OM_SOURCE_DIR"/firmware-config/meters/*.yaml; do
    cmp -s "$src" "$root/usr/share/officemeter/meters/$(basename "$src")" \
        || om_fail "catalogue: /usr/share/officemeter/meters/$(basename "$src") missing or different"
    n=$((n + 1))
done
[ "$(find "$root/usr/share/officemeter/meters" -type f | wc -l)" -eq "$n" ] \
    || om_fail "catalogue: files other than the $n models"
has_file usr/lib/sysusers.d/officemeter.conf 644
has_file usr/lib/tmpfiles.d/officemeter.conf 644
grep -q '^u officemeter ' "$root/usr/lib/sysusers.d/officemeter.conf" || om_fail "sysusers.d: no officemeter user"
has_file usr/share/doc/officemeter/README.md
has_file usr/share/doc/officemeter/LICENSE
for p in "${packages[@]}"; do
    has_file "usr/share/doc/$p/copyright"
    cmp -s "$OM_SOURCE_DIR/packaging/deb/copyright" "$root/usr/share/doc/$p/copyright" ||
        om_fail "$p: its copyright file differs from packaging/deb/copyright"
done
has_file usr/share/doc/officemeter/docs/deployment.md
has_file usr/share/doc/officemeter/docs/sites.md
[ -d "$root/etc/officemeter/sites" ] || om_fail "no /etc/officemeter/sites folder"
for s in "$OM_SOURCE_DIR"/sites/*.yaml; do
    cmp -s "$s" "$root/usr/share/doc/officemeter/examples/sites/$(basename "$s")" || om_fail "example $(basename "$s") missing"
done
check_script officemeter-common postinst
grep -q 'adduser --system' "$OM_TMP/control/officemeter-common/postinst" || om_fail "postinst does not create the user"
"$root/usr/bin/officemeter" --version | grep -qx "officemeter $version" || om_fail "packaged officemeter --version"
"$root/usr/bin/officemeter" check --quiet --catalogue "$root/usr/share/officemeter/meters" \
    "$root/usr/share/doc/officemeter/examples/sites" "$root/usr/share/officemeter/meters" \
    || om_fail "the packaged examples do not check against the packaged catalogue"

# check_unit UNIT: packaged, identical to systemd/UNIT (the package prefix is
# /usr, which the units already name), its ExecStart binary packaged.
check_unit() {
    local f="usr/lib/systemd/system/$1" bin
    has_file "$f" 644
    cmp -s "$root/$f" "$OM_SOURCE_DIR/systemd/$1" || om_fail "/$f differs from systemd/$1"
    bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$root/$f")
    [ -x "$root$bin" ] || om_fail "$1: ExecStart names $bin, not in the packages"
}
# check_conffile PACKAGE FILE
check_conffile() {
    has_file "${2#/}" 644
    grep -qx "$2" "$OM_TMP/control/$1/conffiles" 2>/dev/null || om_fail "$1: $2 is not a conffile"
    grep -q '^catalogue: /usr/share/officemeter/meters ' "$root$2" || om_fail "$2: catalogue not the packaged one"
}

if [ -x "$OM_BIN/officemeter-agent" ]; then
    om_log "officemeter-gateway: agent, unit, config"
    has_file usr/bin/officemeter-agent 755
    check_unit officemeter-agent.service
    check_conffile officemeter-gateway /etc/officemeter/agent.yaml
    grep -q '^site_file: sites/' "$root/etc/officemeter/agent.yaml" || om_fail "agent.yaml: site_file not under /etc/officemeter/sites"
    has_dep officemeter-gateway officemeter-common
    field officemeter-gateway Depends | grep -q "officemeter-common (= $debversion)" \
        || om_fail "officemeter-gateway must depend on officemeter-common (= $debversion)"
    for lib in libmodbus5 libpaho-mqtt1.3 libsqlite3-0 libyaml-0-2 libjansson4; do
        has_dep officemeter-gateway "$lib"
    done
    for s in postinst prerm postrm; do check_script officemeter-gateway "$s"; done
    "$root/usr/bin/officemeter-agent" --help >/dev/null || om_fail "packaged officemeter-agent --help"
fi

if [ -x "$OM_BIN/officemeter-aggregator" ]; then
    om_log "officemeter-central: aggregator, units, config"
    has_file usr/bin/officemeter-aggregator 755
    has_file usr/bin/officemeter-web 755
    has_file etc/officemeter/web.yaml 644
    grep -qx /etc/officemeter/web.yaml "$OM_TMP/control/officemeter-central/conffiles" ||
        om_fail "officemeter-central: /etc/officemeter/web.yaml is not a conffile"
    grep -q '^aggregator_config: /etc/officemeter/aggregator.yaml' "$root/etc/officemeter/web.yaml" ||
        om_fail "web.yaml: aggregator_config is not the packaged aggregator.yaml"
    "$root/usr/bin/officemeter-web" --help >/dev/null || om_fail "packaged officemeter-web --help"
    for u in officemeter-aggregator.service officemeter-rollup.service officemeter-rollup.timer \
             officemeter-web.service officemeter-alerts.service officemeter-alerts.timer; do
        check_unit "$u"
    done
    if [ -f "$OM_SOURCE_DIR/firmware-config/aggregator/aggregator.yaml" ]; then
        check_conffile officemeter-central /etc/officemeter/aggregator.yaml
        grep -q '^sites_dir: sites ' "$root/etc/officemeter/aggregator.yaml" || om_fail "aggregator.yaml: sites_dir not /etc/officemeter/sites"
    fi
    field officemeter-central Depends | grep -q "officemeter-common (= $debversion)" \
        || om_fail "officemeter-central must depend on officemeter-common (= $debversion)"
    for lib in libpaho-mqtt1.3 libsqlite3-0 libyaml-0-2 libjansson4; do
        has_dep officemeter-central "$lib"
    done
    field officemeter-central Recommends | grep -qw mosquitto || om_fail "officemeter-central should recommend mosquitto"
    for s in postinst prerm postrm; do check_script officemeter-central "$s"; done
    "$root/usr/bin/officemeter-aggregator" --help >/dev/null || om_fail "packaged officemeter-aggregator --help"
fi
echo "PASS (${packages[*]})"
