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

/* the peak of SDOT, the instruction arm_gemm.h's GEMMs are made of */
ARM_MAC_PEAK_DEFINE(dotprod_mac_peak, vdotq_s32, 16)

void tm_kernels_init_dotprod(tm_kernels *k)
{
    k->mac_peak = dotprod_mac_peak;
    arm_fill_table(k);
    arm_gemm_fill(k);
}
