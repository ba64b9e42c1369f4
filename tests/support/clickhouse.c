/*
 * clickhouse.c — see clickhouse.h. Starts and stops the server through
 * scripts/clickhouse.sh so tests, benchmarks and `make run` share one way
 * of doing it.
 */
#include "clickhouse.h"

#include "support.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERVERS 8
static test_ch *started[MAX_SERVERS];
static int cleanup_registered;

static const char *script(void)
{
    static char path[600];
    const char *src = getenv("SLUICE_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/scripts/clickhouse.sh", src && *src ? src : ".");
    return path;
}

static void stop_all(void)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (started[i]) test_ch_stop(started[i]);
}

int test_ch_start(test_ch *ch, const char *dir)
{
    if (ch->running) return 0;
    if (dir != ch->dir) /* a restart passes the server's own directory */
        snprintf(ch->dir, sizeof ch->dir, "%s", dir);
    char cmd[1400];
    /* Keep the port across restarts so clients configured with it reconnect. */
    if (ch->http_port)
        snprintf(cmd, sizeof cmd, "%s start '%s' %u", script(), dir, (unsigned)ch->http_port);
    else
        snprintf(cmd, sizeof cmd, "%s start '%s'", script(), dir);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[256] = "";
    while (fgets(line, sizeof line, p)) {
        char *q = strstr(line, "http_port=");
        if (q) ch->http_port = (uint16_t)atoi(q + 10);
    }
    if (pclose(p) != 0 || ch->http_port == 0) {
        fprintf(stderr, "clickhouse did not start in %s\n", dir);
        return -1;
    }
    snprintf(ch->url, sizeof ch->url, "http://127.0.0.1:%u", (unsigned)ch->http_port);
    ch->running = 1;
    if (!cleanup_registered) {
        atexit(stop_all);
        cleanup_registered = 1;
    }
    for (int i = 0; i < MAX_SERVERS; i++)
        if (started[i] == ch) return 0;
    for (int i = 0; i < MAX_SERVERS; i++)
        if (!started[i]) {
            started[i] = ch;
            break;
        }
    return 0;
}

static void run_script(const char *verb, test_ch *ch)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s %s '%s' >/dev/null 2>&1", script(), verb, ch->dir);
    if (system(cmd) != 0) fprintf(stderr, "clickhouse.sh %s %s failed\n", verb, ch->dir);
}

void test_ch_stop(test_ch *ch)
{
    if (!ch->running) return;
    run_script("stop", ch);
    ch->running = 0;
}

static long post(const char *url, const void *body, size_t len, char **out)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    test_grow g = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (out)
        *out = g.p ? g.p : strdup("");
    else
        free(g.p);
    return status;
}

long test_ch_query(const test_ch *ch, const char *sql, char **out)
{
    char url[128];
    snprintf(url, sizeof url, "%s/?allow_experimental_low_cardinality_type=1", ch->url);
    return post(url, sql, strlen(sql), out);
}

double test_ch_scalar(const test_ch *ch, const char *sql)
{
    char *out = NULL;
    long st = test_ch_query(ch, sql, &out);
    double v = st == 200 && out ? strtod(out, NULL) : -1;
    free(out);
    return v;
}
