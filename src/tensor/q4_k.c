/* Q4_K: super-blocks of 256 weights in 8 groups of 32: w = d * sc * q - dmin * m, with 4-bit
 * q and 6-bit group scale sc and min m packed in 12 bytes (tm_q4k_scale_min). Each 64 weights
 * share 32 bytes of qs: the first 32 in the low nibbles, the next 32 in the high nibbles.
 * Activations: Q8_K. */
#include "quant.h"

#include <string.h>

static void codes(const tm_block_q4_k *b, uint8_t q[TM_QK_K])
{
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            q[64 * c + l] = b->qs[32 * c + l] & 0xF;
            q[64 * c + 32 + l] = b->qs[32 * c + l] >> 4;
        }
}

void tm_q4_k_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q4_k *b = src;
    uint8_t q[TM_QK_K];
    for (int64_t i = 0; i < n / TM_QK_K; i++, dst += TM_QK_K) {
        float d = tm_f16_to_f32(b[i].d), dmin = tm_f16_to_f32(b[i].dmin);
        codes(&b[i], q);
        for (int g = 0; g < 8; g++) {
            uint8_t sc, m;
            tm_q4k_scale_min(g, b[i].scales, &sc, &m);
            for (int l = 0; l < 32; l++)
                dst[32 * g + l] = d * sc * q[32 * g + l] - dmin * m;
        }
    }
}

void tm_q4k_pack_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12])
{
    for (int j = 0; j < 4; j++) {
        out[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
        out[j + 4] = (uint8_t)(m[j] | (m[j + 4] >> 4) << 6);
        out[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
    }
}

void tm_qk_affine_groups(const float *x, int qmax, uint16_t *d_out, uint16_t *dmin_out,
                         uint8_t sc[8], uint8_t m[8], uint8_t q[TM_QK_K])
{
    float scale[8], min[8], max_scale = 0, max_min = 0;
    for (int g = 0; g < 8; g++) {
        scale[g] = tm_quant_fit_affine(32, x + 32 * g, NULL, qmax, q + 32 * g, &min[g]);
        max_scale = TM_MAX(max_scale, scale[g]);
        max_min = TM_MAX(max_min, min[g]);
    }
    float inv_s = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    float inv_m = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int g = 0; g < 8; g++) {
        sc[g] = (uint8_t)TM_MIN(63, tm_round_even(inv_s * scale[g]));
        m[g] = (uint8_t)TM_MIN(63, tm_round_even(inv_m * min[g]));
    }
    *d_out = tm_f32_to_f16(max_scale / 63.0f);
    *dmin_out = tm_f32_to_f16(max_min / 63.0f);
    float d = tm_f16_to_f32(*d_out), dmin = tm_f16_to_f32(*dmin_out);
    for (int g = 0; g < 8; g++) {
        float ds = d * sc[g], dm = dmin * m[g];
        for (int l = 0; l < 32; l++) {
            int v = ds > 0 ? tm_round_even((x[32 * g + l] + dm) / ds) : 0;
            q[32 * g + l] = (uint8_t)(v < 0 ? 0 : v > qmax ? qmax : v);
        }
    }
}

void tm_q4_k_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q4_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        uint8_t sc[8], m[8], q[TM_QK_K];
        tm_qk_affine_groups(src, 15, &b[i].d, &b[i].dmin, sc, m, q);
        tm_q4k_pack_scales(sc, m, b[i].scales);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[i].qs[32 * c + l] = (uint8_t)(q[64 * c + l] | q[64 * c + 32 + l] << 4);
    }
}

void tm_q4_k_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_k *a = w;
    const tm_block_q8_k *b = x;
    uint8_t q[TM_QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        codes(&a[i], q);
        sum += tm_qk_affine_dot(q, a[i].scales, a[i].d, a[i].dmin, &b[i]);
    }
    *out = sum;
}
