/* Memory accounting (src/engine/memory.c): for several models and session parameters the
 * estimate, computed without allocating, equals what a session then allocates (counted
 * buffer by buffer as it allocates), exactly; n_parallel sessions take n times the KV and
 * scratch of one; the KV figure is the plain formula layers x positions x (key + value
 * widths) x element bytes, positions rounded up to whole blocks of 32, since every layer,
 * sliding-window ones too, caches the whole context today. */
#include "test.h"

#include "engine/engine.h"

typedef struct combo {
    int32_t n_ctx, n_batch, n_threads;
    tm_kv_type kv;
} combo;

static const combo g_combos[] = {
    {0, 0, 1, TM_KV_F16}, /* the defaults: the model's context (at most 4096), batch 512 */
    {1, 1, 1, TM_KV_F32}, /* the smallest */
    {64, 32, 2, TM_KV_F16}, {300, 512, 3, TM_KV_F32}, /* batch above the context: clamped */
    {129, 7, 2, TM_KV_F16},
};

static void check_combo(const char *relative, const tm_model *model, const combo *c)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = c->n_ctx;
    sp.n_batch = c->n_batch;
    sp.n_threads = c->n_threads;
    sp.kv_type = c->kv;
    tm_err err = {0};
    tm_memory_estimate want, got, three;
    memset(&want, 0, sizeof want);
    memset(&three, 0, sizeof three);
    TM_CHECK_OK(tm_memory_estimate_get(model, &sp, 1, &want, &err), &err);
    TM_CHECK_OK(tm_memory_estimate_get(model, &sp, 3, &three, &err), &err);
    tm_session *s = NULL;
    TM_CHECK_OK(tm_session_create(model, &sp, &s, &err), &err);
    if (!s)
        return;
    tm_session_memory(s, &got);
    fprintf(stderr,
            "  %-36s ctx %4d batch %3d threads %d %s: kv %9llu scratch %9llu (estimate %s)\n",
            relative, got.n_ctx, got.n_batch, got.n_threads,
            c->kv == TM_KV_F16    ? "f16"
            : c->kv == TM_KV_Q8_0 ? "q8_0"
            : c->kv == TM_KV_Q4_0 ? "q4_0"
                                  : "f32",
            (unsigned long long)got.kv_bytes, (unsigned long long)got.scratch_bytes,
            got.kv_bytes == want.kv_bytes && got.scratch_bytes == want.scratch_bytes ? "equal"
                                                                                     : "DIFFERS");
    TM_CHECK_EQ_INT(want.weights_bytes, got.weights_bytes);
    TM_CHECK_EQ_INT(want.kv_bytes, got.kv_bytes);
    TM_CHECK_EQ_INT(want.scratch_bytes, got.scratch_bytes);
    TM_CHECK_EQ_INT(want.total_bytes, got.total_bytes);
    TM_CHECK_EQ_INT(want.n_ctx, got.n_ctx);
    TM_CHECK_EQ_INT(want.n_batch, got.n_batch);
    TM_CHECK_EQ_INT(want.n_threads, got.n_threads);
    TM_CHECK_EQ_INT(got.weights_bytes, tm_model_weight_bytes(model));
    TM_CHECK_EQ_INT(got.total_bytes, got.weights_bytes + got.kv_bytes + got.scratch_bytes);
    /* the plain formula */
    const tm_hparams *hp = &tm_model_net(model)->hp;
    uint64_t elem = c->kv == TM_KV_F16 ? 2 : 4;
    uint64_t positions = ((uint64_t)got.n_ctx + 31) / 32 * 32;
    uint64_t values = (uint64_t)hp->n_layer * positions * (uint64_t)hp->n_head_kv *
                      (uint64_t)(hp->head_dim + hp->head_dim_v);
    TM_CHECK_EQ_INT(got.kv_bytes, c->kv == TM_KV_Q8_0   ? values / 32 * 34
                                  : c->kv == TM_KV_Q4_0 ? values / 32 * 18
                                                        : values * elem);
    /* n_parallel: KV and scratch per session, weights once */
    TM_CHECK_EQ_INT(three.kv_bytes, 3 * want.kv_bytes);
    TM_CHECK_EQ_INT(three.scratch_bytes, 3 * want.scratch_bytes);
    TM_CHECK_EQ_INT(three.weights_bytes, want.weights_bytes);
    TM_CHECK_EQ_INT(three.total_bytes,
                    want.weights_bytes + 3 * (want.kv_bytes + want.scratch_bytes));
    /* the session it describes works */
    tm_token ids[2] = {1, 2};
    int32_t n = TM_MIN(2, got.n_ctx);
    TM_CHECK_OK(tm_session_eval(s, ids, n, NULL, false, &err), &err);
    tm_session_free(s);
}

static void test_estimate_equals_allocation(void)
{
    const char *models[] = {
        "models/stories260K-f32.v3.gguf",     "models/synthetic/llama-f32.gguf",
        "models/synthetic/llama-q4_0.gguf",   /* packed weights: GEMM activation scratch */
        "models/synthetic/llama-q4_k_m.gguf", /* Q8_K activations */
        "models/synthetic/gemma3-f32.gguf",   /* sliding-window layers */
        "models/synthetic/qwen2moe-f32.gguf", /* expert buffers */
    };
    for (size_t m = 0; m < TM_ARRAY_LEN(models); m++) {
        tm_model *model = NULL;
        tm_err err = {0};
        TM_CHECK_OK(tm_model_load(tm_test_data(models[m]), NULL, &model, &err), &err);
        if (!model)
            continue;
        for (size_t i = 0; i < TM_ARRAY_LEN(g_combos); i++)
            check_combo(models[m], model, &g_combos[i]);
        tm_model_free(model);
    }
}

static void test_default_threads_resolve_like_the_pool(void)
{
    tm_model *model = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_model_load(tm_test_data("models/stories260K-f32.v3.gguf"), NULL, &model, &err),
                &err);
    if (!model)
        return;
    tm_memory_estimate e;
    TM_CHECK_OK(tm_memory_estimate_get(model, NULL, 1, &e, &err), &err);
    TM_CHECK(e.n_threads >= 1);
    TM_CHECK_EQ_INT(e.n_ctx, TM_MIN(tm_model_n_ctx_train(model), 4096));
    tm_session *s = NULL;
    TM_CHECK_OK(tm_session_create(model, NULL, &s, &err), &err);
    if (s) {
        tm_memory_estimate got;
        tm_session_memory(s, &got);
        TM_CHECK_EQ_INT(got.n_threads, e.n_threads);
        TM_CHECK_EQ_INT(got.scratch_bytes, e.scratch_bytes);
        TM_CHECK_EQ_INT(got.kv_bytes, e.kv_bytes);
    }
    tm_session_free(s);
    tm_model_free(model);
}

static void test_refusals_match_the_session(void)
{
    tm_model *model = NULL;
    tm_err err = {0}, err2 = {0};
    TM_CHECK_OK(tm_model_load(tm_test_data("models/stories260K-f32.v3.gguf"), NULL, &model, &err),
                &err);
    if (!model)
        return;
    tm_memory_estimate e;
    memset(&e, 0, sizeof e);
    TM_CHECK_STATUS(tm_memory_estimate_get(model, NULL, 0, &e, &err), TM_E_ARG, &err);
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = -5;
    tm_session *s = NULL;
    TM_CHECK_STATUS(tm_memory_estimate_get(model, &sp, 1, &e, &err), TM_E_ARG, &err);
    TM_CHECK_STATUS(tm_session_create(model, &sp, &s, &err2), TM_E_ARG, &err2);
    TM_CHECK_EQ_STR(err.msg, err2.msg);
    sp = tm_session_params_default();
    sp.kv_type = TM_KV_Q8_0; /* stories260K's heads of 8 values are not whole Q8_0 blocks */
    TM_CHECK_STATUS(tm_memory_estimate_get(model, &sp, 1, &e, &err), TM_E_UNSUPPORTED, &err);
    TM_CHECK_STATUS(tm_session_create(model, &sp, &s, &err2), TM_E_UNSUPPORTED, &err2);
    TM_CHECK_EQ_STR(err.msg, err2.msg);
    TM_CHECK_EQ_INT(e.total_bytes, 0); /* untouched */
    tm_model_free(model);
}

/* Block caches: Q8_0 34 bytes per 32 values, Q4_0 18, estimated as allocated. */
static void test_block_caches(void)
{
    static const char *models[] = {"models/synthetic/llama-f32.gguf",
                                   "models/synthetic/llama-q4_0.gguf"};
    static const combo combos[] = {
        {128, 32, 2, TM_KV_Q8_0}, {0, 0, 1, TM_KV_Q8_0}, {96, 16, 2, TM_KV_Q4_0}};
    for (size_t i = 0; i < TM_ARRAY_LEN(models); i++) {
        tm_model *model = NULL;
        tm_err err = {0};
        TM_CHECK_OK(tm_model_load(tm_test_data(models[i]), NULL, &model, &err), &err);
        if (!model)
            continue;
        for (size_t c = 0; c < TM_ARRAY_LEN(combos); c++)
            check_combo(models[i], model, &combos[c]);
        tm_model_free(model);
    }
}

int main(void)
{
    TM_RUN(test_estimate_equals_allocation);
    TM_RUN(test_block_caches);
    TM_RUN(test_default_threads_resolve_like_the_pool);
    TM_RUN(test_refusals_match_the_session);
    return tm_test_result();
}
