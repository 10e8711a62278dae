/* Flag parsing helpers (see cli.h). */
#include "cli.h"

#include "base/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

bool tm_cli_sampling_flag(int argc, char **argv, int *i, tm_sampler_params *sp, bool *bad)
{
    const char *flag = argv[*i], *v = NULL;
    double f = 0;
    int64_t n = 0;
    if (tm_cli_flag(argc, argv, i, NULL, "--temp", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_float(flag, v, 0, 100, &f)))
            sp->temperature = (float)f;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--top-k", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_int(flag, v, 0, INT32_MAX, &n)))
            sp->top_k = (int32_t)n;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--top-p", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_float(flag, v, 1e-6, 1, &f)))
            sp->top_p = (float)f;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--min-p", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_float(flag, v, 0, 1, &f)))
            sp->min_p = (float)f;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--repeat-penalty", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_float(flag, v, 1e-3, 100, &f)))
            sp->repeat_penalty = (float)f;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--repeat-last-n", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_int(flag, v, 0, 1 << 20, &n)))
            sp->repeat_last_n = (int32_t)n;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--seed", &v, bad)) {
        if (!*bad && !(*bad = !tm_cli_int(flag, v, 0, INT64_MAX, &n)))
            sp->seed = (uint64_t)n;
    } else
        return false;
    return true;
}

tm_cli_kv tm_cli_kv_default(void)
{
    tm_cli_kv kv = {tm_session_params_default().kv_type, TM_KV_SAME, 0, false};
    return kv;
}

static bool kv_type_value(const char *flag, const char *v, tm_kv_type *out)
{
    if (tm_kv_type_parse(v, out))
        return true;
    fprintf(stderr, "error: %s: '%s' is not a KV cache type (f16, q8_0, q4_0, f32)\n", flag, v);
    return false;
}

bool tm_cli_size(const char *flag, const char *value, uint64_t *out)
{
    char *end = NULL;
    double x = strtod(value, &end);
    double unit = 1;
    if (end != value) {
        switch (*end) {
        case 'k':
        case 'K':
            unit = 1024.0;
            end++;
            break;
        case 'm':
        case 'M':
            unit = 1024.0 * 1024;
            end++;
            break;
        case 'g':
        case 'G':
            unit = 1024.0 * 1024 * 1024;
            end++;
            break;
        case 't':
        case 'T':
            unit = 1024.0 * 1024 * 1024 * 1024;
            end++;
            break;
        default:
            break;
        }
        if (unit > 1 && *end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (end == value || *end != '\0' || !(x > 0) || x * unit >= 1.8e19) {
        fprintf(stderr, "error: %s: '%s' is not a size (512M, 2G, 1.5GiB, bytes)\n", flag, value);
        return false;
    }
    *out = (uint64_t)(x * unit);
    return true;
}

bool tm_cli_kv_flag(int argc, char **argv, int *i, tm_cli_kv *kv, bool *bad)
{
    const char *flag = argv[*i], *v = NULL;
    if (tm_cli_flag(argc, argv, i, NULL, "--kv-type", &v, bad)) {
        if (!*bad && !(*bad = !kv_type_value(flag, v, &kv->type_k)))
            kv->type_v = TM_KV_SAME;
    } else if (tm_cli_flag(argc, argv, i, NULL, "--kv-type-k", &v, bad)) {
        if (!*bad && !(*bad = !kv_type_value(flag, v, &kv->type_k)) && kv->type_v == TM_KV_SAME)
            kv->type_v = tm_session_params_default().kv_type; /* the values keep the default */
    } else if (tm_cli_flag(argc, argv, i, NULL, "--kv-type-v", &v, bad)) {
        if (!*bad)
            *bad = !kv_type_value(flag, v, &kv->type_v);
    } else if (tm_cli_flag(argc, argv, i, NULL, "--kv-mem", &v, bad)) {
        if (!*bad)
            *bad = !tm_cli_size(flag, v, &kv->mem_bytes);
    } else if (strcmp(flag, "--no-prefix-cache") == 0) {
        kv->no_prefix_reuse = true;
    } else {
        return false;
    }
    return true;
}

tm_status tm_cli_kv_setup(const tm_cli_kv *kv, const tm_model *model, int32_t n_parallel,
                          tm_session_params *sp, tm_kv_cache **cache, tm_err *err)
{
    sp->kv_type = kv->type_k;
    sp->kv_type_v = kv->type_v;
    *cache = NULL;
    if (kv->mem_bytes == 0 && !kv->no_prefix_reuse)
        return TM_OK; /* each session makes its own */
    tm_kv_cache_params cp = tm_kv_cache_params_default();
    cp.type_k = kv->type_k;
    cp.type_v = kv->type_v;
    cp.mem_bytes = kv->mem_bytes;
    cp.n_ctx = sp->n_ctx;
    cp.n_parallel = n_parallel;
    cp.prefix_reuse = !kv->no_prefix_reuse;
    tm_status st = tm_kv_cache_create(model, &cp, cache, err);
    if (st == TM_OK)
        sp->kv_cache = *cache;
    return st;
}

bool tm_cli_overflow_flag(int argc, char **argv, int *i, tm_overflow *overflow, int64_t *n_keep,
                          bool *bad)
{
    const char *flag = argv[*i], *v = NULL;
    if (tm_cli_flag(argc, argv, i, NULL, "--overflow", &v, bad)) {
        if (!*bad && !tm_overflow_parse(v, overflow)) {
            fprintf(stderr, "error: %s: '%s' is not a policy (error, truncate-left, shift)\n", flag,
                    v);
            *bad = true;
        }
    } else if (tm_cli_flag(argc, argv, i, NULL, "--keep", &v, bad)) {
        *bad = *bad || !tm_cli_int(flag, v, 0, INT32_MAX, n_keep);
    } else
        return false;
    return true;
}
