/* Q2_K: super-blocks of 256 weights in 16 groups of 16: w = d * sc * q - dmin * m with 2-bit
 * q and 4-bit sc (low nibble) and m (high nibble) per group. Weight 128h + 32j + l (h < 2,
 * j < 4, l < 32) sits in byte qs[32h + l] at bits 2j..2j+1. Activations: Q8_K. */
#include "quant.h"

static void codes(const uint8_t *qs, uint8_t q[TM_QK_K])
{
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                q[128 * h + 32 * j + l] = (qs[32 * h + l] >> (2 * j)) & 3;
}

void tm_q2_k_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q2_k *b = src;
    uint8_t q[TM_QK_K];
    for (int64_t i = 0; i < n / TM_QK_K; i++, dst += TM_QK_K) {
        float d = tm_f16_to_f32(b[i].d), dmin = tm_f16_to_f32(b[i].dmin);
        codes(b[i].qs, q);
        for (int g = 0; g < 16; g++) {
            float dl = d * (float)(b[i].scales[g] & 0xF), ml = dmin * (float)(b[i].scales[g] >> 4);
            for (int l = 0; l < 16; l++)
                dst[16 * g + l] = dl * q[16 * g + l] - ml;
        }
    }
}

void tm_q2_k_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q2_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        float scale[16], min[16], max_scale = 0, max_min = 0;
        uint8_t q[TM_QK_K];
        for (int g = 0; g < 16; g++) {
            scale[g] = tm_quant_fit_affine(16, src + 16 * g, NULL, 3, q + 16 * g, &min[g]);
            max_scale = TM_MAX(max_scale, scale[g]);
            max_min = TM_MAX(max_min, min[g]);
        }
        float inv_s = max_scale > 0 ? 15.0f / max_scale : 0.0f;
        float inv_m = max_min > 0 ? 15.0f / max_min : 0.0f;
        b[i].d = tm_f32_to_f16(max_scale / 15.0f);
        b[i].dmin = tm_f32_to_f16(max_min / 15.0f);
        float d = tm_f16_to_f32(b[i].d), dmin = tm_f16_to_f32(b[i].dmin);
        for (int g = 0; g < 16; g++) {
            int sc = TM_MIN(15, tm_round_even(inv_s * scale[g]));
            int m = TM_MIN(15, tm_round_even(inv_m * min[g]));
            b[i].scales[g] = (uint8_t)(sc | m << 4);
            float ds = d * (float)sc, dm = dmin * (float)m;
            for (int l = 0; l < 16; l++) {
                int v = ds > 0 ? tm_round_even((src[16 * g + l] + dm) / ds) : 0;
                q[16 * g + l] = (uint8_t)(v < 0 ? 0 : v > 3 ? 3 : v);
            }
        }
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                uint8_t byte = 0;
                for (int j = 0; j < 4; j++)
                    byte |= (uint8_t)(q[128 * h + 32 * j + l] << (2 * j));
                b[i].qs[32 * h + l] = byte;
            }
    }
}

void tm_q2_k_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q2_k *a = w;
    const tm_block_q8_k *b = x;
    uint8_t q[TM_QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        codes(a[i].qs, q);
        int32_t sum_q = 0, sum_m = 0;
        for (int g = 0; g < 16; g++) {
            int32_t s = 0;
            for (int l = 0; l < 16; l++)
                s += q[16 * g + l] * b[i].qs[16 * g + l];
            sum_q += (a[i].scales[g] & 0xF) * s;
            sum_m += (a[i].scales[g] >> 4) * b[i].bsums[g];
        }
        sum += b[i].d *
               (tm_f16_to_f32(a[i].d) * (float)sum_q - tm_f16_to_f32(a[i].dmin) * (float)sum_m);
    }
    *out = sum;
}
