/* Choosing a kernel table once, from the CPU's features. Tables build on each other: the
 * reference fills every slot, each ISA overrides what it implements on top of the level
 * below (x86: AVX2, then AVX-VNNI or AVX-512, AMX above AVX-512; Arm: NEON, then dotprod, then
 * i8mm), so a type without a fast kernel still works at the best level below. */
#include "isa.h"

#include <string.h>

void tm_kernels_init_ref(tm_kernels *k)
{
    memset(k, 0, sizeof *k);
    k->isa = "ref";
    k->exp_sum = tm_exp_sum_ref;
    k->silu_mul = tm_silu_mul_ref;
    k->gelu_mul = tm_gelu_mul_ref;
    k->read_sum = tm_read_sum_ref;
    k->attn_scores_f16_by_dim = tm_attn_scores_f16_by_dim_ref;
    for (uint32_t t = 0; t < TM_DTYPE_COUNT; t++) {
        const tm_type_traits *tr = tm_type_traits_get(t);
        if (!tr)
            continue;
        k->vec_dot[t] = tr->vec_dot;
        k->quantize[t] = tr->quantize;
        k->to_float[t] = tr->to_float;
        k->attn_scores[t] = tm_attn_scores_ref(t);
        k->attn_values[t] = tm_attn_values_ref(t);
    }
}

#if TM_BUILD_AVX2 || TM_BUILD_AVXVNNI || \
    TM_BUILD_AVX512 /* clang warns of unused static functions */
static inline bool cpu_runs_avx2(const tm_cpu *cpu)
{
    return cpu->avx2 && cpu->fma && cpu->f16c;
}
#endif

#if TM_BUILD_AVXVNNI
static inline bool cpu_runs_avxvnni(const tm_cpu *cpu)
{
    return cpu_runs_avx2(cpu) && cpu->avx_vnni;
}
#endif

#if TM_BUILD_AVX512
static inline bool cpu_runs_avx512(const tm_cpu *cpu)
{
    return cpu_runs_avx2(cpu) && cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq &&
           cpu->avx512vnni;
}
#endif

#if TM_BUILD_AMX
/* amx_tile is set only when the OS saves tile state and (Linux) granted the permission */
static inline bool cpu_runs_amx(const tm_cpu *cpu)
{
    return cpu_runs_avx512(cpu) && cpu->amx_tile && cpu->amx_bf16 && cpu->avx512bf16;
}
#endif

/* Every table name any build knows, best last within an architecture. */
static const char *const g_known[] = {"ref", "avx2", "avxvnni", "avx512",
                                      "amx", "neon", "dotprod", "i8mm"};

int tm_kernels_available(const tm_cpu *cpu, const char **names, int cap)
{
    int n = 0;
    if (n < cap)
        names[n++] = "ref";
#if TM_BUILD_AVX2
    if (n < cap && cpu_runs_avx2(cpu))
        names[n++] = "avx2";
#endif
#if TM_BUILD_AVXVNNI
    if (n < cap && cpu_runs_avxvnni(cpu))
        names[n++] = "avxvnni";
#endif
#if TM_BUILD_AVX512
    if (n < cap && cpu_runs_avx512(cpu))
        names[n++] = "avx512";
#endif
#if TM_BUILD_AMX
    if (n < cap && cpu_runs_amx(cpu))
        names[n++] = "amx";
#endif
#if TM_BUILD_NEON
    if (n < cap && cpu->neon)
        names[n++] = "neon";
#endif
#if TM_BUILD_DOTPROD
    if (n < cap && cpu->neon && cpu->dotprod)
        names[n++] = "dotprod";
#endif
#if TM_BUILD_I8MM
    if (n < cap && cpu->neon && cpu->dotprod && cpu->i8mm)
        names[n++] = "i8mm";
#endif
    (void)cpu;
    return n;
}

tm_status tm_kernels_init(tm_kernels *k, const tm_cpu *cpu, const char *want, tm_err *err)
{
    const char *names[8];
    int n = tm_kernels_available(cpu, names, 8);
    const char *pick = names[n - 1];
    if (want && strcmp(want, "auto") != 0) {
        bool known = false;
        for (size_t i = 0; i < TM_ARRAY_LEN(g_known); i++)
            known = known || strcmp(want, g_known[i]) == 0;
        if (!known)
            return tm_fail(err, TM_E_ARG,
                           "unknown kernel table '%s' (ref, avx2, avxvnni, avx512, amx, neon, "
                           "dotprod, i8mm, auto)",
                           want);
        pick = NULL;
        for (int i = 0; i < n; i++)
            if (strcmp(names[i], want) == 0)
                pick = names[i];
        if (!pick)
            return tm_fail(err, TM_E_UNSUPPORTED,
                           "kernel table '%s' is not available on this CPU or build", want);
    }
    tm_kernels_init_ref(k);
#if TM_BUILD_AVX2
    if (strcmp(pick, "avx2") == 0 || strcmp(pick, "avx512") == 0 || strcmp(pick, "amx") == 0)
        tm_kernels_init_avx2(k);
#endif
#if TM_BUILD_AVXVNNI /* beside AVX-512, not under it: not every AVX-512 CPU has AVX-VNNI */
    if (strcmp(pick, "avxvnni") == 0)
        tm_kernels_init_avxvnni(k);
#endif
#if TM_BUILD_AVX512
    if (strcmp(pick, "avx512") == 0 || strcmp(pick, "amx") == 0)
        tm_kernels_init_avx512(k);
#endif
#if TM_HAS_BF16_ATTN
    if ((strcmp(pick, "avx512") == 0 || strcmp(pick, "amx") == 0) && cpu->avx512bf16)
        tm_kernels_init_bf16_attn(k);
#endif
#if TM_BUILD_AMX
    if (strcmp(pick, "amx") == 0)
        tm_kernels_init_amx(k);
#endif
#if TM_BUILD_NEON
    if (strcmp(pick, "neon") == 0 || strcmp(pick, "dotprod") == 0)
        tm_kernels_init_neon(k);
#endif
#if TM_BUILD_DOTPROD
    if (strcmp(pick, "dotprod") == 0)
        tm_kernels_init_dotprod(k);
#endif
#if TM_BUILD_I8MM
    if (strcmp(pick, "i8mm") == 0)
        tm_kernels_init_i8mm(k); /* the dotprod table's slots, then its own GEMMs */
#endif
    k->isa = pick;
    return TM_OK;
}
