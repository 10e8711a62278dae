/* Context shift (tm_session_shift in src/engine/session.c): after a shift the session
 * predicts what a fresh session given only the remaining tokens predicts, on a dense model,
 * a sliding-window one and a quantized one; the same shift twice gives identical logits;
 * bad arguments are errors that leave the session as it was; a session whose creation runs
 * out of memory at any allocation fails cleanly. */
#include "test.h"

#include "temoto.h"

#define N_CTX  64
#define N_FILL 60

typedef struct fixture {
    tm_model *model;
    int32_t n_vocab;
    tm_token ids[N_FILL];
} fixture;

/* float_activations: quantized weights times float activations, a product whose numbers do
 * not depend on how tokens are batched (the AMX table takes BF16 activations for batches of
 * 16 tokens and more and Q8 ones below: a shift re-evaluates in other batches than a fresh
 * evaluation, and the two formats round differently) */
static bool fixture_load(fixture *f, const char *relative, bool float_activations)
{
    tm_err err = {0};
    memset(f, 0, sizeof *f);
    tm_model_params mp = tm_model_params_default();
    mp.float_activations = float_activations;
    TM_CHECK_OK(tm_model_load(tm_test_data(relative), &mp, &f->model, &err), &err);
    if (!f->model)
        return false;
    f->n_vocab = tm_model_n_vocab(f->model);
    tm_rng rng;
    tm_rng_seed(&rng, 5);
    for (int i = 0; i < N_FILL; i++)
        f->ids[i] = (tm_token)(tm_rng_next(&rng) % (uint64_t)(f->n_vocab - 3)) + 3;
    return true;
}

static tm_session *open_session(const fixture *f, tm_kv_type kv)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = N_CTX;
    sp.n_batch = 16; /* the re-evaluation spans several batches */
    sp.n_threads = 2;
    sp.kv_type = kv;
    tm_session *s = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_session_create(f->model, &sp, &s, &err), &err);
    return s;
}

/* Fills a session with N_FILL tokens, shifts (keep, discard), then evaluates one more token:
 * its logits go to out. */
static void shifted(const fixture *f, tm_kv_type kv, int32_t keep, int32_t discard, float *out)
{
    tm_err err = {0};
    tm_session *s = open_session(f, kv);
    if (!s)
        return;
    TM_CHECK_OK(tm_session_eval(s, f->ids, N_FILL, NULL, false, &err), &err);
    TM_CHECK_OK(tm_session_shift(s, keep, discard, &err), &err);
    TM_CHECK_EQ_INT(tm_session_n_past(s), N_FILL - discard);
    TM_CHECK_OK(tm_session_eval(s, &f->ids[7], 1, out, false, &err), &err);
    tm_session_free(s);
}

/* The same prediction from a fresh session given the kept tokens only. */
static void fresh(const fixture *f, tm_kv_type kv, int32_t keep, int32_t discard, float *out)
{
    tm_err err = {0};
    tm_session *s = open_session(f, kv);
    if (!s)
        return;
    tm_token kept[N_FILL];
    int32_t n = 0;
    for (int32_t i = 0; i < N_FILL; i++)
        if (i < keep || i >= keep + discard)
            kept[n++] = f->ids[i];
    TM_CHECK_OK(tm_session_eval(s, kept, n, NULL, false, &err), &err);
    TM_CHECK_OK(tm_session_eval(s, &f->ids[7], 1, out, false, &err), &err);
    tm_session_free(s);
}

static double max_abs_diff(const float *a, const float *b, int32_t n)
{
    double m = 0;
    for (int32_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

/* tol: how far a fresh evaluation may differ */
static void check_model(const char *relative, tm_kv_type kv, bool float_activations, double tol)
{
    fixture f;
    if (!fixture_load(&f, relative, float_activations))
        return;
    size_t bytes = (size_t)f.n_vocab * sizeof(float);
    float *a = tm_malloc(bytes), *b = tm_malloc(bytes), *c = tm_malloc(bytes);
    const int32_t shapes[][2] = {{1, 29}, {0, 30}, {5, 20}, {10, 50}};
    for (size_t i = 0; i < TM_ARRAY_LEN(shapes); i++) {
        int32_t keep = shapes[i][0], discard = shapes[i][1];
        shifted(&f, kv, keep, discard, a);
        shifted(&f, kv, keep, discard, b);
        fresh(&f, kv, keep, discard, c);
        TM_CHECK_MSG(memcmp(a, b, bytes) == 0, "%s keep %d discard %d: two shifts differ", relative,
                     keep, discard);
        double d = max_abs_diff(a, c, f.n_vocab);
        fprintf(stderr, "  %-40s keep %2d discard %2d: max |shifted - fresh| %.3g\n", relative,
                keep, discard, d);
        TM_CHECK_MSG(d <= tol, "%s keep %d discard %d: shifted and fresh differ by %.3g > %.3g",
                     relative, keep, discard, d, tol);
    }
    tm_free(a);
    tm_free(b);
    tm_free(c);
    tm_model_free(f.model);
}

static void test_shift_equals_fresh_evaluation(void)
{
    check_model("models/stories260K-f32.v3.gguf", TM_KV_F32, false, 0);
    check_model("models/synthetic/llama-f32.gguf", TM_KV_F16, false, 0);
    check_model("models/synthetic/gemma3-f32.gguf", TM_KV_F32, false, 0);
    check_model("models/synthetic/llama-q4_0.gguf", TM_KV_F16, true, 0);
}

static void test_bad_shifts_change_nothing(void)
{
    fixture f;
    if (!fixture_load(&f, "models/stories260K-f32.v3.gguf", false))
        return;
    tm_session *s = open_session(&f, TM_KV_F32);
    tm_err err = {0};
    if (s) {
        TM_CHECK_OK(tm_session_eval(s, f.ids, 20, NULL, false, &err), &err);
        TM_CHECK_STATUS(tm_session_shift(s, 10, 11, &err), TM_E_ARG, &err);
        TM_CHECK_STATUS(tm_session_shift(s, -1, 4, &err), TM_E_ARG, &err);
        TM_CHECK_STATUS(tm_session_shift(s, 4, -1, &err), TM_E_ARG, &err);
        TM_CHECK_EQ_INT(tm_session_n_past(s), 20);
        TM_CHECK_OK(tm_session_shift(s, 3, 0, &err), &err); /* nothing to drop */
        TM_CHECK_EQ_INT(tm_session_n_past(s), 20);
        TM_CHECK_OK(tm_session_shift(s, 0, 20, &err), &err); /* everything */
        TM_CHECK_EQ_INT(tm_session_n_past(s), 0);
    }
    tm_session_free(s);
    tm_model_free(f.model);
}

/* Every allocation of session creation failing in turn: TM_E_NOMEM, nothing leaked (the
 * ASan build checks), and the estimate is unaffected. */
static void test_create_fails_cleanly(void)
{
    fixture f;
    if (!fixture_load(&f, "models/synthetic/qwen2moe-f32.gguf", false))
        return;
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = 32;
    sp.n_threads = 2;
    tm_status st = TM_E_NOMEM;
    long n = 0;
    for (; st == TM_E_NOMEM && n < 200; n++) {
        tm_session *s = NULL;
        tm_err err = {0};
        tm_alloc_fail_after(n);
        st = tm_session_create(f.model, &sp, &s, &err);
        tm_alloc_fail_after(-1);
        TM_CHECK_MSG(st == TM_OK || st == TM_E_NOMEM, "allocation %ld failing: %s: %s", n,
                     tm_status_str(st), err.msg);
        TM_CHECK(st == TM_OK ? s != NULL : s == NULL);
        tm_session_free(s);
    }
    TM_CHECK_EQ_INT(st, TM_OK);
    TM_CHECK(n > 20); /* the state's buffers, the pool, the token record each failed once */
    tm_model_free(f.model);
}

int main(void)
{
    TM_RUN(test_shift_equals_fresh_evaluation);
    TM_RUN(test_bad_shifts_change_nothing);
    TM_RUN(test_create_fails_cleanly);
    return tm_test_result();
}
