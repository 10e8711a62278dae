/* The Arm dot product table (Armv8.2 FEAT_DotProd: every Apple Silicon CPU, Arm Cortex-A55,
 * A75 and later, Neoverse): arm_dots.h with SDOT, which adds each 32-bit lane's four
 * byte products in one instruction, and the packed-weight GEMMs of arm_gemm.h, built on SDOT
 * by lane. Compiled with -march=armv8.2-a+dotprod (CMake); dispatch.c selects it only when
 * the OS reports the feature. */
#include <arm_neon.h>

static inline int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    return vdotq_s32(acc, a, b);
}

#include "arm_dots.h"
#include "arm_gemm.h"

/* SDOT on twelve independent accumulators: 16 multiply-adds each, the instruction the
 * packed GEMMs of arm_gemm.h are made of. The operands start behind an empty asm, so the
 * compiler cannot fold the loop away. */
static double dotprod_mac_peak(void)
{
    int8x16_t a = vdupq_n_s8(1), b = vdupq_n_s8(1);
    __asm__("" : "+w"(a), "+w"(b));
    int32x4_t v[12];
    for (int i = 0; i < 12; i++)
        v[i] = vdupq_n_s32(i);
    int64_t n = 0, t0 = tm_time_us(), dt = 0;
    do {
        for (int r = 0; r < 256; r++)
            for (int i = 0; i < 12; i++)
                v[i] = vdotq_s32(v[i], a, b);
        n += 256 * 12;
        dt = tm_time_us() - t0;
    } while (dt < 20000);
    int32x4_t sum = v[0];
    for (int i = 1; i < 12; i++)
        sum = vaddq_s32(sum, v[i]);
    volatile int32_t sink = vaddvq_s32(sum); /* the loop is not optimised away */
    (void)sink;
    return (double)n * 16 / ((double)dt * 1e-6);
}

void tm_kernels_init_dotprod(tm_kernels *k)
{
    k->mac_peak = dotprod_mac_peak;
    arm_fill_table(k);
    arm_gemm_fill(k);
}
