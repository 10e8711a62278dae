/* Causal attention over the KV cache, one (token, head) pair at a time. Pairs are dealt to
 * threads round-robin, since later tokens see more keys and would overload the last band.
 * Scores and the softmax are in float; the maximum is subtracted before exp() so large
 * scores cannot overflow. Keys are read once per pair: streaming the cache once per query
 * head group and fusing the softmax (one pass) is the speed issue's work. */
#include "model.h"

#include <math.h>
#include <string.h>

typedef struct attn_job {
    const tm_attn_args *a;
} attn_job;

static void attend_one(const tm_attn_args *a, int32_t t, int32_t h, float *scores)
{
    int32_t group = a->n_head / a->n_head_kv;
    int32_t kvh = h / group;
    int32_t n_keys = a->pos0 + t + 1;
    /* a sliding window hides keys at distance >= window */
    int32_t first = a->window > 0 && n_keys > a->window ? n_keys - a->window : 0;
    const float *q = a->q + t * a->q_stride + (int64_t)h * a->head_dim;
    const float *k = a->k_cache + (int64_t)kvh * a->head_dim;
    const float *v = a->v_cache + (int64_t)kvh * a->head_dim_v;
    float max = -INFINITY;
    for (int32_t j = first; j < n_keys; j++) {
        float s;
        a->dot_f32(a->head_dim, &s, q, k + j * a->kv_stride);
        s *= a->scale;
        if (a->softcap > 0)
            s = a->softcap * tanhf(s / a->softcap);
        scores[j] = s;
        if (s > max)
            max = s;
    }
    double sum = 0;
    for (int32_t j = first; j < n_keys; j++) {
        scores[j] = expf(scores[j] - max);
        sum += scores[j];
    }
    float inv = (float)(1.0 / sum);
    float *out = a->out + t * a->out_stride + (int64_t)h * a->head_dim_v;
    memset(out, 0, (size_t)a->head_dim_v * sizeof *out);
    for (int32_t j = first; j < n_keys; j++) {
        float w = scores[j] * inv;
        const float *vj = v + j * a->v_stride;
        for (int32_t d = 0; d < a->head_dim_v; d++)
            out[d] += w * vj[d];
    }
}

static void attn_task(void *arg, int ith, int nth)
{
    const tm_attn_args *a = ((const attn_job *)arg)->a;
    float *scores = a->scores + ith * a->scores_per_thread;
    int64_t n_pairs = (int64_t)a->n_tokens * a->n_head;
    for (int64_t p = ith; p < n_pairs; p += nth)
        attend_one(a, (int32_t)(p / a->n_head), (int32_t)(p % a->n_head), scores);
}

void tm_attention(tm_pool *pool, const tm_attn_args *a)
{
    attn_job job = {a};
    tm_pool_run(pool, attn_task, &job);
}
