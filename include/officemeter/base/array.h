/* SPDX-License-Identifier: Apache-2.0 */
/*
 * array.h - growing an array by doubling, the one way the project does it.
 *
 *     om_poll_result *grown = om_grow(q->items, &q->cap, q->n, sizeof *grown);
 *     if (!grown)
 *         return -1;          // q->items and q->cap are as they were
 *     q->items = grown;
 *     q->items[q->n++] = r;
 */
#ifndef OFFICEMETER_BASE_ARRAY_H
#define OFFICEMETER_BASE_ARRAY_H

#include <stddef.h>

/* Room for one more element in `items` (count elements of `size` bytes,
 * capacity *cap): the array itself while count < *cap, else the array
 * reallocated to twice the capacity (OM_GROW_FIRST for an empty one), with
 * *cap updated. NULL when memory ran out (or the size would overflow):
 * `items` is then still valid and *cap unchanged. */
void *om_grow(void *items, size_t *cap, size_t count, size_t size);

#define OM_GROW_FIRST 16

#endif
