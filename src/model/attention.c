/* Causal attention over the KV cache, one (token, kv head) pair at a time: the query heads
 * that share a kv head (grouped-query attention) are scored together, so each key and value
 * row is read once per group, not once per query head. Pairs are dealt to threads
 * round-robin, since later tokens see more keys and would overload the last band. Keys and
 * values are read where they lie, block by block of the sequence's block table, with no copy;
 * the cache rows may be F32, F16, Q8_0 or Q4_0 (keys and values each their own type; F16 keys
 * lie dimension by dimension, kv_store.c, and have their own scores kernel); scores
 * and the softmax are in float, the maximum is subtracted before exp() so large scores cannot
 * overflow. */
#include "model.h"

#include <math.h>
#include <string.h>

/* The run of positions [first + j, first + n) that lies in one run of memory, from position
 * first + j: its length, and in *rows the address of the kv head's position there (row_bytes
 * from one position to the next: a row, or for keys laid by dimension one value). A kv head's
 * slabs (block_bytes each) lie block after block in the store, so where the sequence's table
 * names consecutive blocks and the slab is whole rows (block_bytes = block_tokens x row_bytes),
 * a run of keys (merge) goes on into the next block: one call of the scores kernel for all of
 * it, whose setup (the integer scores' copy of the query) is paid once. Values stay a block at
 * a time: their kernels pass over a call's rows once per 16 dimensions, and a block's rows
 * (4 KiB of F16 at 64 dimensions) stay in L1 between the passes where 4096 positions' would
 * not (merged, the llama-1b-shape file's generation after 4096 positions lost 4-6%).
 * Consecutive blocks are also what the hardware prefetchers follow best alone (software
 * prefetches on top of them slowed a stream down). Where the table jumps, they cannot follow:
 * PREFETCH_BLOCKS before a jump the slab after it is asked for, and a merged run ends there,
 * so that the request goes out as late as it does block by block. */
#define PREFETCH_BLOCKS 2

/* Whether the table jumps PREFETCH_BLOCKS blocks after block b, at a position below end. */
static bool jump_ahead(const tm_attn_args *a, int64_t b, int64_t end)
{
    int64_t ahead = b + PREFETCH_BLOCKS;
    return ahead * a->block_tokens < end && a->blocks[ahead] != a->blocks[ahead - 1] + 1;
}

static int64_t kv_run(const tm_attn_args *a, int64_t first, int64_t n, int64_t j, const char *base,
                      uint64_t block_bytes, uint64_t row_bytes, uint64_t head_off, bool merge,
                      const char **rows)
{
    int64_t bt = a->block_tokens, pos = first + j, b = pos / bt, in_block = pos % bt;
    int64_t end = first + n, run = TM_MIN(end - pos, bt - in_block);
    if (jump_ahead(a, b, end))
        tm_prefetch_l2(base + (uint64_t)a->blocks[b + PREFETCH_BLOCKS] * block_bytes + head_off,
                       (size_t)block_bytes);
    *rows = base + (uint64_t)a->blocks[b] * block_bytes + (uint64_t)in_block * row_bytes + head_off;
    if (!merge || block_bytes != (uint64_t)bt * row_bytes) /* keys by dimension: not rows */
        return run;
    while (pos + run < end && a->blocks[b + 1] == a->blocks[b] + 1 && !jump_ahead(a, b + 1, end)) {
        b++;
        run += TM_MIN(end - (pos + run), bt);
    }
    return run;
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
    const char *rows;
    for (int64_t j = 0, run; j < n; j += run) {
        run =
            kv_run(a, first, n, j, a->k_base, a->k_block_bytes, a->k_row_bytes, k_off, true, &rows);
        a->scores_fn(run, a->head_dim, rows, a->kv_stride, q, a->head_dim, group, scores + j, n);
    }
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
    for (int64_t j = 0, run; j < n; j += run) {
        run = kv_run(a, first, n, j, a->v_base, a->v_block_bytes, a->v_row_bytes, v_off, false,
                     &rows);
        a->values_fn(run, a->head_dim_v, rows, a->v_stride, scores + j, n, group, out,
                     a->head_dim_v);
    }
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

/* ---- prompts on tiles: per kv head, its keys and values into tiles, then every head of the
 * group 16 queries at a time ---- */

bool tm_attention_tiles_fit(int32_t head_dim, int32_t head_dim_v)
{
    return head_dim % 32 == 0 && head_dim_v % 16 == 0 && head_dim <= TM_ATTN_TILE_DIM_MAX &&
           head_dim_v <= TM_ATTN_TILE_DIM_MAX;
}

typedef struct tile_job {
    const tm_attn_args *a;
    int32_t kvh;
    int64_t first; /* the first position the queries may see, rounded down to 32 */
    uint8_t *kt, *vt;
} tile_job;

/* The runs of positions (one per cache block) dealt to threads round-robin. */
static void kv_tiles_task(void *arg, int ith, int nth)
{
    const tile_job *j = arg;
    const tm_attn_args *a = j->a;
    int64_t n_keys = a->pos0 + a->n_tokens, bt = a->block_tokens;
    uint64_t k_off = (uint64_t)j->kvh * a->k_head_bytes, v_off = (uint64_t)j->kvh * a->v_head_bytes;
    int64_t run_i = 0;
    for (int64_t pos = j->first; pos < n_keys; run_i++) {
        int64_t in_block = pos % bt, run = TM_MIN(n_keys - pos, bt - in_block);
        if (run_i % nth == ith) {
            uint64_t block = (uint64_t)a->blocks[pos / bt];
            const char *k =
                a->k_base + block * a->k_block_bytes + (uint64_t)in_block * a->k_row_bytes + k_off;
            const char *v =
                a->v_base + block * a->v_block_bytes + (uint64_t)in_block * a->v_row_bytes + v_off;
            if (a->k_by_dim) /* the tiles take rows: 16 positions at a time into rows */
                for (int64_t i = 0; i < run; i += 16) {
                    uint16_t rows[16 * TM_ATTN_TILE_DIM_MAX];
                    int64_t m = TM_MIN(16, run - i);
                    tm_kv_by_dim_get((const uint16_t *)k, bt, i, m, a->head_dim, rows);
                    a->kv_tiles_fn(TM_DTYPE_F16, a->v_type, rows, (uint64_t)a->head_dim * 2,
                                   v + (uint64_t)i * a->v_row_bytes, a->v_row_bytes, m, pos + i,
                                   a->head_dim, a->head_dim_v, j->kt, j->vt);
                }
            else
                a->kv_tiles_fn(a->k_type, a->v_type, k, a->k_row_bytes, v, a->v_row_bytes, run, pos,
                               a->head_dim, a->head_dim_v, j->kt, j->vt);
        }
        pos += run;
    }
}

/* (query tile, head of the group) items, dealt round-robin: later tiles see more keys */
static void tile_attn_task(void *arg, int ith, int nth)
{
    const tile_job *j = arg;
    const tm_attn_args *a = j->a;
    int32_t group = a->n_head / a->n_head_kv;
    int64_t n_tiles = (a->n_tokens + 15) / 16, n_items = n_tiles * group;
    for (int64_t it = ith; it < n_items; it += nth) {
        int64_t t0 = it / group * 16;
        int32_t h = j->kvh * group + (int32_t)(it % group);
        tm_attn_tile_args ta = {
            .q = a->q + t0 * a->q_stride + (int64_t)h * a->head_dim,
            .q_stride = a->q_stride,
            .n_q = (int)TM_MIN(16, a->n_tokens - t0),
            .pos = a->pos0 + t0,
            .window = a->window,
            .scale = a->scale,
            .softcap = a->softcap,
            .kt = j->kt,
            .vt = j->vt,
            .head_dim = a->head_dim,
            .head_dim_v = a->head_dim_v,
            .out = a->out + t0 * a->out_stride + (int64_t)h * a->head_dim_v,
            .out_stride = a->out_stride,
            .scratch = a->tile_scratch + (size_t)ith * TM_ATTN_TILE_SCRATCH,
        };
        a->tile_fn(&ta);
    }
}

static void attention_on_tiles(tm_pool *pool, const tm_attn_args *a)
{
    int64_t n_keys = a->pos0 + a->n_tokens, n32 = (n_keys + 31) / 32 * 32;
    int64_t first = a->window > 0 ? TM_MAX(0, (int64_t)a->pos0 - a->window + 1) : 0;
    tile_job j = {.a = a, .first = first / 32 * 32};
    j.kt = a->tiles;
    j.vt = j.kt + (uint64_t)n32 * (uint64_t)a->head_dim * 2;
    for (j.kvh = 0; j.kvh < a->n_head_kv; j.kvh++) {
        /* the last chunk's positions past n_keys: zeros (their weights are 0, 0 x garbage
         * need not be) */
        int64_t kc = n_keys / 16 * 16, vc = n_keys / 32 * 32;
        memset(j.kt + kc * a->head_dim * 2, 0, (size_t)((n32 - kc) * a->head_dim * 2));
        memset(j.vt + vc * a->head_dim_v * 2, 0, (size_t)((n32 - vc) * a->head_dim_v * 2));
        tm_pool_run(pool, kv_tiles_task, &j);
        tm_pool_run(pool, tile_attn_task, &j);
    }
}

void tm_attention(tm_pool *pool, const tm_attn_args *a)
{
    int64_t n_keys = a->pos0 + a->n_tokens;
    if (a->tile_fn && a->tiles && a->n_tokens >= 16 &&
        tm_attention_tiles_fit(a->head_dim, a->head_dim_v) &&
        tm_attn_kv_tiles_bytes(n_keys, a->head_dim, a->head_dim_v) <= a->tiles_bytes) {
        attention_on_tiles(pool, a);
        return;
    }
    attn_job job = {a};
    tm_pool_run(pool, attn_task, &job);
}
