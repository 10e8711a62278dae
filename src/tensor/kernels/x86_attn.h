/* x86 attention kernels over F32, F16, Q8_0 and Q4_0 KV cache rows (see tm_attn_scores_fn), on
 * 256-bit vectors, included by x86_dots.h (so compiled for AVX2 and for AVX-512). A key or value
 * row is loaded (and for F16 converted) once for up to four query heads of its group: grouped-
 * query attention reads the cache once per kv head, not once per query head. Rows whose
 * width is not a multiple of 8 take the reference. Q8_0 and Q4_0 rows (widths a multiple of
 * 32) are read in place, fewer bytes than F16: on 256-bit vectors by x86_attn_blocks.h (scores
 * in 16-bit integers), on 512-bit ones dequantized 16 values at a time (x512_* below). */
#ifndef TM_KERNELS_X86_ATTN_H
#define TM_KERNELS_X86_ATTN_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline __m256 load8_f16(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The query heads of a group four at a time, each through a kernel whose head count is a
 * constant: heads(H, n, dim, x, x_stride, y, y_stride, o, o_stride), for scores (x keys, y
 * queries, o scores) and values (x values, y weights, o sums) alike. */
#define X86_ATTN_GROUPS(name, heads)                                                          \
    static void name(int64_t n, int64_t dim, const void *k, int64_t k_stride, const float *q, \
                     int64_t q_stride, int n_q, float *s, int64_t s_stride)                   \
    {                                                                                         \
        for (int g = 0; g < n_q; g += 4) {                                                    \
            const float *qg = q + g * q_stride;                                               \
            float *sg = s + g * s_stride;                                                     \
            switch (n_q - g < 4 ? n_q - g : 4) {                                              \
            case 1:                                                                           \
                heads(1, n, dim, k, k_stride, qg, q_stride, sg, s_stride);                    \
                break;                                                                        \
            case 2:                                                                           \
                heads(2, n, dim, k, k_stride, qg, q_stride, sg, s_stride);                    \
                break;                                                                        \
            case 3:                                                                           \
                heads(3, n, dim, k, k_stride, qg, q_stride, sg, s_stride);                    \
                break;                                                                        \
            default:                                                                          \
                heads(4, n, dim, k, k_stride, qg, q_stride, sg, s_stride);                    \
                break;                                                                        \
            }                                                                                 \
        }                                                                                     \
    }

/* One body for both row types: LOAD8(row, d) gives 8 floats of a row. */
#define X86_ATTN_SCORES(name, elem, ROW, LOAD8)                                                    \
    static void name(int64_t n, int64_t dim, const void *k, int64_t k_stride, const float *q,      \
                     int64_t q_stride, int n_q, float *s, int64_t s_stride)                        \
    {                                                                                              \
        const elem *kk = k;                                                                        \
        for (int64_t j = 0; j < n; j++) {                                                          \
            const elem *row = ROW(kk, j, k_stride);                                                \
            int g = 0;                                                                             \
            for (; g + 4 <= n_q; g += 4) {                                                         \
                const float *q0 = q + g * q_stride;                                                \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                        \
                for (int64_t d = 0; d < dim; d += 8) {                                             \
                    __m256 kv = LOAD8(row, d);                                                     \
                    a0 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q0 + d), a0);                         \
                    a1 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q0 + q_stride + d), a1);              \
                    a2 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q0 + 2 * q_stride + d), a2);          \
                    a3 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q0 + 3 * q_stride + d), a3);          \
                }                                                                                  \
                s[g * s_stride + j] = hsum8(a0);                                                   \
                s[(g + 1) * s_stride + j] = hsum8(a1);                                             \
                s[(g + 2) * s_stride + j] = hsum8(a2);                                             \
                s[(g + 3) * s_stride + j] = hsum8(a3);                                             \
            }                                                                                      \
            for (; g < n_q; g++) {                                                                 \
                __m256 a0 = _mm256_setzero_ps();                                                   \
                for (int64_t d = 0; d < dim; d += 8)                                               \
                    a0 =                                                                           \
                        _mm256_fmadd_ps(LOAD8(row, d), _mm256_loadu_ps(q + g * q_stride + d), a0); \
                s[g * s_stride + j] = hsum8(a0);                                                   \
            }                                                                                      \
        }                                                                                          \
    }

/* Values: the sums of H query heads (H <= 4, a constant once inlined) over C vectors of 8
 * dimensions (C = 1 or 2) stay in registers across all n rows, each row's vectors loaded (and
 * converted) once for the H heads, and are added to out once at the end. (Added to out row by
 * row, every multiply-add took a load and a store of its sum, and the store port bounded them:
 * the llama-1b-shape Q4_0 file's pp2048 spent 15% of its time here on an AMD Zen 3.)
 * LOADC(row, d0, C, x) gives x[0..C) the row's values from d0: LOAD8S over a LOAD8 for plain
 * rows, a block's half for Q8_0 and Q4_0 (x86_attn_blocks.h). */
#define X86_ATTN_VALUES(name, elem, ROW, LOADC)                                                \
    static inline __attribute__((always_inline)) void name##_run(                              \
        const int H, const int C, int64_t n, const elem *vv, int64_t v_stride, const float *w, \
        int64_t w_stride, int64_t d0, float *out, int64_t o_stride)                            \
    {                                                                                          \
        __m256 acc[4][2];                                                                      \
        for (int h = 0; h < H; h++)                                                            \
            for (int c = 0; c < C; c++)                                                        \
                acc[h][c] = _mm256_setzero_ps();                                               \
        for (int64_t j = 0; j < n; j++) {                                                      \
            const elem *row = ROW(vv, j, v_stride);                                            \
            __m256 x[2];                                                                       \
            LOADC(row, d0, C, x);                                                              \
            for (int h = 0; h < H; h++) {                                                      \
                __m256 wj = _mm256_set1_ps(w[h * w_stride + j]);                               \
                for (int c = 0; c < C; c++)                                                    \
                    acc[h][c] = _mm256_fmadd_ps(wj, x[c], acc[h][c]);                          \
            }                                                                                  \
        }                                                                                      \
        for (int h = 0; h < H; h++)                                                            \
            for (int c = 0; c < C; c++) {                                                      \
                float *o = out + h * o_stride + d0 + 8 * c;                                    \
                _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc[h][c]));             \
            }                                                                                  \
    }                                                                                          \
                                                                                               \
    static inline __attribute__((always_inline)) void name##_heads(                            \
        const int H, int64_t n, int64_t dim, const elem *vv, int64_t v_stride, const float *w, \
        int64_t w_stride, float *out, int64_t o_stride)                                        \
    {                                                                                          \
        int64_t d0 = 0;                                                                        \
        for (; d0 + 16 <= dim; d0 += 16)                                                       \
            name##_run(H, 2, n, vv, v_stride, w, w_stride, d0, out, o_stride);                 \
        if (d0 < dim)                                                                          \
            name##_run(H, 1, n, vv, v_stride, w, w_stride, d0, out, o_stride);                 \
    }                                                                                          \
                                                                                               \
    X86_ATTN_GROUPS(name, name##_heads)

/* Row j of a cache: plain types by element, Q8_0 and Q4_0 by their blocks of 32 (34 and 18
 * bytes). */
#define ROW_PLAIN(base, j, stride) ((base) + (j) * (stride))
#define ROW_Q8_0(base, j, stride)  ((base) + (j) * ((stride) / 32) * 34)
#define ROW_Q4_0(base, j, stride)  ((base) + (j) * ((stride) / 32) * 18)
#define LOAD8_F32(row, d)          _mm256_loadu_ps((row) + (d))
#define LOAD8_F16(row, d)          load8_f16((row) + (d))
#define LOAD8S(LOAD8, row, d0, C, x)               \
    do {                                           \
        for (int c_ = 0; c_ < (C); c_++)           \
            (x)[c_] = LOAD8((row), (d0) + 8 * c_); \
    } while (0)
#define LOADC_F32(row, d0, C, x) LOAD8S(LOAD8_F32, row, d0, C, x)
#define LOADC_F16(row, d0, C, x) LOAD8S(LOAD8_F16, row, d0, C, x)

X86_ATTN_SCORES(x86_attn_scores_f32_8, float, ROW_PLAIN, LOAD8_F32)
X86_ATTN_SCORES(x86_attn_scores_f16_8, uint16_t, ROW_PLAIN, LOAD8_F16)
X86_ATTN_VALUES(x86_attn_values_f32_8, float, ROW_PLAIN, LOADC_F32)
X86_ATTN_VALUES(x86_attn_values_f16_8, uint16_t, ROW_PLAIN, LOADC_F16)

/* Q8_0 and Q4_0 rows: their own kernels, a block at a time */
#include "x86_attn_blocks.h"

/* Scores over F16 keys laid by dimension (tm_attn_scores_f16_by_dim_ref): H query heads by P
 * vectors of 8 keys per step, each query element broadcast against the P vectors of one
 * dimension, so no sum crosses lanes. H * P = 8 accumulators keep enough multiply-adds in
 * flight to cover their latency. H and P are constants once inlined. */
static inline __attribute__((always_inline)) void
x86_by_dim_step(const int H, const int P, int64_t dim, const uint16_t *k, int64_t k_stride,
                const float *q, int64_t q_stride, float *s, int64_t s_stride)
{
    __m256 acc[8];
#pragma GCC unroll 8
    for (int i = 0; i < H * P; i++)
        acc[i] = _mm256_setzero_ps();
    for (int64_t d = 0; d < dim; d++) {
        __m256 kv[8];
#pragma GCC unroll 8
        for (int p = 0; p < P; p++)
            kv[p] = load8_f16(k + d * k_stride + 8 * p);
#pragma GCC unroll 4
        for (int h = 0; h < H; h++) {
            __m256 qv = _mm256_set1_ps(q[h * q_stride + d]);
#pragma GCC unroll 8
            for (int p = 0; p < P; p++)
                acc[h * P + p] = _mm256_fmadd_ps(kv[p], qv, acc[h * P + p]);
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < H; h++)
#pragma GCC unroll 8
        for (int p = 0; p < P; p++)
            _mm256_storeu_ps(s + h * s_stride + 8 * p, acc[h * P + p]);
}

/* The keys of one group of H heads: steps of 8 P keys (P = 8 / H: eight accumulators), then
 * of 8, then the last n % 8: each dimension's keys copied into 8 lanes padded with zeros, one
 * step into scratch scores, the first n % 8 kept. (They took the scalar reference, about half
 * a percent of a decode step at a few hundred tokens of context, Q4_K_M on 2 threads.) */
static inline __attribute__((always_inline)) void
x86_by_dim_heads(const int H, int64_t n, int64_t dim, const uint16_t *k, int64_t k_stride,
                 const float *q, int64_t q_stride, float *s, int64_t s_stride)
{
    const int P = 8 / H;
    int64_t j = 0;
    for (; j + 8 * P <= n; j += 8 * P)
        x86_by_dim_step(H, P, dim, k + j, k_stride, q, q_stride, s + j, s_stride);
    for (; j + 8 <= n; j += 8)
        x86_by_dim_step(H, 1, dim, k + j, k_stride, q, q_stride, s + j, s_stride);
    if (j == n)
        return;
    if (dim > TM_BY_DIM_TAIL_DIM) {
        tm_attn_scores_f16_by_dim_ref(n - j, dim, k + j, k_stride, q, q_stride, H, s + j, s_stride);
        return;
    }
    uint16_t keys[TM_BY_DIM_TAIL_DIM * 8];
    float scores[4 * 8];
    tm_by_dim_tail_keys(k + j, k_stride, n - j, dim, 8, keys);
    x86_by_dim_step(H, 1, dim, keys, 8, q, q_stride, scores, 8);
    tm_by_dim_tail_scores(scores, 8, H, n - j, s + j, s_stride);
}

#if defined(__AVX512F__)
/* AVX-512: four keys against up to four query heads per step, sixteen dot products reduced
 * together by a transpose (45 instructions for 16 sums instead of 16 full reductions), and
 * value sums held in sixteen registers (four heads x 64 dims) across all keys. Heads past
 * the group's end ride along with head 0's query or weights and are not stored. */
static inline __m512 load16_f16(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

/* r[i] = sum of the lanes of v[i], for 16 vectors. */
static inline __m512 reduce16(const __m512 v[16])
{
    __m512 a[8], b[4];
    for (int i = 0; i < 8; i++)
        a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                             _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; i++)
        b[i] = _mm512_add_ps(_mm512_shuffle_ps(a[2 * i], a[2 * i + 1], 0x44),
                             _mm512_shuffle_ps(a[2 * i], a[2 * i + 1], 0xEE));
    __m512 d01 = _mm512_add_ps(_mm512_shuffle_f32x4(b[0], b[1], 0x88),
                               _mm512_shuffle_f32x4(b[0], b[1], 0xDD));
    __m512 d23 = _mm512_add_ps(_mm512_shuffle_f32x4(b[2], b[3], 0x88),
                               _mm512_shuffle_f32x4(b[2], b[3], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(d01, d23, 0x88),
                         _mm512_shuffle_f32x4(d01, d23, 0xDD));
}

#define X512_ATTN_SCORES(name, elem, ROW, LOAD16)                                               \
    static void name(int64_t n, int64_t dim, const void *k, int64_t k_stride, const float *q,   \
                     int64_t q_stride, int n_q, float *s, int64_t s_stride)                     \
    {                                                                                           \
        const elem *kk = k;                                                                     \
        for (int g0 = 0; g0 < n_q; g0 += 4) {                                                   \
            int ng = n_q - g0 < 4 ? n_q - g0 : 4;                                               \
            const float *qh[4];                                                                 \
            for (int h = 0; h < 4; h++)                                                         \
                qh[h] = q + (int64_t)(g0 + (h < ng ? h : 0)) * q_stride;                        \
            int64_t j = 0;                                                                      \
            for (; j + 4 <= n; j += 4) {                                                        \
                __m512 acc[16];                                                                 \
                for (int i = 0; i < 16; i++)                                                    \
                    acc[i] = _mm512_setzero_ps();                                               \
                for (int64_t d = 0; d < dim; d += 16) {                                         \
                    __m512 k0 = LOAD16(ROW(kk, j, k_stride), d);                                \
                    __m512 k1 = LOAD16(ROW(kk, j + 1, k_stride), d);                            \
                    __m512 k2 = LOAD16(ROW(kk, j + 2, k_stride), d);                            \
                    __m512 k3 = LOAD16(ROW(kk, j + 3, k_stride), d);                            \
                    for (int h = 0; h < 4; h++) {                                               \
                        __m512 qv = _mm512_loadu_ps(qh[h] + d);                                 \
                        acc[4 * h] = _mm512_fmadd_ps(k0, qv, acc[4 * h]);                       \
                        acc[4 * h + 1] = _mm512_fmadd_ps(k1, qv, acc[4 * h + 1]);               \
                        acc[4 * h + 2] = _mm512_fmadd_ps(k2, qv, acc[4 * h + 2]);               \
                        acc[4 * h + 3] = _mm512_fmadd_ps(k3, qv, acc[4 * h + 3]);               \
                    }                                                                           \
                }                                                                               \
                float r[16];                                                                    \
                _mm512_storeu_ps(r, reduce16(acc));                                             \
                for (int h = 0; h < ng; h++)                                                    \
                    memcpy(s + (int64_t)(g0 + h) * s_stride + j, r + 4 * h, 4 * sizeof(float)); \
            }                                                                                   \
            for (; j < n; j++)                                                                  \
                for (int h = 0; h < ng; h++) {                                                  \
                    __m512 a0 = _mm512_setzero_ps();                                            \
                    for (int64_t d = 0; d < dim; d += 16)                                       \
                        a0 = _mm512_fmadd_ps(LOAD16(ROW(kk, j, k_stride), d),                   \
                                             _mm512_loadu_ps(qh[h] + d), a0);                   \
                    s[(int64_t)(g0 + h) * s_stride + j] = _mm512_reduce_add_ps(a0);             \
                }                                                                               \
        }                                                                                       \
    }

#define X512_ATTN_VALUES(name, elem, ROW, LOAD16)                                               \
    static void name(int64_t n, int64_t dim, const void *v, int64_t v_stride, const float *w,   \
                     int64_t w_stride, int n_q, float *out, int64_t o_stride)                   \
    {                                                                                           \
        const elem *vv = v;                                                                     \
        for (int g0 = 0; g0 < n_q; g0 += 4) {                                                   \
            int ng = n_q - g0 < 4 ? n_q - g0 : 4;                                               \
            const float *wh[4];                                                                 \
            for (int h = 0; h < 4; h++)                                                         \
                wh[h] = w + (int64_t)(g0 + (h < ng ? h : 0)) * w_stride;                        \
            for (int64_t d0 = 0; d0 < dim; d0 += 64) {                                          \
                __m512 acc[16];                                                                 \
                for (int i = 0; i < 16; i++)                                                    \
                    acc[i] = _mm512_setzero_ps();                                               \
                for (int64_t j = 0; j < n; j++) {                                               \
                    const elem *row = ROW(vv, j, v_stride);                                     \
                    __m512 x0 = LOAD16(row, d0), x1 = LOAD16(row, d0 + 16);                     \
                    __m512 x2 = LOAD16(row, d0 + 32), x3 = LOAD16(row, d0 + 48);                \
                    for (int h = 0; h < 4; h++) {                                               \
                        __m512 wj = _mm512_set1_ps(wh[h][j]);                                   \
                        acc[4 * h] = _mm512_fmadd_ps(wj, x0, acc[4 * h]);                       \
                        acc[4 * h + 1] = _mm512_fmadd_ps(wj, x1, acc[4 * h + 1]);               \
                        acc[4 * h + 2] = _mm512_fmadd_ps(wj, x2, acc[4 * h + 2]);               \
                        acc[4 * h + 3] = _mm512_fmadd_ps(wj, x3, acc[4 * h + 3]);               \
                    }                                                                           \
                }                                                                               \
                for (int h = 0; h < ng; h++)                                                    \
                    for (int c = 0; c < 4; c++) {                                               \
                        float *o = out + (int64_t)(g0 + h) * o_stride + d0 + 16 * c;            \
                        _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), acc[4 * h + c])); \
                    }                                                                           \
            }                                                                                   \
        }                                                                                       \
    }

static inline __m512 load16_q8_0(const uint8_t *row, int64_t d)
{
    const uint8_t *blk = row + d / 32 * 34;
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    __m512i c = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 2 + d % 32)));
    return _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(h)), _mm512_cvtepi32_ps(c));
}

#define LOAD16_F32(row, d)  _mm512_loadu_ps((row) + (d))
#define LOAD16_F16(row, d)  load16_f16((row) + (d))
#define LOAD16_Q8_0(row, d) load16_q8_0((row), (d))

static inline __m512 load16_q4_0(const uint8_t *row, int64_t d)
{
    const uint8_t *blk = row + d / 32 * 18;
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    __m128i b = _mm_loadu_si128((const __m128i *)(blk + 2));
    if (d % 32 >= 16)
        b = _mm_srli_epi16(b, 4);
    b = _mm_sub_epi8(_mm_and_si128(b, _mm_set1_epi8(0x0F)), _mm_set1_epi8(8));
    return _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(h)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)));
}

#define LOAD16_Q4_0(row, d) load16_q4_0((row), (d))

X512_ATTN_SCORES(x512_x86_attn_scores_f32, float, ROW_PLAIN, LOAD16_F32)
X512_ATTN_SCORES(x512_x86_attn_scores_f16, uint16_t, ROW_PLAIN, LOAD16_F16)
X512_ATTN_SCORES(x512_x86_attn_scores_q8_0, uint8_t, ROW_Q8_0, LOAD16_Q8_0)
X512_ATTN_VALUES(x512_x86_attn_values_f32, float, ROW_PLAIN, LOAD16_F32)
X512_ATTN_VALUES(x512_x86_attn_values_f16, uint16_t, ROW_PLAIN, LOAD16_F16)
X512_ATTN_VALUES(x512_x86_attn_values_q8_0, uint8_t, ROW_Q8_0, LOAD16_Q8_0)
X512_ATTN_SCORES(x512_x86_attn_scores_q4_0, uint8_t, ROW_Q4_0, LOAD16_Q4_0)
X512_ATTN_VALUES(x512_x86_attn_values_q4_0, uint8_t, ROW_Q4_0, LOAD16_Q4_0)

/* Scores over F16 keys laid by dimension, as x86_by_dim_step on 16 lanes; the last vector of
 * a step loads and stores only the keys of mask `last`, so any n is handled in the vectors. */
static inline __attribute__((always_inline)) void
x512_by_dim_step(const int H, const int P, int64_t dim, const uint16_t *k, int64_t k_stride,
                 const float *q, int64_t q_stride, float *s, int64_t s_stride, __mmask16 last)
{
    __m512 acc[8];
#pragma GCC unroll 8
    for (int i = 0; i < H * P; i++)
        acc[i] = _mm512_setzero_ps();
    for (int64_t d = 0; d < dim; d++) {
        __m512 kv[8];
#pragma GCC unroll 8
        for (int p = 0; p < P - 1; p++)
            kv[p] = load16_f16(k + d * k_stride + 16 * p);
        kv[P - 1] =
            _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(last, k + d * k_stride + 16 * (P - 1)));
#pragma GCC unroll 4
        for (int h = 0; h < H; h++) {
            __m512 qv = _mm512_set1_ps(q[h * q_stride + d]);
#pragma GCC unroll 8
            for (int p = 0; p < P; p++)
                acc[h * P + p] = _mm512_fmadd_ps(kv[p], qv, acc[h * P + p]);
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < H; h++) {
#pragma GCC unroll 8
        for (int p = 0; p < P - 1; p++)
            _mm512_storeu_ps(s + h * s_stride + 16 * p, acc[h * P + p]);
        _mm512_mask_storeu_ps(s + h * s_stride + 16 * (P - 1), last, acc[h * P + P - 1]);
    }
}

/* Steps of 16 P keys (P = 8 / H: eight accumulators), then of 16, the last one masked. */
static inline __attribute__((always_inline)) void
x512_by_dim_heads(const int H, int64_t n, int64_t dim, const uint16_t *k, int64_t k_stride,
                  const float *q, int64_t q_stride, float *s, int64_t s_stride)
{
    const int P = 8 / H;
    int64_t j = 0;
    for (; j + 16 * P <= n; j += 16 * P)
        x512_by_dim_step(H, P, dim, k + j, k_stride, q, q_stride, s + j, s_stride, 0xFFFF);
    for (; j < n; j += 16) {
        __mmask16 last = n - j >= 16 ? 0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        x512_by_dim_step(H, 1, dim, k + j, k_stride, q, q_stride, s + j, s_stride, last);
    }
}

#endif

#if defined(__AVX512F__)
#define X512_BLOCK_scores 16
#define X512_BLOCK_values 64
/* AVX-512 builds take the wide kernels where the row width allows */
#define X512_TRY(name, kind)                                             \
    if (dim % X512_BLOCK_##kind == 0) {                                  \
        x512_##name(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride); \
        return;                                                          \
    }
#else
#define X512_TRY(name, kind)
#endif

#define X86_ATTN_ENTRY(name, kind, type)                                                      \
    static void name(int64_t n, int64_t dim, const void *x, int64_t x_stride, const float *y, \
                     int64_t y_stride, int n_q, float *o, int64_t o_stride)                   \
    {                                                                                         \
        X512_TRY(name, kind)                                                                  \
        if (dim % 8 == 0)                                                                     \
            name##_8(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride);                     \
        else                                                                                  \
            tm_attn_##kind##_ref(type)(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride);   \
    }

X86_ATTN_ENTRY(x86_attn_scores_f32, scores, TM_DTYPE_F32)
X86_ATTN_ENTRY(x86_attn_scores_f16, scores, TM_DTYPE_F16)
X86_ATTN_ENTRY(x86_attn_values_f32, values, TM_DTYPE_F32)
X86_ATTN_ENTRY(x86_attn_values_f16, values, TM_DTYPE_F16)
X86_ATTN_ENTRY(x86_attn_scores_q8_0, scores, TM_DTYPE_Q8_0)
X86_ATTN_ENTRY(x86_attn_values_q8_0, values, TM_DTYPE_Q8_0)
X86_ATTN_ENTRY(x86_attn_scores_q4_0, scores, TM_DTYPE_Q4_0)
X86_ATTN_ENTRY(x86_attn_values_q4_0, values, TM_DTYPE_Q4_0)

#if defined(__AVX512F__)
X86_ATTN_GROUPS(x86_attn_scores_f16_by_dim, x512_by_dim_heads)
#else
X86_ATTN_GROUPS(x86_attn_scores_f16_by_dim, x86_by_dim_heads)
#endif

/* exp(x) for x <= 0 (below -87, where float would be subnormal, 0): x = k ln 2 + r with |r| <= ln 2
 * / 2, e^r by its Taylor polynomial to r^7 (relative error below 1e-7), 2^k added to the exponent.
 */
static inline __m256 exp8_nonpos(__m256 x)
{
    __m256 live = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693145752f), x); /* ln 2, split in two */
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(1.42860677e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(k), 23);
    return _mm256_and_ps(_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e)), live);
}

#if !defined(__AVX512F__) /* AVX-512 builds: x512_exp_sum below */
static float x86_exp_sum(float *x, int64_t n, float scale)
{
    __m256 vs = _mm256_set1_ps(scale), vmax = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        vmax = _mm256_max_ps(vmax, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
    float m[8], max = -INFINITY;
    _mm256_storeu_ps(m, vmax);
    for (int l = 0; l < 8; l++)
        max = m[l] > max ? m[l] : max;
    for (int64_t t = i; t < n; t++)
        max = scale * x[t] > max ? scale * x[t] : max;
    __m256 vm = _mm256_set1_ps(max), sum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp8_nonpos(_mm256_fmsub_ps(_mm256_loadu_ps(x + i), vs, vm));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    float total = hsum8(sum);
    for (; i < n; i++) {
        x[i] = expf(scale * x[i] - max);
        total += x[i];
    }
    return total;
}

#endif

#if defined(__AVX512F__)
#include "x512_exp.h"

/* exp_sum on 16 lanes: the same two passes and polynomial, half the instructions. */
static float x512_exp_sum(float *x, int64_t n, float scale)
{
    __m512 vs = _mm512_set1_ps(scale), vmax = _mm512_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        vmax = _mm512_max_ps(vmax, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
    float max = _mm512_reduce_max_ps(vmax);
    for (int64_t t = i; t < n; t++)
        max = scale * x[t] > max ? scale * x[t] : max;
    __m512 vm = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = exp16_nonpos(_mm512_fmsub_ps(_mm512_loadu_ps(x + i), vs, vm));
        _mm512_storeu_ps(x + i, e);
        sum = _mm512_add_ps(sum, e);
    }
    float total = _mm512_reduce_add_ps(sum);
    for (; i < n; i++) {
        x[i] = expf(scale * x[i] - max);
        total += x[i];
    }
    return total;
}
#endif

/* F32 -> F16 rows (the cache writes) with the hardware conversion, rounding to nearest even
 * as the reference does. */
static void x86_quantize_f16(const float *src, void *dst, int64_t n)
{
    uint16_t *d = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        d[i] = tm_f32_to_f16(src[i]);
}

static void x86_attn_fill(tm_kernels *k)
{
    k->attn_scores[TM_DTYPE_F32] = x86_attn_scores_f32;
    k->attn_scores[TM_DTYPE_F16] = x86_attn_scores_f16;
    k->attn_values[TM_DTYPE_F32] = x86_attn_values_f32;
    k->attn_values[TM_DTYPE_F16] = x86_attn_values_f16;
    k->attn_scores[TM_DTYPE_Q8_0] = x86_attn_scores_q8_0;
    k->attn_values[TM_DTYPE_Q8_0] = x86_attn_values_q8_0;
    k->attn_scores[TM_DTYPE_Q4_0] = x86_attn_scores_q4_0;
    k->attn_values[TM_DTYPE_Q4_0] = x86_attn_values_q4_0;
    k->attn_scores_f16_by_dim = x86_attn_scores_f16_by_dim;
    k->quantize[TM_DTYPE_F16] = x86_quantize_f16;
#if defined(__AVX512F__)
    k->exp_sum = x512_exp_sum;
#else
    k->exp_sum = x86_exp_sum;
#endif
}

#endif
