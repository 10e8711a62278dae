/* Q6_K: super-blocks of 256 weights in 16 groups of 16: w = d * sc * (c - 32) with 6-bit c
 * and a signed 8-bit sc per group. In each half h of 128 weights, for l < 32: weight
 * 128h + l takes the low nibble of ql[64h + l], 128h + 32 + l that of ql[64h + 32 + l],
 * 128h + 64 + l and 128h + 96 + l their high nibbles; the two high bits of those four
 * weights are bits 0-1, 2-3, 4-5 and 6-7 of qh[32h + l]. Activations: Q8_K. */
#include "quant.h"

#include <string.h>

static void codes(const tm_block_q6_k *b, int8_t q[TM_QK_K])
{
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *ql = b->ql + 64 * h;
            uint8_t qh = b->qh[32 * h + l];
            int8_t *y = q + 128 * h;
            y[l] = (int8_t)(((ql[l] & 0xF) | ((qh >> 0) & 3) << 4) - 32);
            y[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | ((qh >> 2) & 3) << 4) - 32);
            y[l + 64] = (int8_t)(((ql[l] >> 4) | ((qh >> 4) & 3) << 4) - 32);
            y[l + 96] = (int8_t)(((ql[l + 32] >> 4) | ((qh >> 6) & 3) << 4) - 32);
        }
}

void tm_q6_k_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q6_k *b = src;
    int8_t q[TM_QK_K];
    for (int64_t i = 0; i < n / TM_QK_K; i++, dst += TM_QK_K) {
        float d = tm_f16_to_f32(b[i].d);
        codes(&b[i], q);
        for (int g = 0; g < 16; g++)
            for (int l = 0; l < 16; l++)
                dst[16 * g + l] = d * (float)b[i].scales[g] * q[16 * g + l];
    }
}

void tm_q6_k_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q6_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        float scale[16];
        int8_t q[TM_QK_K];
        for (int g = 0; g < 16; g++)
            scale[g] = tm_quant_fit_symmetric(16, src + 16 * g, NULL, -32, 31, q + 16 * g);
        float max = tm_signed_absmax(scale, 16);
        float iscale = max != 0 ? -128.0f / max : 0.0f;
        for (int g = 0; g < 16; g++)
            b[i].scales[g] = (int8_t)TM_MIN(127, tm_round_even(iscale * scale[g]));
        b[i].d = tm_f32_to_f16(max != 0 ? 1.0f / iscale : 0.0f);
        float d = tm_f16_to_f32(b[i].d);
        for (int g = 0; g < 16; g++) {
            float ds = d * (float)b[i].scales[g];
            for (int l = 0; l < 16; l++) {
                int v = ds != 0 ? tm_round_even(src[16 * g + l] / ds) : 0;
                q[16 * g + l] = (int8_t)(v < -32 ? -32 : v > 31 ? 31 : v);
            }
        }
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const int8_t *y = q + 128 * h;
                int c0 = y[l] + 32, c1 = y[l + 32] + 32, c2 = y[l + 64] + 32, c3 = y[l + 96] + 32;
                b[i].ql[64 * h + l] = (uint8_t)((c0 & 0xF) | (c2 & 0xF) << 4);
                b[i].ql[64 * h + 32 + l] = (uint8_t)((c1 & 0xF) | (c3 & 0xF) << 4);
                b[i].qh[32 * h + l] =
                    (uint8_t)((c0 >> 4) | (c1 >> 4) << 2 | (c2 >> 4) << 4 | (c3 >> 4) << 6);
            }
    }
}

void tm_q6_k_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q6_k *a = w;
    const tm_block_q8_k *b = x;
    int8_t q[TM_QK_K];
    int scale[16];
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        codes(&a[i], q);
        for (int g = 0; g < 16; g++)
            scale[g] = a[i].scales[g];
        sum += b[i].d * tm_f16_to_f32(a[i].d) * (float)tm_qk_groups16_dot(q, scale, b[i].qs);
    }
    *out = sum;
}
