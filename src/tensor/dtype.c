/* The table of ggml element types: names, block sizes and block bytes (GGUF spec). Types we
 * cannot compute with are still listed, so a file holding them can be validated and
 * described, and refused by name only when someone wants to compute with it. */
#include "tensor.h"

#include <ctype.h>
#include <string.h>

static const tm_dtype_info g_types[TM_DTYPE_COUNT] = {
    [TM_DTYPE_F32] = {"f32", 1, 4},
    [TM_DTYPE_F16] = {"f16", 1, 2},
    [TM_DTYPE_Q4_0] = {"q4_0", 32, 18},
    [TM_DTYPE_Q4_1] = {"q4_1", 32, 20},
    [TM_DTYPE_Q5_0] = {"q5_0", 32, 22},
    [TM_DTYPE_Q5_1] = {"q5_1", 32, 24},
    [TM_DTYPE_Q8_0] = {"q8_0", 32, 34},
    [TM_DTYPE_Q8_1] = {"q8_1", 32, 36},
    [TM_DTYPE_Q2_K] = {"q2_K", 256, 84},
    [TM_DTYPE_Q3_K] = {"q3_K", 256, 110},
    [TM_DTYPE_Q4_K] = {"q4_K", 256, 144},
    [TM_DTYPE_Q5_K] = {"q5_K", 256, 176},
    [TM_DTYPE_Q6_K] = {"q6_K", 256, 210},
    [TM_DTYPE_Q8_K] = {"q8_K", 256, 292},
    [TM_DTYPE_IQ2_XXS] = {"iq2_xxs", 256, 66},
    [TM_DTYPE_IQ2_XS] = {"iq2_xs", 256, 74},
    [TM_DTYPE_IQ3_XXS] = {"iq3_xxs", 256, 98},
    [TM_DTYPE_IQ1_S] = {"iq1_s", 256, 50},
    [TM_DTYPE_IQ4_NL] = {"iq4_nl", 32, 18},
    [TM_DTYPE_IQ3_S] = {"iq3_s", 256, 110},
    [TM_DTYPE_IQ2_S] = {"iq2_s", 256, 82},
    [TM_DTYPE_IQ4_XS] = {"iq4_xs", 256, 136},
    [TM_DTYPE_I8] = {"i8", 1, 1},
    [TM_DTYPE_I16] = {"i16", 1, 2},
    [TM_DTYPE_I32] = {"i32", 1, 4},
    [TM_DTYPE_I64] = {"i64", 1, 8},
    [TM_DTYPE_F64] = {"f64", 1, 8},
    [TM_DTYPE_IQ1_M] = {"iq1_m", 256, 56},
    [TM_DTYPE_BF16] = {"bf16", 1, 2},
    [TM_DTYPE_TQ1_0] = {"tq1_0", 256, 54},
    [TM_DTYPE_TQ2_0] = {"tq2_0", 256, 66},
    [TM_DTYPE_MXFP4] = {"mxfp4", 32, 17},
};

const tm_dtype_info *tm_dtype_info_get(uint32_t type)
{
    if (type >= TM_DTYPE_COUNT || !g_types[type].name)
        return NULL;
    return &g_types[type];
}

const char *tm_dtype_name(uint32_t type)
{
    const tm_dtype_info *info = tm_dtype_info_get(type);
    return info ? info->name : "?";
}

bool tm_dtype_row_bytes(uint32_t type, int64_t n, uint64_t *out)
{
    const tm_dtype_info *info = tm_dtype_info_get(type);
    if (!info || n < 0 || n % info->block_size != 0)
        return false;
    return tm_mul_u64((uint64_t)(n / info->block_size), (uint64_t)info->block_bytes, out);
}

bool tm_dtype_from_name(const char *name, tm_dtype *out)
{
    for (uint32_t t = 0; t < TM_DTYPE_COUNT; t++) {
        const char *n = g_types[t].name;
        if (!n)
            continue;
        size_t i = 0;
        while (n[i] && name[i] && tolower((unsigned char)n[i]) == tolower((unsigned char)name[i]))
            i++;
        if (!n[i] && !name[i]) {
            *out = (tm_dtype)t;
            return true;
        }
    }
    return false;
}
