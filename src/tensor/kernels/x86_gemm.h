/* Packed-weight GEMM on 512-bit vectors (AVX-512 with VNNI): 16 weight rows by up to 8 tokens
 * per pass. A block of 32 columns is eight 64-byte vectors of unsigned weight codes (four
 * per row, tensor.h's packed layout); each is multiplied by one 4-byte word of a token's
 * activation codes broadcast to every lane, so vpdpbusd sums the block's products for all
 * 16 rows at once, with no horizontal reduction. The codes' offsets (Q4_0 stores q + 8, our
 * Q8_0 layout q + 128) are taken out by starting the sum at -offset x sum(activation codes),
 * which the activation row carries. Then one conversion and one multiply-add per token and
 * block apply the two scales.
 *
 * The integer sums are exact, so results equal the reference's up to float summation order. */
#ifndef TM_KERNELS_X86_GEMM_H
#define TM_KERNELS_X86_GEMM_H

#include "isa.h"

#include <immintrin.h>

#define GEMM_TOKENS 8 /* tokens per pass: 8 float sums + 8 weight vectors fit the registers */

typedef struct gemm_act {
    const float *d;         /* [nb] scales */
    const int32_t *neg_sum; /* [nb] minus the sums of the codes */
    const uint8_t *q;       /* [n] codes */
} gemm_act;

static inline gemm_act gemm_act_row(const uint8_t *row, int64_t nb)
{
    gemm_act a = {(const float *)row, (const int32_t *)row + nb, row + nb * 8};
    return a;
}

/* One 4-byte word of activation codes in every lane: a broadcast operand of vpdpbusd. */
static inline __m512i bcast_word(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

static inline __attribute__((always_inline)) void
gemm_x16_pass(const int n_t, const int offset_shift, const int64_t nb, const uint8_t *codes,
              const uint16_t *scales, const uint8_t *act, uint64_t act_stride, float *y,
              int64_t y_stride)
{
    gemm_act a[GEMM_TOKENS];
    __m512 acc[GEMM_TOKENS];
    for (int t = 0; t < n_t; t++) {
        a[t] = gemm_act_row(act + (uint64_t)t * act_stride, nb);
        acc[t] = _mm512_setzero_ps();
    }
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; b++) {
        __m512i w[8];
        if (offset_shift == 3) { /* Q4_0: four vectors of nibble pairs */
            const uint8_t *qs = codes + b * 256;
            for (int v = 0; v < 4; v++) {
                __m512i p = _mm512_loadu_si512(qs + v * 64);
                w[v] = _mm512_and_si512(p, low);
                w[v + 4] = _mm512_and_si512(_mm512_srli_epi16(p, 4), low);
            }
        } else { /* Q8_0 */
            const uint8_t *qs = codes + b * 512;
            for (int g = 0; g < 8; g++)
                w[g] = _mm512_loadu_si512(qs + g * 64);
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(scales + b * 16)));
        /* tokens innermost: n_t independent sums in flight between one token's steps */
        __m512i s[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) /* the offset's share: -offset x sum, a shift */
            s[t] = _mm512_slli_epi32(_mm512_set1_epi32(a[t].neg_sum[b]), offset_shift);
        for (int g = 0; g < 8; g++)
            for (int t = 0; t < n_t; t++)
                s[t] = _mm512_dpbusd_epi32(s[t], w[g], bcast_word(a[t].q + b * 32 + 4 * g));
        for (int t = 0; t < n_t; t++) {
            __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(a[t].d[b]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), scale, acc[t]);
        }
    }
    for (int t = 0; t < n_t; t++)
        _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

/* All tokens in passes of 8, then one pass of the rest with its count fixed at compile time. */
#define GEMM_X16_DEFINE(name, offset_shift, code_bytes)                                       \
    static void name(int64_t n_cols, const void *group, const void *act, uint64_t act_stride, \
                     int64_t n_tokens, float *y, int64_t y_stride)                            \
    {                                                                                         \
        int64_t nb = n_cols / 32;                                                             \
        const uint8_t *codes = group;                                                         \
        const uint16_t *scales = (const uint16_t *)(codes + nb * (code_bytes));               \
        const uint8_t *x = act;                                                               \
        int64_t t = 0;                                                                        \
        for (; t + GEMM_TOKENS <= n_tokens; t += GEMM_TOKENS)                                 \
            gemm_x16_pass(GEMM_TOKENS, offset_shift, nb, codes, scales, x + t * act_stride,   \
                          act_stride, y + t * y_stride, y_stride);                            \
        const uint8_t *xt = x + t * act_stride;                                               \
        float *yt = y + t * y_stride;                                                         \
        switch (n_tokens - t) {                                                               \
        case 1:                                                                               \
            gemm_x16_pass(1, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        case 2:                                                                               \
            gemm_x16_pass(2, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        case 3:                                                                               \
            gemm_x16_pass(3, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        case 4:                                                                               \
            gemm_x16_pass(4, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        case 5:                                                                               \
            gemm_x16_pass(5, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        case 6:                                                                               \
            gemm_x16_pass(6, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        case 7:                                                                               \
            gemm_x16_pass(7, offset_shift, nb, codes, scales, xt, act_stride, yt, y_stride);  \
            break;                                                                            \
        default:                                                                              \
            break;                                                                            \
        }                                                                                     \
    }

GEMM_X16_DEFINE(x512_gemm_x16_q4_0, 3, 256) /* offset 8 */
GEMM_X16_DEFINE(x512_gemm_x16_q8_0, 7, 512) /* offset 128 */

static void x512_gemm_fill(tm_kernels *k)
{
    k->gemm_x16[TM_DTYPE_Q4_0] = x512_gemm_x16_q4_0;
    k->gemm_x16[TM_DTYPE_Q8_0] = x512_gemm_x16_q8_0;
}

#endif
