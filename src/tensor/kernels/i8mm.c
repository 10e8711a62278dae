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
/* the peak of SMMLA (a 2 x 8 by 8 x 2 byte product), the instruction arm_mmla.h's prompt
 * GEMMs are made of */
ARM_MAC_PEAK_DEFINE(i8mm_mac_peak, vmmlaq_s32, 32)

void tm_kernels_init_i8mm(tm_kernels *k)
{
    k->mac_peak = i8mm_mac_peak;
    arm_fill_table(k);
    arm_gemm_fill(k);
    arm_mmla_fill(k);
}
