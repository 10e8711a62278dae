/* Packing a loaded network's layer matrices for the kernels' GEMM (tensor.h, "packed
 * weights"). Each matrix is rewritten group by group into a buffer of the net's own and its
 * pages of the file mapping are released right after, so the peak memory of loading stays
 * near one copy of the weights. Where the kernels multiply prompts on tiles, a layer's gate
 * and up matrices become one, in group pairs, for the fused product (tm_matmul_glu). Fused matrices
 * were split into row views at load; each view is packed on its own (views start on whole groups or
 * are left as they are). */
#include "model.h"

#include <string.h>

typedef struct pack_ctx {
    tm_net *net;
    const tm_kernels *k;
    tm_mmap *map;
    tm_pool *pool;  /* packing: the threads that share each matrix's groups */
    uint8_t *arena; /* NULL while counting */
    uint64_t used;  /* bytes of the arena given out (or counted) so far */
} pack_ctx;

/* One matrix's groups (or a gate and up pair's) rewritten by the pool's threads, each a
 * contiguous range: group g of src (and of src2) to dst + g * stride (+ group_bytes). The
 * threads also share the first touch of the arena's pages, whose zeroing by the kernel took
 * 64% of the samples of a single-threaded load and one token (AMD Zen 3 VM, a 0.68 GB Q4_K_M
 * file; tm_pack_group itself 16%). */
typedef struct pack_groups_job {
    uint32_t type;
    int64_t n_cols;
    uint64_t row_bytes, group_bytes, stride;
    const uint8_t *src, *src2; /* src2: the up matrix of a fused pair, or NULL */
    uint8_t *dst;
} pack_groups_job;

static void pack_groups(void *ctx, int64_t g0, int64_t g1)
{
    const pack_groups_job *j = ctx;
    for (int64_t g = g0; g < g1; g++) {
        uint64_t from = (uint64_t)g * TM_PACK_ROWS * j->row_bytes;
        uint8_t *to = j->dst + (uint64_t)g * j->stride;
        tm_pack_group(j->type, j->src + from, j->n_cols, to);
        if (j->src2)
            tm_pack_group(j->type, j->src2 + from, j->n_cols, to + j->group_bytes);
    }
}

static void pack_groups_run(pack_ctx *c, const tm_mat *m, const tm_mat *m2, uint8_t *dst)
{
    uint64_t group_bytes = m->row_bytes * TM_PACK_ROWS;
    pack_groups_job j = {.type = m->type,
                         .n_cols = m->n_cols,
                         .row_bytes = m->row_bytes,
                         .group_bytes = group_bytes,
                         .stride = m2 ? 2 * group_bytes : group_bytes,
                         .src = m->data,
                         .src2 = m2 ? m2->data : NULL,
                         .dst = dst};
    tm_pool_for(c->pool, m->n_rows / TM_PACK_ROWS, 2, pack_groups, &j);
}

static bool packable(const pack_ctx *c, const tm_mat *m)
{
    return m->data && !m->packed && tm_pack_supported(m->type) && c->k->gemm_x16[m->type] &&
           m->n_rows % TM_PACK_ROWS == 0 && m->n_cols % 32 == 0;
}

static void release(pack_ctx *c, const tm_mat *m)
{
    if (!c->map)
        return;
    const uint8_t *base = tm_mmap_data(c->map), *p = m->data;
    uint64_t bytes = m->row_bytes * (uint64_t)m->n_rows;
    if (p >= base && p + bytes <= base + tm_mmap_size(c->map))
        tm_mmap_release(c->map, (uint64_t)(p - base), bytes);
}

/* Counting (no arena yet): adds the matrix's bytes. Packing: rewrites it into the arena and
 * releases its pages of the mapping. */
static void pack_mat(pack_ctx *c, tm_mat *m)
{
    if (!packable(c, m))
        return;
    uint64_t bytes = m->row_bytes * (uint64_t)m->n_rows;
    uint8_t *buf = c->arena ? c->arena + c->used : NULL;
    c->used += tm_align_up_u64(bytes, 64);
    if (!buf)
        return;
    pack_groups_run(c, m, NULL, buf);
    release(c, m);
    c->net->packed_bytes += bytes;
    m->data = buf;
    m->packed = true;
}

/* Gate and up as one matrix of group pairs, where the kernels multiply prompts on tiles with
 * the gated activation as the product's epilogue (tm_matmul_glu). */
static bool pack_gate_up(pack_ctx *c, tm_layer *l)
{
    tm_mat *g = &l->w_gate, *u = &l->w_up;
    if (!packable(c, g) || !packable(c, u) || !c->k->gemm_bf16[g->type] || g->type != u->type ||
        g->n_rows != u->n_rows || g->n_cols != u->n_cols || g->n_rows % 32 != 0)
        return false;
    uint64_t bytes = 2 * g->row_bytes * (uint64_t)g->n_rows;
    uint8_t *buf = c->arena ? c->arena + c->used : NULL;
    c->used += tm_align_up_u64(bytes, 64);
    if (!buf)
        return true;
    pack_groups_run(c, g, u, buf); /* same type and shape: checked above */
    release(c, g);
    release(c, u);
    c->net->packed_bytes += bytes;
    l->w_gate_up = *g;
    l->w_gate_up.data = buf;
    l->w_gate_up.n_rows = 2 * g->n_rows;
    l->w_gate_up.packed = true;
    g->data = u->data = NULL; /* the fused matrix serves */
    return true;
}

static void pack_all(pack_ctx *c)
{
    tm_net *net = c->net;
    for (int32_t il = 0; il < net->hp.n_layer; il++) {
        tm_layer *l = &net->layers[il];
        bool fused = pack_gate_up(c, l);
        tm_mat *mats[] = {&l->wq,   &l->wk,     &l->wv,      &l->wo,    &l->w_gate,
                          &l->w_up, &l->w_down, &l->sh_gate, &l->sh_up, &l->sh_down};
        for (size_t i = 0; i < TM_ARRAY_LEN(mats); i++)
            if (!(fused && (mats[i] == &l->w_gate || mats[i] == &l->w_up)))
                pack_mat(c, mats[i]);
        for (int32_t e = 0; l->exp_gate && e < net->hp.n_expert; e++) {
            pack_mat(c, &l->exp_gate[e]);
            pack_mat(c, &l->exp_up[e]);
            pack_mat(c, &l->exp_down[e]);
        }
    }
    /* a separate output matrix (not the token embeddings, looked up by row) */
    if (net->output.data != net->token_embd.data)
        pack_mat(c, &net->output);
}

tm_status tm_net_pack(tm_net *net, const tm_kernels *kernels, tm_mmap *map, int n_threads,
                      tm_err *err)
{
    pack_ctx c = {net, kernels, map, NULL, NULL, 0};
    pack_all(&c); /* count */
    if (c.used == 0)
        return TM_OK;
    /* one arena on huge pages: decode streams all of it for every token */
    uint64_t bytes = tm_align_up_u64(c.used, TM_HUGE_PAGE_BYTES);
    uint8_t *arena = bytes <= SIZE_MAX ? tm_aligned_alloc(TM_HUGE_PAGE_BYTES, (size_t)bytes) : NULL;
    if (!arena)
        return tm_fail(err, TM_E_NOMEM, "packing %llu bytes of weights",
                       (unsigned long long)c.used);
    tm_mem_advise_huge(arena, bytes);
    tm_status st = tm_pool_create(n_threads, &c.pool, err);
    if (st != TM_OK) {
        tm_aligned_free(arena);
        return st;
    }
    net->packed = arena;
    c.arena = arena;
    c.used = 0;
    pack_all(&c);
    tm_pool_free(c.pool);
    return TM_OK;
}
