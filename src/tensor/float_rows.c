/* The float types' reference row functions: F32, F16 and BF16 weights are multiplied by F32
 * activations, accumulating in double so the reference is as exact as it is simple. */
#include "ref.h"

#include <string.h>

void tm_f32_to_float(const void *src, float *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void tm_f32_quantize(const float *src, void *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void tm_f32_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const float *a = w, *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)a[i] * b[i];
    *out = (float)sum;
}

void tm_f16_to_float(const void *src, float *dst, int64_t n)
{
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = tm_f16_to_f32(h[i]);
}

void tm_f16_quantize(const float *src, void *dst, int64_t n)
{
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++)
        h[i] = tm_f32_to_f16(src[i]);
}

void tm_f16_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const uint16_t *a = w;
    const float *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)tm_f16_to_f32(a[i]) * b[i];
    *out = (float)sum;
}

void tm_bf16_to_float(const void *src, float *dst, int64_t n)
{
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = tm_bf16_to_f32(h[i]);
}

void tm_bf16_quantize(const float *src, void *dst, int64_t n)
{
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++)
        h[i] = tm_f32_to_bf16(src[i]);
}

void tm_bf16_vec_dot(int64_t n, float *out, const void *w, const void *x)
{
    const uint16_t *a = w;
    const float *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)tm_bf16_to_f32(a[i]) * b[i];
    *out = (float)sum;
}
