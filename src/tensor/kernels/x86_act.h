/* The gated activations on 256-bit vectors (included by x86_dots.h after x86_attn.h, whose
 * exp8_nonpos they share). Both are written over e = exp(-|u|) <= 1, so nothing overflows:
 * SiLU(g) = g sigmoid(g), sigmoid(g) = 1 / (1 + e) for g >= 0 and e / (1 + e) below;
 * GELU's 0.5 (1 + tanh(u)) = sigmoid(2u), with e = exp(-2|u|). A few float ulps from the
 * exact values; the reference's 1 + tanhf(u) loses digits where tanh(u) nears -1. */
#ifndef TM_KERNELS_X86_ACT_H
#define TM_KERNELS_X86_ACT_H

#include "x86_attn.h"

#include <immintrin.h>

static inline __m256 abs8(__m256 x)
{
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}

static void x86_silu_mul(float *gate, const float *up, int64_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp8_nonpos(_mm256_sub_ps(_mm256_setzero_ps(), abs8(g)));
        __m256 num = _mm256_blendv_ps(one, e, g); /* the sign bit of g picks e */
        __m256 sig = _mm256_div_ps(num, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
    }
    tm_silu_mul_ref(gate + i, up + i, n - i);
}

static void x86_gelu_mul(float *gate, const float *up, int64_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 c = _mm256_set1_ps(0.7978845608028654f), k = _mm256_set1_ps(0.044715f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 u = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(k, g), _mm256_mul_ps(g, g), g));
        /* 1 + tanh(u) = 2 sigmoid(2u), which does not cancel where tanh(u) is near -1 */
        __m256 e = exp8_nonpos(_mm256_mul_ps(_mm256_set1_ps(-2.0f), abs8(u)));
        __m256 num = _mm256_blendv_ps(one, e, u);
        __m256 act = _mm256_div_ps(_mm256_mul_ps(g, num), _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(act, _mm256_loadu_ps(up + i)));
    }
    tm_gelu_mul_ref(gate + i, up + i, n - i);
}

static void x86_act_fill(tm_kernels *k)
{
    k->silu_mul = x86_silu_mul;
    k->gelu_mul = x86_gelu_mul;
}

#endif
