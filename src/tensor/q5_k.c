/* Q5_K: as Q4_K with a fifth bit per weight: for the 64 weights of chunk c, qh[l] bit 2c is
 * the high bit of weight 64c + l and bit 2c + 1 that of weight 64c + 32 + l. Activations:
 * Q8_K. */
#include "quant.h"

static void codes(const tm_block_q5_k *b, uint8_t q[TM_QK_K])
{
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            q[64 * c + l] = (uint8_t)((b->qs[32 * c + l] & 0xF) | ((b->qh[l] >> (2 * c)) & 1) << 4);
            q[64 * c + 32 + l] =
                (uint8_t)((b->qs[32 * c + l] >> 4) | ((b->qh[l] >> (2 * c + 1)) & 1) << 4);
        }
}

void tm_q5_k_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q5_k *b = src;
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

void tm_q5_k_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q5_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        uint8_t sc[8], m[8], q[TM_QK_K];
        tm_qk_affine_groups(src, 31, &b[i].d, &b[i].dmin, sc, m, q);
        tm_q4k_pack_scales(sc, m, b[i].scales);
        for (int l = 0; l < 32; l++)
            b[i].qh[l] = 0;
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                b[i].qs[32 * c + l] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
                b[i].qh[l] |= (uint8_t)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
            }
    }
}

void tm_q5_k_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q5_k *a = w;
    const tm_block_q8_k *b = x;
    uint8_t q[TM_QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        codes(&a[i], q);
        sum += tm_qk_affine_dot(q, a[i].scales, a[i].d, a[i].dmin, &b[i]);
    }
    *out = sum;
}
