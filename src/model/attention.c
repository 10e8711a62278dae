/* Causal attention over the KV cache, one (token, kv head) pair at a time: the query heads
 * that share a kv head (grouped-query attention) are scored together, so each key and value
 * row is read once per group, not once per query head. Pairs are dealt to threads
 * round-robin, since later tokens see more keys and would overload the last band. Keys and
 * values are read where they lie, block by block of the sequence's block table, with no copy;
 * the cache rows may be F32, F16, Q8_0 or Q4_0 (keys and values each their own type); scores
 * and the softmax are in float, the maximum is subtracted before exp() so large scores cannot
 * overflow. */
#include "model.h"

#include <math.h>
#include <string.h>

/* Calls fn on each run of positions [first, first + n) that lies in one block: the run's
 * offset j from first and its length, with the address of the kv head's row at its start. */
#define FOR_BLOCK_RUNS(a, first, n, base, block_bytes, row_bytes, head_off, BODY)           \
    for (int64_t j = 0; j < (n);) {                                                         \
        int64_t pos = (first) + j, in_block = pos % (a)->block_tokens;                      \
        int64_t run = TM_MIN((n)-j, (a)->block_tokens - in_block);                          \
        const char *rows = (base) +                                                         \
                           (uint64_t)(a)->blocks[pos / (a)->block_tokens] * (block_bytes) + \
                           (uint64_t)in_block * (row_bytes) + (head_off);                   \
        BODY;                                                                               \
        j += run;                                                                           \
    }

static void attend_group(const tm_attn_args *a, int32_t t, int32_t kvh, float *scores)
{
    int32_t group = a->n_head / a->n_head_kv;
    int32_t n_keys = a->pos0 + t + 1;
    /* a sliding window hides keys at distance >= window */
    int32_t first = a->window > 0 && n_keys > a->window ? n_keys - a->window : 0;
    int64_t n = n_keys - first;
    const float *q = a->q + t * a->q_stride + (int64_t)kvh * group * a->head_dim;
    uint64_t k_off = (uint64_t)kvh * a->k_head_bytes, v_off = (uint64_t)kvh * a->v_head_bytes;
    /* scores[g * n + j] for the group's query heads g; each block's run of keys is scored
     * into its columns, so the softmax below sees one contiguous row per head */
    FOR_BLOCK_RUNS(
        a, first, n, a->k_base, a->k_block_bytes, a->k_row_bytes, k_off,
        a->scores_fn(run, a->head_dim, rows, a->kv_stride, q, a->head_dim, group, scores + j, n));
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
    FOR_BLOCK_RUNS(a, first, n, a->v_base, a->v_block_bytes, a->v_row_bytes, v_off,
                   a->values_fn(run, a->head_dim_v, rows, a->v_stride, scores + j, n, group, out,
                                a->head_dim_v));
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
