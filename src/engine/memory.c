/* Memory accounting: what a model and n sessions on it take, computed without allocating.
 *
 * The figures come from the computations the allocations themselves use (the state's plan in
 * model/forward.c, the matmul scratch size in tensor/matmul.c, the session's token record),
 * with the session's parameters resolved by the function tm_session_create uses, so an
 * estimate equals what sessions then allocate, byte for byte (tests/engine/test_memory.c).
 * n_parallel sessions take n_parallel times one session's scratch and share the weights;
 * each has a KV cache of its own of its context, unless they share one, which counts once.
 * kv_bytes are the keys and values; the caches' bookkeeping (block records, the tokens of
 * cached blocks, the hash table) counts as scratch.
 * Sliding-window layers get blocks for the whole context like the others, so the estimate
 * counts them so. What hyper-parameters alone decide (caches of each session's own) is
 * tm_memory_estimate_hparams, which the planner also applies to model shapes it has no file
 * of (plan.c). */
#include "engine.h"

#include <string.h>

/* The sum of the parts, overflow-checked: n_parallel sessions of `state` scratch and a token
 * record each, the caches' keys and values (kv) and bookkeeping (meta), the weights once. */
static tm_status add_up(const tm_session_params *p, int32_t n_parallel, uint64_t state,
                        int32_t block_tokens, uint64_t kv, uint64_t meta, uint64_t weights,
                        tm_memory_estimate *out, tm_err *err)
{
    tm_memory_estimate e;
    memset(&e, 0, sizeof e);
    e.weights_bytes = weights;
    e.kv_bytes = kv;
    uint64_t scratch = 0, session = 0, all = 0;
    if (!tm_add_u64(state, tm_session_record_bytes(p->n_ctx, block_tokens), &scratch) ||
        !tm_mul_u64(scratch, (uint64_t)n_parallel, &all) ||
        !tm_add_u64(all, meta, &e.scratch_bytes) ||
        !tm_add_u64(e.kv_bytes, e.scratch_bytes, &session) ||
        !tm_add_u64(session, e.weights_bytes, &e.total_bytes))
        return tm_fail(err, TM_E_LIMIT, "memory of %d sequences of %d positions overflows",
                       n_parallel, p->n_ctx);
    e.n_ctx = p->n_ctx;
    e.n_batch = p->n_batch;
    e.n_threads = p->n_threads;
    *out = e;
    return TM_OK;
}

tm_status tm_memory_estimate_hparams(const tm_hparams *hp, const tm_session_params *p,
                                     int32_t n_parallel, uint64_t weights_bytes,
                                     tm_memory_estimate *out, tm_err *err)
{
    if (n_parallel < 1)
        return tm_fail(err, TM_E_ARG, "%d parallel sequences: at least 1", n_parallel);
    if (p->n_ctx < 1 || p->n_batch < 1 || p->n_threads < 1 || p->kv_cache)
        return tm_fail(err, TM_E_ARG,
                       "estimate of context %d, batch %d, %d threads: resolved parameters and a "
                       "cache of each session's own are needed",
                       p->n_ctx, p->n_batch, p->n_threads);
    uint64_t state = 0, kv = 0, meta = 0;
    tm_status st = tm_net_state_estimate(hp, p->n_ctx, p->n_batch, p->n_threads, &state, err);
    tm_kv_cache_params cp = tm_session_cache_params(p);
    tm_kv_store plan;
    if (st == TM_OK)
        st = tm_kv_cache_plan_hparams(hp, p->n_ctx, &cp, &plan, err);
    if (st == TM_OK && (!tm_mul_u64(plan.bytes, (uint64_t)n_parallel, &kv) ||
                        !tm_mul_u64(tm_kv_cache_meta_bytes(plan.n_blocks, plan.block_tokens),
                                    (uint64_t)n_parallel, &meta)))
        st = tm_fail(err, TM_E_LIMIT, "KV caches of %d sequences overflow", n_parallel);
    if (st != TM_OK)
        return st;
    return add_up(p, n_parallel, state, plan.block_tokens, kv, meta, weights_bytes, out, err);
}

tm_status tm_memory_estimate_get(const tm_model *model, const tm_session_params *params,
                                 int32_t n_parallel, tm_memory_estimate *out, tm_err *err)
{
    if (n_parallel < 1)
        return tm_fail(err, TM_E_ARG, "%d parallel sequences: at least 1", n_parallel);
    tm_session_params p = tm_session_params_default(); /* resolve writes it on success */
    tm_status st = tm_session_params_resolve(model, params, &p, err);
    if (st != TM_OK)
        return st;
    if (!p.kv_cache) /* caches of their own: what the hyper-parameters alone decide */
        return tm_memory_estimate_hparams(&model->net->hp, &p, n_parallel,
                                          tm_model_weight_bytes(model), out, err);
    /* a shared cache: counted once, as it was made */
    uint64_t state = 0;
    st = tm_net_state_estimate(&model->net->hp, p.n_ctx, p.n_batch, p.n_threads, &state, err);
    if (st != TM_OK)
        return st;
    tm_kv_cache_stats cs;
    tm_kv_cache_stats_get(p.kv_cache, &cs);
    return add_up(&p, n_parallel, state, cs.block_tokens, cs.kv_bytes, cs.meta_bytes,
                  tm_model_weight_bytes(model), out, err);
}
