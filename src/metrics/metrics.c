/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - histogram, text helpers and the /metrics server (metrics.h).
 *
 * The server is one libmicrohttpd thread: a scrape is a few kilobytes
 * every few seconds, and fill runs on that thread under the owner's lock,
 * never on the owner's main loop.
 */
#include "officemeter/metrics/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const double om_histogram_bounds[OM_HISTOGRAM_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

void om_histogram_observe(om_histogram *h, double seconds)
{
    for (int i = 0; i < OM_HISTOGRAM_BUCKETS; i++)
        if (seconds <= om_histogram_bounds[i]) {
            h->counts[i]++;
            break;
        }
    h->count++;
    h->sum += seconds;
}

void om_prom_head(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void om_prom_histogram(FILE *out, const char *name, const char *help, const om_histogram *h)
{
    om_prom_head(out, name, "histogram", help);
    uint64_t cumulative = 0;
    for (int i = 0; i < OM_HISTOGRAM_BUCKETS; i++) {
        cumulative += h->counts[i];
        fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, om_histogram_bounds[i],
                (unsigned long long)cumulative);
    }
    fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name,
            (unsigned long long)h->count, name, h->sum, name, (unsigned long long)h->count);
}

struct om_metrics_server {
    struct MHD_Daemon *d;
    om_metrics_fill fill;
    void *user;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    om_metrics_server *s = cls;
    if (!*con_cls) {
        *con_cls = s;
        return MHD_YES;
    }
    char *text = NULL;
    size_t len = 0;
    unsigned status = 200;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = 405;
    } else if (strcmp(url, "/metrics") != 0) {
        status = 404;
    } else {
        FILE *out = open_memstream(&text, &len);
        int rc = out ? s->fill(s->user, out) : -1;
        if (!out || fclose(out) != 0 || rc < 0)
            status = 500;
    }
    if (status != 200) {
        free(text);
        text = strdup(status == 404 ? "only /metrics here\n" : status == 405 ? "GET only\n"
                                                                             : "error\n");
        len = text ? strlen(text) : 0;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text ? text : (char *)"",
                                                             text ? MHD_RESPMEM_MUST_FREE
                                                                  : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

om_metrics_server *om_metrics_server_start(const char *listen, om_metrics_fill fill, void *user,
                                           char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errlen, "metrics_listen: not HOST:PORT (got \"%s\")", listen);
        return NULL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "metrics_listen: %s: %s", listen, gai_strerror(rc));
        return NULL;
    }
    om_metrics_server *s = calloc(1, sizeof *s);
    if (!s) {
        freeaddrinfo(res);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fill = fill;
    s->user = user;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | (res->ai_family == AF_INET6 ? MHD_USE_IPv6
                                                                                   : 0);
    errno = 0;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, s, MHD_OPTION_SOCK_ADDR, res->ai_addr,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)16, MHD_OPTION_END);
    freeaddrinfo(res);
    if (!s->d) {
        snprintf(err, errlen, "metrics_listen: cannot listen on %s%s%s", listen,
                 errno ? ": " : "", errno ? strerror(errno) : "");
        free(s);
        return NULL;
    }
    return s;
}

void om_metrics_server_stop(om_metrics_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
