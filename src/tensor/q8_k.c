/* Q8_K: the activation format of the K-quants: 256 values, w = d * q with a float d and the
 * sum of each 16 codes precomputed (the K-quants' offsets multiply those sums). Rounds half
 * to even, so SIMD copies match bit for bit. */
#include "quant.h"

void tm_q8_k_to_float(const void *src, float *dst, int64_t n)
{
    const tm_block_q8_k *b = src;
    for (int64_t i = 0; i < n / TM_QK_K; i++, dst += TM_QK_K)
        for (int j = 0; j < TM_QK_K; j++)
            dst[j] = b[i].d * (float)b[i].qs[j];
}

/* The value of largest magnitude maps to -128, so the codes use the full signed range. */
void tm_q8_k_quantize(const float *src, void *dst, int64_t n)
{
    tm_block_q8_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        float max = tm_signed_absmax(src, TM_QK_K);
        if (max == 0) {
            b[i].d = 0;
            for (int j = 0; j < TM_QK_K; j++)
                b[i].qs[j] = 0;
            for (int g = 0; g < TM_QK_K / 16; g++)
                b[i].bsums[g] = 0;
            continue;
        }
        float iscale = -128.0f / max;
        for (int j = 0; j < TM_QK_K; j++)
            b[i].qs[j] = (int8_t)TM_MIN(127, tm_round_even(iscale * src[j]));
        for (int g = 0; g < TM_QK_K / 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++)
                s += b[i].qs[g * 16 + j];
            b[i].bsums[g] = (int16_t)s;
        }
        b[i].d = 1.0f / iscale;
    }
}

/* Two activation rows (for tests): the plain dot of their values. */
void tm_q8_k_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q8_k *a = w, *b = x;
    float sum = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        int32_t s = 0;
        for (int j = 0; j < TM_QK_K; j++)
            s += a[i].qs[j] * b[i].qs[j];
        sum += (float)s * a[i].d * b[i].d;
    }
    *out = sum;
}
