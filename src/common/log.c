/*
 * log.c — logfmt / JSON-lines formatter behind include/sluice/log.h.
 *
 * Each line is built in a stack buffer and written with a single write(2) (or
 * handed to the sink), so concurrent threads never interleave partial lines
 * and logging takes no lock. Lines longer than the buffer are truncated and
 * end in "…" rather than being split. Settings are plain globals written once
 * at start-up (before threads), read with relaxed atomics afterwards.
 */
#include <sluice/log.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int g_level = SLUICE_LOG_INFO;
static _Atomic int g_format = SLUICE_LOG_LOGFMT;
static sluice_log_sink g_sink;
static void *g_sink_opaque;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void sluice_log_configure(sluice_log_level level, sluice_log_format format)
{
    atomic_store(&g_level, (int)level);
    atomic_store(&g_format, (int)format);
}

void sluice_log_set_sink(sluice_log_sink sink, void *opaque)
{
    g_sink = sink;
    g_sink_opaque = opaque;
}

int sluice_log_enabled(sluice_log_level level)
{
    return (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

int sluice_log_level_parse(const char *s)
{
    for (int i = 0; i <= SLUICE_LOG_OFF; i++)
        if (strcasecmp(s, level_names[i]) == 0) return i;
    if (strcasecmp(s, "warning") == 0) return SLUICE_LOG_WARN;
    return -1;
}

int sluice_log_format_parse(const char *s)
{
    if (strcasecmp(s, "logfmt") == 0) return SLUICE_LOG_LOGFMT;
    if (strcasecmp(s, "json") == 0) return SLUICE_LOG_JSON;
    return -1;
}

/* A bounded writer into the line buffer; never overflows, remembers truncation. */
struct line {
    char buf[4096];
    size_t len;
    int truncated;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 8 - l->len; /* keep space for "…\n" */
    if (n > room) {
        n = room;
        l->truncated = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_json_string(struct line *l, const char *s)
{
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            put(l, "\\\"", 2);
            break;
        case '\\':
            put(l, "\\\\", 2);
            break;
        case '\n':
            put(l, "\\n", 2);
            break;
        case '\r':
            put(l, "\\r", 2);
            break;
        case '\t':
            put(l, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(l, esc);
            } else {
                put(l, (const char *)p, 1);
            }
        }
    }
    put(l, "\"", 1);
}

/* logfmt: bare when the value has no space, quote, '=' or control char. */
static void put_logfmt_value(struct line *l, const char *s)
{
    int bare = *s != '\0';
    for (const unsigned char *p = (const unsigned char *)s; *p && bare; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\') bare = 0;
    if (bare)
        puts_(l, s);
    else
        put_json_string(l, s); /* logfmt quoting uses the same escapes */
}

static void put_field(struct line *l, int json, const char *k, const char *v, int first)
{
    if (json) {
        if (!first) put(l, ",", 1);
        put_json_string(l, k);
        put(l, ":", 1);
        put_json_string(l, v ? v : "");
    } else {
        if (!first) put(l, " ", 1);
        puts_(l, k);
        put(l, "=", 1);
        put_logfmt_value(l, v ? v : "");
    }
}

void sluice_log(sluice_log_level level, const char *sub, const char *msg, ...)
{
    if (!sluice_log_enabled(level) || level >= SLUICE_LOG_OFF) return;
    int json = atomic_load_explicit(&g_format, memory_order_relaxed) == SLUICE_LOG_JSON;

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

    struct line l = {.len = 0, .truncated = 0};
    if (json) put(&l, "{", 1);
    put_field(&l, json, "ts", when, 1);
    put_field(&l, json, "level", level_names[level], 0);
    put_field(&l, json, "sub", sub, 0);
    put_field(&l, json, "msg", msg, 0);

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        put_field(&l, json, k, v, 0);
    }
    va_end(ap);

    if (json) put(&l, "}", 1);
    if (l.truncated) {
        memcpy(l.buf + l.len, "\xe2\x80\xa6", 3); /* "…" */
        l.len += 3;
    }
    if (g_sink) {
        l.buf[l.len] = '\0';
        g_sink(level, l.buf, g_sink_opaque);
        return;
    }
    l.buf[l.len++] = '\n';
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w; /* nowhere left to report a failed log write */
}
