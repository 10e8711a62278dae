/* Packed-weight GEMM on 256-bit vectors (the AVX2 table; with AVX2_GEMM_VNNI, the AVX-VNNI
 * table's, whose prompt passes take vpdpbusd: the sections marked so): Q4_0, Q8_0, Q4_K, Q5_K
 * and Q6_K groups of 16 rows (tensor.h's packed layout) by up to 4 tokens per pass. A
 * 64-byte code vector holds four codes of each of 16 rows; its first 32 bytes are rows 0-7 and its
 * last 32 rows 8-15, so a pass takes one or both halves. Each half is multiplied by one 4-byte word
 * of a token's activation codes broadcast to every lane with vpmaddubsw (unsigned codes by signed
 * activations, pairs of products in 16 bits). Q4_0's codes are at most 15 and the
 * activations' magnitudes at most 127, so a pair is at most 3810 and the eight words of a
 * block add up in 16 bits (at most 30480) before one vpmaddwd widens them: two instructions
 * per word and token instead of vec_dot's three, and each weight vector unpacked once for
 * all the pass's tokens. The codes' offset of 8 comes out as -8 x the activation row's code
 * sum; then one conversion and one multiply-add per token and block apply the two scales.
 *
 * The integer sums are exact, so results equal the reference's up to float summation order. */
#ifndef TM_KERNELS_AVX2_GEMM_H
#define TM_KERNELS_AVX2_GEMM_H

#include "isa.h"

#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#define AVX2_GEMM_TOKENS 4 /* the 16 ymm registers: 4 tokens x (sum + accumulator) + operands */

static inline __m256i avx2_bcast_word(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* Decoding streams each weight once. On AMD Zen 3 (the first CPU this table ran on natively) the
 * hardware prefetchers alone kept a core's stream well below the memory's rate while the core
 * computed. Asking for the lines 2 KiB ahead, into L2: two threads' decode of a 65536 x 2048
 * matrix (out of L3) 51-55 -> 63-64 GMAC/s on Q4_0, 26 -> 31-33 on Q8_0, 51 -> 59 on Q4_K;
 * the llama-1b-shape model's tg64, two alternating pairs at 44-46 GB/s, 52.6 -> 61.2 t/s
 * (Q4_0), 28.7 -> 35.6 (Q8_0), 42.0 -> 45.0 (Q4_K_M); there 3 KiB and more ran worse. On the
 * Zen 5 VM (2 cores, TM_KERNELS=avx2, tg64, alternating runs) 2 KiB held Q4_0 to 0.73-0.81 of
 * the bandwidth limit at 33-35 GB/s and 0.44-0.48 at 57-63 GB/s, against 0.85-0.87 and
 * 0.70-0.82 with 8 KiB (0.89-0.93 and 0.67-0.76 without prefetching). (x86_gemm.h has a reading of
 * why, which Q8_0 does not fit.) Q8_0, with less work per byte, keeps 2 KiB: 0.97-1.01 at 33 GB/s
 * against 0.86-0.98 with 8 KiB, and 0.59-0.65 at 52-62 GB/s against 0.63 (one run): no sign that it
 * needs more. */
#define AVX2_PREFETCH_Q4_0 8192
#define AVX2_PREFETCH_Q8_0 2048

/* The block of `bytes` at p (Q4_0's 288, Q8_0's 544) is about to be read: ask for the lines
 * `lead` bytes ahead (the type's AVX2_PREFETCH_*). */
static inline void avx2_prefetch(const uint8_t *p, int64_t bytes, int64_t lead)
{
    tm_prefetch_l2(p + lead, (size_t)bytes);
}

/* The K-quants' super-blocks (2304-3360 bytes) are asked for slice by slice: slice k of n of
 * the super-block 8 KiB ahead (rounded up to whole super-blocks: Q4_K 4, Q5_K and Q6_K 3) of
 * the one of `bytes` at p, while slice k of this one is decoded. Asked for
 * whole, as decoding began (36 to 53 prefetches at once), the stream was slower: Zen 3, two
 * threads, 65536 x 2048 (out of L3), alternating runs, medians, whole -> by slices: Q4_K 50 ->
 * 60 GMAC/s, Q5_K 28 -> 36, Q6_K 29 -> 36 (its two halves' four quarters: eight slices; two
 * slices ran slower); the Q4_K_M file's tg64 34.1 -> 38.4 t/s, Q5_K_M 29.0 -> 37.0, Q6_K 26.1
 * -> 30.9 (four alternating runs, 28-41 GB/s). Slices two super-blocks ahead ran no better
 * there. On the Zen 5 VM slices one ahead (2.3 KB) held Q4_K_M's tg64 to 0.70-0.79 of its
 * limit at 33-36 GB/s and 0.46-0.48 at 59-63, 8 KiB ahead 0.82-0.85 and 0.67-0.73. */
#define AVX2_PREFETCH_K 8192
static inline void avx2_prefetch_slice(const uint8_t *p, int64_t bytes, int k, int n)
{
    int64_t ahead = (AVX2_PREFETCH_K + bytes - 1) / bytes;
    tm_prefetch_l2(p + ahead * bytes + k * bytes / n, (size_t)((bytes + n - 1) / n));
}

/* v as it is: integer sums are associative, and GCC, given a block's 32 products for 4 tokens,
 * rebuilt each token's chain of adds as a tree, which holds all the products at once and spilled
 * most of them to the stack. An empty asm statement that takes the sum in a register and hands
 * it back keeps the chain, one product live at a time. One core, 2048 x 2048 x 512 tokens:
 * Q4_0 53 -> 100 GMAC/s (a token at a time 53 -> 82), Q6_K's 32-bit sums 71 -> 79. */
static inline __m256i avx2_chain(__m256i v)
{
    __asm__("" : "+x"(v));
    return v;
}

#if AVX2_GEMM_VNNI
/* With VNNI (avxvnni.c): vpdpbusd sums each lane's four products into 32 bits, one
 * instruction per word and token, and takes the packed codes as they are, unsigned: the
 * offset (Q4_0's 8, Q8_0's 128: 1 << offset_shift) comes out by starting each sum at -offset x
 * the activation's code sum, as in x86_gemm.h. */
static inline __attribute__((always_inline)) void
avx2_vnni_x0_sums(const int n_t, const int eight, const int h0, const int n_h, const uint8_t *qs,
                  const uint8_t *const *x, const int32_t *const *neg_sum, __m256i s[][2])
{
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int t = 0; t < n_t; t++) {
        __m256i off =
            _mm256_slli_epi32(_mm256_broadcastd_epi32(_mm_loadu_si32(neg_sum[t])), eight ? 7 : 3);
        for (int h = 0; h < n_h; h++)
            s[t][h] = off;
    }
    for (int v = 0; v < (eight ? 8 : 4); v++) /* Q4_0's vector v: words v and v + 4 */
        for (int h = 0; h < n_h; h++) {
            __m256i p = _mm256_loadu_si256((const __m256i *)(qs + v * 64 + (h0 + h) * 32));
            __m256i lo = eight ? p : _mm256_and_si256(p, low);
            for (int t = 0; t < n_t; t++)
                s[t][h] = _mm256_dpbusd_avx_epi32(s[t][h], lo, avx2_bcast_word(x[t] + 4 * v));
            if (!eight) {
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), low);
                for (int t = 0; t < n_t; t++)
                    s[t][h] =
                        _mm256_dpbusd_avx_epi32(s[t][h], hi, avx2_bcast_word(x[t] + 4 * v + 16));
            }
        }
}

static inline __attribute__((always_inline)) void
avx2_q4_0_sums(const int n_t, const int h0, const int n_h, const uint8_t *qs,
               const uint8_t *const *x, const int32_t *const *neg_sum, __m256i s[][2])
{
    avx2_vnni_x0_sums(n_t, 0, h0, n_h, qs, x, neg_sum, s);
}

static inline __attribute__((always_inline)) void
avx2_q8_0_sums(const int n_t, const int h0, const int n_h, const uint8_t *qs,
               const uint8_t *const *x, const int32_t *const *neg_sum, __m256i s[][2])
{
    avx2_vnni_x0_sums(n_t, 1, h0, n_h, qs, x, neg_sum, s);
}
#else
/* A Q4_0 block's integer sums, offset included, for n_h halves (rows 8 h0 .. 8 (h0 + n_h) - 1)
 * by n_t tokens whose block codes start at x[t]: the pairs summed in 16 bits, widened once. */
static inline __attribute__((always_inline)) void
avx2_q4_0_sums(const int n_t, const int h0, const int n_h, const uint8_t *qs,
               const uint8_t *const *x, const int32_t *const *neg_sum, __m256i s[][2])
{
    const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256i s16[AVX2_GEMM_TOKENS][2];
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            s16[t][h] = _mm256_setzero_si256();
    for (int v = 0; v < 4; v++) /* vector v: words v (low nibbles) and v + 4 (high) */
        for (int h = 0; h < n_h; h++) {
            __m256i p = _mm256_loadu_si256((const __m256i *)(qs + v * 64 + (h0 + h) * 32));
            __m256i lo = _mm256_and_si256(p, low);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), low);
            for (int t = 0; t < n_t; t++) {
                s16[t][h] = avx2_chain(_mm256_add_epi16(
                    s16[t][h], _mm256_maddubs_epi16(lo, avx2_bcast_word(x[t] + 4 * v))));
                s16[t][h] = avx2_chain(_mm256_add_epi16(
                    s16[t][h], _mm256_maddubs_epi16(hi, avx2_bcast_word(x[t] + 4 * v + 16))));
            }
        }
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            s[t][h] = _mm256_add_epi32(
                _mm256_madd_epi16(s16[t][h], ones),
                _mm256_slli_epi32(_mm256_broadcastd_epi32(_mm_loadu_si32(neg_sum[t])), 3));
}

/* ---- Q8_0 x Q8_0 ----------------------------------------------------------------------------
 * The packed codes are q + 128 (vpdpbusd's unsigned operand). Such codes by activations up to
 * 127 would overflow vpmaddubsw's 16-bit pairs, so the sign moves to the activation instead:
 * |q| (unsigned) by a x sign(q), a pair at most 2 x 128 x 127 = 32512, one vpmaddwd per word
 * widens it. Per word and token: vpsignb, vpmaddubsw, vpmaddwd, vpaddd; |q| and q once per
 * pass. No offset to take out. */
static inline __attribute__((always_inline)) void
avx2_q8_0_sums(const int n_t, const int h0, const int n_h, const uint8_t *qs,
               const uint8_t *const *x, const int32_t *const *neg_sum, __m256i s[][2])
{
    (void)neg_sum; /* the codes made signed: no offset */
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            s[t][h] = _mm256_setzero_si256();
    for (int g = 0; g < 8; g++)
        for (int h = 0; h < n_h; h++) {
            __m256i w = _mm256_xor_si256(
                _mm256_loadu_si256((const __m256i *)(qs + g * 64 + (h0 + h) * 32)), flip);
            __m256i mag = _mm256_abs_epi8(w);
            for (int t = 0; t < n_t; t++) {
                __m256i xs = _mm256_sign_epi8(avx2_bcast_word(x[t] + 4 * g), w);
                s[t][h] = avx2_chain(_mm256_add_epi32(
                    s[t][h], _mm256_madd_epi16(_mm256_maddubs_epi16(mag, xs), ones)));
            }
        }
}
#endif

/* Q4_0 (eight = 0) or Q8_0 (eight = 1) by the packed Q8_0 activations: per block, the integer
 * sums above, then one conversion and one multiply-add per token and half apply both scales. */
static inline __attribute__((always_inline)) void
avx2_x0_pass(const int n_t, const int eight, const int h0, const int n_h, int64_t nb,
             const uint8_t *group, const uint8_t *act, uint64_t act_stride, float *y,
             int64_t y_stride)
{
    const float *d[AVX2_GEMM_TOKENS];
    const int32_t *neg_sum[AVX2_GEMM_TOKENS];
    const uint8_t *q[AVX2_GEMM_TOKENS];
    __m256 acc[AVX2_GEMM_TOKENS][2];
    for (int t = 0; t < n_t; t++) {
        const uint8_t *row = act + (uint64_t)t * act_stride;
        d[t] = (const float *)row;
        neg_sum[t] = (const int32_t *)row + nb;
        q[t] = row + nb * 8;
        for (int h = 0; h < n_h; h++)
            acc[t][h] = _mm256_setzero_ps();
    }
    const int64_t block_bytes = eight ? TM_PACK_Q8_0_BLOCK : TM_PACK_Q4_0_BLOCK;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = group + b * block_bytes, *qs = blk + TM_PACK_CODES;
        if (n_h == 2)
            avx2_prefetch(blk, block_bytes, eight ? AVX2_PREFETCH_Q8_0 : AVX2_PREFETCH_Q4_0);
        const uint8_t *x[AVX2_GEMM_TOKENS];
        const int32_t *ns[AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            x[t] = q[t] + b * 32;
            ns[t] = neg_sum[t] + b;
        }
        __m256i s[AVX2_GEMM_TOKENS][2];
        if (eight)
            avx2_q8_0_sums(n_t, h0, n_h, qs, x, ns, s);
        else
            avx2_q4_0_sums(n_t, h0, n_h, qs, x, ns, s);
        for (int h = 0; h < n_h; h++) {
            __m256 dw = _mm256_cvtph_ps(
                _mm_loadu_si128((const __m128i *)(blk + (h0 + h) * 8 * sizeof(uint16_t))));
            for (int t = 0; t < n_t; t++)
                acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t][h]),
                                            _mm256_mul_ps(dw, _mm256_set1_ps(d[t][b])), acc[t][h]);
        }
    }
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            _mm256_storeu_ps(y + t * y_stride + (h0 + h) * 8, acc[t][h]);
}

static inline __attribute__((always_inline)) void
avx2_q4_0_pass(const int n_t, const int h0, const int n_h, int64_t nb, const uint8_t *group,
               const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    avx2_x0_pass(n_t, 0, h0, n_h, nb, group, act, act_stride, y, y_stride);
}

static inline __attribute__((always_inline)) void
avx2_q8_0_pass(const int n_t, const int h0, const int n_h, int64_t nb, const uint8_t *group,
               const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    avx2_x0_pass(n_t, 1, h0, n_h, nb, group, act, act_stride, y, y_stride);
}

/* CALL(fn, n_t, t) for the passes of per (at most AVX2_GEMM_TOKENS) tokens over n_tokens from
 * token t, then one for the 1 to per - 1 left, n_t a constant in each (the passes are
 * specialized by it). */
#define AVX2_BY_PASSES(n_tokens, per, CALL, fn)       \
    do {                                              \
        int64_t t_ = 0;                               \
        for (; t_ + (per) <= (n_tokens); t_ += (per)) \
            CALL(fn, per, t_);                        \
        switch ((n_tokens)-t_) {                      \
        case 1:                                       \
            CALL(fn, 1, t_);                          \
            break;                                    \
        case 2:                                       \
            CALL(fn, 2, t_);                          \
            break;                                    \
        case 3:                                       \
            CALL(fn, 3, t_);                          \
            break;                                    \
        default:                                      \
            break;                                    \
        }                                             \
    } while (0)

/* One driver for every type: decoding (up to both_max tokens: 2 for Q4_0, 1 for the K-quants,
 * whose sums take more registers) runs both halves in one pass, so the group streams once.
 * Prompts run each half in passes of 4 tokens; the group (18 KiB of Q4_0 at 2048 columns)
 * stays in L1 between. The K-quants' sums for 4 tokens no longer all fit the registers, yet
 * one core (Q4_K, 2048 x 2048 x 512 tokens, AMD Zen 4) ran 70-74 GMAC/s in passes of 2
 * tokens, 80-82 in passes of 3, 81-84 in passes of 4. */
/* (in the body below: half h, or both halves, tokens t .. t + n_t - 1) */
#define AVX2_HALF_PASS(fn, n_t, t) \
    fn(n_t, h, 1, nb, g, x + (t)*act_stride, act_stride, y + (t)*y_stride, y_stride)
#define AVX2_BOTH_PASS(fn, n_t, t) \
    fn(n_t, 0, 2, nb, g, x + (t)*act_stride, act_stride, y + (t)*y_stride, y_stride)
/* (both_per: tokens per pass when prompts too run both halves in one pass, else 0) */
#define AVX2_GEMM_DEFINE(name, pass, block_cols, both_max, both_per)                          \
    static void name(int64_t n_cols, const void *group, const void *act, uint64_t act_stride, \
                     int64_t n_tokens, float *y, int64_t y_stride)                            \
    {                                                                                         \
        int64_t nb = n_cols / (block_cols);                                                   \
        const uint8_t *g = group, *x = act;                                                   \
        if (n_tokens == 1) {                                                                  \
            AVX2_BOTH_PASS(pass, 1, 0);                                                       \
            return;                                                                           \
        }                                                                                     \
        if (n_tokens == 2 && (both_max) >= 2) {                                               \
            AVX2_BOTH_PASS(pass, 2, 0);                                                       \
            return;                                                                           \
        }                                                                                     \
        if ((both_per) > 0) { /* (the 1 only keeps the untaken branch's loop finite) */       \
            AVX2_BY_PASSES(n_tokens, (both_per) > 0 ? (both_per) : 1, AVX2_BOTH_PASS, pass);  \
            return;                                                                           \
        }                                                                                     \
        for (int h = 0; h < 2; h++)                                                           \
            AVX2_BY_PASSES(n_tokens, AVX2_GEMM_TOKENS, AVX2_HALF_PASS, pass);                 \
    }

#if AVX2_GEMM_VNNI
/* With VNNI a product is one instruction, and what bounds the passes above is feeding it: a
 * broadcast per product and token. Passes over both halves share each broadcast between two
 * products; 3 tokens a pass (6 sums and 6 accumulators of the 16 registers). One core, 2048 x
 * 2048 by 512 tokens on an AMD Zen 5, as a multiple of the same run's one-token rate (the VM's
 * clock moved between runs): 4 tokens by one half, as above, 1.42 for Q4_0 and 2.50 for Q8_0
 * (one run); by both halves, three alternating runs, 2 tokens 1.53-1.58 and 2.57-2.63 (with
 * two chains of sums per token and half 1.49-1.54 and 2.60-2.70), 3 tokens 1.63-1.75 and
 * 2.63-3.01. */
#define AVX2_X0_BOTH_PER 3
#else
#define AVX2_X0_BOTH_PER 0
#endif
AVX2_GEMM_DEFINE(avx2_gemm_x16_q4_0, avx2_q4_0_pass, 32, 2, AVX2_X0_BOTH_PER)
AVX2_GEMM_DEFINE(avx2_gemm_x16_q8_0, avx2_q8_0_pass, 32, 2, AVX2_X0_BOTH_PER)

/* ---- Q4_K x Q8_K ----------------------------------------------------------------------------
 * Sub-block j (32 columns) of a super-block: eight words of 4-bit codes (the low nibbles of
 * vectors 8 (j / 2) .. + 7 for even j, the high ones for odd j), their 16-bit sums as for
 * Q4_0 (Q8_K codes reach -128: at most 30720), then one vpmaddwd against the rows' 6-bit
 * scales sc[j] in both 16-bit halves of each lane both widens and scales them into the
 * super-block's 32-bit sum (at most 31 million). The mins' share, dmin x sum over j of m[j] x
 * (the sub-block's code sum), is four vpmaddwd per token: pairs m[j], m[j + 1] against pairs
 * of the Q8_K sums of 32. Per super-block and token: dx x (d x sum - dmin x mins). */

/* A vector's two lanes to two 16-byte rows. The tables below are read back 16 bytes at a time,
 * soon after: stored 32 bytes at a time, one core's decoding in L2 ran Q4_K 44 GMAC/s and
 * Q5_K 27-28, stored by lanes 49-51 and 30 (likely loads of upper lanes waiting for the store
 * to reach L1; prompts, which read them later, ran Q5_K 3-5% slower by lanes). */
static inline void avx2_store_2x16(uint8_t *a, uint8_t *b, __m256i v)
{
    _mm_storeu_si128((__m128i *)a, _mm256_castsi256_si128(v));
    _mm_storeu_si128((__m128i *)b, _mm256_extracti128_si256(v, 1));
}

/* The 6-bit scales sc[j][r] and mins mn[j][r] of sub-blocks j < 8, rows r < 16, from a
 * super-block's packed tables at sb: 32 bytes at a time, two sub-blocks (jj, jj + 1) per
 * vector, both kinds from the one vector of high bit pairs. */
static inline void avx2_q4_k_tables(const uint8_t *sb, uint8_t sc[8][16], uint8_t mn[8][16])
{
    const __m256i low = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
    for (int jj = 0; jj < 4; jj += 2) {
        __m256i ls = _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_KM_LO_SC + 16 * jj));
        __m256i lm = _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_KM_LO_M + 16 * jj));
        __m256i hb = _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_KM_HI + 16 * jj));
        /* high bit pairs: sc[jj] at bits 0-1, sc[jj + 4] at 2-3, m[jj] at 4-5, m[jj + 4] 6-7 */
        avx2_store_2x16(sc[jj], sc[jj + 1],
                        _mm256_or_si256(_mm256_and_si256(ls, low),
                                        _mm256_and_si256(_mm256_slli_epi16(hb, 4), bits45)));
        avx2_store_2x16(sc[jj + 4], sc[jj + 5],
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ls, 4), low),
                                        _mm256_and_si256(_mm256_slli_epi16(hb, 2), bits45)));
        avx2_store_2x16(mn[jj], mn[jj + 1],
                        _mm256_or_si256(_mm256_and_si256(lm, low), _mm256_and_si256(hb, bits45)));
        avx2_store_2x16(mn[jj + 4], mn[jj + 5],
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lm, 4), low),
                                        _mm256_and_si256(_mm256_srli_epi16(hb, 2), bits45)));
    }
}

/* 16-bit pairs (a[r], b[r]) for the 8 rows of a half from two bytes tables' rows. */
static inline __m256i avx2_pairs(const uint8_t *a, const uint8_t *b)
{
    __m128i x = _mm_loadl_epi64((const __m128i *)a), y = _mm_loadl_epi64((const __m128i *)b);
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x, y));
}

/* The 16-bit pairs (tab[r], tab[r]) for the 8 rows r of half h of a 16-row byte table:
 * vpmaddwd's operand that scales and widens a half's 16-bit sums. One broadcast load and one
 * byte shuffle (rows 8h..8h+3 to the low lane, 8h+4..8h+7 to the high one, zeros above). */
static inline __m256i avx2_scale_pair(const uint8_t *tab, const int h)
{
    const __m256i pick =
        h ? _mm256_setr_epi8(8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11, -1, 11, -1, 12, -1, 12,
                             -1, 13, -1, 13, -1, 14, -1, 14, -1, 15, -1, 15, -1)
          : _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1, 4, -1, 4, -1,
                             5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tab)),
                               pick);
}

/* Q5_K: each code's fifth bit, bit j of its qh byte, moved to bit 4 (j a constant: the
 * callers' loops over sub-blocks are unrolled or their j known) */
static inline __attribute__((always_inline)) __m256i avx2_q5_k_bit4(__m256i qh, const int j)
{
    __m256i q = j < 4 ? _mm256_slli_epi16(qh, 4 - j) : _mm256_srli_epi16(qh, j - 4);
    return _mm256_and_si256(q, _mm256_set1_epi8(0x10));
}

/* Word g of sub-block j's codes in half hr of a Q4_K (or, five, Q5_K) super-block at sb: the
 * low nibbles of its vector for even j, the high ones for odd j, and Q5_K's fifth bits. */
static inline __attribute__((always_inline)) __m256i
avx2_qk_codes(const int five, const uint8_t *sb, const int hr, const int j, const int g)
{
    const uint8_t *qs = sb + (five ? TM_PACK_Q5_K_QS : TM_PACK_Q4_K_QS) + (j >> 1) * 8 * 64;
    __m256i p = _mm256_loadu_si256((const __m256i *)(qs + g * 64 + hr * 32));
    __m256i w = _mm256_and_si256((j & 1) ? _mm256_srli_epi16(p, 4) : p, _mm256_set1_epi8(0x0F));
    if (five)
        w = _mm256_or_si256(
            w,
            avx2_q5_k_bit4(
                _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_Q5_K_QH + g * 64 + hr * 32)), j));
    return w;
}

/* Sub-block j of a super-block at sb into sum (avx2_qk_affine_pass). */
static inline __attribute__((always_inline)) void
avx2_qk_sub_block(const int j, const int n_t, const int five, const int h0, const int n_h,
                  const uint8_t *sb, const uint8_t sc[8][16], const uint8_t *const *xb,
                  __m256i sum[][2])
{
    for (int h = 0; h < n_h; h++) {
        __m256i s16[AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++)
            s16[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8; g++) {
            __m256i w = avx2_qk_codes(five, sb, h0 + h, j, g);
            for (int t = 0; t < n_t; t++)
                s16[t] = avx2_chain(_mm256_add_epi16(
                    s16[t],
                    _mm256_maddubs_epi16(
                        w, avx2_bcast_word(xb[t] + offsetof(tm_block_q8_k, qs) + j * 32 + 4 * g))));
            if (five && g == 3) /* the first four words' sums, before they overflow */
                for (int t = 0; t < n_t; t++) {
                    sum[t][h] = _mm256_add_epi32(
                        sum[t][h], _mm256_madd_epi16(s16[t], avx2_scale_pair(sc[j], h0 + h)));
                    s16[t] = _mm256_setzero_si256();
                }
        }
        __m256i scale = avx2_scale_pair(sc[j], h0 + h);
        for (int t = 0; t < n_t; t++)
            sum[t][h] = _mm256_add_epi32(sum[t][h], _mm256_madd_epi16(s16[t], scale));
    }
}

/* Decoding (one token, both halves): sub-blocks j and j + 1 (j even) at once, asking for the
 * matching quarter of the next super-block (avx2_prefetch_slice). Each code vector
 * is loaded once for both (j's codes are its low nibbles, j + 1's its high ones) where
 * avx2_qk_sub_block loads it once per sub-block, and each activation word once for both
 * halves. (With the halves in an outer loop, GCC hoisted Q5_K's 64 broadcasts out of it into
 * stack slots, one store and one load each.) Q4_K builds each scale operand from the table sc
 * (avx2_q4_k_tables) where it is used; Q5_K, which uses each twice and whose registers are
 * full, takes them built beforehand (scd: sub-block, half); built where used, Q5_K fell from
 * 28 to 25 GMAC/s (one core, 128 x 4096, in L2). */
static inline __attribute__((always_inline)) void
avx2_qk_decode_pair(const int j, const int five, const uint8_t *sb, const uint8_t sc[8][16],
                    const __m256i scd[8][2], const uint8_t *xb, __m256i sum[2])
{
    const __m256i low = _mm256_set1_epi8(0x0F);
    const uint8_t *qs = sb + (five ? TM_PACK_Q5_K_QS : TM_PACK_Q4_K_QS) + (j >> 1) * 8 * 64;
    avx2_prefetch_slice(sb, five ? TM_PACK_Q5_K_SB : TM_PACK_Q4_K_SB, j >> 1, 4);
    __m256i s0[2], s1[2];
    for (int h = 0; h < 2; h++) {
        s0[h] = _mm256_setzero_si256();
        s1[h] = _mm256_setzero_si256();
    }
    for (int g = 0; g < 8; g++) {
        __m256i x0 = avx2_bcast_word(xb + offsetof(tm_block_q8_k, qs) + j * 32 + 4 * g),
                x1 = avx2_bcast_word(xb + offsetof(tm_block_q8_k, qs) + (j + 1) * 32 + 4 * g);
        for (int h = 0; h < 2; h++) {
            __m256i p = _mm256_loadu_si256((const __m256i *)(qs + g * 64 + h * 32));
            __m256i w0 = _mm256_and_si256(p, low),
                    w1 = _mm256_and_si256(_mm256_srli_epi16(p, 4), low);
            if (five) {
                __m256i q =
                    _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_Q5_K_QH + g * 64 + h * 32));
                w0 = _mm256_or_si256(w0, avx2_q5_k_bit4(q, j));
                w1 = _mm256_or_si256(w1, avx2_q5_k_bit4(q, j + 1));
            }
            s0[h] = avx2_chain(_mm256_add_epi16(s0[h], _mm256_maddubs_epi16(w0, x0)));
            s1[h] = avx2_chain(_mm256_add_epi16(s1[h], _mm256_maddubs_epi16(w1, x1)));
        }
        if (five && g == 3) /* the first four words' sums, before they overflow */
            for (int h = 0; h < 2; h++) {
                sum[h] = _mm256_add_epi32(
                    sum[h], _mm256_add_epi32(_mm256_madd_epi16(s0[h], scd[j][h]),
                                             _mm256_madd_epi16(s1[h], scd[j + 1][h])));
                s0[h] = _mm256_setzero_si256();
                s1[h] = _mm256_setzero_si256();
            }
    }
    for (int h = 0; h < 2; h++)
        sum[h] = _mm256_add_epi32(
            sum[h],
            _mm256_add_epi32(
                _mm256_madd_epi16(s0[h], five ? scd[j][h] : avx2_scale_pair(sc[j], h)),
                _mm256_madd_epi16(s1[h], five ? scd[j + 1][h] : avx2_scale_pair(sc[j + 1], h))));
}

/* The Q8_K sums of 32 (sub-blocks 0-7) of a token's super-block as 16-bit pairs: pairs[k] holds
 * sub-blocks 2k and 2k + 1, the operand of one vpmaddwd against two sub-blocks' mins. */
static inline void avx2_q8_k_sums32(const uint8_t *xb, int32_t pairs[4])
{
    const uint8_t *bsums = xb + offsetof(tm_block_q8_k, bsums);
    __m128i a = _mm_loadu_si128((const __m128i *)bsums),
            b = _mm_loadu_si128((const __m128i *)(bsums + 16));
    _mm_storeu_si128((__m128i *)pairs, _mm_hadd_epi16(a, b)); /* at most 4096 each */
}

/* Q4_K, and Q5_K (five): each code's fifth bit, bit j of the qh vector beside its nibble's,
 * moved to bit 4. Codes then reach 31, a vpmaddubsw pair 7936, and four words, not eight, add
 * up in 16 bits (at most 31744): a sub-block's sum is widened in two halves. */
static inline __attribute__((always_inline)) void
avx2_qk_affine_pass(const int n_t, const int five, const int h0, const int n_h, int64_t nsb,
                    const uint8_t *group, const uint8_t *act, uint64_t act_stride, float *y,
                    int64_t y_stride)
{
    const int64_t sb_bytes = five ? TM_PACK_Q5_K_SB : TM_PACK_Q4_K_SB;
    __m256 acc[AVX2_GEMM_TOKENS][2];
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            acc[t][h] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * sb_bytes;
        const uint8_t *xb[AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++)
            xb[t] = act + (uint64_t)t * act_stride + b * sizeof(tm_block_q8_k);
        uint8_t sc[8][16], mn[8][16];
        avx2_q4_k_tables(sb, sc, mn);
        __m256i sum[AVX2_GEMM_TOKENS][2], mins[AVX2_GEMM_TOKENS][2];
        for (int t = 0; t < n_t; t++)
            for (int h = 0; h < n_h; h++) {
                sum[t][h] = _mm256_setzero_si256();
                mins[t][h] = _mm256_setzero_si256();
            }
        /* Q5_K's shifts of the fifth bit must be constants: its loop is unrolled. Q4_K's is
         * not: unrolled, one core's Q4_K prompt pass fell from 80-86 to 66-69 GMAC/s. */
        if (n_t == 1 && n_h == 2) { /* decoding */
            __m256i s[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
            if (five) {
                __m256i scd[8][2];
                for (int j = 0; j < 8; j++)
                    for (int h = 0; h < 2; h++)
                        scd[j][h] = avx2_scale_pair(sc[j], h);
#pragma GCC unroll 4
                for (int j = 0; j < 8; j += 2)
                    avx2_qk_decode_pair(j, 1, sb, (const uint8_t(*)[16])sc,
                                        (const __m256i(*)[2])scd, xb[0], s);
            } else {
                for (int j = 0; j < 8; j += 2)
                    avx2_qk_decode_pair(j, 0, sb, (const uint8_t(*)[16])sc, NULL, xb[0], s);
            }
            sum[0][0] = s[0];
            sum[0][1] = s[1];
        } else if (five) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                avx2_qk_sub_block(j, n_t, 1, h0, n_h, sb, (const uint8_t(*)[16])sc, xb, sum);
        } else {
            for (int j = 0; j < 8; j++)
                avx2_qk_sub_block(j, n_t, 0, h0, n_h, sb, (const uint8_t(*)[16])sc, xb, sum);
        }
        int32_t bpairs[AVX2_GEMM_TOKENS][4];
        for (int t = 0; t < n_t; t++)
            avx2_q8_k_sums32(xb[t], bpairs[t]);
        for (int h = 0; h < n_h; h++) {
            const int r0 = (h0 + h) * 8;
            for (int jp = 0; jp < 8; jp += 2) { /* the mins of sub-blocks jp and jp + 1 */
                __m256i mp = avx2_pairs(mn[jp] + r0, mn[jp + 1] + r0);
                for (int t = 0; t < n_t; t++)
                    mins[t][h] = _mm256_add_epi32(
                        mins[t][h], _mm256_madd_epi16(mp, _mm256_broadcastd_epi32(_mm_loadu_si32(
                                                              &bpairs[t][jp >> 1]))));
            }
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + r0 * 2)));
            __m256 dmin =
                _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + TM_PACK_KM_DMIN + r0 * 2)));
            for (int t = 0; t < n_t; t++) {
                float dx;
                memcpy(&dx, xb[t], sizeof dx);
                __m256 v = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins[t][h]), dmin,
                                            _mm256_mul_ps(_mm256_cvtepi32_ps(sum[t][h]), d));
                acc[t][h] = _mm256_fmadd_ps(v, _mm256_set1_ps(dx), acc[t][h]);
            }
        }
    }
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            _mm256_storeu_ps(y + t * y_stride + (h0 + h) * 8, acc[t][h]);
}

/* ---- Q6_K x Q8_K ----------------------------------------------------------------------------
 * Group g (16 columns) of a super-block: four words of 6-bit codes rebuilt from a nibble and
 * a bit pair as in x86_gemm.h. Codes reach 63 and Q8_K's activations -128, so a vpmaddubsw
 * pair is at most 16128 and two words add up in 16 bits (at most 32256), not four: each two
 * words' sums are widened by one vpmaddwd against the group's signed scale in both halves of
 * each lane. The codes' offset of 32 comes out of the same 32-bit sum: 32 x the scales
 * against the Q8_K sums of 16, one vpmaddwd per token and pair of groups. Per super-block
 * and token, one conversion and dx x d. The sums stay below 2^31 (at most 400 million). */

/* From the 16-bit scale pairs sp (scales[2i], scales[2i + 1] of each row of a half), group
 * 2i's (odd = 0) or 2i + 1's (odd = 1) scale in both 16-bit halves of each row's lane. */
static inline __m256i avx2_q6_k_scale(__m256i sp, const int odd)
{
    const __m256i dup = _mm256_setr_epi8(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1,
                                         0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13);
    return _mm256_shuffle_epi8(sp, odd ? _mm256_add_epi8(dup, _mm256_set1_epi8(2)) : dup);
}

/* Q6_K decoding: one token, the 8 rows of half h of a super-block at sb, into 32-bit sums.
 * The vectors are taken as the packing pairs them: qh vector i of a 128-column half (hh) holds
 * the bit pairs of four words, whose nibbles are the low and high ones of ql vectors i and
 * i + 8; so each code vector is loaded once (avx2_q6_k_pass loads a qh vector once per bit
 * pair and a ql vector once per nibble). The four words fall in groups quad + 2m (m < 4,
 * quad = i / 4) of the half, whose 16-bit sums take two words each before one vpmaddwd
 * against the group's scale widens them. The groups' scales are built once per half, the
 * codes' offset of 32 taken out of the sum at the start. In L2 it runs no faster than the
 * prompt pass (27-28 GMAC/s, one core: the rebuilding of the codes bounds both); streaming,
 * with the whole super-block then prefetched two ahead, the Q6_K file's tg64 went 29-30 -> 31-33
 * t/s (medians of four and five alternating runs). */
static inline __attribute__((always_inline)) __m256i
avx2_q6_k_decode_half(const uint8_t *sb, const int h, const uint8_t *xb)
{
    const __m256i low = _mm256_set1_epi8(0x0F), pair = _mm256_set1_epi8(0x30);
    const uint8_t *x = xb + offsetof(tm_block_q8_k, qs);
    /* Opaque to the compiler, which would otherwise load the 64 broadcasts once for both
     * halves and keep them in stack slots: a store and a load more for each. */
    __asm__("" : "+r"(x));
    __m256i scale[16], off = _mm256_setzero_si256();
    for (int i = 0; i < 8; i++) { /* scales[2i], scales[2i + 1] of the half's rows */
        __m256i sp = _mm256_cvtepi8_epi16(
            _mm_loadu_si128((const __m128i *)(sb + TM_PACK_Q6_K_SC + i * 32 + h * 16)));
        scale[2 * i] = avx2_q6_k_scale(sp, 0);
        scale[2 * i + 1] = avx2_q6_k_scale(sp, 1);
        off = _mm256_add_epi32(
            off,
            _mm256_madd_epi16(sp, avx2_bcast_word(xb + offsetof(tm_block_q8_k, bsums) + 4 * i)));
    }
    __m256i sum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
#pragma GCC unroll 2 /* every vector's place a constant */
    for (int hh = 0; hh < 2; hh++)
#pragma GCC unroll 2
        for (int quad = 0; quad < 2; quad++) {
            avx2_prefetch_slice(sb, TM_PACK_Q6_K_SB, 4 * h + 2 * hh + quad, 8);
            __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256()};
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                const int i = 4 * quad + k;
                __m256i q = _mm256_loadu_si256(
                    (const __m256i *)(sb + tm_pack_q6_k_qh(8 * hh + i) + h * 32));
                /* ql vector i + 8n: its low nibbles are word i + 8n (bit pair n of q), its
                 * high ones word i + 16 + 8n (bit pair n + 2) */
                for (int n = 0; n < 2; n++) {
                    __m256i p = _mm256_loadu_si256(
                        (const __m256i *)(sb + tm_pack_q6_k_ql(16 * hh + i + 8 * n) + h * 32));
                    __m256i pair_lo = _mm256_slli_epi16(q, 4 - 2 * n); /* pair n at 4-5 */
                    __m256i pair_hi = n ? _mm256_srli_epi16(q, 2) : q; /* pair n + 2 */
                    __m256i w[2] = {
                        _mm256_or_si256(_mm256_and_si256(p, low), _mm256_and_si256(pair_lo, pair)),
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(p, 4), low),
                                        _mm256_and_si256(pair_hi, pair))};
                    for (int u = 0; u < 2; u++) {
                        const int m = n + 2 * u; /* word i + 8m: group quad + 2m */
                        __m256i prod = _mm256_maddubs_epi16(
                            w[u], avx2_bcast_word(x + 128 * hh + 4 * (i + 8 * m)));
                        s[m] = avx2_chain((k & 1) ? _mm256_add_epi16(s[m], prod) : prod);
                        if (k & 1)
                            sum = avx2_chain(_mm256_add_epi32(
                                sum, _mm256_madd_epi16(s[m], scale[8 * hh + quad + 2 * m])));
                    }
                }
            }
        }
    return sum;
}

/* Code vector G (< 64: group G / 4, word G % 4) of half hr of a Q6_K super-block at sb: the
 * ql nibble with the qh bit pair at bits 4-5 (G a constant: the shifts must be). */
static inline __attribute__((always_inline)) __m256i avx2_q6_k_codes(const uint8_t *sb,
                                                                     const int hr, const int G)
{
    const __m256i low = _mm256_set1_epi8(0x0F), pair = _mm256_set1_epi8(0x30);
    int hh = G >> 5, G1 = G & 31;
    int pv = 16 * hh + (G1 & 15), qv = 8 * hh + (G1 & 7), shift = 2 * (G1 >> 3);
    __m256i p = _mm256_loadu_si256((const __m256i *)(sb + tm_pack_q6_k_ql(pv) + hr * 32));
    __m256i nib = _mm256_and_si256(G1 >= 16 ? _mm256_srli_epi16(p, 4) : p, low);
    __m256i q = _mm256_loadu_si256((const __m256i *)(sb + tm_pack_q6_k_qh(qv) + hr * 32));
    __m256i hi = shift <= 4 ? _mm256_slli_epi16(q, 4 - shift) : _mm256_srli_epi16(q, shift - 4);
    return _mm256_or_si256(nib, _mm256_and_si256(hi, pair));
}

static inline __attribute__((always_inline)) void
avx2_q6_k_pass(const int n_t, const int h0, const int n_h, int64_t nsb, const uint8_t *group,
               const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    __m256 acc[AVX2_GEMM_TOKENS][2];
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            acc[t][h] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * TM_PACK_Q6_K_SB;
        const uint8_t *xb[AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++)
            xb[t] = act + (uint64_t)t * act_stride + b * sizeof(tm_block_q8_k);
        if (n_t == 1 && n_h == 2) { /* decoding */
            float dx;
            memcpy(&dx, xb[0], sizeof dx);
            for (int h = 0; h < 2; h++) {
                __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + h * 16)));
                acc[0][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(avx2_q6_k_decode_half(sb, h, xb[0])),
                                            _mm256_mul_ps(d, _mm256_set1_ps(dx)), acc[0][h]);
            }
            continue;
        }
        for (int h = 0; h < n_h; h++) {
            const int hr = h0 + h;
            __m256i sum[AVX2_GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                sum[t] = _mm256_setzero_si256();
#pragma GCC unroll 16 /* every shift and offset below a constant, as in x86_gemm.h */
            for (int g = 0; g < 16; g++) {
                /* scales[2i], scales[2i + 1] of the half's rows, i = g / 2, as 16-bit pairs */
                __m256i sp = _mm256_cvtepi8_epi16(_mm_loadu_si128(
                    (const __m128i *)(sb + TM_PACK_Q6_K_SC + (g >> 1) * 32 + hr * 16)));
                __m256i sc = avx2_q6_k_scale(sp, g & 1);
                __m256i w[4];
                for (int k = 0; k < 4; k++)
                    w[k] = avx2_q6_k_codes(sb, hr, 4 * g + k);
                for (int t = 0; t < n_t; t++) {
                    const uint8_t *x = xb[t] + offsetof(tm_block_q8_k, qs) + g * 16;
                    __m256i s01 =
                        _mm256_add_epi16(_mm256_maddubs_epi16(w[0], avx2_bcast_word(x)),
                                         _mm256_maddubs_epi16(w[1], avx2_bcast_word(x + 4)));
                    __m256i s23 =
                        _mm256_add_epi16(_mm256_maddubs_epi16(w[2], avx2_bcast_word(x + 8)),
                                         _mm256_maddubs_epi16(w[3], avx2_bcast_word(x + 12)));
                    sum[t] = avx2_chain(
                        _mm256_add_epi32(sum[t], _mm256_add_epi32(_mm256_madd_epi16(s01, sc),
                                                                  _mm256_madd_epi16(s23, sc))));
                    if (g & 1) /* minus 32 x (sc[g - 1], sc[g]) . (bsums[g - 1], bsums[g]) */
                        sum[t] = _mm256_sub_epi32(
                            avx2_chain(sum[t]),
                            _mm256_slli_epi32(
                                _mm256_madd_epi16(
                                    sp, avx2_bcast_word(xb[t] + offsetof(tm_block_q8_k, bsums) +
                                                        (g - 1) * 2)),
                                5));
                }
            }
            __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + hr * 16)));
            for (int t = 0; t < n_t; t++) {
                float dx;
                memcpy(&dx, xb[t], sizeof dx);
                acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[t]),
                                            _mm256_mul_ps(d, _mm256_set1_ps(dx)), acc[t][h]);
            }
        }
    }
    for (int t = 0; t < n_t; t++)
        for (int h = 0; h < n_h; h++)
            _mm256_storeu_ps(y + t * y_stride + (h0 + h) * 8, acc[t][h]);
}

static inline __attribute__((always_inline)) void
avx2_q4_k_pass(const int n_t, const int h0, const int n_h, int64_t nsb, const uint8_t *group,
               const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    avx2_qk_affine_pass(n_t, 0, h0, n_h, nsb, group, act, act_stride, y, y_stride);
}

static inline __attribute__((always_inline)) void
avx2_q5_k_pass(const int n_t, const int h0, const int n_h, int64_t nsb, const uint8_t *group,
               const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    avx2_qk_affine_pass(n_t, 1, h0, n_h, nsb, group, act, act_stride, y, y_stride);
}

/* ---- Q6_K prompts: codes rebuilt once per chunk ---------------------------------------------
 * (AVX2_REBUILT_DEFINE below.) A rebuilt half super-block: its 64 code vectors, each group's
 * scale operand, 32 x the scale pairs for the offset (at most 4096: 16 bits hold them), and the
 * rows' d as floats. */
#define AVX2_Q6K_W    0 /* a rebuilt half super-block: code vector 4g + k (group g, word k) */
#define AVX2_Q6K_SC   (64 * 32)               /* group g's scale operand */
#define AVX2_Q6K_OFF  (AVX2_Q6K_SC + 16 * 32) /* 32 x the scale pairs (2i, 2i + 1) */
#define AVX2_Q6K_D    (AVX2_Q6K_OFF + 8 * 32) /* the 8 rows' d as floats */
#define AVX2_Q6K_HALF (AVX2_Q6K_D + 32)

static inline __attribute__((always_inline)) void avx2_q6_k_rebuild(const uint8_t *sb, const int h,
                                                                    uint8_t *out)
{
    for (int i = 0; i < 8; i++) {
        __m256i sp = _mm256_cvtepi8_epi16(
            _mm_loadu_si128((const __m128i *)(sb + TM_PACK_Q6_K_SC + i * 32 + h * 16)));
#if AVX2_GEMM_VNNI /* the scales of groups 2i and 2i + 1 as 32-bit lanes, vpmulld's operand */
        _mm256_storeu_si256((__m256i *)(out + AVX2_Q6K_SC + 64 * i),
                            _mm256_srai_epi32(_mm256_slli_epi32(sp, 16), 16));
        _mm256_storeu_si256((__m256i *)(out + AVX2_Q6K_SC + 64 * i + 32),
                            _mm256_srai_epi32(sp, 16));
#else
        _mm256_storeu_si256((__m256i *)(out + AVX2_Q6K_SC + 64 * i), avx2_q6_k_scale(sp, 0));
        _mm256_storeu_si256((__m256i *)(out + AVX2_Q6K_SC + 64 * i + 32), avx2_q6_k_scale(sp, 1));
#endif
        _mm256_storeu_si256((__m256i *)(out + AVX2_Q6K_OFF + 32 * i), _mm256_slli_epi16(sp, 5));
    }
    _mm256_storeu_ps((float *)(out + AVX2_Q6K_D),
                     _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + h * 16))));
#pragma GCC unroll 64
    for (int G = 0; G < 64; G++)
        _mm256_storeu_si256((__m256i *)(out + AVX2_Q6K_W + 32 * G), avx2_q6_k_codes(sb, h, G));
}

/* The offset's share at odd group g of a rebuilt half super-block at u for the token whose
 * Q8_K block is xb: 32 x (sc[g - 1], sc[g]) . (bsums[g - 1], bsums[g]), to subtract. */
static inline __attribute__((always_inline)) __m256i
avx2_q6_k_offset(const uint8_t *u, const uint8_t *xb, const int g)
{
    return _mm256_madd_epi16(
        _mm256_loadu_si256((const __m256i *)(u + AVX2_Q6K_OFF + 32 * (g >> 1))),
        avx2_bcast_word(xb + offsetof(tm_block_q8_k, bsums) + (g - 1) * 2));
}

/* The end of a rebuilt Q6_K half super-block: d x dx applied to the integer sums, into acc;
 * one function for the AVX2 and the VNNI passes, as avx2_qk_rebuilt_end. */
static inline __attribute__((always_inline)) void
avx2_q6_k_rebuilt_end(const int n_t, const uint8_t *u, const uint8_t *const *xb, const __m256i *sum,
                      __m256 *acc)
{
    __m256 d = _mm256_loadu_ps((const float *)(u + AVX2_Q6K_D));
    for (int t = 0; t < n_t; t++) {
        float dx;
        memcpy(&dx, xb[t], sizeof dx);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[t]), _mm256_mul_ps(d, _mm256_set1_ps(dx)),
                                 acc[t]);
    }
}

/* n_t tokens over nsb rebuilt half super-blocks at u, into y (added to what is there unless
 * first). Per group and token: four vpmaddubsw, two 16-bit adds, two vpmaddwd against the
 * scale, two 32-bit adds; every second group the offset's vpmaddwd and subtraction. */
static inline __attribute__((always_inline)) void
avx2_q6_k_rebuilt_pass(const int n_t, const uint8_t *u, int64_t nsb, const uint8_t *act,
                       uint64_t act_stride, float *y, int64_t y_stride, int first)
{
    __m256 acc[AVX2_GEMM_TOKENS];
    for (int t = 0; t < n_t; t++)
        acc[t] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(y + t * y_stride);
    for (int64_t b = 0; b < nsb; b++, u += AVX2_Q6K_HALF) {
        const uint8_t *xb[AVX2_GEMM_TOKENS];
        __m256i sum[AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            xb[t] = act + (uint64_t)t * act_stride + b * sizeof(tm_block_q8_k);
            sum[t] = _mm256_setzero_si256();
        }
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            __m256i w[4];
            for (int k = 0; k < 4; k++)
                w[k] = _mm256_loadu_si256((const __m256i *)(u + AVX2_Q6K_W + 32 * (4 * g + k)));
            __m256i sc = _mm256_loadu_si256((const __m256i *)(u + AVX2_Q6K_SC + 32 * g));
            for (int t = 0; t < n_t; t++) {
                const uint8_t *x = xb[t] + offsetof(tm_block_q8_k, qs) + g * 16;
                __m256i s01 = _mm256_add_epi16(_mm256_maddubs_epi16(w[0], avx2_bcast_word(x)),
                                               _mm256_maddubs_epi16(w[1], avx2_bcast_word(x + 4)));
                __m256i s23 = _mm256_add_epi16(_mm256_maddubs_epi16(w[2], avx2_bcast_word(x + 8)),
                                               _mm256_maddubs_epi16(w[3], avx2_bcast_word(x + 12)));
                sum[t] = avx2_chain(
                    _mm256_add_epi32(sum[t], _mm256_add_epi32(_mm256_madd_epi16(s01, sc),
                                                              _mm256_madd_epi16(s23, sc))));
                if (g & 1)
                    sum[t] = avx2_chain(_mm256_sub_epi32(sum[t], avx2_q6_k_offset(u, xb[t], g)));
            }
        }
        avx2_q6_k_rebuilt_end(n_t, u, xb, sum, acc);
    }
    for (int t = 0; t < n_t; t++)
        _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

/* ---- Q4_K, Q5_K prompts: codes and tables rebuilt once per chunk ----------------------------
 * As for Q6_K above: the prompt pass rebuilds, per pass of 4 tokens and super-block, the
 * 6-bit scale and min tables (avx2_q4_k_tables), each sub-block's scale operand, the mins'
 * pairs and (Q5_K) each code's fifth bit. Rebuilt once per chunk of a half instead: 64 code
 * vectors (sub-block j, word g at 8j + g), 8 scale operands, 4 pairs of mins, d and dmin. */
#define AVX2_QK_W    0
#define AVX2_QK_SC   (64 * 32)
#define AVX2_QK_MN   (AVX2_QK_SC + 8 * 32)
#define AVX2_QK_D    (AVX2_QK_MN + 4 * 32)
#define AVX2_QK_DMIN (AVX2_QK_D + 32)
#define AVX2_QK_HALF (AVX2_QK_DMIN + 32)

static inline __attribute__((always_inline)) void avx2_qk_rebuild(const int five, const uint8_t *sb,
                                                                  const int h, uint8_t *out)
{
    uint8_t sc[8][16], mn[8][16];
    avx2_q4_k_tables(sb, sc, mn);
    const int r0 = h * 8;
    for (int j = 0; j < 8; j++)
#if AVX2_GEMM_VNNI /* sc[j] as 32-bit lanes, vpmulld's operand */
        _mm256_storeu_si256((__m256i *)(out + AVX2_QK_SC + 32 * j),
                            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(sc[j] + r0))));
#else
        _mm256_storeu_si256((__m256i *)(out + AVX2_QK_SC + 32 * j), avx2_scale_pair(sc[j], h));
#endif
    for (int jp = 0; jp < 8; jp += 2)
        _mm256_storeu_si256((__m256i *)(out + AVX2_QK_MN + 16 * jp),
                            avx2_pairs(mn[jp] + r0, mn[jp + 1] + r0));
    _mm256_storeu_ps((float *)(out + AVX2_QK_D),
                     _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + r0 * 2))));
    _mm256_storeu_ps(
        (float *)(out + AVX2_QK_DMIN),
        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sb + TM_PACK_KM_DMIN + r0 * 2))));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++)
        for (int g = 0; g < 8; g++)
            _mm256_storeu_si256((__m256i *)(out + AVX2_QK_W + 32 * (8 * j + g)),
                                avx2_qk_codes(five, sb, h, j, g));
}

/* The end of a rebuilt half super-block at u for n_t tokens: the mins' share and the scales
 * applied to the integer sums, into acc. One function for the AVX2 and the VNNI passes, whose
 * sums are the same integers, so that their results are the same floats. */
static inline __attribute__((always_inline)) void
avx2_qk_rebuilt_end(const int n_t, const uint8_t *u, const uint8_t *const *xb, const __m256i *sum,
                    __m256 *acc)
{
    __m256 d = _mm256_loadu_ps((const float *)(u + AVX2_QK_D)),
           dmin = _mm256_loadu_ps((const float *)(u + AVX2_QK_DMIN));
    for (int t = 0; t < n_t; t++) {
        int32_t bp[4];
        avx2_q8_k_sums32(xb[t], bp);
        __m256i mins = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++)
            mins = _mm256_add_epi32(
                mins,
                _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(u + AVX2_QK_MN + 32 * k)),
                                  _mm256_set1_epi32(bp[k])));
        float dx;
        memcpy(&dx, xb[t], sizeof dx);
        __m256 v = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), dmin,
                                    _mm256_mul_ps(_mm256_cvtepi32_ps(sum[t]), d));
        acc[t] = _mm256_fmadd_ps(v, _mm256_set1_ps(dx), acc[t]);
    }
}

/* n_t tokens over nsb rebuilt half super-blocks at u into y (added unless first). Per
 * sub-block and token: eight vpmaddubsw and 16-bit adds, then one vpmaddwd against the scale
 * (Q5_K: two, its codes reaching 31) and a 32-bit add; per super-block the mins' four. */
static inline __attribute__((always_inline)) void
avx2_qk_rebuilt_pass(const int n_t, const int five, const uint8_t *u, int64_t nsb,
                     const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride, int first)
{
    __m256 acc[AVX2_GEMM_TOKENS];
    for (int t = 0; t < n_t; t++)
        acc[t] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(y + t * y_stride);
    for (int64_t b = 0; b < nsb; b++, u += AVX2_QK_HALF) {
        const uint8_t *xb[AVX2_GEMM_TOKENS];
        __m256i sum[AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            xb[t] = act + (uint64_t)t * act_stride + b * sizeof(tm_block_q8_k);
            sum[t] = _mm256_setzero_si256();
        }
        for (int j = 0; j < 8; j++) {
            __m256i scale = _mm256_loadu_si256((const __m256i *)(u + AVX2_QK_SC + 32 * j));
            __m256i s16[AVX2_GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                s16[t] = _mm256_setzero_si256();
            for (int g = 0; g < 8; g++) {
                __m256i w = _mm256_loadu_si256((const __m256i *)(u + AVX2_QK_W + 32 * (8 * j + g)));
                for (int t = 0; t < n_t; t++)
                    s16[t] = avx2_chain(_mm256_add_epi16(
                        s16[t], _mm256_maddubs_epi16(
                                    w, avx2_bcast_word(xb[t] + offsetof(tm_block_q8_k, qs) +
                                                       j * 32 + 4 * g))));
                if (five && g == 3) /* the first four words' sums, before they overflow */
                    for (int t = 0; t < n_t; t++) {
                        sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(s16[t], scale));
                        s16[t] = _mm256_setzero_si256();
                    }
            }
            for (int t = 0; t < n_t; t++)
                sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(s16[t], scale));
        }
        avx2_qk_rebuilt_end(n_t, u, xb, sum, acc);
    }
    for (int t = 0; t < n_t; t++)
        _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

static inline __attribute__((always_inline)) void avx2_q4_k_rebuild(const uint8_t *sb, const int h,
                                                                    uint8_t *out)
{
    avx2_qk_rebuild(0, sb, h, out);
}

static inline __attribute__((always_inline)) void avx2_q5_k_rebuild(const uint8_t *sb, const int h,
                                                                    uint8_t *out)
{
    avx2_qk_rebuild(1, sb, h, out);
}

static inline __attribute__((always_inline)) void
avx2_q4_k_rebuilt_pass(const int n_t, const uint8_t *u, int64_t nsb, const uint8_t *act,
                       uint64_t act_stride, float *y, int64_t y_stride, int first)
{
    avx2_qk_rebuilt_pass(n_t, 0, u, nsb, act, act_stride, y, y_stride, first);
}

static inline __attribute__((always_inline)) void
avx2_q5_k_rebuilt_pass(const int n_t, const uint8_t *u, int64_t nsb, const uint8_t *act,
                       uint64_t act_stride, float *y, int64_t y_stride, int first)
{
    avx2_qk_rebuilt_pass(n_t, 1, u, nsb, act, act_stride, y, y_stride, first);
}

#if AVX2_GEMM_VNNI
/* The rebuilt passes with VNNI: a sub-block's (Q6_K: a group's) eight (four) words go into a
 * 32-bit sum by vpdpbusd, one instruction per word and token, which vpmulld scales by the
 * rebuilt scale into the super-block's sum. That sum is the same integer the passes above
 * reach, and the float steps after it are theirs, so decoding and short batches keep those
 * passes and a token's result still does not depend on its batch (check_matmul_tiles; and
 * equals the avx2 table's, test_avxvnni_matches_avx2). (Float scales per sub-block instead,
 * as x86_gemm.h does, would need passes of their own for decoding too: written so, one core
 * decoded Q5_K and Q6_K at 0.70-0.80 of these passes' rate.) The sums stay below 2^31: Q5_K's
 * sub-block at most 8 x 4 x 31 x 128 x 63, eight of them 64 million.
 *
 * Both halves of a chunk are rebuilt (half h of super-block b at u + (2 b + h) x half_bytes)
 * and passed over together, 3 tokens at a time, so each broadcast feeds two products, as in
 * the Q4_0 and Q8_0 passes; the float sums go through y once per super-block, leaving the
 * registers to the integer sums. One core, 2048 x 2048 by 512 tokens on the Zen 5, three
 * alternating runs against passes of 4 tokens over one half: Q4_K 124-139 against 128-132
 * GMAC/s, Q5_K 136-144 against 125-132, Q6_K 126-140 against 122-136; passes of 2 tokens
 * over both halves no faster than one half. */
#define AVX2_VNNI_K_TOKENS 3

/* sum[h][t] += sc_h x (the n_w code vectors at w + h x half_bytes . token t's words at
 * xb[t] + at), for both halves h: each broadcast word feeds the two halves' products. */
static inline __attribute__((always_inline)) void
avx2_vnni_scaled_words(const int n_t, const int n_w, const uint8_t *w, const int64_t half_bytes,
                       const uint8_t *sc, const uint8_t *const *xb, const int64_t at,
                       __m256i sum[2][AVX2_GEMM_TOKENS])
{
    __m256i s[2][AVX2_GEMM_TOKENS];
    for (int t = 0; t < n_t; t++)
        s[0][t] = s[1][t] = _mm256_setzero_si256();
    for (int g = 0; g < n_w; g++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + 32 * g));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + half_bytes + 32 * g));
        for (int t = 0; t < n_t; t++) {
            __m256i xw = avx2_bcast_word(xb[t] + at + 4 * g);
            s[0][t] = _mm256_dpbusd_avx_epi32(s[0][t], w0, xw);
            s[1][t] = _mm256_dpbusd_avx_epi32(s[1][t], w1, xw);
        }
    }
    for (int h = 0; h < 2; h++) {
        __m256i sc_h = _mm256_loadu_si256((const __m256i *)(sc + h * half_bytes));
        for (int t = 0; t < n_t; t++)
            sum[h][t] = _mm256_add_epi32(sum[h][t], _mm256_mullo_epi32(s[h][t], sc_h));
    }
}

/* n_t tokens over nsb rebuilt super-blocks, both halves, at u into y (added unless first):
 * Q4_K and Q5_K's 8 sub-blocks of 8 words, or (six) Q6_K's 16 groups of 4 and its offset. */
static inline __attribute__((always_inline)) void
avx2_vnni_k_rebuilt_pass(const int n_t, const int six, const uint8_t *u, int64_t nsb,
                         const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride,
                         int first)
{
    const int64_t half = six ? AVX2_Q6K_HALF : AVX2_QK_HALF;
    const int n_g = six ? 16 : 8, n_w = six ? 4 : 8; /* sub-blocks (groups), words in each */
    for (int64_t b = 0; b < nsb; b++, u += 2 * half) {
        const uint8_t *xb[AVX2_GEMM_TOKENS];
        __m256i sum[2][AVX2_GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            xb[t] = act + (uint64_t)t * act_stride + b * sizeof(tm_block_q8_k);
            sum[0][t] = sum[1][t] = _mm256_setzero_si256();
        }
        for (int g = 0; g < n_g; g++) {
            avx2_vnni_scaled_words(n_t, n_w, u + (six ? AVX2_Q6K_W : AVX2_QK_W) + 32 * n_w * g,
                                   half, u + (six ? AVX2_Q6K_SC : AVX2_QK_SC) + 32 * g, xb,
                                   offsetof(tm_block_q8_k, qs) + 4 * n_w * g, sum);
            if (six && (g & 1))
                for (int h = 0; h < 2; h++)
                    for (int t = 0; t < n_t; t++)
                        sum[h][t] =
                            _mm256_sub_epi32(sum[h][t], avx2_q6_k_offset(u + h * half, xb[t], g));
        }
        for (int h = 0; h < 2; h++) {
            __m256 acc[AVX2_GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                acc[t] = first && b == 0 ? _mm256_setzero_ps()
                                         : _mm256_loadu_ps(y + t * y_stride + h * 8);
            if (six)
                avx2_q6_k_rebuilt_end(n_t, u + h * half, xb, sum[h], acc);
            else
                avx2_qk_rebuilt_end(n_t, u + h * half, xb, sum[h], acc);
            for (int t = 0; t < n_t; t++)
                _mm256_storeu_ps(y + t * y_stride + h * 8, acc[t]);
        }
    }
}

static inline __attribute__((always_inline)) void
avx2_vnni_qk_rebuilt_pass(const int n_t, const uint8_t *u, int64_t nsb, const uint8_t *act,
                          uint64_t act_stride, float *y, int64_t y_stride, int first)
{
    avx2_vnni_k_rebuilt_pass(n_t, 0, u, nsb, act, act_stride, y, y_stride, first);
}

static inline __attribute__((always_inline)) void
avx2_vnni_q6_k_rebuilt_pass(const int n_t, const uint8_t *u, int64_t nsb, const uint8_t *act,
                            uint64_t act_stride, float *y, int64_t y_stride, int first)
{
    avx2_vnni_k_rebuilt_pass(n_t, 1, u, nsb, act, act_stride, y, y_stride, first);
}
#define AVX2_REBUILT_HALVES    2 /* halves rebuilt per chunk and passed over together */
#define AVX2_REBUILT_TOKENS    AVX2_VNNI_K_TOKENS
#define AVX2_Q4_K_REBUILT_PASS avx2_vnni_qk_rebuilt_pass
#define AVX2_Q5_K_REBUILT_PASS avx2_vnni_qk_rebuilt_pass
#define AVX2_Q6_K_REBUILT_PASS avx2_vnni_q6_k_rebuilt_pass
#else
#define AVX2_REBUILT_HALVES    1
#define AVX2_REBUILT_TOKENS    AVX2_GEMM_TOKENS
#define AVX2_Q4_K_REBUILT_PASS avx2_q4_k_rebuilt_pass
#define AVX2_Q5_K_REBUILT_PASS avx2_q5_k_rebuilt_pass
#define AVX2_Q6_K_REBUILT_PASS avx2_q6_k_rebuilt_pass
#endif

/* The K-quants' GEMM. The passes above rebuild the codes (nibbles, Q5_K's fifth bits, Q6_K's
 * bit pairs) and Q4_K's and Q5_K's tables in every pass of 4 tokens: per Q6_K group, some 23
 * operations for the 4 tokens' 46. Batches of min_tokens or more (prompts) instead rebuild a
 * chunk of AVX2_REBUILT_CHUNK super-blocks of one half once, into a buffer on the stack that
 * stays in L1, and every pass of 4 tokens over the batch reads it back; the passes' float sums
 * go through y between chunks. One core, 2048 x 2048 by 64 and 256 tokens, three alternating
 * runs: Q4_K 56-84 -> 84-101 GMAC/s, Q5_K 35-55 -> 86-96, Q6_K 33-61 -> 72-86; pp512 of the
 * llama-1b-shape files, 2 threads, five alternating pairs, medians of the pairs' ratios: Q4_K_M
 * 1.12, Q5_K_M 1.54, Q6_K 1.22 (AMD Zen 3). Smaller batches keep the passes: rebuilt from 4
 * tokens on, the Q4_K_M file's prompts of 4 and 8 tokens ran 0.86 and 0.93 of the passes'
 * rate (Q4_K rebuilds cheaply), 12 tokens 1.06, 16 1.20; the Q5_K_M and Q6_K files' 8 tokens
 * 1.16 and 1.13, 4 tokens 1.01 and 1.04 (six alternating pairs each): so Q4_K from 12 tokens,
 * Q5_K and Q6_K from 8. Q4_0 and Q8_0, whose passes rebuild less (an and and a shift per word,
 * or a flip and vpabsb), ran slower rebuilt (one core: 0.81-0.92 and 0.85-0.97 of the passes'
 * rate): not done. */
#define AVX2_REBUILT_CHUNK 4 /* super-blocks: 1024 columns, at most 11 KiB rebuilt a half */
/* (in the body below: the chunk of n super-blocks from b0 rebuilt in u, tokens t .. t + n_t - 1) */
#define AVX2_REBUILT_PASS(fn, n_t, t) \
    fn(n_t, u, n, xc + (t)*act_stride, act_stride, yh + (t)*y_stride, y_stride, b0 == 0)
/* (AVX2_REBUILT_HALVES of the group's two halves rebuilt per chunk, from half h: one for the
 * AVX2 passes, both for the VNNI ones) */
#define AVX2_REBUILT_DEFINE(name, pass, rebuild, rebuilt_pass, sb_bytes, half_bytes, min_tokens) \
    AVX2_GEMM_DEFINE(name##_passes, pass, TM_QK_K, 1, 0)                                         \
    static void name(int64_t n_cols, const void *group, const void *act, uint64_t act_stride,    \
                     int64_t n_tokens, float *y, int64_t y_stride)                               \
    {                                                                                            \
        if (n_tokens < (min_tokens)) {                                                           \
            name##_passes(n_cols, group, act, act_stride, n_tokens, y, y_stride);                \
            return;                                                                              \
        }                                                                                        \
        uint8_t u[AVX2_REBUILT_CHUNK * AVX2_REBUILT_HALVES * (half_bytes)];                      \
        const uint8_t *g = group, *x = act;                                                      \
        int64_t nsb = n_cols / TM_QK_K;                                                          \
        for (int h = 0; h < 2; h += AVX2_REBUILT_HALVES)                                         \
            for (int64_t b0 = 0; b0 < nsb; b0 += AVX2_REBUILT_CHUNK) {                           \
                int64_t n = TM_MIN(AVX2_REBUILT_CHUNK, nsb - b0);                                \
                for (int64_t b = 0; b < n; b++)                                                  \
                    for (int hh = 0; hh < AVX2_REBUILT_HALVES; hh++)                             \
                        rebuild(g + (b0 + b) * (sb_bytes), h + hh,                               \
                                u + (AVX2_REBUILT_HALVES * b + hh) * (half_bytes));              \
                const uint8_t *xc = x + b0 * sizeof(tm_block_q8_k);                              \
                float *yh = y + h * 8;                                                           \
                AVX2_BY_PASSES(n_tokens, AVX2_REBUILT_TOKENS, AVX2_REBUILT_PASS, rebuilt_pass);  \
            }                                                                                    \
    }

AVX2_REBUILT_DEFINE(avx2_gemm_x16_q4_k, avx2_q4_k_pass, avx2_q4_k_rebuild, AVX2_Q4_K_REBUILT_PASS,
                    TM_PACK_Q4_K_SB, AVX2_QK_HALF, 12)
AVX2_REBUILT_DEFINE(avx2_gemm_x16_q5_k, avx2_q5_k_pass, avx2_q5_k_rebuild, AVX2_Q5_K_REBUILT_PASS,
                    TM_PACK_Q5_K_SB, AVX2_QK_HALF, 8)
AVX2_REBUILT_DEFINE(avx2_gemm_x16_q6_k, avx2_q6_k_pass, avx2_q6_k_rebuild, AVX2_Q6_K_REBUILT_PASS,
                    TM_PACK_Q6_K_SB, AVX2_Q6K_HALF, 8)

static void avx2_gemm_fill(tm_kernels *k)
{
    k->gemm_x16[TM_DTYPE_Q4_0] = avx2_gemm_x16_q4_0;
    k->gemm_x16[TM_DTYPE_Q8_0] = avx2_gemm_x16_q8_0;
    k->gemm_x16[TM_DTYPE_Q4_K] = avx2_gemm_x16_q4_k;
    k->gemm_x16[TM_DTYPE_Q5_K] = avx2_gemm_x16_q5_k;
    k->gemm_x16[TM_DTYPE_Q6_K] = avx2_gemm_x16_q6_k;
}

#endif
