/* Arm attention kernels over F32, F16, Q8_0 and Q4_0 KV cache rows (see tm_attn_scores_fn) on
 * 128-bit NEON vectors, included by arm_dots.h (so compiled into every Arm table). Both
 * kernels take up to four query heads of a group at once, so a key or value row is loaded
 * (and converted) once per group of four heads, not once per head:
 *
 *   scores: four keys by up to four heads per step, sixteen 4-lane sums; pairwise adds
 *           (FADDP) reduce four of them into one vector holding four keys' scores, stored
 *           as they are since a head's scores are contiguous;
 *   values: up to four heads by 16 dimensions held in registers across all keys, added to
 *           the output once.
 *
 * The head count of a step is a compile-time constant (1 to 4), so a group of one query head
 * (plain multi-head attention) does no wasted work. F32 and F16 rows whose width is not a
 * multiple of 4 take the reference. Q8_0 and Q4_0 rows (whole blocks of 32) are dequantized
 * 16 values at a time as they are read: fewer bytes than F16 for a widening and a multiply
 * more. Results equal the reference's up to float summation order. */
#ifndef TM_KERNELS_ARM_ATTN_H
#define TM_KERNELS_ARM_ATTN_H

#include <arm_neon.h>
#include <math.h>
#include <string.h>

#define ARM_INLINE static inline __attribute__((always_inline))

ARM_INLINE float32x4_t load4_f32(const float *p)
{
    return vld1q_f32(p);
}

ARM_INLINE float32x4_t load4_f16(const uint16_t *p)
{
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

/* The groups of up to four heads, each through a kernel whose head count is a constant. */
#define ARM_ATTN_GROUPS(name, heads, elem)                                                    \
    static void name(int64_t n, int64_t dim, const void *x, int64_t x_stride, const float *y, \
                     int64_t y_stride, int n_q, float *o, int64_t o_stride)                   \
    {                                                                                         \
        for (int g = 0; g < n_q; g += 4) {                                                    \
            const float *yg = y + g * y_stride;                                               \
            float *og = o + g * o_stride;                                                     \
            switch (n_q - g < 4 ? n_q - g : 4) {                                              \
            case 1:                                                                           \
                heads(1, n, dim, (const elem *)x, x_stride, yg, y_stride, og, o_stride);      \
                break;                                                                        \
            case 2:                                                                           \
                heads(2, n, dim, (const elem *)x, x_stride, yg, y_stride, og, o_stride);      \
                break;                                                                        \
            case 3:                                                                           \
                heads(3, n, dim, (const elem *)x, x_stride, yg, y_stride, og, o_stride);      \
                break;                                                                        \
            default:                                                                          \
                heads(4, n, dim, (const elem *)x, x_stride, yg, y_stride, og, o_stride);      \
                break;                                                                        \
            }                                                                                 \
        }                                                                                     \
    }

/* One body for both row types: LOAD4(p) gives 4 floats of a row. Heads past the group's end
 * are not computed: nh is a constant in every instance. */
#define ARM_ATTN_SCORES(name, elem, LOAD4)                                                      \
    ARM_INLINE void name##_heads(const int nh, int64_t n, int64_t dim, const elem *k,           \
                                 int64_t k_stride, const float *q, int64_t q_stride, float *s,  \
                                 int64_t s_stride)                                              \
    {                                                                                           \
        int64_t j = 0;                                                                          \
        for (; j + 4 <= n; j += 4) {                                                            \
            const elem *r = k + j * k_stride;                                                   \
            float32x4_t acc[4][4];                                                              \
            for (int h = 0; h < nh; h++)                                                        \
                for (int i = 0; i < 4; i++)                                                     \
                    acc[h][i] = vdupq_n_f32(0);                                                 \
            for (int64_t d = 0; d < dim; d += 4) {                                              \
                float32x4_t k0 = LOAD4(r + d), k1 = LOAD4(r + k_stride + d);                    \
                float32x4_t k2 = LOAD4(r + 2 * k_stride + d), k3 = LOAD4(r + 3 * k_stride + d); \
                for (int h = 0; h < nh; h++) {                                                  \
                    float32x4_t qv = vld1q_f32(q + h * q_stride + d);                           \
                    acc[h][0] = vfmaq_f32(acc[h][0], k0, qv);                                   \
                    acc[h][1] = vfmaq_f32(acc[h][1], k1, qv);                                   \
                    acc[h][2] = vfmaq_f32(acc[h][2], k2, qv);                                   \
                    acc[h][3] = vfmaq_f32(acc[h][3], k3, qv);                                   \
                }                                                                               \
            }                                                                                   \
            for (int h = 0; h < nh; h++)                                                        \
                vst1q_f32(s + h * s_stride + j, vpaddq_f32(vpaddq_f32(acc[h][0], acc[h][1]),    \
                                                           vpaddq_f32(acc[h][2], acc[h][3])));  \
        }                                                                                       \
        for (; j < n; j++)                                                                      \
            for (int h = 0; h < nh; h++) {                                                      \
                float32x4_t a = vdupq_n_f32(0);                                                 \
                for (int64_t d = 0; d < dim; d += 4)                                            \
                    a = vfmaq_f32(a, LOAD4(k + j * k_stride + d),                               \
                                  vld1q_f32(q + h * q_stride + d));                             \
                s[h * s_stride + j] = vaddvq_f32(a);                                            \
            }                                                                                   \
    }

/* Values: nc vectors (4 * nc dimensions from d0) for nh heads, summed over all keys. */
#define ARM_ATTN_VALUES(name, elem, LOAD4)                                                       \
    ARM_INLINE void name##_tile(const int nh, const int nc, int64_t n, const elem *v,            \
                                int64_t v_stride, const float *w, int64_t w_stride, float *out,  \
                                int64_t o_stride)                                                \
    {                                                                                            \
        float32x4_t acc[4][4];                                                                   \
        for (int h = 0; h < nh; h++)                                                             \
            for (int c = 0; c < nc; c++)                                                         \
                acc[h][c] = vdupq_n_f32(0);                                                      \
        for (int64_t j = 0; j < n; j++) {                                                        \
            float32x4_t x[4];                                                                    \
            for (int c = 0; c < nc; c++)                                                         \
                x[c] = LOAD4(v + j * v_stride + 4 * c);                                          \
            for (int h = 0; h < nh; h++) {                                                       \
                float wj = w[h * w_stride + j];                                                  \
                for (int c = 0; c < nc; c++)                                                     \
                    acc[h][c] = vfmaq_n_f32(acc[h][c], x[c], wj);                                \
            }                                                                                    \
        }                                                                                        \
        for (int h = 0; h < nh; h++)                                                             \
            for (int c = 0; c < nc; c++) {                                                       \
                float *o = out + h * o_stride + 4 * c;                                           \
                vst1q_f32(o, vaddq_f32(vld1q_f32(o), acc[h][c]));                                \
            }                                                                                    \
    }                                                                                            \
    ARM_INLINE void name##_heads(const int nh, int64_t n, int64_t dim, const elem *v,            \
                                 int64_t v_stride, const float *w, int64_t w_stride, float *out, \
                                 int64_t o_stride)                                               \
    {                                                                                            \
        int64_t d = 0;                                                                           \
        for (; d + 16 <= dim; d += 16)                                                           \
            name##_tile(nh, 4, n, v + d, v_stride, w, w_stride, out + d, o_stride);              \
        for (; d < dim; d += 4)                                                                  \
            name##_tile(nh, 1, n, v + d, v_stride, w, w_stride, out + d, o_stride);              \
    }

ARM_ATTN_SCORES(scores_f32, float, load4_f32)
ARM_ATTN_SCORES(scores_f16, uint16_t, load4_f16)
ARM_ATTN_VALUES(values_f32, float, load4_f32)
ARM_ATTN_VALUES(values_f16, uint16_t, load4_f16)
ARM_ATTN_GROUPS(arm_attn_scores_f32_4, scores_f32_heads, float)
ARM_ATTN_GROUPS(arm_attn_scores_f16_4, scores_f16_heads, uint16_t)
ARM_ATTN_GROUPS(arm_attn_values_f32_4, values_f32_heads, float)
ARM_ATTN_GROUPS(arm_attn_values_f16_4, values_f16_heads, uint16_t)

/* ---- Q8_0 and Q4_0 rows: blocks of 32 values, read 16 at a time -------------------------- */

/* Four vectors of 16 signed codes times a block's scale. */
ARM_INLINE void scale16(int8x16_t c, uint16_t h, float32x4_t x[4])
{
    float32x4_t scale = vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h)));
    int16x8_t lo = vmovl_s8(vget_low_s8(c)), hi = vmovl_high_s8(c);
    x[0] = vmulq_f32(scale, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))));
    x[1] = vmulq_f32(scale, vcvtq_f32_s32(vmovl_high_s16(lo)));
    x[2] = vmulq_f32(scale, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))));
    x[3] = vmulq_f32(scale, vcvtq_f32_s32(vmovl_high_s16(hi)));
}

/* 16 values of a Q8_0 row (blocks of 34 bytes) from element d (d % 16 == 0). */
ARM_INLINE void load16_q8_0(const uint8_t *row, int64_t d, float32x4_t x[4])
{
    const uint8_t *blk = row + d / 32 * 34;
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    scale16(vld1q_s8((const int8_t *)blk + 2 + d % 32), h, x);
}

/* 16 values of a Q4_0 row (blocks of 18 bytes): the low nibbles of a block's 16 code bytes
 * are its first 16 values, the high nibbles the rest; codes minus 8. */
ARM_INLINE void load16_q4_0(const uint8_t *row, int64_t d, float32x4_t x[4])
{
    const uint8_t *blk = row + d / 32 * 18;
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    uint8x16_t b = vld1q_u8(blk + 2);
    b = d % 32 < 16 ? vandq_u8(b, vdupq_n_u8(0x0F)) : vshrq_n_u8(b, 4);
    scale16(vsubq_s8(vreinterpretq_s8_u8(b), vdupq_n_s8(8)), h, x);
}

/* Row j of a block cache whose rows are stride elements apart, blocks of block_bytes. */
ARM_INLINE const uint8_t *block_row(const void *cache, int64_t j, int64_t stride,
                                    int64_t block_bytes)
{
    return (const uint8_t *)cache + j * (stride / 32) * block_bytes;
}

/* As ARM_ATTN_SCORES, with one key's 16 values at a time (four vectors) against every head:
 * four keys' 16 values would take 16 registers beside the 16 sums. LOAD16(row, d, x). */
#define ARM_ATTN_SCORES16(name, block_bytes, LOAD16)                                           \
    ARM_INLINE void name##_heads(const int nh, int64_t n, int64_t dim, const void *k,          \
                                 int64_t k_stride, const float *q, int64_t q_stride, float *s, \
                                 int64_t s_stride)                                             \
    {                                                                                          \
        int64_t j = 0;                                                                         \
        for (; j + 4 <= n; j += 4) {                                                           \
            float32x4_t acc[4][4];                                                             \
            for (int h = 0; h < nh; h++)                                                       \
                for (int i = 0; i < 4; i++)                                                    \
                    acc[h][i] = vdupq_n_f32(0);                                                \
            for (int64_t d = 0; d < dim; d += 16)                                              \
                for (int i = 0; i < 4; i++) {                                                  \
                    float32x4_t x[4];                                                          \
                    LOAD16(block_row(k, j + i, k_stride, block_bytes), d, x);                  \
                    for (int c = 0; c < 4; c++)                                                \
                        for (int h = 0; h < nh; h++)                                           \
                            acc[h][i] = vfmaq_f32(acc[h][i], x[c],                             \
                                                  vld1q_f32(q + h * q_stride + d + 4 * c));    \
                }                                                                              \
            for (int h = 0; h < nh; h++)                                                       \
                vst1q_f32(s + h * s_stride + j, vpaddq_f32(vpaddq_f32(acc[h][0], acc[h][1]),   \
                                                           vpaddq_f32(acc[h][2], acc[h][3]))); \
        }                                                                                      \
        for (; j < n; j++)                                                                     \
            for (int h = 0; h < nh; h++) {                                                     \
                float32x4_t a = vdupq_n_f32(0);                                                \
                for (int64_t d = 0; d < dim; d += 16) {                                        \
                    float32x4_t x[4];                                                          \
                    LOAD16(block_row(k, j, k_stride, block_bytes), d, x);                      \
                    for (int c = 0; c < 4; c++)                                                \
                        a = vfmaq_f32(a, x[c], vld1q_f32(q + h * q_stride + d + 4 * c));       \
                }                                                                              \
                s[h * s_stride + j] = vaddvq_f32(a);                                           \
            }                                                                                  \
    }

#define ARM_ATTN_VALUES16(name, block_bytes, LOAD16)                                             \
    ARM_INLINE void name##_heads(const int nh, int64_t n, int64_t dim, const void *v,            \
                                 int64_t v_stride, const float *w, int64_t w_stride, float *out, \
                                 int64_t o_stride)                                               \
    {                                                                                            \
        for (int64_t d = 0; d < dim; d += 16) {                                                  \
            float32x4_t acc[4][4];                                                               \
            for (int h = 0; h < nh; h++)                                                         \
                for (int c = 0; c < 4; c++)                                                      \
                    acc[h][c] = vdupq_n_f32(0);                                                  \
            for (int64_t j = 0; j < n; j++) {                                                    \
                float32x4_t x[4];                                                                \
                LOAD16(block_row(v, j, v_stride, block_bytes), d, x);                            \
                for (int h = 0; h < nh; h++) {                                                   \
                    float wj = w[h * w_stride + j];                                              \
                    for (int c = 0; c < 4; c++)                                                  \
                        acc[h][c] = vfmaq_n_f32(acc[h][c], x[c], wj);                            \
                }                                                                                \
            }                                                                                    \
            for (int h = 0; h < nh; h++)                                                         \
                for (int c = 0; c < 4; c++) {                                                    \
                    float *o = out + h * o_stride + d + 4 * c;                                   \
                    vst1q_f32(o, vaddq_f32(vld1q_f32(o), acc[h][c]));                            \
                }                                                                                \
        }                                                                                        \
    }

ARM_ATTN_SCORES16(scores_q8_0, 34, load16_q8_0)
ARM_ATTN_SCORES16(scores_q4_0, 18, load16_q4_0)
ARM_ATTN_VALUES16(values_q8_0, 34, load16_q8_0)
ARM_ATTN_VALUES16(values_q4_0, 18, load16_q4_0)
ARM_ATTN_GROUPS(arm_attn_scores_q8_0_32, scores_q8_0_heads, void)
ARM_ATTN_GROUPS(arm_attn_scores_q4_0_32, scores_q4_0_heads, void)
ARM_ATTN_GROUPS(arm_attn_values_q8_0_32, values_q8_0_heads, void)
ARM_ATTN_GROUPS(arm_attn_values_q4_0_32, values_q4_0_heads, void)

/* The table's entries: rows of a width the kernels take (a multiple of width), else the
 * reference. */
#define ARM_ATTN_ENTRY(name, kind, type, width)                                               \
    static void name(int64_t n, int64_t dim, const void *x, int64_t x_stride, const float *y, \
                     int64_t y_stride, int n_q, float *o, int64_t o_stride)                   \
    {                                                                                         \
        if (dim % width == 0)                                                                 \
            name##_##width(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride);               \
        else                                                                                  \
            tm_attn_##kind##_ref(type)(n, dim, x, x_stride, y, y_stride, n_q, o, o_stride);   \
    }

ARM_ATTN_ENTRY(arm_attn_scores_f32, scores, TM_DTYPE_F32, 4)
ARM_ATTN_ENTRY(arm_attn_scores_f16, scores, TM_DTYPE_F16, 4)
ARM_ATTN_ENTRY(arm_attn_scores_q8_0, scores, TM_DTYPE_Q8_0, 32)
ARM_ATTN_ENTRY(arm_attn_scores_q4_0, scores, TM_DTYPE_Q4_0, 32)
ARM_ATTN_ENTRY(arm_attn_values_f32, values, TM_DTYPE_F32, 4)
ARM_ATTN_ENTRY(arm_attn_values_f16, values, TM_DTYPE_F16, 4)
ARM_ATTN_ENTRY(arm_attn_values_q8_0, values, TM_DTYPE_Q8_0, 32)
ARM_ATTN_ENTRY(arm_attn_values_q4_0, values, TM_DTYPE_Q4_0, 32)

/* exp(x) for x <= 0 (below -87, where float would be subnormal, 0): x = k ln 2 + r with
 * |r| <= ln 2 / 2, e^r by its Taylor polynomial to r^7 (relative error below 1e-7), 2^k
 * added to the exponent. */
static inline float32x4_t exp4_nonpos(float32x4_t x)
{
    uint32x4_t live = vcgeq_f32(x, vdupq_n_f32(-87.0f));
    x = vmaxq_f32(x, vdupq_n_f32(-87.0f));
    float32x4_t k = vrndnq_f32(vmulq_n_f32(x, 1.44269504f));
    float32x4_t r = vfmsq_f32(x, k, vdupq_n_f32(0.693145752f)); /* ln 2, split in two */
    r = vfmsq_f32(r, k, vdupq_n_f32(1.42860677e-6f));
    float32x4_t p = vdupq_n_f32(1.0f / 5040);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 720), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 120), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 24), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 6), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    int32x4_t e = vshlq_n_s32(vcvtq_s32_f32(k), 23);
    uint32x4_t bits = vreinterpretq_u32_s32(vaddq_s32(vreinterpretq_s32_f32(p), e));
    return vreinterpretq_f32_u32(vandq_u32(bits, live));
}

/* The argument is scale * x - max rounded as the reference rounds it (no fused multiply-
 * add), so only the polynomial differs from expf. */
static float arm_exp_sum(float *x, int64_t n, float scale)
{
    float32x4_t vmax = vdupq_n_f32(-INFINITY);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vmax = vmaxq_f32(vmax, vmulq_n_f32(vld1q_f32(x + i), scale));
    float max = vmaxvq_f32(vmax);
    for (int64_t t = i; t < n; t++)
        max = scale * x[t] > max ? scale * x[t] : max;
    float32x4_t vm = vdupq_n_f32(max), sum = vdupq_n_f32(0);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t e = exp4_nonpos(vsubq_f32(vmulq_n_f32(vld1q_f32(x + i), scale), vm));
        vst1q_f32(x + i, e);
        sum = vaddq_f32(sum, e);
    }
    float total = vaddvq_f32(sum);
    for (; i < n; i++) {
        x[i] = expf(scale * x[i] - max);
        total += x[i];
    }
    return total;
}

/* F32 -> F16 rows (the cache writes) with the hardware conversion (FCVTN), which rounds to
 * nearest even under the default FPCR as the reference does. */
static void arm_quantize_f16(const float *src, void *dst, int64_t n)
{
    uint16_t *d = dst;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(d + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    for (; i < n; i++)
        d[i] = tm_f32_to_f16(src[i]);
}

/* ---- F16 keys laid by dimension (tm_attn_scores_f16_by_dim_ref) -------------------------
 * H heads by P vectors of 4 keys per step: each query element multiplies the P vectors of one
 * dimension (FMLA by scalar), so no sum crosses lanes; 12 to 16 accumulators cover the
 * multiply-adds' latency on wide cores. H and P are constants in every instance. */
ARM_INLINE void by_dim_step(const int H, const int P, int64_t dim, const uint16_t *k,
                            int64_t k_stride, const float *q, int64_t q_stride, float *s,
                            int64_t s_stride)
{
    float32x4_t acc[16];
    for (int i = 0; i < H * P; i++)
        acc[i] = vdupq_n_f32(0);
    for (int64_t d = 0; d < dim; d++) {
        float32x4_t kv[8];
        for (int p = 0; p < P; p++)
            kv[p] = load4_f16(k + d * k_stride + 4 * p);
        for (int h = 0; h < H; h++) {
            float qd = q[h * q_stride + d];
            for (int p = 0; p < P; p++)
                acc[h * P + p] = vfmaq_n_f32(acc[h * P + p], kv[p], qd);
        }
    }
    for (int h = 0; h < H; h++)
        for (int p = 0; p < P; p++)
            vst1q_f32(s + h * s_stride + 4 * p, acc[h * P + p]);
}

/* Steps of 4 P keys (P: 8 for one or two heads, 4 for three or four), then of 4, then the
 * last n % 4: each dimension's keys copied into 4 lanes padded with zeros, one step into
 * scratch scores, the first n % 4 kept (as x86_attn.h's AVX2 kernel does with 8 lanes, where
 * the reference had taken about half a percent of a decode step). */
ARM_INLINE void by_dim_heads(const int H, int64_t n, int64_t dim, const uint16_t *k,
                             int64_t k_stride, const float *q, int64_t q_stride, float *s,
                             int64_t s_stride)
{
    const int P = H <= 2 ? 8 : 4;
    int64_t j = 0;
    for (; j + 4 * P <= n; j += 4 * P)
        by_dim_step(H, P, dim, k + j, k_stride, q, q_stride, s + j, s_stride);
    for (; j + 4 <= n; j += 4)
        by_dim_step(H, 1, dim, k + j, k_stride, q, q_stride, s + j, s_stride);
    if (j == n)
        return;
    if (dim > TM_BY_DIM_TAIL_DIM) {
        tm_attn_scores_f16_by_dim_ref(n - j, dim, k + j, k_stride, q, q_stride, H, s + j, s_stride);
        return;
    }
    uint16_t keys[TM_BY_DIM_TAIL_DIM * 4];
    float scores[4 * 4];
    tm_by_dim_tail_keys(k + j, k_stride, n - j, dim, 4, keys);
    by_dim_step(H, 1, dim, keys, 4, q, q_stride, scores, 4);
    tm_by_dim_tail_scores(scores, 4, H, n - j, s + j, s_stride);
}

ARM_ATTN_GROUPS(arm_attn_scores_f16_by_dim, by_dim_heads, uint16_t)

static void arm_attn_fill(tm_kernels *k)
{
    k->attn_scores_f16_by_dim = arm_attn_scores_f16_by_dim;
    k->attn_scores[TM_DTYPE_F32] = arm_attn_scores_f32;
    k->attn_scores[TM_DTYPE_F16] = arm_attn_scores_f16;
    k->attn_values[TM_DTYPE_F32] = arm_attn_values_f32;
    k->attn_values[TM_DTYPE_F16] = arm_attn_values_f16;
    k->attn_scores[TM_DTYPE_Q8_0] = arm_attn_scores_q8_0;
    k->attn_values[TM_DTYPE_Q8_0] = arm_attn_values_q8_0;
    k->attn_scores[TM_DTYPE_Q4_0] = arm_attn_scores_q4_0;
    k->attn_values[TM_DTYPE_Q4_0] = arm_attn_values_q4_0;
    k->quantize[TM_DTYPE_F16] = arm_quantize_f16;
    k->exp_sum = arm_exp_sum;
}

#endif
