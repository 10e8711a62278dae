/* temoto quantize: rewrites a GGUF model with its matrices in a smaller type, tensor by
 * tensor (never the whole model in memory), choosing each tensor's type by the recipe
 * llama.cpp uses, so the files load in other GGUF runtimes too. */
#include "apps.h"
#include "cli.h"
#include "recipe.h"
#include "tensor_out.h"

#include "tensor/tensor.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto quantize IN.gguf OUT.gguf TYPE [-t THREADS]\n"
            "\n"
            "TYPE: %s.\n"
            "Norms stay F32; the output matrix and some layers get more bits, as llama.cpp's\n"
            "recipes do (e.g. Q4_K_M keeps output.weight at Q6_K).\n",
            tm_recipe_names());
}

typedef struct source {
    const tm_gguf_tensor *t;
    tm_to_float_fn to_float;
    uint64_t row_bytes;
} source;

static void dequantize_rows(void *ctx, int64_t first_row, int64_t n, int64_t ne0, float *dst)
{
    const source *s = ctx;
    const uint8_t *p = (const uint8_t *)s->t->data + (uint64_t)first_row * s->row_bytes;
    for (int64_t r = 0; r < n; r++)
        s->to_float(p + (uint64_t)r * s->row_bytes, dst + r * ne0, ne0);
}

static tm_status recipe_model(const tm_gguf *g, tm_recipe_model *m, tm_err *err)
{
    tm_gguf_str arch = {0};
    tm_status st = tm_gguf_get_str(g, "general.architecture", &arch, err);
    if (st != TM_OK)
        return st;
    char key[128];
    uint32_t v = 0;
    memset(m, 0, sizeof *m);
    snprintf(key, sizeof key, "%.*s.block_count", (int)TM_MIN(arch.len, 64), arch.ptr);
    if ((st = tm_gguf_get_u32(g, key, &v, err)) != TM_OK)
        return st;
    m->n_layer = (int32_t)v;
    snprintf(key, sizeof key, "%.*s.attention.head_count", (int)TM_MIN(arch.len, 64), arch.ptr);
    if (tm_gguf_get_u32(g, key, &v, NULL) == TM_OK)
        m->n_head = (int32_t)v;
    m->n_head_kv = m->n_head;
    snprintf(key, sizeof key, "%.*s.attention.head_count_kv", (int)TM_MIN(arch.len, 64), arch.ptr);
    if (tm_gguf_get_u32(g, key, &v, NULL) == TM_OK)
        m->n_head_kv = (int32_t)v;
    m->has_output = tm_gguf_find_tensor(g, "output.weight") != NULL;
    return TM_OK;
}

static tm_status quantize_file(const char *in, const char *out, const tm_recipe *r, int n_threads,
                               tm_err *err)
{
    tm_gguf *g = NULL;
    tm_gguf_writer *w = NULL;
    tm_pool *pool = NULL;
    tm_recipe_model m;
    tm_status st = tm_gguf_open(in, &g, err);
    if (st == TM_OK)
        st = recipe_model(g, &m, err);
    if (st == TM_OK)
        st = tm_gguf_writer_create(&w, err);
    for (int64_t i = 0; st == TM_OK && i < tm_gguf_n_kv(g); i++)
        st = tm_gguf_writer_copy_kv(w, tm_gguf_kv_at(g, i), err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "general.file_type", r->file_type, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "general.quantization_version", 2, err);
    int64_t n = st == TM_OK ? tm_gguf_n_tensors(g) : 0;
    uint32_t *types = tm_calloc((size_t)(n ? n : 1), sizeof *types);
    if (st == TM_OK && !types)
        st = tm_fail(err, TM_E_NOMEM, "tensor types");
    bool warned = false;
    for (int64_t i = 0; st == TM_OK && i < n; i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        if (!tm_type_traits_get(t->type)) {
            st = tm_fail(err, TM_E_UNSUPPORTED,
                         "tensor '%s' has type %s, which cannot be "
                         "converted",
                         t->name, tm_dtype_name(t->type));
            break;
        }
        types[i] = tm_recipe_tensor_type(r, &m, t->name, t->n_dims, t->ne);
        bool float_in =
            t->type == TM_DTYPE_F32 || t->type == TM_DTYPE_F16 || t->type == TM_DTYPE_BF16;
        if (!float_in && t->n_dims > 1 && !warned) {
            fprintf(stderr,
                    "warning: '%s' is already quantized (%s); requantizing loses more "
                    "than quantizing the original weights\n",
                    t->name, tm_dtype_name(t->type));
            warned = true;
        }
        st = tm_gguf_writer_add_tensor(w, t->name, types[i], t->n_dims, t->ne, err);
    }
    if (st == TM_OK)
        st = tm_pool_create(n_threads, &pool, err);
    if (st == TM_OK)
        st = tm_gguf_writer_begin(w, out, err);
    uint64_t bytes_in = 0, bytes_out = 0;
    int64_t t0 = tm_time_us();
    for (int64_t i = 0; st == TM_OK && i < n; i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        source s = {t, tm_type_traits_get(t->type)->to_float, 0};
        tm_dtype_row_bytes(t->type, t->ne[0], &s.row_bytes);
        int64_t rows = 1;
        for (int d = 1; d < t->n_dims; d++)
            rows *= t->ne[d];
        st = tm_write_rows(w, pool, types[i], t->ne[0], rows, dequantize_rows, &s, err);
        uint64_t written = 0;
        tm_dtype_row_bytes(types[i], t->ne[0], &written);
        written *= (uint64_t)rows;
        bytes_in += t->n_bytes;
        bytes_out += written;
        fprintf(stderr, "[%3" PRId64 "/%3" PRId64 "] %-32s %-5s -> %-5s\n", i + 1, n, t->name,
                tm_dtype_name(t->type), tm_dtype_name(types[i]));
    }
    if (st == TM_OK)
        st = tm_gguf_writer_finish(w, err);
    if (st == TM_OK)
        fprintf(stderr, "%s: %.2f MiB -> %.2f MiB of tensors (%s) in %.2f s\n", out,
                (double)bytes_in / 1048576, (double)bytes_out / 1048576, r->name,
                (double)(tm_time_us() - t0) / 1e6);
    tm_free(types);
    tm_pool_free(pool);
    tm_gguf_writer_free(w);
    tm_gguf_close(g);
    return st;
}

int tm_app_quantize_main(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL}, *v = NULL;
    int n_pos = 0;
    int64_t n_threads = 0;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int("--threads", v, 0, 1024, &n_threads);
        } else if (argv[i][0] == '-' || n_pos == 3) {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            bad = true;
        } else {
            pos[n_pos++] = argv[i];
        }
    }
    if (!bad && n_pos != 3) {
        fprintf(stderr, "error: give IN.gguf OUT.gguf TYPE\n");
        bad = true;
    }
    tm_recipe r;
    if (!bad && !tm_recipe_find(pos[2], &r)) {
        fprintf(stderr, "error: unknown type '%s' (one of %s)\n", pos[2], tm_recipe_names());
        bad = true;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    if (quantize_file(pos[0], pos[1], &r, (int)n_threads, &err) != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
