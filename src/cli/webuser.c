/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webuser.c - `officemeter web-user add NAME --sites a,b`: a user of the web
 * view, with a crypt(3) hash of the password (never the password itself),
 * written to the users file (users.h) in one atomic replace.
 *
 * The password comes from a terminal (asked twice, not echoed), or from
 * the first line of standard input when it is not a terminal (scripts,
 * tests), or from --password-file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "officemeter/config/webcfg.h"
#include "officemeter/users/users.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter web-user add NAME --sites all|SITE[,SITE...]\n"
            "                            (--users-file FILE | --config web.yaml)\n"
            "                            [--password-file FILE]\n"
            "\n"
            "Adds a user of officemeter-web (or replaces the user of that name): the\n"
            "password is stored as a crypt(3) hash (yescrypt). SITES is \"all\" (every site,\n"
            "the portfolio report, the metrics: the ESG and IT teams) or the sites the user\n"
            "may see. The password is asked on the terminal, or read from the first line of\n"
            "standard input, or of --password-file. officemeter-web reads the file again on\n"
            "SIGHUP. See docs/web.md.\n");
}

/* One line from f without its newline; false at end of file. */
static bool read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f))
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

static bool ask(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) < 0)
        return read_line(stdin, buf, len);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = read_line(stdin, buf, len);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

static int get_password(const char *file, char *buf, size_t len)
{
    if (file) {
        FILE *f = fopen(file, "r");
        bool ok = f && read_line(f, buf, len);
        if (f)
            fclose(f);
        if (!ok) {
            fprintf(stderr, "officemeter web-user: --password-file: %s: %s\n", file,
                    f ? "empty" : strerror(errno));
            return -1;
        }
    } else if (isatty(STDIN_FILENO)) {
        char again[256];
        if (!ask("password: ", buf, len) || !ask("again: ", again, sizeof again)) {
            fprintf(stderr, "officemeter web-user: no password given\n");
            return -1;
        }
        bool same = strcmp(buf, again) == 0;
        explicit_bzero(again, sizeof again);
        if (!same) {
            fprintf(stderr, "officemeter web-user: the passwords differ\n");
            return -1;
        }
    } else if (!read_line(stdin, buf, len)) {
        fprintf(stderr, "officemeter web-user: no password on standard input\n");
        return -1;
    }
    if (strlen(buf) < 8) {
        fprintf(stderr, "officemeter web-user: password too short (%zu characters, expected at "
                "least 8)\n", strlen(buf));
        return -1;
    }
    return 0;
}

static int add(const char *name, const char *sites, const char *users_file,
               const char *password_file)
{
    char why[512];
    if (om_users_check_sites(sites, why, sizeof why) < 0) {
        fprintf(stderr, "officemeter web-user: --sites: %s\n", why);
        return 2;
    }
    char password[256], hash[256];
    if (get_password(password_file, password, sizeof password) < 0)
        return 1;
    int rc = om_users_hash(password, hash, sizeof hash, why, sizeof why);
    explicit_bzero(password, sizeof password);
    if (rc == 0)
        rc = om_users_put(users_file, name, hash, sites, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "officemeter web-user: %s\n", why);
        return 1;
    }
    printf("%s: user %s, sites %s\n", users_file, name, sites);
    return 0;
}

int om_cmd_webuser(int argc, char **argv)
{
    static const struct option opts[] = {{"sites", required_argument, NULL, 's'},
                                         {"users-file", required_argument, NULL, 'u'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"password-file", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *sites = NULL, *users_file = NULL, *config = NULL, *password_file = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:u:c:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': sites = optarg; break;
        case 'u': users_file = optarg; break;
        case 'c': config = optarg; break;
        case 'p': password_file = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind != 2 || strcmp(argv[optind], "add") != 0) {
        fprintf(stderr, "officemeter web-user: expected \"add NAME\" (try --help)\n");
        return 2;
    }
    const char *name = argv[optind + 1];
    if (!sites) {
        fprintf(stderr, "officemeter web-user: --sites: missing (expected all or site ids)\n");
        return 2;
    }
    if (!users_file && !config) {
        fprintf(stderr, "officemeter web-user: give --users-file FILE or --config web.yaml\n");
        return 2;
    }
    om_web_config cfg;
    bool have_cfg = false;
    if (!users_file) {
        om_diag diag;
        om_diag_init(&diag);
        int rc = om_web_config_load(config, &cfg, &diag);
        om_diag_print(&diag, stderr);
        om_diag_free(&diag);
        have_cfg = true;
        if (rc < 0 || !cfg.users_file) {
            if (rc == 0)
                fprintf(stderr, "officemeter web-user: %s: no users_file\n", config);
            om_web_config_free(&cfg);
            return 1;
        }
        users_file = cfg.users_file;
    }
    int rc = add(name, sites, users_file, password_file);
    if (have_cfg)
        om_web_config_free(&cfg);
    return rc;
}
