/*
 * test_ch_cluster.c — the replicated-ClickHouse fixture proven, and the
 * facts the exactly-once sink (issue 14) relies on recorded as assertions
 * against real servers: ZooKeeper from Debian's package and two ClickHouse
 * 18.16 servers as one shard of two replicas (tests/support/zookeeper.h,
 * clickhouse.h). What ReplicatedMergeTree deduplicates and for how long,
 * what a Distributed table counts, what kill -9 leaves behind, what became
 * of an INSERT whose answer was lost, and what 18.16 tells a client about
 * a deduplicated block. docs/OPERATIONS.md ("ClickHouse clusters: what
 * 18.16 guarantees") lists each fact with the test here that proves it.
 *
 * One ZooKeeper and one cluster serve every test; the first test to need
 * them starts them, and a test that kills a server restarts it (if it
 * failed in between, the next test does). Every wait polls the servers
 * with a generous deadline and asserts on what they hold, never on time.
 * Tables are made on each replica by hand (ON CLUSTER is proved once, in
 * test_distributed) so that a killed replica never blocks a DDL queue.
 */
#include "test.h"

#include "clickhouse.h"
#include "fault_proxy.h"
#include "support.h"
#include "zookeeper.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static char *g_dir;
static test_zk g_zk;
static test_ch_cluster g_cluster;
static int g_started, g_failed;

#define R1 (&g_cluster.server[0])
#define R2 (&g_cluster.server[1])

/* Many blocks from one INSERT: the parser cuts a block every N rows and
 * squashing (which would glue them back up to ~1 M rows) is off. */
#define BLOCKS_OF_1                                                                                \
    "max_insert_block_size=1&min_insert_block_size_rows=0&min_insert_block_size_bytes=0"
#define BLOCKS_OF_1000                                                                             \
    "max_insert_block_size=1000&min_insert_block_size_rows=0&min_insert_block_size_bytes=0"

#define WAIT_MS 90000 /* give-up bound of every wait: a busy 2-core machine */

static void teardown(void)
{
    test_ch_cluster_stop(&g_cluster);
    test_zk_stop(&g_zk);
    test_rmtree(g_dir);
    free(g_dir);
}

/* The fixture under test: ZooKeeper, then the two replicas. */
static int cluster_up(void)
{
    if (g_failed) return -1; /* once: later tests fail at once instead of starting more */
    if (!g_started) {
        g_failed = 1;
        curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread uses libcurl */
        g_dir = test_tmpdir("sluice-ch-cluster");
        if (!g_dir) return -1;
        /* Registered before the fixtures' own handlers, so it runs after
         * them: ClickHouse stops before ZooKeeper, the directory goes last. */
        atexit(teardown);
        char zk_dir[600];
        snprintf(zk_dir, sizeof zk_dir, "%s/zk", g_dir);
        if (test_zk_start(&g_zk, zk_dir) != 0) return -1;
        if (test_ch_cluster_start(&g_cluster, g_dir, 2, &g_zk) != 0) return -1;
        g_started = 1;
        g_failed = 0;
    }
    for (int i = 0; i < g_cluster.n; i++)
        if (!g_cluster.server[i].running && test_ch_restart(&g_cluster.server[i]) != 0) return -1;
    return 0;
}

/* ---- queries ------------------------------------------------------------------ */

/* Run a statement; print the server's answer when it is not 200. */
static long run(const test_ch *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long run(const test_ch *ch, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *out = NULL;
    long st = test_ch_query(ch, sql, &out);
    if (st != 200) fprintf(stderr, "%s -> %ld %s\n", sql, st, out ? out : "");
    free(out);
    return st;
}

static double num(const test_ch *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static double num(const test_ch *ch, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return test_ch_scalar(ch, sql);
}

/* The answer's text without its trailing newline (static buffer). */
static const char *text(const test_ch *ch, const char *sql)
{
    static char buf[4096];
    char *out = NULL;
    long st = test_ch_query(ch, sql, &out);
    snprintf(buf, sizeof buf, "%s", st == 200 && out ? out : "(error)");
    free(out);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return buf;
}

/* Poll sql until it gives want (or WAIT_MS passes); the last value. */
static double wait_num(const test_ch *ch, double want, const char *sql)
{
    double v = -1;
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        v = test_ch_scalar(ch, sql);
        if (v == want) return v;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "gave up waiting for %s = %g (last %g)\n", sql, want, v);
    return v;
}

static double count_rows(const test_ch *ch, const char *table)
{
    return num(ch, "SELECT count() FROM %s", table);
}

static double wait_count(const test_ch *ch, const char *table, double want)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count() FROM %s", table);
    return wait_num(ch, want, sql);
}

/* The server's count of INSERTed blocks it ignored as duplicates since it
 * started (system.events lists only counters above zero: sum() gives 0). */
static double dup_blocks(const test_ch *ch)
{
    return test_ch_scalar(
        ch, "SELECT sum(value) FROM system.events WHERE event = 'DuplicatedInsertedBlocks'");
}

/* Lines of the server's log that contain both needles. */
static int log_lines(const test_ch *ch, const char *needle1, const char *needle2)
{
    char path[700], line[4096];
    snprintf(path, sizeof path, "%s/log/clickhouse-server.log", ch->dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle1) && strstr(line, needle2)) n++;
    fclose(f);
    return n;
}

/* The same ReplicatedMergeTree table, ORDER BY its first column, on every
 * replica. */
static int create_replicated(const char *name, const char *columns, const char *settings)
{
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(columns, " "), columns);
    for (int i = 0; i < g_cluster.n; i++)
        if (run(&g_cluster.server[i],
                "CREATE TABLE %s (%s) ENGINE = "
                "ReplicatedMergeTree('/clickhouse/tables/{shard}/%s', "
                "'{replica}') ORDER BY %s%s%s",
                name, columns, name, first, settings ? " SETTINGS " : "",
                settings ? settings : "") != 200)
            return -1;
    return 0;
}

static long insert_tsv(const test_ch *ch, const char *table, const char *params, const char *rows)
{
    char stmt[256];
    snprintf(stmt, sizeof stmt, "INSERT INTO %s FORMAT TSV", table);
    char *out = NULL;
    long st = test_ch_insert(ch, stmt, params, rows, strlen(rows), &out);
    if (st != 200) fprintf(stderr, "INSERT INTO %s -> %ld %s\n", table, st, out ? out : "");
    free(out);
    return st;
}

/* Rows "id\tv<id>\n" for ids [from, to) (malloc'd). */
static char *id_rows(long from, long to)
{
    size_t cap = (size_t)(to - from) * 48 + 1, len = 0;
    char *s = malloc(cap);
    if (!s) abort();
    s[0] = '\0';
    for (long i = from; i < to; i++)
        len += (size_t)snprintf(s + len, cap - len, "%ld\tv%ld\n", i, i);
    return s;
}

/* Just the ids [from, to), one per line. */
static char *ids_only(long from, long to)
{
    size_t cap = (size_t)(to - from) * 24 + 1, len = 0;
    char *s = malloc(cap);
    if (!s) abort();
    s[0] = '\0';
    for (long i = from; i < to; i++)
        len += (size_t)snprintf(s + len, cap - len, "%ld\n", i);
    return s;
}

/* ---- raw HTTP, for what the helpers hide: headers, client timeouts ------------- */

typedef struct answer {
    CURLcode cc;
    long status;
    char *headers; /* the raw header lines */
    char *body;
} answer;

static void answer_free(answer *a)
{
    free(a->headers);
    free(a->body);
}

/* POST body to base/?query=<statement>[&params] with a client timeout. */
static void post(const char *base, const char *statement, const char *params, const char *body,
                 long timeout_ms, answer *a)
{
    memset(a, 0, sizeof *a);
    CURL *c = curl_easy_init();
    char *esc = curl_easy_escape(c, statement, 0);
    char url[2048];
    snprintf(url, sizeof url, "%s/?query=%s%s%s", base, esc, params && *params ? "&" : "",
             params ? params : "");
    curl_free(esc);
    test_grow h = {NULL, 0}, b = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    a->cc = curl_easy_perform(c);
    if (a->cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(c);
    a->headers = h.p ? h.p : strdup("");
    a->body = b.p ? b.p : strdup("");
}

static int compare_names(const void *a, const void *b)
{
    return strcasecmp(a, b);
}

/* The names of the response's headers, sorted, comma-separated, without
 * Date (its value is all that differs between two answers). */
static void header_names(const char *headers, char *out, size_t n)
{
    char names[32][64];
    int k = 0;
    for (const char *line = headers; line && *line && k < 32;) {
        const char *colon = strchr(line, ':'), *eol = strchr(line, '\n');
        if (colon && (!eol || colon < eol) && strncmp(line, "HTTP/", 5) != 0) {
            snprintf(names[k], sizeof names[k], "%.*s", (int)(colon - line), line);
            if (strcasecmp(names[k], "Date") != 0) k++;
        }
        line = eol ? eol + 1 : NULL;
    }
    qsort(names, (size_t)k, sizeof names[0], compare_names);
    out[0] = '\0';
    for (int i = 0; i < k; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", names[i]);
}

/* ---- (a) replication ------------------------------------------------------------ */

static void test_replication(void)
{
    CHECK_EQ(cluster_up(), 0);
    char answer_text[1024];
    CHECK_EQ(test_zk_four_letters(&g_zk, "srvr", answer_text, sizeof answer_text), 0);
    CHECK_CONTAINS(answer_text, "Mode: standalone");
    CHECK_STR(text(R1, "SELECT version()"), "18.16.1");
    CHECK_STR(text(R2, "SELECT substitution FROM system.macros WHERE macro = 'replica'"), "r2");
    CHECK_EQ(create_replicated("rep", "id UInt64, s String", NULL), 0);
    /* Both replicas registered in this fixture's ZooKeeper. */
    CHECK_EQ(num(R1, "SELECT count() FROM system.zookeeper WHERE path = "
                     "'/clickhouse/tables/1/rep/replicas'"),
             2);
    CHECK_EQ(insert_tsv(R1, "rep", "", "1\ta\n2\tb\n3\tc\n"), 200);
    CHECK_EQ(wait_count(R2, "rep", 3), 3);
    CHECK_EQ(num(R2, "SELECT sum(id) FROM rep"), 6);
    /* And the other way. */
    CHECK_EQ(insert_tsv(R2, "rep", "", "4\td\n"), 200);
    CHECK_EQ(wait_count(R1, "rep", 4), 4);
}

/* ---- (b) what a repeated block is --------------------------------------------------- */

static void test_dedup_blocks(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_EQ(create_replicated("dd", "id UInt64, s String", NULL), 0);
    const char *block = "1\ta\n2\tb\n3\tc\n";
    double dup0 = dup_blocks(R1);
    CHECK_EQ(insert_tsv(R1, "dd", "", block), 200);
    CHECK_EQ(insert_tsv(R1, "dd", "", block), 200); /* same rows, same order */
    CHECK_EQ(count_rows(R1, "dd"), 3);
    CHECK_EQ(dup_blocks(R1) - dup0, 1);

    /* The same rows in another order: the block is sorted by the table's
     * ORDER BY before it is hashed. */
    CHECK_EQ(insert_tsv(R1, "dd", "", "3\tc\n1\ta\n2\tb\n"), 200);
    CHECK_EQ(count_rows(R1, "dd"), 3);
    CHECK_EQ(dup_blocks(R1) - dup0, 2);

    /* The same rows as RowBinary (what the sink sends): the hash is of the
     * stored data, not of the request's bytes. */
    unsigned char rb[64];
    size_t n = 0;
    for (int id = 1; id <= 3; id++) {
        for (int b = 0; b < 8; b++)
            rb[n++] = (unsigned char)(b == 0 ? id : 0); /* UInt64, little endian */
        rb[n++] = 1;                                    /* String: varint length 1 */
        rb[n++] = (unsigned char)('a' + id - 1);
    }
    char *out = NULL;
    CHECK_EQ(test_ch_insert(R1, "INSERT INTO dd FORMAT RowBinary", "", rb, n, &out), 200);
    free(out);
    CHECK_EQ(count_rows(R1, "dd"), 3);
    CHECK_EQ(dup_blocks(R1) - dup0, 3);

    /* The same block sent to the other replica. */
    CHECK_EQ(wait_count(R2, "dd", 3), 3);
    double dup2 = dup_blocks(R2);
    CHECK_EQ(insert_tsv(R2, "dd", "", block), 200);
    CHECK_EQ(count_rows(R2, "dd"), 3);
    CHECK_EQ(dup_blocks(R2) - dup2, 1);

    /* Rows whose ORDER BY key is equal keep their arrival order in the
     * sorted block (a stable sort): another relative order among them is
     * another block. */
    CHECK_EQ(create_replicated("dd_eq", "k UInt64, v String", NULL), 0);
    CHECK_EQ(insert_tsv(R1, "dd_eq", "", "1\ta\n1\tb\n2\tc\n"), 200);
    CHECK_EQ(insert_tsv(R1, "dd_eq", "", "2\tc\n1\ta\n1\tb\n"), 200); /* a before b: same */
    CHECK_EQ(count_rows(R1, "dd_eq"), 3);
    CHECK_EQ(insert_tsv(R1, "dd_eq", "", "1\tb\n1\ta\n2\tc\n"), 200); /* b before a */
    CHECK_EQ(count_rows(R1, "dd_eq"), 6);

    /* A column the INSERT leaves to a non-deterministic DEFAULT is filled
     * in before the hash: the repeated INSERT is a new block. */
    CHECK_EQ(create_replicated("dd_def", "id UInt64, r UInt32 DEFAULT rand()", NULL), 0);
    char *o2 = NULL;
    CHECK_EQ(test_ch_insert(R1, "INSERT INTO dd_def (id) FORMAT TSV", "", "1\n2\n", 4, &o2), 200);
    free(o2);
    o2 = NULL;
    CHECK_EQ(test_ch_insert(R1, "INSERT INTO dd_def (id) FORMAT TSV", "", "1\n2\n", 4, &o2), 200);
    free(o2);
    CHECK_EQ(count_rows(R1, "dd_def"), 4);

    /* The INSERT's column order does not matter (the block takes the
     * table's); a column added to the table between two INSERTs does: the
     * second block carries the new column (its DEFAULT) and is stored. */
    CHECK_EQ(create_replicated("dd_alter", "id UInt64, s String", NULL), 0);
    o2 = NULL;
    CHECK_EQ(test_ch_insert(R1, "INSERT INTO dd_alter (id, s) FORMAT TSV", "", "1\ta\n", 4, &o2),
             200);
    free(o2);
    o2 = NULL;
    CHECK_EQ(test_ch_insert(R1, "INSERT INTO dd_alter (s, id) FORMAT TSV", "", "a\t1\n", 4, &o2),
             200);
    free(o2);
    CHECK_EQ(count_rows(R1, "dd_alter"), 1);
    CHECK_EQ(run(R1, "ALTER TABLE dd_alter ADD COLUMN c UInt8 DEFAULT 0"), 200);
    o2 = NULL;
    CHECK_EQ(test_ch_insert(R1, "INSERT INTO dd_alter (id, s) FORMAT TSV", "", "1\ta\n", 4, &o2),
             200);
    free(o2);
    CHECK_EQ(count_rows(R1, "dd_alter"), 2);

    /* A block that spans partitions is one part, and one remembered hash,
     * per partition: two here, both ignored when the block comes again. */
    for (int i = 0; i < g_cluster.n; i++)
        CHECK_EQ(run(&g_cluster.server[i],
                     "CREATE TABLE dd_part (id UInt64) ENGINE = ReplicatedMergeTree("
                     "'/clickhouse/tables/{shard}/dd_part', '{replica}') PARTITION BY id %% 2 "
                     "ORDER BY id"),
                 200);
    dup0 = dup_blocks(R1);
    CHECK_EQ(insert_tsv(R1, "dd_part", "", "1\n2\n3\n4\n"), 200);
    CHECK_EQ(num(R1, "SELECT count() FROM system.zookeeper WHERE path = "
                     "'/clickhouse/tables/1/dd_part/blocks'"),
             2);
    CHECK_EQ(insert_tsv(R1, "dd_part", "", "4\n3\n2\n1\n"), 200);
    CHECK_EQ(count_rows(R1, "dd_part"), 4);
    CHECK_EQ(dup_blocks(R1) - dup0, 2);
    /* A block holding the rows of just one of those parts matches its hash. */
    CHECK_EQ(insert_tsv(R1, "dd_part", "", "1\n3\n"), 200);
    CHECK_EQ(count_rows(R1, "dd_part"), 4);
}

/* ---- (b) how long a block is remembered -------------------------------------------- */

static double block_znodes(const char *table)
{
    return num(R1,
               "SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/tables/1/%s/blocks'",
               table);
}

static void test_dedup_window(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_STR(text(R1, "SELECT value FROM system.merge_tree_settings "
                       "WHERE name = 'replicated_deduplication_window'"),
              "100");
    CHECK_STR(text(R1, "SELECT value FROM system.merge_tree_settings "
                       "WHERE name = 'replicated_deduplication_window_seconds'"),
              "604800");
    CHECK_STR(text(R1, "SELECT value FROM system.merge_tree_settings "
                       "WHERE name = 'cleanup_delay_period'"),
              "30");
    char *hundred = ids_only(1, 101);

    /* The cleanup thread trims the remembered hashes to the newest 100: on
     * "win" it runs every second instead of every 30-40 s, on "win_lazy"
     * every hour. win_lazy is made first, so that a run at its start (if
     * there is one) is long past when it is used; block_znodes checks. */
    CHECK_EQ(create_replicated("win_lazy", "id UInt64",
                               "cleanup_delay_period = 3600, cleanup_delay_period_random_add = 0"),
             0);
    CHECK_EQ(create_replicated("win", "id UInt64",
                               "cleanup_delay_period = 1, cleanup_delay_period_random_add = 0"),
             0);
    /* Block 0, then 100 newer blocks (one INSERT, one row per block). */
    CHECK_EQ(insert_tsv(R1, "win", "", "0\n"), 200);
    CHECK_EQ(insert_tsv(R1, "win", BLOCKS_OF_1, hundred), 200);
    CHECK_EQ(count_rows(R1, "win"), 101);
    CHECK_EQ(wait_num(R1, 100,
                      "SELECT count() FROM system.zookeeper WHERE path = "
                      "'/clickhouse/tables/1/win/blocks'"),
             100);
    CHECK_EQ(insert_tsv(R1, "win", "", "1\n"), 200); /* the 100th newest: still a duplicate */
    CHECK_EQ(count_rows(R1, "win"), 101);
    CHECK_EQ(insert_tsv(R1, "win", "", "0\n"), 200); /* the 101st: forgotten, stored again */
    CHECK_EQ(count_rows(R1, "win"), 102);

    /* The window is trimmed only when the cleanup thread runs: until then a
     * block older than the newest 100 is still ignored. */
    CHECK_EQ(insert_tsv(R1, "win_lazy", "", "0\n"), 200);
    CHECK_EQ(insert_tsv(R1, "win_lazy", BLOCKS_OF_1, hundred), 200);
    CHECK_EQ(block_znodes("win_lazy"), 101);
    CHECK_EQ(insert_tsv(R1, "win_lazy", "", "0\n"), 200);
    CHECK_EQ(count_rows(R1, "win_lazy"), 101);
    free(hundred);
}

/* ---- (c) Distributed over the two replicas ----------------------------------------- */

static void test_distributed(void)
{
    CHECK_EQ(cluster_up(), 0);
    /* ON CLUSTER: the distributed DDL queue runs through this ZooKeeper and
     * answers once every member has run the statement. */
    CHECK_EQ(run(R1,
                 "CREATE TABLE dl ON CLUSTER " TEST_CH_CLUSTER_NAME " (id UInt64) ENGINE = "
                 "ReplicatedMergeTree('/clickhouse/tables/{shard}/dl', '{replica}') ORDER BY id"),
             200);
    CHECK_EQ(run(R1, "CREATE TABLE dist ON CLUSTER " TEST_CH_CLUSTER_NAME
                     " AS dl ENGINE = Distributed(" TEST_CH_CLUSTER_NAME ", default, dl)"),
             200);
    CHECK_STR(text(R2, "SELECT engine FROM system.tables WHERE database = 'default' AND name = "
                       "'dist'"),
              "Distributed");

    char *rows = ids_only(0, 1000);
    CHECK_EQ(insert_tsv(R1, "dl", "", rows), 200);
    free(rows);
    CHECK_EQ(wait_count(R2, "dl", 1000), 1000);
    /* One replica per shard is read: each row counted once, from either server. */
    CHECK_EQ(count_rows(R1, "dist"), 1000);
    CHECK_EQ(count_rows(R2, "dist"), 1000);
    CHECK_EQ(num(R2, "SELECT uniqExact(id) FROM dist"), 1000);
    /* Reading both replicas as if they were shards counts twice: what
     * internal_replication and the one-shard layout prevent. */
    CHECK_EQ(num(R1, "SELECT count() FROM remote('127.0.0.1:%u,127.0.0.1:%u', default, dl)",
                 (unsigned)R1->tcp_port, (unsigned)R2->tcp_port),
             2000);

    /* An INSERT through the Distributed table (synchronous) lands once: on
     * one replica, which replicates it. */
    rows = ids_only(1000, 1500);
    CHECK_EQ(insert_tsv(R2, "dist", "insert_distributed_sync=1", rows), 200);
    free(rows);
    CHECK_EQ(wait_count(R1, "dl", 1500), 1500);
    CHECK_EQ(wait_count(R2, "dl", 1500), 1500);
    CHECK_EQ(count_rows(R1, "dist"), 1500);
    CHECK_EQ(count_rows(R2, "dist"), 1500);
}

/* ---- (g) what the sink can detect on 18.16 ------------------------------------------- */

static void test_capabilities(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_STR(text(R1, "SELECT version()"), "18.16.1");
    CHECK_EQ(create_replicated("cap", "id UInt64, s String", NULL), 0);
    CHECK_EQ(run(R1, "CREATE TABLE cap_plain (id UInt64, s String) ENGINE = MergeTree ORDER BY id"),
             200);
    CHECK_EQ(run(R1, "CREATE TABLE cap_dist AS cap ENGINE = Distributed(" TEST_CH_CLUSTER_NAME
                     ", default, cap)"),
             200);
    CHECK_STR(text(R1, "SELECT engine FROM system.tables WHERE database = 'default' AND name = "
                       "'cap'"),
              "ReplicatedMergeTree");
    CHECK_STR(text(R1, "SELECT engine FROM system.tables WHERE database = 'default' AND name = "
                       "'cap_plain'"),
              "MergeTree");
    /* A Distributed table names its local table in engine_full. */
    CHECK_STR(text(R1, "SELECT engine_full FROM system.tables WHERE database = 'default' AND "
                       "name = 'cap_dist'"),
              "Distributed(sluice, default, cap)");

    /* Settings: insert_deduplicate exists (on by default); the later
     * mechanisms do not exist at all. */
    CHECK_STR(text(R1, "SELECT value FROM system.settings WHERE name = 'insert_deduplicate'"), "1");
    CHECK_EQ(num(R1, "SELECT count() FROM system.settings WHERE name = "
                     "'insert_deduplication_token'"),
             0);
    CHECK_EQ(num(R1, "SELECT count() FROM system.settings WHERE name = "
                     "'non_replicated_deduplication_window'"),
             0);
    CHECK_EQ(num(R1, "SELECT count() FROM system.merge_tree_settings WHERE name = "
                     "'non_replicated_deduplication_window'"),
             0);
    /* Asking for one is an error, so a probe must read system.settings. */
    CHECK(run(R1, "SELECT 1 SETTINGS insert_deduplication_token = 'x'") != 200);

    /* insert_deduplicate=0 among a client's settings switches it off, and
     * a probe sent with the same settings sees that. */
    CHECK_EQ(create_replicated("cap_off", "id UInt64", NULL), 0);
    answer off;
    post(R1->url, "SELECT value FROM system.settings WHERE name = 'insert_deduplicate'",
         "insert_deduplicate=0", "", 60000, &off);
    int probe_off = off.status == 200 && strcmp(off.body, "0\n") == 0;
    answer_free(&off);
    CHECK(probe_off);
    CHECK_EQ(insert_tsv(R1, "cap_off", "insert_deduplicate=0", "7\n"), 200);
    CHECK_EQ(insert_tsv(R1, "cap_off", "insert_deduplicate=0", "7\n"), 200);
    CHECK_EQ(count_rows(R1, "cap_off"), 2);

    /* A plain MergeTree stores a repeated block again, insert_deduplicate
     * or not, and counts no duplicate. */
    double dup0 = dup_blocks(R1);
    CHECK_EQ(insert_tsv(R1, "cap_plain", "insert_deduplicate=1", "1\ta\n2\tb\n"), 200);
    CHECK_EQ(insert_tsv(R1, "cap_plain", "insert_deduplicate=1", "1\ta\n2\tb\n"), 200);
    CHECK_EQ(count_rows(R1, "cap_plain"), 4);
    CHECK_EQ(dup_blocks(R1) - dup0, 0);

    /* The HTTP answer to a stored block and to a deduplicated one are the
     * same: 200, empty body, the same headers (no X-ClickHouse-Summary). */
    answer fresh, dup;
    post(R1->url, "INSERT INTO cap FORMAT TSV", "query_id=cap-fresh&log_queries=1", "1\ta\n2\tb\n",
         60000, &fresh);
    post(R1->url, "INSERT INTO cap FORMAT TSV", "query_id=cap-dup&log_queries=1", "1\ta\n2\tb\n",
         60000, &dup);
    char names_fresh[512], names_dup[512];
    header_names(fresh.headers, names_fresh, sizeof names_fresh);
    header_names(dup.headers, names_dup, sizeof names_dup);
    int same_body = strcmp(fresh.body, dup.body) == 0 && fresh.body[0] == '\0';
    long st_fresh = fresh.status, st_dup = dup.status;
    int summary = strcasestr(dup.headers, "X-ClickHouse-Summary") != NULL;
    answer_free(&fresh);
    answer_free(&dup);
    CHECK_EQ(st_fresh, 200);
    CHECK_EQ(st_dup, 200);
    CHECK(same_body);
    CHECK_STR(names_dup, names_fresh);
    CHECK_STR(names_dup, "Connection,Content-Type,Keep-Alive,Transfer-Encoding,X-ClickHouse-Server-"
                         "Display-Name");
    CHECK(!summary);
    CHECK_EQ(count_rows(R1, "cap"), 2);
    CHECK_EQ(dup_blocks(R1) - dup0, 1);

    /* What does tell: the query's own ProfileEvents in system.query_log
     * (needs <query_log> in the server's config and log_queries=1; written
     * on flush), and part_log's NEW_PART with error 389
     * (INSERT_WAS_DEDUPLICATED; needs <part_log>, which has no query_id).
     * written_rows counts the rows of the ignored block too. */
    CHECK_EQ(run(R1, "SYSTEM FLUSH LOGS"), 200);
    const char *q = "SELECT ProfileEvents.Values[indexOf(ProfileEvents.Names, "
                    "'DuplicatedInsertedBlocks')] FROM system.query_log WHERE type = 2 AND "
                    "query_id = '%s'";
    CHECK_EQ(num(R1, q, "cap-dup"), 1);
    CHECK_EQ(num(R1, q, "cap-fresh"), 0);
    CHECK_EQ(num(R1, "SELECT written_rows FROM system.query_log WHERE type = 2 AND query_id = "
                     "'cap-dup'"),
             2);
    CHECK_EQ(num(R1, "SELECT count() FROM system.part_log WHERE table = 'cap' AND event_type = "
                     "'NEW_PART'"),
             2);
    CHECK_EQ(num(R1, "SELECT countIf(error = 389) FROM system.part_log WHERE table = 'cap' AND "
                     "event_type = 'NEW_PART'"),
             1);
    /* And the server log, at level "information", with the query id. */
    CHECK_EQ(log_lines(R1, "default.cap (Replicated OutputStream): Block with ID",
                       "already exists; ignoring it"),
             1);
    CHECK_EQ(log_lines(R1, "{cap-dup}", "already exists; ignoring it"), 1);
}

/* ---- (f) an INSERT whose answer is lost ---------------------------------------------- */

static int wait_withheld(const fault_proxy *px, uint64_t want)
{
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        if (fault_proxy_withheld(px) >= want) return 0;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void test_withheld_answer(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_EQ(create_replicated("held", "id UInt64, s String", NULL), 0);
    fault_proxy *px = fault_proxy_start(R1->url);
    CHECK(px);
    fault_proxy_match(px, "INSERT");
    const char *stmt = "INSERT INTO held FORMAT TSV";
    answer a;

    /* Held past the client's timeout (2 s): the client gives up without
     * knowing; the server has stored the block. */
    fault_proxy_withhold_next(px, 1, FAULT_PROXY_HOLD, WAIT_MS);
    post(fault_proxy_url(px), stmt, "", "1\ta\n2\tb\n3\tc\n", 2000, &a);
    CURLcode cc = a.cc;
    answer_free(&a);
    CHECK_EQ(cc, CURLE_OPERATION_TIMEDOUT);
    CHECK_EQ(wait_withheld(px, 1), 0);
    CHECK_EQ(fault_proxy_withheld_status(px), 200);
    CHECK_EQ(count_rows(R1, "held"), 3);
    /* The client's retry of the same block is ignored. */
    double dup0 = dup_blocks(R1);
    post(fault_proxy_url(px), stmt, "", "1\ta\n2\tb\n3\tc\n", 60000, &a);
    long st = a.status;
    answer_free(&a);
    CHECK_EQ(st, 200);
    CHECK_EQ(count_rows(R1, "held"), 3);
    CHECK_EQ(dup_blocks(R1) - dup0, 1);

    /* The connection closed without an answer: the same. */
    fault_proxy_withhold_next(px, 1, FAULT_PROXY_DROP, 0);
    post(fault_proxy_url(px), stmt, "", "4\td\n5\te\n", 60000, &a);
    cc = a.cc;
    answer_free(&a);
    CHECK_EQ(cc, CURLE_GOT_NOTHING);
    CHECK_EQ(wait_withheld(px, 2), 0);
    CHECK_EQ(fault_proxy_withheld_status(px), 200);
    CHECK_EQ(count_rows(R1, "held"), 5);
    post(fault_proxy_url(px), stmt, "", "4\td\n5\te\n", 60000, &a);
    st = a.status;
    answer_free(&a);
    CHECK_EQ(st, 200);
    CHECK_EQ(count_rows(R1, "held"), 5);
    CHECK_EQ(dup_blocks(R1) - dup0, 2);

    /* Only INSERTs match: a SELECT through the proxy is counted as a
     * request, not as a match. */
    post(fault_proxy_url(px), "SELECT count() FROM held", "", "", 60000, &a);
    st = a.status;
    int five = strcmp(a.body, "5\n") == 0;
    answer_free(&a);
    CHECK_EQ(st, 200);
    CHECK(five);
    CHECK_EQ(fault_proxy_matched(px), 4);
    CHECK_EQ(fault_proxy_requests(px), 5);
    CHECK_EQ(fault_proxy_withheld(px), 2);
    fault_proxy_stop(px);
}

/* ---- (d) a replica killed while the other takes INSERTs ------------------------------ */

typedef struct streamer {
    const test_ch *ch;
    _Atomic int stop;
    _Atomic int done; /* INSERTs answered */
    _Atomic int failed;
} streamer;

static void *stream_inserts(void *arg)
{
    streamer *s = arg;
    for (long i = 0; !atomic_load(&s->stop); i++) {
        char *rows = id_rows(i * 100, i * 100 + 100);
        if (insert_tsv(s->ch, "stream", "", rows) != 200) atomic_fetch_add(&s->failed, 1);
        free(rows);
        atomic_fetch_add(&s->done, 1);
    }
    return NULL;
}

static int wait_done(streamer *s, int want)
{
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        if (atomic_load(&s->done) >= want) return 0;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void test_replica_killed_midstream(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_EQ(create_replicated("stream", "id UInt64, s String", NULL), 0);
    streamer s = {.ch = R1};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, stream_inserts, &s), 0);
    int ok = wait_done(&s, 10) == 0;
    if (ok) test_ch_kill(R2);
    int killed_at = atomic_load(&s.done);
    ok = ok && wait_done(&s, killed_at + 10) == 0;
    int restarted = ok && test_ch_restart(R2) == 0;
    int restarted_at = atomic_load(&s.done);
    ok = restarted && wait_done(&s, restarted_at + 10) == 0;
    atomic_store(&s.stop, 1);
    pthread_join(t, NULL);
    CHECK(ok);
    if (R2->forced_restores)
        fprintf(stderr, "note: r2 needed force_restore_data after its kill -9 (%d so far)\n",
                R2->forced_restores);
    CHECK_EQ(atomic_load(&s.failed), 0);
    double rows = atomic_load(&s.done) * 100.0;
    CHECK_EQ(count_rows(R1, "stream"), rows);
    /* The restarted replica fetches what it missed. */
    CHECK_EQ(wait_count(R2, "stream", rows), rows);
    CHECK_EQ(num(R2, "SELECT uniqExact(id) FROM stream"), rows);
    CHECK_EQ(num(R2, "SELECT max(id) + 1 FROM stream"), rows);
    /* On its old native port: the other member reaches it where its
     * <remote_servers> says it is. */
    CHECK_EQ(num(R1, "SELECT count() FROM remote('127.0.0.1:%u', default, stream)",
                 (unsigned)R2->tcp_port),
             rows);
}

/* ---- (e) a server killed during a large INSERT --------------------------------------- */

/* 18.16 reads an HTTP body in 1 MiB pieces (std::istream::read of its
 * buffer), so blocks are committed during an INSERT only if the rows are
 * large enough: here a row is ~1 kB and a block 1000 rows, ~1 MB. */
#define BIG_ROW_PAD 1000
static size_t big_row(char *buf, size_t cap, long id)
{
    static char pad[BIG_ROW_PAD + 1];
    if (!pad[0]) memset(pad, 'p', BIG_ROW_PAD);
    return (size_t)snprintf(buf, cap, "%ld\t%s%ld\n", id, pad, id);
}

static char *big_rows(long from, long to)
{
    size_t cap = (size_t)(to - from) * (BIG_ROW_PAD + 48) + 1, len = 0;
    char *s = malloc(cap);
    if (!s) abort();
    s[0] = '\0';
    for (long i = from; i < to; i++)
        len += big_row(s + len, cap - len, i);
    return s;
}

/* A chunked upload of big_rows(0, hold_at) that then stalls (mid-block)
 * until released, and ends in an aborted request. */
typedef struct upload {
    const char *url;
    long next, hold_at;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int released;
    CURLcode cc;
} upload;

static size_t upload_read(char *buf, size_t size, size_t nitems, void *opaque)
{
    upload *u = opaque;
    size_t cap = size * nitems, len = 0;
    while (u->next < u->hold_at && cap - len > BIG_ROW_PAD + 48)
        len += big_row(buf + len, cap - len, u->next++);
    if (len) return len;
    pthread_mutex_lock(&u->mu);
    while (!u->released)
        pthread_cond_wait(&u->cv, &u->mu);
    pthread_mutex_unlock(&u->mu);
    return CURL_READFUNC_ABORT;
}

static void *run_upload(void *arg)
{
    upload *u = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    test_grow out = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, u->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(c, CURLOPT_READDATA, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    u->cc = curl_easy_perform(c);
    free(out.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static void test_killed_during_insert(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_EQ(create_replicated("big", "id UInt64, s String", NULL), 0);
    /* 2.5 blocks of 1000 rows (2.5 MB) sent, then the client stalls. */
    char *esc = curl_easy_escape(NULL, "INSERT INTO big FORMAT TSV", 0);
    char url[512];
    snprintf(url, sizeof url, "%s/?query=%s&" BLOCKS_OF_1000, R1->url, esc);
    curl_free(esc);
    upload u = {.url = url, .hold_at = 2500};
    pthread_mutex_init(&u.mu, NULL);
    pthread_cond_init(&u.cv, NULL);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, run_upload, &u), 0);
    /* The first two blocks are committed while the INSERT is running. */
    double during = wait_count(R1, "big", 2000);
    if (during == 2000) test_ch_kill(R1);
    pthread_mutex_lock(&u.mu);
    u.released = 1;
    pthread_cond_signal(&u.cv);
    pthread_mutex_unlock(&u.mu);
    pthread_join(t, NULL);
    CHECK_EQ(during, 2000);
    CHECK(u.cc != CURLE_OK); /* the client saw its INSERT fail */
    CHECK_EQ(test_ch_restart(R1), 0);
    if (R1->forced_restores)
        fprintf(stderr, "note: r1 needed force_restore_data after its kill -9\n");

    /* After the restart: the committed blocks, whole; nothing of the third
     * block, half sent before the kill. */
    CHECK_EQ(count_rows(R1, "big"), 2000);
    CHECK_EQ(num(R1, "SELECT uniqExact(id) FROM big"), 2000);
    CHECK_EQ(num(R1, "SELECT max(id) FROM big"), 1999);

    /* The client's retry of the whole INSERT, cut into the same blocks:
     * the two that landed are ignored, the rest stored. */
    double dup0 = dup_blocks(R1);
    char *all = big_rows(0, 5000);
    long st = insert_tsv(R1, "big", BLOCKS_OF_1000, all);
    free(all);
    CHECK_EQ(st, 200);
    CHECK_EQ(count_rows(R1, "big"), 5000);
    CHECK_EQ(num(R1, "SELECT uniqExact(id) FROM big"), 5000);
    CHECK_EQ(dup_blocks(R1) - dup0, 2);
    CHECK_EQ(wait_count(R2, "big", 5000), 5000);
}

/* ---- a replica that finds parts ZooKeeper does not know ------------------------------ */

/* What a kill -9 can leave (a fetched or merged part renamed into place
 * before its ZooKeeper commit), made deterministic: a level-1 part of
 * another table with the same columns copied into the replica's table
 * while it is stopped. With such parts above half the table's rows, 18.16
 * refuses to start; test_ch_restart then restarts it with
 * flags/force_restore_data, and the server sets the part aside. */
static void test_restart_unexpected_parts(void)
{
    CHECK_EQ(cluster_up(), 0);
    CHECK_STR(text(R2, "SELECT value FROM system.merge_tree_settings "
                       "WHERE name = 'replicated_max_ratio_of_wrong_parts'"),
              "0.5");
    CHECK_EQ(create_replicated("upt", "id UInt64", NULL), 0);
    char *rows = ids_only(0, 10);
    CHECK_EQ(insert_tsv(R1, "upt", "", rows), 200);
    free(rows);
    CHECK_EQ(wait_count(R2, "upt", 10), 10);

    CHECK_EQ(run(R2, "CREATE TABLE donor (id UInt64) ENGINE = MergeTree ORDER BY id"), 200);
    rows = ids_only(100, 150);
    CHECK_EQ(insert_tsv(R2, "donor", "", rows), 200);
    free(rows);
    rows = ids_only(150, 200);
    CHECK_EQ(insert_tsv(R2, "donor", "", rows), 200);
    free(rows);
    CHECK_EQ(run(R2, "OPTIMIZE TABLE donor FINAL"), 200);
    CHECK_EQ(num(R2, "SELECT count() FROM system.parts WHERE table = 'donor' AND active AND "
                     "level = 1 AND rows = 100"),
             1);
    char part[1024];
    snprintf(part, sizeof part, "%s",
             text(R2, "SELECT path FROM system.parts WHERE table = 'donor' AND active"));
    CHECK(part[0] == '/');

    test_ch_stop(R2);
    char cmd[2600], stray[800];
    snprintf(stray, sizeof stray, "%s/data/data/default/upt/all_900_901_1", R2->dir);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", part, stray);
    CHECK_EQ(system(cmd), 0);
    int forced = R2->forced_restores;
    CHECK_EQ(test_ch_restart(R2), 0);
    CHECK_EQ(R2->forced_restores, forced + 1);
    /* The refusal names the table and the rows (the server logs it twice). */
    CHECK(log_lines(R2, "default.upt doesn't look like the set of parts in ZooKeeper",
                    "100.00 rows of 110.00 total rows in filesystem are suspicious") > 0);
    /* Set aside, not counted; the replica replicates again. */
    snprintf(stray, sizeof stray, "%s/data/data/default/upt/detached/ignored_all_900_901_1",
             R2->dir);
    CHECK_EQ(access(stray, F_OK), 0);
    CHECK_EQ(count_rows(R2, "upt"), 10);
    /* The flag is for one start: the server removed it. */
    char flag[700];
    snprintf(flag, sizeof flag, "%s/data/flags/force_restore_data", R2->dir);
    CHECK(access(flag, F_OK) != 0);
    rows = ids_only(10, 15);
    CHECK_EQ(insert_tsv(R1, "upt", "", rows), 200);
    free(rows);
    CHECK_EQ(wait_count(R2, "upt", 15), 15);
}

TEST_MAIN(T(test_replication), T(test_dedup_blocks), T(test_dedup_window), T(test_distributed),
          T(test_capabilities), T(test_withheld_answer), T(test_replica_killed_midstream),
          T(test_killed_during_insert), T(test_restart_unexpected_parts))
