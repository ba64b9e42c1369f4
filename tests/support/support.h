/*
 * support.h — what integration tests and benchmarks share: starting real
 * processes (the sluice binary, servers) and stopping them by pid, temporary
 * directories, HTTP over libcurl, and reading Prometheus metrics.
 *
 * Every child is started with PR_SET_PDEATHSIG=SIGKILL and recorded; an
 * atexit handler kills whatever a test left running, so a failed CHECK never
 * leaves a server behind.
 */
#ifndef SLUICE_TEST_SUPPORT_H
#define SLUICE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct test_proc {
    pid_t pid;
    char log_path[512]; /* the child's stdout+stderr */
    int reaped;         /* test_proc_wait_log or _alive saw it exit: test_proc_stop returns ... */
    int exit_status;    /* ... this, its exit status */
} test_proc;

/* The sluice binary under test ($SLUICE_BIN, else ./build/sluice). */
const char *test_sluice_bin(void);

/* n distinct TCP ports on 127.0.0.1 that nothing listens on now (the
 * kernel's picks, all bound at once so they differ; another process may
 * still take one before the caller binds it, as with any such helper).
 * 0 or -1. */
int test_free_ports(uint16_t *ports, int n);

/* A fresh directory under $TMPDIR (or /tmp); removed by test_rmtree. */
char *test_tmpdir(const char *prefix);
void test_rmtree(const char *path);

/* Start argv (argv[0] is a path) with output to log_path. 0 or -1. */
int test_proc_start(test_proc *p, char *const argv[], const char *log_path);
/* Like test_proc_start, but the child's stdin and stdout are pipes to the
 * parent and only its stderr goes to log_path: the parent writes commands
 * to *to_child (line-buffered; fclose it to give the child EOF) and reads
 * answers from the file descriptor *from_child with test_read_line. Both
 * ends are close-on-exec, so later children never hold them open. */
int test_proc_start_io(test_proc *p, char *const argv[], const char *log_path, FILE **to_child,
                       int *from_child);
/* One line from fd without its newline, waiting at most timeout_ms for it.
 * Reads byte by byte, so nothing after the line is consumed. 0, or -1 on
 * timeout, EOF or error (line then holds what came). */
int test_read_line(int fd, char *line, size_t n, int timeout_ms);
/* Wait until the child's log contains needle; copies that line into line
 * (if given). 0 when found, -1 on timeout or if the child exited. */
int test_proc_wait_log(test_proc *p, const char *needle, int timeout_ms, char *line, size_t n);
/* Send sig and wait up to timeout_ms for exit; SIGKILL after that. Returns
 * the exit status (0..255), 128+signal if killed by one, -1 on error. */
int test_proc_stop(test_proc *p, int sig, int timeout_ms);
/* Is the child still running? One that has exited is reaped here (as by
 * test_proc_wait_log): pid becomes 0 and test_proc_stop returns its status. */
int test_proc_alive(test_proc *p);
/* Wait up to timeout_ms for the child to exit by itself; same result as
 * test_proc_stop (which it becomes, with SIGKILL, on timeout). */
int test_proc_wait(test_proc *p, int timeout_ms);

/* Start `sluice registry --listen 127.0.0.1:PORT --db db_path` (port 0 =
 * any free port) and wait until it listens; *port gets the bound port. */
int test_registry_start(test_proc *p, const char *db_path, uint16_t want_port, uint16_t *port,
                        const char *log_path);

/* A growing buffer for libcurl's CURLOPT_WRITEFUNCTION / WRITEDATA. */
typedef struct test_grow {
    char *p;
    size_t len;
} test_grow;
size_t test_curl_collect(char *data, size_t size, size_t n, void *opaque);

typedef struct test_http_resp {
    long status;
    char *body;
    size_t len;
} test_http_resp;

/* One HTTP request with libcurl; body may be NULL. 0 on a response (any
 * status), -1 on a transport error. Free resp->body. */
int test_http(const char *method, const char *url, const char *body, const char *content_type,
              test_http_resp *resp);

/* The value of one series ("name" or "name{labels}" exactly as rendered) in
 * Prometheus text; -1 if absent. */
double test_metric(const char *text, const char *series);
/* Sum of every series of a family whose labels contain `filter` (NULL: all). */
double test_metric_sum(const char *text, const char *name, const char *filter);
/* GET url and return test_metric_sum over its body; -1 on failure. */
double test_scrape_sum(const char *url, const char *name, const char *filter);

#endif
