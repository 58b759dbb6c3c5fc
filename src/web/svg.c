/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svg.c - bars, lines and a week heatmap as SVG (svg.h).
 *
 * Every chart is a viewBox of W x H user units that the stylesheet scales
 * to the column's width; the plot area leaves room for the axis labels.
 * Y axes start at zero when all values are positive and get "nice" ticks
 * (1, 2 or 5 times a power of ten).
 */
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "officemeter/base/tz.h"

#define W 720.0
#define H 260.0
#define LEFT 56.0
#define RIGHT 12.0
#define TOP 14.0
#define BOTTOM 34.0

typedef struct {
    double lo, hi, step;
} axis;

static double nice_step(double span, int ticks)
{
    double raw = span / ticks;
    if (!(raw > 0))
        return 1;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static axis make_axis(double lo, double hi)
{
    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    }
    if (lo > 0)
        lo = 0;
    if (hi <= lo)
        hi = lo + 1;
    axis a;
    a.step = nice_step(hi - lo, 4);
    a.lo = floor(lo / a.step) * a.step;
    a.hi = ceil(hi / a.step) * a.step;
    if (a.hi <= a.lo)
        a.hi = a.lo + a.step;
    return a;
}

static double ypos(const axis *a, double v)
{
    return TOP + (H - TOP - BOTTOM) * (1 - (v - a->lo) / (a->hi - a->lo));
}

static void open_svg(wbuf *b, const char *id, const char *label)
{
    wb_printf(b, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
              "aria-label=\"", id, W, H);
    wb_html(b, label);
    wb_put(b, "\" xmlns=\"http://www.w3.org/2000/svg\">");
}

static void y_axis(wbuf *b, const axis *a, const char *unit)
{
    int steps = (int)lround((a->hi - a->lo) / a->step);
    for (int i = 0; i <= steps && i <= 20; i++) {
        double v = a->lo + i * a->step;
        double y = ypos(a, v);
        wb_printf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                  LEFT, W - RIGHT, y, y);
        wb_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                  LEFT - 4, y + 4);
        /* Whole numbers with grouped thousands; decimals as the step needs. */
        int dec = a->step >= 1 ? 0 : (int)ceil(-log10(a->step));
        wb_fixed(b, fabs(v) < a->step / 1e6 ? 0 : v, dec > 6 ? 6 : dec);
        wb_put(b, "</text>");
    }
    wb_printf(b, "<text class=\"unit\" x=\"4\" y=\"%.1f\">", TOP - 2);
    wb_html(b, unit);
    wb_put(b, "</text>");
}

void svg_bars(wbuf *b, const char *id, const char *const *labels, const double *a,
              const double *prev, size_t n, const char *unit, const char *name_a,
              const char *name_b)
{
    double lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(a[i]))
            hi = fmax(hi, a[i]), lo = fmin(lo, a[i]);
        if (prev && !isnan(prev[i]))
            hi = fmax(hi, prev[i]), lo = fmin(lo, prev[i]);
    }
    axis ax = make_axis(lo, hi);
    open_svg(b, id, unit);
    y_axis(b, &ax, unit);
    double slot = (W - LEFT - RIGHT) / (double)(n ? n : 1);
    double bar = slot * (prev ? 0.38 : 0.7);
    for (size_t i = 0; i < n; i++) {
        double x = LEFT + slot * (double)i + slot * 0.12;
        for (int k = 0; k < (prev ? 2 : 1); k++) {
            double v = k == 0 ? (prev ? prev[i] : a[i]) : a[i];
            const char *cls = k == 0 && prev ? "bar prev" : "bar";
            const char *name = k == 0 && prev ? name_b : name_a;
            if (!isnan(v)) {
                double y0 = ypos(&ax, 0), y1 = ypos(&ax, v);
                wb_printf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\" data-value=\"%.17g\"><title>", cls, x + k * bar,
                          fmin(y0, y1), bar, fabs(y0 - y1), v);
                wb_html(b, labels[i]);
                wb_printf(b, " %s: %.4g ", name, v);
                wb_html(b, unit);
                wb_put(b, "</title></rect>");
            }
        }
        wb_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                  LEFT + slot * ((double)i + 0.5), H - BOTTOM + 16);
        wb_html(b, labels[i]);
        wb_put(b, "</text>");
    }
    if (prev) {
        wb_printf(b, "<rect class=\"bar prev\" x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\"/>"
                  "<text class=\"tick\" x=\"%.0f\" y=\"%.0f\">", W - 230, H - 12, W - 216, H - 3);
        wb_html(b, name_b);
        wb_printf(b, "</text><rect class=\"bar\" x=\"%.0f\" y=\"%.0f\" width=\"10\" "
                  "height=\"10\"/><text class=\"tick\" x=\"%.0f\" y=\"%.0f\">", W - 120, H - 12,
                  W - 106, H - 3);
        wb_html(b, name_a);
        wb_put(b, "</text>");
    }
    wb_put(b, "</svg>");
}

static void time_label(int64_t t, const char *zone, bool with_time, char *buf, size_t len)
{
    struct tm tm;
    if (om_tz_utc_to_local(zone, t, &tm) < 0) {
        time_t s = (time_t)(t / 1000);
        gmtime_r(&s, &tm);
    }
    if (with_time)
        strftime(buf, len, "%d %b %H:%M", &tm);
    else
        strftime(buf, len, "%d %b %Y", &tm);
}

void svg_line(wbuf *b, const char *id, const int64_t *t, const double *y, const double *lo,
              const double *hi, size_t n, int64_t from, int64_t to, const char *unit,
              const char *zone, const svg_mark *marks, size_t nmarks)
{
    double vmin = INFINITY, vmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double a = lo ? lo[i] : y[i], z = hi ? hi[i] : y[i];
        if (!isnan(a))
            vmin = fmin(vmin, a);
        if (!isnan(z))
            vmax = fmax(vmax, z);
    }
    if (vmin > vmax)
        vmin = 0, vmax = 1;
    axis ax = make_axis(vmin, vmax);
    if (vmin < 0 || vmin > 0) {
        /* Voltages and counters: keep the axis on the data, not at zero. */
        double step = nice_step(vmax - vmin > 0 ? vmax - vmin : fabs(vmax) * 0.1 + 1, 4);
        ax.lo = floor(vmin / step) * step;
        ax.hi = ceil(vmax / step) * step;
        if (ax.hi <= ax.lo)
            ax.hi = ax.lo + step;
        ax.step = step;
    }
    open_svg(b, id, unit);
    y_axis(b, &ax, unit);
    double span = (double)(to > from ? to - from : 1);
#define XPOS(tt) (LEFT + (W - LEFT - RIGHT) * ((double)((tt) - from) / span))
    bool short_range = to - from <= 3 * 86400000LL;
    for (int i = 0; i <= 4; i++) {
        int64_t tt = from + (int64_t)((double)(to - from) * i / 4);
        char label[40];
        time_label(tt, zone, short_range, label, sizeof label);
        wb_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>",
                  XPOS(tt), H - BOTTOM + 16, i == 0 ? "start" : i == 4 ? "end" : "middle",
                  label);
    }
    if (lo && hi) {
        /* The band: one closed path per run of points without a gap. */
        wb_put(b, "<path class=\"band\" d=\"");
        size_t i = 0;
        while (i < n) {
            while (i < n && (isnan(lo[i]) || isnan(hi[i])))
                i++;
            size_t j = i;
            while (j < n && !isnan(lo[j]) && !isnan(hi[j]))
                j++;
            if (j > i) {
                for (size_t k = i; k < j; k++)
                    wb_printf(b, "%c%.1f %.1f", k == i ? 'M' : 'L', XPOS(t[k]), ypos(&ax, hi[k]));
                for (size_t k = j; k-- > i;)
                    wb_printf(b, "L%.1f %.1f", XPOS(t[k]), ypos(&ax, lo[k]));
                wb_put(b, "Z");
            }
            i = j;
        }
        wb_put(b, "\"/>");
    }
    wb_put(b, "<path class=\"line\" d=\"");
    bool pen = false;
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i])) {
            pen = false;
            continue;
        }
        wb_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', XPOS(t[i]), ypos(&ax, y[i]));
        pen = true;
    }
    wb_put(b, "\"/>");
    for (size_t i = 0; i < nmarks; i++) {
        if (marks[i].t < from || marks[i].t >= to)
            continue;
        double x = XPOS(marks[i].t);
        wb_printf(b, "<line class=\"mark %s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\">"
                  "<title>", marks[i].label, x, x, TOP, H - BOTTOM);
        wb_html(b, marks[i].label);
        wb_put(b, "</title></line>");
    }
#undef XPOS
    wb_put(b, "</svg>");
}

void svg_heatmap(wbuf *b, const char *id, const double *v, const char *unit)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    double vmax = 0;
    for (int i = 0; i < 7 * 24; i++)
        if (!isnan(v[i]))
            vmax = fmax(vmax, v[i]);
    open_svg(b, id, unit);
    double cw = (W - LEFT - RIGHT) / 24.0, ch = (H - TOP - BOTTOM) / 7.0;
    for (int d = 0; d < 7; d++) {
        wb_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                  LEFT - 4, TOP + ch * d + ch * 0.65, days[d]);
        for (int h = 0; h < 24; h++) {
            double x = v[d * 24 + h];
            /* Five shades: opacity from the share of the week's maximum. */
            double level = isnan(x) || vmax <= 0 ? 0 : x / vmax;
            wb_printf(b, "<rect class=\"cell%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill-opacity=\"%.2f\" data-value=\"%.6g\"><title>%s "
                      "%02d:00: %.3g ", isnan(x) ? " empty" : "", LEFT + cw * h, TOP + ch * d,
                      cw - 1, ch - 1, isnan(x) ? 1.0 : 0.1 + 0.9 * level, isnan(x) ? 0 : x,
                      days[d], h, isnan(x) ? 0 : x);
            wb_html(b, unit);
            wb_put(b, "</title></rect>");
        }
    }
    for (int h = 0; h < 24; h += 3)
        wb_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%02d</text>", LEFT + cw * h,
                  H - BOTTOM + 16, h);
    wb_put(b, "</svg>");
}
