/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wjson.h - writing jansson values as the API serves them (wjson.c).
 */
#ifndef OFFICEMETER_WEB_WJSON_H
#define OFFICEMETER_WEB_WJSON_H

#include <jansson.h>
#include <math.h>

#include "web.h"

void web_json_dump(wbuf *b, const json_t *v);
void web_json_string(wbuf *b, const char *s);
/* A real, or null for NAN and infinities. */
json_t *web_json_num(double v);

#endif
