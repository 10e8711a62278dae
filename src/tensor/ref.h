/* The scalar reference functions of every type (tensor/<type>.c), gathered in tm_type_traits
 * by traits.c. Kernels tests compare SIMD slots against these. n counts elements and is a
 * whole number of blocks; vec_dot's x is a row of the type's activation format. */
#ifndef TM_TENSOR_REF_H
#define TM_TENSOR_REF_H

#include "tensor.h"

#define TM_DECLARE_REF(t)                                           \
    void tm_##t##_to_float(const void *src, float *dst, int64_t n); \
    void tm_##t##_quantize(const float *src, void *dst, int64_t n); \
    void tm_##t##_vec_dot(int64_t n, float *out, const void *w, const void *x);

TM_DECLARE_REF(f32)
TM_DECLARE_REF(f16)
TM_DECLARE_REF(bf16)
TM_DECLARE_REF(q4_0)
TM_DECLARE_REF(q4_1)
TM_DECLARE_REF(q5_0)
TM_DECLARE_REF(q5_1)
TM_DECLARE_REF(q8_0)
TM_DECLARE_REF(q8_1) /* activation format: its vec_dot is not used */
TM_DECLARE_REF(q2_k)
TM_DECLARE_REF(q3_k)
TM_DECLARE_REF(q4_k)
TM_DECLARE_REF(q5_k)
TM_DECLARE_REF(q6_k)
TM_DECLARE_REF(q8_k) /* activation format: its vec_dot is not used */

#undef TM_DECLARE_REF

#endif
