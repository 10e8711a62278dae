/* The scalar reference of every block format: hand-built blocks decode to known values (a
 * layout mistake fails here before any model test), quantize-dequantize keeps the error
 * within what each format can do, and every dot product equals the dot of the dequantized
 * rows. The real proof of bit-compatibility is tests/model/test_golden_synthetic.c, which
 * runs llama.cpp-quantized files. */
#include "tensor/ref.h"
#include "test.h"

#define N 4096

static const tm_dtype g_weight_types[] = {
    TM_DTYPE_Q4_0, TM_DTYPE_Q4_1, TM_DTYPE_Q5_0, TM_DTYPE_Q5_1, TM_DTYPE_Q8_0, TM_DTYPE_Q2_K,
    TM_DTYPE_Q3_K, TM_DTYPE_Q4_K, TM_DTYPE_Q5_K, TM_DTYPE_Q6_K, TM_DTYPE_F16,  TM_DTYPE_BF16};

static void fill_gaussian(tm_rng *rng, float *x, int n, float sigma)
{
    for (int i = 0; i < n; i += 2) { /* Box-Muller */
        double u = tm_rng_uniform(rng), v = tm_rng_uniform(rng);
        double r = sqrt(-2.0 * log(u + 1e-300)) * sigma;
        x[i] = (float)(r * cos(6.283185307179586 * v));
        if (i + 1 < n)
            x[i + 1] = (float)(r * sin(6.283185307179586 * v));
    }
}

static void *alloc_row(uint32_t type, int64_t n)
{
    uint64_t bytes = 0;
    TM_CHECK(tm_dtype_row_bytes(type, n, &bytes));
    return tm_calloc(1, (size_t)bytes + 1);
}

static void test_block_sizes(void)
{
    static const struct {
        tm_dtype t;
        size_t size;
    } sizes[] = {
        {TM_DTYPE_Q4_0, sizeof(tm_block_q4_0)}, {TM_DTYPE_Q4_1, sizeof(tm_block_q4_1)},
        {TM_DTYPE_Q5_0, sizeof(tm_block_q5_0)}, {TM_DTYPE_Q5_1, sizeof(tm_block_q5_1)},
        {TM_DTYPE_Q8_0, sizeof(tm_block_q8_0)}, {TM_DTYPE_Q8_1, sizeof(tm_block_q8_1)},
        {TM_DTYPE_Q2_K, sizeof(tm_block_q2_k)}, {TM_DTYPE_Q3_K, sizeof(tm_block_q3_k)},
        {TM_DTYPE_Q4_K, sizeof(tm_block_q4_k)}, {TM_DTYPE_Q5_K, sizeof(tm_block_q5_k)},
        {TM_DTYPE_Q6_K, sizeof(tm_block_q6_k)}, {TM_DTYPE_Q8_K, sizeof(tm_block_q8_k)},
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(sizes); i++) {
        const tm_dtype_info *info = tm_dtype_info_get(sizes[i].t);
        TM_CHECK_EQ_INT(info->block_bytes, sizes[i].size);
        TM_CHECK(tm_type_traits_get(sizes[i].t) != NULL);
    }
}

/* Blocks built bit by bit from the format descriptions decode to the values they should. */
static void test_known_blocks(void)
{
    float y[TM_QK_K];
    uint16_t one = tm_f32_to_f16(1.0f), half = tm_f32_to_f16(0.5f), two = tm_f32_to_f16(2.0f);

    tm_block_q4_0 q40 = {.d = two};
    q40.qs[0] = 0x3A; /* q[0] = 10, q[16] = 3 */
    tm_q4_0_to_float(&q40, y, 32);
    TM_CHECK_NEAR(y[0], 2.0f * (10 - 8), 0);
    TM_CHECK_NEAR(y[16], 2.0f * (3 - 8), 0);
    TM_CHECK_NEAR(y[1], -16.0f, 0);

    tm_block_q4_1 q41 = {.d = half, .m = one};
    q41.qs[5] = 0xF2;
    tm_q4_1_to_float(&q41, y, 32);
    TM_CHECK_NEAR(y[5], 0.5f * 2 + 1, 0);
    TM_CHECK_NEAR(y[21], 0.5f * 15 + 1, 0);

    tm_block_q5_0 q50 = {.d = one};
    q50.qs[3] = 0x21; /* q[3] low 1, q[19] low 2 */
    q50.qh[0] = 0x08; /* bit 3: q[3] += 16 */
    q50.qh[2] = 0x08; /* bit 19: q[19] += 16 */
    tm_q5_0_to_float(&q50, y, 32);
    TM_CHECK_NEAR(y[3], 17 - 16, 0);
    TM_CHECK_NEAR(y[19], 18 - 16, 0);
    TM_CHECK_NEAR(y[4], -16, 0);

    tm_block_q8_0 q80 = {.d = half};
    q80.qs[31] = -100;
    tm_q8_0_to_float(&q80, y, 32);
    TM_CHECK_NEAR(y[31], -50, 0);

    /* Q4_K: group 5's scale and min live in the high bits of bytes 1, 5 and in byte 9 */
    tm_block_q4_k q4k;
    memset(&q4k, 0, sizeof q4k);
    q4k.d = one;
    q4k.dmin = half;
    q4k.scales[9] = 0x3 | 0x2 << 4; /* group 5: scale low 3, min low 2 */
    q4k.scales[1] = 1 << 6;         /* group 5: scale high bits 1 -> 3 + 16 = 19 */
    q4k.scales[5] = 2 << 6;         /* group 5: min high bits 2 -> 2 + 32 = 34 */
    q4k.qs[64 + 5] = 0x70;          /* chunk 2, byte 5: weight 128 + 32 + 5 = 165 (group 5) = 7 */
    tm_q4_k_to_float(&q4k, y, TM_QK_K);
    TM_CHECK_NEAR(y[165], 19.0f * 7 - 0.5f * 34, 0);
    TM_CHECK_NEAR(y[160], -0.5f * 34, 0);
    TM_CHECK_NEAR(y[0], 0, 0);

    /* Q6_K: weight 128 + 64 + 3 = high nibble of ql[64 + 3], bits 4-5 of qh[32 + 3] */
    tm_block_q6_k q6k;
    memset(&q6k, 0, sizeof q6k);
    q6k.d = two;
    q6k.ql[64 + 3] = 0x50;
    q6k.qh[32 + 3] = 0x2 << 4;
    for (int g = 0; g < 16; g++)
        q6k.scales[g] = (int8_t)(g - 8);
    tm_q6_k_to_float(&q6k, y, TM_QK_K);
    TM_CHECK_NEAR(y[195], 2.0f * (195 / 16 - 8) * ((5 | 2 << 4) - 32), 0);
    TM_CHECK_NEAR(y[0], 2.0f * (0 - 8) * -32, 0);

    /* Q3_K: scale of group 13 = low nibble from scales[5] >> 4, high bits from scales[9] bits
     * 6-7; weight 128 + 64 + 20 (h 1, j 2, l 20: group 13) has its low bits in qs[32 + 20]
     * bits 4-5 and its high bit in hmask[20] bit 6 */
    tm_block_q3_k q3k;
    memset(&q3k, 0, sizeof q3k);
    q3k.d = one;
    q3k.scales[5] = 0x70;       /* low nibble 7 */
    q3k.scales[9] = 0x2 << 6;   /* high bits 2: 7 + 32 = 39, minus 32: 7 */
    q3k.qs[32 + 20] = 0x3 << 4; /* low bits 3 */
    q3k.hmask[20] = 1 << 6;     /* high bit set: q = 3 */
    tm_q3_k_to_float(&q3k, y, TM_QK_K);
    TM_CHECK_NEAR(y[212], 7.0f * 3, 0);
    TM_CHECK_NEAR(y[0], -32.0f * -4, 0); /* scale 0 - 32, q 0 - 4 */

    /* Q2_K: weight 128 + 96 + 17 (h 1, j 3, l 17: group 15) in qs[32 + 17] bits 6-7 */
    tm_block_q2_k q2k;
    memset(&q2k, 0, sizeof q2k);
    q2k.d = half;
    q2k.dmin = one;
    q2k.scales[15] = 0x3 | 0x1 << 4;
    q2k.qs[32 + 17] = 0x2 << 6;
    tm_q2_k_to_float(&q2k, y, TM_QK_K);
    TM_CHECK_NEAR(y[241], 0.5f * 3 * 2 - 1, 0);

    /* Q5_K: chunk 1's high bits are qh bits 2 and 3 */
    tm_block_q5_k q5k;
    memset(&q5k, 0, sizeof q5k);
    q5k.d = one;
    q5k.scales[2] = 1; /* group 2: scale 1 */
    q5k.scales[3] = 2; /* group 3: scale 2 */
    q5k.qs[32 + 4] = 0x21;
    q5k.qh[4] = 1 << 2 | 1 << 3;
    tm_q5_k_to_float(&q5k, y, TM_QK_K);
    TM_CHECK_NEAR(y[64 + 4], 1.0f * (1 + 16), 0);
    TM_CHECK_NEAR(y[96 + 4], 2.0f * (2 + 16), 0);
}

/* Quantize-dequantize error, relative to the data's RMS. Bounds are the measured values on
 * gaussian data with some margin: a worse quantizer fails. */
static void test_round_trip_error(void)
{
    static const struct {
        tm_dtype t;
        double max_rel_rms;
    } bounds[] = {
        {TM_DTYPE_Q8_0, 0.007}, {TM_DTYPE_Q6_K, 0.025}, {TM_DTYPE_Q5_K, 0.045},
        {TM_DTYPE_Q5_0, 0.06},  {TM_DTYPE_Q5_1, 0.06},  {TM_DTYPE_Q4_K, 0.09},
        {TM_DTYPE_Q4_0, 0.12},  {TM_DTYPE_Q4_1, 0.12},  {TM_DTYPE_Q3_K, 0.18},
        {TM_DTYPE_Q2_K, 0.40},  {TM_DTYPE_F16, 0.001},  {TM_DTYPE_BF16, 0.005},
    };
    tm_rng rng;
    tm_rng_seed(&rng, 1);
    float *x = tm_malloc(N * sizeof *x), *y = tm_malloc(N * sizeof *y);
    fill_gaussian(&rng, x, N, 0.02f);
    x[7] = 0.3f; /* an outlier, as real weights have */
    for (size_t i = 0; i < TM_ARRAY_LEN(bounds); i++) {
        const tm_type_traits *tr = tm_type_traits_get(bounds[i].t);
        void *q = alloc_row(bounds[i].t, N);
        tr->quantize(x, q, N);
        tr->to_float(q, y, N);
        double err = 0, ref = 0;
        for (int j = 0; j < N; j++) {
            err += (double)(x[j] - y[j]) * (x[j] - y[j]);
            ref += (double)x[j] * x[j];
        }
        double rel = sqrt(err / ref);
        fprintf(stderr, "  %-5s relative rms error %.4f (bound %.3f)\n", tm_dtype_name(bounds[i].t),
                rel, bounds[i].max_rel_rms);
        TM_CHECK_MSG(rel <= bounds[i].max_rel_rms, "%s: %g", tm_dtype_name(bounds[i].t), rel);
        tm_free(q);
    }
    /* an all-zero row stays zero, with no NaN from 0/0 */
    for (int j = 0; j < N; j++)
        x[j] = 0;
    for (size_t i = 0; i < TM_ARRAY_LEN(bounds); i++) {
        const tm_type_traits *tr = tm_type_traits_get(bounds[i].t);
        void *q = alloc_row(bounds[i].t, N);
        tr->quantize(x, q, N);
        tr->to_float(q, y, N);
        for (int j = 0; j < N; j++)
            if (y[j] != 0) {
                TM_CHECK_MSG(false, "%s: zero row decodes to %g", tm_dtype_name(bounds[i].t), y[j]);
                break;
            }
        tm_free(q);
    }
    tm_free(x);
    tm_free(y);
}

/* vec_dot(w, x) is exactly the dot of the dequantized rows (up to float summation order),
 * and close to the dot with the unquantized activations. */
static void test_dot_products(void)
{
    tm_rng rng;
    tm_rng_seed(&rng, 2);
    float *w = tm_malloc(N * sizeof *w), *x = tm_malloc(N * sizeof *x);
    float *wd = tm_malloc(N * sizeof *wd), *xd = tm_malloc(N * sizeof *xd);
    fill_gaussian(&rng, w, N, 0.05f);
    fill_gaussian(&rng, x, N, 1.0f);
    for (size_t i = 0; i < TM_ARRAY_LEN(g_weight_types); i++) {
        tm_dtype t = g_weight_types[i];
        const tm_type_traits *tr = tm_type_traits_get(t), *act = tm_type_traits_get(tr->act_type);
        void *wq = alloc_row(t, N), *xq = alloc_row(tr->act_type, N);
        tr->quantize(w, wq, N);
        act->quantize(x, xq, N);
        tr->to_float(wq, wd, N);
        act->to_float(xq, xd, N);
        double exact = 0, with_float_x = 0, magnitude = 0;
        for (int j = 0; j < N; j++) {
            exact += (double)wd[j] * xd[j];
            with_float_x += (double)wd[j] * x[j];
            magnitude += fabs((double)wd[j] * xd[j]);
        }
        float got = 0;
        tr->vec_dot(N, &got, wq, xq);
        TM_CHECK_MSG(fabs(got - exact) <= 1e-5 * magnitude, "%s: dot %.9g, dequantized %.9g",
                     tm_dtype_name(t), got, exact);
        TM_CHECK_MSG(fabs(got - with_float_x) <= 0.01 * magnitude,
                     "%s: dot %.9g, with float activations %.9g", tm_dtype_name(t), got,
                     with_float_x);
        tm_free(wq);
        tm_free(xq);
    }
    tm_free(w);
    tm_free(x);
    tm_free(wd);
    tm_free(xd);
}

/* Activation quantizers: ties round to even (what SIMD conversions do), Q8_K's scale maps
 * the largest magnitude to -128 and its bsums are the group sums, Q8_1's s is d * sum. */
static void test_activation_formats(void)
{
    float x[TM_QK_K];
    for (int j = 0; j < 32; j++)
        x[j] = 0;
    x[0] = 127.0f; /* d = 1: every value is its own code */
    x[1] = 2.5f;
    x[2] = 3.5f;
    x[3] = -2.5f;
    tm_block_q8_0 b0;
    tm_q8_0_quantize(x, &b0, 32);
    TM_CHECK_EQ_INT(b0.qs[1], 2);
    TM_CHECK_EQ_INT(b0.qs[2], 4);
    TM_CHECK_EQ_INT(b0.qs[3], -2);
    tm_block_q8_1 b1;
    tm_q8_1_quantize(x, &b1, 32);
    TM_CHECK_NEAR(tm_f16_to_f32(b1.s), 127 + 2 + 4 - 2, 0);

    tm_rng rng;
    tm_rng_seed(&rng, 3);
    fill_gaussian(&rng, x, TM_QK_K, 1.0f);
    x[100] = -9.0f;
    tm_block_q8_k bk;
    tm_q8_k_quantize(x, &bk, TM_QK_K);
    TM_CHECK_EQ_INT(bk.qs[100], -128);
    TM_CHECK_NEAR(bk.d, 9.0f / 128.0f, 1e-9);
    for (int g = 0; g < 16; g++) {
        int s = 0;
        for (int j = 0; j < 16; j++)
            s += bk.qs[16 * g + j];
        TM_CHECK_EQ_INT(bk.bsums[g], s);
    }
    for (int j = 0; j < TM_QK_K; j++)
        x[j] = 0;
    tm_q8_k_quantize(x, &bk, TM_QK_K);
    TM_CHECK(bk.d == 0 && bk.qs[0] == 0 && bk.bsums[15] == 0);
}

int main(void)
{
    TM_RUN(test_block_sizes);
    TM_RUN(test_known_blocks);
    TM_RUN(test_round_trip_error);
    TM_RUN(test_dot_products);
    TM_RUN(test_activation_formats);
    return tm_test_result();
}
