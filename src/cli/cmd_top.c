/*
 * cmd_top.c — `sluice top`: a live terminal view of running sluice
 * processes, from their /metrics (Prometheus text, src/app/prom_text.c).
 *
 * Each refresh fetches every --url into one frame; two frames are kept, this
 * one and the previous, and rates are the counters' deltas between them.
 * Deltas are taken per URL and only over URLs that answered both times, so
 * an endpoint that comes back (or a process that restarts, whose counters
 * fall) never shows its whole total as one refresh's rate. Latency
 * percentiles come from the same deltas of the histogram buckets (totals on
 * the first frame), so they are the upper bound of the bucket holding them.
 *
 * The screen is plain ANSI: the alternate screen, cursor home, every line
 * cleared to its end and clipped to the terminal's width, never more lines
 * than rows (so nothing scrolls); the partition table gets what rows are
 * left. Without a terminal on stdout, or with --once, one frame (two
 * fetches, one interval apart, for the rates) is printed plainly.
 *
 * Memory: a response is capped at TOP_MAX_BODY bytes, a frame at
 * TOP_MAX_SAMPLES samples over all URLs (the first ones are kept and the
 * header says the figures are partial). Threads: one. The terminal is put
 * in non-canonical mode only when stdin is a tty, and restored on every
 * exit path; signals only set flags, which the key wait (ppoll) and the
 * transfer's progress callback look at.
 */
#include "app/prom_text.h"
#include "cli/cli.h"
#include "common/config.h"

#include <curl/curl.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TOP_DEFAULT_URL "http://127.0.0.1:9100/metrics" /* metrics.listen's default */
#define TOP_MAX_URLS 8
#define TOP_MAX_BODY ((size_t)8 << 20)
#define TOP_MAX_SAMPLES 20000
#define TOP_MAX_BUCKETS 64
#define TOP_PLAIN_PARTITIONS 20 /* partition rows of a frame printed without a terminal */

/* One fetch of every URL: URL u's samples are s[first[u] .. first[u] + count[u]). */
typedef struct frame {
    prom_sample *s;
    size_t n;
    double at;                /* seconds, monotonic */
    int capped[TOP_MAX_URLS]; /* URL u's samples stop at TOP_MAX_SAMPLES */
    size_t first[TOP_MAX_URLS], count[TOP_MAX_URLS];
    int ok[TOP_MAX_URLS];
    char err[TOP_MAX_URLS][256];
} frame;

typedef struct top {
    const char *urls[TOP_MAX_URLS];
    size_t n_urls;
    int64_t interval_ms;
    int color;
    CURL *curl;
    char *body; /* the response being read: not NUL-terminated, reused */
    size_t body_len, body_cap;
    int body_over;
} top;

/* What draws a frame: lines are counted, and clipped when live. */
typedef struct screen {
    FILE *out;
    int live, color;
    int cols, rows; /* the terminal's size when live */
    int lines;
} screen;

static volatile sig_atomic_t quit, resized;

static void on_signal(int sig)
{
    if (sig == SIGWINCH)
        resized = 1;
    else
        quit = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice top [--url URL]... [--interval DURATION] [--once] [--no-color]\n\n"
               "A live view of running sluice processes from their /metrics: ingest requests,\n"
               "events and bytes per second, in-flight bytes and answers by status; sink rows\n"
               "and inserts per second, insert latency (p50/p99), memory against\n"
               "sink.memory_limit, retries, errors, DLQ, pause/resume calls and the partitions\n"
               "with the largest lag; registry client requests against cache hits; RSS.\n"
               "Sections a process does not export show \"—\" (docs/METRICS.md).\n\n"
               "  --url URL          a /metrics endpoint; repeat for several processes (up to 8,\n"
               "                     their figures add up). Default " TOP_DEFAULT_URL "\n"
               "                     (metrics.listen's default)\n"
               "  --interval D       refresh period, 100ms to 1h: 500ms, 2s ... (default 1s)\n"
               "  --once             print one frame and exit (two fetches one interval apart,\n"
               "                     for the rates); so does a stdout that is not a terminal\n"
               "  --no-color         no bold headings\n"
               "  -h, --help         this help\n\n"
               "q or Ctrl-C quits and restores the terminal. Each response is capped at 8 MiB\n"
               "and a frame at 20000 series. Exit codes: 0, 1 when no endpoint ever answered,\n"
               "2 bad usage.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- fetching ---------------------------------------------------------- */

static size_t on_data(char *p, size_t sz, size_t n, void *opaque)
{
    top *t = opaque;
    size_t k = sz * n;
    if (k > TOP_MAX_BODY - t->body_len) {
        t->body_over = 1;
        return 0;
    }
    if (t->body_len + k > t->body_cap) {
        size_t cap = t->body_cap ? t->body_cap : (size_t)64 << 10;
        while (cap < t->body_len + k)
            cap *= 2;
        if (cap > TOP_MAX_BODY) cap = TOP_MAX_BODY;
        char *d = realloc(t->body, cap);
        if (!d) return 0;
        t->body = d;
        t->body_cap = cap;
    }
    memcpy(t->body + t->body_len, p, k);
    t->body_len += k;
    return k;
}

/* Ctrl-C during a transfer ends it now rather than at its timeout. */
static int on_progress(void *opaque, curl_off_t dl_total, curl_off_t dl_now, curl_off_t ul_total,
                       curl_off_t ul_now)
{
    (void)opaque, (void)dl_total, (void)dl_now, (void)ul_total, (void)ul_now;
    return quit ? 1 : 0;
}

static CURL *http_client(top *t)
{
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TOP_MAX_BODY);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice-top/" SLUICE_VERSION);
    return c;
}

/* GET url into t->body; 0, or -1 with err filled. */
static int http_get(top *t, const char *url, char *err, size_t err_len)
{
    t->body_len = 0;
    t->body_over = 0;
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    CURLcode rc = curl_easy_perform(t->curl);
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->body_over || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(err, err_len, "response larger than %zu MiB, the limit of sluice top",
                 TOP_MAX_BODY >> 20);
    else if (rc != CURLE_OK)
        snprintf(err, err_len, "%s", curl_easy_strerror(rc));
    else if (status != 200)
        snprintf(err, err_len, "HTTP status %ld", status);
    else
        return 0;
    return -1;
}

static void fetch(top *t, frame *f)
{
    f->n = 0;
    f->at = now_s();
    for (size_t u = 0; u < t->n_urls; u++) {
        f->first[u] = f->n;
        f->count[u] = 0;
        f->ok[u] = 0;
        f->capped[u] = 0;
        f->err[u][0] = '\0';
        if (http_get(t, t->urls[u], f->err[u], sizeof f->err[u])) continue;
        char err[200];
        size_t room = TOP_MAX_SAMPLES - f->n;
        long got = prom_parse(t->body, t->body_len, f->s + f->n, room, err, sizeof err);
        if (got == PROM_TOO_MANY) {
            got = (long)room;
            f->capped[u] = 1;
        } else if (got < 0) {
            snprintf(f->err[u], sizeof f->err[u], "bad /metrics text: %s", err);
            continue;
        }
        f->count[u] = (size_t)got;
        f->n += (size_t)got;
        f->ok[u] = 1;
    }
}

/* ---- figures ----------------------------------------------------------- */

/* A sample selector: its name, and optionally a label whose value starts
 * with prefix. */
typedef struct sel {
    const char *name, *label, *prefix;
} sel;

static int selected(const prom_sample *s, sel q)
{
    if (strcmp(s->name, q.name)) return 0;
    if (!q.label) return 1;
    char v[64];
    return !prom_label(s->labels, q.label, v, sizeof v) && !strncmp(v, q.prefix, strlen(q.prefix));
}

static double sum_url(const frame *f, size_t u, sel q)
{
    double t = 0;
    for (size_t i = f->first[u]; i < f->first[u] + f->count[u]; i++)
        if (selected(&f->s[i], q)) t += f->s[i].value;
    return t;
}

/* The sum over every URL that answered. */
static double total(const frame *f, size_t n_urls, sel q)
{
    double t = 0;
    for (size_t u = 0; u < n_urls; u++)
        t += f->ok[u] ? sum_url(f, u, q) : 0;
    return t;
}

static int has_in(const frame *f, size_t first, size_t count, const char *name)
{
    for (size_t i = first; i < first + count; i++)
        if (!strcmp(f->s[i].name, name)) return 1;
    return 0;
}

/* Does any URL export `name`? Decides whether a section shows or "—". */
static int has(const frame *f, const char *name)
{
    return has_in(f, 0, f->n, name);
}

/* Per second, from the growth of counters on URLs that answered both times
 * (a counter that fell belongs to a restarted process: no growth). */
static double rate(const frame *cur, const frame *prev, size_t n_urls, sel q)
{
    if (!prev || cur->at <= prev->at) return 0;
    double d = 0;
    for (size_t u = 0; u < n_urls; u++) {
        if (!cur->ok[u] || !prev->ok[u]) continue;
        double x = sum_url(cur, u, q) - sum_url(prev, u, q);
        d += x > 0 ? x : 0;
    }
    return d / (cur->at - prev->at);
}

typedef struct histo {
    double le[TOP_MAX_BUCKETS], count[TOP_MAX_BUCKETS];
    size_t n;
} histo;

static size_t histo_slot(histo *h, double le)
{
    size_t k = 0;
    while (k < h->n && h->le[k] != le)
        k++;
    if (k == h->n && h->n < TOP_MAX_BUCKETS) {
        h->le[k] = le;
        h->count[k] = 0;
        h->n++;
    }
    return k; /* == TOP_MAX_BUCKETS when full: the caller drops the bucket */
}

/* Bucket counts (cumulative, by le) of histogram `bucket` on URL u. */
static void histo_of_url(const frame *f, size_t u, const char *bucket, histo *h)
{
    h->n = 0;
    for (size_t i = f->first[u]; i < f->first[u] + f->count[u]; i++) {
        char le[32];
        if (strcmp(f->s[i].name, bucket) || prom_label(f->s[i].labels, "le", le, sizeof le))
            continue;
        size_t k = histo_slot(h, strtod(le, NULL)); /* "+Inf" reads as infinity */
        if (k < TOP_MAX_BUCKETS) h->count[k] += f->s[i].value;
    }
}

/* The observations of histogram `name` since prev, over every URL that
 * answered both times (all of them since start when there is no prev). */
static void histo_since(const frame *cur, const frame *prev, size_t n_urls, const char *name,
                        histo *out)
{
    char bucket[160];
    snprintf(bucket, sizeof bucket, "%s_bucket", name);
    out->n = 0;
    for (size_t u = 0; u < n_urls; u++) {
        if (!cur->ok[u] || (prev && !prev->ok[u])) continue;
        histo now, before = {.n = 0};
        histo_of_url(cur, u, bucket, &now);
        if (prev) histo_of_url(prev, u, bucket, &before);
        for (size_t k = 0; k < now.n; k++) {
            double was = 0;
            for (size_t j = 0; j < before.n; j++)
                if (before.le[j] == now.le[k]) was = before.count[j];
            double d = now.count[k] >= was ? now.count[k] - was : now.count[k];
            size_t slot = histo_slot(out, now.le[k]);
            if (slot < TOP_MAX_BUCKETS) out->count[slot] += d;
        }
    }
    for (size_t i = 1; i < out->n; i++) /* insertion sort by bound */
        for (size_t j = i; j > 0 && out->le[j - 1] > out->le[j]; j--) {
            double t = out->le[j];
            out->le[j] = out->le[j - 1];
            out->le[j - 1] = t;
            t = out->count[j];
            out->count[j] = out->count[j - 1];
            out->count[j - 1] = t;
        }
}

/* The upper bound of the bucket holding quantile q; NaN with no observations. */
static double quantile(const histo *h, double q)
{
    if (!h->n || h->count[h->n - 1] <= 0) return NAN;
    for (size_t i = 0; i < h->n; i++)
        if (h->count[i] >= q * h->count[h->n - 1]) return h->le[i];
    return h->le[h->n - 1];
}

/* ---- partitions -------------------------------------------------------- */

typedef struct part_row {
    char topic[256];
    long partition;
    double lag, buffered, paused;
} part_row;

static int by_topic_partition(const void *a, const void *b)
{
    const part_row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static int by_lag(const void *a, const void *b)
{
    const part_row *x = a, *y = b;
    if (x->lag != y->lag) return (x->lag < y->lag) - (x->lag > y->lag);
    return by_topic_partition(a, b);
}

/* One row per (topic, partition) of the partition gauges, largest lag
 * first, into *rows (malloc'd; the caller frees). Returns the row count. */
static size_t partition_rows(const frame *f, size_t n_urls, part_row **rows)
{
    static const char *const names[] = {"sluice_sink_partition_lag",
                                        "sluice_sink_partition_buffered_bytes",
                                        "sluice_sink_partition_paused"};
    size_t n = 0;
    *rows = NULL;
    for (size_t i = 0; i < f->n; i++)
        for (size_t k = 0; k < 3; k++)
            n += !strcmp(f->s[i].name, names[k]);
    if (!n || !(*rows = calloc(n, sizeof **rows))) return 0;
    /* One entry per sample, then sorted and merged by (topic, partition). */
    part_row *r = *rows;
    size_t m = 0;
    for (size_t u = 0; u < n_urls; u++)
        for (size_t i = f->first[u]; f->ok[u] && i < f->first[u] + f->count[u]; i++) {
            const prom_sample *s = &f->s[i];
            char p[32];
            size_t k = 0;
            while (k < 3 && strcmp(s->name, names[k]))
                k++;
            if (k == 3 || prom_label(s->labels, "topic", r[m].topic, sizeof r[m].topic) ||
                prom_label(s->labels, "partition", p, sizeof p))
                continue;
            double v = isnan(s->value) ? 0 : s->value; /* keeps the sort's order total */
            r[m].partition = strtol(p, NULL, 10);
            r[m].lag = k == 0 ? v : 0;
            r[m].buffered = k == 1 ? v : 0;
            r[m].paused = k == 2 ? v : 0;
            m++;
        }
    qsort(r, m, sizeof *r, by_topic_partition);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && !by_topic_partition(&r[w - 1], &r[i])) {
            r[w - 1].lag += r[i].lag;
            r[w - 1].buffered += r[i].buffered;
            r[w - 1].paused += r[i].paused;
        } else {
            if (w != i) r[w] = r[i];
            w++;
        }
    }
    qsort(r, w, sizeof *r, by_lag);
    return w;
}

/* ---- drawing ----------------------------------------------------------- */

static const char *bytes(double v, char *out, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (v >= 1024 && k < 4) {
        v /= 1024;
        k++;
    }
    snprintf(out, n, k ? "%.1f %s" : "%.0f %s", v, unit[k]);
    return out;
}

static const char *latency(double v, char *out, size_t n)
{
    if (isnan(v))
        snprintf(out, n, "—");
    else if (isinf(v))
        snprintf(out, n, "> top bucket");
    else if (v < 1)
        snprintf(out, n, "≤ %g ms", v * 1000);
    else
        snprintf(out, n, "≤ %g s", v);
    return out;
}

/* Label values come from the network: no control bytes reach the terminal. */
static const char *printable(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; in[k] && k + 1 < n; k++)
        out[k] = (unsigned char)in[k] < 0x20 || in[k] == 0x7f ? '?' : in[k];
    out[k] = '\0';
    return out;
}

/* Cut line at cols terminal columns (escape sequences take none, a UTF-8
 * character one). Returns 1 if it was cut. */
static int clip(char *line, int cols)
{
    int used = 0;
    for (char *p = line; *p; p++) {
        if (*p == '\033' && p[1] == '[') {
            p += 2;
            while (*p && !(*p >= 0x40 && *p <= 0x7e))
                p++;
            if (!*p) return 0;
            continue;
        }
        if (((unsigned char)*p & 0xc0) == 0x80) continue;
        if (used++ == cols) {
            *p = '\0';
            return 1;
        }
    }
    return 0;
}

__attribute__((format(printf, 2, 3))) static void put(screen *s, const char *fmt, ...)
{
    if (s->live && s->lines >= s->rows - 1) return; /* the last row stays empty: nothing scrolls */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int cut = s->live && clip(line, s->cols);
    fputs(line, s->out);
    if (cut && s->color) fputs("\033[0m", s->out);
    fputs(s->live ? "\033[K\n" : "\n", s->out);
    s->lines++;
}

static void heading(screen *s, const char *title)
{
    put(s, "%s", "");
    put(s, s->color ? "\033[1m%s\033[0m" : "%s", title);
}

static void draw_header(screen *s, const top *t, const frame *cur, const frame *prev)
{
    char a[32], clock[16] = "";
    const char *rss = "sluice_process_resident_bytes";
    int capped = 0;
    time_t wall = time(NULL);
    struct tm tm;
    if (localtime_r(&wall, &tm)) strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    long long ms = (long long)t->interval_ms;
    put(s,
        s->color ? "\033[1msluice top\033[0m  %s  every %lld%s%s%s"
                 : "sluice top  %s  every %lld%s%s%s",
        clock, ms % 1000 ? ms : ms / 1000, ms % 1000 ? "ms" : "s", s->live ? "  q quits" : "",
        prev ? "" : "  (rates from the next refresh)");
    for (size_t u = 0; u < t->n_urls; u++) {
        char url[200], err[256];
        printable(t->urls[u], url, sizeof url);
        if (!cur->ok[u])
            put(s, "  %s  — %s", url, printable(cur->err[u], err, sizeof err));
        else if (has_in(cur, cur->first[u], cur->count[u], rss))
            put(s, "  %s  RSS %s  %zu series%s", url,
                bytes(sum_url(cur, u, (sel){rss, NULL, NULL}), a, sizeof a), cur->count[u],
                cur->capped[u] ? " (cut)" : "");
        else
            put(s, "  %s  RSS —  %zu series%s", url, cur->count[u], cur->capped[u] ? " (cut)" : "");
        capped |= cur->capped[u];
    }
    if (capped)
        put(s, "  ! more than %d series: only the first are counted, figures are partial",
            TOP_MAX_SAMPLES);
}

static void draw_ingest(screen *s, const top *t, const frame *cur, const frame *prev)
{
    size_t nu = t->n_urls;
    char a[32], b[32];
    const char *req = "sluice_ingest_requests_total";
    heading(s, "INGEST");
    if (!has(cur, "sluice_ingest_events_total")) {
        put(s, "  —");
        return;
    }
    put(s, "  requests/s %-9.0f events/s %-10.0f bytes/s %s", rate(cur, prev, nu, (sel){req, 0, 0}),
        rate(cur, prev, nu, (sel){"sluice_ingest_events_total", 0, 0}),
        bytes(rate(cur, prev, nu, (sel){"sluice_ingest_bytes_total", 0, 0}), a, sizeof a));
    put(s, "  events accepted %.0f   invalid %.0f   delivery errors %.0f",
        total(cur, nu, (sel){"sluice_ingest_events_total", 0, 0}),
        total(cur, nu, (sel){"sluice_ingest_invalid_events_total", 0, 0}),
        total(cur, nu, (sel){"sluice_ingest_delivery_errors_total", 0, 0}));
    put(s, "  answers 2xx %.0f   4xx %.0f (429 %.0f)   5xx %.0f (503 %.0f)",
        total(cur, nu, (sel){req, "status", "2"}), total(cur, nu, (sel){req, "status", "4"}),
        total(cur, nu, (sel){req, "status", "429"}), total(cur, nu, (sel){req, "status", "5"}),
        total(cur, nu, (sel){req, "status", "503"}));
    if (has(cur, "sluice_ingest_inflight_limit_bytes"))
        put(s, "  in flight %s of %s   pending requests %.0f   producer queue %.0f",
            bytes(total(cur, nu, (sel){"sluice_ingest_inflight_bytes", 0, 0}), a, sizeof a),
            bytes(total(cur, nu, (sel){"sluice_ingest_inflight_limit_bytes", 0, 0}), b, sizeof b),
            total(cur, nu, (sel){"sluice_ingest_pending_requests", 0, 0}),
            total(cur, nu, (sel){"sluice_ingest_producer_queue_messages", 0, 0}));
    if (has(cur, "sluice_run_backlog_bytes"))
        put(s, "  embedded Kafka backlog %s of %s   refused (429) %.0f",
            bytes(total(cur, nu, (sel){"sluice_run_backlog_bytes", 0, 0}), a, sizeof a),
            bytes(total(cur, nu, (sel){"sluice_run_backlog_limit_bytes", 0, 0}), b, sizeof b),
            total(cur, nu, (sel){"sluice_run_backlog_refusals_total", 0, 0}));
}

static void draw_partitions(screen *s, const top *t, const frame *cur, int room)
{
    part_row *rows;
    size_t n = partition_rows(cur, t->n_urls, &rows);
    if (!n) {
        put(s, "  partitions —");
        return;
    }
    size_t paused = 0;
    for (size_t i = 0; i < n; i++)
        paused += rows[i].paused > 0;
    size_t show = room > 1 ? (size_t)room - 1 : 0; /* room holds the column header too */
    if (show > n) show = n;
    if (show) {
        put(s, "  %-30s %9s %12s %12s %7s", "topic", "partition", "lag", "buffered", "paused");
        for (size_t i = 0; i < show; i++) {
            char topic[256], a[32];
            put(s, "  %-30.30s %9ld %12.0f %12s %7s", printable(rows[i].topic, topic, sizeof topic),
                rows[i].partition, rows[i].lag, bytes(rows[i].buffered, a, sizeof a),
                rows[i].paused > 0 ? "yes" : "no");
        }
    }
    if (show < n)
        put(s, "  %zu%s partitions (%zu paused), largest lag first%s", n - show,
            show ? " more" : "", paused, s->live ? ": a taller window lists more" : "");
    free(rows);
}

static void draw_sink(screen *s, const top *t, const frame *cur, const frame *prev)
{
    size_t nu = t->n_urls;
    char a[32], b[32], c[32];
    heading(s, "SINK");
    if (!has(cur, "sluice_sink_rows_inserted_total")) {
        put(s, "  —");
        return;
    }
    put(s, "  rows/s %-10.0f inserts/s %-7.1f messages/s %-9.0f rows inserted %.0f",
        rate(cur, prev, nu, (sel){"sluice_sink_rows_inserted_total", 0, 0}),
        rate(cur, prev, nu, (sel){"sluice_sink_inserts_total", 0, 0}),
        rate(cur, prev, nu, (sel){"sluice_sink_messages_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_rows_inserted_total", 0, 0}));
    histo h;
    histo_since(cur, prev, nu, "sluice_sink_insert_seconds", &h);
    double p50 = quantile(&h, 0.5);
    put(s, "  insert latency p50 %s   p99 %s%s", latency(p50, a, sizeof a),
        latency(quantile(&h, 0.99), b, sizeof b),
        !prev        ? "   (since start)"
        : isnan(p50) ? "   (no insert since the last refresh)"
                     : "");
    const char *errs = "sluice_sink_errors_total";
    double e = total(cur, nu, (sel){errs, 0, 0});
    char kinds[128] = "";
    if (e > 0)
        snprintf(kinds, sizeof kinds, " (transient %.0f, data %.0f, config %.0f, decode %.0f)",
                 total(cur, nu, (sel){errs, "kind", "transient"}),
                 total(cur, nu, (sel){errs, "kind", "data"}),
                 total(cur, nu, (sel){errs, "kind", "config"}),
                 total(cur, nu, (sel){errs, "kind", "decode"}));
    put(s, "  retries %.0f   errors %.0f%s   DLQ messages %.0f",
        total(cur, nu, (sel){"sluice_sink_insert_retries_total", 0, 0}), e, kinds,
        total(cur, nu, (sel){"sluice_sink_dlq_messages_total", 0, 0}));
    put(s, "  buffered %s + queue %s (%.0f batches) of memory_limit %s",
        bytes(total(cur, nu, (sel){"sluice_sink_partition_buffered_bytes", 0, 0}), a, sizeof a),
        bytes(total(cur, nu, (sel){"sluice_sink_queue_bytes", 0, 0}), b, sizeof b),
        total(cur, nu, (sel){"sluice_sink_queue_batches", 0, 0}),
        bytes(total(cur, nu, (sel){"sluice_sink_memory_limit_bytes", 0, 0}), c, sizeof c));
    put(s,
        "  exactly-once routes %.0f   blocked routes %.0f   intents %.0f   replayed batches %.0f "
        "(table changed %.0f, unreadable %.0f)   clickhouse failovers %.0f",
        total(cur, nu, (sel){"sluice_sink_route_exactly_once", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_route_blocked", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_eo_intents_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_eo_replayed_batches_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_eo_replays_changed_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_eo_replay_failures_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_clickhouse_failovers", 0, 0}));
    put(s, "  paused now %.0f   pauses %.0f, resumes %.0f   pause/resume calls %.0f/%.0f",
        total(cur, nu, (sel){"sluice_sink_partition_paused", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_partition_pauses_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_partition_resumes_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_pause_calls_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sink_resume_calls_total", 0, 0}));
    /* What the registry section below leaves: a blank, its heading, one line. */
    int room = s->live ? s->rows - 1 - s->lines - 3 : TOP_PLAIN_PARTITIONS + 1;
    draw_partitions(s, t, cur, room - 1); /* and one for a "more" line */
}

static void draw_registry_client(screen *s, const top *t, const frame *cur)
{
    size_t nu = t->n_urls;
    char a[32];
    heading(s, "REGISTRY CLIENT");
    if (!has(cur, "sluice_sr_requests_total") && !has(cur, "sluice_sr_cache_hits_total")) {
        put(s, "  —");
        return;
    }
    put(s,
        "  requests %.0f   cache hits %.0f   misses %.0f   coalesced %.0f   cache %s, %.0f entries",
        total(cur, nu, (sel){"sluice_sr_requests_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sr_cache_hits_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sr_cache_misses_total", 0, 0}),
        total(cur, nu, (sel){"sluice_sr_coalesced_waits_total", 0, 0}),
        bytes(total(cur, nu, (sel){"sluice_sr_cache_bytes", 0, 0}), a, sizeof a),
        total(cur, nu, (sel){"sluice_sr_cache_entries", 0, 0}));
}

/* One frame, written at once (no flicker half-drawn). */
static void draw(const top *t, const frame *cur, const frame *prev, int live)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return;
    screen s = {.out = m, .live = live, .color = t->color, .cols = 80, .rows = 24};
    struct winsize ws;
    if (live && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
        s.cols = ws.ws_col;
        s.rows = ws.ws_row;
    }
    if (live) fputs("\033[H", m);
    draw_header(&s, t, cur, prev);
    draw_ingest(&s, t, cur, prev);
    draw_sink(&s, t, cur, prev);
    draw_registry_client(&s, t, cur);
    if (live) fputs("\033[J", m);
    fclose(m);
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    free(text);
}

/* ---- the terminal and the loop ----------------------------------------- */

typedef struct terminal {
    int live, raw, keys; /* keys: stdin is watched for q */
    struct termios saved;
    sigset_t blocked, unblocked;
} terminal;

static void terminal_enter(terminal *term, int live)
{
    term->live = live;
    term->raw = live && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &term->saved) == 0;
    if (term->raw) {
        struct termios raw = term->saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO); /* ISIG stays: Ctrl-C is SIGINT */
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    term->keys = term->raw;
    if (live) { /* the alternate screen, cursor hidden: the shell's screen comes back on exit */
        fputs("\033[?1049h\033[?25l\033[2J", stdout);
        fflush(stdout);
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: ppoll wakes */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGWINCH, &sa, NULL);
    sigemptyset(&term->blocked);
    sigaddset(&term->blocked, SIGINT);
    sigaddset(&term->blocked, SIGTERM);
    sigaddset(&term->blocked, SIGHUP);
    sigaddset(&term->blocked, SIGWINCH);
}

static void terminal_leave(terminal *term)
{
    if (term->live) {
        fputs("\033[?25h\033[?1049l", stdout);
        fflush(stdout);
    }
    if (term->raw) tcsetattr(STDIN_FILENO, TCSANOW, &term->saved);
}

enum { WAITED, RESIZED, QUIT };

/* Sleep ms, or less when a key, a resize or a signal comes. The signals
 * are blocked between looking at the flags and ppoll, which unblocks them
 * atomically: one arriving in between still wakes it. */
static int wait_for(terminal *term, int64_t ms)
{
    double until = now_s() + (double)ms / 1000;
    int ev = WAITED;
    sigprocmask(SIG_BLOCK, &term->blocked, &term->unblocked);
    while (ev == WAITED) {
        if (quit) {
            ev = QUIT;
            break;
        }
        if (resized) {
            resized = 0;
            ev = RESIZED;
            break;
        }
        double left = until - now_s();
        if (left <= 0) break;
        struct timespec ts = {.tv_sec = (time_t)left,
                              .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        if (ppoll(&p, term->keys ? 1 : 0, &ts, &term->unblocked) > 0) {
            char ch;
            ssize_t got = read(STDIN_FILENO, &ch, 1);
            if (got == 1 && (ch == 'q' || ch == 'Q'))
                quit = 1;
            else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
                term->keys = 0; /* the terminal is gone: stop watching it */
        }
    }
    sigprocmask(SIG_SETMASK, &term->unblocked, NULL);
    return ev;
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'}, {"interval", required_argument, NULL, 'i'},
        {"once", no_argument, NULL, 'o'},      {"no-color", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
    top t = {.interval_ms = 1000, .color = 1};
    int once = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (t.n_urls == TOP_MAX_URLS) {
                fprintf(stderr, "sluice top: at most %d --url\n", TOP_MAX_URLS);
                return CLI_EXIT_USAGE;
            }
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
                fprintf(stderr, "sluice top: --url '%s': want http://HOST:PORT/metrics\n", optarg);
                return CLI_EXIT_USAGE;
            }
            t.urls[t.n_urls++] = optarg;
            break;
        case 'i':
            if (cfg_parse_duration_ms(optarg, &t.interval_ms) || t.interval_ms < 100 ||
                t.interval_ms > 3600000) {
                fprintf(stderr, "sluice top: --interval '%s': want 100ms to 1h, e.g. 500ms or 2s\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o':
            once = 1;
            break;
        case 'n':
            t.color = 0;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "sluice top: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!t.n_urls) t.urls[t.n_urls++] = TOP_DEFAULT_URL;
    int live = !once && isatty(STDOUT_FILENO);
    t.color = t.color && isatty(STDOUT_FILENO);

    frame fr[2] = {{.s = calloc(TOP_MAX_SAMPLES, sizeof(prom_sample))},
                   {.s = calloc(TOP_MAX_SAMPLES, sizeof(prom_sample))}};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    t.curl = http_client(&t);
    if (!fr[0].s || !fr[1].s || !t.curl) {
        fprintf(stderr, "sluice top: out of memory\n");
        free(fr[0].s);
        free(fr[1].s);
        curl_easy_cleanup(t.curl);
        return CLI_EXIT_RUNTIME;
    }
    terminal term;
    terminal_enter(&term, live);

    int ever_ok = 0, k = 0, frames = 0;
    const frame *prev = NULL, *last = NULL; /* last: what prev was compared with */
    while (!quit) {
        frame *cur = &fr[k];
        fetch(&t, cur);
        frames++;
        for (size_t u = 0; u < t.n_urls; u++)
            ever_ok |= cur->ok[u];
        if (live || frames == 2) draw(&t, cur, prev, live);
        if (!live && frames == 2) break;
        last = prev;
        prev = cur;
        k ^= 1;
        int ev;
        while ((ev = wait_for(&term, t.interval_ms)) == RESIZED)
            if (live) draw(&t, prev, last, live);
        if (ev == QUIT) break;
    }
    terminal_leave(&term);
    curl_easy_cleanup(t.curl);
    free(t.body);
    int exit_code = CLI_EXIT_OK;
    if (!ever_ok) {
        const frame *f = frames >= 2 ? &fr[1] : &fr[0];
        for (size_t u = 0; u < t.n_urls; u++)
            fprintf(stderr, "sluice top: %s: %s\n", t.urls[u], f->err[u]);
        exit_code = CLI_EXIT_RUNTIME;
    }
    free(fr[0].s);
    free(fr[1].s);
    return exit_code;
}
