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

/* vpdpbusd on twelve independent accumulators: 64 multiply-adds each. */
static double x512_mac_peak(void)
{
    __m512i acc[12], a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
    for (int i = 0; i < 12; i++)
        acc[i] = _mm512_setzero_si512();
    int64_t n = 0, t0 = tm_time_us(), dt = 0;
    do {
        for (int r = 0; r < 256; r++)
            for (int i = 0; i < 12; i++)
                acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
        n += 256 * 12;
        dt = tm_time_us() - t0;
    } while (dt < 20000);
    __m512i sum = acc[0];
    for (int i = 1; i < 12; i++)
        sum = _mm512_add_epi32(sum, acc[i]);
    volatile int sink = _mm512_reduce_add_epi32(sum); /* the loop is not optimised away */
    (void)sink;
    return (double)n * 64 / ((double)dt * 1e-6);
}

/* tm_read_sum_fn on 512-bit loads: a whole cache line each, four in flight per step. */
static uint64_t x512_read_sum(const void *p, uint64_t bytes)
{
    const uint8_t *b = p;
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    uint64_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
        s0 = _mm512_add_epi64(s0, _mm512_loadu_si512(b + i));
        s1 = _mm512_add_epi64(s1, _mm512_loadu_si512(b + i + 64));
        s2 = _mm512_add_epi64(s2, _mm512_loadu_si512(b + i + 128));
        s3 = _mm512_add_epi64(s3, _mm512_loadu_si512(b + i + 192));
    }
    __m512i s = _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3));
    uint64_t lanes[8], sum = 0; /* not _mm512_reduce_add_epi64: GCC's adds signed, and wraps */
    _mm512_storeu_si512(lanes, s);
    for (int l = 0; l < 8; l++)
        sum += lanes[l];
    return sum + tm_read_sum_ref(b + i, bytes - i);
}

void tm_kernels_init_avx512(tm_kernels *k)
{
    k->mac_peak = x512_mac_peak;
    x86_fill_table(k);
    k->read_sum = x512_read_sum;
    x512_gemm_fill(k);
}
