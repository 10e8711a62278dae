/* Mixture-of-experts routing: a token's router logits go through a softmax over all
 * experts, the k most probable are chosen (ties: the lower index), and their probabilities
 * are the weights of their outputs, renormalised to sum to 1 when the family does so
 * (Mixtral) and used as they are otherwise (Qwen MoE). */
#include "model.h"

#include <math.h>

void tm_moe_route(const float *logits, int32_t n_expert, int32_t k, bool renorm, int32_t *ids,
                  float *weights)
{
    float max = logits[0];
    for (int32_t e = 1; e < n_expert; e++)
        max = logits[e] > max ? logits[e] : max;
    double sum = 0;
    for (int32_t e = 0; e < n_expert; e++)
        sum += exp((double)logits[e] - max);
    for (int32_t i = 0; i < k; i++) { /* k is small: selection by repeated scans */
        int32_t best = -1;
        for (int32_t e = 0; e < n_expert; e++) {
            bool taken = false;
            for (int32_t j = 0; j < i; j++)
                taken = taken || ids[j] == e;
            if (!taken && (best < 0 || logits[e] > logits[best]))
                best = e;
        }
        ids[i] = best;
        weights[i] = (float)(exp((double)logits[best] - max) / sum);
    }
    if (renorm) {
        double total = 0;
        for (int32_t i = 0; i < k; i++)
            total += weights[i];
        for (int32_t i = 0; i < k; i++)
            weights[i] = (float)(weights[i] / total);
    }
}
