/* The paged KV cache (src/engine/kv_cache.c, src/model/kv_store.c) and prefix reuse:
 * - paging: logits with blocks of 7 or 32 positions, tables interleaved with another
 *   sequence's, equal those of one contiguous block (up to the summation order of values
 *   read block by block);
 * - prefix reuse: a second sequence sharing a prefix reuses exactly the common positions
 *   (whole blocks shared, the partial one copied) and predicts what a cold session predicts;
 *   a sequence writing into a shared block works on a copy and the other is unaffected;
 * - pressure: a small pool evicts cached blocks least recently used first; a pool full of held
 *   blocks is TM_E_LIMIT and leaves the session as it was; no block is lost after many
 *   sequences (and none leaks: the ASan build runs this too);
 * - keys and values of different types work and cost what the estimate says;
 * - a saved sequence (the prompt cache) loads into a fresh session and predicts what the
 *   original predicts; files of another model, other types, too long, truncated at any
 *   point or with a flipped byte are refused with a reason. */
#include "test.h"

#include "temoto.h"

#define N_CTX 256
#define TOL   2e-4 /* logits of the f32 models, absolute; see check_close */

typedef struct fixture {
    tm_model *model;
    int32_t n_vocab;
} fixture;

static bool fixture_load(fixture *f, const char *relative)
{
    tm_err err = {0};
    memset(f, 0, sizeof *f);
    TM_CHECK_OK(tm_model_load(tm_test_data(relative), NULL, &f->model, &err), &err);
    if (!f->model)
        return false;
    f->n_vocab = tm_model_n_vocab(f->model);
    return true;
}

static void fill_ids(const fixture *f, tm_token *ids, int n, uint64_t seed)
{
    tm_rng rng;
    tm_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++)
        ids[i] = (tm_token)(tm_rng_next(&rng) % (uint64_t)(f->n_vocab - 3)) + 3;
}

static tm_kv_cache *make_cache(const fixture *f, int32_t block_tokens, int32_t n_blocks,
                               tm_kv_type tk, tm_kv_type tv)
{
    tm_kv_cache_params cp = tm_kv_cache_params_default();
    cp.block_tokens = block_tokens;
    cp.n_blocks = n_blocks;
    cp.type_k = tk;
    cp.type_v = tv;
    tm_kv_cache *c = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_kv_cache_create(f->model, &cp, &c, &err), &err);
    return c;
}

static tm_session *open_session(const fixture *f, tm_kv_cache *cache, int32_t n_batch)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = N_CTX;
    sp.n_batch = n_batch;
    sp.n_threads = 2;
    sp.kv_cache = cache;
    sp.kv_type = TM_KV_F32;
    tm_session *s = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_session_create(f->model, &sp, &s, &err), &err);
    return s;
}

static double max_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

static void check_close(const char *what, const float *got, const float *want, int64_t n)
{
    double d = max_diff(got, want, n);
    fprintf(stderr, "    %-52s max |diff| %.3g\n", what, d);
    TM_CHECK_MSG(d <= TOL, "%s: logits differ by %g", what, d);
}

/* Logits after each of ids[0..n) from one session on cache (evaluated in chunks of the given
 * sizes, cycling), into out[n][n_vocab]. */
static void eval_chunks(const fixture *f, tm_session *s, const tm_token *ids, int n,
                        const int *chunks, int n_chunks, float *out)
{
    tm_err err = {0};
    for (int at = 0, c = 0; at < n; c++) {
        int k = TM_MIN(chunks[c % n_chunks], n - at);
        TM_CHECK_OK(tm_session_eval(s, ids + at, k, out + (int64_t)at * f->n_vocab, true, &err),
                    &err);
        at += k;
    }
}

/* Paging changes nothing but the summation order: blocks of 7 and 32 positions, interleaved
 * with a second sequence's blocks, against one block of the whole context. */
static void check_paging(const char *relative)
{
    fixture f;
    if (!fixture_load(&f, relative))
        return;
    fprintf(stderr, "  %s\n", relative);
    enum { N = 150 };
    tm_token ids[N], other[N];
    fill_ids(&f, ids, N, 11);
    fill_ids(&f, other, N, 12);
    float *want = tm_malloc((size_t)N * (size_t)f.n_vocab * sizeof(float));
    float *got = tm_malloc((size_t)N * (size_t)f.n_vocab * sizeof(float));
    float *junk = tm_malloc((size_t)N * (size_t)f.n_vocab * sizeof(float));
    const int whole[] = {N}, uneven[] = {1, 13, 50, 2, 31};
    tm_kv_cache *c = make_cache(&f, N_CTX, 1, TM_KV_F32, TM_KV_SAME);
    tm_session *s = c ? open_session(&f, c, 64) : NULL;
    if (s) {
        eval_chunks(&f, s, ids, N, whole, 1, want);
        tm_session_free(s);
    }
    tm_kv_cache_free(c);
    const int32_t sizes[] = {7, 32};
    for (int i = 0; i < 2; i++) {
        c = make_cache(&f, sizes[i], 2 * (N_CTX / sizes[i] + 1), TM_KV_F32, TM_KV_SAME);
        tm_session *a = c ? open_session(&f, c, 64) : NULL;
        tm_session *b = c ? open_session(&f, c, 64) : NULL;
        if (a && b) { /* the two sequences take blocks in turn: a's table is not contiguous */
            tm_err err = {0};
            for (int at = 0, k = 0; at < N; k++) {
                int n = TM_MIN(uneven[k % 5], N - at);
                TM_CHECK_OK(
                    tm_session_eval(a, ids + at, n, got + (int64_t)at * f.n_vocab, true, &err),
                    &err);
                TM_CHECK_OK(
                    tm_session_eval(b, other + at, n, junk + (int64_t)at * f.n_vocab, true, &err),
                    &err);
                at += n;
            }
            char what[96];
            snprintf(what, sizeof what, "blocks of %d, interleaved, uneven chunks", sizes[i]);
            check_close(what, got, want, (int64_t)N * f.n_vocab);
        }
        tm_session_free(a);
        tm_session_free(b);
        tm_kv_cache_free(c);
    }
    tm_free(want);
    tm_free(got);
    tm_free(junk);
    tm_model_free(f.model);
}

static void test_paging_equals_contiguous(void)
{
    check_paging("models/synthetic/llama-f32.gguf");
    check_paging("models/synthetic/gemma3-f32.gguf"); /* sliding-window layers */
    check_paging("models/stories260K-f32.v3.gguf");
}

/* Last-token logits of ids[0..n) from a fresh session with a cache of its own. */
static void cold_logits(const fixture *f, const tm_token *ids, int n, float *out)
{
    tm_kv_cache *c = make_cache(f, 32, N_CTX / 32, TM_KV_F32, TM_KV_SAME);
    tm_session *s = c ? open_session(f, c, 64) : NULL;
    tm_err err = {0};
    if (s)
        TM_CHECK_OK(tm_session_eval(s, ids, n, out, false, &err), &err);
    tm_session_free(s);
    tm_kv_cache_free(c);
}

static void test_prefix_reuse(void)
{
    fixture f;
    if (!fixture_load(&f, "models/synthetic/llama-f32.gguf"))
        return;
    enum { P = 100, E = 12 }; /* a prefix of 3 whole blocks of 32 and 4 positions */
    tm_token a_ids[P + E], b_ids[P + E];
    fill_ids(&f, a_ids, P + E, 21);
    memcpy(b_ids, a_ids, P * sizeof(tm_token));
    fill_ids(&f, b_ids + P, E, 22);
    b_ids[P] = a_ids[P] == 5 ? 6 : 5; /* the endings differ at their first token */
    float *want = tm_malloc((size_t)f.n_vocab * sizeof(float));
    float *got = tm_malloc((size_t)f.n_vocab * sizeof(float));
    tm_kv_cache *c = make_cache(&f, 32, 3 * N_CTX / 32, TM_KV_F32, TM_KV_SAME);
    tm_session *a = c ? open_session(&f, c, 64) : NULL;
    tm_session *b = c ? open_session(&f, c, 64) : NULL;
    tm_err err = {0};
    if (a && b) {
        TM_CHECK_OK(tm_session_eval(a, a_ids, P + E, NULL, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(a), 0);
        /* while a holds the prefix: 3 blocks shared, 4 positions copied */
        TM_CHECK_OK(tm_session_eval(b, b_ids, P + E, got, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(b), P);
        cold_logits(&f, b_ids, P + E, want);
        check_close("second sequence, prefix of 100 reused", got, want, f.n_vocab);
        tm_kv_cache_stats st;
        tm_kv_cache_stats_get(c, &st);
        TM_CHECK_EQ_INT(st.reused_tokens, P);
        TM_CHECK_EQ_INT(st.used, 4 + 1); /* a: 4 blocks; b: the first 3 of them + its own 4th */
        /* after both end, a third sequence finds the prefix in cached blocks; its prompt
         * repeats b's exactly, so all but the last token are reused */
        tm_session_free(a);
        tm_session_reset(b);
        tm_kv_cache_stats_get(c, &st);
        TM_CHECK_EQ_INT(st.used, 0);
        TM_CHECK_EQ_INT(st.cached, 5);
        TM_CHECK_OK(tm_session_eval(b, b_ids, P + E, got, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(b), P + E - 1);
        check_close("the same prompt again, all but its last token reused", got, want, f.n_vocab);
        /* a copy is a source in turn: b takes a's first block and copies 18 rows of its
         * second, then a third sequence finds all of b's positions (the copied rows' token
         * ids travel with them) */
        tm_session_reset(b);
        tm_token c_ids[60];
        memcpy(c_ids, a_ids, 50 * sizeof(tm_token));
        fill_ids(&f, c_ids + 50, 10, 23);
        TM_CHECK_OK(tm_session_eval(b, c_ids, 60, NULL, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(b), 50);
        tm_kv_cache_clear(c); /* a's and the older blocks go: only what b holds is left */
        tm_session *d = open_session(&f, c, 64);
        if (d) {
            TM_CHECK_OK(tm_session_eval(d, c_ids, 60, got, false, &err), &err);
            TM_CHECK_EQ_INT(tm_session_n_reused(d), 59);
            cold_logits(&f, c_ids, 60, want);
            check_close("59 positions from blocks another sequence copied", got, want, f.n_vocab);
            tm_session_free(d);
        }
        /* shorter than a block: the copy of a partial block's start */
        tm_session_reset(b);
        TM_CHECK_OK(tm_session_eval(b, b_ids, 20, got, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(b), 19);
        cold_logits(&f, b_ids, 20, want);
        check_close("20 tokens, 19 copied from a cached block", got, want, f.n_vocab);
    }
    tm_session_free(b);
    tm_kv_cache_free(c);
    tm_free(want);
    tm_free(got);
    tm_model_free(f.model);
}

/* A sequence that truncates into a block it shares and writes a different continuation gets a
 * copy: the other sequence's next logits are those of a cold run of its own tokens. */
static void test_copy_on_write(void)
{
    fixture f;
    if (!fixture_load(&f, "models/synthetic/llama-f32.gguf"))
        return;
    enum { N = 70 };
    tm_token ids[N + 1], alt[N];
    fill_ids(&f, ids, N + 1, 31);
    fill_ids(&f, alt, N, 32);
    float *want = tm_malloc((size_t)f.n_vocab * sizeof(float));
    float *got = tm_malloc((size_t)f.n_vocab * sizeof(float));
    tm_kv_cache *c = make_cache(&f, 32, 3 * N_CTX / 32, TM_KV_F32, TM_KV_SAME);
    tm_session *a = c ? open_session(&f, c, 64) : NULL;
    tm_session *b = c ? open_session(&f, c, 64) : NULL;
    tm_err err = {0};
    if (a && b) {
        TM_CHECK_OK(tm_session_eval(a, ids, N, NULL, false, &err), &err);
        TM_CHECK_OK(tm_session_eval(b, ids, N, NULL, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(b), N - 1);
        tm_session_truncate(b, 40); /* inside the second block, shared with a */
        TM_CHECK_OK(tm_session_eval(b, alt, 30, NULL, false, &err), &err);
        TM_CHECK_OK(tm_session_eval(a, ids + N, 1, got, false, &err), &err);
        cold_logits(&f, ids, N + 1, want);
        check_close("the sharer's next token after a copy-on-write", got, want, f.n_vocab);
        /* and b predicts what a cold run of its own tokens predicts */
        tm_token mixed[N + 1];
        memcpy(mixed, ids, 40 * sizeof(tm_token));
        memcpy(mixed + 40, alt, 30 * sizeof(tm_token));
        mixed[N] = 7;
        TM_CHECK_OK(tm_session_eval(b, mixed + N, 1, got, false, &err), &err);
        cold_logits(&f, mixed, N + 1, want);
        check_close("the writer, continuing in its copy", got, want, f.n_vocab);
    }
    tm_session_free(a);
    tm_session_free(b);
    tm_kv_cache_free(c);
    tm_free(want);
    tm_free(got);
    tm_model_free(f.model);
}

static void check_counts(tm_kv_cache *c)
{
    tm_kv_cache_stats st;
    tm_kv_cache_stats_get(c, &st);
    TM_CHECK_EQ_INT(st.used + st.cached + st.free, st.n_blocks);
    TM_CHECK(st.used >= 0 && st.cached >= 0 && st.free >= 0);
}

static void test_eviction_under_pressure(void)
{
    fixture f;
    if (!fixture_load(&f, "models/stories260K-f32.v3.gguf"))
        return;
    /* 12 blocks of 16: room for two sequences of 96 positions */
    tm_kv_cache *c = make_cache(&f, 16, 12, TM_KV_F32, TM_KV_SAME);
    tm_session *a = c ? open_session(&f, c, 32) : NULL;
    tm_session *b = c ? open_session(&f, c, 32) : NULL;
    tm_err err = {0};
    tm_token ids[200];
    if (a && b) {
        /* many different prompts one after another: old blocks are evicted to make room */
        for (int i = 0; i < 40; i++) {
            fill_ids(&f, ids, 90, 100 + (uint64_t)i);
            tm_session *s = i % 2 ? a : b;
            tm_session_reset(s);
            TM_CHECK_OK(tm_session_eval(s, ids, 90, NULL, false, &err), &err);
            check_counts(c);
        }
        tm_kv_cache_stats st;
        tm_kv_cache_stats_get(c, &st);
        TM_CHECK(st.evicted_blocks > 0);
        TM_CHECK_EQ_INT(st.used, 12);
        /* the most recent prompt that ended is still cached: reused after its sequence ended */
        fill_ids(&f, ids, 90, 100 + 38);
        tm_session_reset(b); /* b held prompt 38 */
        tm_session_reset(a);
        TM_CHECK_OK(tm_session_eval(a, ids, 90, NULL, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_reused(a), 89);
        /* full of held blocks: a 7th block for a is refused, a keeps its 90 positions */
        fill_ids(&f, ids, 96, 7);
        TM_CHECK_OK(tm_session_eval(b, ids, 96, NULL, false, &err), &err);
        TM_CHECK_STATUS(tm_session_eval(a, ids, 10, NULL, false, &err), TM_E_LIMIT, &err);
        fprintf(stderr, "    full pool: %s\n", err.msg);
        TM_CHECK_EQ_INT(tm_session_n_past(a), 90);
        check_counts(c);
        tm_session_reset(b);
        TM_CHECK_OK(tm_session_eval(a, ids, 6, NULL, false, &err), &err);
        TM_CHECK_EQ_INT(tm_session_n_past(a), 96);
    }
    tm_session_free(a);
    tm_session_free(b);
    check_counts(c);
    tm_kv_cache_free(c);
    tm_model_free(f.model);
}

/* Many sequences come and go over shared prefixes: counts stay consistent and every block is
 * back when they are gone. */
static void test_many_sequences(void)
{
    fixture f;
    if (!fixture_load(&f, "models/stories260K-f32.v3.gguf"))
        return;
    tm_kv_cache *c = make_cache(&f, 8, 40, TM_KV_F32, TM_KV_SAME);
    tm_rng rng;
    tm_rng_seed(&rng, 3);
    tm_token base[64], ids[64];
    fill_ids(&f, base, 64, 9);
    tm_err err = {0};
    uint64_t reused = 0;
    for (int i = 0; c && i < 120; i++) {
        tm_session *s = open_session(&f, c, 16);
        if (!s)
            break;
        int shared = (int)(tm_rng_next(&rng) % 64), n = 1 + (int)(tm_rng_next(&rng) % 64);
        memcpy(ids, base, (size_t)shared * sizeof(tm_token));
        fill_ids(&f, ids + shared, 64 - shared, 1000 + (uint64_t)i);
        tm_status st = tm_session_eval(s, ids, n, NULL, false, &err);
        TM_CHECK_MSG(st == TM_OK, "sequence %d: %s", i, err.msg);
        reused += (uint64_t)tm_session_n_reused(s);
        if (i % 3 == 0)
            tm_session_truncate(s, n / 2);
        tm_session_free(s);
        check_counts(c);
    }
    tm_kv_cache_stats st;
    if (c) {
        tm_kv_cache_stats_get(c, &st);
        TM_CHECK_EQ_INT(st.used, 0);
        TM_CHECK_EQ_INT(st.reused_tokens, reused);
        TM_CHECK(reused > 0);
        tm_kv_cache_clear(c);
        tm_kv_cache_stats_get(c, &st);
        TM_CHECK_EQ_INT(st.free, st.n_blocks);
    }
    tm_kv_cache_free(c);
    tm_model_free(f.model);
}

/* Keys and values of their own types: a session evaluates, costs what the estimate says, and
 * with Q8_0 keys and F16 values predicts close to F32 throughout. */
static void test_separate_types(void)
{
    fixture f;
    if (!fixture_load(&f, "models/synthetic/llama-f32.gguf"))
        return;
    enum { N = 64 };
    tm_token ids[N];
    fill_ids(&f, ids, N, 41);
    float *want = tm_malloc((size_t)f.n_vocab * sizeof(float));
    float *got = tm_malloc((size_t)f.n_vocab * sizeof(float));
    cold_logits(&f, ids, N, want);
    const tm_kv_type pairs[][2] = {
        {TM_KV_Q8_0, TM_KV_F16}, {TM_KV_F16, TM_KV_Q4_0}, {TM_KV_Q4_0, TM_KV_Q8_0}};
    for (int i = 0; i < 3; i++) {
        tm_session_params sp = tm_session_params_default();
        sp.n_ctx = N_CTX;
        sp.n_threads = 2;
        sp.kv_type = pairs[i][0];
        sp.kv_type_v = pairs[i][1];
        tm_memory_estimate e, m;
        tm_session *s = NULL;
        tm_err err = {0};
        TM_CHECK_OK(tm_memory_estimate_get(f.model, &sp, 1, &e, &err), &err);
        TM_CHECK_OK(tm_session_create(f.model, &sp, &s, &err), &err);
        if (!s)
            continue;
        tm_session_memory(s, &m);
        TM_CHECK_EQ_INT(m.kv_bytes, e.kv_bytes);
        TM_CHECK_EQ_INT(m.scratch_bytes, e.scratch_bytes);
        TM_CHECK_OK(tm_session_eval(s, ids, N, got, false, &err), &err);
        double d = max_diff(got, want, f.n_vocab);
        fprintf(stderr, "    keys %s, values %s: kv %llu bytes, max |logit diff| vs f32 %.3g\n",
                tm_kv_type_name(pairs[i][0]), tm_kv_type_name(pairs[i][1]),
                (unsigned long long)m.kv_bytes, d);
        TM_CHECK(d < 0.5);
        tm_session_free(s);
    }
    /* a type the model's heads cannot hold is refused for keys or values alone */
    fixture g;
    if (fixture_load(&g, "models/stories260K-f32.v3.gguf")) {
        tm_session_params sp = tm_session_params_default();
        sp.kv_type = TM_KV_F16;
        sp.kv_type_v = TM_KV_Q8_0;
        tm_session *s = NULL;
        tm_err err = {0};
        TM_CHECK_STATUS(tm_session_create(g.model, &sp, &s, &err), TM_E_UNSUPPORTED, &err);
        tm_model_free(g.model);
    }
    tm_free(want);
    tm_free(got);
    tm_model_free(f.model);
}

static void test_bad_parameters(void)
{
    fixture f;
    if (!fixture_load(&f, "models/stories260K-f32.v3.gguf"))
        return;
    tm_kv_cache_params cp = tm_kv_cache_params_default();
    tm_kv_cache *c = NULL;
    tm_err err = {0};
    cp.block_tokens = 0;
    TM_CHECK_STATUS(tm_kv_cache_create(f.model, &cp, &c, &err), TM_E_ARG, &err);
    cp = tm_kv_cache_params_default();
    cp.mem_bytes = 100; /* less than one block */
    TM_CHECK_STATUS(tm_kv_cache_create(f.model, &cp, &c, &err), TM_E_ARG, &err);
    cp = tm_kv_cache_params_default();
    cp.n_blocks = -1;
    TM_CHECK_STATUS(tm_kv_cache_create(f.model, &cp, &c, &err), TM_E_ARG, &err);
    tm_sysmem mem;
    if (tm_sysmem_get(&mem) && mem.total_bytes > 0) {
        /* a budget half again the machine's memory: refused up front, not allocated (its two
         * halves, each under the memory, would each be granted, and fail as they filled) */
        cp = tm_kv_cache_params_default();
        cp.mem_bytes = mem.total_bytes / 2 * 3;
        TM_CHECK_STATUS(tm_kv_cache_create(f.model, &cp, &c, &err), TM_E_NOMEM, &err);
        TM_CHECK_MSG(strstr(err.msg, "this machine's") != NULL, "message: %s", err.msg);
    }
    cp = tm_kv_cache_params_default();
    cp.mem_bytes = 1 << 20; /* a budget: as many blocks as fit */
    TM_CHECK_OK(tm_kv_cache_create(f.model, &cp, &c, &err), &err);
    if (c) {
        tm_kv_cache_stats st;
        tm_kv_cache_stats_get(c, &st);
        TM_CHECK(st.kv_bytes <= cp.mem_bytes);
        TM_CHECK(st.kv_bytes / (uint64_t)st.n_blocks * (uint64_t)(st.n_blocks + 1) > cp.mem_bytes);
        tm_kv_cache_free(c);
    }
    tm_model_free(f.model);
}

static tm_session *private_session(const fixture *f, tm_kv_type kv, int32_t n_ctx)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = n_ctx;
    sp.n_threads = 2;
    sp.kv_type = kv;
    tm_session *s = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_session_create(f->model, &sp, &s, &err), &err);
    return s;
}

static void write_bytes(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    TM_CHECK(f != NULL);
    if (f) {
        TM_CHECK(fwrite(data, 1, n, f) == n);
        fclose(f);
    }
}

static void test_save_and_load(void)
{
    fixture f, g;
    if (!fixture_load(&f, "models/synthetic/llama-f32.gguf"))
        return;
    enum { N = 90 };
    tm_token ids[N + 1];
    fill_ids(&f, ids, N + 1, 51);
    float *want = tm_malloc((size_t)f.n_vocab * sizeof(float));
    float *got = tm_malloc((size_t)f.n_vocab * sizeof(float));
    const char *path = tm_test_tmp_path("prompt.kv");
    tm_err err = {0};
    tm_session *a = private_session(&f, TM_KV_F16, N_CTX);
    tm_session *b = private_session(&f, TM_KV_F16, N_CTX);
    if (!a || !b)
        goto done;
    TM_CHECK_OK(tm_session_eval(a, ids, N, NULL, false, &err), &err);
    TM_CHECK_OK(tm_session_save(a, path, &err), &err);
    TM_CHECK_OK(tm_session_eval(a, ids + N, 1, want, false, &err), &err);
    TM_CHECK_OK(tm_session_load(b, path, &err), &err);
    TM_CHECK_EQ_INT(tm_session_n_past(b), N);
    TM_CHECK(memcmp(tm_session_tokens(b), ids, N * sizeof(tm_token)) == 0);
    TM_CHECK_OK(tm_session_eval(b, ids + N, 1, got, false, &err), &err);
    TM_CHECK(memcmp(got, want, (size_t)f.n_vocab * sizeof(float)) == 0); /* the same bytes */
    /* a loaded prefix is reusable like a computed one */
    tm_session_truncate(b, N);
    tm_session_reset(b);
    TM_CHECK_OK(tm_session_eval(b, ids, N + 1, got, false, &err), &err);
    TM_CHECK_EQ_INT(tm_session_n_reused(b), N);
    /* refusals that leave the session as it was */
    size_t n_bytes = 0;
    char *file = tm_test_read_file(path, &n_bytes);
    tm_session *c = private_session(&f, TM_KV_F32, N_CTX);
    if (c) {
        TM_CHECK_STATUS(tm_session_load(c, path, &err), TM_E_ARG, &err);
        fprintf(stderr, "    other types: %s\n", err.msg);
        tm_session_free(c);
    }
    c = private_session(&f, TM_KV_F16, 64);
    if (c) {
        TM_CHECK_OK(tm_session_eval(c, ids, 5, NULL, false, &err), &err);
        TM_CHECK_STATUS(tm_session_load(c, path, &err), TM_E_LIMIT, &err);
        fprintf(stderr, "    too long: %s\n", err.msg);
        TM_CHECK_EQ_INT(tm_session_n_past(c), 5);
        tm_session_free(c);
    }
    if (fixture_load(&g, "models/synthetic/qwen3-f32.gguf")) {
        c = private_session(&g, TM_KV_F16, N_CTX);
        if (c) {
            TM_CHECK_STATUS(tm_session_load(c, path, &err), TM_E_ARG, &err);
            fprintf(stderr, "    other model: %s\n", err.msg);
            tm_session_free(c);
        }
        tm_model_free(g.model);
    }
    TM_CHECK_STATUS(tm_session_load(b, tm_test_tmp_path("missing.kv"), &err), TM_E_IO, &err);
    /* damaged files: cut at many lengths, one byte flipped in the header, the tokens, the
     * rows and the checksum; every one refused, the session then empty and usable */
    const char *bad = tm_test_tmp_path("bad.kv");
    size_t cuts[] = {0, 7, 75, 76, 100, 76 + 4 * N, n_bytes / 2, n_bytes - 33, n_bytes - 1};
    for (size_t i = 0; file && i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(bad, file, cuts[i]);
        tm_status st = tm_session_load(b, bad, &err);
        TM_CHECK_MSG(st == TM_E_FORMAT, "cut at %zu: %s", cuts[i], tm_status_str(st));
    }
    fprintf(stderr, "    truncated: %s\n", err.msg);
    size_t flips[] = {3, 9, 20, 45, 60, 76 + 8, 76 + 4 * N + 10, n_bytes / 2, n_bytes - 5};
    for (size_t i = 0; file && i < sizeof flips / sizeof flips[0]; i++) {
        file[flips[i]] ^= 0x40;
        write_bytes(bad, file, n_bytes);
        file[flips[i]] ^= 0x40;
        tm_status st = tm_session_load(b, bad, &err);
        TM_CHECK_MSG(st != TM_OK, "byte %zu flipped: loaded", flips[i]);
    }
    fprintf(stderr, "    flipped byte: %s\n", err.msg);
    if (file) { /* trailing bytes */
        char *longer = tm_malloc(n_bytes + 1);
        memcpy(longer, file, n_bytes);
        longer[n_bytes] = 0;
        write_bytes(bad, longer, n_bytes + 1);
        TM_CHECK_STATUS(tm_session_load(b, bad, &err), TM_E_FORMAT, &err);
        tm_free(longer);
    }
    TM_CHECK_EQ_INT(tm_session_n_past(b), 0);
    TM_CHECK_OK(tm_session_load(b, path, &err), &err); /* the good file still loads */
    TM_CHECK_EQ_INT(tm_session_n_past(b), N);
    c = private_session(&f, TM_KV_F16, 8); /* empty: nothing to save */
    if (c)
        TM_CHECK_STATUS(tm_session_save(c, path, &err), TM_E_ARG, &err);
    tm_session_free(c);
    tm_free(file);
done:
    tm_session_free(a);
    tm_session_free(b);
    tm_free(want);
    tm_free(got);
    tm_model_free(f.model);
}

int main(void)
{
    TM_RUN(test_paging_equals_contiguous);
    TM_RUN(test_prefix_reuse);
    TM_RUN(test_copy_on_write);
    TM_RUN(test_eviction_under_pressure);
    TM_RUN(test_many_sequences);
    TM_RUN(test_separate_types);
    TM_RUN(test_bad_parameters);
    TM_RUN(test_save_and_load);
    return tm_test_result();
}
