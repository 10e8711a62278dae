/* The AVX-512 table (F, BW, VL, DQ and VNNI): x86_dots.h with vpdpbusd, which multiplies
 * unsigned by signed bytes and adds each lane's four products in one instruction, no 16-bit
 * saturation. */
#include <immintrin.h>

static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
{
    return _mm256_dpbusd_epi32(acc, u, s);
}

#include "x86_dots.h"
#include "x86_gemm.h"

void tm_kernels_init_avx512(tm_kernels *k)
{
    x86_fill_table(k);
    x512_gemm_fill(k);
}
