/* x86 attention over Q8_0 and Q4_0 cache rows on 256-bit vectors (see tm_attn_scores_fn),
 * included by x86_attn.h. A row of one kv head is dim / 32 blocks, each a half-float scale and
 * 32 codes; the codes become floats as they are read and the block's scale multiplies them once
 * per 16 values (it was loaded, converted and broadcast once per 8).
 *
 * Scores take 2 to 8 keys per step (8 / H for H query heads, at least 2), one accumulator per
 * (key, head): up to eight multiply-add chains in flight. One key at a time had H, whose
 * latency bounded them (4 cycles a step, 8 steps for a 64-wide head), and each (key, head) sum
 * took its own reduction across lanes; a step's K x H sums now share one tree of horizontal
 * adds. One core of an AMD Zen 3, 4096 keys of 64 dimensions (in L2), ns per key, least of ten
 * alternating runs, before -> after: Q8_0 scores 16.9 -> 10.8 with 4 heads (11.6 -> 5.2 with
 * one, 50.1 -> 20.0 with seven), values 9.8 -> 8.2; Q4_0 scores 21.5 -> 13.7, values 13.8 ->
 * 11.2. */
#ifndef TM_KERNELS_X86_ATTN_BLOCKS_H
#define TM_KERNELS_X86_ATTN_BLOCKS_H

#include <immintrin.h>
#include <string.h>

static inline float x86_block_scale(const uint8_t *blk)
{
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    return _cvtsh_ss(h);
}

static inline __m256 x86_i8_to_ps(__m128i b)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
}

/* Values 16 half .. 16 half + 15 of a block times `scale` (the block's own) as two vectors:
 * Q8_0's codes as stored, 8 at a time (the loads fold into the widening); Q4_0's low nibbles
 * for half 0, the high ones for half 1, minus 8, from one load. */
static inline void x86_q8_0_half(const uint8_t *blk, int half, __m256 scale, __m256 out[2])
{
    for (int i = 0; i < 2; i++)
        out[i] = _mm256_mul_ps(
            x86_i8_to_ps(_mm_loadl_epi64((const __m128i *)(blk + 2 + 16 * half + 8 * i))), scale);
}

static inline void x86_q4_0_half(const uint8_t *blk, int half, __m256 scale, __m256 out[2])
{
    __m128i b = _mm_loadu_si128((const __m128i *)(blk + 2));
    if (half)
        b = _mm_srli_epi16(b, 4);
    b = _mm_sub_epi8(_mm_and_si128(b, _mm_set1_epi8(0x0F)), _mm_set1_epi8(8));
    out[0] = _mm256_mul_ps(x86_i8_to_ps(b), scale);
    out[1] = _mm256_mul_ps(x86_i8_to_ps(_mm_srli_si128(b, 8)), scale);
}

/* The 8 lane sums of v[0..n) (n <= 8) into out[0..n). */
static inline void x86_hsum8_many(const __m256 *v, int n, float *out)
{
    __m256 z = _mm256_setzero_ps(), a[8];
    for (int i = 0; i < 8; i++)
        a[i] = i < n ? v[i] : z;
    __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    /* u0's lanes: the low and high halves of a[0..3]'s sums; u1's of a[4..7]'s */
    __m256 s =
        _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
    float all[8];
    _mm256_storeu_ps(all, s);
    for (int i = 0; i < n; i++)
        out[i] = all[i];
}

/* Scores of K keys (rows at row0, row_bytes apart) against H query heads. */
#define X86_BLOCKS_SCORES_STEP(name, HALF, block_bytes)                                          \
    static inline __attribute__((always_inline)) void name##_step(                               \
        const int K, const int H, int64_t dim, const uint8_t *row0, int64_t row_bytes,           \
        const float *q, int64_t q_stride, float *s, int64_t s_stride)                            \
    {                                                                                            \
        __m256 acc[8];                                                                           \
        for (int i = 0; i < K * H; i++)                                                          \
            acc[i] = _mm256_setzero_ps();                                                        \
        for (int64_t b = 0; b < dim / 32; b++)                                                   \
            for (int k = 0; k < K; k++) {                                                        \
                const uint8_t *blk = row0 + k * row_bytes + b * (block_bytes);                   \
                __m256 kv[4], scale = _mm256_set1_ps(x86_block_scale(blk));                      \
                HALF(blk, 0, scale, kv);                                                         \
                HALF(blk, 1, scale, kv + 2);                                                     \
                for (int v = 0; v < 4; v++)                                                      \
                    for (int h = 0; h < H; h++)                                                  \
                        acc[k * H + h] = _mm256_fmadd_ps(                                        \
                            kv[v], _mm256_loadu_ps(q + h * q_stride + 32 * b + 8 * v),           \
                            acc[k * H + h]);                                                     \
            }                                                                                    \
        float sum[8];                                                                            \
        x86_hsum8_many(acc, K *H, sum);                                                          \
        for (int k = 0; k < K; k++)                                                              \
            for (int h = 0; h < H; h++)                                                          \
                s[h * s_stride + k] = sum[k * H + h];                                            \
    }                                                                                            \
                                                                                                 \
    static inline __attribute__((always_inline)) void name##_heads(                              \
        const int H, int64_t n, int64_t dim, const uint8_t *k, int64_t k_stride, const float *q, \
        int64_t q_stride, float *s, int64_t s_stride)                                            \
    {                                                                                            \
        const int K = H >= 4 ? 2 : 8 / H;                                                        \
        const int64_t row_bytes = k_stride / 32 * (block_bytes);                                 \
        int64_t j = 0;                                                                           \
        for (; j + K <= n; j += K)                                                               \
            name##_step(K, H, dim, k + j * row_bytes, row_bytes, q, q_stride, s + j, s_stride);  \
        for (; j < n; j++)                                                                       \
            name##_step(1, H, dim, k + j * row_bytes, row_bytes, q, q_stride, s + j, s_stride);  \
    }                                                                                            \
                                                                                                 \
    X86_ATTN_GROUPS(name, name##_heads)

X86_BLOCKS_SCORES_STEP(x86_attn_scores_q8_0_8, x86_q8_0_half, 34)
X86_BLOCKS_SCORES_STEP(x86_attn_scores_q4_0_8, x86_q4_0_half, 18)

/* Values: the sums of H heads over 16 dimensions (half of a block) stay in registers across
 * all n rows, as X86_ATTN_VALUES does; each row's 16 values converted once for the H heads
 * with one scale. */
#define X86_BLOCKS_VALUES(name, HALF, block_bytes)                                                \
    static inline __attribute__((always_inline)) void name##_heads(                               \
        const int H, int64_t n, int64_t dim, const uint8_t *vv, int64_t v_stride, const float *w, \
        int64_t w_stride, float *out, int64_t o_stride)                                           \
    {                                                                                             \
        const int64_t row_bytes = v_stride / 32 * (block_bytes);                                  \
        for (int64_t d0 = 0; d0 < dim; d0 += 16) {                                                \
            const uint8_t *blk0 = vv + d0 / 32 * (block_bytes);                                   \
            const int half = (int)(d0 % 32 / 16);                                                 \
            __m256 acc[4][2];                                                                     \
            for (int h = 0; h < H; h++)                                                           \
                acc[h][0] = acc[h][1] = _mm256_setzero_ps();                                      \
            for (int64_t j = 0; j < n; j++) {                                                     \
                const uint8_t *blk = blk0 + j * row_bytes;                                        \
                __m256 scale = _mm256_set1_ps(x86_block_scale(blk));                              \
                __m256 x[2];                                                                      \
                HALF(blk, half, scale, x);                                                        \
                for (int h = 0; h < H; h++) {                                                     \
                    __m256 wj = _mm256_set1_ps(w[h * w_stride + j]);                              \
                    acc[h][0] = _mm256_fmadd_ps(wj, x[0], acc[h][0]);                             \
                    acc[h][1] = _mm256_fmadd_ps(wj, x[1], acc[h][1]);                             \
                }                                                                                 \
            }                                                                                     \
            for (int h = 0; h < H; h++)                                                           \
                for (int c = 0; c < 2; c++) {                                                     \
                    float *o = out + h * o_stride + d0 + 8 * c;                                   \
                    _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc[h][c]));            \
                }                                                                                 \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    X86_ATTN_GROUPS(name, name##_heads)

X86_BLOCKS_VALUES(x86_attn_values_q8_0_8, x86_q8_0_half, 34)
X86_BLOCKS_VALUES(x86_attn_values_q4_0_8, x86_q4_0_half, 18)

#endif
