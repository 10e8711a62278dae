/* The gated activations of feed-forward blocks, reference versions: gate = act(gate) * up.
 * SwiGLU (Shazeer, 2020) with SiLU(g) = g / (1 + e^-g); GeGLU with GELU's tanh approximation
 * (Hendrycks and Gimpel, 2016): 0.5 g (1 + tanh(sqrt(2 / pi) (g + 0.044715 g^3))). */
#include "tensor.h"

#include <math.h>

void tm_silu_mul_ref(float *gate, const float *up, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void tm_gelu_mul_ref(float *gate, const float *up, int64_t n)
{
    const float c = 0.7978845608028654f; /* sqrt(2 / pi) */
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = 0.5f * g * (1.0f + tanhf(c * (g + 0.044715f * g * g * g))) * up[i];
    }
}
