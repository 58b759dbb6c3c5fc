/* SPDX-License-Identifier: Apache-2.0 */
/*
 * array.c - om_grow (array.h).
 */
#include "officemeter/base/array.h"

#include <stdint.h>
#include <stdlib.h>

void *om_grow(void *items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : OM_GROW_FIRST;
    if (ncap < *cap || (size && ncap > SIZE_MAX / size))
        return NULL;
    void *grown = realloc(items, ncap * size);
    if (!grown)
        return NULL;
    *cap = ncap;
    return grown;
}
