/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the HTTP server in front of web_handle (http.c).
 */
#ifndef OFFICEMETER_WEB_HTTP_H
#define OFFICEMETER_WEB_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "web.h"

typedef struct web_http web_http;

/* Listens on cfg->listen (TLS when configured) with cfg->threads worker
 * threads. Returns NULL with the reason in err. */
web_http *web_http_start(web_ctx *w, char *err, size_t errlen);
void web_http_stop(web_http *h);
/* Forgets every remembered sign-in (after the users file was reloaded). */
void web_http_forget_logins(web_http *h);

/* "HOST:PORT" into an address. Returns 0, or -1 with err. */
int web_parse_listen(const char *text, struct sockaddr_storage *out, socklen_t *len, char *err,
                     size_t errlen);
bool web_addr_loopback(const struct sockaddr *sa);

#endif
