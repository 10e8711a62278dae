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

/* Finds "key": at brace depth 1, outside strings; returns the text after the colon. */
static const char *json_top_value(const char *json, const char *key)
{
    int depth = 0;
    size_t key_len = strlen(key);
    for (const char *p = json; *p; p++) {
        if (*p == '"') {
            const char *start = p + 1;
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p)
                return NULL;
            if (depth == 1 && (size_t)(p - start) == key_len && memcmp(start, key, key_len) == 0) {
                const char *q = p + 1;
                while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')
                    q++;
                if (*q == ':')
                    return q + 1;
            }
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
        }
    }
    return NULL;
}

bool tm_test_json_number(const char *json, const char *key, double *out)
{
    const char *v = json_top_value(json, key);
    if (!v)
        return false;
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v)
        return false;
    *out = d;
    return true;
}

int tm_test_json_ints(const char *json, const char *key, int32_t *out, int cap)
{
    const char *v = json_top_value(json, key);
    if (!v)
        return -1;
    while (*v == ' ')
        v++;
    if (*v != '[')
        return -1;
    v++;
    int n = 0;
    for (;;) {
        while (*v == ' ' || *v == ',' || *v == '\n')
            v++;
        if (*v == ']' || !*v || n == cap)
            break;
        char *end = NULL;
        long x = strtol(v, &end, 10);
        if (end == v)
            return -1;
        out[n++] = (int32_t)x;
        v = end;
    }
    return n;
}
