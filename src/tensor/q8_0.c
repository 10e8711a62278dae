/* Q8_0: blocks of 32 values, w = d * q with 8-bit q. Both a weight type and the activation
 * format of Q4_0, Q5_0 and Q8_0 weights, so its quantizer rounds half to even (what SIMD
 * conversion instructions do) and SIMD copies match it bit for bit. Q8_1 (q8_1.c) adds the
 * fp16 product s = d * sum(q) for the types with an offset. */
#include "quant.h"

#include <string.h>

void tm_q8_0_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        float d = tm_f16_to_f32(b[i].d);
        for (int j = 0; j < 32; j++)
            dst[j] = d * (float)b[i].qs[j];
    }
}

void tm_q8_0_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32)
        b[i].d = tm_f32_to_f16(tm_q8_codes_32(src, b[i].qs));
}

void tm_q8_0_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q8_0 *a = w, *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++)
            s += a[i].qs[j] * b[i].qs[j];
        sum += (float)s * tm_f16_to_f32(a[i].d) * tm_f16_to_f32(b[i].d);
    }
    *out = sum;
}
