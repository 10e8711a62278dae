/* Rotary position embedding (Su et al., 2021, RoFormer eq. 34): pair i of a head is rotated
 * by pos * base^(-2i / n_rot). The angles are computed in double once per token for all
 * layers and heads: float powers and products drift visibly at long positions. Llama 3
 * divides each pair's frequency by a factor from rope_freqs.weight; linear scaling
 * multiplies all of them by freq_scale. */
#include "model.h"

#include <math.h>

void tm_rope_table(float *cs, const int32_t *pos, int64_t n_tokens, int32_t n_rot, float base,
                   float freq_scale, const float *freqs)
{
    int32_t half = n_rot / 2;
    for (int64_t t = 0; t < n_tokens; t++) {
        for (int32_t i = 0; i < half; i++) {
            double theta = (double)pos[t] * pow((double)base, -2.0 * i / n_rot) * freq_scale;
            if (freqs)
                theta /= freqs[i];
            cs[(t * half + i) * 2] = (float)cos(theta);
            cs[(t * half + i) * 2 + 1] = (float)sin(theta);
        }
    }
}

void tm_rope_apply(float *x, const float *cs, int64_t n_tokens, int32_t n_heads, int32_t head_dim,
                   int32_t n_rot, tm_rope_kind kind)
{
    int32_t half = n_rot / 2;
    /* NORMAL rotates (2i, 2i + 1); NEOX rotates (i, i + half) */
    int32_t stride = kind == TM_ROPE_NEOX ? 1 : 2;
    int32_t partner = kind == TM_ROPE_NEOX ? half : 1;
    for (int64_t t = 0; t < n_tokens; t++) {
        const float *c = cs + t * half * 2;
        for (int32_t h = 0; h < n_heads; h++) {
            float *v = x + (t * n_heads + h) * head_dim;
            for (int32_t i = 0; i < half; i++) {
                float *a = v + i * stride, *b = a + partner;
                float x0 = *a, x1 = *b, cos_t = c[2 * i], sin_t = c[2 * i + 1];
                *a = x0 * cos_t - x1 * sin_t;
                *b = x0 * sin_t + x1 * cos_t;
            }
        }
    }
}
