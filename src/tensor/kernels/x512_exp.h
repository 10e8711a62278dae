/* e^x on 16 lanes of AVX-512F, for the softmax (x86_attn.h's exp_sum, the tile attention of
 * bf16_attn.h) and the AMX table's activations. */
#ifndef TM_KERNELS_X512_EXP_H
#define TM_KERNELS_X512_EXP_H

#include <immintrin.h>

/* e^x for x <= 0 (0 below -87 and for -inf), 16 lanes: x = k ln 2 + r, |r| <= ln 2 / 2, e^r by
 * its Taylor polynomial to r^7 (relative error below 1e-7), 2^k added to the exponent. */
static inline __m512 exp16_nonpos(__m512 x)
{
    __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_GE_OQ);
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145752f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860677e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(k), 23);
    return _mm512_maskz_mov_ps(live,
                               _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e)));
}

#endif
