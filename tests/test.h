/*
 * test.h — the tiny harness every C test uses.
 *
 * A test file defines `static void test_xxx(void)` functions and lists them in
 * TEST_MAIN(...). Each test runs in order; a failed CHECK prints file:line and
 * the values, marks the test failed and returns from it. The process exits 1
 * if any test failed, so CTest sees it. `test_bin -l` lists the tests and
 * `test_bin NAME` runs one, for debugging.
 */
#ifndef SLUICE_TEST_H
#define SLUICE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_;
static int test_checks_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks_++;                                                                            \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            test_failed_ = 1;                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        test_checks_++;                                                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (!(a_ op b_)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s %s %s (%lld vs %lld)\n", __FILE__, __LINE__,  \
                    #a, #op, #b, a_, b_);                                                          \
            test_failed_ = 1;                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b) CHECK_INT(a, ==, b)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        test_checks_++;                                                                            \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s\n  got:      %s\n  expected: %s\n",     \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
            test_failed_ = 1;                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* The message of a sluice_error contains the given substring. */
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        test_checks_++;                                                                            \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" does not contain \"%s\"\n", __FILE__,     \
                    __LINE__, h_ ? h_ : "(null)", n_);                                             \
            test_failed_ = 1;                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

struct test_case_ {
    const char *name;
    void (*fn)(void);
};

#define T(fn)                                                                                      \
    {                                                                                              \
#fn, fn                                                                                    \
    }

#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const struct test_case_ cases[] = {__VA_ARGS__};                                    \
        size_t n = sizeof cases / sizeof cases[0];                                                 \
        if (argc > 1 && strcmp(argv[1], "-l") == 0) {                                              \
            for (size_t i = 0; i < n; i++)                                                         \
                puts(cases[i].name);                                                               \
            return 0;                                                                              \
        }                                                                                          \
        int failures = 0, ran = 0;                                                                 \
        for (size_t i = 0; i < n; i++) {                                                           \
            if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;                         \
            test_failed_ = 0;                                                                      \
            cases[i].fn();                                                                         \
            ran++;                                                                                 \
            fprintf(stderr, "%s %s\n", test_failed_ ? "FAIL" : "ok  ", cases[i].name);             \
            failures += test_failed_;                                                              \
        }                                                                                          \
        if (ran == 0) {                                                                            \
            fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");                        \
            return 1;                                                                              \
        }                                                                                          \
        fprintf(stderr, "%d/%d passed, %d checks\n", ran - failures, ran, test_checks_);           \
        return failures ? 1 : 0;                                                                   \
    }

#endif
