/* Every SIMD table against the scalar reference, for every slot it overrides: dot products
 * on random blocks (odd block counts, long rows) equal the reference up to float summation
 * order, and activation quantizers give bit-identical blocks, ties and edge cases included. */
#include "tensor/ref.h"
#include "test.h"
#if TM_BUILD_AMX
#include "tensor/kernels/isa.h" /* tm_amx_panel */
#endif

#include <stdlib.h>

static const int64_t g_lengths[] = {256, 512, 1792, 4096, 11008};

static void fill(tm_rng *rng, float *x, int64_t n, float scale)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(2 * tm_rng_uniform(rng) - 1) * scale;
}

static void *quantized_row(tm_dtype t, const float *x, int64_t n)
{
    uint64_t bytes = 0;
    tm_dtype_row_bytes(t, n, &bytes);
    void *q = tm_malloc((size_t)bytes);
    tm_type_traits_get(t)->quantize(x, q, n);
    return q;
}

/* Attention kernels over F32, F16, Q8_0 and Q4_0 cache rows: scores and value sums equal the
 * reference's up to summation order, for head widths on and off the vector width (40: an odd
 * number of 8-float vectors; 544: wider than the AVX2 integer scores' copy of the query holds,
 * which hand such heads to the reference), groups of 1 to 7 query heads, and strided rows. */
static int check_attention(const char *name, const tm_kernels *k, const tm_kernels *ref,
                           tm_rng *rng)
{
    static const int64_t dims[] = {64, 128, 80, 40, 20, 544};
    static const int n_qs[] = {1, 2, 3, 4, 7};
    static const int64_t n_keys[] = {1, 37, 300};
    const uint32_t types[] = {TM_DTYPE_F32, TM_DTYPE_F16, TM_DTYPE_Q8_0, TM_DTYPE_Q4_0};
    int checks = 0;
    for (size_t ti = 0; ti < TM_ARRAY_LEN(types); ti++) {
        uint32_t t = types[ti];
        size_t eb = t == TM_DTYPE_F16 ? 2 : 4; /* Q8_0: 34 bytes per 32, under 4 */
        for (size_t di = 0; di < TM_ARRAY_LEN(dims); di++)
            for (size_t qi = 0; qi < TM_ARRAY_LEN(n_qs); qi++)
                for (size_t ni = 0; ni < TM_ARRAY_LEN(n_keys); ni++) {
                    int64_t dim = dims[di], n = n_keys[ni], stride = dim * 3; /* 3 kv heads */
                    int n_q = n_qs[qi];
                    bool blocks = t == TM_DTYPE_Q8_0 || t == TM_DTYPE_Q4_0;
                    if (blocks && dim % 32 != 0)
                        continue; /* Q8_0 caches need heads of whole blocks */
                    float *rows = tm_malloc((size_t)(n * stride) * sizeof *rows);
                    void *cache = tm_malloc((size_t)(n * stride) * eb);
                    float *q = tm_malloc((size_t)(n_q * dim) * sizeof *q);
                    float *w = tm_malloc((size_t)(n_q * n) * sizeof *w);
                    float *s0 = tm_malloc((size_t)(n_q * n) * sizeof *s0);
                    float *s1 = tm_malloc((size_t)(n_q * n) * sizeof *s1);
                    float *o0 = tm_calloc((size_t)(n_q * dim), sizeof *o0);
                    float *o1 = tm_calloc((size_t)(n_q * dim), sizeof *o1);
                    fill(rng, rows, n * stride, 1.0f);
                    fill(rng, q, n_q * dim, 1.0f);
                    fill(rng, w, n_q * n, 1.0f / (float)n);
                    if (t == TM_DTYPE_F16)
                        for (int64_t i = 0; i < n * stride; i++)
                            ((uint16_t *)cache)[i] = tm_f32_to_f16(rows[i]);
                    else if (blocks)
                        ref->quantize[t](rows, cache, n * stride);
                    else
                        memcpy(cache, rows, (size_t)(n * stride) * sizeof *rows);
                    size_t head_bytes = t == TM_DTYPE_Q8_0   ? (size_t)dim / 32 * 34
                                        : t == TM_DTYPE_Q4_0 ? (size_t)dim / 32 * 18
                                                             : dim * eb;
                    const char *head = (const char *)cache + head_bytes; /* kv head 1 */
                    ref->attn_scores[t](n, dim, head, stride, q, dim, n_q, s0, n);
                    k->attn_scores[t](n, dim, head, stride, q, dim, n_q, s1, n);
                    ref->attn_values[t](n, dim, head, stride, w, n, n_q, o0, dim);
                    k->attn_values[t](n, dim, head, stride, w, n, n_q, o1, dim);
                    float es = 0, eo = 0;
                    for (int64_t i = 0; i < n_q * n; i++)
                        es = fmaxf(es, fabsf(s0[i] - s1[i]));
                    for (int64_t i = 0; i < n_q * dim; i++)
                        eo = fmaxf(eo, fabsf(o0[i] - o1[i]));
                    TM_CHECK_MSG(es <= 1e-4f * (float)dim && eo <= 1e-5f,
                                 "%s attention %s dim %lld n_q %d keys %lld: scores %.3g, "
                                 "values %.3g from the reference",
                                 name, tm_dtype_name(t), (long long)dim, n_q, (long long)n, es, eo);
                    checks++;
                    tm_free(rows);
                    tm_free(cache);
                    tm_free(q);
                    tm_free(w);
                    tm_free(s0);
                    tm_free(s1);
                    tm_free(o0);
                    tm_free(o1);
                }
    }
    /* the softmax exponentials: relative error against expf, over wide and narrow ranges */
    for (int rep = 0; rep < 3; rep++) {
        int64_t n = rep == 0 ? 1 : rep == 1 ? 37 : 4099;
        float *a = tm_malloc((size_t)n * sizeof *a), *b = tm_malloc((size_t)n * sizeof *b);
        fill(rng, a, n, rep == 2 ? 120.0f : 3.0f);
        memcpy(b, a, (size_t)n * sizeof *a);
        float sa = ref->exp_sum(a, n, 0.125f), sb = k->exp_sum(b, n, 0.125f);
        float worst = 0;
        for (int64_t i = 0; i < n; i++)
            worst = fmaxf(worst, fabsf(a[i] - b[i]) / fmaxf(a[i], 1e-30f));
        TM_CHECK_MSG(worst <= 1e-6f && fabsf(sa - sb) <= 1e-5f * sa,
                     "%s exp_sum n %lld: worst relative error %.3g, sums %.9g vs %.9g", name,
                     (long long)n, worst, sb, sa);
        checks++;
        tm_free(a);
        tm_free(b);
    }
    return checks;
}

/* Scores over F16 keys laid by dimension: the table's kernel equals the reference up to
 * summation order, and the reference equals the row-by-row reference on the same keys laid
 * as rows; key counts around every step width, starts off the vector alignment, groups of
 * 1 to 7 heads. */
static int check_attention_by_dim(const char *name, const tm_kernels *k, const tm_kernels *ref,
                                  tm_rng *rng)
{
    static const int64_t dims[] = {64, 128, 20, 7};
    static const int n_qs[] = {1, 2, 3, 4, 5, 7};
    static const int64_t n_keys[] = {1, 2, 5, 6, 8, 15, 16, 31, 32, 33, 63, 64, 100, 300};
    int checks = 0;
    for (size_t di = 0; di < TM_ARRAY_LEN(dims); di++)
        for (size_t qi = 0; qi < TM_ARRAY_LEN(n_qs); qi++)
            for (size_t ni = 0; ni < TM_ARRAY_LEN(n_keys); ni++) {
                int64_t dim = dims[di], n = n_keys[ni], first = 3, stride = n + first + 9;
                int n_q = n_qs[qi];
                uint16_t *by_dim = tm_malloc((size_t)(dim * stride) * 2);
                uint16_t *rows = tm_malloc((size_t)(n * dim) * 2);
                float *q = tm_malloc((size_t)(n_q * dim) * sizeof *q);
                float *s0 = tm_malloc((size_t)(n_q * n) * sizeof *s0);
                float *s1 = tm_malloc((size_t)(n_q * n) * sizeof *s1);
                float *s2 = tm_malloc((size_t)(n_q * n) * sizeof *s2);
                for (int64_t i = 0; i < dim * stride; i++)
                    by_dim[i] = tm_f32_to_f16((float)(2 * tm_rng_uniform(rng) - 1));
                for (int64_t j = 0; j < n; j++)
                    for (int64_t d = 0; d < dim; d++)
                        rows[j * dim + d] = by_dim[d * stride + first + j];
                fill(rng, q, n_q * dim, 1.0f);
                ref->attn_scores_f16_by_dim(n, dim, by_dim + first, stride, q, dim, n_q, s0, n);
                k->attn_scores_f16_by_dim(n, dim, by_dim + first, stride, q, dim, n_q, s1, n);
                tm_attn_scores_ref(TM_DTYPE_F16)(n, dim, rows, dim, q, dim, n_q, s2, n);
                float e1 = 0, e2 = 0;
                for (int64_t i = 0; i < n_q * n; i++) {
                    e1 = fmaxf(e1, fabsf(s0[i] - s1[i]));
                    e2 = fmaxf(e2, fabsf(s0[i] - s2[i]));
                }
                TM_CHECK_MSG(e1 <= 1e-4f * (float)dim && e2 == 0,
                             "%s scores over F16 keys by dimension, dim %lld n_q %d keys %lld: "
                             "%.3g from the reference, which is %.3g from the row reference",
                             name, (long long)dim, n_q, (long long)n, e1, e2);
                checks++;
                tm_free(by_dim);
                tm_free(rows);
                tm_free(q);
                tm_free(s0);
                tm_free(s1);
                tm_free(s2);
            }
    return checks;
}

/* The sum of the magnitudes of a dot's terms: what float summation order can change is a
 * small multiple of the float epsilon times this. */
static float dot_magnitude(const tm_kernels *ref, uint32_t wt, const void *w, tm_dtype xt,
                           const void *x, int64_t n)
{
    float *a = tm_malloc((size_t)n * sizeof *a), *b = tm_malloc((size_t)n * sizeof *b);
    ref->to_float[wt](w, a, n);
    ref->to_float[xt](x, b, n);
    float m = 0;
    for (int64_t i = 0; i < n; i++)
        m += fabsf(a[i] * b[i]);
    tm_free(a);
    tm_free(b);
    return m;
}

/* One packed-GEMM case: n_rows file rows of a type (n columns), the same rows packed in
 * groups of 16, and up to max_t tokens as the kernel reads them (act) and as the reference
 * reads them (q8). */
typedef struct {
    uint32_t type;
    tm_dtype act_type;
    bool q8_k;
    int64_t n, n_rows;
    uint64_t row_bytes, q8_bytes, act_bytes;
    uint8_t *rows, *packed, *act, *q8;
} gemm_case;

static gemm_case gemm_case_new(uint32_t type, int64_t n, int64_t n_rows, int64_t max_t)
{
    gemm_case c = {.type = type, .n = n, .n_rows = n_rows};
    c.q8_k = tm_pack_act_is_q8_k(type);
    c.act_type = c.q8_k ? TM_DTYPE_Q8_K : TM_DTYPE_Q8_0;
    tm_dtype_row_bytes(type, n, &c.row_bytes);
    tm_dtype_row_bytes(c.act_type, n, &c.q8_bytes);
    /* K-quant GEMMs read the Q8_K rows themselves */
    c.act_bytes = c.q8_k ? c.q8_bytes : tm_pack_act_row_bytes(n);
    c.rows = tm_malloc((size_t)(c.row_bytes * n_rows));
    c.packed = tm_malloc((size_t)(c.row_bytes * n_rows));
    c.act = tm_malloc((size_t)(c.act_bytes * max_t));
    c.q8 = tm_malloc((size_t)(c.q8_bytes * max_t));
    return c;
}

static void gemm_case_free(gemm_case *c)
{
    tm_free(c->rows);
    tm_free(c->packed);
    tm_free(c->act);
    tm_free(c->q8);
}

/* Quantizes row r from floats; gemm_case_pack packs all rows once they are set. */
static void gemm_case_set_row(gemm_case *c, int64_t r, const float *f)
{
    tm_type_traits_get(c->type)->quantize(f, c->rows + r * c->row_bytes, c->n);
}

static void gemm_case_pack(gemm_case *c)
{
    for (int64_t r = 0; r < c->n_rows; r += TM_PACK_ROWS)
        tm_pack_group(c->type, c->rows + r * c->row_bytes, c->n, c->packed + r * c->row_bytes);
}

static void gemm_case_set_token(gemm_case *c, const tm_kernels *k, const tm_kernels *ref, int64_t t,
                                const float *x)
{
    if (c->q8_k)
        k->quantize[TM_DTYPE_Q8_K](x, c->act + t * c->act_bytes, c->n);
    else
        tm_pack_act_quantize(k->quantize[TM_DTYPE_Q8_0], x, c->n, c->act + t * c->act_bytes);
    ref->quantize[c->act_type](x, c->q8 + t * c->q8_bytes, c->n);
}

/* Runs the kernel's GEMM over all rows and the first n_t tokens, and checks each output
 * against the reference dot of the file row with the token's reference activations. */
static int gemm_case_check(const gemm_case *c, const tm_kernels *k, const tm_kernels *ref,
                           int64_t n_t, const char *label)
{
    float *y = tm_malloc((size_t)(c->n_rows * n_t) * sizeof *y);
    for (int64_t r = 0; r < c->n_rows; r += TM_PACK_ROWS)
        k->gemm_x16[c->type](c->n, c->packed + r * c->row_bytes, c->act, c->act_bytes, n_t, y + r,
                             c->n_rows);
    int checks = 0;
    for (int64_t t = 0; t < n_t; t++)
        for (int64_t r = 0; r < c->n_rows; r++) {
            const uint8_t *row = c->rows + r * c->row_bytes, *q8 = c->q8 + t * c->q8_bytes;
            float want = 0, got = y[t * c->n_rows + r];
            ref->vec_dot[c->type](c->n, &want, row, q8);
            float mag = dot_magnitude(ref, c->type, row, c->act_type, q8, c->n);
            TM_CHECK_MSG(fabsf(got - want) <= 2e-6f * mag + 1e-30f,
                         "%s gemm %s n=%lld tokens=%lld row %lld token %lld: %.9g vs reference "
                         "%.9g",
                         label, tm_dtype_name(c->type), (long long)c->n, (long long)n_t,
                         (long long)r, (long long)t, got, want);
            checks++;
        }
    tm_free(y);
    return checks;
}

/* Packed-weight GEMM: 32 rows of random weights packed in groups of 16, against the
 * reference dot of each file row with each token's Q8_0 activations, for token counts
 * around the kernels' pass width; packed rows read back equal the file rows exactly. */
static int check_gemm(const char *name, const tm_kernels *k, const tm_kernels *ref, tm_rng *rng)
{
    static const int64_t widths[] = {32, 96, 2048, 544}, k_widths[] = {256, 768, 2048, 2304};
    int checks = 0;
    for (uint32_t type = 0; type < TM_DTYPE_COUNT; type++) {
        if (!k->gemm_x16[type])
            continue;
        TM_CHECK(tm_pack_supported(type));
        for (size_t wi = 0; wi < TM_ARRAY_LEN(widths); wi++) {
            const int64_t n_rows = 32, max_t = 19;
            int64_t n = tm_pack_act_is_q8_k(type) ? k_widths[wi] : widths[wi];
            gemm_case c = gemm_case_new(type, n, n_rows, max_t);
            float *f = tm_malloc((size_t)(n * (n_rows + max_t)) * sizeof *f);
            float *row0 = tm_malloc((size_t)n * sizeof *row0), *row1 = tm_malloc((size_t)n * 4);
            fill(rng, f, n * (n_rows + max_t), 1.0f);
            for (int64_t r = 0; r < n_rows; r++)
                gemm_case_set_row(&c, r, f + r * n);
            gemm_case_pack(&c);
            for (int64_t r = 0; r < n_rows; r++) {
                ref->to_float[type](c.rows + r * c.row_bytes, row0, n);
                tm_pack_row_to_float(type, c.packed + (r - r % 16) * c.row_bytes, (int)(r % 16), n,
                                     row1);
                TM_CHECK_MSG(memcmp(row0, row1, (size_t)n * sizeof *row0) == 0,
                             "%s packed row %lld reads back differently", tm_dtype_name(type),
                             (long long)r);
            }
            for (int64_t t = 0; t < max_t; t++) {
                float *xt = f + (n_rows + t) * n;
                if (t == 3) /* a token of exact zeros */
                    memset(xt, 0, (size_t)n * sizeof *xt);
                gemm_case_set_token(&c, k, ref, t, xt);
            }
            static const int64_t counts[] = {1, 2, 7, 8, 9, 19};
            for (size_t ci = 0; ci < TM_ARRAY_LEN(counts); ci++)
                checks += gemm_case_check(&c, k, ref, counts[ci], name);
            gemm_case_free(&c);
            tm_free(f);
            tm_free(row0);
            tm_free(row1);
        }
    }
    return checks;
}

/* Packed GEMM at the extremes of its integer sums: rows whose codes sit at or near the
 * largest value, against activations of one sign at full scale, so every partial sum is as
 * large as it can be (the AVX2 kernels sum in 16 bits as far as this allows). Random data,
 * as in check_gemm, never gets near those bounds. */
static int check_gemm_extremes(const char *name, const tm_kernels *k, const tm_kernels *ref)
{
    const int64_t n = 512, n_rows = 16, n_t = 13;
    char label[96];
    snprintf(label, sizeof label, "%s (extremes)", name);
    int checks = 0;
    for (uint32_t type = 0; type < TM_DTYPE_COUNT; type++) {
        if (!k->gemm_x16[type])
            continue;
        gemm_case c = gemm_case_new(type, n, n_rows, n_t);
        float *f = tm_malloc((size_t)n * sizeof *f);
        for (int64_t r = 0; r < n_rows; r++) { /* one small value a block, the rest at the top */
            float sign = r % 2 ? -1.0f : 1.0f;
            for (int64_t i = 0; i < n; i++)
                f[i] = sign * (i % 32 == (r % 4) ? -0.25f
                                                 : (r < 8 ? 1.0f : 1.0f - 0.001f * (float)(i % 7)));
            gemm_case_set_row(&c, r, f);
        }
        if (type == TM_DTYPE_Q8_0) /* a file may hold -128, which no quantizer writes */
            for (int64_t b = 0; b < n / 32; b++)
                memset(((tm_block_q8_0 *)c.rows)[b].qs, 0x80, 32);
        gemm_case_pack(&c);
        for (int64_t t = 0; t < n_t; t++) { /* all -1, all +1, then nearly so */
            for (int64_t i = 0; i < n; i++)
                f[i] = (t % 2 ? 1.0f : -1.0f) * (t < 2 ? 1.0f : 1.0f - 0.002f * (float)(i % 5));
            gemm_case_set_token(&c, k, ref, t, f);
        }
        /* 6 tokens: passes of 4 and 2; 13: the AVX2 K-quants' rebuilt chunks too */
        checks += gemm_case_check(&c, k, ref, 1, label) + gemm_case_check(&c, k, ref, 6, label) +
                  gemm_case_check(&c, k, ref, n_t, label);
        gemm_case_free(&c);
        tm_free(f);
    }
    return checks;
}

/* A packed matrix of random rows (the caller frees m->data). */
static tm_mat packed_matrix(uint32_t type, int64_t n_rows, int64_t n_cols, tm_rng *rng)
{
    uint64_t row_bytes = 0;
    tm_dtype_row_bytes(type, n_cols, &row_bytes);
    float *f = tm_malloc((size_t)n_cols * sizeof *f);
    uint8_t *row = tm_malloc((size_t)(row_bytes * TM_PACK_ROWS));
    uint8_t *packed = tm_malloc((size_t)(row_bytes * (uint64_t)n_rows));
    for (int64_t g = 0; g < n_rows; g += TM_PACK_ROWS) {
        for (int64_t r = 0; r < TM_PACK_ROWS; r++) {
            fill(rng, f, n_cols, 1.0f);
            tm_type_traits_get(type)->quantize(f, row + r * row_bytes, n_cols);
        }
        tm_pack_group(type, row, n_cols, packed + g * row_bytes);
    }
    tm_free(f);
    tm_free(row);
    tm_mat m = {.data = packed,
                .type = type,
                .n_cols = n_cols,
                .n_rows = n_rows,
                .row_bytes = row_bytes,
                .packed = true};
    return m;
}

/* tm_matmul of a long batch on packed weights splits its tokens into tiles (matmul.c). Every
 * token of batches of one, two and three tiles, and of a remainder short of a pass, must come
 * out bit for bit as when the batch is multiplied 8 tokens at a time (one kernel pass each,
 * so each token meets the same integer sums and float steps). Tables whose BF16 GEMM takes
 * long batches (AMX) round differently on purpose and are checked by check_gemm_bf16. */
static int check_matmul_tiles(const char *name, const tm_kernels *k, tm_rng *rng)
{
    static const uint32_t types[] = {TM_DTYPE_Q4_0, TM_DTYPE_Q8_0, TM_DTYPE_Q4_K};
    static const int64_t counts[] = {37, 256, 300, 771};
    const int64_t n_rows = 48, n_cols = 512, max_t = 771;
    tm_pool *pool = NULL;
    tm_err err = {0};
    tm_matmul_scratch s;
    TM_CHECK_OK(tm_pool_create(2, &pool, &err), &err);
    TM_CHECK_OK(tm_matmul_scratch_init(&s, max_t, n_cols, 2, &err), &err);
    float *f = tm_malloc((size_t)(n_cols * max_t) * sizeof *f);
    float *y = tm_malloc((size_t)(n_rows * max_t) * sizeof *y);
    float *y8 = tm_malloc((size_t)(n_rows * max_t) * sizeof *y8);
    int checks = 0;
    for (size_t ti = 0; ti < TM_ARRAY_LEN(types); ti++) {
        uint32_t type = types[ti];
        if (!k->gemm_x16[type] || k->gemm_bf16[type])
            continue;
        tm_mat w = packed_matrix(type, n_rows, n_cols, rng);
        fill(rng, f, n_cols * max_t, 1.0f);
        const float *x = f;
        for (size_t ci = 0; ci < TM_ARRAY_LEN(counts); ci++) {
            int64_t n_t = counts[ci];
            tm_matmul(k, pool, &w, x, n_t, y, n_rows, false, false, &s);
            for (int64_t t = 0; t < n_t; t += 8)
                tm_matmul(k, pool, &w, x + t * n_cols, TM_MIN(8, n_t - t), y8 + t * n_rows, n_rows,
                          false, false, &s);
            for (int64_t t = 0; t < n_t; t++) {
                const float *got = y + t * n_rows, *want = y8 + t * n_rows;
                int64_t r = 0;
                while (r < n_rows && memcmp(&got[r], &want[r], sizeof got[r]) == 0)
                    r++;
                TM_CHECK_MSG(r == n_rows,
                             "%s matmul %s of %lld tokens: token %lld row %lld is %.9g, in "
                             "passes of 8 %.9g",
                             name, tm_dtype_name(type), (long long)n_t, (long long)t, (long long)r,
                             r < n_rows ? got[r] : 0.0, r < n_rows ? want[r] : 0.0);
                checks++;
            }
        }
        tm_free((void *)w.data);
    }
    tm_free(f);
    tm_free(y);
    tm_free(y8);
    tm_matmul_scratch_fini(&s);
    tm_pool_free(pool);
    return checks;
}

/* tm_matmul_many: matrices sharing x in one pool run (a layer's q, k, v of two types with
 * one activation format; Q4_0 beside Q8_0; Q4_0 beside Q4_K, whose formats differ, one
 * after the other) give exactly what tm_matmul gives each, for decode and prompt sizes. */
static int check_matmul_many(const char *name, const tm_kernels *k, tm_rng *rng)
{
    static const uint32_t sets[][3] = {{TM_DTYPE_Q4_K, TM_DTYPE_Q4_K, TM_DTYPE_Q6_K},
                                       {TM_DTYPE_Q4_0, TM_DTYPE_Q8_0, TM_DTYPE_Q4_0},
                                       {TM_DTYPE_Q4_0, TM_DTYPE_Q4_K, TM_DTYPE_Q4_0}};
    static const int64_t rows[3] = {80, 32, 48}, counts[] = {1, 3, 37};
    const int64_t n_cols = 512, max_t = 37;
    tm_pool *pool = NULL;
    tm_err err = {0};
    tm_matmul_scratch s;
    TM_CHECK_OK(tm_pool_create(2, &pool, &err), &err);
    TM_CHECK_OK(tm_matmul_scratch_init(&s, max_t, n_cols, 2, &err), &err);
    float *x = tm_malloc((size_t)(n_cols * max_t) * sizeof *x);
    fill(rng, x, n_cols * max_t, 1.0f);
    int checks = 0;
    for (size_t si = 0; si < TM_ARRAY_LEN(sets); si++) {
        bool all = true;
        for (int i = 0; i < 3; i++)
            all = all && k->gemm_x16[sets[si][i]] && !k->gemm_bf16[sets[si][i]];
        if (!all)
            continue;
        tm_mat w[3];
        const tm_mat *wp[3];
        float *y[3], *want[3];
        for (int i = 0; i < 3; i++) {
            w[i] = packed_matrix(sets[si][i], rows[i], n_cols, rng);
            wp[i] = &w[i];
            y[i] = tm_malloc((size_t)(rows[i] * max_t) * sizeof *y[i]);
            want[i] = tm_malloc((size_t)(rows[i] * max_t) * sizeof *want[i]);
        }
        for (size_t ci = 0; ci < TM_ARRAY_LEN(counts); ci++) {
            int64_t n_t = counts[ci];
            for (int i = 0; i < 3; i++)
                tm_matmul(k, pool, &w[i], x, n_t, want[i], rows[i], false, false, &s);
            tm_matmul_many(k, pool, 3, wp, x, n_t, y, false, false, &s);
            for (int i = 0; i < 3; i++) {
                size_t bytes = (size_t)(rows[i] * n_t) * sizeof(float);
                TM_CHECK_MSG(memcmp(y[i], want[i], bytes) == 0,
                             "%s matmul_many set %zu, %lld tokens: matrix %d (%s) differs from "
                             "its own product",
                             name, si, (long long)n_t, i, tm_dtype_name(sets[si][i]));
                checks++;
            }
        }
        for (int i = 0; i < 3; i++) {
            tm_free((void *)w[i].data);
            tm_free(y[i]);
            tm_free(want[i]);
        }
    }
    tm_free(x);
    tm_matmul_scratch_fini(&s);
    tm_pool_free(pool);
    return checks;
}

/* BF16 tile GEMM (AMX): packed rows against float activations put into BF16 tiles, for
 * group counts around the kernel's blocks (odd, more than one block) and token counts around
 * its tiles (tails of 1 to 15). Both factors of a term are rounded to 8 significant bits, so
 * each product moves by at most 2^-8 of itself: the tolerance is 2^-8 of the sum of the
 * terms' magnitudes (float accumulation adds far less). Columns of y beside the product
 * stay as they were. */
static int check_gemm_bf16(const char *name, const tm_kernels *k, const tm_kernels *ref,
                           tm_rng *rng)
{
    static const int64_t row_counts[] = {16, 48, 272};
    static const int64_t token_counts[] = {16, 17, 31, 32, 33, 70};
    int checks = 0;
    for (uint32_t type = 0; type < TM_DTYPE_COUNT; type++) {
        if (!k->gemm_bf16[type])
            continue;
        TM_CHECK(k->bf16_act_row && tm_pack_supported(type));
        bool q8_k = tm_pack_act_is_q8_k(type);
        for (size_t ri = 0; ri < TM_ARRAY_LEN(row_counts); ri++) {
            /* widths: one partial chunk, several chunks and a partial one */
            int64_t n = q8_k ? (ri == 1 ? 768 : 256) : (ri == 1 ? 800 : 96);
            int64_t n_rows = row_counts[ri], max_t = 70, y_stride = n_rows + 16;
            uint64_t row_bytes = 0;
            tm_dtype_row_bytes(type, n, &row_bytes);
            float *f = tm_malloc((size_t)(n * (n_rows + max_t)) * sizeof *f);
            float *wf = tm_malloc((size_t)(n * n_rows) * sizeof *wf);
            uint8_t *rows = tm_malloc((size_t)(row_bytes * (uint64_t)n_rows));
            uint8_t *packed = tm_aligned_alloc(64, (size_t)(row_bytes * (uint64_t)n_rows));
            int64_t n_tiles = (max_t + 15) / 16;
            uint8_t *tiles = tm_aligned_alloc(64, (size_t)(n_tiles * 16 * n * 2));
            float *y = tm_malloc((size_t)(y_stride * max_t) * sizeof *y);
            void *scratch = tm_aligned_alloc(64, (size_t)tm_gemm_bf16_scratch_bytes(max_t));
            fill(rng, f, n * (n_rows + max_t), 1.0f);
            for (int64_t r = 0; r < n_rows; r++) {
                tm_type_traits_get(type)->quantize(f + r * n, rows + r * row_bytes, n);
                ref->to_float[type](rows + r * row_bytes, wf + r * n, n);
            }
            for (int64_t r = 0; r < n_rows; r += TM_PACK_ROWS)
                tm_pack_group(type, rows + r * row_bytes, n, packed + r * row_bytes);
            const float *x = f + n_rows * n;
            for (size_t ci = 0; ci < TM_ARRAY_LEN(token_counts); ci++) {
                int64_t n_t = token_counts[ci], nt_tiles = (n_t + 15) / 16;
                memset(tiles, 0, (size_t)(nt_tiles * 16 * n * 2));
                for (int64_t t = 0; t < n_t; t++)
                    k->bf16_act_row(x + t * n, n, nt_tiles, t, tiles);
                for (int64_t i = 0; i < y_stride * n_t; i++)
                    y[i] = -12345.0f;
                k->gemm_bf16[type](n, packed, TM_PACK_ROWS * row_bytes, n_rows / TM_PACK_ROWS,
                                   (const uint16_t *)tiles, n_t, y, y_stride, scratch, NULL);
                for (int64_t t = 0; t < n_t; t++) {
                    for (int64_t r = 0; r < n_rows; r++) {
                        double want = 0, mag = 0;
                        for (int64_t c = 0; c < n; c++) {
                            want += (double)wf[r * n + c] * x[t * n + c];
                            mag += fabs((double)wf[r * n + c] * x[t * n + c]);
                        }
                        float got = y[t * y_stride + r];
                        TM_CHECK_MSG(fabs(got - want) <= mag / 256 + 1e-6,
                                     "%s gemm_bf16 %s n=%lld rows=%lld tokens=%lld row %lld token "
                                     "%lld: %.9g vs %.9g (terms %.3g)",
                                     name, tm_dtype_name(type), (long long)n, (long long)n_rows,
                                     (long long)n_t, (long long)r, (long long)t, got, want, mag);
                        checks++;
                    }
                    for (int64_t r = n_rows; r < y_stride; r++)
                        TM_CHECK_MSG(y[t * y_stride + r] == -12345.0f,
                                     "%s gemm_bf16 %s wrote column %lld outside its rows", name,
                                     tm_dtype_name(type), (long long)r);
                }
            }
            tm_free(f);
            tm_free(wf);
            tm_free(rows);
            tm_aligned_free(packed);
            tm_aligned_free(tiles);
            tm_free(y);
            tm_aligned_free(scratch);
        }
    }
    return checks;
}

/* The fused gate-and-up epilogue: 32 and 288 rows of random weights as gate and up (groups
 * interleaved as pack.c does), against act(gate . x) * (up . x) from the reference's float
 * dots, read back from the BF16 output tiles; token counts with tails, whose rows past the
 * batch must come out zero. Tolerance: each dot's BF16 bound (2^-8 of its terms' magnitudes)
 * carried through act (|SiLU'| and |GELU'| stay below 1.13) and the product, plus the
 * output's rounding to BF16 (2^-8 of it). */
static float silu_ref(float g)
{
    return g / (1.0f + expf(-g));
}

static float gelu_ref(float g)
{
    return 0.5f * g * (1.0f + tanhf(0.7978845608028654f * (g + 0.044715f * g * g * g)));
}

static int check_gemm_glu(const char *name, const tm_kernels *k, const tm_kernels *ref, tm_rng *rng)
{
    static const int64_t ff_counts[] = {32, 288};
    static const int64_t token_counts[] = {16, 31, 33};
    int checks = 0;
    for (uint32_t type = 0; type < TM_DTYPE_COUNT; type++) {
        if (!k->gemm_bf16[type])
            continue;
        bool q8_k = tm_pack_act_is_q8_k(type);
        int64_t n = q8_k ? 512 : 320, max_t = 33;
        for (size_t fi = 0; fi < TM_ARRAY_LEN(ff_counts); fi++)
            for (int act = TM_GLU_SILU; act <= TM_GLU_GELU; act++) {
                int64_t ff = ff_counts[fi];
                uint64_t row_bytes = 0;
                tm_dtype_row_bytes(type, n, &row_bytes);
                float *f = tm_malloc((size_t)(n * (2 * ff + max_t)) * sizeof *f);
                float *wf = tm_malloc((size_t)(n * 2 * ff) * sizeof *wf);
                uint8_t *rows = tm_malloc((size_t)(row_bytes * 2 * (uint64_t)ff));
                uint8_t *packed = tm_aligned_alloc(64, (size_t)(row_bytes * 2 * (uint64_t)ff));
                uint8_t *in = tm_aligned_alloc(64, (size_t)(48 * n * 2));
                uint8_t *out = tm_aligned_alloc(64, (size_t)(48 * ff * 2));
                void *scratch = tm_aligned_alloc(64, (size_t)tm_gemm_bf16_scratch_bytes(max_t));
                fill(rng, f, n * (2 * ff + max_t), 1.0f);
                for (int64_t r = 0; r < 2 * ff; r++) { /* rows 0..ff-1 gate, ff.. up */
                    tm_type_traits_get(type)->quantize(f + r * n, rows + r * row_bytes, n);
                    ref->to_float[type](rows + r * row_bytes, wf + r * n, n);
                }
                uint64_t gb = row_bytes * TM_PACK_ROWS;
                for (int64_t i = 0; i < ff / TM_PACK_ROWS; i++) {
                    tm_pack_group(type, rows + (uint64_t)i * gb, n, packed + 2 * i * gb);
                    tm_pack_group(type, rows + (uint64_t)(ff / TM_PACK_ROWS + i) * gb, n,
                                  packed + (2 * i + 1) * gb);
                }
                const float *x = f + 2 * ff * n;
                for (size_t ci = 0; ci < TM_ARRAY_LEN(token_counts); ci++) {
                    int64_t n_t = token_counts[ci], n_tiles = (n_t + 15) / 16;
                    memset(in, 0, (size_t)(n_tiles * 16 * n * 2));
                    memset(out, 0xFF, (size_t)(n_tiles * 16 * ff * 2));
                    for (int64_t t = 0; t < n_t; t++)
                        k->bf16_act_row(x + t * n, n, n_tiles, t, in);
                    tm_gemm_glu glu = {
                        .act = act, .tiles = out, .n_cols = ff, .n_tiles = n_tiles, .col0 = 0};
                    k->gemm_bf16[type](n, packed, gb, 2 * ff / TM_PACK_ROWS, (const uint16_t *)in,
                                       n_t, NULL, 0, scratch, &glu);
                    for (int64_t t = 0; t < n_tiles * 16; t++)
                        for (int64_t c = 0; c < ff; c++) {
                            uint16_t h;
                            memcpy(&h,
                                   out + tm_bf16_tile_offset(ff, n_tiles, t, c / 32 * 32) +
                                       c % 32 * 2,
                                   2);
                            float got = tm_bf16_to_f32(h);
                            if (t >= n_t) {
                                TM_CHECK_MSG(got == 0.0f, "%s glu %s: row %lld past the batch",
                                             name, tm_dtype_name(type), (long long)t);
                                continue;
                            }
                            double dg = 0, du = 0, mg = 0, mu = 0;
                            for (int64_t i = 0; i < n; i++) {
                                double xv = x[t * n + i];
                                dg += wf[c * n + i] * xv;
                                mg += fabs(wf[c * n + i] * xv);
                                du += wf[(ff + c) * n + i] * xv;
                                mu += fabs(wf[(ff + c) * n + i] * xv);
                            }
                            float a =
                                act == TM_GLU_SILU ? silu_ref((float)dg) : gelu_ref((float)dg);
                            double want = a * du;
                            double tol = 1.13 * mg / 256 * (fabs(du) + mu / 256) +
                                         fabs(a) * mu / 256 + fabs(want) / 256 + 1e-6;
                            TM_CHECK_MSG(fabs(got - want) <= tol,
                                         "%s glu %s ff=%lld act %d token %lld col %lld: %.6g vs "
                                         "%.6g (tol %.3g)",
                                         name, tm_dtype_name(type), (long long)ff, act,
                                         (long long)t, (long long)c, got, want, tol);
                            checks++;
                        }
                }
                tm_free(f);
                tm_free(wf);
                tm_free(rows);
                tm_aligned_free(packed);
                tm_aligned_free(in);
                tm_aligned_free(out);
                tm_aligned_free(scratch);
            }
    }
    return checks;
}

/* Prompt attention on tiles against float attention over the same F16 (or F32) rows: keys and
 * values put into tiles in runs of 7 positions (runs cut where cache blocks would), queries
 * in tiles of 16 with tails, causal masks, a sliding window and a soft-cap. Scores, weights
 * and values are rounded to BF16 (8 bits): the tolerance is 2^-6 of the largest |value|; a
 * key wrongly seen or hidden moves an output by far more (scores are spread over +-2). */
static int check_attn_tiles(const char *name, const tm_kernels *k, tm_rng *rng)
{
    if (!k->attn_tile)
        return 0;
    static const int64_t dims[][2] = {{64, 64}, {128, 128}, {96, 80}};
    int checks = 0;
    for (size_t di = 0; di < TM_ARRAY_LEN(dims); di++)
        for (int cache = 0; cache < 2; cache++)
            for (int mode = 0; mode < 3; mode++) {
                int64_t D = dims[di][0], Dv = dims[di][1], n_keys = 100, pos0 = 60;
                int64_t n_q = n_keys - pos0; /* queries at positions 60..99 */
                int32_t window = mode == 1 ? 23 : 0;
                float softcap = mode == 2 ? 2.5f : 0.0f, scale = 1.0f / sqrtf((float)D);
                uint32_t type = cache ? TM_DTYPE_F32 : TM_DTYPE_F16;
                uint64_t kb = (uint64_t)(cache ? 4 : 2) * (uint64_t)D,
                         vb = (uint64_t)(cache ? 4 : 2) * (uint64_t)Dv;
                float *kf = tm_malloc((size_t)(n_keys * D) * 4),
                      *vf = tm_malloc((size_t)(n_keys * Dv) * 4);
                float *q = tm_malloc((size_t)(n_q * D) * 4);
                uint8_t *krows = tm_malloc((size_t)(kb * (uint64_t)n_keys)),
                        *vrows = tm_malloc((size_t)(vb * (uint64_t)n_keys));
                fill(rng, kf, n_keys * D, 1.0f);
                fill(rng, vf, n_keys * Dv, 1.0f);
                fill(rng, q, n_q * D, 2.0f);
                for (int64_t i = 0; i < n_keys * D; i++) {
                    if (cache)
                        memcpy(krows + i * 4, &kf[i], 4);
                    else
                        ((uint16_t *)krows)[i] = tm_f32_to_f16(kf[i]);
                    kf[i] = cache ? kf[i] : tm_f16_to_f32(tm_f32_to_f16(kf[i]));
                }
                for (int64_t i = 0; i < n_keys * Dv; i++) {
                    if (cache)
                        memcpy(vrows + i * 4, &vf[i], 4);
                    else
                        ((uint16_t *)vrows)[i] = tm_f32_to_f16(vf[i]);
                    vf[i] = cache ? vf[i] : tm_f16_to_f32(tm_f32_to_f16(vf[i]));
                }
                uint64_t tb = tm_attn_kv_tiles_bytes(n_keys, D, Dv);
                uint8_t *tiles = tm_aligned_alloc(64, (size_t)tb);
                memset(tiles, 0, (size_t)tb);
                uint8_t *kt = tiles, *vt = tiles + (n_keys + 31) / 32 * 32 * D * 2;
                for (int64_t p = 0; p < n_keys; p += 7) {
                    int64_t run = TM_MIN(7, n_keys - p);
                    k->attn_kv_tiles(type, type, krows + (uint64_t)p * kb, kb,
                                     vrows + (uint64_t)p * vb, vb, run, p, D, Dv, kt, vt);
                }
                void *scratch = tm_aligned_alloc(64, TM_ATTN_TILE_SCRATCH);
                float *out = tm_malloc((size_t)(n_q * Dv) * 4);
                for (int64_t t0 = 0; t0 < n_q; t0 += 16) {
                    tm_attn_tile_args ta = {.q = q + t0 * D,
                                            .q_stride = D,
                                            .n_q = (int)TM_MIN(16, n_q - t0),
                                            .pos = pos0 + t0,
                                            .window = window,
                                            .scale = scale,
                                            .softcap = softcap,
                                            .kt = kt,
                                            .vt = vt,
                                            .head_dim = D,
                                            .head_dim_v = Dv,
                                            .out = out + t0 * Dv,
                                            .out_stride = Dv,
                                            .scratch = scratch};
                    k->attn_tile(&ta);
                }
                double *w = tm_malloc((size_t)n_keys * sizeof *w);
                for (int64_t i = 0; i < n_q; i++) {
                    int64_t pi = pos0 + i, lo = window ? TM_MAX(0, pi - window + 1) : 0;
                    double mx = -INFINITY, sum = 0;
                    for (int64_t j = lo; j <= pi; j++) {
                        double sc = 0;
                        for (int64_t d = 0; d < D; d++)
                            sc += (double)q[i * D + d] * kf[j * D + d];
                        sc *= scale;
                        if (softcap > 0)
                            sc = softcap * tanh(sc / softcap);
                        w[j] = sc;
                        mx = fmax(mx, sc);
                    }
                    for (int64_t j = lo; j <= pi; j++) {
                        w[j] = exp(w[j] - mx);
                        sum += w[j];
                    }
                    for (int64_t d = 0; d < Dv; d++) {
                        double want = 0;
                        for (int64_t j = lo; j <= pi; j++)
                            want += w[j] * vf[j * Dv + d];
                        want /= sum;
                        float got = out[i * Dv + d];
                        TM_CHECK_MSG(fabs(got - want) <= 1.0 / 64,
                                     "%s attention tiles D=%lld Dv=%lld %s mode %d query %lld dim "
                                     "%lld: %.6g vs %.6g",
                                     name, (long long)D, (long long)Dv, cache ? "f32" : "f16", mode,
                                     (long long)i, (long long)d, got, want);
                        checks++;
                    }
                }
                tm_free(w);
                tm_free(out);
                tm_aligned_free(scratch);
                tm_aligned_free(tiles);
                tm_free(kf);
                tm_free(vf);
                tm_free(q);
                tm_free(krows);
                tm_free(vrows);
            }
    return checks;
}

/* The gated activations against the reference's expf and tanhf, over gates from -90 to 90
 * (e^-g overflows float past 88) and lengths with and without a scalar tail: within a few
 * ulps, plus for GELU the reference's rounding of 1 + tanh (an absolute 2^-24 of g u). */
static int check_glu(const char *name, const tm_kernels *k, const tm_kernels *ref, tm_rng *rng)
{
    int checks = 0;
    tm_glu_fn fns[2] = {k->silu_mul, k->gelu_mul}, refs[2] = {ref->silu_mul, ref->gelu_mul};
    for (int f = 0; f < 2; f++) {
        if (fns[f] == refs[f])
            continue;
        for (int64_t n = 1; n <= 1027; n += 113) {
            float *g = tm_malloc((size_t)n * sizeof *g), *u = tm_malloc((size_t)n * sizeof *u);
            float *a = tm_malloc((size_t)n * sizeof *a), *b = tm_malloc((size_t)n * sizeof *b);
            for (int64_t i = 0; i < n; i++) {
                double r = tm_rng_uniform(rng) * 2 - 1;
                g[i] = (float)(i % 3 == 0 ? 90 * r : 4 * r);
                u[i] = (float)(tm_rng_uniform(rng) * 2 - 1);
            }
            memcpy(a, g, (size_t)n * sizeof *a);
            memcpy(b, g, (size_t)n * sizeof *b);
            refs[f](a, u, n);
            fns[f](b, u, n);
            for (int64_t i = 0; i < n; i++)
                /* plus the reference's own rounding of 1 + tanh(u) (GELU, |tanh| < 1) */
                TM_CHECK_MSG(fabsf(a[i] - b[i]) <=
                                 2e-6f * fabsf(a[i]) + 0x1p-23f * fabsf(g[i] * u[i]) + 1e-30f,
                             "%s %s(%.9g) * %.9g: %.9g vs reference %.9g", name,
                             f ? "gelu" : "silu", g[i], u[i], b[i], a[i]);
            checks++;
            tm_free(g);
            tm_free(u);
            tm_free(a);
            tm_free(b);
        }
    }
    return checks;
}

static void check_table(const char *name)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    tm_kernels ref, k;
    tm_err err = {0};
    TM_CHECK_OK(tm_kernels_init(&ref, &cpu, "ref", &err), &err);
    TM_CHECK_OK(tm_kernels_init(&k, &cpu, name, &err), &err);
    tm_rng rng;
    tm_rng_seed(&rng, 42);
    int n_dots = 0, n_quants = 0;
    float *w = tm_malloc(11008 * sizeof *w), *x = tm_malloc(11008 * sizeof *x);
    for (uint32_t t = 0; t < TM_DTYPE_COUNT; t++) {
        if (!k.vec_dot[t] || k.vec_dot[t] == ref.vec_dot[t])
            continue;
        tm_dtype act = tm_type_traits_get(t)->act_type;
        for (size_t li = 0; li < TM_ARRAY_LEN(g_lengths); li++) {
            int64_t n = g_lengths[li];
            for (int rep = 0; rep < 3; rep++) {
                fill(&rng, w, n, rep == 2 ? 100.0f : 0.1f);
                fill(&rng, x, n, rep == 1 ? 1e-3f : 2.0f);
                void *wq = quantized_row((tm_dtype)t, w, n), *xq = quantized_row(act, x, n);
                float want = 0, got = 0, magnitude = 0;
                ref.vec_dot[t](n, &want, wq, xq);
                /* the size of the terms bounds the summation-order difference */
                float *wd = tm_malloc((size_t)n * sizeof *wd), *xd = tm_malloc((size_t)n * 4);
                tm_type_traits_get(t)->to_float(wq, wd, n);
                tm_type_traits_get(act)->to_float(xq, xd, n);
                for (int64_t i = 0; i < n; i++)
                    magnitude += fabsf(wd[i] * xd[i]);
                k.vec_dot[t](n, &got, wq, xq);
                TM_CHECK_MSG(fabsf(got - want) <= 2e-5f * magnitude + 1e-30f,
                             "%s %s n=%lld: %.9g vs reference %.9g (terms %.3g)", name,
                             tm_dtype_name(t), (long long)n, got, want, magnitude);
                n_dots++;
                tm_free(wd);
                tm_free(xd);
                tm_free(wq);
                tm_free(xq);
            }
        }
    }
    for (uint32_t t = 0; t < TM_DTYPE_COUNT; t++) { /* one row, four tokens */
        if (!k.vec_dot_x4[t])
            continue;
        tm_dtype act = tm_type_traits_get(t)->act_type;
        int64_t n = 4096;
        uint64_t act_bytes = 0;
        tm_dtype_row_bytes(act, n, &act_bytes);
        uint8_t *xs = tm_malloc((size_t)(4 * act_bytes));
        fill(&rng, w, n, 0.1f);
        void *wq = quantized_row((tm_dtype)t, w, n);
        for (int r = 0; r < 4; r++) {
            fill(&rng, x, n, 0.5f * (float)(r + 1));
            tm_type_traits_get(act)->quantize(x, xs + r * act_bytes, n);
        }
        float got[4], want;
        k.vec_dot_x4[t](n, got, wq, xs, act_bytes);
        for (int r = 0; r < 4; r++) {
            ref.vec_dot[t](n, &want, wq, xs + r * act_bytes);
            TM_CHECK_MSG(fabsf(got[r] - want) <= 1e-4f * (fabsf(want) + 1.0f),
                         "%s %s vec_dot_x4 token %d: %.9g vs %.9g", name, tm_dtype_name(t), r,
                         got[r], want);
            n_dots++;
        }
        tm_free(xs);
        tm_free(wq);
    }
    for (uint32_t t = 0; t < TM_DTYPE_COUNT; t++) {
        if (!k.quantize[t] || k.quantize[t] == ref.quantize[t])
            continue;
        uint64_t bytes = 0;
        tm_dtype_row_bytes(t, 4096, &bytes);
        uint8_t *a = tm_malloc((size_t)bytes), *b = tm_malloc((size_t)bytes);
        for (int rep = 0; rep < 6; rep++) {
            fill(&rng, x, 4096, 3.0f);
            if (rep == 1) /* exact halves: ties must round to even */
                for (int i = 0; i < 4096; i++)
                    x[i] = (float)((i % 255) - 127) * 0.5f;
            if (rep == 2) /* zero blocks, and a block whose extremes tie in magnitude */
                for (int i = 0; i < 512; i++)
                    x[i] = i < 256 ? 0.0f : (i % 2 ? 5.0f : -5.0f);
            if (rep == 3)
                x[7] = 1e30f;
            if (rep == 4)
                for (int i = 0; i < 4096; i++)
                    x[i] = (float)(i % 7) - 3.0f;
            ref.quantize[t](x, a, 4096);
            k.quantize[t](x, b, 4096);
            TM_CHECK_MSG(memcmp(a, b, (size_t)bytes) == 0, "%s quantize %s case %d differs", name,
                         tm_dtype_name(t), rep);
            n_quants++;
        }
        tm_free(a);
        tm_free(b);
    }
    /* read_sum: every length around the vector steps, at every alignment, and a long run
     * (the sum of words wraps modulo 2^64 alike in every table) */
    {
        uint8_t *buf = tm_malloc(70000);
        for (int i = 0; i < 70000; i++)
            buf[i] = (uint8_t)(tm_rng_next(&rng) >> 24);
        TM_CHECK(k.read_sum);
        for (int off = 0; off < 8; off++)
            for (uint64_t len = 0; len <= 600; len++)
                TM_CHECK_MSG(k.read_sum(buf + off, len) == tm_read_sum_ref(buf + off, len),
                             "%s read_sum at %d, %llu bytes", name, off, (unsigned long long)len);
        TM_CHECK(k.read_sum(buf + 3, 69997) == tm_read_sum_ref(buf + 3, 69997));
        memset(buf, 0xFF, 70000); /* every word 2^64 - 1: the sums wrap */
        TM_CHECK(k.read_sum(buf, 65536) == (uint64_t)0 - 8192);
        tm_free(buf);
    }
    /* the prompt limit's multiply-add peak: every table with packed GEMMs has one (their
     * products are single SIMD instructions), a finite rate */
    if (k.gemm_x16[TM_DTYPE_Q4_0]) {
        TM_CHECK_MSG(k.mac_peak != NULL, "%s has packed GEMMs but no mac_peak", name);
        double peak = k.mac_peak ? k.mac_peak() : 0;
        TM_CHECK_MSG(peak > 1e6 && peak < 1e14, "%s mac_peak %g", name, peak); /* QEMU: slow */
    }
    int n_attn = check_attention(name, &k, &ref, &rng) +
                 check_attention_by_dim(name, &k, &ref, &rng) + check_glu(name, &k, &ref, &rng) +
                 check_attn_tiles(name, &k, &rng);
    int n_gemm = check_gemm(name, &k, &ref, &rng) + check_gemm_bf16(name, &k, &ref, &rng) +
                 check_gemm_glu(name, &k, &ref, &rng) + check_matmul_tiles(name, &k, &rng) +
                 check_matmul_many(name, &k, &rng) + check_gemm_extremes(name, &k, &ref);
    fprintf(stderr,
            "  %-6s %d dot checks, %d quantizer checks, %d attention checks, %d gemm checks\n",
            name, n_dots, n_quants, n_attn, n_gemm);
    tm_free(w);
    tm_free(x);
}

#if TM_BUILD_AMX
static float bf16_value(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The AMX table's panels read the packed layout with no tile instruction: on any CPU with
 * AVX-512 BF16, every panel of random packed groups equals the packed rows read back, up to
 * BF16 rounding (so CPUs without AMX check them too). */
static void test_amx_panels(void)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    if (!(cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq && cpu.avx512vnni &&
          cpu.avx512bf16)) {
        fprintf(stderr, "  no AVX-512 BF16 here: AMX panels not checked\n");
        return;
    }
    static const uint32_t types[] = {TM_DTYPE_Q4_0, TM_DTYPE_Q8_0, TM_DTYPE_Q4_K, TM_DTYPE_Q6_K};
    const int64_t n = 768;
    tm_rng rng;
    tm_rng_seed(&rng, 77);
    float *x = tm_malloc(sizeof(float) * (size_t)n * TM_PACK_ROWS);
    float *want = tm_malloc(sizeof(float) * (size_t)n * TM_PACK_ROWS);
    for (size_t i = 0; i < TM_ARRAY_LEN(types); i++) {
        uint32_t t = types[i];
        uint64_t row_bytes = 0;
        tm_dtype_row_bytes(t, n, &row_bytes);
        uint8_t *rows = tm_malloc((size_t)(row_bytes * TM_PACK_ROWS));
        uint8_t *group = tm_malloc((size_t)(row_bytes * TM_PACK_ROWS));
        fill(&rng, x, n * TM_PACK_ROWS, 2.0f);
        for (int r = 0; r < TM_PACK_ROWS; r++)
            tm_type_traits_get(t)->quantize(x + r * n, rows + r * row_bytes, n);
        tm_pack_group(t, rows, n, group);
        for (int r = 0; r < TM_PACK_ROWS; r++)
            tm_pack_row_to_float(t, group, r, n, want + r * n);
        int bad = 0;
        for (int64_t c = 0; c < n; c += 32) {
            uint16_t out[512];
            TM_CHECK(tm_amx_panel(t, group, n, c, out));
            for (int q = 0; q < 16; q++)
                for (int r = 0; r < TM_PACK_ROWS; r++)
                    for (int e = 0; e < 2; e++) {
                        float w = want[r * n + c + 2 * q + e];
                        float got = bf16_value(out[32 * q + 2 * r + e]);
                        bad += fabsf(got - w) > fabsf(w) / 128.0f + 1e-6f;
                    }
        }
        TM_CHECK_MSG(bad == 0, "AMX panel %s: %d values differ", tm_dtype_name(t), bad);
        tm_free(rows);
        tm_free(group);
    }
    tm_free(x);
    tm_free(want);
}
#endif

static void test_every_table(void)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    const char *names[8];
    int n = tm_kernels_available(&cpu, names, 8);
    if (n == 1)
        fprintf(stderr, "  only the reference table runs on this CPU\n");
    for (int i = 1; i < n; i++)
        check_table(names[i]);
}

/* The avxvnni table takes its integer sums with vpdpbusd by another road than the avx2
 * table's vpmaddubsw, to the same integers, and shares the float steps after them
 * (avx2_gemm.h): its packed products equal the avx2 table's bit for bit, for decoding and for
 * batches long enough for the K-quants' rebuilt prompt passes. */
static void test_avxvnni_matches_avx2(void)
{
    static const uint32_t types[] = {TM_DTYPE_Q4_0, TM_DTYPE_Q8_0, TM_DTYPE_Q4_K, TM_DTYPE_Q5_K,
                                     TM_DTYPE_Q6_K};
    static const int64_t counts[] = {1, 2, 3, 7, 16, 37};
    const int64_t n_rows = 32, n_cols = 512, max_t = 37;
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    tm_kernels a, v;
    tm_err err = {0};
    if (tm_kernels_init(&a, &cpu, "avx2", &err) != TM_OK ||
        tm_kernels_init(&v, &cpu, "avxvnni", &err) != TM_OK) {
        fprintf(stderr, "  no avxvnni table on this CPU or build\n");
        return;
    }
    tm_rng rng;
    tm_rng_seed(&rng, 77);
    tm_pool *pool = NULL;
    tm_matmul_scratch s;
    TM_CHECK_OK(tm_pool_create(2, &pool, &err), &err);
    TM_CHECK_OK(tm_matmul_scratch_init(&s, max_t, n_cols, 2, &err), &err);
    float *x = tm_malloc((size_t)(n_cols * max_t) * sizeof *x);
    float *ya = tm_malloc((size_t)(n_rows * max_t) * sizeof *ya);
    float *yv = tm_malloc((size_t)(n_rows * max_t) * sizeof *yv);
    fill(&rng, x, n_cols * max_t, 1.0f);
    int checks = 0;
    for (size_t ti = 0; ti < TM_ARRAY_LEN(types); ti++) {
        tm_mat w = packed_matrix(types[ti], n_rows, n_cols, &rng);
        for (size_t ci = 0; ci < TM_ARRAY_LEN(counts); ci++) {
            int64_t n_t = counts[ci];
            tm_matmul(&a, pool, &w, x, n_t, ya, n_rows, false, false, &s);
            tm_matmul(&v, pool, &w, x, n_t, yv, n_rows, false, false, &s);
            int64_t i = 0;
            while (i < n_t * n_rows && memcmp(&ya[i], &yv[i], sizeof ya[i]) == 0)
                i++;
            TM_CHECK_MSG(i == n_t * n_rows, "%s, %lld tokens: value %lld is %.9g, avx2's %.9g",
                         tm_dtype_name(types[ti]), (long long)n_t, (long long)i,
                         i < n_t * n_rows ? yv[i] : 0.0, i < n_t * n_rows ? ya[i] : 0.0);
            checks++;
        }
        tm_free((void *)w.data);
    }
    fprintf(stderr, "  %d products equal\n", checks);
    tm_free(x);
    tm_free(ya);
    tm_free(yv);
    tm_matmul_scratch_fini(&s);
    tm_pool_free(pool);
}

static void test_selection(void)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    tm_kernels k;
    tm_err err = {0};
    TM_CHECK_STATUS(tm_kernels_init(&k, &cpu, "sse9", &err), TM_E_ARG, &err);
    TM_CHECK_OK(tm_kernels_init(&k, &cpu, "ref", &err), &err);
    TM_CHECK_EQ_STR(k.isa, "ref");
    TM_CHECK_OK(tm_kernels_init(&k, &cpu, NULL, &err), &err);
    const char *names[8];
    int n = tm_kernels_available(&cpu, names, 8);
    TM_CHECK_EQ_STR(k.isa, names[n - 1]); /* auto picks the best */
    /* a known table is picked when this CPU and build run it, refused when not (the other
     * architecture's tables always are) */
    static const char *const known[] = {"avx2", "avxvnni", "avx512", "amx",
                                        "neon", "dotprod", "i8mm"};
    for (size_t i = 0; i < TM_ARRAY_LEN(known); i++) {
        bool runs = false;
        for (int j = 0; j < n; j++)
            runs = runs || strcmp(names[j], known[i]) == 0;
        if (runs) {
            TM_CHECK_OK(tm_kernels_init(&k, &cpu, known[i], &err), &err);
            TM_CHECK_EQ_STR(k.isa, known[i]);
        } else {
            TM_CHECK_STATUS(tm_kernels_init(&k, &cpu, known[i], &err), TM_E_UNSUPPORTED, &err);
        }
    }
}

int main(void)
{
    TM_RUN(test_selection);
    TM_RUN(test_every_table);
    TM_RUN(test_avxvnni_matches_avx2);
#if TM_BUILD_AMX
    TM_RUN(test_amx_panels);
#endif
    return tm_test_result();
}
