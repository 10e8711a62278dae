/* The test harness: checks that print file, line and both values, and keep going so one run
 * shows every failure. A test program is a list of TM_RUN(test_fn) in main, ending with
 * `return tm_test_result();`.
 *
 * Shared data: tm_test_data("models/x.gguf") returns "../shared/models/x.gguf" or, when the
 * file is missing, exits 77 (ctest: skipped) naming it; with TM_REQUIRE_SHARED=1 in the
 * environment (CI) a missing file is a failure instead. */
#ifndef TM_TEST_H
#define TM_TEST_H

#include "base/base.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

extern int tm_test_failures;
extern const char *tm_test_current;

#define TM_TEST_FAIL_AT(file, line, ...)                                \
    do {                                                                \
        fprintf(stderr, "%s:%d: in %s: ", file, line, tm_test_current); \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        tm_test_failures++;                                             \
    } while (0)

#define TM_CHECK(cond)                                                      \
    do {                                                                    \
        if (!(cond))                                                        \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "check failed: %s", #cond); \
    } while (0)

#define TM_CHECK_MSG(cond, ...)                               \
    do {                                                      \
        if (!(cond))                                          \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

#define TM_CHECK_EQ_INT(a, b)                                                                    \
    do {                                                                                         \
        long long tm_a_ = (long long)(a), tm_b_ = (long long)(b);                                \
        if (tm_a_ != tm_b_)                                                                      \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, tm_a_, tm_b_); \
    } while (0)

#define TM_CHECK_EQ_STR(a, b)                                                         \
    do {                                                                              \
        const char *tm_a_ = (a), *tm_b_ = (b);                                        \
        if (!tm_a_ || !tm_b_ || strcmp(tm_a_, tm_b_) != 0)                            \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                            tm_a_ ? tm_a_ : "(null)", tm_b_ ? tm_b_ : "(null)");      \
    } while (0)

#define TM_CHECK_NEAR(a, b, tol)                                                                \
    do {                                                                                        \
        double tm_a_ = (double)(a), tm_b_ = (double)(b), tm_t_ = (double)(tol);                 \
        if (!(fabs(tm_a_ - tm_b_) <= tm_t_))                                                    \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (diff %.3g > %.3g)", #a, \
                            #b, tm_a_, tm_b_, fabs(tm_a_ - tm_b_), tm_t_);                      \
    } while (0)

/* Checks a call returned TM_OK; prints the error message otherwise. */
#define TM_CHECK_OK(call, errp)                                                             \
    do {                                                                                    \
        tm_status tm_st_ = (call);                                                          \
        if (tm_st_ != TM_OK)                                                                \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "%s: %s: %s", #call, tm_status_str(tm_st_), \
                            tm_test_err_msg(errp));                                         \
    } while (0)

/* Checks a call failed with the given status and a non-empty message. */
#define TM_CHECK_STATUS(call, want, errp)                                                       \
    do {                                                                                        \
        tm_status tm_st_ = (call);                                                              \
        if (tm_st_ != (want))                                                                   \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "%s: got %s (%s), want %s", #call,              \
                            tm_status_str(tm_st_), tm_test_err_msg(errp), tm_status_str(want)); \
        else if ((want) != TM_OK && tm_test_err_msg(errp)[0] == '\0')                           \
            TM_TEST_FAIL_AT(__FILE__, __LINE__, "%s: no error message", #call);                 \
    } while (0)

#define TM_RUN(fn)                                                                         \
    do {                                                                                   \
        tm_test_current = #fn;                                                             \
        int tm_before_ = tm_test_failures;                                                 \
        fn();                                                                              \
        fprintf(stderr, "%s %s\n", tm_test_failures == tm_before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

int tm_test_result(void);
const char *tm_test_err_msg(const tm_err *err); /* "" for NULL: a function, so &err is fine */

/* Path of a file under ../shared (static storage, valid until the next call); exits 77 when
 * it is missing, unless TM_REQUIRE_SHARED=1. */
const char *tm_test_data(const char *relative);
/* Like tm_test_data but returns NULL instead of skipping. */
const char *tm_test_data_opt(const char *relative);
/* Exits 77 (skipped) with a reason: for missing hardware. */
void tm_test_skip(const char *why);
/* A path for a temporary file, unique to this process and name; static storage per call slot. */
const char *tm_test_tmp_path(const char *name);
/* Reads a whole file or fails the test (returns NULL). Caller frees with tm_free. */
char *tm_test_read_file(const char *path, size_t *n_bytes);

/* Minimal JSON reading for golden files: the value of a key of the top-level object (not of
 * nested ones). A number, or an array of integers (returns the count, -1 if absent). */
bool tm_test_json_number(const char *json, const char *key, double *out);
int tm_test_json_ints(const char *json, const char *key, int32_t *out, int cap);

#endif
