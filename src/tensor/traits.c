/* The table of reference functions per type (see ref.h): the activation format each weight
 * type's dot product takes, and its scalar dequantize, quantize and dot. */
#include "ref.h"

#define REF(t) tm_##t##_to_float, tm_##t##_quantize, tm_##t##_vec_dot

static const tm_type_traits g_traits[TM_DTYPE_COUNT] = {
    [TM_DTYPE_F32] = {TM_DTYPE_F32, REF(f32)},    [TM_DTYPE_F16] = {TM_DTYPE_F32, REF(f16)},
    [TM_DTYPE_BF16] = {TM_DTYPE_F32, REF(bf16)},  [TM_DTYPE_Q4_0] = {TM_DTYPE_Q8_0, REF(q4_0)},
    [TM_DTYPE_Q4_1] = {TM_DTYPE_Q8_1, REF(q4_1)}, [TM_DTYPE_Q5_0] = {TM_DTYPE_Q8_0, REF(q5_0)},
    [TM_DTYPE_Q5_1] = {TM_DTYPE_Q8_1, REF(q5_1)}, [TM_DTYPE_Q8_0] = {TM_DTYPE_Q8_0, REF(q8_0)},
    [TM_DTYPE_Q8_1] = {TM_DTYPE_Q8_1, REF(q8_1)}, [TM_DTYPE_Q2_K] = {TM_DTYPE_Q8_K, REF(q2_k)},
    [TM_DTYPE_Q3_K] = {TM_DTYPE_Q8_K, REF(q3_k)}, [TM_DTYPE_Q4_K] = {TM_DTYPE_Q8_K, REF(q4_k)},
    [TM_DTYPE_Q5_K] = {TM_DTYPE_Q8_K, REF(q5_k)}, [TM_DTYPE_Q6_K] = {TM_DTYPE_Q8_K, REF(q6_k)},
    [TM_DTYPE_Q8_K] = {TM_DTYPE_Q8_K, REF(q8_k)},
};

const tm_type_traits *tm_type_traits_get(uint32_t type)
{
    if (type >= TM_DTYPE_COUNT || !g_traits[type].to_float)
        return NULL;
    return &g_traits[type];
}
