#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_report_cli.sh - `officemeter rollup` and `officemeter report` on the
# fixture portfolio's database (the readings of tests/unit/test_report.c):
# the report built from stored rollups equals the golden files byte for
# byte in md, csv and json; the xlsx read back holds the JSON's numbers;
# rollups are idempotent and their CSV files complete; a changed policy
# makes the report recompute; bad usage fails with one clear line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
FIX="$OM_SOURCE_DIR/tests/data/report"
GOLDEN="$FIX/golden"
OM=("$OM_BIN/officemeter")
DB="$OM_TMP/fixture.db"
"$OM_BUILD_DIR/tests/test_report" --write-db "$DB" || om_fail "cannot write the fixture database"
ARGS=(--db "$DB" --sites "$FIX/sites" --catalogue "$OM_SOURCE_DIR/firmware-config/meters"
      --now 2025-02-01T00:00:00Z)

om_log "report from a database without rollups: rolls up the missing months first"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format json -o "$OM_TMP/r.json" 2>"$OM_TMP/err1"
# 4 sites x 12 months of 2024, 2023 (the previous year) and 2022 (a target's baseline).
grep -q "rolled up 144 site-months first" "$OM_TMP/err1" || om_fail "expected 144 months rolled up: $(cat "$OM_TMP/err1")"
cmp "$OM_TMP/r.json" "$GOLDEN/report-2024.json" || {
    diff "$GOLDEN/report-2024.json" "$OM_TMP/r.json" | head -20 >&2
    om_fail "json differs from the golden file"
}

om_log "md and csv from the stored rollups, nothing recomputed"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format md >"$OM_TMP/r.md" 2>"$OM_TMP/err2"
[ ! -s "$OM_TMP/err2" ] || om_fail "second report recomputed or complained: $(cat "$OM_TMP/err2")"
cmp "$OM_TMP/r.md" "$GOLDEN/report-2024.md" || om_fail "md differs from the golden file"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format csv -o "$OM_TMP/r.csv"
cmp "$OM_TMP/r.csv" "$GOLDEN/report-2024.csv" || om_fail "csv differs from the golden file"
ls "$OM_TMP"/r.csv.*.tmp 2>/dev/null && om_fail "a temporary file was left behind"

om_log "xlsx: read back, the cells hold the JSON's numbers"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format xlsx -o "$OM_TMP/r.xlsx"
python3 - "$OM_TMP/r.xlsx" "$OM_TMP/r.json" <<'PY' || om_fail "xlsx does not match the json"
import json, re, sys, zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
book = zipfile.ZipFile(sys.argv[1])
with open(sys.argv[2]) as f:
    report = json.load(f)

shared = []
if "xl/sharedStrings.xml" in book.namelist():
    for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", NS):
        shared.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))
rels = {r.get("Id"): r.get("Target") for r in
        ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))}
sheets = {}
for s in ET.fromstring(book.read("xl/workbook.xml")).find("m:sheets", NS):
    target = rels[s.get("{%s}id" % NS["r"])]
    sheets[s.get("name")] = "xl/" + target.lstrip("/").replace("xl/", "", 1)

def cells(name):
    """{(row, col): value} with numbers as float and strings as str."""
    out = {}
    for c in ET.fromstring(book.read(sheets[name])).iter("{%s}c" % NS["m"]):
        m = re.match(r"([A-Z]+)(\d+)", c.get("r"))
        col = 0
        for ch in m.group(1):
            col = col * 26 + ord(ch) - 64
        v = c.find("m:v", NS)
        if v is None:
            continue
        out[(int(m.group(2)), col)] = shared[int(v.text)] if c.get("t") == "s" else float(v.text)
    return out

problems = []
def same(what, got, want):
    if want is None:
        if got is not None:
            problems.append("%s: cell holds %r, json has null" % (what, got))
    elif not isinstance(got, float) or abs(got - want) > 1e-14 * max(1.0, abs(want)):
        problems.append("%s: cell %r, json %r" % (what, got, want))

expected = ["KPIs", "Sites", "Monthly", "Targets", "Changes", "Factors and notes"]
if list(sheets) != expected:
    problems.append("sheets %r, expected %r" % (list(sheets), expected))

k = cells("KPIs")
rows = {k[(r, 1)]: r for (r, c) in k if c == 1 and r > 1}
if set(rows) != set(report["kpis"]):
    problems.append("KPI keys differ: %r" % sorted(set(rows) ^ set(report["kpis"])))
for key, kpi in report["kpis"].items():
    r = rows.get(key)
    if r is None:
        continue
    same(key + " value", k.get((r, 5)), kpi["value"])
    same(key + " previous", k.get((r, 6)), kpi["previous"])
    same(key + " change", k.get((r, 7)), kpi["change_pct"])
    cov = kpi["coverage"]
    if cov["sites"]:
        same(key + " floor area share", k.get((r, 9)), cov["floor_area_share"])
        same(key + " time share", k.get((r, 10)), cov["time_share"])
        same(key + " metered share", k.get((r, 13)), cov["source_shares"]["metered"])
        same(key + " billed share", k.get((r, 14)), cov["source_shares"]["billed"])

s = cells("Sites")
for i, site in enumerate(report["sites"]):
    r = i + 2
    if s.get((r, 1)) != site["site"]:
        problems.append("Sites row %d is %r, expected %r" % (r, s.get((r, 1)), site["site"]))
    same(site["site"] + " energy", s.get((r, 5)), site["energy_mwh"])
    same(site["site"] + " water", s.get((r, 7)), site["water_t"])
    same(site["site"] + " ghg", s.get((r, 8)), site["ghg_t"])
    same(site["site"] + " market", s.get((r, 9)), site["ghg_market_t"])
    same(site["site"] + " area", s.get((r, 13)), site["floor_area_m2"])
    same(site["site"] + " electricity coverage", s.get((r, 15)), site["coverage"]["electricity"])
    same(site["site"] + " water billed", s.get((r, 20)), site["water_billed_t"])

mo = cells("Monthly")
for i, m in enumerate(report["monthly"]):
    r = i + 2
    if (mo.get((r, 1)), mo.get((r, 2))) != (m["site"], m["month"]):
        problems.append("Monthly row %d: %r" % (r, (mo.get((r, 1)), mo.get((r, 2)))))
    same("%s %s electricity" % (m["site"], m["month"]), mo.get((r, 3)), m["electricity_mwh"])
    same("%s %s water" % (m["site"], m["month"]), mo.get((r, 5)), m["water_t"])
    same("%s %s water billed" % (m["site"], m["month"]), mo.get((r, 12)), m["water_billed_t"])
    if mo.get((r, 13)) != m["source"]:
        problems.append("Monthly row %d source %r, json %r" % (r, mo.get((r, 13)), m["source"]))

t = cells("Targets")
for i, target in enumerate(report["targets"]):
    r = i + 2
    if t.get((r, 1)) != target["kpi"]:
        problems.append("Targets row %d is %r, expected %r" % (r, t.get((r, 1)), target["kpi"]))
    same(target["kpi"] + " baseline", t.get((r, 6)), target["baseline"])
    same(target["kpi"] + " value", t.get((r, 8)), target["value"])
    same(target["kpi"] + " path", t.get((r, 14)), target["path"])
    if t.get((r, 15)) != target["status"]:
        problems.append("target %s status %r" % (target["kpi"], t.get((r, 15))))

c = cells("Changes")
for i, change in enumerate(report["changes"]):
    r = i + 2
    if c.get((r, 1)) != change["kpi"]:
        problems.append("Changes row %d is %r, expected %r" % (r, c.get((r, 1)), change["kpi"]))
    same(change["kpi"] + " change", c.get((r, 6)), change["change"])
    for col, key in ((8, "sites"), (9, "floor_area"), (10, "intensity"), (11, "factor")):
        same("%s %s effect" % (change["kpi"], key), c.get((r, col)), change["effects"][key])
    if c.get((r, 13)) != change["text"]:
        problems.append("Changes row %d text differs" % r)

fn = cells("Factors and notes")
ids = [fn.get((r, 1)) for r in range(2, 2 + len(report["factors"]))]
if ids != [f["id"] for f in report["factors"]]:
    problems.append("factor ids %r" % ids)
for i, f in enumerate(report["factors"]):
    same(f["id"], fn.get((i + 2, 4)), f["value"])
texts = set(v for v in fn.values() if isinstance(v, str))
for note in report["notes"]:
    if note not in texts:
        problems.append("note missing: %s" % note[:60])
for site in report["sites"]:
    for flag in site["flags"]:
        if flag not in texts:
            problems.append("flag missing: %s" % flag[:60])

for p in problems[:20]:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

om_log "rollup: idempotent, one CSV per site, complete"
expect_missing_dir() {
    local rc=0
    "${OM[@]}" rollup "${ARGS[@]}" --month 2024-03 --out "$OM_TMP/out" >"$OM_TMP/o" 2>"$OM_TMP/e" || rc=$?
    [ "$rc" = 1 ] && [ "$(wc -l <"$OM_TMP/e")" = 1 ] && [ ! -s "$OM_TMP/o" ] ||
        om_fail "rollup into a missing folder: exit $rc, $(cat "$OM_TMP/e")"
}
expect_missing_dir
mkdir -p "$OM_TMP/out"
"${OM[@]}" rollup "${ARGS[@]}" --month 2024-03 --out "$OM_TMP/out" >"$OM_TMP/rollup1.txt"
count() { om_sql "$DB" "SELECT (SELECT count(*) FROM rollup_meters), (SELECT count(*) FROM rollup_events), (SELECT count(*) FROM rollup_months)"; }
before=$(count)
cp "$OM_TMP/out/bravo-2024-03.csv" "$OM_TMP/bravo1.csv"
"${OM[@]}" rollup "${ARGS[@]}" --month 2024-03 --out "$OM_TMP/out" >"$OM_TMP/rollup2.txt"
[ "$(count)" = "$before" ] || om_fail "re-running the rollup changed the row counts: $before -> $(count)"
cmp "$OM_TMP/rollup1.txt" "$OM_TMP/rollup2.txt" || om_fail "re-running the rollup changed its output"
cmp "$OM_TMP/bravo1.csv" "$OM_TMP/out/bravo-2024-03.csv" || om_fail "re-running the rollup changed the CSV"
[ "$(ls "$OM_TMP/out" | sort | tr '\n' ' ')" = "alpha-2024-03.csv bravo-2024-03.csv charlie-2024-03.csv delta-2024-03.csv " ] ||
    om_fail "expected one CSV per site, got: $(ls -a "$OM_TMP/out")"
grep -q "^bravo 2024-03: electricity 8916.000 kWh, water 371.500 m³, 3 meter rows, 1 events$" "$OM_TMP/rollup1.txt" ||
    om_fail "unexpected summary: $(cat "$OM_TMP/rollup1.txt")"
python3 - "$OM_TMP/out/bravo-2024-03.csv" <<'PY' || om_fail "bravo's March CSV is wrong"
import csv, sys
rows = {r["meter"] + "/" + r["utility"]: r for r in csv.DictReader(open(sys.argv[1], newline=""))}
m = rows["bravo-main/electricity"]
# 743 hours (DST) at 12 kW; the 168-hour gap interpolated; readings every 30 min less the gap's.
checks = [(m["consumption"], "8916.000000"), (m["estimated"], "2016.000000"),
          (m["readings"], str(743 * 2 - 335)), (m["rate_min"], "12.000"), (m["rate_max"], "12.000"),
          (m["night_base"], "12.000"), (m["nights"], "24"), (m["events"], "1"),
          (m["provisional"], "no"), (m["start"], "2024-03-01T00:00:00.000Z"),
          (m["end"], "2024-03-31T23:00:00.000Z"),
          (rows["bravo-water/water"]["night_base"], "0.500"),
          (rows["(site total)/electricity"]["consumption"], "8916.000000")]
bad = [(got, want) for got, want in checks if got != want]
if bad:
    print(bad, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

om_log "a month not over yet is provisional, and recomputed by the next report"
"${OM[@]}" rollup "${ARGS[@]}" --month 2024-12 --now 2024-12-20T00:00:00Z --no-csv | grep -q "(provisional)" ||
    om_fail "December 2024 at 2024-12-20 was not provisional"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format json -o "$OM_TMP/r2.json" 2>"$OM_TMP/err3"
grep -q "rolled up 4 site-months first" "$OM_TMP/err3" || om_fail "provisional months not recomputed: $(cat "$OM_TMP/err3")"
cmp "$OM_TMP/r2.json" "$GOLDEN/report-2024.json" || om_fail "json changed after recomputing"

om_log "a changed policy makes the stored months stale"
cp -r "$FIX/sites" "$OM_TMP/sites2"
sed -i 's/^gap_intervals: 4$/gap_intervals: 400/' "$OM_TMP/sites2/reporting.yaml"
"${OM[@]}" report --db "$DB" --sites "$OM_TMP/sites2" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
    --now 2025-02-01T00:00:00Z --year 2024 --format json -o "$OM_TMP/r3.json" 2>"$OM_TMP/err4"
grep -q "rolled up 144 site-months first" "$OM_TMP/err4" || om_fail "stale months not recomputed: $(cat "$OM_TMP/err4")"
python3 - "$OM_TMP/r3.json" <<'PY' || om_fail "with a 200-hour gap threshold nothing should be estimated"
import json, sys
k = json.load(open(sys.argv[1]))["kpis"]["energy_total_mwh"]
sys.exit(0 if k["value"] == 373.2 and k["coverage"]["estimated_share"] == 0.0 else 1)
PY

om_log "usage errors: one line, exit 2; a missing database: exit 1"
om_expect_fail 2 "${OM[@]}" report "${ARGS[@]}" --format json
om_expect_fail 2 "${OM[@]}" report "${ARGS[@]}" --year 2024 --format pdf
om_expect_fail 2 "${OM[@]}" report "${ARGS[@]}" --year 2024 --format xlsx
om_expect_fail 2 "${OM[@]}" report --sites "$FIX/sites" --year 2024 --format md
om_expect_fail 2 "${OM[@]}" rollup "${ARGS[@]}" --month 2024-13
om_expect_fail 2 "${OM[@]}" rollup "${ARGS[@]}" --site nowhere
om_expect_fail 1 "${OM[@]}" report --db "$OM_TMP/missing.db" --sites "$FIX/sites" --year 2024 --format md
om_log "without --month: each site's last complete month in its own zone"
"${OM[@]}" rollup --db "$DB" --sites "$FIX/sites" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
    --now 2024-03-31T20:00:00Z --no-csv | cut -d: -f1 >"$OM_TMP/default.txt"
# 20:00 UTC on 31 March is 1 April 04:00 in Shanghai and Singapore, still March in London.
printf 'alpha 2024-03\nbravo 2024-02\ncharlie 2024-03\ndelta 2024-03\n' | cmp - "$OM_TMP/default.txt" ||
    om_fail "default months: $(cat "$OM_TMP/default.txt")"
"${OM[@]}" report --help | grep -q "^usage: officemeter report" || om_fail "report --help"
"${OM[@]}" rollup --help | grep -q "^usage: officemeter rollup" || om_fail "rollup --help"
echo "ok"
