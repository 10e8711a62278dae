/* temoto info: a GGUF file's header, metadata and tensor table, as text or one JSON object.
 * Strings from the file are escaped, so a hostile file cannot drive the terminal. With
 * --memory it also loads the model and prints what a session of the given context, KV type
 * and thread count would allocate (tm_memory_estimate_get), without allocating it. */
#include "apps.h"
#include "cli.h"

#include "gguf/gguf.h"
#include "tensor/tensor.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct memory_args {
    bool on;
    int64_t n_ctx, n_threads, n_parallel;
    tm_cli_kv kv;
} memory_args;

static void usage(FILE *out)
{
    fprintf(out, "usage: temoto info FILE.gguf [--json] [--max-array N]\n"
                 "                   [--memory [-c N] [--kv-type T] [--parallel N] [-t N]]\n"
                 "\n"
                 "Prints the file's version, metadata (arrays: their first N elements,\n"
                 "default 8) and tensor table (name, type, shape, offset, bytes).\n"
                 "\n"
                 "  --memory                 also the memory a run would take, in bytes: the\n"
                 "                           weights, the KV cache and the scratch buffers of\n"
                 "                           --parallel sessions (default 1) with a context of N\n"
                 "                           (default: the model's, at most 4096) and -t threads\n"
                 "                           (default: one per core); the model is loaded for it.\n"
                 "                           -c, --kv-type, --parallel and -t imply "
                 "--memory\n" TM_CLI_KV_HELP);
}

/* A string as a JSON string literal: quotes, backslashes and control bytes escaped; other
 * bytes as they are (JSON text is UTF-8; invalid bytes are escaped as \u00XX). */
static void print_str(const char *s, uint64_t len)
{
    putchar('"');
    for (uint64_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_value(const tm_gguf_value *v, uint64_t max_array);

static void print_float(double f)
{
    if (isfinite(f))
        printf("%.9g", f);
    else
        fputs("null", stdout); /* JSON has no NaN or infinity */
}

static void print_array(const tm_gguf_array *a, uint64_t max_array)
{
    putchar('[');
    uint64_t n = TM_MIN(a->n, max_array);
    for (uint64_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", stdout);
        if (a->type == TM_GGUF_STRING)
            print_str(a->strs[i].ptr, a->strs[i].len);
        else if (a->type == TM_GGUF_ARRAY)
            print_array(&a->arrays[i].v.arr, max_array);
        else if (a->type == TM_GGUF_FLOAT32 || a->type == TM_GGUF_FLOAT64)
            print_float(tm_gguf_arr_f64(a, i));
        else if (a->type == TM_GGUF_BOOL)
            fputs(tm_gguf_arr_i64(a, i) ? "true" : "false", stdout);
        else if (a->type == TM_GGUF_UINT64)
            printf("%" PRIu64, (uint64_t)tm_gguf_arr_i64(a, i));
        else
            printf("%" PRId64, tm_gguf_arr_i64(a, i));
    }
    putchar(']');
}

static void print_value(const tm_gguf_value *v, uint64_t max_array)
{
    switch (v->type) {
    case TM_GGUF_STRING:
        print_str(v->v.str.ptr, v->v.str.len);
        break;
    case TM_GGUF_ARRAY:
        print_array(&v->v.arr, max_array);
        break;
    case TM_GGUF_FLOAT32:
    case TM_GGUF_FLOAT64:
        print_float(v->v.f64);
        break;
    case TM_GGUF_BOOL:
        fputs(v->v.u64 ? "true" : "false", stdout);
        break;
    case TM_GGUF_INT8:
    case TM_GGUF_INT16:
    case TM_GGUF_INT32:
    case TM_GGUF_INT64:
        printf("%" PRId64, v->v.i64);
        break;
    default:
        printf("%" PRIu64, v->v.u64);
        break;
    }
}

static void print_shape(const tm_gguf_tensor *t, const char *sep)
{
    for (int d = 0; d < t->n_dims; d++)
        printf("%s%" PRId64, d ? sep : "", t->ne[d]);
}

static void print_text(const tm_gguf *g, uint64_t max_array)
{
    printf("GGUF version %" PRIu32 ", %" PRIu64 " bytes, alignment %" PRIu64
           ", data at byte %" PRIu64 "\n",
           tm_gguf_version(g), tm_gguf_file_bytes(g), tm_gguf_alignment(g), tm_gguf_data_offset(g));
    printf("\nmetadata (%" PRId64 " keys):\n", tm_gguf_n_kv(g));
    for (int64_t i = 0; i < tm_gguf_n_kv(g); i++) {
        const tm_gguf_kv *kv = tm_gguf_kv_at(g, i);
        const char *type = tm_gguf_type_name(kv->value.type);
        if (kv->value.type == TM_GGUF_ARRAY)
            printf("  %-44s array of %" PRIu64 " %s: ", kv->key, kv->value.v.arr.n,
                   tm_gguf_type_name(kv->value.v.arr.type));
        else
            printf("  %-44s %s: ", kv->key, type);
        print_value(&kv->value, max_array);
        putchar('\n');
    }
    uint64_t n_params = 0, n_bytes = 0, bytes_by_type[TM_DTYPE_COUNT] = {0};
    printf("\ntensors (%" PRId64 "):\n", tm_gguf_n_tensors(g));
    printf("  %-36s %-8s %-22s %14s %14s\n", "name", "type", "shape", "offset", "bytes");
    for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        char shape[96] = "";
        size_t at = 0;
        for (int d = 0; d < t->n_dims && at < sizeof shape; d++)
            at += (size_t)snprintf(shape + at, sizeof shape - at, "%s%" PRId64, d ? " x " : "",
                                   t->ne[d]);
        printf("  %-36s %-8s %-22s %14" PRIu64 " %14" PRIu64 "\n", t->name, tm_dtype_name(t->type),
               shape, t->offset, t->n_bytes);
        uint64_t n = 1;
        for (int d = 0; d < t->n_dims; d++)
            n *= (uint64_t)t->ne[d];
        n_params += n;
        n_bytes += t->n_bytes;
        if (t->type < TM_DTYPE_COUNT)
            bytes_by_type[t->type] += t->n_bytes;
    }
    printf("\n%" PRIu64 " parameters, %" PRIu64 " bytes of tensor data", n_params, n_bytes);
    for (uint32_t t = 0; t < TM_DTYPE_COUNT; t++)
        if (bytes_by_type[t])
            printf("; %s %" PRIu64, tm_dtype_name(t), bytes_by_type[t]);
    putchar('\n');
}

/* "q8_0", or "q8_0/f16" for keys and values of their own types */
static const char *kv_name(const tm_cli_kv *kv, char *buf, size_t cap)
{
    tm_kv_type v = kv->type_v == TM_KV_SAME ? kv->type_k : kv->type_v;
    if (v == kv->type_k)
        snprintf(buf, cap, "%s", tm_kv_type_name(kv->type_k));
    else
        snprintf(buf, cap, "%s/%s", tm_kv_type_name(kv->type_k), tm_kv_type_name(v));
    return buf;
}

static void print_memory_text(const tm_memory_estimate *e, const memory_args *m)
{
    char kv[32];
    printf("\nmemory of %lld session%s (context %d, batch %d, %s KV cache, %d thread%s):\n",
           (long long)m->n_parallel, m->n_parallel == 1 ? "" : "s", e->n_ctx, e->n_batch,
           kv_name(&m->kv, kv, sizeof kv), e->n_threads, e->n_threads == 1 ? "" : "s");
    const char *names[] = {"weights", "KV cache", "scratch", "total"};
    uint64_t bytes[] = {e->weights_bytes, e->kv_bytes, e->scratch_bytes, e->total_bytes};
    for (int i = 0; i < 4; i++)
        printf("  %-10s %14" PRIu64 " bytes (%.1f MiB)\n", names[i], bytes[i],
               (double)bytes[i] / (1024.0 * 1024.0));
}

static void print_json(const tm_gguf *g, uint64_t max_array, const tm_memory_estimate *e,
                       const memory_args *m)
{
    printf("{\"version\": %" PRIu32 ", \"alignment\": %" PRIu64 ", \"file_bytes\": %" PRIu64
           ", \"metadata\": {",
           tm_gguf_version(g), tm_gguf_alignment(g), tm_gguf_file_bytes(g));
    for (int64_t i = 0; i < tm_gguf_n_kv(g); i++) {
        const tm_gguf_kv *kv = tm_gguf_kv_at(g, i);
        if (i)
            fputs(", ", stdout);
        print_str(kv->key, strlen(kv->key));
        fputs(": ", stdout);
        print_value(&kv->value, max_array);
    }
    fputs("}, \"tensors\": [", stdout);
    for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        printf("%s{\"name\": ", i ? ", " : "");
        print_str(t->name, strlen(t->name));
        printf(", \"type\": \"%s\", \"shape\": [", tm_dtype_name(t->type));
        print_shape(t, ", ");
        printf("], \"offset\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", t->offset, t->n_bytes);
    }
    fputs("]", stdout);
    char kv[32];
    if (e)
        printf(", \"memory\": {\"n_parallel\": %lld, \"n_ctx\": %d, \"n_batch\": %d, "
               "\"n_threads\": %d, \"kv_type\": \"%s\", \"weights_bytes\": %" PRIu64
               ", \"kv_bytes\": %" PRIu64 ", \"scratch_bytes\": %" PRIu64
               ", \"total_bytes\": %" PRIu64 "}",
               (long long)m->n_parallel, e->n_ctx, e->n_batch, e->n_threads,
               kv_name(&m->kv, kv, sizeof kv), e->weights_bytes, e->kv_bytes, e->scratch_bytes,
               e->total_bytes);
    fputs("}\n", stdout);
}

/* The model is loaded as it is (no repacking: the estimate does not depend on it). */
static tm_status estimate(const char *path, const memory_args *m, tm_memory_estimate *e,
                          tm_err *err)
{
    tm_model_params mp = tm_model_params_default();
    mp.repack = false;
    tm_model *model = NULL;
    tm_status st = tm_model_load(path, &mp, &model, err);
    if (st != TM_OK)
        return st;
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = (int32_t)m->n_ctx;
    sp.n_threads = (int32_t)m->n_threads;
    tm_kv_cache *cache = NULL; /* with --kv-mem: the estimate counts the pool of that budget */
    st = tm_cli_kv_setup(&m->kv, model, (int32_t)m->n_parallel, &sp, &cache, err);
    if (st == TM_OK)
        st = tm_memory_estimate_get(model, &sp, (int32_t)m->n_parallel, e, err);
    tm_kv_cache_free(cache);
    tm_model_free(model);
    return st;
}

int tm_app_info_main(int argc, char **argv)
{
    const char *path = NULL, *v = NULL;
    bool json = false, bad = false;
    int64_t max_array = 8;
    memory_args mem = {.n_parallel = 1, .kv = tm_cli_kv_default()};
    for (int i = 1; i < argc && !bad; i++) {
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--json", NULL, &bad)) {
            json = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--max-array", &v, &bad)) {
            bad = bad || !tm_cli_int("--max-array", v, 0, INT64_MAX, &max_array);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--memory", NULL, &bad)) {
            mem.on = true;
        } else if (tm_cli_flag(argc, argv, &i, "-c", "--ctx-size", &v, &bad)) {
            bad = bad || !tm_cli_int("--ctx-size", v, 0, 1 << 24, &mem.n_ctx);
            mem.on = true;
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int("--threads", v, 0, 1024, &mem.n_threads);
            mem.on = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--parallel", &v, &bad)) {
            bad = bad || !tm_cli_int("--parallel", v, 1, 1 << 16, &mem.n_parallel);
            mem.on = true;
        } else if (tm_cli_kv_flag(argc, argv, &i, &mem.kv, &bad)) {
            mem.on = true;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            bad = true;
        } else {
            path = argv[i];
        }
    }
    if (!bad && !path) {
        fprintf(stderr, "error: no file given\n");
        bad = true;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    tm_gguf *g = NULL;
    if (tm_gguf_open(path, &g, &err) != TM_OK)
        return tm_cli_error("%s", err.msg);
    tm_memory_estimate e;
    if (mem.on && estimate(path, &mem, &e, &err) != TM_OK) {
        tm_gguf_close(g);
        return tm_cli_error("%s", err.msg);
    }
    if (json)
        print_json(g, (uint64_t)max_array, mem.on ? &e : NULL, &mem);
    else
        print_text(g, (uint64_t)max_array);
    if (mem.on && !json)
        print_memory_text(&e, &mem);
    tm_gguf_close(g);
    return 0;
}
