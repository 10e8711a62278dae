/* The baseline Arm table (Armv8.0 NEON, present in every AArch64 CPU): arm_dots.h with an
 * 8-bit dot made of widening multiplies (SMULL, 16-bit products) and pairwise adds into
 * 32-bit lanes (SADALP). Exact for all signed bytes: a product is at most 2^14, and pairs are
 * added only once widened. */
#include <arm_neon.h>

static inline int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
}

#include "arm_dots.h"

void tm_kernels_init_neon(tm_kernels *k)
{
    arm_fill_table(k);
}
