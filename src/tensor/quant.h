/* Inside the tensor layer: helpers the block formats' reference code shares. */
#ifndef TM_TENSOR_QUANT_H
#define TM_TENSOR_QUANT_H

#include "ref.h"

#include <math.h>

/* Round half to even, the rounding of cvtps2dq, so SIMD quantizers can match bit for bit.
 * (nearbyintf under the default rounding mode.) */
static inline int tm_round_even(float x)
{
    return (int)nearbyintf(x);
}

/* The value of largest magnitude, with its sign (0 for an all-zero block). */
static inline float tm_signed_absmax(const float *x, int n)
{
    float best = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) {
            amax = a;
            best = x[i];
        }
    }
    return best;
}

/* Scale search for symmetric codes q in [qmin, qmax]: minimises sum w_i (x_i - s q_i)^2 over
 * a set of candidate scales, each refined by least squares. Writes the codes, returns s. */
float tm_quant_fit_symmetric(int n, const float *x, const float *w, int qmin, int qmax, int8_t *q);
/* Scale and offset search for codes q in [0, qmax] with x ~ s q - m, m >= 0: the same idea
 * with a two-parameter least-squares fit. Writes the codes and *m, returns s (>= 0). */
float tm_quant_fit_affine(int n, const float *x, const float *w, int qmax, uint8_t *q, float *m);

/* Packs 8 scales and 8 mins of 6 bits (Q4_K, Q5_K): the inverse of tm_q4k_scale_min. */
void tm_q4k_pack_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]);
/* Q4_K/Q5_K groups: fits each group of 32 with codes 0..qmax, quantizes the group scales
 * and mins to 6 bits against the super-block's d and dmin, then recomputes the codes with
 * the scales as stored. */
void tm_qk_affine_groups(const float *x, int qmax, uint16_t *d_out, uint16_t *dmin_out,
                         uint8_t sc[8], uint8_t m[8], uint8_t q[TM_QK_K]);

/* The dot of one Q4_K/Q5_K super-block, given its codes (0..31), with a Q8_K block. */
float tm_qk_affine_dot(const uint8_t q[TM_QK_K], const uint8_t scales[12], uint16_t d,
                       uint16_t dmin, const tm_block_q8_k *b);
/* Sum over the 16 groups of 16 of scale[g] * dot(q, y) in the group (Q3_K, Q6_K). */
int32_t tm_qk_groups16_dot(const int8_t q[TM_QK_K], const int *scale, const int8_t *y);
/* Q8_0-style 32 values: codes rounded half to even into qs; returns the scale d. */
float tm_q8_codes_32(const float *x, int8_t qs[32]);

/* The 6-bit scale and min of group j of a Q4_K/Q5_K block (12 packed bytes). */
static inline void tm_q4k_scale_min(int j, const uint8_t *s, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/* Group i (0..15) of a Q3_K block's 12 packed bytes: a 6-bit value, stored + 32. */
static inline int tm_q3k_scale(int i, const uint8_t *s)
{
    int low = i < 8 ? s[i] & 0xF : s[i - 8] >> 4;
    int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    return (low | high << 4) - 32;
}

#endif
