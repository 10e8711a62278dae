/* Q5_1: blocks of 32 weights, w = d * q + m with 5-bit q packed as Q5_0. Activations:
 * Q8_1. */
#include "quant.h"

#include <string.h>

static inline int q5_code(const uint8_t *qs, uint32_t qh, int j)
{
    int low = j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4;
    return low | (int)((qh >> j) & 1) << 4;
}

void tm_q5_1_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        float d = tm_f16_to_f32(b[i].d), m = tm_f16_to_f32(b[i].m);
        uint32_t qh;
        memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 32; j++)
            dst[j] = d * (float)q5_code(b[i].qs, qh, j) + m;
    }
}

void tm_q5_1_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32) {
        float lo = src[0], hi = src[0];
        for (int j = 1; j < 32; j++) {
            lo = TM_MIN(lo, src[j]);
            hi = TM_MAX(hi, src[j]);
        }
        float d = (hi - lo) / 31.0f, id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = tm_f32_to_f16(d);
        b[i].m = tm_f32_to_f16(lo);
        uint32_t qh = 0;
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int j = 0; j < 32; j++) {
            int q = (int)TM_MIN(31.0f, TM_MAX(0.0f, floorf((src[j] - lo) * id + 0.5f)));
            b[i].qs[j % 16] |= (uint8_t)((q & 0xF) << (j < 16 ? 0 : 4));
            qh |= (uint32_t)(q >> 4) << j;
        }
        memcpy(b[i].qh, &qh, 4);
    }
}

void tm_q5_1_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q5_1 *a = w;
    const tm_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        uint32_t qh;
        memcpy(&qh, a[i].qh, 4);
        int32_t s = 0, sx = 0;
        for (int j = 0; j < 32; j++) {
            s += q5_code(a[i].qs, qh, j) * b[i].qs[j];
            sx += b[i].qs[j];
        }
        float dx = tm_f16_to_f32(b[i].d);
        sum += (float)s * tm_f16_to_f32(a[i].d) * dx + (float)sx * tm_f16_to_f32(a[i].m) * dx;
    }
    *out = sum;
}
