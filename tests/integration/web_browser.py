#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""web_browser.py - officemeter-web in a real browser (headless Chromium
driven by Selenium through chromedriver), for test_web_browser.sh.

  web_browser.py BASE_URL OUT_DIR SITE METER

For the portfolio, the site page, the meter page and the report page: the
page loads with no console message of level SEVERE (a script error, a
refused resource, a Content-Security-Policy violation), its charts are
drawn (SVG paths with points, bars with a height) and a screenshot goes to
OUT_DIR. The site page's monthly and daily figures equal the API's, exactly
(data-value cells against /api/v1); the meter page's "zoom in" link halves
the range and the chart is drawn again. Prints one line per check; exits
non-zero on the first failure.
"""
import json
import sys
import tempfile
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE, OUT, SITE, METER = sys.argv[1:5]


def api(path):
    with urllib.request.urlopen(BASE + path, timeout=60) as r:
        return json.load(r)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--user-data-dir=" + profile, "--window-size=1280,2200", "--hide-scrollbars"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def load(drv, path, shot):
    drv.get(BASE + path)
    title = drv.title
    if not title or title.startswith(("4", "5")):
        fail("%s: page title %r" % (path, title))
    severe = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    if severe:
        fail("%s: console errors: %s" % (path, severe))
    drv.save_screenshot("%s/%s.png" % (OUT, shot))
    print("ok %s loads without console errors (%s.png)" % (path, shot))


def path_points(drv, css):
    """Points drawn by the SVG paths matching css (the M and L commands)."""
    n = 0
    for p in drv.find_elements(By.CSS_SELECTOR, css):
        d = p.get_attribute("d") or ""
        n += d.count("M") + d.count("L")
    return n


def check_site(drv):
    load(drv, "/sites/" + SITE, "site")
    bars = [b for b in drv.find_elements(By.CSS_SELECTOR, "#chart-monthly-electricity rect.bar")
            if float(b.get_attribute("height")) > 0]
    if len(bars) < 12:
        fail("monthly chart: %d bars drawn" % len(bars))
    for chart in ("chart-daily-electricity", "chart-daily-water", "chart-night-electricity"):
        if path_points(drv, "#%s path.line" % chart) < 30:
            fail("%s: the line has fewer than 30 points" % chart)
    cells = drv.find_elements(By.CSS_SELECTOR, "#chart-week rect[data-value]")
    if len([c for c in cells if float(c.get_attribute("data-value")) > 0]) < 100:
        fail("typical week: fewer than 100 cells with a value")
    print("ok site charts drawn: %d bars, daily lines, week heatmap" % len(bars))
    # Monthly figures against the API (the report's monthly entries).
    year = drv.find_element(By.ID, "monthly").get_attribute("data-year")
    months = {m["month"]: m for m in api("/api/v1/sites/%s/monthly?year=%s" % (SITE, year))["monthly"]}
    compared = 0
    for row in drv.find_elements(By.CSS_SELECTOR, "#monthly tbody tr"):
        month = row.get_attribute("data-month")
        cell = row.find_elements(By.CSS_SELECTOR, "td.num")[0].get_attribute("data-value")
        want = months[month]["electricity_mwh"]
        got = float(cell) if cell else None
        if got != want:
            fail("%s: page shows %r MWh, the API %r" % (month, got, want))
        compared += 1
    print("ok %d monthly figures equal the API's" % compared)
    rows = drv.find_elements(By.CSS_SELECTOR, "#daily tbody tr")
    first, last = rows[-1].get_attribute("data-date"), rows[0].get_attribute("data-date")
    days = {d["date"]: d for d in api("/api/v1/sites/%s/daily?from=%s&to=%s" % (SITE, first, last))["days"]}
    for row in rows:
        cells = row.find_elements(By.CSS_SELECTOR, "td.num")
        for cell, key in zip(cells, ("electricity_kwh", "water_m3")):
            v = cell.get_attribute("data-value")
            got = float(v) if v else None
            if got != days[row.get_attribute("data-date")][key]:
                fail("%s %s: page %r, API %r" % (row.get_attribute("data-date"), key, got,
                                                 days[row.get_attribute("data-date")][key]))
    print("ok %d days of daily figures equal the API's" % len(rows))


def range_of(drv):
    return (drv.find_element(By.ID, "range-from").text, drv.find_element(By.ID, "range-to").text)


def check_meter(drv):
    load(drv, "/sites/%s/meters/%s?from=2025-01-01&to=2026-01-01" % (SITE, METER), "meter-year")
    if path_points(drv, "#chart-readings path.line") < 100:
        fail("meter chart: fewer than 100 points over a year")
    if not drv.find_elements(By.CSS_SELECTOR, "#chart-readings path.band"):
        fail("meter chart: no min-max band")
    before = range_of(drv)
    drv.find_element(By.ID, "zoom-in").click()
    after = range_of(drv)
    if after == before or not (before[0] < after[0] and after[1] < before[1]):
        fail("zoom in: range %s -> %s" % (before, after))
    if path_points(drv, "#chart-readings path.line") < 50:
        fail("meter chart after zooming: not drawn again")
    drv.save_screenshot("%s/meter-zoomed.png" % OUT)
    print("ok zoom in: %s .. %s -> %s .. %s" % (before + after))
    # The range with the meter's counter events: marked on the chart and listed.
    load(drv, "/sites/%s/meters/%s?quantity=energy_import_kwh&from=2025-09-01&to=2026-03-14" %
         (SITE, METER), "meter-events")
    kinds = {m.get_attribute("class") for m in drv.find_elements(By.CSS_SELECTOR, "#chart-readings line.mark")}
    if not kinds:
        fail("no counter event marked on the chart")
    print("ok events marked: %s" % sorted(kinds))


def main():
    with tempfile.TemporaryDirectory() as profile:
        drv = browser(profile)
        try:
            load(drv, "/", "portfolio")
            if not drv.find_elements(By.CSS_SELECTOR, "#portfolio tr[data-site]"):
                fail("the portfolio lists no site")
            if len(drv.find_elements(By.CSS_SELECTOR, "#chart-ytd rect.bar")) < 2:
                fail("the portfolio chart has no bars")
            check_site(drv)
            check_meter(drv)
            load(drv, "/report/2025", "report")
            if len(drv.find_elements(By.CSS_SELECTOR, "#kpis tr[data-kpi]")) < 10:
                fail("the report page has no KPI table")
        finally:
            drv.quit()


main()
