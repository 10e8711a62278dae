/* The list of built-in architectures. A registry is a plain table. */
#include "arch.h"

#include <string.h>

static const tm_arch g_archs[] = {
    {"llama", tm_arch_llama_load},
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
    return "llama";
}
