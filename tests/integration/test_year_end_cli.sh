#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_year_end_cli.sh - the year-end sequence on the fixture portfolio's
# database (tests/unit/test_report.c --write-db): reconcile, report
# --approve, a reading changed after the approval (the next report is a
# restatement with the diff and the reason), the evidence pack as a folder
# and a zip rebuilt from its own files to the same hashes (and refused when
# a file was altered, or its manifest doctored to match), explain, and a
# bill entered twice (refused by the report, shown by reconcile).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
om_setup

OM_BUILD_DIR=${OM_BUILD_DIR:-$OM_SOURCE_DIR/build}
FIX="$OM_SOURCE_DIR/tests/data/report"
OM=("$OM_BIN/officemeter")
DB="$OM_TMP/fixture.db"
"$OM_BUILD_DIR/tests/test_report" --write-db "$DB" || om_fail "cannot write the fixture database"
ARGS=(--db "$DB" --sites "$FIX/sites" --catalogue "$OM_SOURCE_DIR/firmware-config/meters"
      --now 2025-02-01T00:00:00Z)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

om_log "check: the fixture's bills and policy pass"
"${OM[@]}" check --quiet --catalogue "$OM_SOURCE_DIR/firmware-config/meters" "$FIX/sites" ||
    om_fail "the fixture portfolio does not pass check"

om_log "reconcile: every format; flagged rows with their causes; --strict"
"${OM[@]}" reconcile "${ARGS[@]}" --year 2024 >"$OM_TMP/rec.md"
grep -q "^| bravo | electricity | UKE-4401 | INV-2024-03 | 2024-03-01..2024-03-31 | 8916.000 kWh | 8916.000 | 8916.000 | +0.000 | +0.00% |  | gap |" "$OM_TMP/rec.md" ||
    om_fail "bravo's March invoice: $(grep INV-2024-03 "$OM_TMP/rec.md")"
"${OM[@]}" reconcile "${ARGS[@]}" --year 2024 --format json -o "$OM_TMP/rec.json"
[ "$(json "$OM_TMP/rec.json" 'd["bills"], d["schema"]')" = "(8, 'officemeter.reconcile.v1')" ] ||
    om_fail "reconcile json: $(head -c 300 "$OM_TMP/rec.json")"
# Delta's own meter from 2024-07-15 against its share of the landlord's statement: 12.5 % over.
[ "$(json "$OM_TMP/rec.json" '[(round(r["variance_pct"], 9), r["flagged"], r["causes"]) for r in d["rows"] if r["document"] == "LL-W77-2024Q4"][0]')" = "(12.5, True, ['partial_meter'])" ] ||
    om_fail "the Q4 statement: $(grep LL-W77-2024Q4 "$OM_TMP/rec.md")"
"${OM[@]}" reconcile "${ARGS[@]}" --year 2024 --format csv -o "$OM_TMP/rec.csv"
head -1 "$OM_TMP/rec.csv" | grep -q "^site,sites,utility,account,document,period_start" || om_fail "reconcile csv header"
rc=0
"${OM[@]}" reconcile "${ARGS[@]}" --year 2024 --strict >/dev/null || rc=$?
[ "$rc" = 3 ] || om_fail "reconcile --strict with flagged rows: exit $rc, expected 3"
"${OM[@]}" reconcile "${ARGS[@]}" --year 2024 --site alpha --strict 2>"$OM_TMP/none.err" >/dev/null ||
    om_fail "alpha has no bills: nothing to flag"
grep -q "no bill touches 2024" "$OM_TMP/none.err" || om_fail "no notice of no bills"
om_expect_fail 2 "${OM[@]}" reconcile "${ARGS[@]}" --year 2024 --format pdf
om_expect_fail 2 "${OM[@]}" reconcile "${ARGS[@]}" --year 2024 --threshold -1
om_expect_fail 2 "${OM[@]}" reconcile "${ARGS[@]}"

om_log "a bill entered twice: the report refuses it, reconcile shows it"
cp -r "$FIX/sites" "$OM_TMP/sites2"
echo "electricity,UKE-4401,2024-02-01,2024-02-29,8352,kWh,invoice,INV-2024-02-REISSUED" >>"$OM_TMP/sites2/bills/bravo.csv"
ARGS2=(--db "$DB" --sites "$OM_TMP/sites2" --catalogue "$OM_SOURCE_DIR/firmware-config/meters"
       --now 2025-02-01T00:00:00Z)
rc=0
"${OM[@]}" report "${ARGS2[@]}" --year 2024 --format json -o "$OM_TMP/refused.json" 2>"$OM_TMP/twice.err" || rc=$?
[ "$rc" = 1 ] || om_fail "a bill twice: report exit $rc, expected 1"
grep -q "bills/bravo.csv:8:1: period_start: electricity account UKE-4401: 2024-02-01..2024-02-29 overlaps line 6 (INV-2024-02" "$OM_TMP/twice.err" ||
    om_fail "a bill twice: $(cat "$OM_TMP/twice.err")"
[ ! -e "$OM_TMP/refused.json" ] || om_fail "a report was written from a bill counted twice"
"${OM[@]}" reconcile "${ARGS2[@]}" --year 2024 --format json -o "$OM_TMP/twice.json"
[ "$(json "$OM_TMP/twice.json" '[(r["flagged"], r["causes"]) for r in d["rows"] if r["account"] == "UKE-4401" and r["document"] is None][0]')" = "(True, ['gap', 'double_counted'])" ] ||
    om_fail "the account total does not show the bill counted twice"

om_log "report --approve: who approves; a provisional year cannot be; the same report twice is one approval"
om_expect_fail 2 "${OM[@]}" report "${ARGS[@]}" --year 2024 --format md --approve
om_expect_fail 2 "${OM[@]}" report "${ARGS[@]}" --year 2024 --format md --by someone
rc=0
"${OM[@]}" report --db "$DB" --sites "$FIX/sites" --catalogue "$OM_SOURCE_DIR/firmware-config/meters" \
    --now 2024-12-20T00:00:00Z --year 2024 --format md --approve --by "A. Auditor" >/dev/null 2>"$OM_TMP/prov.err" || rc=$?
[ "$rc" = 1 ] && grep -q "^officemeter report: 2024 is provisional .*: it cannot be approved yet$" "$OM_TMP/prov.err" ||
    om_fail "approving a provisional year: exit $rc, $(cat "$OM_TMP/prov.err")"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format json -o "$OM_TMP/approved.json" --approve --by "A. Auditor" 2>"$OM_TMP/approve.err" ||
    om_fail "approve: $(cat "$OM_TMP/approve.err")"
sha=$(om_sql "$DB" "SELECT sha256 FROM report_approvals WHERE year = 2024")
[ ${#sha} = 64 ] || om_fail "no approval recorded: $sha"
[ "$(json "$OM_TMP/approved.json" 'd["approval"]["sha256"], d["approval"]["restated"], d["approval"]["approved_by"]')" = "('$sha', False, 'A. Auditor')" ] ||
    om_fail "the approved report does not say so"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format md --approve --by "A. Auditor" >/dev/null 2>"$OM_TMP/again.err"
grep -q "already approved" "$OM_TMP/again.err" || om_fail "approving the same report again: $(cat "$OM_TMP/again.err")"
[ "$(om_sql "$DB" "SELECT count(*) FROM report_approvals")" = 1 ] || om_fail "a second approval row for the same report"

om_log "evidence pack of the approved year: folder and zip, verified by rebuilding"
"${OM[@]}" evidence "${ARGS[@]}" --year 2024 -o "$OM_TMP/pack" >"$OM_TMP/pack.out"
grep -q "(approved)" "$OM_TMP/pack.out" || om_fail "pack: $(cat "$OM_TMP/pack.out")"
for f in manifest.json report/report-2024.md report/report-2024.csv report/report-2024.json \
         report/report-2024.xlsx report/approval.json inputs/sites/alpha.yaml inputs/sites/reporting.yaml \
         inputs/sites/emission-factors.yaml inputs/sites/bills/charlie.csv inputs/meters/tuf-2000m.yaml \
         data/rollups.csv data/events.csv data/boundaries.csv data/bills-used.csv data/reconcile.csv \
         data/gaps.csv data/rejects.csv data/inputs.json; do
    [ -s "$OM_TMP/pack/$f" ] || om_fail "pack: $f missing"
done
# Every meter-month of 2023 and 2024 has its boundaries: bravo-main in March 2024 is 743 h at 12 kW.
grep -q "^bravo,bravo-main,energy_import_kwh,2024,3,2024-03-01T00:00:00.000Z,2024-03-31T23:00:00.000Z,.*,8916\.0,[0-9a-f]\{64\}" "$OM_TMP/pack/data/boundaries.csv" ||
    om_fail "bravo's March boundaries: $(grep '^bravo,bravo-main,energy_import_kwh,2024,3,' "$OM_TMP/pack/data/boundaries.csv")"
[ "$(json "$OM_TMP/pack/manifest.json" 'd["report_sha256"]')" = "$sha" ] || om_fail "the manifest's report hash is not the approved one"
"${OM[@]}" evidence --verify "$OM_TMP/pack" >"$OM_TMP/verify.out" || om_fail "verify: $(cat "$OM_TMP/verify.out")"
[ "$(grep -c '^ok   report/report-2024\.' "$OM_TMP/verify.out")" = 4 ] || om_fail "verify did not rebuild md, csv, json and xlsx: $(cat "$OM_TMP/verify.out")"
"${OM[@]}" evidence "${ARGS[@]}" --year 2024 -o "$OM_TMP/pack.zip" >/dev/null
head -c 2 "$OM_TMP/pack.zip" | grep -q PK || om_fail "pack.zip is not a zip file"
"${OM[@]}" evidence --verify "$OM_TMP/pack.zip" >"$OM_TMP/verify-zip.out" || om_fail "verify zip: $(cat "$OM_TMP/verify-zip.out")"
om_expect_fail 1 "${OM[@]}" evidence "${ARGS[@]}" --year 2024 -o "$OM_TMP/pack"

om_log "an altered pack is refused, even with its manifest doctored to match"
cp -r "$OM_TMP/pack" "$OM_TMP/bad1"
# bravo's March, 8916 kWh, made 9916.
python3 - "$OM_TMP/bad1/data/rollups.csv" <<'PY'
import sys
lines = open(sys.argv[1], newline="").read().split("\r\n")
for i, line in enumerate(lines):
    f = line.split(",")
    if f[:7] == ["bravo", "bravo-main", "energy_import_kwh", "electricity", "main", "2024", "3"]:
        f[9] = "9916.0"
        lines[i] = ",".join(f)
open(sys.argv[1], "w", newline="").write("\r\n".join(lines))
PY
cmp -s "$OM_TMP/pack/data/rollups.csv" "$OM_TMP/bad1/data/rollups.csv" && om_fail "the planted change did not apply"
rc=0
"${OM[@]}" evidence --verify "$OM_TMP/bad1" >"$OM_TMP/bad1.out" || rc=$?
[ "$rc" = 1 ] && grep -q "^FAIL data/rollups.csv: SHA-256" "$OM_TMP/bad1.out" || om_fail "altered rollups: exit $rc, $(cat "$OM_TMP/bad1.out")"
python3 - "$OM_TMP/bad1" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, "manifest.json")))
for f in m["files"]:
    f["sha256"] = hashlib.sha256(open(os.path.join(root, f["path"]), "rb").read()).hexdigest()
json.dump(m, open(os.path.join(root, "manifest.json"), "w"), indent=2)
PY
rc=0
"${OM[@]}" evidence --verify "$OM_TMP/bad1" >"$OM_TMP/bad1b.out" || rc=$?
[ "$rc" = 1 ] && grep -q "^ok   [0-9]* files match the manifest" "$OM_TMP/bad1b.out" &&
    grep -q "^FAIL report/report-2024.json: rebuilt SHA-256" "$OM_TMP/bad1b.out" ||
    om_fail "a doctored manifest: exit $rc, $(cat "$OM_TMP/bad1b.out")"
python3 - "$OM_TMP/evil.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("manifest.json", "{}")
    z.writestr("../escaped.txt", "outside")
PY
om_expect_fail 1 "${OM[@]}" evidence --verify "$OM_TMP/evil.zip"
[ ! -e "$OM_TMP/escaped.txt" ] && [ ! -e /tmp/escaped.txt ] || om_fail "a zip entry was written outside the pack"

om_log "a reading corrected after the approval: the next report is a restatement, with the diff and why"
# 30 kWh more at bravo-main from 2024-06-20 on: June (and every later reading) moves up.
sqlite3 "$DB" "UPDATE readings SET value = value + 30 WHERE meter = (SELECT id FROM meters WHERE meter = 'bravo-main') AND t >= $(date -u -d 2024-06-20T00:00:00Z +%s)000"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format json -o "$OM_TMP/restated.json" 2>"$OM_TMP/restated.err"
grep -q "readings changed since these months were computed (late or corrected data): bravo 2024-06" "$OM_TMP/restated.err" ||
    om_fail "the changed month was not found: $(cat "$OM_TMP/restated.err")"
grep -q "RESTATES the one approved" "$OM_TMP/restated.err" || om_fail "no restatement on stderr"
python3 - "$OM_TMP/restated.json" "$sha" <<'PY' || om_fail "the restatement's diff"
import json, sys
d = json.load(open(sys.argv[1]))
a = d["approval"]
fig = {f["figure"]: (f["approved"], f["now"]) for f in a["figures"]}
problems = []
if not a["restated"] or a["sha256"] != sys.argv[2] or a["current_sha256"] == sys.argv[2]:
    problems.append("not a restatement of the approved report: %r" % a)
if fig.get("kpis.energy_total_mwh.value") != ("373.2", "373.23"):
    problems.append("energy: %r" % (fig.get("kpis.energy_total_mwh.value"),))
if fig.get("monthly.bravo.2024-06.electricity_mwh") != ("8.64", "8.67"):
    problems.append("bravo June: %r" % (fig.get("monthly.bravo.2024-06.electricity_mwh"),))
if not any("bravo 2024-06" in r and "late or corrected" in r for r in a["reasons"]):
    problems.append("reasons: %r" % a["reasons"])
if d["kpis"]["energy_total_mwh"]["value"] != 373.23:
    problems.append("the figure itself: %r" % d["kpis"]["energy_total_mwh"]["value"])
print("\n".join(problems), file=sys.stderr)
sys.exit(1 if problems else 0)
PY
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format md -o "$OM_TMP/restated.md" 2>/dev/null
grep -q "^\*\*This report restates the report of 2024 approved on 2025-02-01T00:00:00Z by A. Auditor\*\*" "$OM_TMP/restated.md" ||
    om_fail "no restatement in the Markdown"
grep -q "^| kpis.energy_total_mwh.value | 373.2 | 373.23 |$" "$OM_TMP/restated.md" || om_fail "no diff in the Markdown"
"${OM[@]}" evidence "${ARGS[@]}" --year 2024 -o "$OM_TMP/pack-restated" | grep -q "(a restatement)" ||
    om_fail "the pack of a restated year does not say so"
"${OM[@]}" evidence --verify "$OM_TMP/pack-restated" >/dev/null || om_fail "the restated pack does not verify"

om_log "approving the restatement needs a reason; then it is the approved report"
om_expect_fail 1 "${OM[@]}" report "${ARGS[@]}" --year 2024 --format md --approve --by "A. Auditor"
"${OM[@]}" report "${ARGS[@]}" --year 2024 --format json -o "$OM_TMP/reapproved.json" --approve --by "A. Auditor" \
    --reason "bravo's meter was read 30 kWh low from 20 June (corrected)" 2>/dev/null
[ "$(om_sql "$DB" "SELECT count(*), max(reason) FROM report_approvals WHERE year = 2024")" = "2|bravo's meter was read 30 kWh low from 20 June (corrected)" ] ||
    om_fail "the restatement's approval: $(om_sql "$DB" "SELECT year, approved_by, reason FROM report_approvals")"
[ "$(json "$OM_TMP/reapproved.json" 'd["approval"]["restated"]')" = "False" ] || om_fail "the re-approved report still restates"

om_log "explain: from a KPI to the readings, with the arithmetic"
"${OM[@]}" explain "${ARGS[@]}" --year 2024 ghg_total_t --site charlie >"$OM_TMP/explain.txt"
grep -q "^# ghg_total_t 2024: " "$OM_TMP/explain.txt" || om_fail "explain: no heading"
grep -q "^  = 70.272 MWh x 0.4168 t/MWh$" "$OM_TMP/explain.txt" || om_fail "explain: charlie's arithmetic"
grep -q "factor fx-sg-2024: 0.4168 tCO2/MWh" "$OM_TMP/explain.txt" || om_fail "explain: the factor"
grep -q "consumption = C(to) - C(from) = .* kWh; readings digest [0-9a-f]\{64\} (the stored month's)" "$OM_TMP/explain.txt" ||
    om_fail "explain: no boundary arithmetic"
[ "$(grep -c "^## " "$OM_TMP/explain.txt")" = 1 ] || om_fail "explain --site: other sites walked"
"${OM[@]}" explain "${ARGS[@]}" --year 2024 water_intensity_t_per_m2 >"$OM_TMP/explain2.txt"
grep -q "^  alpha: .* m², time-weighted: (2000 m² x 182 d + 1500 m² x 184 d) / 366 d$" "$OM_TMP/explain2.txt" ||
    om_fail "explain: alpha's area: $(grep alpha: "$OM_TMP/explain2.txt")"
grep -q "bill LL-W77-2024Q3 (landlord" "$OM_TMP/explain2.txt" || om_fail "explain: no bill"
om_expect_fail 2 "${OM[@]}" explain "${ARGS[@]}" --year 2024 energy_per_desk
om_expect_fail 2 "${OM[@]}" explain "${ARGS[@]}" --year 2024
for cmd in reconcile evidence explain; do
    "${OM[@]}" "$cmd" --help | grep -q "^usage: officemeter $cmd" || om_fail "$cmd --help"
done
echo "ok"
