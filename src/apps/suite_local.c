/* The suite's in-process backend: the engine through the public API, as an application
 * embedding libtemoto would use it. A request is the user message rendered by the model's
 * chat template (the raw message, with BOS, when the model has none), tokenized, evaluated
 * as one prompt, then one token at a time until an end-of-generation token or max_tokens.
 *
 * Two KV caches: one without prefix reuse, where every request computes its whole prompt
 * (what the latency classes and the tasks measure), and one with it, for the prefix test.
 * Each gets one session, made by reserve() before anything is timed, so no request pays
 * for allocating its context. The clock starts before rendering: the template and the
 * tokenizer are part of what a user waits for, as they are in a server. */
#include "suite.h"

#include "engine/engine.h"

#include <string.h>

typedef struct local {
    const suite_args *a;
    tm_model *model;
    tm_kv_cache *cache[2]; /* [prefix_cache] */
    tm_session *session[2];
    float *logits;
} local;

static void local_free(void *self)
{
    local *l = self;
    if (!l)
        return;
    for (int i = 0; i < 2; i++) {
        tm_session_free(l->session[i]);
        tm_kv_cache_free(l->cache[i]);
    }
    tm_free(l->logits);
    tm_model_free(l->model);
    tm_free(l);
}

/* The prompt's text: the template's rendering, or NULL (*raw) when the model has none. */
static tm_status render(local *l, const char *user, size_t len, char **out, size_t *n_out,
                        tm_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (!tm_model_chat_template(l->model))
        return TM_OK;
    tm_buf ctx;
    tm_buf_init(&ctx, len * 2 + 4096);
    tm_status st = tm_buf_printf(&ctx, err,
                                 "{\"add_generation_prompt\": true, \"messages\": "
                                 "[{\"role\": \"user\", \"content\": ");
    if (st == TM_OK)
        st = tm_buf_append_json_string(&ctx, user, len, err);
    if (st == TM_OK)
        st = tm_buf_append(&ctx, "}]}", 3, err);
    size_t cap = len + 4096, n = 0;
    char *text = NULL;
    for (int attempt = 0; st == TM_OK && attempt < 2; attempt++) {
        tm_free(text);
        if (!(text = tm_malloc(cap))) {
            st = tm_fail(err, TM_E_NOMEM, "prompt of %zu bytes", cap);
            break;
        }
        st = tm_chat_render(l->model, NULL, ctx.data, ctx.len, text, cap, &n, err);
        if (st != TM_E_LIMIT || n <= cap)
            break;
        cap = n; /* the exact size, once */
        st = TM_OK;
    }
    tm_buf_fini(&ctx);
    if (st != TM_OK) {
        tm_free(text);
        tm_err_context(err, "rendering the chat template");
        return st;
    }
    *out = text;
    *n_out = n;
    return TM_OK;
}

/* The prompt's tokens (*ids, caller frees). A rendered template's special tokens are
 * parsed, and BOS goes in front when the vocabulary wants it and the template did not
 * write it (as temoto chat does); a raw message gets the vocabulary's BOS. */
static tm_status prompt_ids(local *l, const char *user, size_t len, tm_token **ids, int32_t *n_ids,
                            tm_err *err)
{
    char *text = NULL;
    size_t n = 0;
    tm_status st = render(l, user, len, &text, &n, err);
    if (st != TM_OK)
        return st;
    bool templated = text != NULL;
    const char *src = templated ? text : user;
    size_t src_len = templated ? n : len;
    tm_token bos = tm_model_bos(l->model);
    bool add_bos = false;
    if (templated && tm_model_add_bos(l->model) && bos >= 0) {
        char piece[256];
        int32_t m = tm_token_to_piece(l->model, bos, true, piece, sizeof piece);
        add_bos = !(m > 0 && (size_t)m <= n && memcmp(text, piece, (size_t)m) == 0);
    }
    int32_t cap = (int32_t)TM_MIN(src_len + 8, (size_t)INT32_MAX / 8), count = 0;
    tm_token *out = tm_malloc((size_t)cap * sizeof *out);
    if (!out)
        st = tm_fail(err, TM_E_NOMEM, "prompt of %zu bytes", src_len);
    if (st == TM_OK && add_bos)
        out[0] = bos;
    if (st == TM_OK)
        st = tm_tokenize(l->model, src, src_len, !templated, templated, out + add_bos,
                         cap - add_bos, &count, err);
    tm_free(text);
    if (st != TM_OK) {
        tm_free(out);
        return st;
    }
    *ids = out;
    *n_ids = count + add_bos;
    return TM_OK;
}

static int32_t local_count_tokens(void *self, const char *user, size_t len)
{
    tm_token *ids = NULL;
    int32_t n = 0;
    if (prompt_ids(self, user, len, &ids, &n, NULL) != TM_OK)
        return -1;
    tm_free(ids);
    return n;
}

static tm_status local_reserve(void *self, int32_t n_ctx, bool prefix_cache, tm_err *err)
{
    local *l = self;
    int k = prefix_cache;
    tm_session_free(l->session[k]);
    tm_kv_cache_free(l->cache[k]);
    l->session[k] = NULL;
    l->cache[k] = NULL;
    tm_kv_cache_params cp = tm_kv_cache_params_default();
    cp.type_k = l->a->kv_type;
    cp.n_ctx = n_ctx;
    cp.n_parallel = 1;
    cp.prefix_reuse = prefix_cache;
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = n_ctx;
    sp.n_threads = (int32_t)l->a->n_threads;
    tm_status st = tm_kv_cache_create(l->model, &cp, &l->cache[k], err);
    sp.kv_cache = l->cache[k];
    if (st == TM_OK)
        st = tm_session_create(l->model, &sp, &l->session[k], err);
    return st;
}

static double ms_between(int64_t t0, int64_t t1)
{
    return (double)(t1 - t0) / 1e3;
}

static tm_status local_complete(void *self, const suite_request *rq, suite_reply *out, tm_err *err)
{
    local *l = self;
    tm_session *s = l->session[rq->prefix_cache];
    if (!s)
        return tm_fail(err, TM_E_INTERNAL, "no session reserved for this request");
    tm_sampler_params smp = tm_sampler_params_default();
    smp.temperature = (float)l->a->temperature;
    smp.top_p = (float)l->a->top_p;
    smp.top_k = 0; /* only what the OpenAI API carries: temperature and top_p */
    smp.min_p = 0;
    smp.seed = rq->seed;
    tm_sampler *sampler = NULL;
    tm_status st = tm_sampler_create(&smp, tm_model_n_vocab(l->model), &sampler, err);
    if (st != TM_OK)
        return st;
    tm_session_reset(s);
    int64_t t0 = tm_time_us();
    tm_token *ids = NULL;
    int32_t n = 0, n_ctx = tm_session_n_ctx(s);
    st = prompt_ids(l, rq->user, rq->user_len, &ids, &n, err);
    if (st == TM_OK && (int64_t)n + rq->max_tokens > n_ctx)
        st = tm_fail(err, TM_E_LIMIT,
                     "a prompt of %d tokens and %d new ones do not fit the context of %d", n,
                     rq->max_tokens, n_ctx);
    int64_t tp0 = tm_time_us();
    if (st == TM_OK)
        st = tm_session_eval(s, ids, n, l->logits, false, err);
    int64_t tp1 = tm_time_us(), t_first = 0;
    int32_t n_gen = 0, n_decode = 0, n_reused = tm_session_n_reused(s); /* of the prompt */
    char piece[256];
    for (int32_t k = 0; st == TM_OK && k < rq->max_tokens; k++) {
        tm_token tok = tm_sampler_sample(sampler, l->logits);
        if (k == 0)
            t_first = tm_time_us();
        if (tm_token_is_eog(l->model, tok))
            break;
        n_gen++;
        int32_t m = tm_token_to_piece(l->model, tok, false, piece, (int32_t)sizeof piece);
        if (m > 0)
            st = tm_buf_append(&out->text, piece, (size_t)TM_MIN(m, (int32_t)sizeof piece), err);
        if (st == TM_OK && k + 1 < rq->max_tokens) {
            st = tm_session_eval(s, &tok, 1, l->logits, false, err);
            n_decode++;
        }
    }
    int64_t t_end = tm_time_us();
    if (st == TM_OK) {
        suite_sample *x = &out->s;
        x->n_prompt = n;
        x->n_gen = n_gen;
        x->n_reused = n_reused;
        x->n_prompt_exact = x->n_gen_exact = true;
        x->ttft_ms = ms_between(t0, t_first);
        x->e2e_ms = ms_between(t0, t_end);
        x->prompt_tps = tp1 > tp0 ? (n - x->n_reused) / ((double)(tp1 - tp0) / 1e6) : -1;
        x->gen_tps =
            n_decode > 0 && t_end > t_first ? n_decode / ((double)(t_end - t_first) / 1e6) : -1;
    }
    tm_free(ids);
    tm_sampler_free(sampler);
    return st;
}

tm_status suite_local_create(const suite_args *a, suite_results *r, suite_backend *out, tm_err *err)
{
    local *l = tm_calloc(1, sizeof *l);
    if (!l)
        return tm_fail(err, TM_E_NOMEM, "suite backend");
    l->a = a;
    tm_model_params mp = tm_model_params_default();
    int64_t t0 = tm_time_us();
    tm_status st = tm_model_load(a->model_path, &mp, &l->model, err);
    r->load_ms = ms_between(t0, tm_time_us());
    if (st == TM_OK && !(l->logits = tm_malloc((size_t)tm_model_n_vocab(l->model) * sizeof(float))))
        st = tm_fail(err, TM_E_NOMEM, "logits");
    if (st != TM_OK) {
        local_free(l);
        return st;
    }
    suite_log_model(&r->log, a->model_path, l->model);
    int32_t train = tm_model_n_ctx_train(l->model);
    *out = (suite_backend){
        .self = l,
        .kind = "in-process",
        .complete = local_complete,
        .count_tokens = local_count_tokens,
        .reserve = local_reserve,
        .free = local_free,
        .n_ctx = a->n_ctx > 0 ? (int32_t)a->n_ctx
                 : train > 0  ? train
                              : TM_DEFAULT_CTX,
    };
    return TM_OK;
}
