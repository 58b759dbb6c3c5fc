/* SPDX-License-Identifier: Apache-2.0 */
/*
 * id.c - the id rule (id.h).
 */
#include "officemeter/base/id.h"

#include <string.h>

bool om_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > OM_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}
