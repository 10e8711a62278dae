/* Memory accounting: what a model and n sessions on it take, computed without allocating.
 *
 * The figures come from the computations the allocations themselves use (the state's plan in
 * model/forward.c, the matmul scratch size in tensor/matmul.c, the session's token record),
 * with the session's parameters resolved by the function tm_session_create uses, so an
 * estimate equals what sessions then allocate, byte for byte (tests/engine/test_memory.c).
 * Sessions are independent today: n_parallel of them take n_parallel times one session's
 * KV and scratch, and share the weights. Sliding-window layers get a cache of the whole
 * context like the others, so the estimate counts them so. */
#include "engine.h"

#include <string.h>

tm_status tm_memory_estimate_get(const tm_model *model, const tm_session_params *params,
                                 int32_t n_parallel, tm_memory_estimate *out, tm_err *err)
{
    if (n_parallel < 1)
        return tm_fail(err, TM_E_ARG, "%d parallel sequences: at least 1", n_parallel);
    tm_session_params p = tm_session_params_default(); /* resolve writes it on success */
    tm_status st = tm_session_params_resolve(model, params, &p, err);
    tm_net_state_bytes b = {0};
    if (st == TM_OK)
        st = tm_net_state_estimate(&model->net->hp, (uint32_t)p.kv_type, p.n_ctx, p.n_batch,
                                   p.n_threads, &b, err);
    if (st != TM_OK)
        return st;
    tm_memory_estimate e;
    memset(&e, 0, sizeof e);
    e.weights_bytes = tm_model_weight_bytes(model);
    uint64_t scratch = 0, session = 0;
    if (!tm_add_u64(b.scratch, tm_session_record_bytes(p.n_ctx), &scratch) ||
        !tm_mul_u64(b.kv, (uint64_t)n_parallel, &e.kv_bytes) ||
        !tm_mul_u64(scratch, (uint64_t)n_parallel, &e.scratch_bytes) ||
        !tm_add_u64(e.kv_bytes, e.scratch_bytes, &session) ||
        !tm_add_u64(session, e.weights_bytes, &e.total_bytes))
        return tm_fail(err, TM_E_LIMIT, "memory of %d sequences of %d positions overflows",
                       n_parallel, p.n_ctx);
    e.n_ctx = p.n_ctx;
    e.n_batch = p.n_batch;
    e.n_threads = p.n_threads;
    *out = e;
    return TM_OK;
}
