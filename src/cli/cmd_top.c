/*
 * cmd_top.c — `sluice top`: a live terminal view of running sluice
 * processes, from their /metrics (Prometheus text). Plain ANSI escapes, no
 * curses: clear, home, draw, every interval. Rates are deltas of counters
 * between two fetches; latency percentiles come from the histogram
 * buckets' deltas (cumulative totals on the first frame).
 *
 * Memory: each fetch is capped at TOP_MAX_BODY bytes, and a frame at
 * TOP_MAX_SAMPLES samples over all URLs; two frames are kept (this one and the previous).
 * Threads: one. The terminal is put in non-canonical mode only when stdin
 * is a tty, and restored on every exit path.
 */
#include "cli/cli.h"
#include "app/prom_text.h"

#include <curl/curl.h>

#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TOP_MAX_URLS 8
#define TOP_MAX_BODY (8u << 20)
#define TOP_MAX_SAMPLES 20000
#define TOP_MAX_PARTS 20

typedef struct frame {
    prom_sample *s;
    size_t n;
    double at; /* seconds, monotonic */
    int ok[TOP_MAX_URLS];
    char err[TOP_MAX_URLS][256];
} frame;

typedef struct body {
    char *data;
    size_t len;
    int over;
} body;

static volatile sig_atomic_t quit;
static int color = 1;

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice top [--url URL]... [--interval DURATION] [--once] [--no-color]\n\n"
            "A live view of running sluice processes from their /metrics: ingest and sink\n"
            "rates, lag and paused state per partition, queue bytes against the budget,\n"
            "insert latency, registry requests against cache hits, DLQ messages, RSS.\n\n"
            "  --url URL          a /metrics endpoint (repeatable, up to 8; their figures add\n"
            "                     up); default http://127.0.0.1:9100/metrics (metrics.listen)\n"
            "  --interval D       refresh period: 500ms, 2s ... (default 1s, at least 100ms)\n"
            "  --once             print one frame (two fetches, for rates) and exit\n"
            "  --no-color         no bold or colours\n"
            "  -h, --help         this help\n\n"
            "q or Ctrl-C quits. Exit codes: 0, 1 when no endpoint ever answered, 2 bad usage.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_data(char *p, size_t sz, size_t n, void *opaque)
{
    body *b = opaque;
    size_t k = sz * n;
    if (b->len + k > TOP_MAX_BODY) {
        b->over = 1;
        return 0;
    }
    char *d = realloc(b->data, b->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, k);
    b->data = d;
    b->len += k;
    return k;
}

static void fetch(CURL *c, const char *const *urls, size_t n_urls, frame *f)
{
    f->n = 0;
    f->at = now_s();
    for (size_t u = 0; u < n_urls; u++) {
        body b = {0};
        f->ok[u] = 0;
        curl_easy_setopt(c, CURLOPT_URL, urls[u]);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (b.over)
            snprintf(f->err[u], sizeof f->err[u], "answer larger than %u bytes", TOP_MAX_BODY);
        else if (rc != CURLE_OK)
            snprintf(f->err[u], sizeof f->err[u], "%s", curl_easy_strerror(rc));
        else if (status != 200)
            snprintf(f->err[u], sizeof f->err[u], "HTTP %ld", status);
        else {
            char err[200];
            long got = prom_parse(b.data ? b.data : "", b.len, f->s + f->n,
                                  TOP_MAX_SAMPLES - f->n, err, sizeof err);
            if (got < 0)
                snprintf(f->err[u], sizeof f->err[u], "bad metrics text: %s", err);
            else {
                f->n += (size_t)got;
                f->ok[u] = 1;
            }
        }
        free(b.data);
    }
}

/* Sum of every sample named `name` whose labels contain `filter` (or all). */
static double sum(const frame *f, const char *name, const char *filter)
{
    double t = 0;
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->s[i].name, name) && (!filter || strstr(f->s[i].labels, filter)))
            t += f->s[i].value;
    return t;
}

static int has(const frame *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->s[i].name, name))
            return 1;
    return 0;
}

static double rate(const frame *cur, const frame *prev, const char *name, const char *filter)
{
    if (!prev || cur->at <= prev->at)
        return 0;
    double d = sum(cur, name, filter) - sum(prev, name, filter);
    return d > 0 ? d / (cur->at - prev->at) : 0;
}

/* Quantile q of histogram `name` from bucket deltas (or totals). */
static double quantile(const frame *cur, const frame *prev, const char *name, double q)
{
    char bucket[160];
    snprintf(bucket, sizeof bucket, "%s_bucket", name);
    double les[64], counts[64];
    size_t n = 0;
    for (size_t i = 0; i < cur->n && n < 64; i++) {
        if (strcmp(cur->s[i].name, bucket))
            continue;
        char le[32];
        if (prom_label(cur->s[i].labels, "le", le, sizeof le))
            continue;
        double bound = !strcmp(le, "+Inf") ? INFINITY : atof(le);
        size_t k = 0;
        while (k < n && les[k] != bound)
            k++;
        if (k == n) {
            les[n] = bound;
            counts[n++] = 0;
        }
        char filter[300];
        snprintf(filter, sizeof filter, "le=\"%s\"", le);
        counts[k] = sum(cur, bucket, filter) - (prev ? sum(prev, bucket, filter) : 0);
    }
    if (!n)
        return NAN;
    for (size_t i = 1; i < n; i++) /* insertion sort by bound */
        for (size_t j = i; j > 0 && les[j - 1] > les[j]; j--) {
            double t = les[j]; les[j] = les[j - 1]; les[j - 1] = t;
            t = counts[j]; counts[j] = counts[j - 1]; counts[j - 1] = t;
        }
    double total = counts[n - 1];
    if (total <= 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (counts[i] >= q * total)
            return les[i];
    return les[n - 1];
}

static const char *bytes(double v, char *out, size_t n)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (v >= 1024 && k < 4) {
        v /= 1024;
        k++;
    }
    snprintf(out, n, k ? "%.1f %s" : "%.0f %s", v, u[k]);
    return out;
}

static const char *seconds(double v, char *out, size_t n)
{
    if (isnan(v))
        snprintf(out, n, "—");
    else if (isinf(v))
        snprintf(out, n, "> top bucket");
    else if (v < 1)
        snprintf(out, n, "≤ %.0f ms", v * 1000);
    else
        snprintf(out, n, "≤ %.1f s", v);
    return out;
}

static void heading(FILE *out, const char *t)
{
    fprintf(out, color ? "\033[1m%s\033[0m\033[K\n" : "%s\n", t);
}

typedef struct part_row {
    char topic[96];
    char partition[16];
    double lag, buffered, paused;
} part_row;

static int by_lag(const void *a, const void *b)
{
    const part_row *x = a, *y = b;
    return (x->lag < y->lag) - (x->lag > y->lag);
}

static void draw_to(FILE *out, const char *const *urls, size_t n_urls, const frame *cur,
                    const frame *prev, int clear)
{
    char a[32], b[32], c[32];
    if (clear)
        fprintf(out, "\033[H");
    fprintf(out, color ? "\033[1msluice top\033[0m" : "sluice top");
    for (size_t u = 0; u < n_urls; u++)
        fprintf(out, "  %s%s%s", urls[u], cur->ok[u] ? "" : " — ", cur->ok[u] ? "" : cur->err[u]);
    fprintf(out, "\033[K\n");
    fprintf(out, "RSS %s   series %zu%s\033[K\n\n",
           bytes(sum(cur, "sluice_process_resident_bytes", NULL), a, sizeof a), cur->n,
           prev ? "" : "   (rates from the next refresh)");

    heading(out, "INGEST");
    if (has(cur, "sluice_ingest_events_total")) {
        fprintf(out, "  requests/s %-10.0f events/s %-10.0f bytes/s %-12s events accepted %.0f\033[K\n",
               rate(cur, prev, "sluice_ingest_requests_total", NULL),
               rate(cur, prev, "sluice_ingest_events_total", NULL),
               bytes(rate(cur, prev, "sluice_ingest_bytes_total", NULL), a, sizeof a),
               sum(cur, "sluice_ingest_events_total", NULL));
        fprintf(out, "  in flight %s of %s   pending requests %.0f   producer queue %.0f msgs\033[K\n",
               bytes(sum(cur, "sluice_ingest_inflight_bytes", NULL), b, sizeof b),
               bytes(sum(cur, "sluice_ingest_inflight_limit_bytes", NULL), c, sizeof c),
               sum(cur, "sluice_ingest_pending_requests", NULL),
               sum(cur, "sluice_ingest_producer_queue_messages", NULL));
        fprintf(out, "  answers 2xx %.0f  4xx %.0f  429 %.0f  503 %.0f  5xx %.0f   invalid events %.0f  "
               "delivery errors %.0f\033[K\n",
               sum(cur, "sluice_ingest_requests_total", "status=\"2"),
               sum(cur, "sluice_ingest_requests_total", "status=\"4"),
               sum(cur, "sluice_ingest_requests_total", "status=\"429\""),
               sum(cur, "sluice_ingest_requests_total", "status=\"503\""),
               sum(cur, "sluice_ingest_requests_total", "status=\"5"),
               sum(cur, "sluice_ingest_invalid_events_total", NULL),
               sum(cur, "sluice_ingest_delivery_errors_total", NULL));
        if (has(cur, "sluice_run_backlog_bytes"))
            fprintf(out, "  embedded Kafka backlog %s of %s   refused (429) %.0f\033[K\n",
                   bytes(sum(cur, "sluice_run_backlog_bytes", NULL), a, sizeof a),
                   bytes(sum(cur, "sluice_run_backlog_limit_bytes", NULL), b, sizeof b),
                   sum(cur, "sluice_run_backlog_refusals_total", NULL));
    } else {
        fprintf(out, "  —\033[K\n");
    }
    fprintf(out, "\033[K\n");

    heading(out, "SINK");
    if (has(cur, "sluice_sink_rows_inserted_total")) {
        fprintf(out, "  rows/s %-10.0f inserts/s %-8.1f rows inserted %-12.0f messages/s %.0f\033[K\n",
               rate(cur, prev, "sluice_sink_rows_inserted_total", NULL),
               rate(cur, prev, "sluice_sink_inserts_total", NULL),
               sum(cur, "sluice_sink_rows_inserted_total", NULL),
               rate(cur, prev, "sluice_sink_messages_total", NULL));
        fprintf(out, "  insert latency p50 %s  p99 %s   retries %.0f  errors %.0f  DLQ messages %.0f\033[K\n",
               seconds(quantile(cur, prev, "sluice_sink_insert_seconds", 0.5), a, sizeof a),
               seconds(quantile(cur, prev, "sluice_sink_insert_seconds", 0.99), b, sizeof b),
               sum(cur, "sluice_sink_insert_retries_total", NULL),
               sum(cur, "sluice_sink_errors_total", NULL),
               sum(cur, "sluice_sink_dlq_messages_total", NULL));
        double buffered = sum(cur, "sluice_sink_partition_buffered_bytes", NULL);
        fprintf(out, "  buffered %s + queue %s (%.0f batches) of memory_limit %s   pause/resume calls "
               "%.0f/%.0f\033[K\n",
               bytes(buffered, a, sizeof a), bytes(sum(cur, "sluice_sink_queue_bytes", NULL), b, sizeof b),
               sum(cur, "sluice_sink_queue_batches", NULL),
               bytes(sum(cur, "sluice_sink_memory_limit_bytes", NULL), c, sizeof c),
               sum(cur, "sluice_sink_pause_calls_total", NULL),
               sum(cur, "sluice_sink_resume_calls_total", NULL));
        part_row rows[512];
        size_t nr = 0;
        for (size_t i = 0; i < cur->n && nr < 512; i++) {
            if (strcmp(cur->s[i].name, "sluice_sink_partition_lag"))
                continue;
            part_row *r = &rows[nr];
            if (prom_label(cur->s[i].labels, "topic", r->topic, sizeof r->topic) ||
                prom_label(cur->s[i].labels, "partition", r->partition, sizeof r->partition))
                continue;
            r->lag = cur->s[i].value;
            char filter[160];
            snprintf(filter, sizeof filter, "topic=\"%s\",partition=\"%s\"", r->topic, r->partition);
            r->buffered = sum(cur, "sluice_sink_partition_buffered_bytes", filter);
            r->paused = sum(cur, "sluice_sink_partition_paused", filter);
            nr++;
        }
        qsort(rows, nr, sizeof *rows, by_lag);
        fprintf(out, "  %-24s %9s %12s %12s %7s\033[K\n", "topic", "partition", "lag", "buffered", "paused");
        for (size_t i = 0; i < nr && i < TOP_MAX_PARTS; i++)
            fprintf(out, "  %-24.24s %9s %12.0f %12s %7s\033[K\n", rows[i].topic, rows[i].partition,
                   rows[i].lag, bytes(rows[i].buffered, a, sizeof a), rows[i].paused > 0 ? "yes" : "no");
        if (nr > TOP_MAX_PARTS)
            fprintf(out, "  ... %zu more partitions (largest lag first)\033[K\n", nr - TOP_MAX_PARTS);
    } else {
        fprintf(out, "  —\033[K\n");
    }
    fprintf(out, "\033[K\n");

    heading(out, "REGISTRY CLIENT");
    if (has(cur, "sluice_sr_requests_total") || has(cur, "sluice_sr_cache_hits_total"))
        fprintf(out, "  requests %.0f  cache hits %.0f  misses %.0f  coalesced %.0f   cache %s, %.0f "
               "entries\033[K\n",
               sum(cur, "sluice_sr_requests_total", NULL), sum(cur, "sluice_sr_cache_hits_total", NULL),
               sum(cur, "sluice_sr_cache_misses_total", NULL),
               sum(cur, "sluice_sr_coalesced_waits_total", NULL),
               bytes(sum(cur, "sluice_sr_cache_bytes", NULL), a, sizeof a),
               sum(cur, "sluice_sr_cache_entries", NULL));
    else
        fprintf(out, "  —\033[K\n");
    if (clear)
        fprintf(out, "\033[J");
}

/* One frame; without a live terminal the erase-to-end-of-line codes go. */
static void draw(const char *const *urls, size_t n_urls, const frame *cur, const frame *prev,
                 int live)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return;
    draw_to(m, urls, n_urls, cur, prev, live);
    fclose(m);
    if (!live) {
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            if (!strncmp(text + i, "\033[K", 3)) {
                i += 2;
                continue;
            }
            text[o++] = text[i];
        }
        len = o;
    }
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    free(text);
}

static int parse_interval(const char *s, long *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -1;
    if (!strcmp(end, "ms"))
        *ms = (long)v;
    else if (!strcmp(end, "s") || !*end)
        *ms = (long)(v * 1000);
    else
        return -1;
    return *ms >= 100 && *ms <= 3600000 ? 0 : -1;
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"interval", required_argument, NULL, 'i'},
                                         {"once", no_argument, NULL, 'o'},
                                         {"no-color", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *urls[TOP_MAX_URLS];
    size_t n_urls = 0;
    long interval = 1000;
    int once = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (n_urls == TOP_MAX_URLS) {
                fprintf(stderr, "sluice top: at most %d --url\n", TOP_MAX_URLS);
                return CLI_EXIT_USAGE;
            }
            urls[n_urls++] = optarg;
            break;
        case 'i':
            if (parse_interval(optarg, &interval)) {
                fprintf(stderr, "sluice top: --interval '%s': want 100ms..1h, e.g. 500ms or 2s\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o': once = 1; break;
        case 'n': color = 0; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!n_urls)
        urls[n_urls++] = "http://127.0.0.1:9100/metrics";
    int live = !once && isatty(STDOUT_FILENO);
    if (!isatty(STDOUT_FILENO))
        color = 0;

    frame fr[2] = {{0}, {0}};
    fr[0].s = calloc(TOP_MAX_SAMPLES, sizeof(prom_sample));
    fr[1].s = calloc(TOP_MAX_SAMPLES, sizeof(prom_sample));
    CURL *curl = curl_easy_init();
    if (!fr[0].s || !fr[1].s || !curl) {
        fprintf(stderr, "sluice top: out of memory\n");
        free(fr[0].s);
        free(fr[1].s);
        curl_easy_cleanup(curl);
        return CLI_EXIT_RUNTIME;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct termios saved;
    int raw = live && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
    if (live)
        printf("\033[?25l\033[2J");

    int ever_ok = 0, k = 0, frames = 0;
    frame *prev = NULL;
    while (!quit) {
        frame *cur = &fr[k];
        fetch(curl, urls, n_urls, cur);
        for (size_t u = 0; u < n_urls; u++)
            ever_ok |= cur->ok[u];
        frames++;
        if (live || (once && frames == 2) || (!once && !live))
            draw(urls, n_urls, cur, prev, live);
        if (!live && (!once || frames == 2))
            break;
        prev = cur;
        k ^= 1;
        /* Wait for the interval, or a key. */
        long left = once ? 500 : interval;
        double until = now_s() + (double)left / 1000;
        while (!quit && (left = (long)((until - now_s()) * 1000)) > 0) {
            struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
            int r = poll(&p, raw ? 1 : 0, (int)left);
            if (r > 0) {
                char ch;
                if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
                    quit = 1;
            }
        }
    }
    if (live)
        printf("\033[?25h\n");
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    curl_easy_cleanup(curl);
    free(fr[0].s);
    free(fr[1].s);
    if (!ever_ok) {
        for (size_t u = 0; u < n_urls; u++)
            fprintf(stderr, "sluice top: %s: %s\n", urls[u], fr[0].err[u][0] ? fr[0].err[u] : fr[1].err[u]);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}
