/* x86 attention over Q8_0 and Q4_0 cache rows on 256-bit vectors (see tm_attn_scores_fn),
 * included by x86_attn.h. A row of one kv head is dim / 32 blocks, each a half-float scale and
 * 32 codes.
 *
 * Scores multiply integers: the query heads become 16-bit integers once per call (one scale
 * per head, its largest magnitude at 32767), the codes 16-bit by one widening per 16, and
 * vpmaddwd gives pairs of products in 32 bits, exactly. Steps of 2 to 8 keys (8 / H for H
 * heads, at least 2) keep one sum per (key, head); per block the step's K x H sums share one
 * tree of horizontal adds, and the keys' and heads' scales apply to the 8 lanes at once. The
 * rounding of the query, a relative 1.5e-5 of its largest element, is far below the cache's
 * own: test_kv_types' mean KL divergences against F16 moved by at most 1 in their third digit
 * (Q8_0 caches 1.97e-5, 2.25e-5, 2.81e-5 -> 1.98e-5, 2.25e-5, 2.80e-5). Before, each key was scored
 * alone in float, its codes converted and scaled 8 at a time: four heads kept four multiply-add
 * chains, whose latency bounded them, and every (key, head) took its own reduction across lanes.
 *
 * Values stay in float: a row's 16 values are converted once for all H heads and scaled once
 * (the scale was loaded, converted and broadcast once per 8 values).
 *
 * One core of an AMD Zen 3, 4096 keys of 64 dimensions (in L2) in calls of 32 keys as the
 * cache's blocks give them, ns per key, least of twelve alternating runs, before -> after:
 * Q8_0 with 4 heads, scores 17.3 -> 9.5, values 10.3 -> 8.8 (one head 11.9 -> 3.3, seven
 * 50.3 -> 17.0); Q4_0 with 4 heads, scores 21.8 -> 11.8, values 14.6 -> 11.7. (Scored in
 * float, two keys a step, the scores took 11.3 and 14.2.) */
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

/* A block's 32 codes as 16-bit integers: Q8_0's as stored, Q4_0's nibbles minus 8 (the low
 * ones are values 0-15, the high ones 16-31). */
static inline void x86_q8_0_i16(const uint8_t *blk, __m256i c[2])
{
    c[0] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 2)));
    c[1] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 18)));
}

static inline void x86_q4_0_i16(const uint8_t *blk, __m256i c[2])
{
    const __m128i low = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    __m128i b = _mm_loadu_si128((const __m128i *)(blk + 2));
    c[0] = _mm256_cvtepi8_epi16(_mm_sub_epi8(_mm_and_si128(b, low), eight));
    c[1] = _mm256_cvtepi8_epi16(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(b, 4), low), eight));
}

/* The 8 lane sums of v[0..n) (n <= 8) as lanes 0..n-1 of one vector. */
static inline __m256i x86_hsum8_many_epi32(const __m256i *v, int n)
{
    __m256i z = _mm256_setzero_si256(), a[8];
    for (int i = 0; i < 8; i++)
        a[i] = i < n ? v[i] : z;
    __m256i t0 = _mm256_hadd_epi32(a[0], a[1]), t1 = _mm256_hadd_epi32(a[2], a[3]);
    __m256i t2 = _mm256_hadd_epi32(a[4], a[5]), t3 = _mm256_hadd_epi32(a[6], a[7]);
    __m256i u0 = _mm256_hadd_epi32(t0, t1), u1 = _mm256_hadd_epi32(t2, t3);
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                            _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* Query heads as 16-bit integers, q16[h dim + i], each head's largest magnitude mapped to 32767
 * (a relative error under 2e-5 of it, against the cache's own 8 or 4 bits), and the heads'
 * scales in the lanes of a step of K keys by H heads (lane k H + h; the lanes past K H zero).
 * Done once per call, which is per block of the cache (often 32 keys), so one scale per head
 * and a vector maximum (per-block scales and a scalar maximum ran 3% slower in calls of 32). */
#define X86_Q16_DIM_MAX 512
static inline __m256 x86_q16_heads(const int H, const int K, int64_t dim, const float *q,
                                   int64_t q_stride, int16_t *q16)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    float scale[8] = {0};
    for (int h = 0; h < H; h++) {
        const float *x = q + h * q_stride;
        __m256 m = _mm256_setzero_ps();
        for (int64_t d = 0; d < dim; d += 8)
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + d)));
        m = _mm256_max_ps(m, _mm256_permute2f128_ps(m, m, 1));
        m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, 0x4E));
        m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, 0xB1)); /* every lane the maximum */
        float amax = _mm256_cvtss_f32(m);
        __m256 inv = _mm256_set1_ps(amax > 0 ? 32767.0f / amax : 0.0f);
        for (int64_t d = 0; d < dim; d += 16) {
            __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + d), inv));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + d + 8), inv));
            /* packs works within lanes: put the four quarters back in order */
            _mm256_storeu_si256((__m256i *)(q16 + h * dim + d),
                                _mm256_permute4x64_epi64(_mm256_packs_epi32(i0, i1), 0xD8));
        }
        for (int k = 0; k < K; k++)
            scale[k * H + h] = amax / 32767.0f;
    }
    return _mm256_loadu_ps(scale);
}

/* Scores of K keys (rows at row0, row_bytes apart) against H query heads in 16-bit integers:
 * per block, two vpmaddwd per key and head, the K x H sums reduced together, then scaled by
 * the keys' block scales and the heads' (sq) into float. dk_lane: lane k H + h's key, k. */
#define X86_BLOCKS_SCORES_STEP(name, I16, block_bytes)                                             \
    static inline __attribute__((always_inline)) void name##_step(                                 \
        const int K, const int H, int64_t nb, const uint8_t *row0, int64_t row_bytes,              \
        const int16_t *q16, __m256 sq, __m256i dk_lane, float *s, int64_t s_stride)                \
    {                                                                                              \
        __m256 acc = _mm256_setzero_ps();                                                          \
        for (int64_t b = 0; b < nb; b++) {                                                         \
            __m256i sum[8];                                                                        \
            uint16_t dk16[8] = {0};                                                                \
            for (int k = 0; k < K; k++) {                                                          \
                const uint8_t *blk = row0 + k * row_bytes + b * (block_bytes);                     \
                memcpy(&dk16[k], blk, sizeof dk16[k]);                                             \
                __m256i c[2];                                                                      \
                I16(blk, c);                                                                       \
                for (int h = 0; h < H; h++) {                                                      \
                    const int16_t *qh = q16 + (h * nb + b) * 32; /* h dim + 32 b */                \
                    sum[k * H + h] = _mm256_add_epi32(                                             \
                        _mm256_madd_epi16(c[0], _mm256_loadu_si256((const __m256i *)qh)),          \
                        _mm256_madd_epi16(c[1], _mm256_loadu_si256((const __m256i *)(qh + 16))));  \
                }                                                                                  \
            }                                                                                      \
            __m128i dk8 =                                                                          \
                _mm_setr_epi16((short)dk16[0], (short)dk16[1], (short)dk16[2], (short)dk16[3],     \
                               (short)dk16[4], (short)dk16[5], (short)dk16[6], (short)dk16[7]);    \
            __m256 dk = _mm256_permutevar8x32_ps(_mm256_cvtph_ps(dk8), dk_lane);                   \
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(x86_hsum8_many_epi32(sum, K * H)),            \
                                  _mm256_mul_ps(dk, sq), acc);                                     \
        }                                                                                          \
        float all[8];                                                                              \
        _mm256_storeu_ps(all, acc);                                                                \
        for (int k = 0; k < K; k++)                                                                \
            for (int h = 0; h < H; h++)                                                            \
                s[h * s_stride + k] = all[k * H + h];                                              \
    }                                                                                              \
                                                                                                   \
    static inline __attribute__((always_inline)) void name##_heads(                                \
        const int H, int64_t n, int64_t dim, const uint8_t *k, int64_t k_stride, const float *q,   \
        int64_t q_stride, float *s, int64_t s_stride)                                              \
    {                                                                                              \
        if (dim > X86_Q16_DIM_MAX) {                                                               \
            tm_attn_scores_ref(block_bytes == 34 ? TM_DTYPE_Q8_0 : TM_DTYPE_Q4_0)(                 \
                n, dim, k, k_stride, q, q_stride, H, s, s_stride);                                 \
            return;                                                                                \
        }                                                                                          \
        const int K = H >= 4 ? 2 : 8 / H;                                                          \
        const int64_t row_bytes = k_stride / 32 * (block_bytes), nb = dim / 32;                    \
        int16_t q16[4 * X86_Q16_DIM_MAX];                                                          \
        /* lanes k H + h; a single key's are the first H */                                        \
        __m256 sq = x86_q16_heads(H, K, dim, q, q_stride, q16);                                    \
        __m256i lane_k =                                                                           \
            _mm256_setr_epi32(0 / H, 1 / H, 2 / H, 3 / H, 4 / H, 5 / H, 6 / H, 7 / H);             \
        int64_t j = 0;                                                                             \
        for (; j + K <= n; j += K)                                                                 \
            name##_step(K, H, nb, k + j * row_bytes, row_bytes, q16, sq, lane_k, s + j, s_stride); \
        for (; j < n; j++)                                                                         \
            name##_step(1, H, nb, k + j * row_bytes, row_bytes, q16, sq, lane_k, s + j, s_stride); \
    }                                                                                              \
                                                                                                   \
    X86_ATTN_GROUPS(name, name##_heads)

X86_BLOCKS_SCORES_STEP(x86_attn_scores_q8_0_8, x86_q8_0_i16, 34)
X86_BLOCKS_SCORES_STEP(x86_attn_scores_q4_0_8, x86_q4_0_i16, 18)

/* Values: X86_ATTN_VALUES (x86_attn.h) over 16 values of a block at a time (a row's widths are
 * whole blocks, so C is 2), converted once for the H heads with one scale. */
#define LOADC_BLOCKS(HALF, block_bytes, row, d0, x)                                    \
    do {                                                                               \
        const uint8_t *blk_ = (row) + (d0) / 32 * (block_bytes);                       \
        HALF(blk_, (int)((d0) % 32 / 16), _mm256_set1_ps(x86_block_scale(blk_)), (x)); \
    } while (0)
#define LOADC_Q8_0(row, d0, C, x) LOADC_BLOCKS(x86_q8_0_half, 34, row, d0, x)
#define LOADC_Q4_0(row, d0, C, x) LOADC_BLOCKS(x86_q4_0_half, 18, row, d0, x)

X86_ATTN_VALUES(x86_attn_values_q8_0_8, uint8_t, ROW_Q8_0, LOADC_Q8_0)
X86_ATTN_VALUES(x86_attn_values_q4_0_8, uint8_t, ROW_Q4_0, LOADC_Q4_0)

#endif
