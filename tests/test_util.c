/* Shared test helpers (see test.h). */
#include "test.h"

#include <stdlib.h>
#ifdef _WIN32
#include <process.h>
#define tm_getpid _getpid
#else
#include <unistd.h>
#define tm_getpid getpid
#endif

int tm_test_failures;
const char *tm_test_current = "(setup)";

int tm_test_result(void)
{
    if (tm_test_failures) {
        fprintf(stderr, "%d check(s) failed\n", tm_test_failures);
        return 1;
    }
    return 0;
}

const char *tm_test_err_msg(const tm_err *err)
{
    return err ? err->msg : "";
}

const char *tm_test_data_opt(const char *relative)
{
    static char path[4][1024];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, sizeof path[0], "../shared/%s", relative);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fclose(f);
    return p;
}

const char *tm_test_data(const char *relative)
{
    const char *p = tm_test_data_opt(relative);
    if (p)
        return p;
    const char *req = getenv("TM_REQUIRE_SHARED");
    if (req && strcmp(req, "1") == 0) {
        fprintf(stderr, "FAIL: required shared data ../shared/%s is missing\n", relative);
        exit(1);
    }
    fprintf(stderr, "skipped: ../shared/%s is missing\n", relative);
    exit(77);
}

void tm_test_skip(const char *why)
{
    fprintf(stderr, "skipped: %s\n", why);
    exit(77);
}

const char *tm_test_tmp_path(const char *name)
{
    static char path[4][1024];
    static int slot;
    char *p = path[slot++ % 4];
    const char *dir = getenv("TMPDIR");
#ifdef _WIN32
    if (!dir)
        dir = getenv("TEMP");
#endif
    if (!dir)
        dir = "/tmp";
    snprintf(p, sizeof path[0], "%s/temoto-test-%d-%s", dir, (int)tm_getpid(), name);
    return p;
}

char *tm_test_read_file(const char *path, size_t *n_bytes)
{
    char *data = NULL;
    size_t n = 0;
    tm_err err = {0};
    tm_status st = tm_file_read_all(path, (size_t)1 << 31, &data, &n, &err);
    if (st != TM_OK) {
        TM_TEST_FAIL_AT(__FILE__, __LINE__, "reading %s: %s", path, err.msg);
        return NULL;
    }
    if (n_bytes)
        *n_bytes = n;
    return data;
}
