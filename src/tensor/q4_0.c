/* Q4_0: blocks of 32 weights, w = d * (q - 8) with 4-bit q; byte j holds q[j] in its low
 * nibble and q[j + 16] in its high nibble. Activations: Q8_0. */
#include "quant.h"

void tm_q4_0_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / TM_QK4_0; i++, dst += TM_QK4_0) {
        float d = tm_f16_to_f32(b[i].d);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)((b[i].qs[j] & 0xF) - 8);
            dst[j + 16] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

/* d = max / -8 with the signed value of largest magnitude: that value becomes q = 0 (-8),
 * using the code the positive side lacks. */
void tm_q4_0_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / TM_QK4_0; i++, src += TM_QK4_0) {
        float d = tm_signed_absmax(src, TM_QK4_0) / -8.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = tm_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            int lo = (int)TM_MIN(15.0f, TM_MAX(0.0f, floorf(src[j] * id + 8.5f)));
            int hi = (int)TM_MIN(15.0f, TM_MAX(0.0f, floorf(src[j + 16] * id + 8.5f)));
            b[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

void tm_q4_0_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_0 *a = w;
    const tm_block_q8_0 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK4_0; i++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            s += ((a[i].qs[j] & 0xF) - 8) * b[i].qs[j];
            s += ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
        }
        sum += (float)s * tm_f16_to_f32(a[i].d) * tm_f16_to_f32(b[i].d);
    }
    *out = sum;
}
