/* Packing a loaded network's layer matrices for the kernels' GEMM (tensor.h, "packed
 * weights"). Each matrix is rewritten group by group into a buffer of the net's own and its
 * pages of the file mapping are released right after, so the peak memory of loading stays
 * near one copy of the weights. Fused matrices were split into row views at load; each view
 * is packed on its own (views start on whole groups or are left as they are). */
#include "model.h"

#include <string.h>

typedef struct pack_ctx {
    tm_net *net;
    const tm_kernels *k;
    tm_mmap *map;
    int32_t cap;
} pack_ctx;

static bool packable(const pack_ctx *c, const tm_mat *m)
{
    return m->data && !m->packed && tm_pack_supported(m->type) && c->k->gemm_x16[m->type] &&
           m->n_rows % TM_PACK_ROWS == 0 && m->n_cols % 32 == 0;
}

static tm_status pack_mat(pack_ctx *c, tm_mat *m, tm_err *err)
{
    if (!packable(c, m))
        return TM_OK;
    tm_net *net = c->net;
    if (net->n_packed == c->cap) {
        int32_t cap = c->cap ? 2 * c->cap : 64;
        void **p = tm_realloc(net->packed, (size_t)cap * sizeof *p);
        if (!p)
            return tm_fail(err, TM_E_NOMEM, "packed matrix list");
        net->packed = p;
        c->cap = cap;
    }
    uint64_t bytes = m->row_bytes * (uint64_t)m->n_rows;
    uint8_t *buf = tm_aligned_alloc(64, (size_t)bytes);
    if (!buf)
        return tm_fail(err, TM_E_NOMEM, "packing a matrix of %llu bytes",
                       (unsigned long long)bytes);
    uint64_t group_bytes = m->row_bytes * TM_PACK_ROWS;
    for (int64_t r = 0; r < m->n_rows; r += TM_PACK_ROWS)
        tm_pack_group(m->type, (const uint8_t *)m->data + (uint64_t)r * m->row_bytes, m->n_cols,
                      buf + (uint64_t)r / TM_PACK_ROWS * group_bytes);
    if (c->map) {
        const uint8_t *base = tm_mmap_data(c->map);
        const uint8_t *p = m->data;
        if (p >= base && p + bytes <= base + tm_mmap_size(c->map))
            tm_mmap_release(c->map, (uint64_t)(p - base), bytes);
    }
    net->packed[net->n_packed++] = buf;
    net->packed_bytes += bytes;
    m->data = buf;
    m->packed = true;
    return TM_OK;
}

tm_status tm_net_pack(tm_net *net, const tm_kernels *kernels, tm_mmap *map, tm_err *err)
{
    pack_ctx c = {net, kernels, map, 0};
    tm_status st = TM_OK;
    for (int32_t il = 0; st == TM_OK && il < net->hp.n_layer; il++) {
        tm_layer *l = &net->layers[il];
        tm_mat *mats[] = {&l->wq,   &l->wk,     &l->wv,      &l->wo,    &l->w_gate,
                          &l->w_up, &l->w_down, &l->sh_gate, &l->sh_up, &l->sh_down};
        for (size_t i = 0; st == TM_OK && i < TM_ARRAY_LEN(mats); i++)
            st = pack_mat(&c, mats[i], err);
        for (int32_t e = 0; st == TM_OK && l->exp_gate && e < net->hp.n_expert; e++) {
            st = pack_mat(&c, &l->exp_gate[e], err);
            if (st == TM_OK)
                st = pack_mat(&c, &l->exp_up[e], err);
            if (st == TM_OK)
                st = pack_mat(&c, &l->exp_down[e], err);
        }
    }
    return st;
}
