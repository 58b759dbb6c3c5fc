#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_web_browser.sh - the web view in headless Chromium (Selenium and
# chromedriver from Debian; label "browser"): every page loads without
# console errors, the charts are drawn, the figures shown equal the API's,
# the meter page's zoom changes the range (web_browser.py). Screenshots of
# each page are left in BUILD/test-output/web-browser/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
    om_fail "chromium and chromium-driver are not installed (scripts/setup installs them)"
out="${OM_BUILD_DIR:-$OM_TMP}/test-output/web-browser"
rm -rf "$out"
mkdir -p "$out"
NOW=2026-03-14T12:00:00Z
om_web_portfolio 3 6 2025-01-01T00:00:00Z 2026-03-14T12:00:00Z 900
"$OM_BIN/officemeter" rollup --db "$OM_DB" --sites "$OM_TMP/sites" --now "$NOW" \
    --catalogue "$OM_SOURCE_DIR/firmware-config/meters" --month 2026-02 --out "$OM_TMP" >/dev/null
om_web_config "$OM_TMP/web.yaml"
om_start_web "$OM_TMP/web.yaml" --now "$NOW"
# A bounded run: the browser gets two minutes at most.
timeout 120 /usr/bin/python3 "$OM_SOURCE_DIR/tests/integration/web_browser.py" \
    "http://127.0.0.1:$OM_WEB_PORT" "$out" w000 m0 ||
    { tail -20 "$OM_TMP/web.log" >&2; om_fail "the browser checks failed (screenshots in $out)"; }
ls "$out"/*.png >/dev/null || om_fail "no screenshots in $out"
echo "ok (screenshots in $out)"
