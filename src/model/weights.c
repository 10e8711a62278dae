/* Finding weights by name and checking their shapes and types, so the forward pass never
 * meets a tensor it cannot use. Tensors are looked up by name: files order them freely. */
#include "arch.h"

#include <stdio.h>
#include <string.h>

tm_status tm_weight_mat(const tm_gguf *g, const tm_kernels *k, const char *name, int64_t n_cols,
                        int64_t n_rows, bool optional, tm_mat *out, tm_err *err)
{
    memset(out, 0, sizeof *out);
    const tm_gguf_tensor *t = tm_gguf_find_tensor(g, name);
    if (!t) {
        if (optional)
            return TM_OK;
        return tm_fail(err, TM_E_FORMAT, "missing tensor '%s'", name);
    }
    if (t->n_dims > 2 || t->ne[0] != n_cols || t->ne[1] != n_rows)
        return tm_fail(err, TM_E_FORMAT,
                       "tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]",
                       name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                       (long long)t->ne[3], (long long)n_cols, (long long)n_rows);
    if (t->type >= TM_DTYPE_COUNT || !k->vec_dot[t->type] || !k->to_float[t->type])
        return tm_fail(err, TM_E_UNSUPPORTED, "tensor '%s' has type %s, which is not supported",
                       name, tm_dtype_name(t->type));
    out->data = t->data;
    out->type = t->type;
    out->n_cols = n_cols;
    out->n_rows = n_rows;
    out->row_bytes = t->n_bytes / (uint64_t)n_rows;
    return TM_OK;
}

tm_status tm_weight_experts(const tm_gguf *g, const tm_kernels *k, int32_t layer,
                            const char *suffix, int64_t n_cols, int64_t n_rows, int32_t n_expert,
                            tm_mat *out, tm_err *err)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s", layer, suffix);
    const tm_gguf_tensor *t = tm_gguf_find_tensor(g, name);
    if (!t)
        return tm_fail(err, TM_E_FORMAT, "missing tensor '%s'", name);
    if (t->n_dims != 3 || t->ne[0] != n_cols || t->ne[1] != n_rows || t->ne[2] != n_expert)
        return tm_fail(err, TM_E_FORMAT,
                       "tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld, %d]",
                       name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                       (long long)t->ne[3], (long long)n_cols, (long long)n_rows, n_expert);
    if (t->type >= TM_DTYPE_COUNT || !k->vec_dot[t->type] || !k->to_float[t->type])
        return tm_fail(err, TM_E_UNSUPPORTED, "tensor '%s' has type %s, which is not supported",
                       name, tm_dtype_name(t->type));
    uint64_t row_bytes = t->n_bytes / ((uint64_t)n_rows * (uint64_t)n_expert);
    for (int32_t e = 0; e < n_expert; e++)
        out[e] = (tm_mat){(const uint8_t *)t->data + (uint64_t)e * (uint64_t)n_rows * row_bytes,
                          t->type,
                          n_cols,
                          n_rows,
                          row_bytes,
                          false};
    return TM_OK;
}

tm_status tm_weight_vec(const tm_gguf *g, const char *name, int64_t n, bool optional,
                        const float **out, tm_err *err)
{
    const tm_gguf_tensor *t = tm_gguf_find_tensor(g, name);
    if (!t) {
        if (optional) {
            *out = NULL;
            return TM_OK;
        }
        return tm_fail(err, TM_E_FORMAT, "missing tensor '%s'", name);
    }
    if (t->n_dims != 1 || t->ne[0] != n)
        return tm_fail(err, TM_E_FORMAT, "tensor '%s' has %lld values in %d dims, expected %lld",
                       name, (long long)t->ne[0], t->n_dims, (long long)n);
    if (t->type != TM_DTYPE_F32)
        return tm_fail(err, TM_E_UNSUPPORTED, "tensor '%s' has type %s, expected f32", name,
                       tm_dtype_name(t->type));
    if (((uintptr_t)t->data & 3) != 0)
        return tm_fail(err, TM_E_FORMAT, "tensor '%s' is not 4-byte aligned", name);
    *out = t->data;
    return TM_OK;
}

tm_status tm_weight_layer_mat(const tm_gguf *g, const tm_kernels *k, int32_t layer,
                              const char *suffix, int64_t n_cols, int64_t n_rows, bool optional,
                              tm_mat *out, tm_err *err)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s", layer, suffix);
    return tm_weight_mat(g, k, name, n_cols, n_rows, optional, out, err);
}
