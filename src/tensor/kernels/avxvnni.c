/* The AVX-VNNI table: AVX2 with the VEX-encoded vpdpbusd (Intel's client CPUs from Alder Lake
 * on, which have no AVX-512; AMD Zen 5). x86_dots.h with vpdpbusd as its 8-bit multiply-add,
 * as in avx512.c, and avx2_gemm.h's packed GEMMs with their integer sums taken by vpdpbusd
 * (AVX2_GEMM_VNNI): one instruction per word and token where vpmaddubsw needs a 16-bit add
 * beside it and a vpmaddwd to widen. */
#include <immintrin.h>

static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
{
    return _mm256_dpbusd_avx_epi32(acc, u, s);
}

#define AVX2_GEMM_VNNI 1
#include "avx2_gemm.h"
#include "x86_dots.h"

/* vpdpbusd on twelve independent accumulators (five cycles' latency, two a cycle on Intel's
 * Golden Cove: ten in flight keep it busy; VEX reaches 16 registers), 32 multiply-adds each.
 * Named variables, as in avx2.c: GCC kept an array's on the stack. */
#define AVXVNNI_STEP(v) v = _mm256_dpbusd_avx_epi32(v, a, b)
static double avxvnni_mac_peak(void)
{
    __m256i a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(1);
    __asm__("" : "+x"(a), "+x"(b));
    __m256i v0 = _mm256_setzero_si256(), v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0, v6 = v0,
            v7 = v0, v8 = v0, v9 = v0, v10 = v0, v11 = v0;
    int64_t n = 0, t0 = tm_time_us(), dt = 0;
    do {
        for (int r = 0; r < 256; r++) {
            AVXVNNI_STEP(v0);
            AVXVNNI_STEP(v1);
            AVXVNNI_STEP(v2);
            AVXVNNI_STEP(v3);
            AVXVNNI_STEP(v4);
            AVXVNNI_STEP(v5);
            AVXVNNI_STEP(v6);
            AVXVNNI_STEP(v7);
            AVXVNNI_STEP(v8);
            AVXVNNI_STEP(v9);
            AVXVNNI_STEP(v10);
            AVXVNNI_STEP(v11);
        }
        n += 256 * 12;
        dt = tm_time_us() - t0;
    } while (dt < 20000);
    __m256i sum = _mm256_add_epi32(
        _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(v0, v1), _mm256_add_epi32(v2, v3)),
                         _mm256_add_epi32(_mm256_add_epi32(v4, v5), _mm256_add_epi32(v6, v7))),
        _mm256_add_epi32(_mm256_add_epi32(v8, v9), _mm256_add_epi32(v10, v11)));
    volatile int sink = _mm256_extract_epi32(sum, 0); /* the loop is not optimised away */
    (void)sink;
    return (double)n * 32 / ((double)dt * 1e-6);
}

void tm_kernels_init_avxvnni(tm_kernels *k)
{
    k->mac_peak = avxvnni_mac_peak;
    x86_fill_table(k);
    avx2_gemm_fill(k);
}
