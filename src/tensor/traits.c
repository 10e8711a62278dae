/* The table of reference functions per type (see ref.h). */
#include "ref.h"

static const tm_type_traits g_traits[TM_DTYPE_COUNT] = {
    [TM_DTYPE_F32] = {TM_DTYPE_F32, tm_f32_to_float, tm_f32_quantize, tm_f32_vec_dot},
    [TM_DTYPE_F16] = {TM_DTYPE_F32, tm_f16_to_float, tm_f16_quantize, tm_f16_vec_dot},
    [TM_DTYPE_BF16] = {TM_DTYPE_F32, tm_bf16_to_float, tm_bf16_quantize, tm_bf16_vec_dot},
};

const tm_type_traits *tm_type_traits_get(uint32_t type)
{
    if (type >= TM_DTYPE_COUNT || !g_traits[type].to_float)
        return NULL;
    return &g_traits[type];
}
