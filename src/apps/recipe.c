/* The per-tensor type rules (see recipe.h). llama.cpp's choices, learned from its
 * quantizer and checked against its output:
 *
 * | tensor             | rule                                                             |
 * |--------------------|------------------------------------------------------------------|
 * | 1-D (norms)        | F32                                                              |
 * | output (or tied    | Q6_K, unless the type is Q8_0 / F16 / BF16 / F32 (kept), or the  |
 * |  token_embd)       | row is not a multiple of 256 (Q8_0)                              |
 * | attn_v             | Q2_K: Q4_K if n_head/n_head_kv >= 4 else Q3_K; Q3_K_M: Q5_K in   |
 * |                    | layers 0-1, else Q4_K; Q4_K_M, Q5_K_M: Q6_K in "more bits"       |
 * |                    | layers; Q4_K_S: Q5_K in layers 0-3                               |
 * | ffn_down (+ _exps) | Q2_K: Q3_K; Q3_K_M: Q5_K in the first 1/16 of layers, else Q4_K; |
 * |                    | Q4_K_M, Q5_K_M: Q6_K in "more bits" layers; Q4_K_S: Q5_K in the  |
 * |                    | first 1/8                                                        |
 * | attn_output        | Q2_K: Q3_K; Q3_K_M: Q4_K                                         |
 * | attn_qkv (fused)   | Q3_K_M, Q3_K_L: Q4_K; Q4_K_M: Q5_K; Q5_K_M: Q6_K                 |
 * | everything else    | the base type                                                    |
 *
 * "More bits" layers: the first and last eighth, and every third layer between. */
#include "recipe.h"

#include "tensor/tensor.h"

#include <stdlib.h>
#include <string.h>

enum { /* llama.cpp's LLAMA_FTYPE values, as general.file_type stores them */
       FT_F32 = 0,
       FT_F16 = 1,
       FT_Q4_0 = 2,
       FT_Q4_1 = 3,
       FT_Q8_0 = 7,
       FT_Q5_0 = 8,
       FT_Q5_1 = 9,
       FT_Q2_K = 10,
       FT_Q3_K_S = 11,
       FT_Q3_K_M = 12,
       FT_Q3_K_L = 13,
       FT_Q4_K_S = 14,
       FT_Q4_K_M = 15,
       FT_Q5_K_S = 16,
       FT_Q5_K_M = 17,
       FT_Q6_K = 18,
       FT_BF16 = 32,
};

static const tm_recipe g_recipes[] = {
    {"F32", TM_DTYPE_F32, FT_F32},        {"F16", TM_DTYPE_F16, FT_F16},
    {"BF16", TM_DTYPE_BF16, FT_BF16},     {"Q4_0", TM_DTYPE_Q4_0, FT_Q4_0},
    {"Q4_1", TM_DTYPE_Q4_1, FT_Q4_1},     {"Q5_0", TM_DTYPE_Q5_0, FT_Q5_0},
    {"Q5_1", TM_DTYPE_Q5_1, FT_Q5_1},     {"Q8_0", TM_DTYPE_Q8_0, FT_Q8_0},
    {"Q2_K", TM_DTYPE_Q2_K, FT_Q2_K},     {"Q3_K_S", TM_DTYPE_Q3_K, FT_Q3_K_S},
    {"Q3_K_M", TM_DTYPE_Q3_K, FT_Q3_K_M}, {"Q3_K_L", TM_DTYPE_Q3_K, FT_Q3_K_L},
    {"Q4_K_S", TM_DTYPE_Q4_K, FT_Q4_K_S}, {"Q4_K_M", TM_DTYPE_Q4_K, FT_Q4_K_M},
    {"Q5_K_S", TM_DTYPE_Q5_K, FT_Q5_K_S}, {"Q5_K_M", TM_DTYPE_Q5_K, FT_Q5_K_M},
    {"Q6_K", TM_DTYPE_Q6_K, FT_Q6_K},
};

bool tm_recipe_find(const char *name, tm_recipe *out)
{
    for (size_t i = 0; i < sizeof g_recipes / sizeof g_recipes[0]; i++) {
        const char *a = g_recipes[i].name, *b = name;
        while (*a && *b && (*a == *b || (*b >= 'a' && *b <= 'z' && *a == *b - 32)))
            a++, b++;
        if (!*a && !*b) {
            *out = g_recipes[i];
            return true;
        }
    }
    return false;
}

const char *tm_recipe_names(void)
{
    return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, "
           "Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K";
}

static bool use_more_bits(int32_t i, int32_t n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "blk.12.ffn_down.weight" -> 12; -1 for tensors outside the blocks. */
static int32_t layer_of(const char *name)
{
    if (strncmp(name, "blk.", 4) != 0)
        return -1;
    return (int32_t)strtol(name + 4, NULL, 10);
}

/* A type whose blocks fit a row of ne0, the way llama.cpp falls back. */
static uint32_t fit_row(uint32_t type, int64_t ne0)
{
    const tm_dtype_info *info = tm_dtype_info_get(type);
    if (info && ne0 % info->block_size == 0)
        return type;
    switch (type) {
    case TM_DTYPE_Q2_K:
    case TM_DTYPE_Q3_K:
        type = TM_DTYPE_Q4_0; /* llama.cpp: IQ4_NL, which we do not compute with yet */
        break;
    case TM_DTYPE_Q4_K:
        type = TM_DTYPE_Q5_0;
        break;
    case TM_DTYPE_Q5_K:
        type = TM_DTYPE_Q5_1;
        break;
    case TM_DTYPE_Q6_K:
        type = TM_DTYPE_Q8_0;
        break;
    default:
        break;
    }
    info = tm_dtype_info_get(type);
    return info && ne0 % info->block_size == 0 ? type : TM_DTYPE_F16;
}

uint32_t tm_recipe_tensor_type(const tm_recipe *r, const tm_recipe_model *m, const char *name,
                               int32_t n_dims, const int64_t *ne)
{
    if (n_dims < 2 || !ends_with(name, ".weight"))
        return TM_DTYPE_F32;
    uint32_t t = r->base_type;
    bool float_type = t == TM_DTYPE_F32 || t == TM_DTYPE_F16 || t == TM_DTYPE_BF16;
    if (float_type)
        return t;
    int32_t layer = layer_of(name), n = m->n_layer;
    uint32_t ft = r->file_type;
    if (strcmp(name, "output.weight") == 0 ||
        (!m->has_output && strcmp(name, "token_embd.weight") == 0)) {
        if (ne[0] % TM_QK_K != 0)
            t = TM_DTYPE_Q8_0;
        else if (t != TM_DTYPE_Q8_0)
            t = TM_DTYPE_Q6_K;
    } else if (ends_with(name, "attn_v.weight")) {
        int32_t n_gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 1;
        if (ft == FT_Q2_K)
            t = n_gqa >= 4 ? TM_DTYPE_Q4_K : TM_DTYPE_Q3_K;
        else if (ft == FT_Q3_K_M)
            t = layer < 2 ? TM_DTYPE_Q5_K : TM_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_L)
            t = TM_DTYPE_Q5_K;
        else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) && use_more_bits(layer, n))
            t = TM_DTYPE_Q6_K;
        else if (ft == FT_Q4_K_S && layer < 4)
            t = TM_DTYPE_Q5_K;
    } else if (strstr(name, "ffn_down")) { /* also the experts' ffn_down_exps, _shexp */
        if (ft == FT_Q2_K)
            t = TM_DTYPE_Q3_K;
        else if (ft == FT_Q3_K_M)
            t = layer < n / 16 ? TM_DTYPE_Q5_K : TM_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_L)
            t = TM_DTYPE_Q5_K;
        else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) && use_more_bits(layer, n))
            t = TM_DTYPE_Q6_K;
        else if (ft == FT_Q4_K_S && layer < n / 8)
            t = TM_DTYPE_Q5_K;
    } else if (ends_with(name, "attn_qkv.weight")) {
        if (ft == FT_Q3_K_M || ft == FT_Q3_K_L)
            t = TM_DTYPE_Q4_K;
        else if (ft == FT_Q4_K_M)
            t = TM_DTYPE_Q5_K;
        else if (ft == FT_Q5_K_M)
            t = TM_DTYPE_Q6_K;
    } else if (ends_with(name, "attn_output.weight")) {
        if (ft == FT_Q2_K)
            t = TM_DTYPE_Q3_K;
        else if (ft == FT_Q3_K_M)
            t = TM_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_L)
            t = TM_DTYPE_Q5_K;
    }
    return fit_row(t, ne[0]);
}
