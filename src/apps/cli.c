/* Flag parsing helpers (see cli.h). */
#include "cli.h"

#include "base/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool tm_cli_flag(int argc, char **argv, int *i, const char *short_name, const char *long_name,
                 const char **value, bool *bad)
{
    const char *arg = argv[*i];
    if (!((short_name && strcmp(arg, short_name) == 0) ||
          (long_name && strcmp(arg, long_name) == 0)))
        return false;
    if (value) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "error: %s needs a value\n", arg);
            *bad = true;
            return true;
        }
        *value = argv[++*i];
    }
    return true;
}

bool tm_cli_int(const char *flag, const char *value, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v = 0;
    if (!tm_parse_i64(value, &v) || v < lo || v > hi) {
        fprintf(stderr, "error: %s: '%s' is not an integer in %lld..%lld\n", flag, value,
                (long long)lo, (long long)hi);
        return false;
    }
    *out = v;
    return true;
}

bool tm_cli_float(const char *flag, const char *value, double lo, double hi, double *out)
{
    double v = 0;
    if (!tm_parse_f64(value, &v) || v < lo || v > hi) {
        fprintf(stderr, "error: %s: '%s' is not a number in %g..%g\n", flag, value, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

int tm_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

bool tm_cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}
