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

/* vpmaddubsw on eight independent registers (three cycles' latency, two a cycle on AMD Zen 3:
 * six in flight keep it busy), 32 multiply-adds each (16 pairs of byte products): the
 * instruction every packed GEMM above is made of; the adds that collect its pairs run beside
 * it on other ports. Named variables, not an array: GCC kept an array's twelve on the stack
 * and measured two thirds of the rate. Each result feeds its register's next multiply; the
 * operand passes through an empty asm, so the compiler cannot fold the loop away. */
static double avx2_mac_peak(void)
{
    __m256i b = _mm256_set1_epi8(1);
    __asm__("" : "+x"(b));
    /* eight different starts, or the compiler merges the eight chains into one */
    __m256i v0 = b, v1 = _mm256_add_epi8(b, b), v2 = _mm256_add_epi8(v1, b),
            v3 = _mm256_add_epi8(v2, b), v4 = _mm256_add_epi8(v3, b), v5 = _mm256_add_epi8(v4, b),
            v6 = _mm256_add_epi8(v5, b), v7 = _mm256_add_epi8(v6, b);
    int64_t n = 0, t0 = tm_time_us(), dt = 0;
    do {
        for (int r = 0; r < 256; r++) {
            v0 = _mm256_maddubs_epi16(v0, b);
            v1 = _mm256_maddubs_epi16(v1, b);
            v2 = _mm256_maddubs_epi16(v2, b);
            v3 = _mm256_maddubs_epi16(v3, b);
            v4 = _mm256_maddubs_epi16(v4, b);
            v5 = _mm256_maddubs_epi16(v5, b);
            v6 = _mm256_maddubs_epi16(v6, b);
            v7 = _mm256_maddubs_epi16(v7, b);
        }
        n += 256 * 8;
        dt = tm_time_us() - t0;
    } while (dt < 20000);
    __m256i sum =
        _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(v0, v1), _mm256_add_epi16(v2, v3)),
                         _mm256_add_epi16(_mm256_add_epi16(v4, v5), _mm256_add_epi16(v6, v7)));
    volatile int sink = _mm256_extract_epi32(sum, 0); /* the loop is not optimised away */
    (void)sink;
    return (double)n * 32 / ((double)dt * 1e-6);
}

void tm_kernels_init_avx2(tm_kernels *k)
{
    k->mac_peak = avx2_mac_peak;
    x86_fill_table(k);
    avx2_gemm_fill(k);
}
