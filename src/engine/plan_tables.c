/* The planner's tables for models it has no file of: bits per weight of each quantization
 * name, the shapes of well-known models (what their KV cache and scratch depend on) and the
 * common model sizes with a shape standing for each. docs/plan.md explains every number.
 *
 * Bits per weight. A plain format's figure is its block: bytes per block x 8 / weights per
 * block (Q4_0: 18 bytes per 32 weights = 4.5; Q2_K: 84 per 256 = 2.625; Q6_K: 210 per 256 =
 * 6.5625; the layouts are in src/tensor/). The _S/_M/_L names are mixes: their recipe gives
 * some matrices more bits (attn_v, ffn_down, the output); the figures are the whole-file
 * averages our recipe (src/apps/recipe.c, llama.cpp's rules) gives on the Llama 3 8B,
 * Qwen 2.5 7B and Llama 3 70B shapes, rounded: Q4_K_M 4.82-4.91 -> 4.85, Q5_K_M 5.66-5.71
 * -> 5.7, Q3_K_M 3.88-4.00 -> 3.9. Real files of plain formats also weigh a little more than
 * their block (the output matrix is Q6_K: Q4_0 files average 4.53-4.65): -m reads the file's
 * own bytes.
 *
 * Shapes: layers, heads, KV heads, head width, embedding and feed-forward widths, vocabulary
 * and training context from each model's published config.json (Hugging Face model cards).
 * Gemma 3 12B has sliding-window layers: five of every six attend to the last 1024
 * positions; the engine allocates them the whole context today, and so do these estimates
 * (n_swa only lowers the bytes read per token). */
#include "engine.h"

#include <ctype.h>
#include <string.h>

typedef struct quant_bits {
    const char *name;
    double bits;
} quant_bits;

static const quant_bits g_quants[] = {
    {"F32", 32.0},    {"F16", 16.0},    {"BF16", 16.0},  {"Q8_0", 8.5},    {"Q6_K", 6.5625},
    {"Q5_1", 6.0},    {"Q5_0", 5.5},    {"Q4_1", 5.0},   {"Q4_0", 4.5},    {"Q5_K_M", 5.7},
    {"Q5_K_S", 5.55}, {"Q4_K_M", 4.85}, {"Q4_K_S", 4.6}, {"Q3_K_L", 4.25}, {"Q3_K_M", 3.9},
    {"Q3_K_S", 3.5},  {"Q2_K", 2.625},
};

static bool same_name(const char *a, const char *b) /* ASCII, case-insensitive */
{
    while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return *a == '\0' && *b == '\0';
}

bool tm_plan_quant_bits(const char *name, double *bits)
{
    for (size_t i = 0; i < TM_ARRAY_LEN(g_quants); i++)
        if (same_name(g_quants[i].name, name)) {
            *bits = g_quants[i].bits;
            return true;
        }
    return false;
}

const char *tm_plan_quant_names(void)
{
    return "F32, F16, BF16, Q8_0, Q6_K, Q5_1, Q5_0, Q4_1, Q4_0, Q5_K_M, Q5_K_S, Q4_K_M, Q4_K_S, "
           "Q3_K_L, Q3_K_M, Q3_K_S, Q2_K";
}

/* name, layers, heads, KV heads, head width, embedding, feed-forward, vocabulary, training
 * context, sliding window, period of the global layers, tied output */
static const tm_plan_shape g_shapes[] = {
    {"llama3-8b", 32, 32, 8, 128, 4096, 14336, 128256, 8192, 0, 0, false},
    {"llama3.1-8b", 32, 32, 8, 128, 4096, 14336, 128256, 131072, 0, 0, false},
    {"llama3-70b", 80, 64, 8, 128, 8192, 28672, 128256, 8192, 0, 0, false},
    {"llama3.1-70b", 80, 64, 8, 128, 8192, 28672, 128256, 131072, 0, 0, false},
    {"llama3.2-1b", 16, 32, 8, 64, 2048, 8192, 128256, 131072, 0, 0, true},
    {"llama3.2-3b", 28, 24, 8, 128, 3072, 8192, 128256, 131072, 0, 0, true},
    {"llama2-13b", 40, 40, 40, 128, 5120, 13824, 32000, 4096, 0, 0, false},
    {"qwen2.5-0.5b", 24, 14, 2, 64, 896, 4864, 151936, 32768, 0, 0, true},
    {"qwen2.5-1.5b", 28, 12, 2, 128, 1536, 8960, 151936, 32768, 0, 0, true},
    {"qwen2.5-3b", 36, 16, 2, 128, 2048, 11008, 151936, 32768, 0, 0, true},
    {"qwen2.5-7b", 28, 28, 4, 128, 3584, 18944, 152064, 32768, 0, 0, false},
    {"qwen2.5-14b", 48, 40, 8, 128, 5120, 13824, 152064, 32768, 0, 0, false},
    {"qwen2.5-32b", 64, 40, 8, 128, 5120, 27648, 152064, 32768, 0, 0, false},
    {"qwen3-8b", 36, 32, 8, 128, 4096, 12288, 151936, 32768, 0, 0, false},
    {"gemma3-12b", 48, 16, 8, 256, 3840, 15360, 262208, 131072, 1024, 6, true},
    {"mistral-7b", 32, 32, 8, 128, 4096, 14336, 32768, 32768, 0, 0, false},
    {"phi3-mini", 32, 32, 32, 96, 3072, 8192, 32064, 4096, 0, 0, false},
};

const tm_plan_shape *tm_plan_shape_find(const char *name)
{
    for (size_t i = 0; i < TM_ARRAY_LEN(g_shapes); i++)
        if (same_name(g_shapes[i].name, name))
            return &g_shapes[i];
    return NULL;
}

const tm_plan_shape *tm_plan_shape_at(int i)
{
    return i >= 0 && (size_t)i < TM_ARRAY_LEN(g_shapes) ? &g_shapes[i] : NULL;
}

/* The sizes people download, each with the shape of a popular model of that size (its KV
 * cache and scratch; the weights are the nominal count x bits). */
static const tm_plan_size g_sizes[] = {
    {"0.5B", 500000000ull, "qwen2.5-0.5b"},  {"1.5B", 1500000000ull, "qwen2.5-1.5b"},
    {"3B", 3000000000ull, "llama3.2-3b"},    {"7B", 7000000000ull, "mistral-7b"},
    {"8B", 8000000000ull, "llama3.1-8b"},    {"13B", 13000000000ull, "llama2-13b"},
    {"14B", 14000000000ull, "qwen2.5-14b"},  {"32B", 32000000000ull, "qwen2.5-32b"},
    {"70B", 70000000000ull, "llama3.1-70b"},
};

const tm_plan_size *tm_plan_size_at(int i)
{
    return i >= 0 && (size_t)i < TM_ARRAY_LEN(g_sizes) ? &g_sizes[i] : NULL;
}

const tm_plan_shape *tm_plan_shape_nearest(uint64_t n_params)
{
    const tm_plan_size *best = &g_sizes[0];
    for (size_t i = 1; i < TM_ARRAY_LEN(g_sizes); i++) {
        /* nearest on a log scale: compare ratios, not differences */
        double a = (double)n_params / (double)best->n_params;
        double b = (double)n_params / (double)g_sizes[i].n_params;
        if ((b >= 1 ? b : 1 / b) < (a >= 1 ? a : 1 / a))
            best = &g_sizes[i];
    }
    return tm_plan_shape_find(best->shape);
}
