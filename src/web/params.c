/* SPDX-License-Identifier: Apache-2.0 */
/*
 * params.c - query parameters, each checked before use: a value that is
 * not what the route expects is a 400 that names the parameter, says what
 * it got and what it expects. Unknown parameters are refused too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "officemeter/base/isotime.h"
#include "officemeter/base/quantity.h"
#include "web.h"

/* At most this much of a bad value is echoed back. */
#define ECHO 40

int web_param_year(const web_req *rq, web_resp *rs, const char *name, int *out)
{
    const char *v = rq->arg(rq->argctx, name);
    if (!v)
        return 0;
    char *end;
    long y = strtol(v, &end, 10);
    if (end == v || *end || y < 1990 || y > 2100) {
        web_error(rq, rs, 400, "%s: invalid year (got \"%.*s\", expected a year from 1990 to "
                  "2100)", name, ECHO, v);
        return -1;
    }
    *out = (int)y;
    return 1;
}

int web_param_date(const web_req *rq, web_resp *rs, const char *name, int32_t *days)
{
    const char *v = rq->arg(rq->argctx, name);
    if (!v)
        return 0;
    if (strlen(v) != 10 || om_parse_date(v, days) < 0) {
        web_error(rq, rs, 400, "%s: invalid date (got \"%.*s\", expected YYYY-MM-DD)", name,
                  ECHO, v);
        return -1;
    }
    return 1;
}

int web_param_time(const web_req *rq, web_resp *rs, const char *name, int64_t *ms)
{
    const char *v = rq->arg(rq->argctx, name);
    if (!v)
        return 0;
    int32_t days;
    if (strlen(v) == 10 && om_parse_date(v, &days) == 0) {
        *ms = (int64_t)days * 86400000;
        return 1;
    }
    if (om_parse_iso8601(v, ms) < 0) {
        web_error(rq, rs, 400, "%s: invalid time (got \"%.*s\", expected YYYY-MM-DD or "
                  "YYYY-MM-DDTHH:MM:SSZ)", name, ECHO, v);
        return -1;
    }
    return 1;
}

int web_param_quantity(const web_req *rq, web_resp *rs, const char *name, int *quantity)
{
    const char *v = rq->arg(rq->argctx, name);
    if (!v)
        return 0;
    om_quantity q;
    if (om_quantity_from_name(v, &q) < 0) {
        web_error(rq, rs, 400, "%s: unknown quantity (got \"%.*s\", expected one of %s)", name,
                  ECHO, v, om_quantity_names());
        return -1;
    }
    *quantity = (int)q;
    return 1;
}

int web_param_uint(const web_req *rq, web_resp *rs, const char *name, unsigned lo, unsigned hi,
                   unsigned *out)
{
    const char *v = rq->arg(rq->argctx, name);
    if (!v)
        return 0;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end || v[0] == '-' || n < lo || n > hi) {
        web_error(rq, rs, 400, "%s: invalid number (got \"%.*s\", expected %u to %u)", name,
                  ECHO, v, lo, hi);
        return -1;
    }
    *out = (unsigned)n;
    return 1;
}

int web_params_only(const web_req *rq, web_resp *rs, const char *const *known)
{
    for (size_t i = 0; i < rq->nnames; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, rq->names[i]) == 0;
        if (!ok) {
            wbuf list = {0};
            for (const char *const *k = known; *k; k++)
                wb_printf(&list, "%s%s", k == known ? "" : ", ", *k);
            web_error(rq, rs, 400, "%.*s: unknown parameter (expected %s)", ECHO, rq->names[i],
                      list.len ? list.data : "none");
            wb_free(&list);
            return -1;
        }
    }
    return 0;
}
