/* The Arm 8-bit matrix multiply table (FEAT_I8MM: Apple M2 and later, Neoverse V1/N2 and
 * later, Cortex-A510/A710 and later): the dotprod table with the packed-weight GEMMs of
 * arm_mmla.h, which take prompts two tokens at a time through SMMLA (a token left alone,
 * as in decoding, through SDOT). Compiled with -march=armv8.2-a+dotprod+i8mm (CMake);
 * dispatch.c selects it only when the OS reports both features. */
#include <arm_neon.h>

static inline int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    return vdotq_s32(acc, a, b);
}

#include "arm_dots.h"
#include "arm_gemm.h"
#include "arm_mmla.h"

/* The dotprod table's slots from this file's copies of its kernels, then the SMMLA GEMMs
 * over the SDOT ones. */
/* SMMLA on twelve independent accumulators: 32 multiply-adds each (a 2 x 8 by 8 x 2 byte
 * product), the instruction arm_mmla.h's prompt GEMMs are made of. The operands start behind
 * an empty asm, so the compiler cannot fold the loop away. */
static double i8mm_mac_peak(void)
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
                v[i] = vmmlaq_s32(v[i], a, b);
        n += 256 * 12;
        dt = tm_time_us() - t0;
    } while (dt < 20000);
    int32x4_t sum = v[0];
    for (int i = 1; i < 12; i++)
        sum = vaddq_s32(sum, v[i]);
    volatile int32_t sink = vaddvq_s32(sum); /* the loop is not optimised away */
    (void)sink;
    return (double)n * 32 / ((double)dt * 1e-6);
}

void tm_kernels_init_i8mm(tm_kernels *k)
{
    k->mac_peak = i8mm_mac_peak;
    arm_fill_table(k);
    arm_gemm_fill(k);
    arm_mmla_fill(k);
}
