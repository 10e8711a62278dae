/* Q3_K: super-blocks of 256 weights in 16 groups of 16: w = d * sc * q with q in -4..3 and a
 * signed 6-bit sc per group (stored + 32, packed in 12 bytes: tm_q3k_scale). The low two
 * bits of q + 4 are laid out as Q2_K's codes; the third bit of weight 128h + 32j + l is bit
 * 4h + j of hmask[l]. Activations: Q8_K. */
#include "quant.h"

#include <string.h>

static void codes(const tm_block_q3_k *b, int8_t q[TM_QK_K])
{
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                int low = (b->qs[32 * h + l] >> (2 * j)) & 3;
                int high = (b->hmask[l] >> (4 * h + j)) & 1;
                q[128 * h + 32 * j + l] = (int8_t)(low - (high ? 0 : 4));
            }
}

void tm_q3_k_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q3_k *b = src;
    int8_t q[TM_QK_K];
    for (int64_t i = 0; i < n / TM_QK_K; i++, dst += TM_QK_K) {
        float d = tm_f16_to_f32(b[i].d);
        codes(&b[i], q);
        for (int g = 0; g < 16; g++) {
            float dl = d * (float)tm_q3k_scale(g, b[i].scales);
            for (int l = 0; l < 16; l++)
                dst[16 * g + l] = dl * q[16 * g + l];
        }
    }
}

static void pack_scales(const int8_t sc[16], uint8_t out[12])
{
    memset(out, 0, 12);
    for (int g = 0; g < 16; g++) {
        int v = sc[g] + 32; /* 0..63 */
        if (g < 8)
            out[g] |= (uint8_t)(v & 0xF);
        else
            out[g - 8] |= (uint8_t)((v & 0xF) << 4);
        out[8 + g % 4] |= (uint8_t)((v >> 4) << (2 * (g / 4)));
    }
}

void tm_q3_k_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q3_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        float scale[16];
        int8_t q[TM_QK_K], sc[16];
        for (int g = 0; g < 16; g++)
            scale[g] = tm_quant_fit_symmetric(16, src + 16 * g, NULL, -4, 3, q + 16 * g);
        /* the group scale of largest magnitude maps to -32, the extra negative code */
        float max = tm_signed_absmax(scale, 16);
        float iscale = max != 0 ? -32.0f / max : 0.0f;
        for (int g = 0; g < 16; g++)
            sc[g] = (int8_t)TM_MAX(-32, TM_MIN(31, tm_round_even(iscale * scale[g])));
        b[i].d = tm_f32_to_f16(max != 0 ? 1.0f / iscale : 0.0f);
        pack_scales(sc, b[i].scales);
        float d = tm_f16_to_f32(b[i].d);
        for (int g = 0; g < 16; g++) {
            float ds = d * (float)sc[g];
            for (int l = 0; l < 16; l++) {
                int v = ds != 0 ? tm_round_even(src[16 * g + l] / ds) : 0;
                q[16 * g + l] = (int8_t)(v < -4 ? -4 : v > 3 ? 3 : v);
            }
        }
        memset(b[i].hmask, 0, sizeof b[i].hmask);
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) {
                    int c = q[128 * h + 32 * j + l] + 4; /* 0..7 */
                    b[i].qs[32 * h + l] |= (uint8_t)((c & 3) << (2 * j));
                    b[i].hmask[l] |= (uint8_t)((c >> 2) << (4 * h + j));
                }
    }
}

void tm_q3_k_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q3_k *a = w;
    const tm_block_q8_k *b = x;
    int8_t q[TM_QK_K];
    int scale[16];
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        codes(&a[i], q);
        for (int g = 0; g < 16; g++)
            scale[g] = tm_q3k_scale(g, a[i].scales);
        sum += b[i].d * tm_f16_to_f32(a[i].d) * (float)tm_qk_groups16_dot(q, scale, b[i].qs);
    }
    *out = sum;
}
