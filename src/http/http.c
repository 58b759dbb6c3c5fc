/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - om_http_post over libcurl's easy interface.
 *
 * One easy handle per client, reused, so consecutive posts to one receiver
 * share a connection. Signals are off (CURLOPT_NOSIGNAL): the process's
 * own signal handling stays as it was, and name lookups time out through
 * libcurl's threaded resolver. Redirects are not followed: a webhook that
 * moved is a configuration to fix, not a body to send elsewhere.
 */
#include "officemeter/http/http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct om_http {
    CURL *curl;
};

typedef struct {
    char *buf;
    size_t len, used;
} sink;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

om_http *om_http_new(void)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return NULL;
    om_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return NULL;
    }
    return h;
}

void om_http_free(om_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

/* Keeps the first bytes of the answer; reads and drops the rest. */
static size_t on_data(char *data, size_t size, size_t n, void *user)
{
    sink *s = user;
    size_t bytes = size * n;
    if (s->buf && s->used + 1 < s->len) {
        size_t take = s->len - 1 - s->used < bytes ? s->len - 1 - s->used : bytes;
        memcpy(s->buf + s->used, data, take);
        s->used += take;
        s->buf[s->used] = '\0';
    }
    return bytes;
}

int om_http_post(om_http *h, const om_http_request *req, long *status, char *reply,
                 size_t replylen, char *err, size_t errlen)
{
    *status = 0;
    if (reply && replylen)
        reply[0] = '\0';
    CURL *c = h->curl;
    curl_easy_reset(c);
    char curl_err[CURL_ERROR_SIZE] = "";
    char ctype[128];
    snprintf(ctype, sizeof ctype, "Content-Type: %s",
             req->content_type ? req->content_type : "application/json");
    struct curl_slist *headers = curl_slist_append(NULL, ctype);
    /* No "Expect: 100-continue" round trip for a body of a few kB. */
    headers = headers ? curl_slist_append(headers, "Expect:") : NULL;
    for (size_t i = 0; headers && req->headers && req->headers[i]; i++)
        headers = curl_slist_append(headers, req->headers[i]);
    if (!headers) {
        snprintf(err, errlen, "%s: out of memory", req->url);
        return -1;
    }
    sink s = {reply, replylen, 0};
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "officemeter/" OM_VERSION);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", req->url, curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return 0;
}
