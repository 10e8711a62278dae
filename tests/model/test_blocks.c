/* The forward pass's building blocks on small hand-checked cases. */
#include "model/model.h"
#include "test.h"

static void test_rms_norm(void)
{
    const float x[4] = {1, 2, 3, 4}, g[4] = {1, 1, 2, 0.5f};
    float y[4];
    tm_rms_norm(y, x, g, 4, 1, 0.0f);
    double rms = sqrt((1 + 4 + 9 + 16) / 4.0);
    TM_CHECK_NEAR(y[0], 1 / rms, 1e-6);
    TM_CHECK_NEAR(y[2], 3 / rms * 2, 1e-6);
    TM_CHECK_NEAR(y[3], 4 / rms * 0.5, 1e-6);
}

static void test_rope_position_zero_is_identity_and_pairs_differ_by_kind(void)
{
    const int32_t pos[2] = {0, 3};
    float cs[2 * 2 * 2];
    tm_rope_table(cs, pos, 2, 4, 10000.0f, 1.0f, NULL);
    TM_CHECK_NEAR(cs[0], 1, 0);
    TM_CHECK_NEAR(cs[1], 0, 0);
    /* position 3, pair 1: angle 3 * 10000^(-2/4) = 0.03 */
    TM_CHECK_NEAR(cs[(1 * 2 + 1) * 2], cos(0.03), 1e-7);
    TM_CHECK_NEAR(cs[(1 * 2 + 1) * 2 + 1], sin(0.03), 1e-7);

    float normal[2][4] = {{1, 2, 3, 4}, {1, 2, 3, 4}};
    float neox[2][4] = {{1, 2, 3, 4}, {1, 2, 3, 4}};
    tm_rope_apply(&normal[0][0], cs, 2, 1, 4, 4, TM_ROPE_NORMAL);
    tm_rope_apply(&neox[0][0], cs, 2, 1, 4, 4, TM_ROPE_NEOX);
    for (int i = 0; i < 4; i++) {
        TM_CHECK_NEAR(normal[0][i], i + 1, 0);
        TM_CHECK_NEAR(neox[0][i], i + 1, 0);
    }
    /* normal: pair 0 is (x0, x1) at angle 3 */
    TM_CHECK_NEAR(normal[1][0], 1 * cos(3.0) - 2 * sin(3.0), 1e-6);
    TM_CHECK_NEAR(normal[1][1], 1 * sin(3.0) + 2 * cos(3.0), 1e-6);
    /* neox: pair 0 is (x0, x2) at angle 3 */
    TM_CHECK_NEAR(neox[1][0], 1 * cos(3.0) - 3 * sin(3.0), 1e-6);
    TM_CHECK_NEAR(neox[1][2], 1 * sin(3.0) + 3 * cos(3.0), 1e-6);
}

static void test_rope_factors_divide_the_angle(void)
{
    const int32_t pos[1] = {5};
    const float freqs[2] = {1.0f, 8.0f};
    float cs[4];
    tm_rope_table(cs, pos, 1, 4, 100.0f, 1.0f, freqs);
    TM_CHECK_NEAR(cs[2], cos(5 * 0.1 / 8), 1e-7);
    tm_rope_table(cs, pos, 1, 4, 100.0f, 0.5f, NULL);
    TM_CHECK_NEAR(cs[0], cos(2.5), 1e-7);
}

/* 2 query heads sharing 1 kv head of width 2; 3 positions; the cache as F32 or F16 (the
 * values are exact in both), in blocks of 2 positions listed out of order: positions 0 and 1
 * in block 1, position 2 in block 0 (row 1 of block 0 and the unused rows hold junk that
 * must not be read) */
static void check_attention(uint32_t kv_type)
{
    const float k_rows[3][2] = {{1, 0}, {0, 1}, {1, 1}};
    const float v_rows[3][2] = {{10, 0}, {0, 10}, {5, 5}};
    const int32_t blocks[2] = {1, 0};
    float k32[4][2], v32[4][2];
    uint16_t k16[4][2], v16[4][2];
    for (int r = 0; r < 4; r++) /* store row r = block r / 2, row r % 2 */
        for (int d = 0; d < 2; d++)
            k32[r][d] = v32[r][d] = 1e4f; /* junk */
    for (int i = 0; i < 3; i++) {
        int r = blocks[i / 2] * 2 + i % 2;
        for (int d = 0; d < 2; d++) {
            k32[r][d] = k_rows[i][d];
            v32[r][d] = v_rows[i][d];
        }
    }
    for (int r = 0; r < 4; r++)
        for (int d = 0; d < 2; d++) {
            k16[r][d] = tm_f32_to_f16(k32[r][d]);
            v16[r][d] = tm_f32_to_f16(v32[r][d]);
        }
    bool f16 = kv_type == TM_DTYPE_F16;
    uint64_t elem = f16 ? 2 : 4;
    const float q[3][4] = {{1, 0, 0, 1}, {1, 0, 0, 1}, {0, 0, 0, 0}};
    float out[3][4], scores[2 * 2 * (3 + 1)];
    tm_err err = {0};
    tm_pool *pool = NULL;
    TM_CHECK_OK(tm_pool_create(2, &pool, &err), &err);
    if (!pool)
        return;
    tm_attn_args a = {.q = &q[0][0],
                      .q_stride = 4,
                      .k_base = f16 ? (const char *)&k16[0][0] : (const char *)&k32[0][0],
                      .v_base = f16 ? (const char *)&v16[0][0] : (const char *)&v32[0][0],
                      .k_block_bytes = 4 * elem,
                      .v_block_bytes = 4 * elem,
                      .k_row_bytes = 2 * elem,
                      .v_row_bytes = 2 * elem,
                      .k_head_bytes = 2 * elem,
                      .v_head_bytes = 2 * elem,
                      .kv_stride = 2,
                      .v_stride = 2,
                      .blocks = blocks,
                      .block_tokens = 2,
                      .scores_fn = tm_attn_scores_ref(kv_type),
                      .values_fn = tm_attn_values_ref(kv_type),
                      .exp_sum = tm_exp_sum_ref,
                      .out = &out[0][0],
                      .out_stride = 4,
                      .n_tokens = 3,
                      .pos0 = 0,
                      .n_head = 2,
                      .n_head_kv = 1,
                      .head_dim = 2,
                      .head_dim_v = 2,
                      .scale = 1.0f,
                      .scores = scores,
                      .scores_per_thread = 2 * (3 + 1)};
    tm_attention(pool, &a);
    /* token 0 sees only position 0 */
    TM_CHECK_NEAR(out[0][0], 10, 1e-5);
    TM_CHECK_NEAR(out[0][3], 0, 1e-5);
    /* token 1, head 0: scores (1, 0) -> weights e/(e+1), 1/(e+1) */
    double e = exp(1.0);
    TM_CHECK_NEAR(out[1][0], 10 * e / (e + 1), 1e-5);
    TM_CHECK_NEAR(out[1][1], 10 / (e + 1), 1e-5);
    /* token 1, head 1: scores (0, 1) */
    TM_CHECK_NEAR(out[1][2], 10 / (e + 1), 1e-5);
    /* token 2 with q = 0: uniform over 3 positions */
    TM_CHECK_NEAR(out[2][0], 15 / 3.0, 1e-5);
    TM_CHECK_NEAR(out[2][3], 15 / 3.0, 1e-5);
    tm_pool_free(pool);
}

static void test_attention_is_causal_and_grouped(void)
{
    check_attention(TM_DTYPE_F32);
    check_attention(TM_DTYPE_F16);
}

/* Attention reads a kv head's keys and values through the block table in runs: over
 * consecutive blocks one run (row layouts), a new one at each jump. A table with both (blocks
 * 1-4 in a row, then 0, 6 and 5), two kv heads of two query heads, windows that start inside a
 * block, and every kernel table this CPU runs with each cache type that lies in rows (F32, Q8_0,
 * Q4_0), against the softmax computed here from the cache's own (dequantized) rows. */
enum { RB_TOKENS = 8, RB_BLOCKS = 7, RB_DIM = 32, RB_HEADS_KV = 2, RB_GROUP = 2 };

static void check_attention_runs(const tm_kernels *k, uint32_t type, int32_t window)
{
    tm_err err = {0};
    tm_pool *pool = NULL;
    TM_CHECK_OK(tm_pool_create(2, &pool, &err), &err);
    if (!pool)
        return;
    const int32_t table[RB_BLOCKS] = {1, 2, 3, 4, 0, 6, 5};
    const int64_t n_pos = (int64_t)RB_BLOCKS * RB_TOKENS;
    uint64_t row_bytes = 0;
    TM_CHECK(tm_dtype_row_bytes(type, RB_DIM, &row_bytes));
    uint64_t slab = row_bytes * RB_TOKENS, head_stride = slab * RB_BLOCKS;
    char *k_store = tm_calloc(1, head_stride * RB_HEADS_KV),
         *v_store = tm_calloc(1, head_stride * RB_HEADS_KV);
    float *k_rows = tm_calloc((size_t)(n_pos * RB_HEADS_KV * RB_DIM), sizeof(float)),
          *v_rows = tm_calloc((size_t)(n_pos * RB_HEADS_KV * RB_DIM), sizeof(float));
    tm_rng rng;
    tm_rng_seed(&rng, 11 + type);
    const tm_type_traits *tr = tm_type_traits_get(type);
    for (int64_t p = 0; p < n_pos; p++) /* position p of head h: the cache's row, and as read */
        for (int h = 0; h < RB_HEADS_KV; h++) {
            float kf[RB_DIM], vf[RB_DIM];
            for (int d = 0; d < RB_DIM; d++) {
                kf[d] = (float)(tm_rng_uniform(&rng) * 2 - 1);
                vf[d] = (float)(tm_rng_uniform(&rng) * 2 - 1);
            }
            uint64_t at = (uint64_t)h * head_stride + (uint64_t)table[p / RB_TOKENS] * slab +
                          (uint64_t)(p % RB_TOKENS) * row_bytes;
            tr->quantize(kf, k_store + at, RB_DIM);
            tr->quantize(vf, v_store + at, RB_DIM);
            tr->to_float(k_store + at, k_rows + (p * RB_HEADS_KV + h) * RB_DIM, RB_DIM);
            tr->to_float(v_store + at, v_rows + (p * RB_HEADS_KV + h) * RB_DIM, RB_DIM);
        }
    enum { N_Q = 3, N_HEAD = RB_HEADS_KV * RB_GROUP };
    const int32_t pos0 = (int32_t)n_pos - N_Q; /* the last three positions query */
    float q[N_Q][N_HEAD * RB_DIM], out[N_Q][N_HEAD * RB_DIM];
    for (int t = 0; t < N_Q; t++)
        for (int i = 0; i < N_HEAD * RB_DIM; i++)
            q[t][i] = (float)(tm_rng_uniform(&rng) * 2 - 1);
    float *scores = tm_calloc(2 * RB_GROUP * (size_t)(n_pos + 1), sizeof(float));
    tm_attn_args a = {.q = &q[0][0],
                      .q_stride = N_HEAD * RB_DIM,
                      .k_base = k_store,
                      .v_base = v_store,
                      .k_block_bytes = slab,
                      .v_block_bytes = slab,
                      .k_row_bytes = row_bytes,
                      .v_row_bytes = row_bytes,
                      .k_head_bytes = head_stride,
                      .v_head_bytes = head_stride,
                      .kv_stride = RB_DIM,
                      .v_stride = RB_DIM,
                      .blocks = table,
                      .block_tokens = RB_TOKENS,
                      .scores_fn = k->attn_scores[type],
                      .values_fn = k->attn_values[type],
                      .exp_sum = k->exp_sum,
                      .out = &out[0][0],
                      .out_stride = N_HEAD * RB_DIM,
                      .n_tokens = N_Q,
                      .pos0 = pos0,
                      .n_head = N_HEAD,
                      .n_head_kv = RB_HEADS_KV,
                      .head_dim = RB_DIM,
                      .head_dim_v = RB_DIM,
                      .scale = 0.3f,
                      .window = window,
                      .scores = scores,
                      .scores_per_thread = RB_GROUP * (n_pos + 1)};
    tm_attention(pool, &a);
    double worst = 0;
    for (int t = 0; t < N_Q; t++)
        for (int hq = 0; hq < N_HEAD; hq++) {
            int h = hq / RB_GROUP;
            int64_t n_keys = pos0 + t + 1,
                    first = window > 0 && n_keys > window ? n_keys - window : 0;
            double w[RB_BLOCKS * RB_TOKENS], m = -1e30, sum = 0;
            for (int64_t p = first; p < n_keys; p++) {
                double dot = 0;
                for (int d = 0; d < RB_DIM; d++)
                    dot +=
                        (double)q[t][hq * RB_DIM + d] * k_rows[(p * RB_HEADS_KV + h) * RB_DIM + d];
                w[p] = dot * 0.3;
                m = w[p] > m ? w[p] : m;
            }
            for (int64_t p = first; p < n_keys; p++)
                sum += w[p] = exp(w[p] - m);
            for (int d = 0; d < RB_DIM; d++) {
                double want = 0;
                for (int64_t p = first; p < n_keys; p++)
                    want += w[p] / sum * v_rows[(p * RB_HEADS_KV + h) * RB_DIM + d];
                double e = fabs(out[t][hq * RB_DIM + d] - want);
                worst = e > worst ? e : worst;
            }
        }
    /* float sums: near 1e-7; the integer scores over Q8_0 and Q4_0 keys (AVX2), which round
     * the query to 16 bits: near 2e-6 */
    TM_CHECK_MSG(worst < 2e-5, "%s cache, window %d: attention off by %g", tm_dtype_name(type),
                 window, worst);
    tm_pool_free(pool);
    tm_free(scores);
    tm_free(k_rows);
    tm_free(v_rows);
    tm_free(k_store);
    tm_free(v_store);
}

static void test_attention_runs_over_consecutive_blocks_and_jumps(void)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    const char *names[8];
    int n_tables = tm_kernels_available(&cpu, names, 8);
    const uint32_t types[] = {TM_DTYPE_F32, TM_DTYPE_Q8_0, TM_DTYPE_Q4_0};
    for (int i = 0; i < n_tables; i++) {
        tm_kernels k;
        tm_err err = {0};
        TM_CHECK_OK(tm_kernels_init(&k, &cpu, names[i], &err), &err);
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            for (int window = 0; window <= 45; window += 45) /* 45: from inside block 1 */
                check_attention_runs(&k, types[t], window);
    }
}

int main(void)
{
    TM_RUN(test_rms_norm);
    TM_RUN(test_rope_position_zero_is_identity_and_pairs_differ_by_kind);
    TM_RUN(test_rope_factors_divide_the_angle);
    TM_RUN(test_attention_is_causal_and_grouped);
    TM_RUN(test_attention_runs_over_consecutive_blocks_and_jumps);
    return tm_test_result();
}
