/* Packed-weight GEMM with the 8-bit matrix multiply of FEAT_I8MM, for i8mm.c. SMMLA (and
 * USMMLA, unsigned by signed) multiplies a 2x8 byte matrix by the transpose of another and
 * adds the 2x2 result to four 32-bit lanes: 32 multiply-adds per instruction, twice SDOT's
 * 16. Here the first operand is two weight rows by 8 consecutive columns, the second two
 * tokens by the same 8 columns, and the lanes are (row 0, token 0), (row 0, token 1),
 * (row 1, token 0), (row 1, token 1).
 *
 * The packed layout (tensor.h) holds 4 rows x 4 codes per 16 bytes, columns 4g..4g + 3 in
 * vector g: zipping the 32-bit words of vectors g and g + 1 gives rows 0-1 and rows 2-3 of a
 * quartet, 8 columns each: SMMLA's first operand, one ZIP per operand. A token pair's codes
 * are zipped by 64-bit halves once per block and serve every row. The sums of a quartet for
 * a token pair are two registers, unzipped into the two tokens' outputs at the end.
 *
 * A pass takes 8 rows by two token pairs (prompts) or 16 rows by one pair; a token left
 * without a partner (decoding, odd counts) takes the SDOT pass of arm_gemm.h. Code offsets
 * as there, except that our Q8_0 layout's unsigned q + 128 goes into USMMLA as it is and
 * the 128 comes out through the activation sums, like Q4_0's 8.
 *
 * The integer sums are exact, so results equal the reference's up to float summation order. */
#ifndef TM_KERNELS_ARM_MMLA_H
#define TM_KERNELS_ARM_MMLA_H

#ifndef TM_KERNELS_ARM_GEMM_H
#error "arm_mmla.h builds on arm_gemm.h (its one-token passes): include that first"
#endif

#define MMLA_PAIRS 2 /* token pairs per pass */

/* Rows 0-1 (zip1) or 2-3 (zip2) of a quartet, 8 columns: the words of vectors g and g + 1. */
ARM_INLINE uint8x16_t rows01(uint8x16_t a, uint8x16_t b)
{
    return vreinterpretq_u8_u32(vzip1q_u32(vreinterpretq_u32_u8(a), vreinterpretq_u32_u8(b)));
}

ARM_INLINE uint8x16_t rows23(uint8x16_t a, uint8x16_t b)
{
    return vreinterpretq_u8_u32(vzip2q_u32(vreinterpretq_u32_u8(a), vreinterpretq_u32_u8(b)));
}

/* Two tokens' codes of columns 0..7 (lo) or 8..15 (hi) of 16 each: SMMLA's second operand. */
ARM_INLINE int8x16_t pair_lo(int8x16_t x0, int8x16_t x1)
{
    return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(x0), vreinterpretq_s64_s8(x1)));
}

ARM_INLINE int8x16_t pair_hi(int8x16_t x0, int8x16_t x1)
{
    return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(x0), vreinterpretq_s64_s8(x1)));
}

/* (a, b, a, b): a token pair's values in the lane order of the sums. */
ARM_INLINE float32x4_t pair_f32(float a, float b)
{
    float32x2_t p = vset_lane_f32(b, vdup_n_f32(a), 1);
    return vcombine_f32(p, p);
}

ARM_INLINE int32x4_t pair_s32(int32_t a, int32_t b)
{
    int32x2_t p = vset_lane_s32(b, vdup_n_s32(a), 1);
    return vcombine_s32(p, p);
}

/* (r0, r0, r1, r1) for rows 0-1 (half 0) or (r2, r2, r3, r3) for rows 2-3 (half 1) of four
 * per-row values: the rows in the lane order of the sums. */
ARM_INLINE float32x4_t rows_f32(float32x4_t v, const int half)
{
    return half == 0 ? vzip1q_f32(v, v) : vzip2q_f32(v, v);
}

ARM_INLINE int32x4_t rows_s32(int32x4_t v, const int half)
{
    return half == 0 ? vzip1q_s32(v, v) : vzip2q_s32(v, v);
}

/* sums of a quartet's rows 0-1 (s01) and 2-3 (s23) for one token pair of operand x */
ARM_INLINE void mmla_quartet(int32x4_t *s01, int32x4_t *s23, uint8x16_t a, uint8x16_t b,
                             int8x16_t x, const bool unsigned_weights)
{
    if (unsigned_weights) {
        *s01 = vusmmlaq_s32(*s01, rows01(a, b), x);
        *s23 = vusmmlaq_s32(*s23, rows23(a, b), x);
    } else {
        int8x16_t r01 = vreinterpretq_s8_u8(rows01(a, b)), r23 = vreinterpretq_s8_u8(rows23(a, b));
        *s01 = vmmlaq_s32(*s01, r01, x);
        *s23 = vmmlaq_s32(*s23, r23, x);
    }
}

/* The two tokens' outputs of a quartet's float sums (rows 0-1 and 2-3). */
ARM_INLINE void mmla_store(float32x4_t f01, float32x4_t f23, float *y0, float *y1)
{
    vst1q_f32(y0, vuzp1q_f32(f01, f23));
    vst1q_f32(y1, vuzp2q_f32(f01, f23));
}

/* Q4_0 (q4) or Q8_0: rows 4 q0 .. 4 (q0 + nq) - 1 by n_p token pairs. A block's octet o
 * (columns 8o..8o + 7) is vectors 2o, 2o + 1 for Q8_0; for Q4_0 the low nibbles of vectors
 * 0-1 and 2-3, then the high nibbles of the same. */
ARM_INLINE void mmla_q8_pass(const int n_p, const int q0, const int nq, const bool q4, int64_t nb,
                             const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                             float *y, int64_t y_stride)
{
    gemm_act a[2 * MMLA_PAIRS];
    float32x4_t acc[MMLA_PAIRS][4][2];
    for (int p = 0; p < n_p; p++) {
        a[2 * p] = gemm_act_row(act + (uint64_t)(2 * p) * act_stride, nb);
        a[2 * p + 1] = gemm_act_row(act + (uint64_t)(2 * p + 1) * act_stride, nb);
        for (int q = 0; q < nq; q++)
            acc[p][q][0] = acc[p][q][1] = vdupq_n_f32(0);
    }
    const uint8x16_t low = vdupq_n_u8(0x0F);
    const int64_t block_bytes = q4 ? TM_PACK_Q4_0_BLOCK : TM_PACK_Q8_0_BLOCK;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = group + b * block_bytes, *qs = blk + TM_PACK_CODES;
        int8x16_t x[MMLA_PAIRS][4];
        int32x4_t s[MMLA_PAIRS][4][2];
        for (int p = 0; p < n_p; p++) {
            const int8_t *u = a[2 * p].q + b * 32, *v = a[2 * p + 1].q + b * 32;
            int8x16_t u0 = vld1q_s8(u), u1 = vld1q_s8(u + 16);
            int8x16_t v0 = vld1q_s8(v), v1 = vld1q_s8(v + 16);
            x[p][0] = pair_lo(u0, v0);
            x[p][1] = pair_hi(u0, v0);
            x[p][2] = pair_lo(u1, v1);
            x[p][3] = pair_hi(u1, v1);
            /* the offset's share: -8 (Q4_0) or -128 (Q8_0) x each token's sum of codes */
            int32x4_t init = vshlq_n_s32(pair_s32(a[2 * p].neg_sum[b], a[2 * p + 1].neg_sum[b]), 3);
            if (!q4)
                init = vshlq_n_s32(init, 4);
            for (int q = 0; q < nq; q++)
                s[p][q][0] = s[p][q][1] = init;
        }
        for (int q = 0; q < nq; q++) {
            if (q4) {
                for (int h = 0; h < 2; h++) { /* vectors 2h, 2h + 1: octets h (low), 2 + h */
                    uint8x16_t p0 = quartet(qs + 2 * h * 64, q0 + q);
                    uint8x16_t p1 = quartet(qs + (2 * h + 1) * 64, q0 + q);
                    uint8x16_t l0 = vandq_u8(p0, low), l1 = vandq_u8(p1, low);
                    uint8x16_t h0 = vshrq_n_u8(p0, 4), h1 = vshrq_n_u8(p1, 4);
                    for (int p = 0; p < n_p; p++) {
                        mmla_quartet(&s[p][q][0], &s[p][q][1], l0, l1, x[p][h], false);
                        mmla_quartet(&s[p][q][0], &s[p][q][1], h0, h1, x[p][2 + h], false);
                    }
                }
            } else {
                for (int o = 0; o < 4; o++) {
                    uint8x16_t w0 = quartet(qs + 2 * o * 64, q0 + q);
                    uint8x16_t w1 = quartet(qs + (2 * o + 1) * 64, q0 + q);
                    for (int p = 0; p < n_p; p++)
                        mmla_quartet(&s[p][q][0], &s[p][q][1], w0, w1, x[p][o], true);
                }
            }
        }
        for (int q = 0; q < nq; q++) {
            float32x4_t dw = scales4(blk + (q0 + q) * 8);
            for (int p = 0; p < n_p; p++) {
                float32x4_t dx = pair_f32(a[2 * p].d[b], a[2 * p + 1].d[b]);
                for (int r = 0; r < 2; r++)
                    acc[p][q][r] = vfmaq_f32(acc[p][q][r], vcvtq_f32_s32(s[p][q][r]),
                                             vmulq_f32(rows_f32(dw, r), dx));
            }
        }
    }
    for (int p = 0; p < n_p; p++)
        for (int q = 0; q < nq; q++)
            mmla_store(acc[p][q][0], acc[p][q][1], y + 2 * p * y_stride + 4 * (q0 + q),
                       y + (2 * p + 1) * y_stride + 4 * (q0 + q));
}

/* Q4_K (see gemm_q4_k_pass): sub-block j's octets are vectors 8 (j / 2) + 2o, + 2o + 1, low
 * or high nibbles. The mins, m[j] x each token's sum of sub-block j, are gathered once per
 * super-block from the 6-bit mins kept aside. */
ARM_INLINE void mmla_q4_k_pass(const int n_p, const int q0, const int nq, int64_t nsb,
                               const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                               float *y, int64_t y_stride)
{
    float32x4_t acc[MMLA_PAIRS][4][2];
    for (int p = 0; p < n_p; p++)
        for (int q = 0; q < nq; q++)
            acc[p][q][0] = acc[p][q][1] = vdupq_n_f32(0);
    const uint8x16_t low = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * TM_PACK_Q4_K_SB;
        const uint8_t *xb[2 * MMLA_PAIRS];
        int16_t xsum[2 * MMLA_PAIRS][8];
        int32x4_t sumi[MMLA_PAIRS][4][2];
        uint8_t mins[8][16]; /* m[j] of the 16 rows */
        for (int t = 0; t < 2 * n_p; t++) {
            xb[t] = q8k_block(act + (uint64_t)t * act_stride, b);
            vst1q_s16(xsum[t], q8k_sums32(xb[t]));
        }
        for (int p = 0; p < n_p; p++)
            for (int q = 0; q < nq; q++)
                sumi[p][q][0] = sumi[p][q][1] = vdupq_n_s32(0);
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
            vst1q_u8(mins[j], m);
            int8x16_t x[MMLA_PAIRS][4];
            int32x4_t s[MMLA_PAIRS][4][2];
            for (int p = 0; p < n_p; p++) {
                const int8_t *u = (const int8_t *)xb[2 * p] + 4 + 32 * j;
                const int8_t *v = (const int8_t *)xb[2 * p + 1] + 4 + 32 * j;
                int8x16_t u0 = vld1q_s8(u), u1 = vld1q_s8(u + 16);
                int8x16_t v0 = vld1q_s8(v), v1 = vld1q_s8(v + 16);
                x[p][0] = pair_lo(u0, v0);
                x[p][1] = pair_hi(u0, v0);
                x[p][2] = pair_lo(u1, v1);
                x[p][3] = pair_hi(u1, v1);
                for (int q = 0; q < nq; q++)
                    s[p][q][0] = s[p][q][1] = vdupq_n_s32(0);
            }
            const uint8_t *qs = sb + TM_PACK_Q4_K_QS + (j >> 1) * 8 * 64;
            for (int q = 0; q < nq; q++)
                for (int o = 0; o < 4; o++) {
                    uint8x16_t w0 = quartet(qs + 2 * o * 64, q0 + q);
                    uint8x16_t w1 = quartet(qs + (2 * o + 1) * 64, q0 + q);
                    w0 = (j & 1) ? vshrq_n_u8(w0, 4) : vandq_u8(w0, low);
                    w1 = (j & 1) ? vshrq_n_u8(w1, 4) : vandq_u8(w1, low);
                    for (int p = 0; p < n_p; p++)
                        mmla_quartet(&s[p][q][0], &s[p][q][1], w0, w1, x[p][o], false);
                }
            for (int q = 0; q < nq; q++) {
                int32x4_t sc32 = widen_u8_quartet(sc, q0 + q);
                for (int p = 0; p < n_p; p++)
                    for (int r = 0; r < 2; r++)
                        sumi[p][q][r] = vmlaq_s32(sumi[p][q][r], s[p][q][r], rows_s32(sc32, r));
            }
        }
        for (int q = 0; q < nq; q++) {
            float32x4_t dw = scales4(sb + (q0 + q) * 8);
            float32x4_t dmin = scales4(sb + TM_PACK_KM_DMIN + (q0 + q) * 8);
            for (int p = 0; p < n_p; p++) {
                int32x4_t mn[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
                for (int j = 0; j < 8; j++) {
                    int32x4_t m32 = widen_u8_quartet(vld1q_u8(mins[j]), q0 + q);
                    int32x4_t xs = pair_s32(xsum[2 * p][j], xsum[2 * p + 1][j]);
                    for (int r = 0; r < 2; r++)
                        mn[r] = vmlaq_s32(mn[r], rows_s32(m32, r), xs);
                }
                float32x4_t dx = pair_f32(q8k_d(xb[2 * p]), q8k_d(xb[2 * p + 1]));
                for (int r = 0; r < 2; r++) {
                    acc[p][q][r] = vfmaq_f32(acc[p][q][r], vcvtq_f32_s32(sumi[p][q][r]),
                                             vmulq_f32(rows_f32(dw, r), dx));
                    acc[p][q][r] = vfmsq_f32(acc[p][q][r], vcvtq_f32_s32(mn[r]),
                                             vmulq_f32(rows_f32(dmin, r), dx));
                }
            }
        }
    }
    for (int p = 0; p < n_p; p++)
        for (int q = 0; q < nq; q++)
            mmla_store(acc[p][q][0], acc[p][q][1], y + 2 * p * y_stride + 4 * (q0 + q),
                       y + (2 * p + 1) * y_stride + 4 * (q0 + q));
}

/* Q6_K (see gemm_q6_k_pass): group g's 16 columns are two octets, words 4g, 4g + 1 and
 * 4g + 2, 4g + 3, each word's codes rebuilt from a nibble and a bit pair, made signed. */
ARM_INLINE void mmla_q6_k_pass(const int n_p, const int q0, const int nq, int64_t nsb,
                               const uint8_t *group, const uint8_t *act, uint64_t act_stride,
                               float *y, int64_t y_stride)
{
    float32x4_t acc[MMLA_PAIRS][4][2];
    for (int p = 0; p < n_p; p++)
        for (int q = 0; q < nq; q++)
            acc[p][q][0] = acc[p][q][1] = vdupq_n_f32(0);
    const uint8x16_t low = vdupq_n_u8(0x0F), pair = vdupq_n_u8(0x30), off = vdupq_n_u8(32);
    for (int64_t b = 0; b < nsb; b++) {
        const uint8_t *sb = group + b * TM_PACK_Q6_K_SB;
        const uint8_t *xb[2 * MMLA_PAIRS];
        int32x4_t sumi[MMLA_PAIRS][4][2];
        for (int t = 0; t < 2 * n_p; t++)
            xb[t] = q8k_block(act + (uint64_t)t * act_stride, b);
        for (int p = 0; p < n_p; p++)
            for (int q = 0; q < nq; q++)
                sumi[p][q][0] = sumi[p][q][1] = vdupq_n_s32(0);
        for (int g = 0; g < 16; g++) {
            int8x16x2_t sc = vld2q_s8((const int8_t *)sb + TM_PACK_Q6_K_SC + (g / 2) * 32);
            int8x16_t x[MMLA_PAIRS][2];
            int32x4_t s[MMLA_PAIRS][4][2];
            for (int p = 0; p < n_p; p++) {
                int8x16_t u = vld1q_s8((const int8_t *)xb[2 * p] + 4 + 16 * g);
                int8x16_t v = vld1q_s8((const int8_t *)xb[2 * p + 1] + 4 + 16 * g);
                x[p][0] = pair_lo(u, v);
                x[p][1] = pair_hi(u, v);
                for (int q = 0; q < nq; q++)
                    s[p][q][0] = s[p][q][1] = vdupq_n_s32(0);
            }
            for (int q = 0; q < nq; q++) {
                uint8x16_t w[4];
                for (int k = 0; k < 4; k++) {
                    int G = 4 * g + k, hh = G >> 5, G1 = G & 31;
                    uint8x16_t p8 = quartet(sb + tm_pack_q6_k_ql(16 * hh + (G1 & 15)), q0 + q);
                    uint8x16_t nib = G1 >= 16 ? vshrq_n_u8(p8, 4) : vandq_u8(p8, low);
                    uint8x16_t h8 = quartet(sb + tm_pack_q6_k_qh(8 * hh + (G1 & 7)), q0 + q);
                    w[k] = vsubq_u8(vorrq_u8(nib, vandq_u8(pair_to_bits45(h8, G1 >> 3), pair)),
                                    off); /* c - 32, as bytes */
                }
                for (int p = 0; p < n_p; p++) {
                    mmla_quartet(&s[p][q][0], &s[p][q][1], w[0], w[1], x[p][0], false);
                    mmla_quartet(&s[p][q][0], &s[p][q][1], w[2], w[3], x[p][1], false);
                }
            }
            for (int q = 0; q < nq; q++) {
                int32x4_t sc32 = widen_s8_quartet(sc.val[g & 1], q0 + q);
                for (int p = 0; p < n_p; p++)
                    for (int r = 0; r < 2; r++)
                        sumi[p][q][r] = vmlaq_s32(sumi[p][q][r], s[p][q][r], rows_s32(sc32, r));
            }
        }
        for (int q = 0; q < nq; q++) {
            float32x4_t dw = scales4(sb + (q0 + q) * 8);
            for (int p = 0; p < n_p; p++) {
                float32x4_t dx = pair_f32(q8k_d(xb[2 * p]), q8k_d(xb[2 * p + 1]));
                for (int r = 0; r < 2; r++)
                    acc[p][q][r] = vfmaq_f32(acc[p][q][r], vcvtq_f32_s32(sumi[p][q][r]),
                                             vmulq_f32(rows_f32(dw, r), dx));
            }
        }
    }
    for (int p = 0; p < n_p; p++)
        for (int q = 0; q < nq; q++)
            mmla_store(acc[p][q][0], acc[p][q][1], y + 2 * p * y_stride + 4 * (q0 + q),
                       y + (2 * p + 1) * y_stride + 4 * (q0 + q));
}

/* Tokens in passes of two pairs (8 rows at a time), then one pair (16 rows), then a last
 * single token through the SDOT pass ONE; the enclosing function provides n_tokens, x,
 * act_stride, y, y_stride as for GEMM_TOKEN_LOOP. */
#define MMLA_TOKEN_LOOP(PASS, ONE, ...)                                                            \
    do {                                                                                           \
        int64_t t = 0;                                                                             \
        for (; t + 2 * MMLA_PAIRS <= n_tokens; t += 2 * MMLA_PAIRS)                                \
            for (int q0 = 0; q0 < 4; q0 += 2)                                                      \
                PASS(MMLA_PAIRS, q0, 2, __VA_ARGS__, x + t * act_stride, act_stride,               \
                     y + t * y_stride, y_stride);                                                  \
        if (t + 2 <= n_tokens) {                                                                   \
            PASS(1, 0, 4, __VA_ARGS__, x + t * act_stride, act_stride, y + t * y_stride,           \
                 y_stride);                                                                        \
            t += 2;                                                                                \
        }                                                                                          \
        if (t < n_tokens)                                                                          \
            ONE(1, 0, 4, __VA_ARGS__, x + t * act_stride, act_stride, y + t * y_stride, y_stride); \
    } while (0)

static void arm_mmla_x16_q4_0(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    int64_t nb = n_cols / 32;
    const uint8_t *x = act;
    MMLA_TOKEN_LOOP(mmla_q8_pass, gemm_q8_pass, true, nb, group);
}

static void arm_mmla_x16_q8_0(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    int64_t nb = n_cols / 32;
    const uint8_t *x = act;
    MMLA_TOKEN_LOOP(mmla_q8_pass, gemm_q8_pass, false, nb, group);
}

static void arm_mmla_x16_q4_k(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    const uint8_t *x = act;
    MMLA_TOKEN_LOOP(mmla_q4_k_pass, gemm_q4_k_pass, n_cols / TM_QK_K, group);
}

static void arm_mmla_x16_q6_k(int64_t n_cols, const void *group, const void *act,
                              uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride)
{
    const uint8_t *x = act;
    MMLA_TOKEN_LOOP(mmla_q6_k_pass, gemm_q6_k_pass, n_cols / TM_QK_K, group);
}

static void arm_mmla_fill(tm_kernels *k)
{
    k->gemm_x16[TM_DTYPE_Q4_0] = arm_mmla_x16_q4_0;
    k->gemm_x16[TM_DTYPE_Q8_0] = arm_mmla_x16_q8_0;
    k->gemm_x16[TM_DTYPE_Q4_K] = arm_mmla_x16_q4_k;
    k->gemm_x16[TM_DTYPE_Q6_K] = arm_mmla_x16_q6_k;
}

#endif
