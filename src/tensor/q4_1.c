/* Q4_1: blocks of 32 weights, w = d * q + m with 4-bit q (nibbles as Q4_0). Activations:
 * Q8_1. */
#include "quant.h"

void tm_q4_1_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        float d = tm_f16_to_f32(b[i].d), m = tm_f16_to_f32(b[i].m);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)(b[i].qs[j] & 0xF) + m;
            dst[j + 16] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}

void tm_q4_1_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32) {
        float lo = src[0], hi = src[0];
        for (int j = 1; j < 32; j++) {
            lo = TM_MIN(lo, src[j]);
            hi = TM_MAX(hi, src[j]);
        }
        float d = (hi - lo) / 15.0f, id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = tm_f32_to_f16(d);
        b[i].m = tm_f32_to_f16(lo);
        for (int j = 0; j < 16; j++) {
            int q0 = (int)TM_MIN(15.0f, TM_MAX(0.0f, floorf((src[j] - lo) * id + 0.5f)));
            int q1 = (int)TM_MIN(15.0f, TM_MAX(0.0f, floorf((src[j + 16] - lo) * id + 0.5f)));
            b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

/* sum (d q + m)(dx qx) = d dx sum(q qx) + m dx sum(qx); the activation sum is taken from the
 * integer codes (exact) rather than from the block's fp16 s field. */
void tm_q4_1_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_1 *a = w;
    const tm_block_q8_1 *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t s = 0, sx = 0;
        for (int j = 0; j < 16; j++) {
            s += (a[i].qs[j] & 0xF) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + 16];
            sx += b[i].qs[j] + b[i].qs[j + 16];
        }
        float dx = tm_f16_to_f32(b[i].d);
        sum += (float)s * tm_f16_to_f32(a[i].d) * dx + (float)sx * tm_f16_to_f32(a[i].m) * dx;
    }
    *out = sum;
}
