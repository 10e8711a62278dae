/* The planner's formulas (src/engine/plan.c, plan_tables.c, plan_tiers.c): the published
 * reference figures come out exactly (weights x 1.10 in GiB to 0.1; nominal KV of the Llama 3
 * 8B shape), the engine's real KV sizes differ from the nominal ones as they should, a shape
 * gives the same estimate as the engine's for a loaded model of that shape, and bad
 * parameter counts are errors, never crashes. */
#include "test.h"

#include "engine/engine.h"

#include <stdlib.h>

#define GIB (1024ull * 1024 * 1024)

static int64_t tenths(double x) /* 3.6 -> 36, compared as integers */
{
    return (int64_t)llround(x * 10.0);
}

static void test_weights_reproduce_the_reference_table(void)
{
    const double bits[] = {4, 4.5, 8, 16};
    const struct {
        uint64_t n_params;
        int64_t want[4]; /* GiB x 10, weights x 1.10 */
    } rows[] = {
        {7000000000ull, {36, 40, 72, 143}},
        {70000000000ull, {359, 403, 717, 1434}},
    };
    tm_err err = {0};
    for (size_t r = 0; r < TM_ARRAY_LEN(rows); r++)
        for (int b = 0; b < 4; b++) {
            uint64_t w = 0;
            TM_CHECK_OK(tm_plan_weights_bytes(rows[r].n_params, bits[b], &w, &err), &err);
            TM_CHECK_EQ_INT(tenths(tm_plan_gib_with_overhead(w)), rows[r].want[b]);
        }
    uint64_t w = 0;
    TM_CHECK_OK(tm_plan_weights_bytes(7000000000ull, 4.5, &w, &err), &err);
    TM_CHECK_EQ_INT(w, 3937500000ull); /* 7e9 x 4.5 / 8, exactly */
    TM_CHECK_STATUS(tm_plan_weights_bytes(1000, 0, &w, &err), TM_E_ARG, &err);
    TM_CHECK_STATUS(tm_plan_weights_bytes(1000, 65, &w, &err), TM_E_ARG, &err);
    TM_CHECK_STATUS(tm_plan_weights_bytes(TM_PLAN_MAX_PARAMS + 1, 4, &w, &err), TM_E_ARG, &err);
}

static void test_nominal_kv_of_llama3_8b(void)
{
    const tm_plan_shape *s = tm_plan_shape_find("llama3-8b");
    TM_CHECK(s != NULL);
    if (!s)
        return;
    TM_CHECK_EQ_INT(s->n_layer, 32);
    TM_CHECK_EQ_INT(s->n_head_kv, 8);
    TM_CHECK_EQ_INT(s->head_dim, 128);
    tm_err err = {0};
    const int64_t ctx[] = {8192, 131072};
    const uint64_t want_f16[] = {GIB, 16 * GIB}; /* 1.00 GiB and 16 GiB at 16 bits */
    for (int c = 0; c < 2; c++) {
        uint64_t b16 = 0, b8 = 0, b4 = 0;
        TM_CHECK_OK(tm_plan_kv_nominal_bytes(s, ctx[c], 16, &b16, &err), &err);
        TM_CHECK_OK(tm_plan_kv_nominal_bytes(s, ctx[c], 8, &b8, &err), &err);
        TM_CHECK_OK(tm_plan_kv_nominal_bytes(s, ctx[c], 4, &b4, &err), &err);
        TM_CHECK_EQ_INT(b16, want_f16[c]);
        TM_CHECK_EQ_INT(b8, want_f16[c] / 2);
        TM_CHECK_EQ_INT(b4, want_f16[c] / 4);
    }
    uint64_t b = 0;
    TM_CHECK_STATUS(tm_plan_kv_nominal_bytes(s, -1, 16, &b, &err), TM_E_ARG, &err);
    TM_CHECK_STATUS(tm_plan_kv_nominal_bytes(s, INT64_MAX, 16, &b, &err), TM_E_LIMIT, &err);
}

/* The planning answers use the engine's sizes: F16 equals the nominal 16 bits; Q8_0 and Q4_0
 * blocks hold 32 values in 34 and 18 bytes; positions round up to whole blocks of 32. */
static void test_engine_kv_sizes_of_a_shape(void)
{
    const tm_plan_shape *s = tm_plan_shape_find("LLaMA3-8B"); /* names ignore case */
    TM_CHECK(s != NULL);
    if (!s)
        return;
    const uint64_t values = 2ull * 32 * 8 * 128 * 8192; /* keys and values at 8192 positions */
    const struct {
        tm_kv_type type;
        uint64_t want;
    } cases[] = {
        {TM_KV_F16, values * 2},
        {TM_KV_F32, values * 4},
        {TM_KV_Q8_0, values / 32 * 34},
        {TM_KV_Q4_0, values / 32 * 18},
    };
    TM_CHECK_EQ_INT(cases[0].want, GIB);
    tm_err err = {0};
    for (size_t i = 0; i < TM_ARRAY_LEN(cases); i++) {
        tm_session_params sp = tm_session_params_default();
        sp.n_ctx = 8192;
        sp.n_threads = 4;
        sp.kv_type = cases[i].type;
        tm_memory_estimate e;
        memset(&e, 0, sizeof e);
        TM_CHECK_OK(tm_plan_shape_memory(s, 3500000000ull, &sp, 1, &e, &err), &err);
        TM_CHECK_EQ_INT(e.kv_bytes, cases[i].want);
        TM_CHECK_EQ_INT(e.weights_bytes, 3500000000ull);
        TM_CHECK_EQ_INT(e.total_bytes, e.weights_bytes + e.kv_bytes + e.scratch_bytes);
        TM_CHECK(e.scratch_bytes > 0);
        tm_memory_estimate two;
        TM_CHECK_OK(tm_plan_shape_memory(s, 3500000000ull, &sp, 2, &two, &err), &err);
        TM_CHECK_EQ_INT(two.kv_bytes, 2 * e.kv_bytes);
        TM_CHECK_EQ_INT(two.scratch_bytes, 2 * e.scratch_bytes);
    }
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = 8193; /* one position into another block */
    tm_memory_estimate e;
    TM_CHECK_OK(tm_plan_shape_memory(s, 0, &sp, 1, &e, &err), &err);
    TM_CHECK_EQ_INT(e.kv_bytes, GIB / 8192 * 8224);
    sp.n_ctx = 0; /* the training context, at most 4096 */
    TM_CHECK_OK(tm_plan_shape_memory(s, 0, &sp, 1, &e, &err), &err);
    TM_CHECK_EQ_INT(e.n_ctx, 4096);
    TM_CHECK_EQ_INT(e.n_batch, 512);
    /* phi3-mini's heads of 96 values are three blocks of 32: quantized caches fit */
    sp.kv_type = TM_KV_Q4_0;
    TM_CHECK_OK(tm_plan_shape_memory(tm_plan_shape_find("phi3-mini"), 0, &sp, 1, &e, &err), &err);
}

/* A shape made of a real model's hyper-parameters gives the engine's estimate for that model,
 * byte for byte: the planner and the engine share one computation. */
static void check_shape_matches_model(const char *relative)
{
    const char *path = tm_test_data_opt(relative);
    if (!path) {
        const char *req = getenv("TM_REQUIRE_SHARED");
        TM_CHECK_MSG(!(req && strcmp(req, "1") == 0), "missing ../shared/%s", relative);
        fprintf(stderr, "  skipped: ../shared/%s is missing\n", relative);
        return;
    }
    tm_err err = {0};
    tm_model_params mp = tm_model_params_default();
    mp.repack = false;
    tm_model *m = NULL;
    TM_CHECK_OK(tm_model_load(path, &mp, &m, &err), &err);
    if (!m)
        return;
    const tm_net *net = tm_model_net(m);
    const tm_hparams *hp = &net->hp;
    tm_plan_shape s = {
        relative,        hp->n_layer, hp->n_head, hp->n_head_kv,
        hp->head_dim,    hp->n_embd,  hp->n_ff,   hp->n_vocab,
        hp->n_ctx_train, 0,           0,          net->output.data == net->token_embd.data};
    const int32_t ctx[] = {0, 1, 100, 512};
    for (size_t i = 0; i < TM_ARRAY_LEN(ctx); i++) {
        tm_session_params sp = tm_session_params_default();
        sp.n_ctx = ctx[i];
        sp.n_threads = 3;
        tm_memory_estimate want, got;
        memset(&want, 0, sizeof want);
        memset(&got, 0, sizeof got);
        TM_CHECK_OK(tm_memory_estimate_get(m, &sp, 2, &want, &err), &err);
        TM_CHECK_OK(tm_plan_shape_memory(&s, tm_model_weight_bytes(m), &sp, 2, &got, &err), &err);
        TM_CHECK_EQ_INT(got.kv_bytes, want.kv_bytes);
        TM_CHECK_EQ_INT(got.scratch_bytes, want.scratch_bytes);
        TM_CHECK_EQ_INT(got.total_bytes, want.total_bytes);
        TM_CHECK_EQ_INT(got.n_ctx, want.n_ctx);
    }
    /* bytes per token: the shape path (F32 weights: 32 bits) agrees with the model's tensors */
    TM_CHECK_EQ_INT(
        tm_plan_decode_bytes_shape(&s, tm_model_weight_bytes(m), 32, 100, TM_KV_F16, TM_KV_SAME),
        tm_plan_decode_bytes_model(m, 100, TM_KV_F16, TM_KV_SAME));
    tm_model_free(m);
}

static void test_shape_estimate_is_the_engines(void)
{
    check_shape_matches_model("models/synthetic/llama-f32.gguf");
    check_shape_matches_model("models/synthetic/qwen3-f32.gguf");
}

/* Sliding-window layers are allocated the whole context (as the engine does) but read only
 * their window per token. */
static void test_sliding_window_reads_less(void)
{
    const tm_plan_shape *g = tm_plan_shape_find("gemma3-12b");
    TM_CHECK(g != NULL);
    if (!g)
        return;
    tm_err err = {0};
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = 131072;
    sp.n_threads = 1;
    tm_memory_estimate e;
    TM_CHECK_OK(tm_plan_shape_memory(g, 0, &sp, 1, &e, &err), &err);
    const uint64_t per_position = 8ull * 256 * 2 * 2; /* 8 KV heads x 256 x (k, v) x f16 */
    TM_CHECK_EQ_INT(e.kv_bytes, 48ull * 131072 * per_position); /* 48 GiB: every layer whole */
    /* 8 global layers read 131072 positions, 40 local ones their window of 1024 */
    uint64_t read = tm_plan_decode_bytes_shape(g, 0, 4, 131072, TM_KV_F16, TM_KV_SAME);
    TM_CHECK_EQ_INT(read, (8ull * 131072 + 40ull * 1024) * per_position);
}

static void test_params_parse(void)
{
    const struct {
        const char *text;
        uint64_t want;
    } good[] = {
        {"8B", 8000000000ull},
        {"0.5B", 500000000ull},
        {"1.5b", 1500000000ull},
        {"70B", 70000000000ull},
        {"13B", 13000000000ull},
        {"3B", 3000000000ull},
        {"8e9", 8000000000ull},
        {"350M", 350000000ull},
        {"7000000000", 7000000000ull},
        {"1.2T", 1200000000000ull},
        {"2K", 2000ull},
        {"7G", 7000000000ull},
        {".5B", 500000000ull},
        {"1e15", TM_PLAN_MAX_PARAMS},
    };
    tm_err err = {0};
    for (size_t i = 0; i < TM_ARRAY_LEN(good); i++) {
        uint64_t n = 0;
        TM_CHECK_OK(tm_plan_params_parse(good[i].text, &n, &err), &err);
        TM_CHECK_MSG(n == good[i].want, "'%s' -> %llu, want %llu", good[i].text,
                     (unsigned long long)n, (unsigned long long)good[i].want);
    }
    const char *bad[] = {"",
                         "B",
                         "8X",
                         "-8B",
                         "0B",
                         "0",
                         "abc",
                         "8BB",
                         "inf",
                         "nanB",
                         "0x10",
                         " 8B",
                         "8B ",
                         "1e16",
                         "2T0",
                         "0.1",
                         "1e999",
                         "e9",
                         "8.8.8B",
                         "99999999999999999999999999999999999999"
                         "9999999999999999999999999999999999"};
    for (size_t i = 0; i < TM_ARRAY_LEN(bad); i++) {
        uint64_t n = 12345;
        TM_CHECK_STATUS(tm_plan_params_parse(bad[i], &n, &err), TM_E_ARG, &err);
        TM_CHECK_MSG(n == 12345, "'%s' wrote its out-parameter", bad[i]);
    }
}

static void test_quant_bits(void)
{
    double b = 0;
    TM_CHECK(tm_plan_quant_bits("Q4_K_M", &b) && b == 4.85);
    TM_CHECK(tm_plan_quant_bits("q4_0", &b) && b == 4.5);
    TM_CHECK(tm_plan_quant_bits("Q8_0", &b) && b == 8.5);
    TM_CHECK(tm_plan_quant_bits("Q6_K", &b) && b == 6.5625);
    TM_CHECK(tm_plan_quant_bits("Q2_K", &b) && b == 2.625);
    TM_CHECK(tm_plan_quant_bits("bf16", &b) && b == 16);
    TM_CHECK(!tm_plan_quant_bits("Q9_K", &b));
    TM_CHECK(!tm_plan_quant_bits("", &b));
}

static bool below_1000(int32_t n_ctx, void *arg)
{
    (void)arg;
    return n_ctx <= 1000;
}

static bool never(int32_t n_ctx, void *arg)
{
    (void)n_ctx;
    (void)arg;
    return false;
}

static void test_max_ctx_search(void)
{
    TM_CHECK_EQ_INT(tm_plan_max_ctx(1 << 24, below_1000, NULL), 1000);
    TM_CHECK_EQ_INT(tm_plan_max_ctx(500, below_1000, NULL), 500);
    TM_CHECK_EQ_INT(tm_plan_max_ctx(1000, below_1000, NULL), 1000);
    TM_CHECK_EQ_INT(tm_plan_max_ctx(INT32_MAX, below_1000, NULL), 1000);
    TM_CHECK_EQ_INT(tm_plan_max_ctx(1 << 24, never, NULL), 0);
    TM_CHECK_EQ_INT(tm_plan_max_ctx(0, below_1000, NULL), 0);
}

static void test_tables_are_consistent(void)
{
    for (int i = 0; tm_plan_size_at(i); i++) {
        const tm_plan_shape *s = tm_plan_shape_find(tm_plan_size_at(i)->shape);
        TM_CHECK_MSG(s != NULL, "size %s: no shape '%s'", tm_plan_size_at(i)->label,
                     tm_plan_size_at(i)->shape);
    }
    for (int i = 0; tm_plan_shape_at(i); i++) {
        const tm_plan_shape *s = tm_plan_shape_at(i);
        TM_CHECK_MSG(s->n_head % s->n_head_kv == 0 && s->head_dim % 32 == 0 && s->n_ctx_train > 0,
                     "shape %s", s->name);
        TM_CHECK_MSG(!s->n_swa || s->swa_period > 1, "shape %s: window without a period", s->name);
    }
    TM_CHECK(tm_plan_shape_nearest(7000000000ull) == tm_plan_shape_find("mistral-7b"));
    TM_CHECK(tm_plan_shape_nearest(8030000000ull) == tm_plan_shape_find("llama3.1-8b"));
    TM_CHECK(tm_plan_shape_nearest(1000) == tm_plan_shape_find("qwen2.5-0.5b"));
    TM_CHECK(tm_plan_shape_nearest(TM_PLAN_MAX_PARAMS) == tm_plan_shape_find("llama3.1-70b"));
}

static void test_tiers(void)
{
    const tm_plan_tier *a16 = tm_plan_tier_find("a16");
    TM_CHECK(a16 && a16->apple && !a16->gpu);
    if (a16) /* the 10.67 GiB macOS reports as the GPU working set of 16 GiB */
        TM_CHECK_EQ_INT(tm_plan_tier_usable_bytes(a16), 16 * GIB * 2 / 3);
    const char *names[] = {"a16",    "a24",    "a32", "a64", "a96", "a128",
                           "w-cpu1", "w-cpu2", "g8",  "g12", "g16", "g24"};
    for (size_t i = 0; i < TM_ARRAY_LEN(names); i++) {
        const tm_plan_tier *t = tm_plan_tier_find(names[i]);
        TM_CHECK_MSG(t && t->bandwidth_gbs > 0 && t->n_cores > 0 &&
                         tm_plan_tier_usable_bytes(t) < t->memory_bytes &&
                         t->system_bytes >= t->memory_bytes / 2,
                     "tier %s", names[i]);
        TM_CHECK(strstr(tm_plan_tier_names(), names[i]) != NULL);
    }
    TM_CHECK(tm_plan_tier_find("A16") == NULL); /* tier names are exact */
    TM_CHECK(tm_plan_tier_nearest(true, 18 * GIB, 12) == tm_plan_tier_find("a16"));
    TM_CHECK(tm_plan_tier_nearest(true, 36 * GIB, 12) == tm_plan_tier_find("a32"));
    TM_CHECK(tm_plan_tier_nearest(true, 192 * GIB, 24) == tm_plan_tier_find("a128"));
    TM_CHECK(tm_plan_tier_nearest(false, 23 * GIB, 2) == tm_plan_tier_find("w-cpu1"));
    TM_CHECK(tm_plan_tier_nearest(false, 64 * GIB, 16) == tm_plan_tier_find("w-cpu2"));
    TM_CHECK(tm_plan_tier_nearest(false, 0, 0) == tm_plan_tier_find("w-cpu1"));
}

int main(void)
{
    TM_RUN(test_weights_reproduce_the_reference_table);
    TM_RUN(test_nominal_kv_of_llama3_8b);
    TM_RUN(test_engine_kv_sizes_of_a_shape);
    TM_RUN(test_sliding_window_reads_less);
    TM_RUN(test_params_parse);
    TM_RUN(test_quant_bits);
    TM_RUN(test_max_ctx_search);
    TM_RUN(test_tables_are_consistent);
    TM_RUN(test_tiers);
    TM_RUN(test_shape_estimate_is_the_engines);
    return tm_test_result();
}
