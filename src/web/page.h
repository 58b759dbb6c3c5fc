/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page.h - the frame every HTML page shares (pages.c): head, navigation,
 * the signed-in user, and the numbers' cells.
 */
#ifndef OFFICEMETER_WEB_PAGE_H
#define OFFICEMETER_WEB_PAGE_H

#include "web.h"

void page_begin(wbuf *b, const web_req *rq, const char *title, const char *crumbs_html);
void page_end(wbuf *b, web_ctx *w);
/* <td class="num" data-value="full precision">rounded</td>; NAN: an empty cell. */
void page_num_cell(wbuf *b, double v, int decimals);
/* A change in percent with its sign, "–" when not defined. */
void page_pct_cell(wbuf *b, double pct);

#endif
