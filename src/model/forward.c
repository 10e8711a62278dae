/* The decoder forward pass and the per-sequence state it runs in.
 *
 * For a batch of n tokens: embed, then per layer
 *   attention: h = RMSNorm(x); q, k, v = h Wq, h Wk, h Wv; RoPE(q, k); append k, v to the
 *              cache; x += Attention(q, cache) Wo
 *   feed-forward: h = RMSNorm(x); x += (SiLU(h Wgate) * (h Wup)) Wdown
 * and finally logits = RMSNorm(x) Wout for the rows the caller wants. Activations are
 * float; matrix products go through tm_matmul (quantized weights x 8-bit activations,
 * or exact float activations when asked). Keys and values go to the sequence's blocks of a
 * tm_kv_store (kv_store.c), found through its block table. */
#include "model.h"

#include <math.h>
#include <string.h>

struct tm_net_state {
    const tm_net *net;
    tm_net_params params;
    tm_pool *pool;
    int32_t n_ctx, n_batch;
    int64_t k_width, v_width, q_width, o_width; /* floats per token */
    float *x;                                   /* [n_batch][n_embd] the residual stream */
    float *h;         /* [n_batch][n_embd] normed input of a block, then its output */
    float *q, *k, *v; /* [n_batch][q_width / k_width / v_width] */
    float *att;       /* [n_batch][o_width] attention output before Wo */
    float *gate, *up; /* [n_batch][ff_width] */
    int64_t ff_width; /* the widest feed-forward: dense, expert or shared expert */
    /* mixture of experts (NULL for dense models) */
    float *router;           /* [n_batch][n_expert] router logits */
    float *moe_in, *moe_out; /* [n_batch][n_embd] one expert's tokens; the summed output */
    int32_t *route_ids;      /* [n_batch][n_expert_used] */
    float *route_w;          /* [n_batch][n_expert_used] */
    int32_t *exp_tokens;     /* [n_batch] tokens routed to the expert at hand */
    float *exp_w;            /* [n_batch] and their weights */
    float *rope_cs;          /* [n_batch][n_rot / 2][2] cos, sin */
    float *rope_cs_swa;      /* the same for sliding-window layers (their own base and scale) */
    int32_t *pos;            /* [n_batch] */
    float *scores;           /* [n_threads][group * (n_ctx + 1)] */
    void *attn_tiles;        /* one kv head's keys and values as tiles (prompts, AMX) */
    uint8_t *tile_scratch;   /* [n_threads][TM_ATTN_TILE_SCRATCH] */
    uint64_t attn_tiles_bytes;
    tm_matmul_scratch mm;
    uint64_t allocated; /* bytes, added up at each allocation */
};

/* Every buffer of a state, in bytes, computed from the hyper-parameters alone. A state is
 * allocated from its plan (tm_net_state_create) and estimates add the plan up
 * (tm_net_state_estimate): one computation, so the two cannot drift apart. */
typedef struct state_plan {
    int32_t n_batch; /* clamped to n_ctx */
    int64_t q_width, k_width, v_width, o_width, ff_width;
    uint64_t x, h, q, k, v, att, gate, up;                                   /* activations */
    uint64_t router, moe_in, moe_out, route_w, exp_w, route_ids, exp_tokens; /* experts only */
    uint64_t rope_cs, rope_cs_swa, pos, scores;
    uint64_t attn_tiles, tile_scratch; /* 0 where the head dims do not suit tiles */
    int64_t mm_cols;                   /* the widest matrix input */
    uint64_t mm_act, mm_rows;          /* tm_matmul_scratch_bytes */
} state_plan;

static tm_status plan_state(const tm_hparams *hp, int32_t n_ctx, int32_t n_batch, int n_threads,
                            state_plan *p, tm_err *err)
{
    if (n_ctx < 1 || n_batch < 1)
        return tm_fail(err, TM_E_ARG, "context %d and batch %d must be positive", n_ctx, n_batch);
    memset(p, 0, sizeof *p);
    int64_t nb = TM_MIN(n_batch, n_ctx), f = sizeof(float);
    p->n_batch = (int32_t)nb;
    p->q_width = (int64_t)hp->n_head * hp->head_dim;
    p->k_width = (int64_t)hp->n_head_kv * hp->head_dim;
    p->v_width = (int64_t)hp->n_head_kv * hp->head_dim_v;
    p->o_width = (int64_t)hp->n_head * hp->head_dim_v;
    p->ff_width = TM_MAX(hp->n_ff, TM_MAX(hp->n_ff_exp, hp->n_ff_shexp));
    p->x = p->h = (uint64_t)(nb * hp->n_embd * f);
    p->q = (uint64_t)(nb * p->q_width * f);
    p->k = (uint64_t)(nb * p->k_width * f);
    p->v = (uint64_t)(nb * p->v_width * f);
    p->att = (uint64_t)(nb * p->o_width * f);
    p->gate = p->up = (uint64_t)(nb * p->ff_width * f);
    if (hp->n_expert > 0) {
        p->router = (uint64_t)(nb * hp->n_expert * f);
        p->moe_in = p->moe_out = (uint64_t)(nb * hp->n_embd * f);
        p->route_w = (uint64_t)(nb * hp->n_expert_used * f);
        p->route_ids = (uint64_t)(nb * hp->n_expert_used * (int64_t)sizeof(int32_t));
        p->exp_w = (uint64_t)(nb * f);
        p->exp_tokens = (uint64_t)(nb * (int64_t)sizeof(int32_t));
    }
    p->rope_cs = p->rope_cs_swa = (uint64_t)(nb * TM_MAX(hp->n_rot, 2) * f);
    p->pos = (uint64_t)(nb * (int64_t)sizeof(int32_t));
    /* one row of scores per thread: a group of query heads over every position */
    p->scores = (uint64_t)n_threads * (uint64_t)(hp->n_head / hp->n_head_kv) *
                (uint64_t)(n_ctx + 1) * (uint64_t)f;
    /* tiles for prompt attention, on every machine: whether the kernels use them is not the
     * plan's to know, and on machines without tiles the pages are never touched */
    if (tm_attention_tiles_fit(hp->head_dim, hp->head_dim_v)) {
        p->attn_tiles = tm_attn_kv_tiles_bytes(n_ctx, hp->head_dim, hp->head_dim_v);
        p->tile_scratch = (uint64_t)n_threads * TM_ATTN_TILE_SCRATCH;
    }
    p->mm_cols = TM_MAX(TM_MAX(hp->n_embd, p->ff_width), p->o_width);
    if (!tm_matmul_scratch_bytes(nb, p->mm_cols, n_threads, &p->mm_act, &p->mm_rows))
        return tm_fail(err, TM_E_LIMIT, "matmul scratch for %lld tokens x %lld columns",
                       (long long)nb, (long long)p->mm_cols);
    return TM_OK;
}

static uint64_t plan_scratch_bytes(const state_plan *p)
{
    return p->x + p->h + p->q + p->k + p->v + p->att + p->gate + p->up + p->router + p->moe_in +
           p->moe_out + p->route_w + p->exp_w + p->route_ids + p->exp_tokens + p->rope_cs +
           p->rope_cs_swa + p->pos + p->scores + p->attn_tiles + p->tile_scratch + p->mm_act +
           p->mm_rows;
}

tm_status tm_net_state_estimate(const tm_hparams *hp, int32_t n_ctx, int32_t n_batch, int n_threads,
                                uint64_t *out, tm_err *err)
{
    state_plan p;
    tm_status st = plan_state(hp, n_ctx, n_batch, n_threads, &p, err);
    if (st != TM_OK)
        return st;
    *out = plan_scratch_bytes(&p);
    return TM_OK;
}

uint64_t tm_net_state_allocated(const tm_net_state *st)
{
    return st->allocated;
}

/* Allocates one buffer and counts the bytes it asked for, apart from the plan's sum:
 * tests/engine/test_memory.c compares the two, so a buffer whose size does not come from
 * the plan shows. */
static void *alloc_counted(uint64_t bytes, uint64_t *counter, bool *ok)
{
    void *p = tm_aligned_alloc(64, (size_t)bytes);
    if (p)
        *counter += bytes;
    else
        *ok = false;
    return p;
}

void tm_net_state_free(tm_net_state *st)
{
    if (!st)
        return;
    void *bufs[] = {st->x,      st->h,         st->q,          st->k,          st->v,
                    st->att,    st->gate,      st->rope_cs,    st->scores,     st->rope_cs_swa,
                    st->router, st->moe_in,    st->moe_out,    st->route_w,    st->exp_w,
                    st->pos,    st->route_ids, st->exp_tokens, st->attn_tiles, st->tile_scratch};
    for (size_t i = 0; i < TM_ARRAY_LEN(bufs); i++)
        tm_aligned_free(bufs[i]);
    tm_matmul_scratch_fini(&st->mm);
    tm_free(st);
}

tm_status tm_net_state_create(const tm_net *net, const tm_net_params *params, int32_t n_ctx,
                              int32_t n_batch, tm_pool *pool, tm_net_state **out, tm_err *err)
{
    const tm_hparams *hp = &net->hp;
    int n_threads = tm_pool_size(pool);
    state_plan p;
    tm_status s = plan_state(hp, n_ctx, n_batch, n_threads, &p, err);
    if (s != TM_OK)
        return s;
    tm_net_state *st = tm_calloc(1, sizeof *st);
    if (!st)
        return tm_fail(err, TM_E_NOMEM, "sequence state");
    st->net = net;
    st->params = *params;
    st->pool = pool;
    st->n_ctx = n_ctx;
    st->n_batch = p.n_batch;
    st->q_width = p.q_width;
    st->k_width = p.k_width;
    st->v_width = p.v_width;
    st->o_width = p.o_width;
    st->ff_width = p.ff_width;
    bool ok = true;
    uint64_t *scratch = &st->allocated;
    st->x = alloc_counted(p.x, scratch, &ok);
    st->h = alloc_counted(p.h, scratch, &ok);
    st->q = alloc_counted(p.q, scratch, &ok);
    st->k = alloc_counted(p.k, scratch, &ok);
    st->v = alloc_counted(p.v, scratch, &ok);
    st->att = alloc_counted(p.att, scratch, &ok);
    /* gate and up in one buffer: a fused product writes [n][2 x ff_width] across both */
    st->gate = alloc_counted(p.gate + p.up, scratch, &ok);
    st->up = st->gate ? st->gate + p.gate / sizeof(float) : NULL;
    if (hp->n_expert > 0) {
        st->router = alloc_counted(p.router, scratch, &ok);
        st->moe_in = alloc_counted(p.moe_in, scratch, &ok);
        st->moe_out = alloc_counted(p.moe_out, scratch, &ok);
        st->route_w = alloc_counted(p.route_w, scratch, &ok);
        st->exp_w = alloc_counted(p.exp_w, scratch, &ok);
        st->route_ids = alloc_counted(p.route_ids, scratch, &ok);
        st->exp_tokens = alloc_counted(p.exp_tokens, scratch, &ok);
    }
    st->rope_cs = alloc_counted(p.rope_cs, scratch, &ok);
    st->rope_cs_swa = alloc_counted(p.rope_cs_swa, scratch, &ok);
    st->pos = alloc_counted(p.pos, scratch, &ok);
    st->scores = alloc_counted(p.scores, scratch, &ok);
    if (p.attn_tiles) {
        st->attn_tiles = alloc_counted(p.attn_tiles, scratch, &ok);
        st->tile_scratch = alloc_counted(p.tile_scratch, scratch, &ok);
        st->attn_tiles_bytes = p.attn_tiles;
    }
    if (!ok) {
        tm_net_state_free(st);
        return tm_fail(err, TM_E_NOMEM, "buffers for %d positions", n_ctx);
    }
    s = tm_matmul_scratch_init(&st->mm, p.n_batch, p.mm_cols, n_threads, err);
    if (s != TM_OK) {
        tm_net_state_free(st);
        return s;
    }
    st->allocated += st->mm.act_bytes + st->mm.rows_bytes;
    *out = st;
    return TM_OK;
}

int32_t tm_net_state_n_ctx(const tm_net_state *st)
{
    return st->n_ctx;
}

int32_t tm_net_state_n_batch(const tm_net_state *st)
{
    return st->n_batch;
}

static void matmul(tm_net_state *st, const tm_mat *w, const float *x, int64_t n_tokens, float *y)
{
    tm_matmul(st->params.kernels, st->pool, w, x, n_tokens, y, w->n_rows,
              st->params.float_activations, false, &st->mm);
}

/* products of several matrices with the same x (tm_matmul_many) */
static void matmul_many(tm_net_state *st, int n_mats, const tm_mat *const *w, const float *x,
                        int64_t n_tokens, float *const *y)
{
    tm_matmul_many(st->params.kernels, st->pool, n_mats, w, x, n_tokens, y,
                   st->params.float_activations, false, &st->mm);
}

/* ---- row-wise steps, split over the pool's threads (one token's worth runs alone) ---- */

typedef struct rows_job {
    float *y;
    const float *x, *g;
    int64_t width;
    float eps;
    const float *cs; /* rope */
    int32_t n_heads, head_dim, n_rot;
    tm_rope_kind kind;
    tm_glu_fn glu;
} rows_job;

static void norm_range(void *ctx, int64_t r0, int64_t r1)
{
    const rows_job *j = ctx;
    tm_rms_norm(j->y + r0 * j->width, j->x + r0 * j->width, j->g, j->width, r1 - r0, j->eps);
}

/* y = RMSNorm(x) * g for n_rows rows of width (y may be x) */
static void rms_norm(tm_net_state *st, float *y, const float *x, const float *g, int64_t width,
                     int64_t n_rows)
{
    rows_job j = {.y = y, .x = x, .g = g, .width = width, .eps = st->net->hp.norm_eps};
    tm_pool_for(st->pool, n_rows, 2, norm_range, &j);
}

static void rope_range(void *ctx, int64_t t0, int64_t t1)
{
    const rows_job *j = ctx;
    tm_rope_apply(j->y + t0 * j->n_heads * j->head_dim, j->cs + t0 * (j->n_rot / 2) * 2, t1 - t0,
                  j->n_heads, j->head_dim, j->n_rot, j->kind);
}

static void rope(tm_net_state *st, float *x, const float *cs, int64_t n_tokens, int32_t n_heads)
{
    const tm_hparams *hp = &st->net->hp;
    rows_job j = {.y = x,
                  .cs = cs,
                  .n_heads = n_heads,
                  .head_dim = hp->head_dim,
                  .n_rot = hp->n_rot,
                  .kind = hp->rope_kind};
    tm_pool_for(st->pool, n_tokens, 2, rope_range, &j);
}

static void add_range(void *ctx, int64_t r0, int64_t r1)
{
    const rows_job *j = ctx;
    for (int64_t i = r0 * j->width; i < r1 * j->width; i++)
        j->y[i] += j->x[i];
}

/* x += y over n_rows rows of width */
static void add_rows(tm_net_state *st, float *x, const float *y, int64_t width, int64_t n_rows)
{
    rows_job j = {.y = x, .x = y, .width = width};
    tm_pool_for(st->pool, n_rows, 2, add_range, &j);
}

static void add_bias(float *y, const float *bias, int64_t n_rows, int64_t width)
{
    if (!bias)
        return;
    for (int64_t r = 0; r < n_rows; r++)
        for (int64_t i = 0; i < width; i++)
            y[r * width + i] += bias[i];
}

/* row by row: a value's arithmetic (vector lanes or a row's scalar tail) then depends on its
 * place in its row only, not on how the batch was cut */
static void glu_range(void *ctx, int64_t r0, int64_t r1)
{
    const rows_job *j = ctx;
    for (int64_t r = r0; r < r1; r++)
        j->glu(j->y + r * j->width, j->x + r * j->width, j->width);
}

static void softcap(float *x, int64_t n, float cap)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = cap * tanhf(x[i] / cap);
}

/* Converts n rows of width floats to the cache type (F32: a copy). */
static void to_cache(const tm_kernels *kern, uint32_t type, const float *x, char *dst,
                     int64_t n_values)
{
    if (type == TM_DTYPE_F32)
        memcpy(dst, x, (size_t)n_values * sizeof(float));
    else
        kern->quantize[type](x, dst, n_values);
}

/* Writes the keys and values of positions pos0 .. pos0 + n - 1 of layer il into their
 * blocks, token by token, split over the threads. */
typedef struct store_job {
    tm_kv_store *kv;
    const int32_t *blocks;
    int32_t il, pos0;
    const float *k, *v;
    const tm_kernels *kern;
} store_job;

/* One head's key into a store that lays F16 keys by dimension: converted a piece of 256
 * dimensions at a time (any head width, a stack buffer), each spread over its dimensions. */
static void put_key_by_dim(const tm_kernels *kern, tm_kv_store *kv, int32_t il, int32_t b,
                           int32_t row, int32_t h, const float *k)
{
    uint16_t piece[256];
    uint16_t *slab = (uint16_t *)tm_kv_store_k_slab(kv, il, b, h);
    for (int64_t d0 = 0; d0 < kv->head_dim; d0 += 256) {
        int64_t n = TM_MIN(256, kv->head_dim - d0);
        kern->quantize[TM_DTYPE_F16](k + d0, piece, n);
        tm_kv_by_dim_put(slab + d0 * kv->block_tokens, kv->block_tokens, row, 1, n, piece);
    }
}

static void store_range(void *ctx, int64_t t0, int64_t t1)
{
    const store_job *j = ctx;
    tm_kv_store *kv = j->kv;
    int32_t bt = kv->block_tokens;
    int32_t n_head = kv->n_head_kv;
    int64_t hk = kv->k_width / n_head, hv = kv->v_width / n_head;
    for (int64_t t = t0; t < t1; t++) {
        int32_t pos = j->pos0 + (int32_t)t, row = pos % bt, b = j->blocks[pos / bt];
        for (int32_t h = 0; h < n_head; h++) { /* each kv head to its slab */
            const float *k = j->k + t * kv->k_width + h * hk;
            if (kv->k_by_dim)
                put_key_by_dim(j->kern, kv, j->il, b, row, h, k);
            else
                to_cache(j->kern, kv->type_k, k, tm_kv_store_k_at(kv, j->il, b, row, h), hk);
            to_cache(j->kern, kv->type_v, j->v + t * kv->v_width + h * hv,
                     tm_kv_store_v_at(kv, j->il, b, row, h), hv);
        }
    }
}

static void store_rows(tm_net_state *st, tm_kv_store *kv, const int32_t *blocks, int32_t il,
                       int32_t pos0, int32_t n)
{
    store_job j = {kv, blocks, il, pos0, st->k, st->v, st->params.kernels};
    tm_pool_for(st->pool, n, 2, store_range, &j);
}

static bool quantized_weights(uint32_t type)
{
    return type != TM_DTYPE_F32 && type != TM_DTYPE_F16 && type != TM_DTYPE_BF16;
}

static void attention_block(tm_net_state *st, tm_kv_store *kv, const int32_t *blocks,
                            const tm_layer *l, int32_t il, int32_t n, int32_t pos0)
{
    const tm_hparams *hp = &st->net->hp;
    rms_norm(st, st->h, st->x, l->attn_norm, hp->n_embd, n);
    const tm_mat *w[3] = {&l->wq, &l->wk, &l->wv};
    float *y3[3] = {st->q, st->k, st->v};
    matmul_many(st, 3, w, st->h, n, y3);
    add_bias(st->q, l->bq, n, st->q_width);
    add_bias(st->k, l->bk, n, st->k_width);
    add_bias(st->v, l->bv, n, st->v_width);
    if (l->q_norm) /* per head, before RoPE */
        rms_norm(st, st->q, st->q, l->q_norm, hp->head_dim, (int64_t)n * hp->n_head);
    if (l->k_norm)
        rms_norm(st, st->k, st->k, l->k_norm, hp->head_dim, (int64_t)n * hp->n_head_kv);
    const float *cs = l->swa ? st->rope_cs_swa : st->rope_cs;
    rope(st, st->q, cs, n, hp->n_head);
    rope(st, st->k, cs, n, hp->n_head_kv);
    const tm_kernels *kern = st->params.kernels;
    store_rows(st, kv, blocks, il, pos0, n);
    tm_attn_args a = {
        .q = st->q,
        .q_stride = st->q_width,
        .k_base = tm_kv_store_k_slab(kv, il, 0, 0),
        .v_base = tm_kv_store_v_slab(kv, il, 0, 0),
        .k_block_bytes = kv->k_slab_bytes, /* a head's next block */
        .v_block_bytes = kv->v_slab_bytes,
        /* a head's positions follow each other: whole rows, or (keys by dimension) values
         * in each dimension's row of block_tokens */
        .k_row_bytes = kv->k_by_dim ? 2 : kv->k_head_bytes,
        .v_row_bytes = kv->v_head_bytes,
        .k_head_bytes = kv->k_head_stride,
        .v_head_bytes = kv->v_head_stride,
        .kv_stride = kv->k_by_dim ? kv->block_tokens : hp->head_dim,
        .v_stride = hp->head_dim_v,
        .k_by_dim = kv->k_by_dim,
        .blocks = blocks,
        .block_tokens = kv->block_tokens,
        .scores_fn = kv->k_by_dim ? kern->attn_scores_f16_by_dim : kern->attn_scores[kv->type_k],
        .values_fn = kern->attn_values[kv->type_v],
        .exp_sum = kern->exp_sum,
        .out = st->att,
        .out_stride = st->o_width,
        .n_tokens = n,
        .pos0 = pos0,
        .n_head = hp->n_head,
        .n_head_kv = hp->n_head_kv,
        .head_dim = hp->head_dim,
        .head_dim_v = hp->head_dim_v,
        .scale = 1.0f / sqrtf((float)hp->head_dim),
        .softcap = hp->attn_softcap,
        .window = l->swa ? hp->n_swa : 0,
        .scores = st->scores,
        .scores_per_thread = (int64_t)(hp->n_head / hp->n_head_kv) * (st->n_ctx + 1),
        .kv_tiles_fn = kern->attn_kv_tiles,
        .tile_fn = kern->attn_tile,
        .k_type = kv->type_k,
        .v_type = kv->type_v,
        /* BF16 scores and weights: only where the weights are quantized, whose own error is
         * well above it (docs/design.md); float models and the exact float-activations mode
         * keep float attention */
        .tiles =
            quantized_weights(l->wq.type) && !st->params.float_activations ? st->attn_tiles : NULL,
        .tiles_bytes = st->attn_tiles_bytes,
        .tile_scratch = st->tile_scratch,
    };
    tm_attention(st->pool, &a);
    matmul(st, &l->wo, st->att, n, st->h);
    if (l->attn_post_norm)
        rms_norm(st, st->h, st->h, l->attn_post_norm, hp->n_embd, n);
    add_rows(st, st->x, st->h, hp->n_embd, n);
}

/* y[n][n_embd] = down(act(gate x) * up x) over the rows of x[n][n_embd] (y may be x). */
static void glu_ffn(tm_net_state *st, const tm_mat *gate, const tm_mat *up, const tm_mat *down,
                    const float *x, int32_t n, float *y)
{
    int64_t width = gate->n_rows;
    const tm_mat *w[2] = {gate, up};
    float *y2[2] = {st->gate, st->up};
    matmul_many(st, 2, w, x, n, y2);
    const tm_kernels *k = st->params.kernels;
    rows_job j = {.y = st->gate,
                  .x = st->up,
                  .width = width,
                  .glu = st->net->hp.ffn_act == TM_FFN_GELU_TANH ? k->gelu_mul : k->silu_mul};
    tm_pool_for(st->pool, n, 2, glu_range, &j);
    matmul(st, down, st->gate, n, y);
}

/* Each expert runs once on the tokens routed to it, gathered into a batch of their own, and
 * its outputs are added back weighted: an expert's weights are read once per call. */
static void moe_ffn(tm_net_state *st, const tm_layer *l, int32_t n)
{
    const tm_hparams *hp = &st->net->hp;
    int32_t k = hp->n_expert_used, d = hp->n_embd;
    matmul(st, &l->router, st->h, n, st->router);
    for (int32_t t = 0; t < n; t++)
        tm_moe_route(st->router + (int64_t)t * hp->n_expert, hp->n_expert, k, hp->expert_norm,
                     st->route_ids + (int64_t)t * k, st->route_w + (int64_t)t * k);
    memset(st->moe_out, 0, (size_t)n * (size_t)d * sizeof(float));
    for (int32_t e = 0; e < hp->n_expert; e++) {
        int32_t m = 0;
        for (int32_t t = 0; t < n; t++)
            for (int32_t i = 0; i < k; i++)
                if (st->route_ids[t * k + i] == e) {
                    st->exp_tokens[m] = t;
                    st->exp_w[m] = st->route_w[t * k + i];
                    memcpy(st->moe_in + (int64_t)m * d, st->h + (int64_t)t * d,
                           (size_t)d * sizeof(float));
                    m++;
                }
        if (m == 0)
            continue;
        glu_ffn(st, &l->exp_gate[e], &l->exp_up[e], &l->exp_down[e], st->moe_in, m, st->moe_in);
        for (int32_t j = 0; j < m; j++) {
            float *out = st->moe_out + (int64_t)st->exp_tokens[j] * d;
            const float *y = st->moe_in + (int64_t)j * d;
            for (int32_t i = 0; i < d; i++)
                out[i] += st->exp_w[j] * y[i];
        }
    }
    if (l->sh_gate_inp) { /* the shared expert, gated per token by sigmoid(w . x) */
        glu_ffn(st, &l->sh_gate, &l->sh_up, &l->sh_down, st->h, n, st->moe_in);
        for (int32_t t = 0; t < n; t++) {
            const float *x = st->h + (int64_t)t * d;
            double z = 0;
            for (int32_t i = 0; i < d; i++)
                z += (double)l->sh_gate_inp[i] * x[i];
            float g = (float)(1.0 / (1.0 + exp(-z)));
            for (int32_t i = 0; i < d; i++)
                st->moe_out[(int64_t)t * d + i] += g * st->moe_in[(int64_t)t * d + i];
        }
    }
    memcpy(st->h, st->moe_out, (size_t)n * (size_t)d * sizeof(float));
}

/* The same over a fused gate-and-up matrix (pack.c). Prompts on tiles: one product straight
 * to the activation tiles of the down product (tm_matmul_glu). Otherwise the fused product
 * fills [n][2 x ff] across the gate and up buffers, each token's row then compacted in place
 * to act(gate) * up, token after token (a row never overwrites values still to be read). */
static void fused_glu_ffn(tm_net_state *st, const tm_layer *l, const float *x, int32_t n, float *y)
{
    const tm_kernels *k = st->params.kernels;
    const tm_mat *gu = &l->w_gate_up, *down = &l->w_down;
    int64_t ff = gu->n_rows / 2;
    bool gelu = st->net->hp.ffn_act == TM_FFN_GELU_TANH;
    if (!st->params.float_activations && tm_matmul_has_glu(k, gu, n) && down->packed &&
        k->gemm_bf16[down->type]) {
        tm_matmul_glu(k, st->pool, gu, x, n, gelu ? TM_GLU_GELU : TM_GLU_SILU, st->gate, &st->mm);
        tm_matmul_tiles(k, st->pool, down, st->gate, n, y, down->n_rows, &st->mm);
        return;
    }
    matmul(st, gu, x, n, st->gate);
    tm_glu_fn glu = gelu ? k->gelu_mul : k->silu_mul;
    for (int64_t t = 0; t < n; t++)
        for (int64_t g = 0; g < ff / 16; g++) {
            float pair[32];
            memcpy(pair, st->gate + t * 2 * ff + 32 * g, sizeof pair);
            glu(pair, pair + 16, 16);
            memcpy(st->gate + t * ff + 16 * g, pair, 16 * sizeof(float));
        }
    matmul(st, down, st->gate, n, y);
}

static void ffn_block(tm_net_state *st, const tm_layer *l, int32_t n)
{
    const tm_hparams *hp = &st->net->hp;
    rms_norm(st, st->h, st->x, l->ffn_norm, hp->n_embd, n);
    if (hp->n_expert > 0)
        moe_ffn(st, l, n);
    else if (l->w_gate_up.data)
        fused_glu_ffn(st, l, st->h, n, st->h);
    else
        glu_ffn(st, &l->w_gate, &l->w_up, &l->w_down, st->h, n, st->h);
    if (l->ffn_post_norm)
        rms_norm(st, st->h, st->h, l->ffn_post_norm, hp->n_embd, n);
    add_rows(st, st->x, st->h, hp->n_embd, n);
}

tm_status tm_net_forward(const tm_net *net, tm_net_state *st, tm_kv_store *kv,
                         const int32_t *blocks, const int32_t *tokens, int32_t n, int32_t pos0,
                         float *logits, bool all_logits, tm_err *err)
{
    const tm_hparams *hp = &net->hp;
    if (n < 1 || n > st->n_batch)
        return tm_fail(err, TM_E_ARG, "%d tokens in one forward call, allowed 1..%d", n,
                       st->n_batch);
    if (pos0 < 0 || pos0 > st->n_ctx - n)
        return tm_fail(err, TM_E_LIMIT, "positions %d..%d do not fit a context of %d", pos0,
                       pos0 + n - 1, st->n_ctx);
    for (int32_t t = 0; t < n; t++)
        if (tokens[t] < 0 || tokens[t] >= hp->n_vocab)
            return tm_fail(err, TM_E_ARG,
                           "token id %d at batch index %d is outside the "
                           "vocabulary of %d",
                           tokens[t], t, hp->n_vocab);
    if (kv->n_layer != hp->n_layer || kv->k_width != st->k_width || kv->v_width != st->v_width)
        return tm_fail(err, TM_E_ARG, "the KV store was made for another model");
    const tm_kernels *k = st->params.kernels;
    if (!k->attn_scores[kv->type_k] || !k->attn_values[kv->type_v])
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "the %s kernels have no attention over %s keys "
                       "and %s values",
                       k->isa, tm_dtype_name(kv->type_k), tm_dtype_name(kv->type_v));
    for (int32_t t = 0; t < n; t++) {
        const uint8_t *row =
            (const uint8_t *)net->token_embd.data + (uint64_t)tokens[t] * net->token_embd.row_bytes;
        float *xt = st->x + (int64_t)t * hp->n_embd;
        k->to_float[net->token_embd.type](row, xt, hp->n_embd);
        if (hp->embd_scale != 0)
            for (int32_t i = 0; i < hp->n_embd; i++)
                xt[i] *= hp->embd_scale;
        st->pos[t] = pos0 + t;
    }
    tm_rope_table(st->rope_cs, st->pos, n, hp->n_rot, hp->rope_base, hp->rope_freq_scale,
                  net->rope_freqs);
    if (hp->n_swa > 0)
        tm_rope_table(st->rope_cs_swa, st->pos, n, hp->n_rot, hp->rope_base_swa,
                      hp->rope_freq_scale_swa, net->rope_freqs);
    for (int32_t il = 0; il < hp->n_layer; il++) {
        attention_block(st, kv, blocks, &net->layers[il], il, n, pos0);
        ffn_block(st, &net->layers[il], n);
    }
    if (!logits)
        return TM_OK;
    /* only the rows whose logits are wanted go through the output matrix */
    int32_t first = all_logits ? 0 : n - 1;
    int32_t n_out = n - first;
    const float *x = st->x + (int64_t)first * hp->n_embd;
    rms_norm(st, st->h, x, net->output_norm, hp->n_embd, n_out);
    matmul(st, &net->output, st->h, n_out, logits);
    if (hp->final_softcap > 0)
        softcap(logits, (int64_t)n_out * hp->n_vocab, hp->final_softcap);
    return TM_OK;
}
