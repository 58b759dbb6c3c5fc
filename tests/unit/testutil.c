/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil.c - shared helpers of the unit tests (testutil.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "officemeter/base/crc16.h"
#include "officemeter/base/isotime.h"
#include "testutil.h"

int64_t om_test_iso(const char *text)
{
    int64_t ms = 0;
    if (om_parse_iso8601(text, &ms) < 0)
        fail_msg("not an ISO 8601 time: \"%s\"", text);
    return ms;
}

void om_test_near_(double got, double want, const char *what, const char *file, int line)
{
    double scale = fabs(want) > 1 ? fabs(want) : 1;
    if (!(fabs(got - want) <= OM_TEST_REL_TOL * scale)) {
        print_error("ERROR: %s%sgot %.17g, want %.17g\n", what ? what : "", what ? ": " : "", got,
                    want);
        _fail(file, line);
    }
}

void om_test_exact_(double got, double want, const char *file, int line)
{
    if (got != want) {
        print_error("ERROR: got %.17g, want exactly %.17g\n", got, want);
        _fail(file, line);
    }
}

void om_test_put_crc(uint8_t *buf, size_t len)
{
    uint16_t crc = om_crc16_modbus(buf, len);
    buf[len] = (uint8_t)(crc & 0xFF);
    buf[len + 1] = (uint8_t)(crc >> 8);
}

/* ---- PostgreSQL ------------------------------------------------------------------ */

static char pg_dir[256], pg_uri[512];

static void pg_stop_at_exit(void)
{
    om_test_pg_stop();
}

int om_test_pg_start(char *uri, size_t len)
{
    if (pg_dir[0]) {
        snprintf(uri, len, "%s", pg_uri);
        return 0;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/tests/postgresql/pg_cluster.sh' start", OM_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run %s", cmd);
    char dir[256] = "", line[512] = "", rest[512];
    if (fgets(dir, sizeof dir, p))
        fgets(line, sizeof line, p);
    /* Read to the end: closing the pipe before the script's last line
     * (the bin folder) would kill it with SIGPIPE under load, and its
     * status would say it failed. */
    while (fgets(rest, sizeof rest, p))
        ;
    int status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        return 1;
    dir[strcspn(dir, "\n")] = '\0';
    line[strcspn(line, "\n")] = '\0';
    if (status != 0 || !dir[0] || !line[0])
        fail_msg("PostgreSQL is installed but no test cluster started (%s)", cmd);
    snprintf(pg_dir, sizeof pg_dir, "%s", dir);
    snprintf(pg_uri, sizeof pg_uri, "%s", line);
    atexit(pg_stop_at_exit);
    snprintf(uri, len, "%s", pg_uri);
    return 0;
}

void om_test_pg_stop(void)
{
    if (!pg_dir[0])
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/tests/postgresql/pg_cluster.sh' stop '%s'", OM_SOURCE_DIR,
             pg_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: %s failed\n", cmd);
    pg_dir[0] = '\0';
}

void om_test_pg_exec(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", uri, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        fail_msg("%s: %s: %s", uri, sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

void om_test_pg_fresh(const char *name, char *uri, size_t len)
{
    if (!pg_dir[0])
        fail_msg("om_test_pg_fresh before om_test_pg_start");
    char admin[600], sql[256];
    snprintf(admin, sizeof admin, "postgresql:///postgres?host=%s&user=officemeter", pg_dir);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    om_test_pg_exec(admin, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    om_test_pg_exec(admin, sql);
    snprintf(uri, len, "postgresql:///%s?host=%s&user=officemeter", name, pg_dir);
}
