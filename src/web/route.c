/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route.c - which handler answers a path, and who may see what.
 *
 *   /                                  portfolio (the user's sites)
 *   /sites/{site}                      site dashboard
 *   /sites/{site}/meters/{meter}       one meter's readings
 *   /report/{year}                     annual KPI table, ?site= for one site
 *   /report/{year}/download?format=    the report as xlsx, csv, json or md
 *   /api/v1/...                        JSON (api.c)
 *   /metrics                           Prometheus text format
 *   /static/web.css                    the stylesheet
 *
 * Access: a site a user may not see is a 403 before anything is looked up,
 * whether the site exists or not (a user learns nothing about the sites of
 * others). The portfolio report, /metrics and the whole status need a user
 * with every site (`all`); without a users file (loopback only) everyone
 * has every site.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/id.h"
#include "web.h"

#define MAX_PARTS 8

bool web_sees_all(const web_req *rq)
{
    return !rq->user || rq->user->all;
}

bool web_may_see(const web_req *rq, const char *site)
{
    return !rq->user || om_user_may_see(rq->user, site);
}

static bool is_api(const web_req *rq)
{
    return strncmp(rq->path, "/api/", 5) == 0 || strcmp(rq->path, "/metrics") == 0;
}

static void json_string(wbuf *b, const char *s)
{
    wb_put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            wb_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            wb_printf(b, "\\u%04x", *p);
        else
            wb_putn(b, (const char *)p, 1);
    }
    wb_put(b, "\"");
}

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void web_error(const web_req *rq, web_resp *rs, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wb_free(&rs->body);
    rs->status = status;
    rs->disposition[0] = '\0';
    if (is_api(rq)) {
        rs->type = "application/json";
        wb_printf(&rs->body, "{\"error\": {\"status\": %d, \"message\": ", status);
        json_string(&rs->body, msg);
        wb_put(&rs->body, "}}\n");
        return;
    }
    rs->type = "text/html; charset=utf-8";
    wb_printf(&rs->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<title>%d %s</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/web.css\"></head>"
              "<body><main><h1>%d %s</h1><p class=\"error\">", status, reason(status), status,
              reason(status));
    wb_html(&rs->body, msg);
    wb_put(&rs->body, "</p><p><a href=\"/\">Portfolio</a></p></main></body></html>\n");
}

/* Splits "/a/b/c" into parts (in place in buf). Returns the count, or -1
 * for an empty segment or too many. */
static int split(char *buf, char **parts)
{
    int n = 0;
    char *p = buf;
    if (*p == '/')
        p++;
    if (!*p)
        return 0;
    while (p) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (!*p || n == MAX_PARTS)
            return -1;
        parts[n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    return n;
}

static const char *const no_params[] = {NULL};

static void site_routes(web_ctx *w, const web_req *rq, web_resp *rs, char **parts, int n)
{
    const char *id = parts[1];
    if (!om_id_valid(id)) {
        web_error(rq, rs, 404, "no site \"%.64s\"", id);
        return;
    }
    if (!web_may_see(rq, id)) {
        web_error(rq, rs, 403, "site %s: not one of your sites", id);
        return;
    }
    const om_site *site = om_portfolio_site(&w->pf, id);
    if (!site) {
        web_error(rq, rs, 404, "no site \"%s\" in the portfolio", id);
        return;
    }
    if (n == 2) {
        web_page_site(w, rq, rs, site);
        return;
    }
    if (n == 4 && strcmp(parts[2], "meters") == 0) {
        const om_meter *m = om_id_valid(parts[3]) ? om_site_find_meter(site, parts[3]) : NULL;
        if (!m) {
            web_error(rq, rs, 404, "site %s has no meter \"%.64s\"", id, parts[3]);
            return;
        }
        web_page_meter(w, rq, rs, site, m);
        return;
    }
    web_error(rq, rs, 404, "no page %.200s", rq->path);
}

static void report_routes(web_ctx *w, const web_req *rq, web_resp *rs, char **parts, int n)
{
    char *end;
    long year = strtol(parts[1], &end, 10);
    if (end == parts[1] || *end || year < 1990 || year > 2100) {
        web_error(rq, rs, 404, "no report \"%.20s\" (expected a year from 1990 to 2100)",
                  parts[1]);
        return;
    }
    if (n == 2)
        web_page_report(w, rq, rs, (int)year);
    else if (n == 3 && strcmp(parts[2], "download") == 0)
        web_page_report_file(w, rq, rs, (int)year, rq->arg(rq->argctx, "format"));
    else
        web_error(rq, rs, 404, "no page %.200s", rq->path);
}

void web_handle(web_ctx *w, const web_req *rq, web_resp *rs)
{
    rs->status = 200;
    rs->type = "text/html; charset=utf-8";
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        web_error(rq, rs, 405, "%.16s: only GET and HEAD are served", rq->method);
        return;
    }
    char buf[512];
    if (strlen(rq->path) >= sizeof buf) {
        web_error(rq, rs, 404, "path too long");
        return;
    }
    snprintf(buf, sizeof buf, "%s", rq->path);
    char *parts[MAX_PARTS];
    int n = split(buf, parts);
    if (n < 0) {
        web_error(rq, rs, 404, "no page %.200s", rq->path);
        return;
    }
    if (n == 0) {
        if (web_params_only(rq, rs, no_params) == 0)
            web_page_portfolio(w, rq, rs);
    } else if (strcmp(parts[0], "sites") == 0 && n >= 2) {
        site_routes(w, rq, rs, parts, n);
    } else if (strcmp(parts[0], "report") == 0 && n >= 2) {
        report_routes(w, rq, rs, parts, n);
    } else if (strcmp(parts[0], "api") == 0 && n >= 3 && strcmp(parts[1], "v1") == 0) {
        web_api(w, rq, rs, parts + 2, (size_t)n - 2);
    } else if (n == 1 && strcmp(parts[0], "metrics") == 0) {
        if (!web_sees_all(rq))
            web_error(rq, rs, 403, "metrics: for users with every site (all)");
        else if (web_params_only(rq, rs, no_params) == 0)
            web_metrics(w, rq, rs);
    } else if (n == 2 && strcmp(parts[0], "static") == 0 && strcmp(parts[1], "web.css") == 0) {
        web_static_css(rs);
    } else {
        web_error(rq, rs, 404, "no page %.200s", rq->path);
    }
}
