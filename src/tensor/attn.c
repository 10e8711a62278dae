/* Reference attention kernels over F32, F16, Q8_0 and Q4_0 cache rows (see tm_attn_scores_fn):
 * plain loops, the meaning every SIMD version must reproduce up to summation order. */
#include "tensor.h"

#include "quant.h"

#include <math.h>

/* Element d of row j of a cache whose rows are stride elements apart; block types need
 * strides of whole blocks, as every row start is. */
static inline float f32_at(const void *cache, int64_t j, int64_t stride, int64_t d)
{
    return ((const float *)cache)[j * stride + d];
}

static inline float f16_at(const void *cache, int64_t j, int64_t stride, int64_t d)
{
    return tm_f16_to_f32(((const uint16_t *)cache)[j * stride + d]);
}

static inline float q8_0_at(const void *cache, int64_t j, int64_t stride, int64_t d)
{
    const tm_block_q8_0 *row = (const tm_block_q8_0 *)cache + j * (stride / 32);
    return tm_f16_to_f32(row[d / 32].d) * (float)row[d / 32].qs[d % 32];
}

static inline float q4_0_at(const void *cache, int64_t j, int64_t stride, int64_t d)
{
    const tm_block_q4_0 *blk = (const tm_block_q4_0 *)cache + j * (stride / 32) + d / 32;
    int i = (int)(d % 32);
    int q = i < 16 ? blk->qs[i] & 0xF : blk->qs[i - 16] >> 4;
    return tm_f16_to_f32(blk->d) * (float)(q - 8);
}

/* The two kernels of one cache type, written once over its element accessor AT. */
#define REF_ATTN(type, AT)                                                             \
    static void scores_##type(int64_t n, int64_t dim, const void *k, int64_t k_stride, \
                              const float *q, int64_t q_stride, int n_q, float *s,     \
                              int64_t s_stride)                                        \
    {                                                                                  \
        for (int64_t j = 0; j < n; j++)                                                \
            for (int g = 0; g < n_q; g++) {                                            \
                float sum = 0;                                                         \
                for (int64_t d = 0; d < dim; d++)                                      \
                    sum += q[g * q_stride + d] * AT(k, j, k_stride, d);                \
                s[g * s_stride + j] = sum;                                             \
            }                                                                          \
    }                                                                                  \
    static void values_##type(int64_t n, int64_t dim, const void *v, int64_t v_stride, \
                              const float *w, int64_t w_stride, int n_q, float *out,   \
                              int64_t o_stride)                                        \
    {                                                                                  \
        for (int64_t j = 0; j < n; j++)                                                \
            for (int g = 0; g < n_q; g++) {                                            \
                float wj = w[g * w_stride + j];                                        \
                for (int64_t d = 0; d < dim; d++)                                      \
                    out[g * o_stride + d] += wj * AT(v, j, v_stride, d);               \
            }                                                                          \
    }

REF_ATTN(f32, f32_at)
REF_ATTN(f16, f16_at)
REF_ATTN(q8_0, q8_0_at)
REF_ATTN(q4_0, q4_0_at)

void tm_attn_scores_f16_by_dim_ref(int64_t n, int64_t dim, const void *k, int64_t k_stride,
                                   const float *q, int64_t q_stride, int n_q, float *s,
                                   int64_t s_stride)
{
    for (int64_t j = 0; j < n; j++)
        for (int g = 0; g < n_q; g++) {
            float sum = 0;
            for (int64_t d = 0; d < dim; d++)
                sum += q[g * q_stride + d] * f16_at(k, d, k_stride, j);
            s[g * s_stride + j] = sum;
        }
}

tm_attn_scores_fn tm_attn_scores_ref(uint32_t type)
{
    return type == TM_DTYPE_F32    ? scores_f32
           : type == TM_DTYPE_F16  ? scores_f16
           : type == TM_DTYPE_Q8_0 ? scores_q8_0
           : type == TM_DTYPE_Q4_0 ? scores_q4_0
                                   : NULL;
}

tm_attn_values_fn tm_attn_values_ref(uint32_t type)
{
    return type == TM_DTYPE_F32    ? values_f32
           : type == TM_DTYPE_F16  ? values_f16
           : type == TM_DTYPE_Q8_0 ? values_q8_0
           : type == TM_DTYPE_Q4_0 ? values_q4_0
                                   : NULL;
}

float tm_exp_sum_ref(float *x, int64_t n, float scale)
{
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        max = fmaxf(max, scale * x[i]);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(scale * x[i] - max);
        sum += x[i];
    }
    return (float)sum;
}
