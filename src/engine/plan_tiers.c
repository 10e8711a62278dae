/* The machine classes `temoto plan --machine` answers for: one table, every number of it
 * explained in docs/plan.md ("Machine tiers").
 *
 * Apple tiers: the unified memory of a Mac configuration, of which a model gets the GPU
 * working set macOS recommends (Metal's recommendedMaxWorkingSetSize): about two thirds on
 * machines up to 32 GB (10.67 GiB of 16 GiB is the figure reported for 16 GB Macs) and
 * three quarters above; newer macOS versions report more (84% of 128 GiB) and
 * `sysctl iogpu.wired_limit_mb` raises it. temoto computes on the CPU, where that limit does
 * not apply, but the system and the user's applications need the rest all the same.
 * Bandwidths: Apple's published figures for the chip named. PC tiers: dual-channel memory
 * at its nominal rate (channels x 8 bytes x transfers/s); a quarter of the memory is left to
 * Windows, a browser and the desktop. GPU tiers: the card's VRAM (90% usable: the driver's
 * context and the display take the rest) at its published bandwidth, with the system RAM
 * such a machine typically has. All nominal peaks: decode reaches a fraction of them. */
#include "engine.h"

#include <math.h>
#include <string.h>

#define GIB (1024ull * 1024 * 1024)

static const tm_plan_tier g_tiers[] = {
    {"a16", "Apple Silicon, 16 GB unified memory (M2/M3 class: 8 cores, 100 GB/s)", 16 * GIB,
     2.0 / 3.0, 16 * GIB, 100, 8, true, false},
    {"a24", "Apple Silicon, 24 GB unified memory (M4 class: 10 cores, 120 GB/s)", 24 * GIB,
     2.0 / 3.0, 24 * GIB, 120, 10, true, false},
    {"a32", "Apple Silicon, 32 GB unified memory (M2 Pro class: 12 cores, 200 GB/s)", 32 * GIB,
     2.0 / 3.0, 32 * GIB, 200, 12, true, false},
    {"a64", "Apple Silicon, 64 GB unified memory (M4 Pro class: 14 cores, 273 GB/s)", 64 * GIB,
     0.75, 64 * GIB, 273, 14, true, false},
    {"a96", "Apple Silicon, 96 GB unified memory (M2 Max class: 12 cores, 400 GB/s)", 96 * GIB,
     0.75, 96 * GIB, 400, 12, true, false},
    {"a128", "Apple Silicon, 128 GB unified memory (M4 Max class: 16 cores, 546 GB/s)", 128 * GIB,
     0.75, 128 * GIB, 546, 16, true, false},
    {"w-cpu1", "PC without GPU, 8 cores, 32 GB (dual-channel DDR4-3200, 51.2 GB/s)", 32 * GIB, 0.75,
     32 * GIB, 51.2, 8, false, false},
    {"w-cpu2", "PC without GPU, 16 cores, 64 GB (dual-channel DDR5-5600, 89.6 GB/s)", 64 * GIB,
     0.75, 64 * GIB, 89.6, 16, false, false},
    {"g8", "NVIDIA GPU with 8 GB (RTX 4060 class, 272 GB/s), 16 GB system RAM", 8 * GIB, 0.9,
     16 * GIB, 272, 8, false, true},
    {"g12", "NVIDIA GPU with 12 GB (RTX 3060 12 GB class, 360 GB/s), 32 GB system RAM", 12 * GIB,
     0.9, 32 * GIB, 360, 8, false, true},
    {"g16", "NVIDIA GPU with 16 GB (RTX 4060 Ti 16 GB class, 288 GB/s), 32 GB system RAM", 16 * GIB,
     0.9, 32 * GIB, 288, 8, false, true},
    {"g24", "NVIDIA GPU with 24 GB (RTX 3090 class, 936 GB/s), 64 GB system RAM", 24 * GIB, 0.9,
     64 * GIB, 936, 16, false, true},
};

const tm_plan_tier *tm_plan_tier_find(const char *name)
{
    for (size_t i = 0; i < TM_ARRAY_LEN(g_tiers); i++)
        if (strcmp(g_tiers[i].name, name) == 0)
            return &g_tiers[i];
    return NULL;
}

const tm_plan_tier *tm_plan_tier_at(int i)
{
    return i >= 0 && (size_t)i < TM_ARRAY_LEN(g_tiers) ? &g_tiers[i] : NULL;
}

const char *tm_plan_tier_names(void)
{
    return "a16, a24, a32, a64, a96, a128, w-cpu1, w-cpu2, g8, g12, g16, g24";
}

uint64_t tm_plan_tier_usable_bytes(const tm_plan_tier *tier)
{
    return (uint64_t)((double)tier->memory_bytes * tier->usable_fraction);
}

const tm_plan_tier *tm_plan_tier_nearest(bool apple, uint64_t memory_bytes, int32_t n_cores)
{
    const tm_plan_tier *best = NULL;
    double best_d = 0;
    double mem = (double)TM_MAX(memory_bytes, 1), cores = (double)TM_MAX(n_cores, 1);
    for (size_t i = 0; i < TM_ARRAY_LEN(g_tiers); i++) {
        const tm_plan_tier *t = &g_tiers[i];
        if (t->gpu || t->apple != apple)
            continue;
        /* the Apple tiers differ in memory alone; PCs by cores and memory, on a log scale */
        double d = fabs(log2(mem / (double)t->memory_bytes));
        if (!apple)
            d += fabs(log2(cores / (double)t->n_cores));
        if (!best || d < best_d) /* ties go to the smaller tier, listed first */
            best = t, best_d = d;
    }
    return best;
}
