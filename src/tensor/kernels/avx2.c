/* The AVX2 table (with FMA and F16C): x86_dots.h with the 8-bit multiply-add built from
 * vpmaddubsw (u8 x s8 -> pairs of 16-bit sums) and vpmaddwd (pairs -> 32-bit). */
#include <immintrin.h>

static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
{
    __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

#include "avx2_gemm.h"
#include "x86_dots.h"

void tm_kernels_init_avx2(tm_kernels *k)
{
    x86_fill_table(k);
    avx2_gemm_fill(k);
}
