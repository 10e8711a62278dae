/* The list of built-in architectures. A registry is a plain table. */
#include "arch.h"

#include <string.h>

static const tm_arch g_archs[] = {
    /* clang-format off */
    {"llama", tm_arch_llama_load},
    {"qwen2", tm_arch_qwen2_load},
    {"qwen3", tm_arch_qwen3_load},
    {"qwen3moe", tm_arch_qwen3moe_load},
    {"qwen2moe", tm_arch_qwen2moe_load},
    {"phi3", tm_arch_phi3_load},
    {"gemma2", tm_arch_gemma2_load},
    {"gemma3", tm_arch_gemma3_load},
    /* clang-format on */
};

const tm_arch *tm_arch_find(const char *name)
{
    for (size_t i = 0; i < TM_ARRAY_LEN(g_archs); i++)
        if (strcmp(g_archs[i].name, name) == 0)
            return &g_archs[i];
    return NULL;
}

const char *tm_arch_names(void)
{
    return "llama (incl. Mixtral), qwen2, qwen3, qwen2moe, qwen3moe, phi3, gemma2, gemma3";
}
