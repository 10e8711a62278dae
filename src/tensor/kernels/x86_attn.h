/* x86 attention kernels over F32 and F16 KV cache rows (see tm_attn_scores_fn), on 256-bit
 * vectors, included by x86_dots.h (so compiled for AVX2 and for AVX-512). A key or value row
 * is loaded (and for F16 converted) once for up to four query heads of its group: grouped-
 * query attention reads the cache once per kv head, not once per query head. Rows whose
 * width is not a multiple of 8 take the reference. */
#ifndef TM_KERNELS_X86_ATTN_H
#define TM_KERNELS_X86_ATTN_H

#include <immintrin.h>

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

/* One body for both row types: LOAD8(row, d) gives 8 floats of a row. */
#define X86_ATTN_SCORES(name, elem, LOAD8)                                                         \
    static void name(int64_t n, int64_t dim, const void *k, int64_t k_stride, const float *q,      \
                     int64_t q_stride, int n_q, float *s, int64_t s_stride)                        \
    {                                                                                              \
        const elem *kk = k;                                                                        \
        for (int64_t j = 0; j < n; j++) {                                                          \
            const elem *row = kk + j * k_stride;                                                   \
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

#define X86_ATTN_VALUES(name, elem, LOAD8)                                                    \
    static void name(int64_t n, int64_t dim, const void *v, int64_t v_stride, const float *w, \
                     int64_t w_stride, int n_q, float *out, int64_t o_stride)                 \
    {                                                                                         \
        const elem *vv = v;                                                                   \
        for (int64_t j = 0; j < n; j++) {                                                     \
            const elem *row = vv + j * v_stride;                                              \
            for (int64_t d = 0; d < dim; d += 8) {                                            \
                __m256 x = LOAD8(row, d);                                                     \
                for (int g = 0; g < n_q; g++) {                                               \
                    float *o = out + g * o_stride + d;                                        \
                    __m256 wj = _mm256_set1_ps(w[g * w_stride + j]);                          \
                    _mm256_storeu_ps(o, _mm256_fmadd_ps(wj, x, _mm256_loadu_ps(o)));          \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

#define LOAD8_F32(row, d) _mm256_loadu_ps((row) + (d))
#define LOAD8_F16(row, d) load8_f16((row) + (d))

X86_ATTN_SCORES(x86_attn_scores_f32_8, float, LOAD8_F32)
X86_ATTN_SCORES(x86_attn_scores_f16_8, uint16_t, LOAD8_F16)
X86_ATTN_VALUES(x86_attn_values_f32_8, float, LOAD8_F32)
X86_ATTN_VALUES(x86_attn_values_f16_8, uint16_t, LOAD8_F16)

#define X86_ATTN_ENTRY(name, kind, type)                                                      \
    static void name(int64_t n, int64_t dim, const void *x, int64_t x_stride, const float *y, \
                     int64_t y_stride, int n_q, float *o, int64_t o_stride)                   \
    {                                                                                         \
        if (dim % 8 == 0)                                                                     \
            name##_8(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride);                     \
        else                                                                                  \
            tm_attn_##kind##_ref(type)(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride);   \
    }

X86_ATTN_ENTRY(x86_attn_scores_f32, scores, TM_DTYPE_F32)
X86_ATTN_ENTRY(x86_attn_scores_f16, scores, TM_DTYPE_F16)
X86_ATTN_ENTRY(x86_attn_values_f32, values, TM_DTYPE_F32)
X86_ATTN_ENTRY(x86_attn_values_f16, values, TM_DTYPE_F16)

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
    k->quantize[TM_DTYPE_F16] = x86_quantize_f16;
}

#endif
