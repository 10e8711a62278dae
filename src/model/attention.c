/* Causal attention over the KV cache, one (token, kv head) pair at a time: the query heads
 * that share a kv head (grouped-query attention) are scored together, so each key and value
 * row is read once per group, not once per query head. Pairs are dealt to threads
 * round-robin, since later tokens see more keys and would overload the last band. The cache
 * rows may be F32, F16 or Q8_0 (the kernel table has all three); scores and the softmax are in
 * float, the maximum is subtracted before exp() so large scores cannot overflow. */
#include "model.h"

#include <math.h>
#include <string.h>

static void attend_group(const tm_attn_args *a, int32_t t, int32_t kvh, float *scores)
{
    int32_t group = a->n_head / a->n_head_kv;
    int32_t n_keys = a->pos0 + t + 1;
    /* a sliding window hides keys at distance >= window */
    int32_t first = a->window > 0 && n_keys > a->window ? n_keys - a->window : 0;
    int64_t n = n_keys - first;
    const float *q = a->q + t * a->q_stride + (int64_t)kvh * group * a->head_dim;
    int64_t k_elems = (int64_t)first * a->kv_stride + (int64_t)kvh * a->head_dim;
    int64_t v_elems = (int64_t)first * a->v_stride + (int64_t)kvh * a->head_dim_v;
    const char *k = (const char *)a->k_cache + k_elems / a->kv_block * a->kv_block_bytes;
    const char *v = (const char *)a->v_cache + v_elems / a->kv_block * a->kv_block_bytes;
    /* scores[g * n + j] for the group's query heads g */
    a->scores_fn(n, a->head_dim, k, a->kv_stride, q, a->head_dim, group, scores, n);
    /* 1 / the softmax sum per query head (after the scores): values are summed unnormalised */
    float *inv = scores + (int64_t)group * n;
    for (int32_t g = 0; g < group; g++) {
        float *s = scores + g * n, scale = a->scale;
        if (a->softcap > 0) {
            for (int64_t j = 0; j < n; j++)
                s[j] = a->softcap * tanhf(s[j] * a->scale / a->softcap);
            scale = 1.0f;
        }
        inv[g] = 1.0f / a->exp_sum(s, n, scale);
    }
    float *out = a->out + t * a->out_stride + (int64_t)kvh * group * a->head_dim_v;
    memset(out, 0, (size_t)group * (size_t)a->head_dim_v * sizeof *out);
    a->values_fn(n, a->head_dim_v, v, a->v_stride, scores, n, group, out, a->head_dim_v);
    for (int32_t g = 0; g < group; g++)
        for (int32_t d = 0; d < a->head_dim_v; d++)
            out[g * a->head_dim_v + d] *= inv[g];
}

typedef struct attn_job {
    const tm_attn_args *a;
} attn_job;

static void attn_task(void *arg, int ith, int nth)
{
    const tm_attn_args *a = ((const attn_job *)arg)->a;
    float *scores = a->scores + ith * a->scores_per_thread;
    int64_t n_pairs = (int64_t)a->n_tokens * a->n_head_kv;
    for (int64_t p = ith; p < n_pairs; p += nth)
        attend_group(a, (int32_t)(p / a->n_head_kv), (int32_t)(p % a->n_head_kv), scores);
}

void tm_attention(tm_pool *pool, const tm_attn_args *a)
{
    attn_job job = {a};
    tm_pool_run(pool, attn_task, &job);
}
