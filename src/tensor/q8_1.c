/* Q8_1: the activation format of Q4_1 and Q5_1 weights: Q8_0 plus s = d * sum(q) in fp16,
 * which other runtimes use for the offset term. Rounds half to even (see q8_0.c). */
#include "quant.h"

void tm_q8_1_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        float d = tm_f16_to_f32(b[i].d);
        for (int j = 0; j < 32; j++)
            dst[j] = d * (float)b[i].qs[j];
    }
}

void tm_q8_1_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32) {
        float d = tm_q8_codes_32(src, b[i].qs);
        int sum = 0;
        for (int j = 0; j < 32; j++)
            sum += b[i].qs[j];
        b[i].d = tm_f32_to_f16(d);
        b[i].s = tm_f32_to_f16(d * (float)sum);
    }
}

/* Two activation rows (for tests): the plain dot of their values. */
void tm_q8_1_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q8_1 *a = w, *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++)
            s += a[i].qs[j] * b[i].qs[j];
        sum += (float)s * tm_f16_to_f32(a[i].d) * tm_f16_to_f32(b[i].d);
    }
    *out = sum;
}
