/* temoto-kernel-bench: the speed of one matrix product (tm_matmul, the path the forward pass
 * takes) per kernel table, weight type and batch size, on random weights: GMAC/s, median of
 * repetitions, and each table's ratio to the AVX-512 (or first) table in the same run.
 *
 *   temoto-kernel-bench [-t THREADS] [-r REPS] [--rows R] [--cols C] [--tokens N,N,...]
 *                       [--types q4_0,q8_0,q4_k,q6_k] [--tables avx512,amx]
 *
 * Not a test: it prints figures, and the machine's noise is the reader's to judge. */
#include "base/base.h"
#include "tensor/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 16

static int split_list(char *s, char **out)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < MAX_LIST; tok = strtok(NULL, ","))
        out[n++] = tok;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct matrix {
    tm_mat m;
    void *data;
} matrix;

static bool make_matrix(uint32_t type, int64_t rows, int64_t cols, tm_rng *rng, matrix *out)
{
    uint64_t row_bytes = 0;
    if (!tm_dtype_row_bytes(type, cols, &row_bytes) || rows % TM_PACK_ROWS != 0)
        return false;
    float *f = malloc((size_t)cols * sizeof *f);
    uint8_t *file = malloc((size_t)(row_bytes * (uint64_t)rows));
    uint8_t *packed = tm_aligned_alloc(64, (size_t)(row_bytes * (uint64_t)rows));
    const tm_type_traits *tr = tm_type_traits_get(type);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++)
            f[c] = (float)(tm_rng_uniform(rng) * 2 - 1) * 0.05f;
        tr->quantize(f, file + (uint64_t)r * row_bytes, cols);
    }
    for (int64_t r = 0; r < rows; r += TM_PACK_ROWS)
        tm_pack_group(type, file + (uint64_t)r * row_bytes, cols, packed + (uint64_t)r * row_bytes);
    free(f);
    free(file);
    out->data = packed;
    out->m = (tm_mat){.data = packed,
                      .type = type,
                      .n_cols = cols,
                      .n_rows = rows,
                      .row_bytes = row_bytes,
                      .packed = true};
    return true;
}

int main(int argc, char **argv)
{
    int threads = 2, reps = 5;
    int64_t rows = 2048, cols = 2048;
    char tokens_s[256] = "1,16,64,512", types_s[256] = "q4_0,q8_0,q4_k,q6_k",
         tables_s[256] = "avx512,amx";
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "error: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "-t"))
            threads = atoi(v);
        else if (!strcmp(a, "-r"))
            reps = atoi(v);
        else if (!strcmp(a, "--rows"))
            rows = atoll(v);
        else if (!strcmp(a, "--cols"))
            cols = atoll(v);
        else if (!strcmp(a, "--tokens"))
            snprintf(tokens_s, sizeof tokens_s, "%s", v);
        else if (!strcmp(a, "--types"))
            snprintf(types_s, sizeof types_s, "%s", v);
        else if (!strcmp(a, "--tables"))
            snprintf(tables_s, sizeof tables_s, "%s", v);
        else {
            fprintf(stderr, "error: unknown option %s\n", a);
            return 2;
        }
    }
    if (threads < 1 || reps < 1 || reps > 100 || rows < 16 || cols < 256) {
        fprintf(stderr, "error: bad sizes\n");
        return 2;
    }
    char *tok_l[MAX_LIST], *type_l[MAX_LIST], *table_l[MAX_LIST];
    int n_tok = split_list(tokens_s, tok_l), n_type = split_list(types_s, type_l),
        n_table = split_list(tables_s, table_l);
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    tm_err err = {0};
    tm_pool *pool = NULL;
    if (tm_pool_create(threads, &pool, &err) != TM_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    int64_t max_tokens = 0;
    for (int i = 0; i < n_tok; i++)
        max_tokens = TM_MAX(max_tokens, atoll(tok_l[i]));
    tm_matmul_scratch s;
    if (tm_matmul_scratch_init(&s, max_tokens, cols, threads, &err) != TM_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    float *x = malloc((size_t)(max_tokens * cols) * sizeof *x);
    float *y = malloc((size_t)(max_tokens * rows) * sizeof *y);
    tm_rng rng;
    tm_rng_seed(&rng, 7);
    for (int64_t i = 0; i < max_tokens * cols; i++)
        x[i] = (float)(tm_rng_uniform(&rng) * 2 - 1);
    printf("%lld x %lld, %d threads; GMAC/s, median of %d\n", (long long)rows, (long long)cols,
           threads, reps);
    printf("%-6s %7s", "type", "tokens");
    for (int j = 0; j < n_table; j++)
        printf(" %10s", table_l[j]);
    if (n_table > 1)
        printf("   ratio %s/%s", table_l[n_table - 1], table_l[0]);
    printf("\n");
    for (int ti = 0; ti < n_type; ti++) {
        tm_dtype type;
        matrix w;
        if (!tm_dtype_from_name(type_l[ti], &type) || !tm_pack_supported(type) ||
            !make_matrix(type, rows, cols, &rng, &w)) {
            fprintf(stderr, "error: type %s has no packed layout (or the sizes do not fit it)\n",
                    type_l[ti]);
            return 2;
        }
        for (int ni = 0; ni < n_tok; ni++) {
            int64_t n = atoll(tok_l[ni]);
            if (n < 1)
                continue;
            double first = 0, last = 0;
            printf("%-6s %7lld", type_l[ti], (long long)n);
            for (int j = 0; j < n_table; j++) {
                tm_kernels k;
                if (tm_kernels_init(&k, &cpu, table_l[j], &err) != TM_OK || !k.gemm_x16[type]) {
                    printf(" %10s", "-");
                    continue;
                }
                double t[100];
                tm_matmul(&k, pool, &w.m, x, n, y, rows, false, false, &s); /* warm-up */
                for (int r = 0; r < reps; r++) {
                    int64_t t0 = tm_time_us();
                    int64_t iters = 0;
                    do { /* at least 20 ms per repetition */
                        tm_matmul(&k, pool, &w.m, x, n, y, rows, false, false, &s);
                        iters++;
                    } while (tm_time_us() - t0 < 20000);
                    t[r] = (double)(tm_time_us() - t0) / (double)iters;
                }
                qsort(t, (size_t)reps, sizeof *t, cmp_double);
                double gmacs = (double)rows * (double)cols * (double)n / t[reps / 2] / 1e3;
                printf(" %10.1f", gmacs);
                if (j == 0)
                    first = gmacs;
                last = gmacs;
            }
            if (n_table > 1 && first > 0)
                printf("   %.2f", last / first);
            printf("\n");
        }
        tm_aligned_free(w.data);
    }
    free(x);
    free(y);
    tm_matmul_scratch_fini(&s);
    tm_pool_free(pool);
    return 0;
}
