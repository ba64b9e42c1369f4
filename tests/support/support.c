/*
 * support.c — process, directory, HTTP and metrics helpers for tests and
 * benchmarks (see support.h). Used from the test's main thread.
 */
#include "support.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];
static int n_children;
static int cleanup_registered;

static void kill_children(void)
{
    for (int i = 0; i < n_children; i++)
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
        }
}

static void remember(pid_t pid)
{
    if (!cleanup_registered) {
        atexit(kill_children);
        cleanup_registered = 1;
    }
    for (int i = 0; i < n_children; i++)
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    if (n_children < MAX_CHILDREN) children[n_children++] = pid;
}

static void forget(pid_t pid)
{
    for (int i = 0; i < n_children; i++)
        if (children[i] == pid) children[i] = 0;
}

const char *test_sluice_bin(void)
{
    const char *b = getenv("SLUICE_BIN");
    return b && *b ? b : "./build/sluice";
}

int test_free_ports(uint16_t *ports, int n)
{
    int fds[16];
    if (n < 1 || n > 16) return -1;
    int rc = 0, opened = 0;
    for (; opened < n; opened++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        fds[opened] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[opened] < 0 || bind(fds[opened], (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fds[opened], (struct sockaddr *)&a, &len) != 0) {
            if (fds[opened] >= 0) close(fds[opened]);
            rc = -1;
            break;
        }
        ports[opened] = ntohs(a.sin_port);
    }
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    return rc;
}

char *test_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix) < 0) return NULL;
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *path)
{
    if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* In the forked child: undo what the test process changed for itself and
 * become argv. */
_Noreturn static void exec_child(char *const argv[])
{
    /* Unblock what a test may have blocked; the child sets its own. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* An ignored SIGPIPE survives exec; a test may ignore it for itself. */
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    _exit(127);
}

int test_proc_start(test_proc *p, char *const argv[], const char *log_path)
{
    snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
    /* Truncate here, not in the child: a waiter must never read the log of
     * an earlier process that used the same path. */
    int tfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (tfd < 0) return -1;
    close(tfd);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int fd = open(log_path, O_WRONLY | O_APPEND);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        exec_child(argv);
    }
    p->pid = pid;
    p->reaped = 0;
    remember(pid);
    return 0;
}

int test_proc_start_io(test_proc *p, char *const argv[], const char *log_path, FILE **to_child,
                       int *from_child)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
    int tfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FILE *w = tfd >= 0 ? fdopen(in[1], "w") : NULL;
    pid_t parent = getpid();
    pid_t pid = w ? fork() : -1;
    if (pid < 0) {
        if (tfd >= 0) close(tfd);
        if (w)
            fclose(w);
        else
            close(in[1]);
        close(in[0]);
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        dup2(in[0], 0); /* dup2 clears close-on-exec on the copies */
        dup2(out[1], 1);
        dup2(tfd, 2);
        exec_child(argv);
    }
    close(tfd);
    close(in[0]);
    close(out[1]);
    setvbuf(w, NULL, _IOLBF, 0);
    *to_child = w;
    *from_child = out[0];
    p->pid = pid;
    p->reaped = 0;
    remember(pid);
    return 0;
}

int test_read_line(int fd, char *line, size_t n, int timeout_ms)
{
    size_t len = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    line[0] = '\0';
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) return -1;
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)(timeout_ms - elapsed));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        if (c == '\n') return 0;
        if (len + 1 < n) {
            line[len++] = c;
            line[len] = '\0';
        }
    }
}

int test_proc_alive(test_proc *p)
{
    if (p->pid <= 0) return 0;
    int status = 0;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        /* Reaped here, as test_proc_wait_log does: nobody may signal that
         * pid again (it may be reused), and test_proc_stop reports this. */
        forget(p->pid);
        p->pid = 0;
        p->reaped = 1;
        p->exit_status = WIFEXITED(status)     ? WEXITSTATUS(status)
                         : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                               : -1;
    }
    return r == 0;
}

int test_proc_wait_log(test_proc *p, const char *needle, int timeout_ms, char *line, size_t n)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        FILE *f = fopen(p->log_path, "r");
        if (f) {
            char buf[4096];
            while (fgets(buf, sizeof buf, f)) {
                if (strstr(buf, needle)) {
                    if (line) snprintf(line, n, "%s", buf);
                    fclose(f);
                    return 0;
                }
            }
            fclose(f);
        }
        int status;
        if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
            forget(p->pid);
            p->pid = 0;
            p->reaped = 1;
            p->exit_status = WIFEXITED(status)     ? WEXITSTATUS(status)
                             : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                                   : -1;
            return -1;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int test_proc_wait(test_proc *p, int timeout_ms)
{
    return test_proc_stop(p, 0, timeout_ms);
}

int test_proc_stop(test_proc *p, int sig, int timeout_ms)
{
    if (p->pid <= 0) {
        int st = p->reaped ? p->exit_status : -1;
        p->reaped = 0;
        return st;
    }
    if (sig) kill(p->pid, sig);
    int status = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) break;
        if (r < 0) return -1;
        if (waited >= timeout_ms) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    forget(p->pid);
    p->pid = 0;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int test_registry_start(test_proc *p, const char *db_path, uint16_t want_port, uint16_t *port,
                        const char *log_path)
{
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)want_port);
    char *argv[] = {(char *)test_sluice_bin(), "registry", "--listen", listen, "--db",
                    (char *)db_path,           NULL};
    if (test_proc_start(p, argv, log_path) != 0) return -1;
    char line[512];
    if (test_proc_wait_log(p, "msg=listening port=", 15000, line, sizeof line) != 0) return -1;
    char *q = strstr(line, "port=");
    if (!q) return -1;
    *port = (uint16_t)atoi(q + 5);
    return 0;
}

size_t test_curl_collect(char *data, size_t size, size_t n, void *opaque)
{
    test_grow *g = opaque;
    size_t add = size * n;
    char *q = realloc(g->p, g->len + add + 1);
    if (!q) return 0;
    memcpy(q + g->len, data, add);
    g->len += add;
    q[g->len] = '\0';
    g->p = q;
    return add;
}

int test_http(const char *method, const char *url, const char *body, const char *content_type,
              test_http_resp *resp)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    test_grow g = {NULL, 0};
    struct curl_slist *h = NULL;
    char ct[256];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        h = curl_slist_append(h, ct);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_curl_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(c);
    memset(resp, 0, sizeof *resp);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->body = g.p ? g.p : strdup("");
        resp->len = g.len;
    } else {
        free(g.p);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return cc == CURLE_OK ? 0 : -1;
}

double test_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') return strtod(line + n + 1, NULL);
        line = strchr(line, '\n');
        if (line) line++;
    }
    return -1;
}

double test_metric_sum(const char *text, const char *name, const char *filter)
{
    size_t n = strlen(name);
    double sum = 0;
    int found = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == '{')) {
            const char *val = memchr(line, ' ', len);
            char labels[1024] = "";
            if (line[n] == '{' && val)
                snprintf(labels, sizeof labels, "%.*s", (int)(val - line - n), line + n);
            if (val && (!filter || strstr(labels, filter))) {
                sum += strtod(val + 1, NULL);
                found = 1;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return found ? sum : -1;
}

double test_scrape_sum(const char *url, const char *name, const char *filter)
{
    test_http_resp r;
    if (test_http("GET", url, NULL, NULL, &r) != 0) return -1;
    double v = r.status == 200 ? test_metric_sum(r.body, name, filter) : -1;
    free(r.body);
    return v;
}
