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

/* Decoding streams the weights once, and a packed group lies in the order a pass reads it
 * (tensor.h), so the hardware prefetchers see one stream. Q4_0 and Q8_0 leave it to them: on
 * an AMD Zen 4 one core streaming Q4_0 with software prefetches reached 21 GB/s, without them
 * 27 GB/s, and the llama-1b-shape model's tg lost 18% (Q4_0) and 3% (Q8_0) to prefetching 8
 * KiB ahead; on the Zen 5 VM (2 cores, llama-1b-shape, tg64, alternating runs) Q4_0 with 8
 * or 12 KiB ahead ran 0.83-0.93 of the bandwidth limit at 32-35 GB/s (median 0.89) against
 * 0.78-0.98 without (0.93), Q8_0 with 12 KiB 0.88-1.01 (0.90) against 0.97-1.02 (0.98), and
 * Q4_0 at 48-58 GB/s a median 0.74 either way.
 *
 * The K-quants' passes do more work per byte, and the hardware alone fell behind: they ask
 * for the lines a few KiB ahead, in whole super-blocks. How far matters more than whether.
 * Q4_K's pass asked for the next super-block (2.3 KB ahead), which on the Zen 5 VM held the
 * llama-1b-shape Q4_K_M file's tg64 to 0.78-0.84 of its limit at 29-34 GB/s and 0.53-0.56 at
 * 50-60 GB/s; four super-blocks ahead (9 KB), 0.84-0.93 and 0.76-0.85 (once 0.56); no
 * prefetch, 0.84-0.94 and 0.61-0.64 (alternating runs over three sweeps); two ahead between;
 * six and eight within noise of four. (An earlier session on the same VM had measured one
 * ahead well above none, tg64 50-55 -> 61-69 t/s: the memory system behind a VM changes.)
 * AVX2's passes show the same (avx2_gemm.h). The figures fit this reading, not proven: a
 * software prefetch that comes before the hardware prefetcher's request turns the core's
 * misses into hits, the prefetcher, trained on misses, stops running ahead, and the stream's
 * lead is then the software distance alone, so one core streams at most distance / latency.
 * Where we prefetch, it goes into L2 (prefetcht1), not L1: a prefetch into L1 holds one of the
 * core's few L1 miss buffers until its line arrives. */
#define GEMM_PREFETCH_HINT _MM_HINT_T1
/* in super-blocks ahead: Q4_K's 9 KB (above); Q5_K's and Q6_K's 5.6 and 6.7 KB, where three
 * or four ran within noise of two, on Zen 4 under a former layout and on the Zen 5 VM */
#define GEMM_PREFETCH_Q4_K 4
#define GEMM_PREFETCH_Q5_K 2
#define GEMM_PREFETCH_Q6_K 2
#define GEMM_TOKENS        8 /* tokens per pass: 8 float sums + 8 weight vectors fit the registers */

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

/* acc + w . (the 4-byte word at p in every lane), the word read by the instruction's own
 * broadcast ({1to16}) rather than by a vpbroadcastd before it: one instruction a product
 * instead of two. GCC never folds set1 into the operand, hence the asm. Taken by the K-quants'
 * prompt passes, where it paid: one core, 2048 x 2048 by 512 tokens on the Zen 5 VM, three
 * alternating pairs, Q4_K 225-236 -> 252-259 GMAC/s, Q6_K 180-188 -> 191-193; the
 * llama-1b-shape Q4_K_M file's pp512 396-413 -> 415-448 t/s (ratios 1.04-1.10). Q4_0's and
 * Q8_0's passes ran 3% slower with it, and decode (one or two tokens, every type) within
 * noise of without: they keep the separate broadcast. */
static inline __attribute__((always_inline)) __m512i dpbusd_bcast(__m512i acc, __m512i w,
                                                                  const uint8_t *p)
{
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const int32_t *)p));
    return acc;
}

/* the same for vpdpwssd (16-bit pairs): the K-quants' mins and Q6_K's offsets in prompts */
static inline __attribute__((always_inline)) __m512i dpwssd_bcast(__m512i acc, __m512i w,
                                                                  const uint8_t *p)
{
    __asm__("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const int32_t *)p));
    return acc;
}

/* With few tokens, one token's eight vpdpbusd in a row would wait on each other's latency:
 * they are spread over independent partial sums, added at the end. How many pays differs:
 * on an AMD Zen 5 one chain made the packed decode slower than the file layout's dots, on
 * the Intel AMX machine four chains' extra additions cost 4% of tg64 against one (Q4_0;
 * 3% Q4_K_M) and two came within 0.5% of one: two, for both. */
#define GEMM_CHAINS(n_t) ((n_t) <= 4 ? 2 : 1)

/* s[t] = init[t] + sum over words g < n_w of w[g] . (activation word g of token t), where
 * token t's words start at x[t] + 4 g; fold: the broadcasts folded into the products.
 *
 * hi16 (two chains only): the upper half's words hold codes x 16 (Q4_0's high nibbles taken
 * where they lie, p & 0xF0, one instruction where moving them down takes two); they go to
 * the second chain, which is shifted down by 4 as it joins: exact, every product in it a
 * multiple of 16, so the sums are the ones without. One core, 2048 x 2048, one token, ten
 * alternating runs: Q4_0 110 -> 115 GMAC/s (every pair 1.02-1.31); the llama-1b-shape Q4_0
 * file's tg64 at 55-59 GB/s 0.77-0.86 -> 0.77-0.88 of its limit (five runs each, alternating,
 * medians 0.84 -> 0.85), within noise at 33 GB/s. The same for Q4_K's odd sub-blocks ran 6%
 * faster in the cache but held the Q4_K_M file to 0.70-0.75 of its limit at 55-60 GB/s
 * against 0.75-0.77 (seven runs and three): not taken. */
static inline __attribute__((always_inline)) void dot_words(const int n_t, const int fold,
                                                            const int hi16, const int n_w,
                                                            const __m512i *w,
                                                            const uint8_t *const *x, __m512i *s)
{
    const int n_c = GEMM_CHAINS(n_t);
    __m512i part[GEMM_TOKENS][4];
    for (int t = 0; t < n_t; t++)
        for (int c = 0; c < n_c; c++)
            part[t][c] = c == 0 ? s[t] : _mm512_setzero_si512();
    for (int k = 0; k < n_w; k++) { /* hi16: a lower word, then its upper twin */
        const int g = hi16 ? (k >> 1) + (k & 1) * (n_w / 2) : k, c = hi16 ? k & 1 : g % n_c;
        for (int t = 0; t < n_t; t++)
            part[t][c] = fold ? dpbusd_bcast(part[t][c], w[g], x[t] + 4 * g)
                              : _mm512_dpbusd_epi32(part[t][c], w[g], bcast_word(x[t] + 4 * g));
    }
    for (int t = 0; t < n_t; t++) {
        __m512i sum = part[t][0];
        for (int c = 1; c < n_c; c++)
            sum = _mm512_add_epi32(sum, hi16 ? _mm512_srai_epi32(part[t][c], 4) : part[t][c]);
        s[t] = sum;
    }
}

static inline __attribute__((always_inline)) void
gemm_x16_pass(const int n_t, const int offset_shift, const int64_t nb, const uint8_t *group,
              const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    gemm_act a[GEMM_TOKENS];
    __m512 acc[GEMM_TOKENS];
    for (int t = 0; t < n_t; t++) {
        a[t] = gemm_act_row(act + (uint64_t)t * act_stride, nb);
        acc[t] = _mm512_setzero_ps();
    }
    const __m512i low = _mm512_set1_epi8(0x0F);
    const int64_t block_bytes = offset_shift == 3 ? TM_PACK_Q4_0_BLOCK : TM_PACK_Q8_0_BLOCK;
    const int hi16 = offset_shift == 3 && GEMM_CHAINS(n_t) == 2; /* dot_words */
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = group + b * block_bytes, *qs = blk + TM_PACK_CODES;
        __m512i w[8];
        if (offset_shift == 3) { /* Q4_0: four vectors of nibble pairs */
            for (int v = 0; v < 4; v++) {
                __m512i p = _mm512_loadu_si512(qs + v * 64);
                w[v] = _mm512_and_si512(p, low);
                w[v + 4] = hi16 ? _mm512_andnot_si512(low, p)
                                : _mm512_and_si512(_mm512_srli_epi16(p, 4), low);
            }
        } else { /* Q8_0 */
            for (int g = 0; g < 8; g++)
                w[g] = _mm512_loadu_si512(qs + g * 64);
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
        /* tokens innermost: n_t independent sums in flight between one token's steps */
        __m512i s[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) /* the offset's share: -offset x sum, a shift */
            s[t] = _mm512_slli_epi32(_mm512_set1_epi32(a[t].neg_sum[b]), offset_shift);
        const uint8_t *xw[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++)
            xw[t] = a[t].q + b * 32;
        dot_words(n_t, 0, hi16, 8, w, xw, s);
        for (int t = 0; t < n_t; t++) {
            __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(a[t].d[b]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), scale, acc[t]);
        }
    }
    for (int t = 0; t < n_t; t++)
        _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

/* The passes every packed GEMM below runs: n_t tokens, nb blocks of a 16-row group. */
static inline __attribute__((always_inline)) void
gemm_q4_0_pass(const int n_t, const int64_t nb, const uint8_t *group, const uint8_t *act,
               uint64_t act_stride, float *y, int64_t y_stride)
{
    gemm_x16_pass(n_t, 3, nb, group, act, act_stride, y, y_stride); /* offset 8 */
}

static inline __attribute__((always_inline)) void
gemm_q8_0_pass(const int n_t, const int64_t nb, const uint8_t *group, const uint8_t *act,
               uint64_t act_stride, float *y, int64_t y_stride)
{
    gemm_x16_pass(n_t, 7, nb, group, act, act_stride, y, y_stride); /* offset 128 */
}

/* ---- K-quants x Q8_K ---------------------------------------------------------------------
 * A Q8_K activation block: float d at byte 0, 256 codes at 4, 16 int16 sums of 16 at 260. */
static inline const uint8_t *q8k_block(const uint8_t *row, int64_t b)
{
    return row + b * sizeof(tm_block_q8_k);
}

static inline float q8k_d(const uint8_t *blk)
{
    float d;
    memcpy(&d, blk, sizeof d);
    return d;
}

/* 16 bytes q (a constant after unrolling) of a vector. */
static inline __attribute__((always_inline)) __m128i extract_quarter(__m512i v, const int q)
{
    switch (q) {
    case 0:
        return _mm512_castsi512_si128(v);
    case 1:
        return _mm512_extracti32x4_epi32(v, 1);
    case 2:
        return _mm512_extracti32x4_epi32(v, 2);
    default:
        return _mm512_extracti32x4_epi32(v, 3);
    }
}

/* Sub-block j's 6-bit mins of the 16 rows, each in both 16-bit halves of its lane: the
 * vpdpwssd operand against a token's two Q8_K sums of 16. */
static inline __attribute__((always_inline)) __m512i min_pairs(const __m512i m_tab[2], const int j)
{
    __m512i m32 = _mm512_cvtepu8_epi32(extract_quarter(m_tab[j >> 2], j & 3));
    return _mm512_or_si512(m32, _mm512_slli_epi32(m32, 16));
}

/* Q4_K and Q5_K, sub-block by sub-block: the eight words of sub-block j for every token, then
 * its scale d * sc[j] for the 16 rows. The mins' share, dmin * m[j] * sum of the sub-block's
 * activation codes, is one vpdpwssd per token and sub-block against the Q8_K sums of 16
 * taken in pairs, with m[j] in both halves of each lane. Q5_K (five) adds each code's fifth
 * bit, bit j of the qh vector beside its nibble's, moved to bit 4. */
static inline __attribute__((always_inline)) void
gemm_qk_affine_pass(const int n_t, const int five, const int64_t nsb, const uint8_t *group,
                    const uint8_t *act, uint64_t act_stride, float *y, int64_t y_stride)
{
    const int64_t sb_bytes = five ? TM_PACK_Q5_K_SB : TM_PACK_Q4_K_SB;
    const int64_t qs_at = five ? TM_PACK_Q5_K_QS : TM_PACK_Q4_K_QS;
    __m512 acc[GEMM_TOKENS];
    for (int t = 0; t < n_t; t++)
        acc[t] = _mm512_setzero_ps();
    const __m512i low = _mm512_set1_epi8(0x0F), bit4 = _mm512_set1_epi8(0x10),
                  bits45 = _mm512_set1_epi8(0x30);
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * sb_bytes;
        if (n_t <= 2 && five) /* decoding Q5_K: ask for the super-block two ahead */
            for (int64_t l = 0; l < sb_bytes; l += 64)
                _mm_prefetch((const char *)(sb + GEMM_PREFETCH_Q5_K * sb_bytes + l),
                             GEMM_PREFETCH_HINT);
        const uint8_t *xb[GEMM_TOKENS];
        float dx[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            xb[t] = q8k_block(act + (uint64_t)t * act_stride, b);
            dx[t] = q8k_d(xb[t]);
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)sb));
        __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sb + TM_PACK_KM_DMIN)));
        /* Prompts: per token, the super-block's sum before the activation's scale, which is
         * one per super-block, so it multiplies once rather than once per sub-block (pp512
         * Q4_K_M +7-18%, Q5_K_M +3-24%, three alternating pairs on the 2-core Zen 4). Decode
         * keeps the multiply per sub-block: its pass is memory-bound, and the same rewrite
         * there made one core stream Q5_K 7% slower. */
        __m512i mins[GEMM_TOKENS];
        __m512 part[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            mins[t] = _mm512_setzero_si512();
            part[t] = _mm512_setzero_ps();
        }
        /* the 6-bit scales and mins of all 8 sub-blocks at once (byte 16 (j % 4) + r of the
         * j < 4 or j >= 4 vector): once per super-block, not once per sub-block */
        __m512i ls = _mm512_loadu_si512(sb + TM_PACK_KM_LO_SC);
        __m512i lm = _mm512_loadu_si512(sb + TM_PACK_KM_LO_M);
        __m512i hb = _mm512_loadu_si512(sb + TM_PACK_KM_HI);
        __m512i sc_tab[2] = {_mm512_or_si512(_mm512_and_si512(ls, low),
                                             _mm512_and_si512(_mm512_slli_epi16(hb, 4), bits45)),
                             _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ls, 4), low),
                                             _mm512_and_si512(_mm512_slli_epi16(hb, 2), bits45))};
        __m512i m_tab[2] = {
            _mm512_or_si512(_mm512_and_si512(lm, low), _mm512_and_si512(hb, bits45)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lm, 4), low),
                            _mm512_and_si512(_mm512_srli_epi16(hb, 2), bits45))};
#pragma GCC unroll 8 /* the fifth bit's shift and the table lanes constants */
        for (int j = 0; j < 8; j++) {
            __m128i sc = extract_quarter(sc_tab[j >> 2], j & 3);
            __m512 dsc = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc)));
            __m512i mpair = min_pairs(m_tab, j);
            /* sub-block j: low nibbles of vectors 8(j/2).. for even j, high ones for odd */
            const uint8_t *qs = sb + qs_at + (j >> 1) * 8 * 64;
            if (n_t <= 2 && !five && !(j & 1)) /* decoding Q4_K: a quarter per pair of j */
                tm_prefetch_l2(sb + GEMM_PREFETCH_Q4_K * sb_bytes + (j >> 1) * (sb_bytes / 4),
                               sb_bytes / 4);
            __m512i w[8];
            for (int g = 0; g < 8; g++) {
                __m512i p = _mm512_loadu_si512(qs + g * 64);
                w[g] = _mm512_and_si512((j & 1) ? _mm512_srli_epi16(p, 4) : p, low);
                if (five) { /* w | (bit j of qh moved to bit 4) */
                    __m512i h = _mm512_loadu_si512(sb + TM_PACK_Q5_K_QH + g * 64);
                    h = j < 4 ? _mm512_slli_epi16(h, 4 - j) : _mm512_srli_epi16(h, j - 4);
                    w[g] = _mm512_ternarylogic_epi32(w[g], h, bit4, 0xF8);
                }
            }
            __m512i s[GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                s[t] = _mm512_setzero_si512();
            const uint8_t *xw[GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                xw[t] = xb[t] + 4 + j * 32;
            dot_words(n_t, n_t > 2, 0, 8, w, xw, s);
            for (int t = 0; t < n_t; t++) {
                if (n_t > 2)
                    part[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), dsc, part[t]);
                else
                    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]),
                                             _mm512_mul_ps(dsc, _mm512_set1_ps(dx[t])), acc[t]);
                if (n_t <= 2)
                    mins[t] = _mm512_dpwssd_epi32(mins[t], mpair, bcast_word(xb[t] + 260 + j * 4));
            }
        }
        /* Prompts take the mins in a loop of their own: inside the one above, 8 tokens' sums,
         * parts and mins and the 8 weight vectors needed more than the 32 registers, and GCC
         * spilled 140 vectors a super-block; now 41. One core, 2048 x 2048 x 512: Q4_K
         * 140 -> 152 GMAC/s, Q5_K 126 -> 140 (medians of four alternating pairs). */
        if (n_t > 2)
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m512i mpair = min_pairs(m_tab, j);
                for (int t = 0; t < n_t; t++)
                    mins[t] = dpwssd_bcast(mins[t], mpair, xb[t] + 260 + j * 4);
            }
        for (int t = 0; t < n_t; t++) /* the activation's scale, once per super-block */
            if (n_t > 2)
                acc[t] =
                    _mm512_fmadd_ps(_mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins[t]), dmin, part[t]),
                                    _mm512_set1_ps(dx[t]), acc[t]);
            else
                acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins[t]),
                                          _mm512_mul_ps(dmin, _mm512_set1_ps(dx[t])), acc[t]);
    }
    for (int t = 0; t < n_t; t++)
        _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

static inline __attribute__((always_inline)) void
gemm_q4_k_pass(const int n_t, const int64_t nsb, const uint8_t *group, const uint8_t *act,
               uint64_t act_stride, float *y, int64_t y_stride)
{
    gemm_qk_affine_pass(n_t, 0, nsb, group, act, act_stride, y, y_stride);
}

static inline __attribute__((always_inline)) void
gemm_q5_k_pass(const int n_t, const int64_t nsb, const uint8_t *group, const uint8_t *act,
               uint64_t act_stride, float *y, int64_t y_stride)
{
    gemm_qk_affine_pass(n_t, 1, nsb, group, act, act_stride, y, y_stride);
}

/* Q6_K, group of 16 columns by group: four words of 6-bit codes rebuilt from a nibble and a
 * bit pair, their sums scaled by d * scales[g]. The codes' offset of 32 comes out once per
 * super-block: 32 x sum over g of scales[g] x (sum of the group's activation codes), 8
 * vpdpwssd per token against the scale pairs and the Q8_K sums of 16. */
static inline __attribute__((always_inline)) void
gemm_q6_k_pass(const int n_t, const int64_t nsb, const uint8_t *group, const uint8_t *act,
               uint64_t act_stride, float *y, int64_t y_stride)
{
    __m512 acc[GEMM_TOKENS];
    for (int t = 0; t < n_t; t++)
        acc[t] = _mm512_setzero_ps();
    const __m512i low = _mm512_set1_epi8(0x0F), pair = _mm512_set1_epi8(0x30);
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * TM_PACK_Q6_K_SB;
        if (n_t <= 2)
            for (int l = 0; l < TM_PACK_Q6_K_SB; l += 64)
                _mm_prefetch((const char *)(sb + GEMM_PREFETCH_Q6_K * TM_PACK_Q6_K_SB + l),
                             GEMM_PREFETCH_HINT);
        const uint8_t *xb[GEMM_TOKENS];
        float dx[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            xb[t] = q8k_block(act + (uint64_t)t * act_stride, b);
            dx[t] = q8k_d(xb[t]);
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)sb));
        /* Prompts: per token, the super-block's sum before the activation's scale, as in
         * gemm_qk_affine_pass (one core, 2048 x 2048 x 512 tokens: 114 -> 132 GMAC/s; pp512
         * fraction of the peak on the 2-core Zen 4, three alternating pairs: Q6_K
         * 0.484 -> 0.551, Q4_K_M 0.582 -> 0.601); decode keeps the multiply per group. */
        __m512i offs[GEMM_TOKENS];
        __m512 part[GEMM_TOKENS];
        for (int t = 0; t < n_t; t++) {
            offs[t] = _mm512_setzero_si512();
            part[t] = _mm512_setzero_ps();
        }
#pragma GCC unroll 16 /* every shift and offset below a constant (a shift by a count in a \
                         register costs a move and a slower form) */
        for (int g = 0; g < 16; g++) {
            __m512i sp = _mm512_cvtepi8_epi16(
                _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_Q6_K_SC + (g >> 1) * 32)));
            __m512i sc32 = (g & 1) ? _mm512_srai_epi32(sp, 16)
                                   : _mm512_srai_epi32(_mm512_slli_epi32(sp, 16), 16);
            __m512 dsc = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(sc32));
            __m512i w[4];
            for (int k = 0; k < 4; k++) {
                int G = 4 * g + k, hh = G >> 5, G1 = G & 31;
                int pv = 16 * hh + (G1 & 15), qv = 8 * hh + (G1 & 7), shift = 2 * (G1 >> 3);
                __m512i p = _mm512_loadu_si512(sb + tm_pack_q6_k_ql(pv));
                __m512i nib = _mm512_and_si512(G1 >= 16 ? _mm512_srli_epi16(p, 4) : p, low);
                __m512i q = _mm512_loadu_si512(sb + tm_pack_q6_k_qh(qv));
                /* bit pair `shift` of each byte moved to bits 4-5 */
                __m512i hi =
                    shift <= 4 ? _mm512_slli_epi16(q, 4 - shift) : _mm512_srli_epi16(q, shift - 4);
                w[k] = _mm512_ternarylogic_epi32(nib, hi, pair, 0xF8); /* nib | (hi & pair) */
            }
            __m512i s[GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                s[t] = _mm512_setzero_si512();
            const uint8_t *xw[GEMM_TOKENS];
            for (int t = 0; t < n_t; t++)
                xw[t] = xb[t] + 4 + g * 16;
            dot_words(n_t, n_t > 2, 0, 4, w, xw, s);
            for (int t = 0; t < n_t; t++)
                if (n_t > 2)
                    part[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), dsc, part[t]);
                else
                    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]),
                                             _mm512_mul_ps(dsc, _mm512_set1_ps(dx[t])), acc[t]);
            if (n_t <= 2 && (g & 1))
                for (int t = 0; t < n_t; t++)
                    offs[t] =
                        _mm512_dpwssd_epi32(offs[t], sp, bcast_word(xb[t] + 260 + (g - 1) * 2));
        }
        if (n_t > 2) /* in a loop of their own, as Q4_K's mins: 128 spills -> 54 a super-block */
            for (int i = 0; i < 8; i++) {
                __m512i sp = _mm512_cvtepi8_epi16(
                    _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_Q6_K_SC + i * 32)));
                for (int t = 0; t < n_t; t++)
                    offs[t] = dpwssd_bcast(offs[t], sp, xb[t] + 260 + i * 4);
            }
        for (int t = 0; t < n_t; t++) { /* minus 32 x d x dx x sum of scale x group sum */
            __m512 off = _mm512_cvtepi32_ps(_mm512_slli_epi32(offs[t], 5));
            if (n_t > 2)
                acc[t] = _mm512_fmadd_ps(_mm512_fnmadd_ps(off, dw, part[t]), _mm512_set1_ps(dx[t]),
                                         acc[t]);
            else
                acc[t] = _mm512_fnmadd_ps(off, _mm512_mul_ps(dw, _mm512_set1_ps(dx[t])), acc[t]);
        }
    }
    for (int t = 0; t < n_t; t++)
        _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

/* All tokens in passes of 8, then one pass of the rest with its count fixed at compile time. */
#define GEMM_DEFINE(name, pass, block_cols)                                                   \
    static void name(int64_t n_cols, const void *group, const void *act, uint64_t act_stride, \
                     int64_t n_tokens, float *y, int64_t y_stride)                            \
    {                                                                                         \
        int64_t nb = n_cols / (block_cols), t = 0;                                            \
        const uint8_t *x = act;                                                               \
        for (; t + GEMM_TOKENS <= n_tokens; t += GEMM_TOKENS)                                 \
            pass(GEMM_TOKENS, nb, group, x + t * act_stride, act_stride, y + t * y_stride,    \
                 y_stride);                                                                   \
        const uint8_t *xt = x + t * act_stride;                                               \
        float *yt = y + t * y_stride;                                                         \
        switch (n_tokens - t) {                                                               \
        case 1:                                                                               \
            pass(1, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        case 2:                                                                               \
            pass(2, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        case 3:                                                                               \
            pass(3, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        case 4:                                                                               \
            pass(4, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        case 5:                                                                               \
            pass(5, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        case 6:                                                                               \
            pass(6, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        case 7:                                                                               \
            pass(7, nb, group, xt, act_stride, yt, y_stride);                                 \
            break;                                                                            \
        default:                                                                              \
            break;                                                                            \
        }                                                                                     \
    }

GEMM_DEFINE(x512_gemm_x16_q4_0, gemm_q4_0_pass, 32)
GEMM_DEFINE(x512_gemm_x16_q8_0, gemm_q8_0_pass, 32)
GEMM_DEFINE(x512_gemm_x16_q4_k, gemm_q4_k_pass, TM_QK_K)
GEMM_DEFINE(x512_gemm_x16_q5_k, gemm_q5_k_pass, TM_QK_K)
GEMM_DEFINE(x512_gemm_x16_q6_k, gemm_q6_k_pass, TM_QK_K)

static void x512_gemm_fill(tm_kernels *k)
{
    k->gemm_x16[TM_DTYPE_Q4_0] = x512_gemm_x16_q4_0;
    k->gemm_x16[TM_DTYPE_Q8_0] = x512_gemm_x16_q8_0;
    k->gemm_x16[TM_DTYPE_Q4_K] = x512_gemm_x16_q4_k;
    k->gemm_x16[TM_DTYPE_Q5_K] = x512_gemm_x16_q5_k;
    k->gemm_x16[TM_DTYPE_Q6_K] = x512_gemm_x16_q6_k;
}

#endif
