/* Q5_0: blocks of 32 weights, w = d * (q - 16) with 5-bit q: low 4 bits as Q4_0's nibbles,
 * bit 4 of q[j] is bit j of the little-endian 32-bit qh. Activations: Q8_0. */
#include "quant.h"

#include <string.h>

static inline int q5_code(const uint8_t *qs, uint32_t qh, int j)
{
    int low = j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4;
    return low | (int)((qh >> j) & 1) << 4;
}

void tm_q5_0_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        float d = tm_f16_to_f32(b[i].d);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 32; j++)
            dst[j] = d * (float)(q5_code(b[i].qs, qh, j) - 16);
    }
}

void tm_q5_0_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32) {
        float d = tm_signed_absmax(src, 32) / -16.0f, id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = tm_f32_to_f16(d);
        uint32_t qh = 0;
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int j = 0; j < 32; j++) {
            int q = (int)TM_MIN(31.0f, TM_MAX(0.0f, floorf(src[j] * id + 16.5f)));
            b[i].qs[j % 16] |= (uint8_t)((q & 0xF) << (j < 16 ? 0 : 4));
            qh |= (uint32_t)(q >> 4) << j;
        }
        memcpy(b[i].qh, &qh, 4);
    }
}

void tm_q5_0_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q5_0 *a = w;
    const tm_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        uint32_t qh;
        memcpy(&qh, a[i].qh, 4);
        int32_t s = 0;
        for (int j = 0; j < 32; j++)
            s += (q5_code(a[i].qs, qh, j) - 16) * b[i].qs[j];
        sum += (float)s * tm_f16_to_f32(a[i].d) * tm_f16_to_f32(b[i].d);
    }
    *out = sum;
}
