/* The KV store: the keys and values of every layer, in blocks of a fixed number of
 * positions. A sequence names its blocks in a block table (position p lives in block
 * table[p / block_tokens], row p % block_tokens), so sequences can share blocks and a block
 * can be reused without copying; which block belongs to whom is the engine's business
 * (engine/kv_cache.c), this file only lays the memory out.
 *
 * Layout: per layer, K then V, each kv head's slabs of every block one after the other (a
 * slab: a block's block_tokens rows of head_dim values of the cache type, whole quantization
 * blocks per head). Attention reads one kv head's keys and then its values through the
 * sequence's blocks; a freshly filled sequence has consecutive blocks, so that is one run
 * of memory the hardware prefetchers follow across slabs. (Blocks holding all their heads
 * together, 4 KiB runs 32 KiB apart, streamed at about half the speed from memory.)
 *
 * F16 keys lie by dimension within their slab (k_by_dim): value d of row r at element
 * d * block_tokens + r. The scores kernel then holds positions in its vector lanes and
 * multiplies them by one query element at a time, with no sum across lanes per key; the
 * row-by-row form spent more on those sums than on the products (docs/design.md). Values
 * stay row by row, which is the form their weighted sum wants. Rows go in and out through
 * tm_kv_store_put_rows / get_rows, which hide the difference. */
#include "model.h"

#include <string.h>

static bool is_cache_type(uint32_t t)
{
    return t == TM_DTYPE_F16 || t == TM_DTYPE_F32 || t == TM_DTYPE_Q8_0 || t == TM_DTYPE_Q4_0;
}

static tm_status check_type(const tm_hparams *hp, const char *what, uint32_t type, int32_t dim,
                            tm_err *err)
{
    if (!is_cache_type(type))
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "%s cache type %s (f16, f32, q8_0 and q4_0 are "
                       "supported)",
                       what, tm_dtype_name(type));
    const tm_dtype_info *info = tm_dtype_info_get(type);
    if (dim % info->block_size != 0)
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "a %s %s cache needs heads of whole blocks of %d; this model's heads "
                       "have %d values",
                       tm_dtype_name(type), what, info->block_size, dim);
    (void)hp;
    return TM_OK;
}

tm_status tm_kv_store_plan(const tm_hparams *hp, uint32_t type_k, uint32_t type_v,
                           int32_t block_tokens, int32_t n_blocks, tm_kv_store *out, tm_err *err)
{
    if (block_tokens < 1 || n_blocks < 1)
        return tm_fail(err, TM_E_ARG, "a KV store of %d blocks of %d positions", n_blocks,
                       block_tokens);
    tm_status st = check_type(hp, "key", type_k, hp->head_dim, err);
    if (st == TM_OK)
        st = check_type(hp, "value", type_v, hp->head_dim_v, err);
    if (st != TM_OK)
        return st;
    tm_kv_store s;
    memset(&s, 0, sizeof s);
    s.type_k = type_k;
    s.type_v = type_v;
    s.n_layer = hp->n_layer;
    s.n_head_kv = hp->n_head_kv;
    s.block_tokens = block_tokens;
    s.n_blocks = n_blocks;
    s.k_width = (int64_t)hp->n_head_kv * hp->head_dim;
    s.v_width = (int64_t)hp->n_head_kv * hp->head_dim_v;
    uint64_t k_head = 0, v_head = 0, k_layer = 0, v_layer = 0, k_all = 0, v_all = 0;
    bool ok = tm_dtype_row_bytes(type_k, s.k_width, &s.k_row_bytes) &&
              tm_dtype_row_bytes(type_v, s.v_width, &s.v_row_bytes) &&
              tm_dtype_row_bytes(type_k, hp->head_dim, &k_head) &&
              tm_dtype_row_bytes(type_v, hp->head_dim_v, &v_head) &&
              tm_mul_u64(s.k_row_bytes, (uint64_t)block_tokens, &s.k_block_bytes) &&
              tm_mul_u64(s.v_row_bytes, (uint64_t)block_tokens, &s.v_block_bytes) &&
              tm_mul_u64(s.k_block_bytes, (uint64_t)n_blocks, &k_layer) &&
              tm_mul_u64(s.v_block_bytes, (uint64_t)n_blocks, &v_layer) &&
              tm_mul_u64(k_layer, (uint64_t)hp->n_layer, &k_all) &&
              tm_mul_u64(v_layer, (uint64_t)hp->n_layer, &v_all) &&
              tm_add_u64(k_all, v_all, &s.bytes) && s.bytes <= SIZE_MAX / 2;
    if (!ok)
        return tm_fail(err, TM_E_LIMIT,
                       "a KV store of %d blocks of %d positions x %d layers is "
                       "too large",
                       n_blocks, block_tokens, hp->n_layer);
    s.k_head_bytes = k_head;
    s.v_head_bytes = v_head;
    s.k_slab_bytes = k_head * (uint64_t)block_tokens;
    s.v_slab_bytes = v_head * (uint64_t)block_tokens;
    s.k_layer_bytes = k_layer;
    s.v_layer_bytes = v_layer;
    s.k_head_stride = s.k_slab_bytes * (uint64_t)n_blocks; /* <= k_layer */
    s.v_head_stride = s.v_slab_bytes * (uint64_t)n_blocks;
    s.k_by_dim = type_k == TM_DTYPE_F16;
    s.head_dim = hp->head_dim;
    *out = s;
    return TM_OK;
}

tm_status tm_kv_store_create(const tm_hparams *hp, uint32_t type_k, uint32_t type_v,
                             int32_t block_tokens, int32_t n_blocks, tm_kv_store **out, tm_err *err)
{
    tm_kv_store plan;
    tm_status st = tm_kv_store_plan(hp, type_k, type_v, block_tokens, n_blocks, &plan, err);
    if (st != TM_OK)
        return st;
    tm_kv_store *s = tm_malloc(sizeof *s);
    if (!s)
        return tm_fail(err, TM_E_NOMEM, "KV store");
    *s = plan;
    s->k = tm_aligned_alloc(64, (size_t)(s->k_layer_bytes * (uint64_t)s->n_layer));
    s->v = tm_aligned_alloc(64, (size_t)(s->v_layer_bytes * (uint64_t)s->n_layer));
    if (!s->k || !s->v) {
        tm_kv_store_free(s);
        return tm_fail(err, TM_E_NOMEM, "a KV cache of %d blocks of %d positions (%.1f MiB)",
                       n_blocks, block_tokens, (double)plan.bytes / (1024.0 * 1024.0));
    }
    *out = s;
    return TM_OK;
}

void tm_kv_store_free(tm_kv_store *s)
{
    if (!s)
        return;
    tm_aligned_free(s->k);
    tm_aligned_free(s->v);
    tm_free(s);
}

char *tm_kv_store_k_slab(const tm_kv_store *s, int32_t layer, int32_t block, int32_t h)
{
    return s->k + (uint64_t)layer * s->k_layer_bytes + (uint64_t)h * s->k_head_stride +
           (uint64_t)block * s->k_slab_bytes;
}

char *tm_kv_store_v_slab(const tm_kv_store *s, int32_t layer, int32_t block, int32_t h)
{
    return s->v + (uint64_t)layer * s->v_layer_bytes + (uint64_t)h * s->v_head_stride +
           (uint64_t)block * s->v_slab_bytes;
}

char *tm_kv_store_k_at(const tm_kv_store *s, int32_t layer, int32_t block, int32_t row, int32_t h)
{
    return tm_kv_store_k_slab(s, layer, block, h) + (uint64_t)row * s->k_head_bytes;
}

char *tm_kv_store_v_at(const tm_kv_store *s, int32_t layer, int32_t block, int32_t row, int32_t h)
{
    return tm_kv_store_v_slab(s, layer, block, h) + (uint64_t)row * s->v_head_bytes;
}

void tm_kv_by_dim_get(const uint16_t *slab, int64_t block_tokens, int64_t row0, int64_t n,
                      int64_t dim, uint16_t *rows)
{
    for (int64_t r = 0; r < n; r++)
        for (int64_t d = 0; d < dim; d++)
            rows[r * dim + d] = slab[d * block_tokens + row0 + r];
}

void tm_kv_by_dim_put(uint16_t *slab, int64_t block_tokens, int64_t row0, int64_t n, int64_t dim,
                      const uint16_t *rows)
{
    for (int64_t d = 0; d < dim; d++)
        for (int64_t r = 0; r < n; r++)
            slab[d * block_tokens + row0 + r] = rows[r * dim + d];
}

static char *slab_at(const tm_kv_store *s, bool keys, int32_t layer, int32_t block, int32_t h)
{
    return keys ? tm_kv_store_k_slab(s, layer, block, h) : tm_kv_store_v_slab(s, layer, block, h);
}

void tm_kv_store_get_rows(const tm_kv_store *s, bool keys, int32_t layer, int32_t block, int32_t h,
                          int32_t row0, int32_t n, void *rows)
{
    const char *slab = slab_at(s, keys, layer, block, h);
    if (keys && s->k_by_dim) {
        tm_kv_by_dim_get((const uint16_t *)slab, s->block_tokens, row0, n, s->head_dim, rows);
        return;
    }
    uint64_t head = keys ? s->k_head_bytes : s->v_head_bytes;
    memcpy(rows, slab + (uint64_t)row0 * head, (size_t)(head * (uint64_t)n));
}

void tm_kv_store_put_rows(tm_kv_store *s, bool keys, int32_t layer, int32_t block, int32_t h,
                          int32_t row0, int32_t n, const void *rows)
{
    char *slab = slab_at(s, keys, layer, block, h);
    if (keys && s->k_by_dim) {
        tm_kv_by_dim_put((uint16_t *)slab, s->block_tokens, row0, n, s->head_dim, rows);
        return;
    }
    uint64_t head = keys ? s->k_head_bytes : s->v_head_bytes;
    memcpy(slab + (uint64_t)row0 * head, rows, (size_t)(head * (uint64_t)n));
}

void tm_kv_store_copy(tm_kv_store *s, int32_t dst, int32_t src, int32_t n_pos)
{
    if (dst == src || n_pos <= 0)
        return;
    uint64_t bt = (uint64_t)s->block_tokens;
    for (int32_t il = 0; il < s->n_layer; il++)
        for (int32_t h = 0; h < s->n_head_kv; h++) {
            char *kd = slab_at(s, true, il, dst, h);
            const char *ks = slab_at(s, true, il, src, h);
            if (s->k_by_dim) /* each dimension's first n_pos values */
                for (int64_t d = 0; d < s->head_dim; d++)
                    memcpy(kd + (uint64_t)d * bt * 2, ks + (uint64_t)d * bt * 2, (size_t)n_pos * 2);
            else
                memcpy(kd, ks, (size_t)(s->k_head_bytes * (uint64_t)n_pos));
            memcpy(slab_at(s, false, il, dst, h), slab_at(s, false, il, src, h),
                   (size_t)(s->v_head_bytes * (uint64_t)n_pos));
        }
}
