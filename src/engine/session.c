/* tm_session: one sequence of one model: its thread pool and scratch, the tokens it holds
 * and its block table into a KV cache (its own, or one shared with other sessions).
 * Evaluation first takes what the cache already holds of the prompt (prefix reuse), then
 * computes the rest in batches of n_batch.
 *
 * The token record (one id per position) is what lets a context shift evaluate the kept
 * tokens again at their new positions without asking the caller for them, and what keys the
 * blocks for reuse. */
#include "engine.h"

#include <string.h>

int32_t tm_session_default_ctx(const tm_model *model)
{
    return TM_MIN(model->net->hp.n_ctx_train, TM_DEFAULT_CTX);
}

tm_session_params tm_session_params_default(void)
{
    tm_session_params p;
    memset(&p, 0, sizeof p);
    p.n_ctx = 0;
    p.n_threads = 0;
    p.n_batch = 512;
    p.kv_type = TM_KV_F16;
    p.kv_type_v = TM_KV_SAME;
    return p;
}

bool tm_kv_type_parse(const char *name, tm_kv_type *out)
{
    if (strcmp(name, "f16") == 0)
        *out = TM_KV_F16;
    else if (strcmp(name, "f32") == 0)
        *out = TM_KV_F32;
    else if (strcmp(name, "q8_0") == 0)
        *out = TM_KV_Q8_0;
    else if (strcmp(name, "q4_0") == 0)
        *out = TM_KV_Q4_0;
    else
        return false;
    return true;
}

const char *tm_kv_type_name(tm_kv_type type)
{
    switch (type) {
    case TM_KV_F32:
        return "f32";
    case TM_KV_F16:
        return "f16";
    case TM_KV_Q8_0:
        return "q8_0";
    case TM_KV_Q4_0:
        return "q4_0";
    default:
        return "?";
    }
}

tm_status tm_session_params_resolve(const tm_model *model, const tm_session_params *params,
                                    tm_session_params *out, tm_err *err)
{
    tm_session_params p = params ? *params : tm_session_params_default();
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return tm_fail(err, TM_E_ARG, "context %d, batch %d and threads %d must not be negative",
                       p.n_ctx, p.n_batch, p.n_threads);
    if (p.n_ctx == 0)
        p.n_ctx = tm_session_default_ctx(model);
    if (p.kv_cache && tm_kv_cache_model(p.kv_cache) != model)
        return tm_fail(err, TM_E_ARG, "the KV cache belongs to another model");
    if (p.n_batch == 0)
        p.n_batch = 512;
    p.n_batch = TM_MIN(p.n_batch, TM_MAX(p.n_ctx, 1)); /* as the state clamps it */
    p.n_threads = tm_pool_threads_for(p.n_threads);
    *out = p;
    return TM_OK;
}

/* The parameters of a session's own cache: exactly its context. */
tm_kv_cache_params tm_session_cache_params(const tm_session_params *p)
{
    tm_kv_cache_params cp = tm_kv_cache_params_default();
    cp.type_k = p->kv_type;
    cp.type_v = p->kv_type_v;
    cp.n_ctx = p->n_ctx;
    cp.n_parallel = 1;
    return cp;
}

void tm_session_free(tm_session *s)
{
    if (!s)
        return;
    if (s->cache && s->seq.blocks)
        tm_kv_seq_release(s->cache, &s->seq, s->tokens, s->n_past, 0);
    if (s->own_cache)
        tm_kv_cache_free(s->cache);
    tm_net_state_free(s->state);
    tm_pool_free(s->pool);
    tm_free(s->tokens);
    tm_free(s->seq.blocks);
    tm_free(s->seq.keys);
    tm_free(s);
}

tm_status tm_session_create(const tm_model *model, const tm_session_params *params,
                            tm_session **out, tm_err *err)
{
    tm_session_params p = tm_session_params_default(); /* resolve writes it on success */
    tm_status st = tm_session_params_resolve(model, params, &p, err);
    if (st != TM_OK)
        return st;
    tm_session *s = tm_calloc(1, sizeof *s);
    if (!s)
        return tm_fail(err, TM_E_NOMEM, "session");
    s->model = model;
    s->n_ctx = p.n_ctx;
    if (p.kv_cache) {
        s->cache = p.kv_cache;
    } else {
        tm_kv_cache_params cp = tm_session_cache_params(&p);
        st = tm_kv_cache_create(model, &cp, &s->cache, err);
        s->own_cache = st == TM_OK;
    }
    if (st == TM_OK)
        st = tm_pool_create(p.n_threads, &s->pool, err);
    if (st == TM_OK) {
        tm_net_params np = {.kernels = &model->kernels,
                            .float_activations = model->params.float_activations};
        st = tm_net_state_create(model->net, &np, p.n_ctx, p.n_batch, s->pool, &s->state, err);
    }
    if (st == TM_OK) {
        int32_t bt = tm_kv_cache_block_tokens(s->cache);
        s->record_bytes = tm_session_record_bytes(p.n_ctx, bt);
        s->seq.max_blocks = (int32_t)(((int64_t)p.n_ctx + bt - 1) / bt);
        s->tokens = tm_malloc((size_t)p.n_ctx * sizeof *s->tokens);
        s->seq.blocks = tm_malloc((size_t)s->seq.max_blocks * sizeof *s->seq.blocks);
        s->seq.keys = tm_malloc((size_t)s->seq.max_blocks * sizeof *s->seq.keys);
        if (!s->tokens || !s->seq.blocks || !s->seq.keys)
            st = tm_fail(err, TM_E_NOMEM, "token record of %d positions", p.n_ctx);
    }
    if (st != TM_OK) {
        tm_session_free(s);
        return st;
    }
    *out = s;
    return TM_OK;
}

/* Evaluates the n recorded tokens after n_past: what the cache holds of them is taken from it
 * (all but the last token, whose logits are computed), the rest in batches. On failure the
 * session holds the positions it held before. */
static tm_status forward_recorded(tm_session *s, int32_t n, float *logits, bool all_logits,
                                  tm_err *err)
{
    int32_t start = s->n_past, end = s->n_past + n;
    s->n_reused = 0;
    if (n == 0)
        return TM_OK;
    if (!all_logits) { /* reused positions have no logits to give */
        s->n_past = tm_kv_seq_attach(s->cache, &s->seq, s->tokens, s->n_past, end - 1);
        s->n_reused = s->n_past - start;
    }
    tm_status st = tm_kv_seq_reserve(s->cache, &s->seq, s->n_past, end, err);
    if (st != TM_OK) {
        tm_kv_seq_release(s->cache, &s->seq, s->tokens, s->n_past, start);
        s->n_past = start;
        s->n_reused = 0;
        return st;
    }
    tm_kv_store *kv = tm_kv_cache_store(s->cache);
    int32_t n_batch = tm_net_state_n_batch(s->state);
    int32_t n_vocab = s->model->net->hp.n_vocab;
    int32_t first = s->n_past;
    while (s->n_past < end) {
        int32_t chunk = TM_MIN(n_batch, end - s->n_past);
        bool last = s->n_past + chunk == end;
        float *out = NULL;
        if (logits && all_logits)
            out = logits + (int64_t)(s->n_past - start) * n_vocab;
        else if (logits && last)
            out = logits;
        st = tm_net_forward(s->model->net, s->state, kv, s->seq.blocks, s->tokens + s->n_past,
                            chunk, s->n_past, out, all_logits, err);
        if (st != TM_OK)
            break;
        s->n_past += chunk;
    }
    tm_kv_seq_seal(s->cache, &s->seq, s->tokens, first, s->n_past);
    return st;
}

tm_status tm_session_eval(tm_session *s, const tm_token *tokens, int32_t n, float *logits,
                          bool all_logits, tm_err *err)
{
    if (n < 0)
        return tm_fail(err, TM_E_ARG, "%d tokens", n);
    if (n > s->n_ctx - s->n_past)
        return tm_fail(err, TM_E_LIMIT,
                       "%d tokens do not fit: the context holds %d and %d are used", n, s->n_ctx,
                       s->n_past);
    memcpy(s->tokens + s->n_past, tokens, (size_t)n * sizeof *tokens);
    return forward_recorded(s, n, logits, all_logits, err);
}

tm_status tm_session_shift(tm_session *s, int32_t n_keep, int32_t n_discard, tm_err *err)
{
    if (n_keep < 0 || n_discard < 0 || n_keep > s->n_past - n_discard)
        return tm_fail(err, TM_E_ARG,
                       "a shift keeping %d tokens and discarding %d of a sequence of %d", n_keep,
                       n_discard, s->n_past);
    if (n_discard == 0)
        return TM_OK;
    int32_t n_rest = s->n_past - n_keep - n_discard;
    /* the kept start stays as it is: causal attention made its keys and values independent
     * of everything after it; the blocks after it go back to the cache while the record
     * still names their tokens */
    tm_kv_seq_release(s->cache, &s->seq, s->tokens, s->n_past, n_keep);
    memmove(s->tokens + n_keep, s->tokens + n_keep + n_discard, (size_t)n_rest * sizeof(tm_token));
    s->n_past = n_keep;
    return forward_recorded(s, n_rest, NULL, false, err);
}

int32_t tm_session_n_past(const tm_session *s)
{
    return s->n_past;
}

const tm_token *tm_session_tokens(const tm_session *s)
{
    return s->tokens;
}

tm_kv_cache *tm_session_kv_cache(tm_session *s)
{
    return s->cache;
}

int32_t tm_session_n_reused(const tm_session *s)
{
    return s->n_reused;
}

int32_t tm_session_n_ctx(const tm_session *s)
{
    return s->n_ctx;
}

void tm_session_truncate(tm_session *s, int32_t n)
{
    if (n >= 0 && n < s->n_past) {
        tm_kv_seq_release(s->cache, &s->seq, s->tokens, s->n_past, n);
        s->n_past = n;
    }
}

void tm_session_reset(tm_session *s)
{
    tm_session_truncate(s, 0);
}

void tm_session_memory(const tm_session *s, tm_memory_estimate *out)
{
    tm_kv_cache_stats cs;
    tm_kv_cache_stats_get(s->cache, &cs);
    memset(out, 0, sizeof *out);
    out->weights_bytes = tm_model_weight_bytes(s->model);
    out->kv_bytes = cs.kv_bytes;
    out->scratch_bytes = tm_net_state_allocated(s->state) + s->record_bytes + cs.meta_bytes;
    out->total_bytes = out->weights_bytes + out->kv_bytes + out->scratch_bytes;
    out->n_ctx = s->n_ctx;
    out->n_batch = tm_net_state_n_batch(s->state);
    out->n_threads = tm_pool_size(s->pool);
}
