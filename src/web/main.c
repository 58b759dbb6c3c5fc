/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - `officemeter-web --config FILE [--check]`: the web view.
 *
 * Loads web.yaml, the portfolio and the users file, opens the aggregator's
 * database read-only (one connection per worker thread), listens,
 * computes every site's summary once, and tells systemd READY=1; the
 * main loop only sends WATCHDOG=1 and acts on the flags the
 * signal handlers set (SIGTERM/SIGINT: stop; SIGHUP: read the users file
 * again).
 *
 * Who may listen where: without a users file nobody signs in, so the
 * daemon refuses any address but loopback (and says so at start); HTTP
 * Basic sends passwords, so a users file on another address needs TLS
 * (or a reverse proxy on this machine that sets proxy_user_header).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "summary.h"
#include "officemeter/base/clock.h"
#include "officemeter/base/isotime.h"
#include "officemeter/daemon/log.h"
#include "officemeter/daemon/notify.h"
#include "officemeter/daemon/signals.h"
#include "web.h"

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_reload(int sig)
{
    (void)sig;
    reload_flag = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: officemeter-web --config FILE [--check] [--ready-file FILE]\n"
            "                       [--log-level LEVEL] [--now TIMESTAMP]\n"
            "\n"
            "The web view: per-site dashboards with charts, the annual report, a JSON API\n"
            "and Prometheus metrics, from the aggregator's database (read-only). SIGHUP\n"
            "reads the users file again; SIGTERM stops. See docs/web.md.\n"
            "\n"
            "  --config FILE      web.yaml\n"
            "  --check            load the config, site files, users file and database,\n"
            "                     then exit (0: all good, 1: errors on stderr)\n"
            "  --ready-file FILE  write the process id to FILE once listening (for scripts)\n"
            "  --log-level LEVEL  error, warning, info or debug (default: the config's)\n"
            "  --now TIMESTAMP    the clock for data replayed in simulated time, as the\n"
            "                     demo's (ISO 8601; default: the real clock)\n");
}

/* The address rules above. Returns 0, or -1 after printing why. */
static int check_listen(const om_web_config *cfg)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char err[512];
    if (web_parse_listen(cfg->listen, &addr, &len, err, sizeof err) < 0) {
        fprintf(stderr, "officemeter-web: %s: %s\n", cfg->path, err);
        return -1;
    }
    bool loopback = web_addr_loopback((struct sockaddr *)&addr);
    if (!cfg->users_file && !loopback) {
        fprintf(stderr, "officemeter-web: %s: listen: %s is not a loopback address, and "
                "without users_file anyone could read every site; add users_file (and tls), "
                "or listen on 127.0.0.1\n", cfg->path, cfg->listen);
        return -1;
    }
    if (cfg->users_file && !cfg->has_tls && !loopback) {
        fprintf(stderr, "officemeter-web: %s: listen: passwords would cross the network in "
                "clear text on %s; add tls (cert_file, key_file), or listen on loopback behind "
                "a TLS reverse proxy\n", cfg->path, cfg->listen);
        return -1;
    }
    return 0;
}

static void write_ready(const char *path)
{
    if (!path)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
        om_log(OM_LOG_WARNING, "cannot write %s", path);
}

static int run(const om_web_config *cfg, int64_t now, const char *ready)
{
    web_ctx w;
    if (web_open(&w, cfg, now, cfg->threads) < 0) {
        web_close(&w);
        return 1;
    }
    char err[1024];
    web_http *h = web_http_start(&w, err, sizeof err);
    if (!h) {
        om_log(OM_LOG_ERROR, "%s", err);
        web_close(&w);
        return 1;
    }
    if (!cfg->users_file)
        om_log(OM_LOG_WARNING, "no users_file: serving every site without signing in, on "
               "loopback only (%s)", cfg->listen);
    om_log(OM_LOG_INFO, "serving %zu sites from %s on %s://%s/", w.pf.sites.nsites, w.database,
           cfg->has_tls ? "https" : "http", cfg->listen);
    /* Before READY=1: every site's summary, which the first pages need and
     * the warmer would compute anyway (a few ms a site). Not the months:
     * on a database without stored rollups that is minutes. */
    int64_t t0 = om_mono_ms();
    web_summary_warm_all(&w);
    om_log(OM_LOG_INFO, "summaries of %zu sites computed in %lld ms", w.pf.sites.nsites,
           (long long)(om_mono_ms() - t0));
    volatile int warmer_stop = 0;
    pthread_t warmer;
    bool warming = web_summary_warmer_start(&w, &warmer_stop, &warmer) == 0;
    write_ready(ready);
    om_notify_ready("serving");
    uint64_t usec = om_notify_watchdog_usec();
    int64_t every = usec ? (int64_t)(usec / 2000) : 0, next = om_mono_ms();
    while (!stop_flag) {
        usleep(100000);
        if (reload_flag) {
            reload_flag = 0;
            om_notify_reloading();
            if (web_reload_users(&w) == 0) {
                web_http_forget_logins(h);
                om_log(OM_LOG_INFO, "reloaded %s: %zu users", cfg->users_file, w.users.n);
            } else {
                om_log(OM_LOG_ERROR, "users file not reloaded: fix the errors above; the "
                       "users loaded before still apply");
            }
            om_notify_ready(NULL);
        }
        if (every && om_mono_ms() >= next) {
            om_notify_watchdog();
            next = om_mono_ms() + every;
        }
    }
    om_notify_stopping();
    web_http_stop(h);
    if (warming) {
        warmer_stop = 1;
        pthread_join(warmer, NULL);
    }
    web_close(&w);
    om_log(OM_LOG_INFO, "stopped");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"ready-file", required_argument, NULL, 'r'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"now", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *ready = NULL, *level = NULL;
    int only_check = 0, c;
    int64_t now = 0;
    while ((c = getopt_long(argc, argv, "c:kr:l:n:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'k': only_check = 1; break;
        case 'r': ready = optarg; break;
        case 'l': level = optarg; break;
        case 'n':
            if (om_parse_iso8601(optarg, &now) < 0) {
                fprintf(stderr, "officemeter-web: --now: invalid timestamp (got \"%s\", "
                        "expected YYYY-MM-DDTHH:MM:SSZ)\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("officemeter-web %s\n", OM_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config || optind < argc) {
        fprintf(stderr, "officemeter-web: %s\n",
                config ? "unexpected argument" : "no config given (--config FILE)");
        return 2;
    }
    om_log_level lv = OM_LOG_INFO;
    if (level && om_log_level_parse(level, &lv) < 0) {
        fprintf(stderr, "officemeter-web: unknown log level \"%s\" (expected error, warning, "
                "info or debug)\n", level);
        return 2;
    }
    om_log_set_ident("officemeter-web");
    om_diag diag;
    om_diag_init(&diag);
    om_web_config cfg;
    int rc = om_web_config_load(config, &cfg, &diag);
    om_diag_print(&diag, stderr);
    if (rc < 0) {
        fprintf(stderr, "officemeter-web: %s: %zu error%s, not started\n", config,
                om_diag_count(&diag), om_diag_count(&diag) == 1 ? "" : "s");
        rc = 1;
    } else if (check_listen(&cfg) < 0) {
        rc = 1;
    } else if (only_check) {
        web_ctx w;
        rc = web_open(&w, &cfg, now, 1) < 0 ? 1 : 0;
        if (rc == 0)
            printf("ok: %s, %zu sites, %zu users, database %s\n", config, w.pf.sites.nsites,
                   w.users.n, w.database);
        web_close(&w);
    } else {
        if (!level)
            om_log_level_parse(cfg.log_level, &lv);
        om_log_set_level(lv);
        om_daemon_install_signals(on_stop, on_reload);
        rc = run(&cfg, now, ready);
    }
    om_diag_free(&diag);
    om_web_config_free(&cfg);
    return rc;
}
