/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - libmicrohttpd in front of web_handle: listening (plain or TLS),
 * who is asking (HTTP Basic against the users file, or a trusted reverse
 * proxy's header from a loopback peer), the security headers every
 * response carries, and the request counters.
 *
 * Checking a yescrypt hash costs tens of milliseconds by design; a
 * browser sends the same Authorization header with every request, so a
 * header that was verified is remembered (in memory, for AUTH_CACHE_S
 * seconds, at most AUTH_CACHE entries) and the next request costs a
 * string compare. A failed attempt is never remembered.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "officemeter/base/clock.h"
#include "officemeter/daemon/log.h"

#define AUTH_CACHE 64
#define AUTH_CACHE_S 300
#define MAX_ARGS 32

static const char csp[] = "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                          "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

typedef struct {
    char *header;  /* the Authorization header as sent */
    char user[64];
    int64_t until; /* monotonic ms */
} auth_entry;

struct web_http {
    web_ctx *w;
    struct MHD_Daemon *d;
    bool tls;
    pthread_mutex_t lock;
    auth_entry cache[AUTH_CACHE];
    char *cert, *key;
};

/* ---- the listen address ------------------------------------------------------- */

int web_parse_listen(const char *text, struct sockaddr_storage *out, socklen_t *len, char *err,
                     size_t errlen)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) {
        snprintf(err, errlen, "listen: not HOST:PORT (got \"%s\")", text);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        char *close = strchr(host, ']');
        if (close)
            *close = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "listen: %s: %s", text, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

bool web_addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

/* ---- who is asking ------------------------------------------------------------------ */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 into out (NUL-terminated). Returns the length, or -1. */
static int b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        int v = b64_value(*p);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return (int)n;
}

static const char *cached_user(web_http *h, const char *header)
{
    int64_t now = om_mono_ms();
    for (size_t i = 0; i < AUTH_CACHE; i++)
        if (h->cache[i].header && h->cache[i].until > now &&
            strcmp(h->cache[i].header, header) == 0)
            return h->cache[i].user;
    return NULL;
}

static void remember(web_http *h, const char *header, const char *user)
{
    size_t slot = 0;
    for (size_t i = 0; i < AUTH_CACHE; i++)
        if (!h->cache[i].header || h->cache[i].until < h->cache[slot].until)
            slot = i;
    free(h->cache[slot].header);
    h->cache[slot].header = strdup(header);
    snprintf(h->cache[slot].user, sizeof h->cache[slot].user, "%s", user);
    h->cache[slot].until = om_mono_ms() + AUTH_CACHE_S * 1000;
}

void web_http_forget_logins(web_http *h)
{
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < AUTH_CACHE; i++) {
        free(h->cache[i].header);
        h->cache[i].header = NULL;
    }
    pthread_mutex_unlock(&h->lock);
}

/* The user of a Basic Authorization header, or NULL. */
static const om_user *basic_user(web_http *h, const char *header)
{
    if (!header || strncasecmp(header, "Basic ", 6) != 0)
        return NULL;
    pthread_mutex_lock(&h->lock);
    const char *known = cached_user(h, header);
    const om_user *u = known ? om_users_find(&h->w->users, known) : NULL;
    pthread_mutex_unlock(&h->lock);
    if (u)
        return u;
    char plain[512];
    if (b64_decode(header + 6, plain, sizeof plain) < 0)
        return NULL;
    char *colon = strchr(plain, ':');
    if (!colon)
        return NULL;
    *colon = '\0';
    u = om_users_find(&h->w->users, plain);
    bool ok = u && om_user_check_password(u, colon + 1);
    explicit_bzero(plain, sizeof plain);
    if (!ok)
        return NULL;
    pthread_mutex_lock(&h->lock);
    remember(h, header, u->name);
    pthread_mutex_unlock(&h->lock);
    return u;
}

/* ---- one request ----------------------------------------------------------------------- */

typedef struct {
    struct MHD_Connection *c;
    const char *names[MAX_ARGS];
    size_t n;
    bool too_many;
} args;

static const char *arg_of(void *ctx, const char *name)
{
    args *a = ctx;
    return MHD_lookup_connection_value(a->c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result collect_arg(void *ctx, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    args *a = ctx;
    if (a->n == MAX_ARGS) {
        a->too_many = true;
        return MHD_NO;
    }
    a->names[a->n++] = key;
    return MHD_YES;
}

static void count(web_ctx *w, int status)
{
    pthread_mutex_lock(&w->lock);
    int cls = status / 100 - 2;
    if (cls >= 0 && cls < 4)
        w->requests[cls]++;
    pthread_mutex_unlock(&w->lock);
}

static enum MHD_Result send_resp(web_http *h, struct MHD_Connection *c, web_resp *rs,
                                 bool challenge)
{
    size_t len = rs->body.failed ? 0 : rs->body.len;
    char *body = rs->body.failed ? NULL : rs->body.data;
    if (rs->body.failed) {
        free(rs->body.data);
        rs->status = 500;
        rs->type = "text/plain; charset=utf-8";
        body = strdup("out of memory\n");
        len = body ? strlen(body) : 0;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    memset(&rs->body, 0, sizeof rs->body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", rs->type);
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", rs->no_store ? "no-store" : "private, max-age=0");
    if (h->tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    if (rs->disposition[0])
        MHD_add_response_header(r, "Content-Disposition", rs->disposition);
    if (challenge)
        MHD_add_response_header(r, "WWW-Authenticate",
                                "Basic realm=\"officemeter\", charset=\"UTF-8\"");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    count(h->w, rs->status);
    return ok;
}

static const om_user *proxy_user(web_http *h, struct MHD_Connection *c, bool *refused)
{
    const char *header = h->w->cfg->proxy_user_header;
    const char *name = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
    if (!name)
        return NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    /* Only the proxy on this machine may say who the user is. */
    if (!ci || !ci->client_addr || !web_addr_loopback(ci->client_addr)) {
        *refused = true;
        return NULL;
    }
    return om_users_find(&h->w->users, name);
}

static enum MHD_Result answer(web_http *h, struct MHD_Connection *c, const char *url,
                              const char *method);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    web_http *h = cls;
    web_ctx *w = h->w;
    if (!*con_cls) {
        /* First call: headers only. Bodies are not read (GET and HEAD). */
        *con_cls = h;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    pthread_rwlock_rdlock(&w->users_lock);
    enum MHD_Result res = answer(h, c, url, method);
    pthread_rwlock_unlock(&w->users_lock);
    return res;
}

static enum MHD_Result answer(web_http *h, struct MHD_Connection *c, const char *url,
                              const char *method)
{
    web_ctx *w = h->w;
    args a = {.c = c};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    web_req rq = {method, url, arg_of, &a, a.names, a.n, NULL};
    web_resp rs = {0};
    int64_t t0 = om_mono_us();
    if (a.too_many) {
        rs.status = 400;
        web_error(&rq, &rs, 400, "more than %d query parameters", MAX_ARGS);
        return send_resp(h, c, &rs, false);
    }
    if (w->have_users) {
        bool refused = false;
        const om_user *u = w->cfg->proxy_user_header ? proxy_user(h, c, &refused) : NULL;
        if (refused) {
            web_error(&rq, &rs, 403, "%s: accepted from the reverse proxy on this machine only",
                      w->cfg->proxy_user_header);
            return send_resp(h, c, &rs, false);
        }
        if (!u)
            u = basic_user(h, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
        if (!u) {
            web_error(&rq, &rs, 401, "sign in with a user of the users file");
            return send_resp(h, c, &rs, true);
        }
        rq.user = u;
    }
    /* The same user asking the same URL again within page_cache_s gets the
     * same answer (dashboards refresh in minutes, people reload in
     * seconds), and asking it while it is computed waits for that answer
     * (page_cache.c); /metrics is always fresh. */
    char key[1200];
    size_t kn = (size_t)snprintf(key, sizeof key, "%s\x1f%s", rq.user ? rq.user->name : "-", url);
    for (size_t i = 0; i < a.n && kn < sizeof key; i++) {
        const char *v = arg_of(&a, a.names[i]);
        kn += (size_t)snprintf(key + kn, sizeof key - kn, "\x1f%s=%s", a.names[i], v ? v : "");
    }
    bool cacheable = kn < sizeof key && strcmp(url, "/metrics") != 0;
    web_page_claim claim = cacheable ? web_page_cache_get(w, key, &rs) : WEB_PAGE_COMPUTE;
    if (claim == WEB_PAGE_HIT)
        return send_resp(h, c, &rs, false);
    web_handle(w, &rq, &rs);
    if (cacheable)
        web_page_cache_put(w, key, &rs, claim);
    om_log(OM_LOG_DEBUG, "%s %s %d %zu bytes %lld us%s%s", method, url, rs.status, rs.body.len,
           (long long)(om_mono_us() - t0), rq.user ? " user " : "",
           rq.user ? rq.user->name : "");
    return send_resp(h, c, &rs, false);
}

/* ---- starting and stopping --------------------------------------------------------------- */

static char *slurp(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char buf[8192];
    size_t n;
    while (m && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    if (!m || fclose(m) != 0) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    return text;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    om_log_limited(msg, OM_LOG_REPEAT_MS, OM_LOG_WARNING, "http: %s", msg);
}

web_http *web_http_start(web_ctx *w, char *err, size_t errlen)
{
    web_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->w = w;
    pthread_mutex_init(&h->lock, NULL);
    struct sockaddr_storage addr;
    socklen_t len;
    if (web_parse_listen(w->cfg->listen, &addr, &len, err, errlen) < 0)
        goto fail;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (w->cfg->has_tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "tls: this libmicrohttpd was built without TLS");
            goto fail;
        }
        if (!(h->cert = slurp(w->cfg->tls.cert_file, err, errlen)) ||
            !(h->key = slurp(w->cfg->tls.key_file, err, errlen)))
            goto fail;
        flags |= MHD_USE_TLS;
        h->tls = true;
    }
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)w->cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
        MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s%s%s", w->cfg->listen,
                 errno ? ": " : "", errno ? strerror(errno) : "");
        goto fail;
    }
    return h;
fail:
    web_http_stop(h);
    return NULL;
}

void web_http_stop(web_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    web_http_forget_logins(h);
    pthread_mutex_destroy(&h->lock);
    if (h->key)
        explicit_bzero(h->key, strlen(h->key));
    free(h->key);
    free(h->cert);
    free(h);
}
