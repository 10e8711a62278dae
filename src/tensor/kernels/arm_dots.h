/* The Arm dot kernels and activation quantizers on 128-bit NEON vectors, written once and
 * compiled per table: neon.c includes this file with an 8-bit dot built from widening
 * multiplies (Armv8.0), dotprod.c and i8mm.c with the one-instruction SDOT of FEAT_DotProd.
 * Before including, the file defines
 *
 *     static inline int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b)
 *
 * adding the 16 products a[i] * b[i] of signed bytes to acc, four to each 32-bit lane. Which
 * four products meet in a lane is the including file's business: every caller here either
 * sums the lanes or scales all four lanes alike, so both pairings give the same answer. Both
 * versions are exact for every input (no 16-bit saturation), so no caller has to bound its
 * codes.
 *
 * Weight codes are made signed before the multiply (Q4_0's q - 8, Q6_K's c - 32, one
 * subtraction per 16 codes) instead of taking offsets out through activation sums as the x86
 * kernels must (their multiply is unsigned x signed); K-quant group scales multiply the
 * 32-bit lanes, and a super-block's float work is one conversion.
 *
 * Results equal the scalar reference up to float summation order: the integer parts are
 * exact, and scales are applied per block as the reference does. Activation quantizers
 * produce bit-identical blocks: FCVTNS rounds half to even like the reference's nearbyintf,
 * and saturating narrows clamp as its min() does (tests/tensor/test_kernels.c checks both). */
#ifndef TM_KERNELS_ARM_DOTS_H
#define TM_KERNELS_ARM_DOTS_H

#include "isa.h"

#include "../quant.h"
#include "arm_attn.h"

#include <arm_neon.h>
#include <string.h>

/* The hardware conversion (FCVT): the portable tm_f16_to_f32 costs more than a block's dot. */
static inline float fp16(uint16_t h)
{
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

static inline int8x16_t low_nibbles(uint8x16_t q)
{
    return vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F)));
}

static inline int8x16_t high_nibbles(uint8x16_t q)
{
    return vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
}

/* ---- F16 x F32 ---------------------------------------------------------------------------- */

static void arm_vec_dot_f16(int64_t n, float *out, const void *w, const void *x)
{
    const uint16_t *a = w;
    const float *b = x;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) { /* four chains: one would wait on FMLA's latency */
        float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(a + i));
        float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(a + i + 8));
        acc0 = vfmaq_f32(acc0, vcvt_f32_f16(vget_low_f16(h0)), vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, vcvt_high_f32_f16(h0), vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, vcvt_f32_f16(vget_low_f16(h1)), vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, vcvt_high_f32_f16(h1), vld1q_f32(b + i + 12));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++)
        sum += fp16(a[i]) * b[i];
    *out = sum;
}

/* ---- 32-weight blocks x Q8_0 / Q8_1 activations --------------------------------------------- */

/* The 32 signed codes of a Q4_0 block (q - 8) in element order: bytes' low nibbles are
 * weights 0..15, high nibbles 16..31. */
static inline void q4_0_codes(const tm_block_q4_0 *a, int8x16_t c[2])
{
    uint8x16_t q = vld1q_u8(a->qs);
    c[0] = vsubq_s8(low_nibbles(q), vdupq_n_s8(8));
    c[1] = vsubq_s8(high_nibbles(q), vdupq_n_s8(8));
}

/* The fifth bits of a Q5 block's 32 codes, as 16 in each byte: bit j of qh (little endian)
 * belongs to weight j. Each byte of qh is spread over 8 lanes and tested against one bit. */
static inline void q5_high_bits(const uint8_t qh[4], uint8x16_t h[2])
{
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t sel = vld1q_u8(bit), sixteen = vdupq_n_u8(16);
    h[0] = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), sel), sixteen);
    h[1] = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), sel), sixteen);
}

/* Q5_0 codes q - 16, in element order. */
static inline void q5_0_codes(const tm_block_q5_0 *a, int8x16_t c[2])
{
    uint8x16_t q = vld1q_u8(a->qs), h[2];
    q5_high_bits(a->qh, h);
    c[0] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0F)), h[0])),
                    vdupq_n_s8(16));
    c[1] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), h[1])), vdupq_n_s8(16));
}

static inline int32x4_t dot_32(const int8x16_t c[2], const int8_t *y)
{
    return dot_s8(dot_s8(vdupq_n_s32(0), c[0], vld1q_s8(y)), c[1], vld1q_s8(y + 16));
}

/* One block's integer dot scaled into acc; the block pairs of the loops below keep two such
 * chains in flight. */
static inline float32x4_t q8_0_block(const tm_block_q8_0 *a, const tm_block_q8_0 *b,
                                     float32x4_t acc)
{
    int8x16_t c[2] = {vld1q_s8(a->qs), vld1q_s8(a->qs + 16)};
    return vfmaq_n_f32(acc, vcvtq_f32_s32(dot_32(c, b->qs)), fp16(a->d) * fp16(b->d));
}

static inline float32x4_t q4_0_block(const tm_block_q4_0 *a, const tm_block_q8_0 *b,
                                     float32x4_t acc)
{
    int8x16_t c[2];
    q4_0_codes(a, c);
    return vfmaq_n_f32(acc, vcvtq_f32_s32(dot_32(c, b->qs)), fp16(a->d) * fp16(b->d));
}

static inline float32x4_t q5_0_block(const tm_block_q5_0 *a, const tm_block_q8_0 *b,
                                     float32x4_t acc)
{
    int8x16_t c[2];
    q5_0_codes(a, c);
    return vfmaq_n_f32(acc, vcvtq_f32_s32(dot_32(c, b->qs)), fp16(a->d) * fp16(b->d));
}

/* Blocks in pairs into two accumulators, the odd one last. */
#define ARM_BLOCK_DOT(name, wtype, xtype, block)                          \
    static void name(int64_t n, float *out, const void *w, const void *x) \
    {                                                                     \
        const wtype *a = w;                                               \
        const xtype *b = x;                                               \
        float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0;                   \
        int64_t nb = n / 32, i = 0;                                       \
        for (; i + 2 <= nb; i += 2) {                                     \
            acc0 = block(&a[i], &b[i], acc0);                             \
            acc1 = block(&a[i + 1], &b[i + 1], acc1);                     \
        }                                                                 \
        if (i < nb)                                                       \
            acc0 = block(&a[i], &b[i], acc0);                             \
        *out = vaddvq_f32(vaddq_f32(acc0, acc1));                         \
    }

ARM_BLOCK_DOT(arm_vec_dot_q8_0, tm_block_q8_0, tm_block_q8_0, q8_0_block)
ARM_BLOCK_DOT(arm_vec_dot_q4_0, tm_block_q4_0, tm_block_q8_0, q4_0_block)
ARM_BLOCK_DOT(arm_vec_dot_q5_0, tm_block_q5_0, tm_block_q8_0, q5_0_block)

/* Q4_1 and Q5_1 (w = d q + m) against Q8_1: d dx sum(q y) + m dx sum(y), the activation sum
 * taken from the integer codes as the reference does (not from the block's fp16 s). */
static inline float affine_block(const int8x16_t c[2], float d, float m, const tm_block_q8_1 *b)
{
    int8x16_t y0 = vld1q_s8(b->qs), y1 = vld1q_s8(b->qs + 16);
    int32_t s = vaddvq_s32(dot_s8(dot_s8(vdupq_n_s32(0), c[0], y0), c[1], y1));
    int32_t sx = vaddlvq_s8(y0) + vaddlvq_s8(y1);
    float dx = fp16(b->d);
    return (float)s * d * dx + (float)sx * m * dx;
}

static void arm_vec_dot_q4_1(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_1 *a = w;
    const tm_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        uint8x16_t q = vld1q_u8(a[i].qs);
        int8x16_t c[2] = {low_nibbles(q), high_nibbles(q)};
        sum += affine_block(c, fp16(a[i].d), fp16(a[i].m), &b[i]);
    }
    *out = sum;
}

static void arm_vec_dot_q5_1(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q5_1 *a = w;
    const tm_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        uint8x16_t q = vld1q_u8(a[i].qs), h[2];
        q5_high_bits(a[i].qh, h);
        int8x16_t c[2] = {vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0F)), h[0])),
                          vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), h[1]))};
        sum += affine_block(c, fp16(a[i].d), fp16(a[i].m), &b[i]);
    }
    *out = sum;
}

/* One weight row against four tokens (x_stride bytes apart): a block's codes and scale are
 * unpacked once, the four accumulators are independent, the weights one sequential stream. */
static inline const void *token_row(const void *x, uint64_t x_stride, int t)
{
    return (const uint8_t *)x + (uint64_t)t * x_stride;
}

static void arm_vec_dot_x4_q8_0(int64_t n, float *out, const void *w, const void *x,
                                uint64_t x_stride)
{
    const tm_block_q8_0 *a = w, *b[4];
    for (int t = 0; t < 4; t++)
        b[t] = token_row(x, x_stride, t);
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    for (int64_t i = 0; i < n / 32; i++) {
        int8x16_t c[2] = {vld1q_s8(a[i].qs), vld1q_s8(a[i].qs + 16)};
        float da = fp16(a[i].d);
        for (int t = 0; t < 4; t++)
            acc[t] =
                vfmaq_n_f32(acc[t], vcvtq_f32_s32(dot_32(c, b[t][i].qs)), da * fp16(b[t][i].d));
    }
    for (int t = 0; t < 4; t++)
        out[t] = vaddvq_f32(acc[t]);
}

static void arm_vec_dot_x4_q4_0(int64_t n, float *out, const void *w, const void *x,
                                uint64_t x_stride)
{
    const tm_block_q4_0 *a = w;
    const tm_block_q8_0 *b[4];
    for (int t = 0; t < 4; t++)
        b[t] = token_row(x, x_stride, t);
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    for (int64_t i = 0; i < n / 32; i++) {
        int8x16_t c[2];
        q4_0_codes(&a[i], c);
        float da = fp16(a[i].d);
        for (int t = 0; t < 4; t++)
            acc[t] =
                vfmaq_n_f32(acc[t], vcvtq_f32_s32(dot_32(c, b[t][i].qs)), da * fp16(b[t][i].d));
    }
    for (int t = 0; t < 4; t++)
        out[t] = vaddvq_f32(acc[t]);
}

/* ---- K-quants x Q8_K ------------------------------------------------------------------------ */

/* sum over the 8 groups of 32 of m[g] * (sum of the group's activation codes), from the
 * Q8_K sums of 16 (each at most 16 x 128 in magnitude: pairs fit 16 bits). */
static inline int32_t q4k_mins_dot(const tm_block_q8_k *b, const uint8_t m[8])
{
    int16x8_t pairs = vpaddq_s16(vld1q_s16(b->bsums), vld1q_s16(b->bsums + 8));
    int16x8_t mm = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m)));
    int32x4_t s = vmull_s16(vget_low_s16(pairs), vget_low_s16(mm));
    s = vmlal_high_s16(s, pairs, mm);
    return vaddvq_s32(s);
}

/* Q4_K/Q5_K codes of a super-block: group g is c[2g], c[2g + 1] (32 codes, 0..31). */
static inline int32_t qk_affine_sum(const int8x16_t c[16], const uint8_t sc[8], const int8_t *y)
{
    int32x4_t sumi = vdupq_n_s32(0);
    for (int g = 0; g < 8; g++) {
        int32x4_t p = dot_s8(dot_s8(vdupq_n_s32(0), c[2 * g], vld1q_s8(y + 32 * g)), c[2 * g + 1],
                             vld1q_s8(y + 32 * g + 16));
        sumi = vmlaq_n_s32(sumi, p, sc[g]);
    }
    return vaddvq_s32(sumi);
}

/* Qs bytes 32c + l: the low nibble is weight 64c + l, the high nibble 64c + 32 + l. */
static inline void q4_k_codes(const tm_block_q4_k *a, int8x16_t c[16])
{
    for (int k = 0; k < 4; k++) {
        uint8x16_t q0 = vld1q_u8(a->qs + 32 * k), q1 = vld1q_u8(a->qs + 32 * k + 16);
        c[4 * k] = low_nibbles(q0);
        c[4 * k + 1] = low_nibbles(q1);
        c[4 * k + 2] = high_nibbles(q0);
        c[4 * k + 3] = high_nibbles(q1);
    }
}

static inline void q4_k_scales(const tm_block_q4_k *a, uint8_t sc[8], uint8_t m[8])
{
    for (int g = 0; g < 8; g++)
        tm_q4k_scale_min(g, a->scales, &sc[g], &m[g]);
}

static void arm_vec_dot_q4_k(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_k *a = w;
    const tm_block_q8_k *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        uint8_t sc[8], m[8];
        int8x16_t c[16];
        q4_k_scales(&a[i], sc, m);
        q4_k_codes(&a[i], c);
        int32_t sum_q = qk_affine_sum(c, sc, b[i].qs), sum_m = q4k_mins_dot(&b[i], m);
        sum += b[i].d * (fp16(a[i].d) * (float)sum_q - fp16(a[i].dmin) * (float)sum_m);
    }
    *out = sum;
}

/* Q4_K, one weight row against four tokens: a super-block's codes, scales and mins are
 * unpacked once and dotted with each token's Q8_K block. */
static void arm_vec_dot_x4_q4_k(int64_t n, float *out, const void *w, const void *x,
                                uint64_t x_stride)
{
    const tm_block_q4_k *a = w;
    const tm_block_q8_k *b[4];
    for (int t = 0; t < 4; t++)
        b[t] = token_row(x, x_stride, t);
    float sum[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        uint8_t sc[8], m[8];
        int8x16_t c[16];
        q4_k_scales(&a[i], sc, m);
        q4_k_codes(&a[i], c);
        float d = fp16(a[i].d), dmin = fp16(a[i].dmin);
        for (int t = 0; t < 4; t++) {
            const tm_block_q8_k *bt = &b[t][i];
            int32_t sum_q = qk_affine_sum(c, sc, bt->qs), sum_m = q4k_mins_dot(bt, m);
            sum[t] += bt->d * (d * (float)sum_q - dmin * (float)sum_m);
        }
    }
    memcpy(out, sum, sizeof sum);
}

/* Q5_K: Q4_K's nibbles plus a fifth bit: qh[l] bit 2k is that of weight 64k + l, bit 2k + 1
 * that of 64k + 32 + l. The qh vectors shift down two bits per chunk k. */
static void arm_vec_dot_q5_k(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q5_k *a = w;
    const tm_block_q8_k *b = x;
    const uint8x16_t one = vdupq_n_u8(1), two = vdupq_n_u8(2);
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        uint8_t sc[8], m[8];
        for (int g = 0; g < 8; g++)
            tm_q4k_scale_min(g, a[i].scales, &sc[g], &m[g]);
        uint8x16_t h0 = vld1q_u8(a[i].qh), h1 = vld1q_u8(a[i].qh + 16);
        int8x16_t c[16];
        for (int k = 0; k < 4; k++) {
            uint8x16_t q0 = vld1q_u8(a[i].qs + 32 * k), q1 = vld1q_u8(a[i].qs + 32 * k + 16);
            uint8x16_t m4 = vdupq_n_u8(0x0F);
            c[4 * k] =
                vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q0, m4), vshlq_n_u8(vandq_u8(h0, one), 4)));
            c[4 * k + 1] =
                vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q1, m4), vshlq_n_u8(vandq_u8(h1, one), 4)));
            c[4 * k + 2] =
                vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q0, 4), vshlq_n_u8(vandq_u8(h0, two), 3)));
            c[4 * k + 3] =
                vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q1, 4), vshlq_n_u8(vandq_u8(h1, two), 3)));
            h0 = vshrq_n_u8(h0, 2);
            h1 = vshrq_n_u8(h1, 2);
        }
        int32_t sum_q = qk_affine_sum(c, sc, b[i].qs), sum_m = q4k_mins_dot(&b[i], m);
        sum += b[i].d * (fp16(a[i].d) * (float)sum_q - fp16(a[i].dmin) * (float)sum_m);
    }
    *out = sum;
}

/* Q6_K: in each half h, 16 bytes of ql and qh give one group of 16 codes c - 32 per (nibble,
 * bit pair): group 8h + k takes ql bytes 64h + 16 (k % 4) .. as low (k < 4) or high nibbles
 * and qh bytes 32h + 16 (k % 2) .. at bit pair k / 2. Every 16-code vector is one group, so
 * its scale multiplies the whole of its dot. */
static void arm_vec_dot_q6_k(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q6_k *a = w;
    const tm_block_q8_k *b = x;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        int32x4_t sumi = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = a[i].ql + 64 * h, *qh = a[i].qh + 32 * h;
            uint8x16_t l[4] = {vld1q_u8(ql), vld1q_u8(ql + 16), vld1q_u8(ql + 32),
                               vld1q_u8(ql + 48)};
            uint8x16_t hb[2] = {vld1q_u8(qh), vld1q_u8(qh + 16)};
            for (int k = 0; k < 8; k++) {
                uint8x16_t nib = k < 4 ? vandq_u8(l[k], m4) : vshrq_n_u8(l[k - 4], 4);
                uint8x16_t hv = hb[k & 1];
                /* bit pair k / 2 of qh moved to bits 4-5 */
                uint8x16_t hi = k < 2   ? vshlq_n_u8(hv, 4)
                                : k < 4 ? vshlq_n_u8(hv, 2)
                                : k < 6 ? hv
                                        : vshrq_n_u8(hv, 2);
                int8x16_t c = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(nib, vandq_u8(hi, m2))), off);
                int g = 8 * h + k;
                int32x4_t p = dot_s8(vdupq_n_s32(0), c, vld1q_s8(b[i].qs + 16 * g));
                sumi = vmlaq_n_s32(sumi, p, a[i].scales[g]);
            }
        }
        sum += b[i].d * fp16(a[i].d) * (float)vaddvq_s32(sumi);
    }
    *out = sum;
}

/* ---- activation quantizers (bit-identical to q8_0.c, q8_1.c and q8_k.c) --------------------- */

static inline float max_abs_32(const float *x)
{
    float32x4_t m = vabsq_f32(vld1q_f32(x));
    for (int k = 4; k < 32; k += 4)
        m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + k)));
    return vmaxvq_f32(m);
}

/* 16 floats times iscale, rounded half to even (FCVTNS), narrowed with saturation: a value
 * rounding to 128 becomes 127, the reference's min(127, .). */
static inline int8x16_t round_pack_16(const float *x, float iscale)
{
    int32x4_t i0 = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x), iscale));
    int32x4_t i1 = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4), iscale));
    int32x4_t i2 = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 8), iscale));
    int32x4_t i3 = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 12), iscale));
    int16x8_t w0 = vcombine_s16(vqmovn_s32(i0), vqmovn_s32(i1));
    int16x8_t w1 = vcombine_s16(vqmovn_s32(i2), vqmovn_s32(i3));
    return vcombine_s8(vqmovn_s16(w0), vqmovn_s16(w1));
}

/* Codes of 32 values as tm_q8_codes_32; returns d. */
static inline float q8_codes_32(const float *src, int8_t qs[32])
{
    float d = max_abs_32(src) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    vst1q_s8(qs, round_pack_16(src, id));
    vst1q_s8(qs + 16, round_pack_16(src + 16, id));
    return d;
}

static void arm_quantize_q8_0(const float *src, void *dst, int64_t n)
{
    tm_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32)
        b[i].d = tm_f32_to_f16(q8_codes_32(src, b[i].qs));
}

static void arm_quantize_q8_1(const float *src, void *dst, int64_t n)
{
    tm_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32) {
        float d = q8_codes_32(src, b[i].qs);
        int sum = vaddlvq_s8(vld1q_s8(b[i].qs)) + vaddlvq_s8(vld1q_s8(b[i].qs + 16));
        b[i].d = tm_f32_to_f16(d);
        b[i].s = tm_f32_to_f16(d * (float)sum);
    }
}

static void arm_quantize_q8_k(const float *src, void *dst, int64_t n)
{
    tm_block_q8_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        float amax = 0;
        for (int k = 0; k < TM_QK_K; k += 32)
            amax = TM_MAX(amax, max_abs_32(src + k));
        if (amax == 0) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        int first = 0; /* the first value of that magnitude gives the sign, as in q8_k.c */
        while (fabsf(src[first]) != amax)
            first++;
        float iscale = -128.0f / src[first];
        for (int k = 0; k < TM_QK_K; k += 16)
            vst1q_s8(b[i].qs + k, round_pack_16(src + k, iscale));
        for (int g = 0; g < TM_QK_K / 16; g++)
            b[i].bsums[g] = vaddlvq_s8(vld1q_s8(b[i].qs + 16 * g));
        b[i].d = 1.0f / iscale;
    }
}

/* tm_read_sum_fn on 128-bit loads, four in flight per step. */
static uint64_t arm_read_sum(const void *p, uint64_t bytes)
{
    const uint8_t *b = p;
    uint64x2_t s0 = vdupq_n_u64(0), s1 = s0, s2 = s0, s3 = s0;
    uint64_t i = 0;
    for (; i + 64 <= bytes; i += 64) {
        s0 = vaddq_u64(s0, vreinterpretq_u64_u8(vld1q_u8(b + i)));
        s1 = vaddq_u64(s1, vreinterpretq_u64_u8(vld1q_u8(b + i + 16)));
        s2 = vaddq_u64(s2, vreinterpretq_u64_u8(vld1q_u8(b + i + 32)));
        s3 = vaddq_u64(s3, vreinterpretq_u64_u8(vld1q_u8(b + i + 48)));
    }
    uint64x2_t s = vaddq_u64(vaddq_u64(s0, s1), vaddq_u64(s2, s3));
    return vgetq_lane_u64(s, 0) + vgetq_lane_u64(s, 1) + tm_read_sum_ref(b + i, bytes - i);
}

/* Fills the slots every Arm table shares. */
static void arm_fill_table(tm_kernels *k)
{
    k->read_sum = arm_read_sum;
    k->vec_dot[TM_DTYPE_F16] = arm_vec_dot_f16;
    k->vec_dot[TM_DTYPE_Q8_0] = arm_vec_dot_q8_0;
    k->vec_dot[TM_DTYPE_Q4_0] = arm_vec_dot_q4_0;
    k->vec_dot[TM_DTYPE_Q5_0] = arm_vec_dot_q5_0;
    k->vec_dot[TM_DTYPE_Q4_1] = arm_vec_dot_q4_1;
    k->vec_dot[TM_DTYPE_Q5_1] = arm_vec_dot_q5_1;
    k->vec_dot[TM_DTYPE_Q4_K] = arm_vec_dot_q4_k;
    k->vec_dot[TM_DTYPE_Q5_K] = arm_vec_dot_q5_k;
    k->vec_dot[TM_DTYPE_Q6_K] = arm_vec_dot_q6_k;
    k->vec_dot_x4[TM_DTYPE_Q8_0] = arm_vec_dot_x4_q8_0;
    k->vec_dot_x4[TM_DTYPE_Q4_0] = arm_vec_dot_x4_q4_0;
    k->vec_dot_x4[TM_DTYPE_Q4_K] = arm_vec_dot_x4_q4_k;
    k->quantize[TM_DTYPE_Q8_0] = arm_quantize_q8_0;
    k->quantize[TM_DTYPE_Q8_1] = arm_quantize_q8_1;
    k->quantize[TM_DTYPE_Q8_K] = arm_quantize_q8_k;
    arm_attn_fill(k);
}

#endif
