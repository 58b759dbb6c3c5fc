/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_users.c - the web view's users file (users/users.h): loaded, or
 * refused with errors naming the file; every loaded user has a name and a
 * hash, and sees every site or a list of them.
 */
#include "fuzzutil.h"
#include "officemeter/users/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("web-users", data, size);
    om_diag diag;
    om_diag_init(&diag);
    om_users users = {0};
    int rc = om_users_load(path, &users, &diag);
    fuzz_check_diag(&diag, path);
    for (size_t i = 0; rc == 0 && i < users.n; i++) {
        const om_user *u = &users.users[i];
        FUZZ_CHECK(u->name && u->name[0] && u->hash && u->hash[0], "user %zu incomplete", i);
        FUZZ_CHECK(u->all || u->nsites > 0, "user %s sees no site", u->name);
        FUZZ_CHECK(om_users_find(&users, u->name) != NULL, "user %s not found again", u->name);
    }
    om_users_free(&users);
    om_diag_free(&diag);
    return 0;
}
