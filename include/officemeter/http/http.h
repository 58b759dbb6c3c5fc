/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - one HTTP POST, for alert delivery (webhooks, Alertmanager).
 *
 * libcurl does the protocol (HTTP/1.1, HTTPS with the system's trust
 * store and host name verification, redirects refused); this is the one
 * place that knows it. A client handle keeps connections alive between
 * posts to the same receiver.
 */
#ifndef OFFICEMETER_HTTP_HTTP_H
#define OFFICEMETER_HTTP_HTTP_H

#include <stddef.h>

typedef struct om_http om_http;

/* Returns NULL on memory or when libcurl cannot start. */
om_http *om_http_new(void);
void om_http_free(om_http *h);

/* Extra request headers, "Name: value" each; NULL-terminated (may be NULL). */
typedef struct {
    const char *url;
    const char *content_type; /* "application/json" */
    const char *body;
    size_t len;
    const char *const *headers;
    unsigned timeout_ms;      /* the whole request */
} om_http_request;

/* POSTs; *status gets the HTTP status (0 when no answer came). Returns 0
 * when an answer came (any status), -1 with the reason in err otherwise
 * (connection refused, timeout, TLS, a bad URL). The first bytes of the
 * answer's body go to reply (NUL-terminated; may be NULL). */
int om_http_post(om_http *h, const om_http_request *req, long *status, char *reply,
                 size_t replylen, char *err, size_t errlen);

#endif
