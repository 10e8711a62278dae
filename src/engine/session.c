/* tm_session: one sequence of one model: its thread pool, KV cache and scratch, the tokens
 * it holds, and how many. Evaluation splits long inputs into batches of n_batch.
 *
 * The token record (one id per position) is what lets a context shift evaluate the kept
 * tokens again at their new positions without asking the caller for them. */
#include "engine.h"

#include <string.h>

#define TM_DEFAULT_CTX 4096 /* when the caller does not say: training contexts reach 128k */

struct tm_session {
    const tm_model *model;
    tm_pool *pool;
    tm_net_state *state;
    tm_token *tokens; /* [n_ctx]: the ids at positions 0 .. n_past - 1 */
    uint64_t tokens_bytes;
    int32_t n_past;
};

tm_session_params tm_session_params_default(void)
{
    tm_session_params p;
    memset(&p, 0, sizeof p);
    p.n_ctx = 0;
    p.n_threads = 0;
    p.n_batch = 512;
    p.kv_type = TM_KV_F16;
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

tm_status tm_session_params_resolve(const tm_model *model, const tm_session_params *params,
                                    tm_session_params *out, tm_err *err)
{
    tm_session_params p = params ? *params : tm_session_params_default();
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return tm_fail(err, TM_E_ARG, "context %d, batch %d and threads %d must not be negative",
                       p.n_ctx, p.n_batch, p.n_threads);
    if (p.n_ctx == 0)
        p.n_ctx = TM_MIN(model->net->hp.n_ctx_train, TM_DEFAULT_CTX);
    if (p.n_batch == 0)
        p.n_batch = 512;
    p.n_batch = TM_MIN(p.n_batch, TM_MAX(p.n_ctx, 1)); /* as the state clamps it */
    p.n_threads = tm_pool_threads_for(p.n_threads);
    *out = p;
    return TM_OK;
}

void tm_session_free(tm_session *s)
{
    if (!s)
        return;
    tm_net_state_free(s->state);
    tm_pool_free(s->pool);
    tm_free(s->tokens);
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
    st = tm_pool_create(p.n_threads, &s->pool, err);
    if (st == TM_OK) {
        tm_net_params np = {.kernels = &model->kernels,
                            .float_activations = model->params.float_activations,
                            .kv_type = (uint32_t)p.kv_type};
        st = tm_net_state_create(model->net, &np, p.n_ctx, p.n_batch, s->pool, &s->state, err);
    }
    if (st == TM_OK) {
        s->tokens_bytes = tm_session_record_bytes(p.n_ctx);
        if (!(s->tokens = tm_malloc((size_t)s->tokens_bytes)))
            st = tm_fail(err, TM_E_NOMEM, "token record of %d positions", p.n_ctx);
    }
    if (st != TM_OK) {
        tm_session_free(s);
        return st;
    }
    *out = s;
    return TM_OK;
}

/* Evaluates the n recorded tokens after n_past, in batches. */
static tm_status forward_recorded(tm_session *s, int32_t n, float *logits, bool all_logits,
                                  tm_err *err)
{
    int32_t n_batch = tm_net_state_n_batch(s->state);
    int32_t n_vocab = s->model->net->hp.n_vocab;
    for (int32_t done = 0; done < n;) {
        int32_t chunk = TM_MIN(n_batch, n - done);
        bool last = done + chunk == n;
        float *out = NULL;
        if (logits && all_logits)
            out = logits + (int64_t)done * n_vocab;
        else if (logits && last)
            out = logits;
        tm_status st = tm_net_forward(s->model->net, s->state, s->tokens + s->n_past, chunk,
                                      s->n_past, out, all_logits, err);
        if (st != TM_OK)
            return st;
        s->n_past += chunk;
        done += chunk;
    }
    return TM_OK;
}

tm_status tm_session_eval(tm_session *s, const tm_token *tokens, int32_t n, float *logits,
                          bool all_logits, tm_err *err)
{
    int32_t n_ctx = tm_net_state_n_ctx(s->state);
    if (n < 0)
        return tm_fail(err, TM_E_ARG, "%d tokens", n);
    if (n > n_ctx - s->n_past)
        return tm_fail(err, TM_E_LIMIT,
                       "%d tokens do not fit: the context holds %d and %d are used", n, n_ctx,
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
    memmove(s->tokens + n_keep, s->tokens + n_keep + n_discard, (size_t)n_rest * sizeof(tm_token));
    /* the kept start stays as it is: causal attention made its keys and values independent
     * of everything after it */
    s->n_past = n_keep;
    return forward_recorded(s, n_rest, NULL, false, err);
}

int32_t tm_session_n_past(const tm_session *s)
{
    return s->n_past;
}

int32_t tm_session_n_ctx(const tm_session *s)
{
    return tm_net_state_n_ctx(s->state);
}

void tm_session_truncate(tm_session *s, int32_t n)
{
    /* the KV cache is indexed by position: entries past n are overwritten by the next eval */
    if (n >= 0 && n < s->n_past)
        s->n_past = n;
}

void tm_session_reset(tm_session *s)
{
    s->n_past = 0;
}

void tm_session_memory(const tm_session *s, tm_memory_estimate *out)
{
    tm_net_state_bytes b = tm_net_state_allocated(s->state);
    memset(out, 0, sizeof *out);
    out->weights_bytes = tm_model_weight_bytes(s->model);
    out->kv_bytes = b.kv;
    out->scratch_bytes = b.scratch + s->tokens_bytes;
    out->total_bytes = out->weights_bytes + out->kv_bytes + out->scratch_bytes;
    out->n_ctx = tm_net_state_n_ctx(s->state);
    out->n_batch = tm_net_state_n_batch(s->state);
    out->n_threads = tm_pool_size(s->pool);
}
