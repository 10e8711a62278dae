/* Packed-weight GEMM with SDOT by lane (FEAT_DotProd), for dotprod.c (and the single tokens
 * of i8mm.c's GEMMs). The packed layout (tensor.h) stores four codes of each of 16 rows per
 * 64 bytes: four 16-byte NEON registers of 4 rows x 4 codes, which is exactly the first
 * operand of vdotq_laneq_s32(acc, w, x, lane): each 32-bit lane of acc (one row) gains the
 * dot of its row's 4 codes with the 4 activation codes in word `lane` of x. A block of 32
 * activation codes is two registers (eight words), loaded once per token and block and never
 * broadcast, and the sums of 4 rows land in one register with no horizontal reduction.
 *
 * A pass takes a tile of rows (all 16, or 8 as two row quartets) by up to 4 tokens. Decoding
 * (one or two tokens) takes all 16 rows, so each 64-byte vector of weights is read in full
 * once, and splits one token's SDOT chain in two. Prompts take 8 rows x 4 tokens: 8 integer
 * sums, 8 float sums, 8 activation registers and the weights fit the 32 registers.
 *
 * Code offsets: Q4_0's nibbles q (0..15, weight q - 8) go into SDOT as they are and the sum
 * starts at -8 x sum(activation codes), which the activation row carries (tm_pack_act_*);
 * our Q8_0 layout's q + 128 gets its sign back by flipping bit 7; Q6_K's codes are made
 * signed (c - 32) before the multiply; Q4_K's and Q5_K's mins come out through the Q8_K sums
 * of 16. K-quant group scales multiply the 32-bit lanes, so a super-block ends in one conversion.
 *
 * The integer sums are exact, so results equal the reference's up to float summation order.
 * Lane numbers must be immediates: dot_lane's switch folds away wherever the lane is a
 * constant after inlining, and still computes the right thing where it is not (-O0). */
#ifndef TM_KERNELS_ARM_GEMM_H
#define TM_KERNELS_ARM_GEMM_H

#ifndef TM_KERNELS_ARM_DOTS_H
#error "arm_gemm.h builds on arm_dots.h (ARM_INLINE): include that first"
#endif

#include <arm_neon.h>
#include <string.h>

#define GEMM_TOKENS 4 /* tokens per pass */

ARM_INLINE int32x4_t dot_lane(int32x4_t s, int8x16_t w, int8x16_t x, const int lane)
{
    switch (lane) {
    case 0:
        return vdotq_laneq_s32(s, w, x, 0);
    case 1:
        return vdotq_laneq_s32(s, w, x, 1);
    case 2:
        return vdotq_laneq_s32(s, w, x, 2);
    default:
        return vdotq_laneq_s32(s, w, x, 3);
    }
}

/* Rows 4 quartet .. + 3 of a 64-byte packed vector at p. */
ARM_INLINE uint8x16_t quartet(const uint8_t *p, int quartet_index)
{
    return vld1q_u8(p + 16 * quartet_index);
}

/* Fp16 scales of four rows. */
ARM_INLINE float32x4_t scales4(const uint8_t *p)
{
    uint16_t h[4];
    memcpy(h, p, sizeof h);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

/* The tile shape of a pass with n_t tokens: row quartets, and SDOT chains per sum. */
#define GEMM_QUARTETS(n_t) ((n_t) <= 2 ? 4 : 2)
#define GEMM_CHAINS(n_t)   ((n_t) == 1 ? 2 : 1)

typedef struct gemm_act {
    const float *d;         /* [nb] scales */
    const int32_t *neg_sum; /* [nb] minus the sums of the codes */
    const int8_t *q;        /* [n] codes */
} gemm_act;

ARM_INLINE gemm_act gemm_act_row(const uint8_t *row, int64_t nb)
{
    gemm_act a = {(const float *)row, (const int32_t *)row + nb, (const int8_t *)(row + nb * 8)};
    return a;
}

/* Q4_0 (q4) or Q8_0: rows 4 q0 .. 4 (q0 + nq) - 1 of the group by n_t tokens. */
ARM_INLINE void gemm_q8_pass(const int n_t, const int q0, const int nq, const bool q4, int64_t nb,
                             const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                             float *y, int64_t y_stride)
{
    const int n_c = GEMM_CHAINS(n_t);
    gemm_act a[GEMM_TOKENS];
    float32x4_t acc[GEMM_TOKENS][4];
    for (int t = 0; t < n_t; t++) {
        a[t] = gemm_act_row(act + (uint64_t)t * act_stride, nb);
        for (int q = 0; q < nq; q++)
            acc[t][q] = vdupq_n_f32(0);
    }
    const uint8x16_t low = vdupq_n_u8(0x0F), sign = vdupq_n_u8(0x80);
    const int64_t block_bytes = q4 ? TM_PACK_Q4_0_BLOCK : TM_PACK_Q8_0_BLOCK;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = group + b * block_bytes, *qs = blk + TM_PACK_CODES;
        int8x16_t x[GEMM_TOKENS][2];
        int32x4_t s[GEMM_TOKENS][4][2];
        for (int t = 0; t < n_t; t++) {
            x[t][0] = vld1q_s8(a[t].q + b * 32);
            x[t][1] = vld1q_s8(a[t].q + b * 32 + 16);
            /* Q4_0: the offset's share, -8 x sum of the block's codes */
            int32x4_t init = vdupq_n_s32(q4 ? a[t].neg_sum[b] * 8 : 0);
            for (int q = 0; q < nq; q++) {
                s[t][q][0] = init;
                s[t][q][1] = vdupq_n_s32(0);
            }
        }
        if (q4) {         /* vector v: low nibbles are columns 4v.., high ones 16 + 4v.. */
            if (n_t <= 2) /* decoding streams the weights: ask for them early */
                __builtin_prefetch(blk + 4 * TM_PACK_Q4_0_BLOCK);
            for (int v = 0; v < 4; v++)
                for (int q = 0; q < nq; q++) {
                    uint8x16_t p = quartet(qs + v * 64, q0 + q);
                    int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(p, low));
                    int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(p, 4));
                    for (int t = 0; t < n_t; t++) {
                        s[t][q][0] = dot_lane(s[t][q][0], lo, x[t][0], v);
                        s[t][q][n_c - 1] = dot_lane(s[t][q][n_c - 1], hi, x[t][1], v);
                    }
                }
        } else { /* vector g: columns 4g..4g + 3, stored q + 128 */
            if (n_t <= 2)
                __builtin_prefetch(blk + 2 * TM_PACK_Q8_0_BLOCK);
            for (int g = 0; g < 8; g++)
                for (int q = 0; q < nq; q++) {
                    int8x16_t w = vreinterpretq_s8_u8(veorq_u8(quartet(qs + g * 64, q0 + q), sign));
                    for (int t = 0; t < n_t; t++)
                        s[t][q][g % n_c] = dot_lane(s[t][q][g % n_c], w, x[t][g >> 2], g & 3);
                }
        }
        for (int q = 0; q < nq; q++) {
            float32x4_t dw = scales4(blk + (q0 + q) * 8);
            for (int t = 0; t < n_t; t++) {
                int32x4_t sum = n_c == 2 ? vaddq_s32(s[t][q][0], s[t][q][1]) : s[t][q][0];
                acc[t][q] = vfmaq_f32(acc[t][q], vcvtq_f32_s32(sum), vmulq_n_f32(dw, a[t].d[b]));
            }
        }
    }
    for (int t = 0; t < n_t; t++)
        for (int q = 0; q < nq; q++)
            vst1q_f32(y + t * y_stride + 4 * (q0 + q), acc[t][q]);
}

/* Tokens in passes of 4, then the rest with its count fixed at compile time; each pass walks
 * the group once per row tile. PASS(n_t, q0, nq, ...) is the pass function; the enclosing
 * gemm_x16 function provides n_tokens, x (the activation bytes), act_stride, y, y_stride. */
#define GEMM_TOKEN_LOOP(PASS, ...)                                                                 \
    do {                                                                                           \
        int64_t t = 0;                                                                             \
        for (; t + GEMM_TOKENS <= n_tokens; t += GEMM_TOKENS)                                      \
            for (int q0 = 0; q0 < 4; q0 += GEMM_QUARTETS(GEMM_TOKENS))                             \
                PASS(GEMM_TOKENS, q0, GEMM_QUARTETS(GEMM_TOKENS), __VA_ARGS__, x + t * act_stride, \
                     act_stride, y + t * y_stride, y_stride);                                      \
        const uint8_t *xt = x + t * act_stride;                                                    \
        float *yt = y + t * y_stride;                                                              \
        switch (n_tokens - t) {                                                                    \
        case 1:                                                                                    \
            PASS(1, 0, 4, __VA_ARGS__, xt, act_stride, yt, y_stride);                              \
            break;                                                                                 \
        case 2:                                                                                    \
            PASS(2, 0, 4, __VA_ARGS__, xt, act_stride, yt, y_stride);                              \
            break;                                                                                 \
        case 3:                                                                                    \
            PASS(3, 0, 2, __VA_ARGS__, xt, act_stride, yt, y_stride);                              \
            PASS(3, 2, 2, __VA_ARGS__, xt, act_stride, yt, y_stride);                              \
            break;                                                                                 \
        default:                                                                                   \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

static void arm_gemm_x16_q4_0(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    int64_t nb = n_cols / 32;
    const uint8_t *x = act;
    GEMM_TOKEN_LOOP(gemm_q8_pass, true, nb, group);
}

static void arm_gemm_x16_q8_0(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    int64_t nb = n_cols / 32;
    const uint8_t *x = act;
    GEMM_TOKEN_LOOP(gemm_q8_pass, false, nb, group);
}

/* ---- K-quants x Q8_K ---------------------------------------------------------------------
 * A Q8_K activation block: float d at byte 0, 256 codes at 4, 16 int16 sums of 16 at 260. */
ARM_INLINE const uint8_t *q8k_block(const uint8_t *row, int64_t b)
{
    return row + b * sizeof(tm_block_q8_k);
}

ARM_INLINE float q8k_d(const uint8_t *blk)
{
    float d;
    memcpy(&d, blk, sizeof d);
    return d;
}

/* Sums of the 8 sub-blocks of 32 activation codes, from the Q8_K sums of 16. */
ARM_INLINE int16x8_t q8k_sums32(const uint8_t *blk)
{
    int16_t s[16];
    memcpy(s, blk + 260, sizeof s);
    return vpaddq_s16(vld1q_s16(s), vld1q_s16(s + 8));
}

/* The four 32-bit lanes of bytes 4 q .. 4 q + 3 of a 16-byte vector, unsigned or signed. */
ARM_INLINE int32x4_t widen_u8_quartet(uint8x16_t v, const int q)
{
    uint16x8_t h = q < 2 ? vmovl_u8(vget_low_u8(v)) : vmovl_u8(vget_high_u8(v));
    return vreinterpretq_s32_u32(q % 2 == 0 ? vmovl_u16(vget_low_u16(h))
                                            : vmovl_u16(vget_high_u16(h)));
}

ARM_INLINE int32x4_t widen_s8_quartet(int8x16_t v, const int q)
{
    int16x8_t h = q < 2 ? vmovl_s8(vget_low_s8(v)) : vmovl_s8(vget_high_s8(v));
    return q % 2 == 0 ? vmovl_s16(vget_low_s16(h)) : vmovl_s16(vget_high_s16(h));
}

/* Q4_K: per super-block (2304 bytes) d[16], dmin[16], the 6-bit scales and mins of sub-block
 * j for the 16 rows, then 32 code vectors (tensor.h). Sub-block j reads vectors 8 (j / 2)
 * .. + 7, low nibbles for even j and high ones for odd; its sum for each row is scaled by
 * sc[j] in the integer lanes, and m[j] x (the token's sum of the sub-block's codes) gathers
 * the mins, both exact; the super-block ends with d x sum - dmin x mins in float.
 * Q5_K (five): the same tables, then 8 vectors of fifth bits (word g's in vector g, bit j for
 * sub-block j) before the 32 code vectors; each code gains its bit at bit 4 (codes 0..31). */
ARM_INLINE void gemm_qk_affine_pass(const int n_t, const int q0, const int nq, const bool five,
                                    int64_t nsb, const uint8_t *group, const uint8_t *act,
                                    uint64_t act_stride, float *y, int64_t y_stride)
{
    const int n_c = GEMM_CHAINS(n_t);
    float32x4_t acc[GEMM_TOKENS][4];
    for (int t = 0; t < n_t; t++)
        for (int q = 0; q < nq; q++)
            acc[t][q] = vdupq_n_f32(0);
    const uint8x16_t low = vdupq_n_u8(0x0F), three = vdupq_n_u8(3), bit4 = vdupq_n_u8(0x10);
    const int64_t sb_bytes = five ? TM_PACK_Q5_K_SB : TM_PACK_Q4_K_SB;
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * sb_bytes;
        if (n_t <= 2)
            for (int l = 0; l < sb_bytes; l += 256)
                __builtin_prefetch(sb + 2 * sb_bytes + l);
        const uint8_t *xb[GEMM_TOKENS];
        int16_t xsum[GEMM_TOKENS][8]; /* the sums of the tokens' sub-blocks of 32 codes */
        int32x4_t sumi[GEMM_TOKENS][4], mins[GEMM_TOKENS][4];
        for (int t = 0; t < n_t; t++) {
            xb[t] = q8k_block(act + (uint64_t)t * act_stride, b);
            vst1q_s16(xsum[t], q8k_sums32(xb[t]));
            for (int q = 0; q < nq; q++)
                sumi[t][q] = mins[t][q] = vdupq_n_s32(0);
        }
        for (int j = 0; j < 8; j++) {
            int jj = j & 3;
            uint8x16_t ls = vld1q_u8(sb + TM_PACK_KM_LO_SC + jj * 16),
                       lm = vld1q_u8(sb + TM_PACK_KM_LO_M + jj * 16);
            uint8x16_t hb = vld1q_u8(sb + TM_PACK_KM_HI + jj * 16), sc, m;
            if (j < 4) {
                sc = vorrq_u8(vandq_u8(ls, low), vshlq_n_u8(vandq_u8(hb, three), 4));
                m = vorrq_u8(vandq_u8(lm, low), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), three), 4));
            } else {
                sc = vorrq_u8(vshrq_n_u8(ls, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), three), 4));
                m = vorrq_u8(vshrq_n_u8(lm, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
            }
            int8x16_t x[GEMM_TOKENS][2];
            int32x4_t s[GEMM_TOKENS][4][2];
            for (int t = 0; t < n_t; t++) {
                x[t][0] = vld1q_s8((const int8_t *)xb[t] + 4 + 32 * j);
                x[t][1] = vld1q_s8((const int8_t *)xb[t] + 4 + 32 * j + 16);
                for (int q = 0; q < nq; q++)
                    s[t][q][0] = s[t][q][1] = vdupq_n_s32(0);
            }
            const uint8_t *qs = sb + (five ? TM_PACK_Q5_K_QS : TM_PACK_Q4_K_QS) + (j >> 1) * 8 * 64;
            const int8x16_t to_bit4 = vdupq_n_s8((int8_t)(4 - j)); /* bit j to bit 4 */
            for (int g = 0; g < 8; g++)
                for (int q = 0; q < nq; q++) {
                    uint8x16_t p = quartet(qs + g * 64, q0 + q);
                    uint8x16_t c = (j & 1) ? vshrq_n_u8(p, 4) : vandq_u8(p, low);
                    if (five)
                        c = vorrq_u8(
                            c, vandq_u8(vshlq_u8(quartet(sb + TM_PACK_Q5_K_QH + g * 64, q0 + q),
                                                 to_bit4),
                                        bit4));
                    int8x16_t w = vreinterpretq_s8_u8(c);
                    for (int t = 0; t < n_t; t++)
                        s[t][q][g % n_c] = dot_lane(s[t][q][g % n_c], w, x[t][g >> 2], g & 3);
                }
            for (int q = 0; q < nq; q++) {
                int32x4_t sc32 = widen_u8_quartet(sc, q0 + q), m32 = widen_u8_quartet(m, q0 + q);
                for (int t = 0; t < n_t; t++) {
                    int32x4_t sum = n_c == 2 ? vaddq_s32(s[t][q][0], s[t][q][1]) : s[t][q][0];
                    sumi[t][q] = vmlaq_s32(sumi[t][q], sum, sc32);
                    mins[t][q] = vmlaq_n_s32(mins[t][q], m32, xsum[t][j]);
                }
            }
        }
        for (int q = 0; q < nq; q++) {
            float32x4_t dw = scales4(sb + (q0 + q) * 8);
            float32x4_t dmin = scales4(sb + TM_PACK_KM_DMIN + (q0 + q) * 8);
            for (int t = 0; t < n_t; t++) {
                float dx = q8k_d(xb[t]);
                acc[t][q] = vfmaq_f32(acc[t][q], vcvtq_f32_s32(sumi[t][q]), vmulq_n_f32(dw, dx));
                acc[t][q] = vfmsq_f32(acc[t][q], vcvtq_f32_s32(mins[t][q]), vmulq_n_f32(dmin, dx));
            }
        }
    }
    for (int t = 0; t < n_t; t++)
        for (int q = 0; q < nq; q++)
            vst1q_f32(y + t * y_stride + 4 * (q0 + q), acc[t][q]);
}

/* Bit pair `pair` (0..3) of each byte moved to bits 4-5. */
ARM_INLINE uint8x16_t pair_to_bits45(uint8x16_t h, const int pair)
{
    switch (pair) {
    case 0:
        return vshlq_n_u8(h, 4);
    case 1:
        return vshlq_n_u8(h, 2);
    case 2:
        return h;
    default:
        return vshrq_n_u8(h, 2);
    }
}

/* Q6_K: per super-block (3360 bytes) d[16], the group scales in pairs, then 32 vectors of ql
 * and 16 of qh in reading order (tensor.h). Group g (16 columns) is four words G = 4 g + k: in half
 * hh = G / 32, word G1 = G % 32 takes ql vector 16 hh + G1 % 16 (low nibbles for G1 < 16, else
 * high) and bit pair G1 / 8 of qh vector 8 hh + G1 % 8. Codes c - 32 are signed for SDOT; the
 * group's sum is scaled by scales[g] in the integer lanes. */
ARM_INLINE void gemm_q6_k_pass(const int n_t, const int q0, const int nq, int64_t nsb,
                               const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                               float *y, int64_t y_stride)
{
    const int n_c = GEMM_CHAINS(n_t);
    float32x4_t acc[GEMM_TOKENS][4];
    for (int t = 0; t < n_t; t++)
        for (int q = 0; q < nq; q++)
            acc[t][q] = vdupq_n_f32(0);
    const uint8x16_t low = vdupq_n_u8(0x0F), pair = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * TM_PACK_Q6_K_SB;
        if (n_t <= 2)
            for (int l = 0; l < TM_PACK_Q6_K_SB; l += 256)
                __builtin_prefetch(sb + 2 * TM_PACK_Q6_K_SB + l);
        const uint8_t *xb[GEMM_TOKENS];
        int32x4_t sumi[GEMM_TOKENS][4];
        for (int t = 0; t < n_t; t++) {
            xb[t] = q8k_block(act + (uint64_t)t * act_stride, b);
            for (int q = 0; q < nq; q++)
                sumi[t][q] = vdupq_n_s32(0);
        }
        for (int g = 0; g < 16; g++) {
            /* scales 2i and 2i + 1 of the 16 rows, interleaved: the pair holding g's */
            int8x16x2_t sc = vld2q_s8((const int8_t *)sb + TM_PACK_Q6_K_SC + (g / 2) * 32);
            int8x16_t x[GEMM_TOKENS];
            int32x4_t s[GEMM_TOKENS][4][2];
            for (int t = 0; t < n_t; t++) {
                x[t] = vld1q_s8((const int8_t *)xb[t] + 4 + 16 * g);
                for (int q = 0; q < nq; q++)
                    s[t][q][0] = s[t][q][1] = vdupq_n_s32(0);
            }
            for (int k = 0; k < 4; k++) {
                int G = 4 * g + k, hh = G >> 5, G1 = G & 31;
                const uint8_t *pv = sb + tm_pack_q6_k_ql(16 * hh + (G1 & 15));
                const uint8_t *qv = sb + tm_pack_q6_k_qh(8 * hh + (G1 & 7));
                for (int q = 0; q < nq; q++) {
                    uint8x16_t p = quartet(pv, q0 + q);
                    uint8x16_t nib = G1 >= 16 ? vshrq_n_u8(p, 4) : vandq_u8(p, low);
                    uint8x16_t hi = vandq_u8(pair_to_bits45(quartet(qv, q0 + q), G1 >> 3), pair);
                    int8x16_t w = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nib, hi)), off);
                    for (int t = 0; t < n_t; t++)
                        s[t][q][k % n_c] = dot_lane(s[t][q][k % n_c], w, x[t], k);
                }
            }
            for (int q = 0; q < nq; q++) {
                int32x4_t sc32 = widen_s8_quartet(sc.val[g & 1], q0 + q);
                for (int t = 0; t < n_t; t++) {
                    int32x4_t sum = n_c == 2 ? vaddq_s32(s[t][q][0], s[t][q][1]) : s[t][q][0];
                    sumi[t][q] = vmlaq_s32(sumi[t][q], sum, sc32);
                }
            }
        }
        for (int q = 0; q < nq; q++) {
            float32x4_t dw = scales4(sb + (q0 + q) * 8);
            for (int t = 0; t < n_t; t++)
                acc[t][q] =
                    vfmaq_f32(acc[t][q], vcvtq_f32_s32(sumi[t][q]), vmulq_n_f32(dw, q8k_d(xb[t])));
        }
    }
    for (int t = 0; t < n_t; t++)
        for (int q = 0; q < nq; q++)
            vst1q_f32(y + t * y_stride + 4 * (q0 + q), acc[t][q]);
}

ARM_INLINE void gemm_q4_k_pass(const int n_t, const int q0, const int nq, int64_t nsb,
                               const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                               float *y, int64_t y_stride)
{
    gemm_qk_affine_pass(n_t, q0, nq, false, nsb, group, act, act_stride, y, y_stride);
}

ARM_INLINE void gemm_q5_k_pass(const int n_t, const int q0, const int nq, int64_t nsb,
                               const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                               float *y, int64_t y_stride)
{
    gemm_qk_affine_pass(n_t, q0, nq, true, nsb, group, act, act_stride, y, y_stride);
}

static void arm_gemm_x16_q4_k(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    const uint8_t *x = act;
    GEMM_TOKEN_LOOP(gemm_q4_k_pass, n_cols / TM_QK_K, group);
}

static void arm_gemm_x16_q5_k(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    const uint8_t *x = act;
    GEMM_TOKEN_LOOP(gemm_q5_k_pass, n_cols / TM_QK_K, group);
}

static void arm_gemm_x16_q6_k(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    const uint8_t *x = act;
    GEMM_TOKEN_LOOP(gemm_q6_k_pass, n_cols / TM_QK_K, group);
}

/* A table's multiply-add peak (tm_kernels.mac_peak) on `op` (vdotq_s32 for dotprod.c, 16
 * multiply-adds; vmmlaq_s32 for i8mm.c, 32), defined in the file compiled for its extension:
 * twelve independent accumulators back to back for about 20 ms. The operands start behind an
 * empty asm, so the compiler cannot fold the loop away. */
#define ARM_MAC_PEAK_DEFINE(name, op, macs)                                           \
    static double name(void)                                                          \
    {                                                                                 \
        int8x16_t a = vdupq_n_s8(1), b = vdupq_n_s8(1);                               \
        __asm__("" : "+w"(a), "+w"(b));                                               \
        int32x4_t v[12];                                                              \
        for (int i = 0; i < 12; i++)                                                  \
            v[i] = vdupq_n_s32(i);                                                    \
        int64_t n = 0, t0 = tm_time_us(), dt = 0;                                     \
        do {                                                                          \
            for (int r = 0; r < 256; r++)                                             \
                for (int i = 0; i < 12; i++)                                          \
                    v[i] = op(v[i], a, b);                                            \
            n += 256 * 12;                                                            \
            dt = tm_time_us() - t0;                                                   \
        } while (dt < 20000);                                                         \
        int32x4_t sum = v[0];                                                         \
        for (int i = 1; i < 12; i++)                                                  \
            sum = vaddq_s32(sum, v[i]);                                               \
        volatile int32_t sink = vaddvq_s32(sum); /* the loop is not optimised away */ \
        (void)sink;                                                                   \
        return (double)n * (macs) / ((double)dt * 1e-6);                              \
    }

static void arm_gemm_fill(tm_kernels *k)
{
    k->gemm_x16[TM_DTYPE_Q4_0] = arm_gemm_x16_q4_0;
    k->gemm_x16[TM_DTYPE_Q8_0] = arm_gemm_x16_q8_0;
    k->gemm_x16[TM_DTYPE_Q4_K] = arm_gemm_x16_q4_k;
    k->gemm_x16[TM_DTYPE_Q5_K] = arm_gemm_x16_q5_k;
    k->gemm_x16[TM_DTYPE_Q6_K] = arm_gemm_x16_q6_k;
}

#endif
