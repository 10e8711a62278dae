/* temoto bench: prompt-processing and generation speed of a model on this machine, and the
 * fraction of the machine's limit each reaches. Generation is memory-bound: its limit is the
 * read bandwidth of the model's weights, measured before each repetition, divided by the bytes
 * one token reads (every weight matrix once, one embedding row, and the KV cache up to the
 * depth). Prompt processing is compute-bound: its limit is the kernel table's multiply-add
 * peak, measured before each repetition, over the multiply-adds a prompt token takes (null
 * for tables without a peak figure).
 *
 * The JSON shape (--json) is a contract scripts depend on; see docs/bench.md. */
#include "apps.h"
#include "cli.h"
#include "macpeak.h"
#include "membw.h"

#include "engine/engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPS  100
#define MAX_LIST  16 /* values of one of -p, -n, -d, -t */
#define MAX_TESTS 64 /* pp and tg tests of one run, and the prefix test */

/* A list flag's values (-p 128,512): a test per value, and per depth and -n value for tg. */
typedef struct value_list {
    int64_t v[MAX_LIST];
    int n;
} value_list;

typedef struct bench_args {
    const char *model_path;
    value_list prompts, gens, depths; /* 0 in prompts or gens: no such test */
    value_list threads;               /* 0: the default count */
    int64_t reps;
    int64_t prefix; /* --prefix-test N; 0: none */
    bool json, pp_tg_given;
    tm_cli_kv kv;
} bench_args;

#define PREFIX_ENDING 20 /* tokens after the shared prefix in --prefix-test */

typedef struct test_result {
    char name[64];
    int64_t n_prompt, n_gen, depth;
    int threads; /* the count the test ran on */
    double tps[MAX_REPS];
    int n;
    double limit_tps; /* 0: unknown */
    /* the limit's machine figure read just before each repetition: memory bandwidth in GB/s
     * (tg), the multiply-add peak in multiply-adds/s (pp); 0: none */
    double machine[MAX_REPS];
    /* --prefix-test: time to first token of the cold and the warm sequence, per repetition */
    double cold_ms[MAX_REPS], warm_ms[MAX_REPS];
    int64_t reused; /* positions the warm sequence took from the cache (last repetition) */
} test_result;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto bench -m MODEL.gguf [-p 512] [-n 128] [-d DEPTH] [-r 5] [-t THREADS]\n"
            "                    [--prefix-test N] [KV cache flags] [--json]\n"
            "\n"
            "Measures prompt processing (pp: -p tokens in one evaluation) and generation (tg:\n"
            "-n tokens one at a time, after -d tokens of context), each -r times: median, min\n"
            "and max tokens/s, peak memory, and the fraction of this machine's limit (its\n"
            "measured memory bandwidth over the bytes each generated token reads). -p 0 or\n"
            "-n 0 skips a test. -p, -n, -d and -t take comma-separated lists (-p 128,512\n"
            "-d 0,4096 -t 4,8): a pp test per -p value, a tg test per -n value and depth,\n"
            "all of them once per thread count.\n"
            "\n"
            "  --prefix-test N          prefix reuse: two sequences on one KV cache share a\n"
            "                           prompt of N tokens and end in different ones of 20;\n"
            "                           time to first token of the first (cold) and the second\n"
            "                           (warm, the prefix taken from the cache). Alone unless\n"
            "                           -p or -n is given too.\n" TM_CLI_KV_HELP "\n"
            "temoto bench suite --help: latency, prefix cache and JSON breakage, in-process or\n"
            "against an OpenAI-compatible server, with a report and charts.\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of any number of figures, which it sorts. */
static double median_sorting(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static void stats_of(const double *x, int n, double *median, double *min, double *max)
{
    double s[MAX_REPS];
    memcpy(s, x, (size_t)n * sizeof *s);
    *median = median_sorting(s, n);
    *min = s[0];
    *max = s[n - 1];
}

static void stats(const test_result *r, double *median, double *min, double *max)
{
    stats_of(r->tps, r->n, median, min, max);
}

/* The median of n <= MAX_REPS figures. */
static double median_of(const double *x, int n)
{
    double med, min, max;
    stats_of(x, n, &med, &min, &max);
    return med;
}

/* "512" or "128,512": each value an integer in lo..hi; at most MAX_LIST of them. */
static bool parse_list(const char *flag, const char *value, int64_t lo, int64_t hi, value_list *out)
{
    out->n = 0;
    for (const char *at = value;;) {
        const char *comma = strchr(at, ',');
        size_t len = comma ? (size_t)(comma - at) : strlen(at);
        char item[32];
        if (out->n == MAX_LIST) {
            fprintf(stderr, "error: %s: more than %d values in '%s'\n", flag, MAX_LIST, value);
            return false;
        }
        if (len >= sizeof item) {
            fprintf(stderr, "error: %s: '%.*s' is not an integer in %lld..%lld\n", flag, (int)len,
                    at, (long long)lo, (long long)hi);
            return false;
        }
        memcpy(item, at, len);
        item[len] = '\0';
        if (!tm_cli_int(flag, item, lo, hi, &out->v[out->n++]))
            return false;
        if (!comma)
            return true;
        at = comma + 1;
    }
}

static int64_t list_max(const value_list *l)
{
    int64_t m = 0;
    for (int i = 0; i < l->n; i++)
        m = TM_MAX(m, l->v[i]);
    return m;
}

/* Whether value i of l appeared before it. */
static bool repeated(const value_list *l, int i)
{
    for (int j = 0; j < i; j++)
        if (l->v[j] == l->v[i])
            return true;
    return false;
}

static int distinct(const value_list *l)
{
    int n = 0;
    for (int i = 0; i < l->n; i++)
        n += !repeated(l, i);
    return n;
}

/* The tests a run makes: per distinct thread count, a pp test per non-zero -p value, a tg test
 * per non-zero -n value and distinct depth, and the prefix test. */
static int count_tests(const bench_args *a)
{
    int pp = 0, tg = 0, depths = distinct(&a->depths);
    for (int i = 0; i < a->prompts.n; i++)
        pp += a->prompts.v[i] > 0;
    for (int i = 0; i < a->gens.n; i++)
        tg += a->gens.v[i] > 0;
    return (pp + tg * depths + (a->prefix > 0)) * distinct(&a->threads);
}

/* Deterministic token ids spread over the vocabulary (no tokenizer needed). */
static void fill_tokens(tm_token *t, int64_t n, int32_t n_vocab, uint64_t seed)
{
    tm_rng rng;
    tm_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++)
        t[i] = (tm_token)(tm_rng_next(&rng) % (uint64_t)n_vocab);
}

/* Bytes one generated token reads: every weight matrix, one row of the embedding, and the
 * KV cache (of the bench's key and value types) of `depth` earlier positions in every layer. */
static uint64_t bytes_per_token(const tm_model *m, int64_t depth, const tm_cli_kv *kv)
{
    const tm_net *net = tm_model_net(m);
    const tm_hparams *hp = &net->hp;
    uint64_t total = tm_model_weight_bytes(m) -
                     net->token_embd.row_bytes * (uint64_t)(net->token_embd.n_rows - 1);
    if (net->output.data == net->token_embd.data) /* tied: the output reads it whole */
        total += net->token_embd.row_bytes * (uint64_t)(net->token_embd.n_rows - 1);
    tm_kv_type tv = kv->type_v == TM_KV_SAME ? kv->type_k : kv->type_v;
    uint64_t k_row = 0, v_row = 0; /* the session was made with these types: they fit */
    tm_dtype_row_bytes((uint32_t)kv->type_k, (int64_t)hp->n_head_kv * hp->head_dim, &k_row);
    tm_dtype_row_bytes((uint32_t)tv, (int64_t)hp->n_head_kv * hp->head_dim_v, &v_row);
    return total + (uint64_t)hp->n_layer * (k_row + v_row) * (uint64_t)depth;
}

static void add_range(tm_mem_range *r, int *n, const tm_mat *w)
{
    if (w->data)
        r[(*n)++] = (tm_mem_range){w->data, w->row_bytes * (uint64_t)w->n_rows};
}

/* The weight matrices a generated token reads, as memory ranges (caller frees). */
static tm_mem_range *weight_ranges(const tm_model *m, int *n_out)
{
    const tm_net *net = tm_model_net(m);
    const tm_hparams *hp = &net->hp;
    int64_t per_layer = 13 + 3 * (int64_t)hp->n_expert;
    tm_mem_range *r = tm_malloc((size_t)(per_layer * hp->n_layer + 1) * sizeof *r);
    int n = 0;
    for (int32_t il = 0; r && il < hp->n_layer; il++) {
        const tm_layer *l = &net->layers[il];
        const tm_mat *mats[] = {&l->wq,     &l->wk,      &l->wv,        &l->wo,
                                &l->w_gate, &l->w_up,    &l->w_gate_up, &l->w_down,
                                &l->router, &l->sh_gate, &l->sh_up,     &l->sh_down};
        for (size_t k = 0; k < TM_ARRAY_LEN(mats); k++)
            add_range(r, &n, mats[k]);
        for (int32_t e = 0; l->exp_gate && e < hp->n_expert; e++) {
            add_range(r, &n, &l->exp_gate[e]);
            add_range(r, &n, &l->exp_up[e]);
            add_range(r, &n, &l->exp_down[e]);
        }
    }
    if (r)
        add_range(r, &n, &net->output);
    *n_out = n;
    return r;
}

/* The machine figures of the limits, read right before each repetition on the session's own
 * threads: a shared machine's bandwidth drifts by half within minutes (docs/bench.md), so a
 * figure from another moment can put a run above its "limit". bw_fixed: TM_MEMBW_GBS. */
typedef struct limit_probe {
    tm_pool *pool;
    tm_mem_range *ranges;
    int n_ranges;
    double bw_fixed;
} limit_probe;

/* One pp test of n_prompt tokens into r. */
static tm_status run_pp(const bench_args *a, tm_model *m, tm_session *s, int64_t n_prompt,
                        tm_token *tokens, float *logits, test_result *r, tm_err *err)
{
    int32_t n_vocab = tm_model_n_vocab(m);
    tm_status st = TM_OK;
    snprintf(r->name, sizeof r->name, "pp%lld", (long long)n_prompt);
    r->n_prompt = n_prompt;
    /* one untimed warm-up run: page in the weights, size the caches */
    for (int rep = -1; rep < a->reps && st == TM_OK; rep++) {
        tm_session_reset(s);
        fill_tokens(tokens, n_prompt, n_vocab, (uint64_t)rep + 2);
        if (rep >= 0)
            r->machine[r->n] = tm_macpeak_measure(m, s->pool);
        int64_t t0 = tm_time_us();
        st = tm_session_eval(s, tokens, (int32_t)n_prompt, logits, false, err);
        double dt = (double)(tm_time_us() - t0) / 1e6;
        if (rep >= 0)
            r->tps[r->n++] = (double)n_prompt / dt;
    }
    return st;
}

/* One tg test of n_gen tokens after the session's first depth positions, which hold the
 * context: each repetition (and the warm-up) cuts the sequence back to them and generates its
 * own tokens after them (into tokens). */
static tm_status run_tg(const bench_args *a, tm_model *m, tm_session *s, const limit_probe *probe,
                        int64_t n_gen, int64_t depth, tm_token *tokens, float *logits,
                        test_result *r, tm_err *err)
{
    int32_t n_vocab = tm_model_n_vocab(m);
    tm_status st = TM_OK;
    if (depth > 0)
        snprintf(r->name, sizeof r->name, "tg%lld@d%lld", (long long)n_gen, (long long)depth);
    else
        snprintf(r->name, sizeof r->name, "tg%lld", (long long)n_gen);
    r->n_gen = n_gen;
    r->depth = depth;
    for (int rep = -1; rep < a->reps && st == TM_OK; rep++) {
        tm_session_truncate(s, (int32_t)depth);
        fill_tokens(tokens, n_gen, n_vocab, (uint64_t)rep + 100);
        if (rep >= 0)
            r->machine[r->n] = probe->bw_fixed > 0
                                   ? probe->bw_fixed
                                   : tm_membw_read(s->pool, probe->ranges, probe->n_ranges, 2,
                                                   m->kernels.read_sum);
        int64_t t0 = tm_time_us();
        for (int64_t k = 0; k < n_gen && st == TM_OK; k++)
            st = tm_session_eval(s, tokens + k, 1, logits, false, err);
        double dt = (double)(tm_time_us() - t0) / 1e6;
        if (rep >= 0)
            r->tps[r->n++] = (double)n_gen / dt;
    }
    return st;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Every pp test in the order given, then the tg tests depth by depth, from the shallowest:
 * one sequence of context tokens, each depth's evaluated (untimed) on top of the one before. */
static tm_status run_tests(const bench_args *a, int64_t n_threads, tm_model *m,
                           const limit_probe *probe, test_result *res, int *n_res, tm_err *err)
{
    int32_t n_vocab = tm_model_n_vocab(m);
    int64_t max_p = list_max(&a->prompts), max_n = list_max(&a->gens),
            max_d = max_n > 0 ? list_max(&a->depths) : 0;
    int64_t n_ctx = TM_MAX(max_p, max_d + max_n) + 1;
    if (n_ctx > tm_model_n_ctx_train(m) && tm_model_n_ctx_train(m) > 0)
        fprintf(stderr, "note: %lld positions exceed the model's training context of %d\n",
                (long long)n_ctx, tm_model_n_ctx_train(m));
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = (int32_t)n_ctx;
    sp.n_threads = (int32_t)n_threads;
    sp.n_batch = (int32_t)TM_MAX(TM_MAX(max_p, 1), TM_MIN(max_d, 512));
    /* these tests measure computing: nothing is taken from earlier repetitions */
    tm_cli_kv kv = a->kv;
    kv.no_prefix_reuse = true;
    tm_kv_cache *cache = NULL;
    tm_session *s = NULL;
    tm_token *tokens = tm_malloc((size_t)(TM_MAX(max_p, max_n) + 1) * sizeof *tokens);
    tm_token *context = tm_malloc((size_t)(max_d + 1) * sizeof *context);
    float *logits = tm_malloc((size_t)n_vocab * sizeof *logits);
    tm_status st = tokens && context && logits ? tm_cli_kv_setup(&kv, m, 1, &sp, &cache, err)
                                               : tm_fail(err, TM_E_NOMEM, "bench buffers");
    if (st == TM_OK)
        st = tm_session_create(m, &sp, &s, err);
    for (int i = 0; i < a->prompts.n && st == TM_OK; i++)
        if (a->prompts.v[i] > 0)
            st = run_pp(a, m, s, a->prompts.v[i], tokens, logits, &res[(*n_res)++], err);
    value_list depths = a->depths;
    qsort(depths.v, (size_t)depths.n, sizeof depths.v[0], cmp_i64);
    fill_tokens(context, max_d, n_vocab, 99);
    int64_t have = -1; /* context positions in the sequence; -1: not begun */
    for (int di = 0; di < depths.n && max_n > 0 && st == TM_OK; di++) {
        int64_t depth = depths.v[di];
        if (di > 0 && depth == depths.v[di - 1])
            continue; /* a depth given twice is tested once */
        if (have < 0) {
            tm_session_reset(s);
            have = 0;
        }
        tm_session_truncate(s, (int32_t)have);
        for (; have < depth && st == TM_OK;) {
            int32_t n = (int32_t)TM_MIN(sp.n_batch, depth - have);
            st = tm_session_eval(s, context + have, n, NULL, false, err);
            have += n;
        }
        for (int gi = 0; gi < a->gens.n && st == TM_OK; gi++)
            if (a->gens.v[gi] > 0)
                st = run_tg(a, m, s, probe, a->gens.v[gi], depth, tokens, logits, &res[(*n_res)++],
                            err);
    }
    tm_session_free(s);
    tm_kv_cache_free(cache);
    tm_free(tokens);
    tm_free(context);
    tm_free(logits);
    return st;
}

/* --prefix-test: per repetition, an emptied cache; sequence A evaluates the prefix and its
 * ending (cold), then sequence B the same prefix and another ending (warm). The time to
 * first token is the prompt's evaluation up to the logits of its last token. */
static tm_status run_prefix_test(const bench_args *a, int64_t n_threads, tm_model *m,
                                 test_result *r, tm_err *err)
{
    int32_t n_vocab = tm_model_n_vocab(m);
    int64_t n = a->prefix + PREFIX_ENDING;
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = (int32_t)n;
    sp.n_threads = (int32_t)n_threads;
    tm_kv_cache *cache = NULL;
    tm_session *sa = NULL, *sb = NULL;
    tm_token *ta = tm_malloc((size_t)n * sizeof *ta), *tb = tm_malloc((size_t)n * sizeof *tb);
    float *logits = tm_malloc((size_t)n_vocab * sizeof *logits);
    const tm_cli_kv kv = a->kv;
    tm_status st = ta && tb && logits ? TM_OK : tm_fail(err, TM_E_NOMEM, "bench buffers");
    if (st == TM_OK) { /* one cache for both sequences: room for two of them */
        tm_kv_cache_params cp = tm_kv_cache_params_default();
        cp.type_k = kv.type_k;
        cp.type_v = kv.type_v;
        cp.mem_bytes = kv.mem_bytes;
        cp.n_ctx = (int32_t)n;
        cp.n_parallel = 2;
        cp.prefix_reuse = !kv.no_prefix_reuse;
        st = tm_kv_cache_create(m, &cp, &cache, err);
        sp.kv_cache = cache;
    }
    if (st == TM_OK)
        st = tm_session_create(m, &sp, &sa, err);
    if (st == TM_OK)
        st = tm_session_create(m, &sp, &sb, err);
    snprintf(r->name, sizeof r->name, "prefix%lld", (long long)a->prefix);
    r->n_prompt = n;
    for (int rep = -1; rep < a->reps && st == TM_OK; rep++) {
        tm_session_reset(sa);
        tm_session_reset(sb);
        tm_kv_cache_clear(cache);
        fill_tokens(ta, n, n_vocab, (uint64_t)rep + 1000);
        memcpy(tb, ta, (size_t)a->prefix * sizeof *tb);
        fill_tokens(tb + a->prefix, PREFIX_ENDING, n_vocab, (uint64_t)rep + 2000);
        if (tb[a->prefix] == ta[a->prefix]) /* the endings differ from their first token */
            tb[a->prefix] = (tb[a->prefix] + 1) % n_vocab;
        int64_t t0 = tm_time_us();
        st = tm_session_eval(sa, ta, (int32_t)n, logits, false, err);
        int64_t t1 = tm_time_us();
        if (st == TM_OK)
            st = tm_session_eval(sb, tb, (int32_t)n, logits, false, err);
        int64_t t2 = tm_time_us();
        if (rep >= 0 && st == TM_OK) {
            r->cold_ms[r->n] = (double)(t1 - t0) / 1e3;
            r->warm_ms[r->n] = (double)(t2 - t1) / 1e3;
            r->tps[r->n] = (double)n / ((double)(t1 - t0) / 1e6);
            r->n++;
            r->reused = tm_session_n_reused(sb);
        }
    }
    tm_session_free(sa);
    tm_session_free(sb);
    tm_kv_cache_free(cache);
    tm_free(ta);
    tm_free(tb);
    tm_free(logits);
    return st;
}

static void print_results(const bench_args *a, const tm_model *m, const test_result *res, int n_res,
                          double bw_gbs, double peak, uint64_t rss)
{
    if (a->json) {
        printf("{\"model\": \"");
        for (const char *p = a->model_path; *p; p++) /* a path: escape what JSON needs */
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p >= 0x20)
                putchar(*p);
        printf("\", \"threads\": %d, \"kernels\": \"%s\", ", tm_membw_threads(a->threads.v[0]),
               tm_model_kernels(m));
        if (bw_gbs > 0)
            printf("\"mem_bw_gbs\": %.2f, ", bw_gbs);
        else
            printf("\"mem_bw_gbs\": null, ");
        if (peak > 0)
            printf("\"mac_peak_gmacs\": %.1f, ", peak / 1e9);
        else
            printf("\"mac_peak_gmacs\": null, ");
        printf("\"peak_rss_bytes\": %" PRIu64 ", \"tests\": [", rss);
        for (int i = 0; i < n_res; i++) {
            double med, min, max;
            stats(&res[i], &med, &min, &max);
            printf("%s{\"name\": \"%s\", \"n_prompt\": %lld, \"n_gen\": %lld, \"depth\": %lld, "
                   "\"threads\": %d, \"tps\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f}, ",
                   i ? ", " : "", res[i].name, (long long)res[i].n_prompt, (long long)res[i].n_gen,
                   (long long)res[i].depth, res[i].threads, med, min, max);
            if (res[i].limit_tps > 0)
                printf("\"limit_tps\": %.3f, \"fraction_of_limit\": %.4f", res[i].limit_tps,
                       med / res[i].limit_tps);
            else
                printf("\"limit_tps\": null, \"fraction_of_limit\": null");
            if (res[i].cold_ms[0] > 0) {
                double cold = median_of(res[i].cold_ms, res[i].n);
                double warm = median_of(res[i].warm_ms, res[i].n);
                printf(", \"ttft_cold_ms\": %.3f, \"ttft_warm_ms\": %.3f, \"warm_over_cold\": "
                       "%.4f, \"reused_tokens\": %lld",
                       cold, warm, warm / cold, (long long)res[i].reused);
            }
            printf("}");
        }
        printf("]}\n");
        return;
    }
    bool by_threads = distinct(&a->threads) > 1; /* a column of thread counts */
    printf("model %s, kernels %s, ", a->model_path, tm_model_kernels(m));
    if (!by_threads)
        printf("%d threads, ", tm_membw_threads(a->threads.v[0]));
    if (bw_gbs > 0)
        printf("memory bandwidth %.2f GB/s, ", bw_gbs);
    if (peak > 0)
        printf("multiply-add peak %.0f GMAC/s, ", peak / 1e9);
    printf("peak RSS %.1f MiB\n", (double)rss / 1048576);
    printf("%-14s%s %10s %10s %10s %10s %9s\n", "test", by_threads ? " threads" : "", "t/s med",
           "min", "max", "limit", "fraction");
    for (int i = 0; i < n_res; i++) {
        double med, min, max;
        stats(&res[i], &med, &min, &max);
        printf("%-14s", res[i].name);
        if (by_threads)
            printf(" %7d", res[i].threads);
        printf(" %10.2f %10.2f %10.2f", med, min, max);
        if (res[i].limit_tps > 0)
            printf(" %10.2f %9.3f\n", res[i].limit_tps, med / res[i].limit_tps);
        else
            printf(" %10s %9s\n", "-", "-");
    }
    for (int i = 0; i < n_res; i++)
        if (res[i].cold_ms[0] > 0) {
            double cold = median_of(res[i].cold_ms, res[i].n);
            double warm = median_of(res[i].warm_ms, res[i].n);
            printf("%s: time to first token, cold %.1f ms, warm %.1f ms (%.4f of cold; %lld "
                   "of %lld positions reused); medians of %d\n",
                   res[i].name, cold, warm, warm / cold, (long long)res[i].reused,
                   (long long)res[i].n_prompt, res[i].n);
        }
}

int tm_app_bench_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "suite") == 0)
        return tm_app_bench_suite_main(argc - 1, argv + 1);
    bench_args a = {.prompts = {{512}, 1},
                    .gens = {{128}, 1},
                    .depths = {{0}, 1},
                    .threads = {{0}, 1},
                    .reps = 5,
                    .kv = tm_cli_kv_default()};
    const char *v = NULL;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        const char *flag = argv[i];
        if (tm_cli_is_help(flag)) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, "-m", "--model", &a.model_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-p", "--n-prompt", &v, &bad)) {
            bad = bad || !parse_list(flag, v, 0, 1 << 16, &a.prompts);
            a.pp_tg_given = true;
        } else if (tm_cli_flag(argc, argv, &i, "-n", "--n-gen", &v, &bad)) {
            bad = bad || !parse_list(flag, v, 0, 1 << 16, &a.gens);
            a.pp_tg_given = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--prefix-test", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, 1 << 20, &a.prefix);
        } else if (tm_cli_flag(argc, argv, &i, "-d", "--depth", &v, &bad)) {
            bad = bad || !parse_list(flag, v, 0, 1 << 20, &a.depths);
        } else if (tm_cli_flag(argc, argv, &i, "-r", "--reps", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, MAX_REPS, &a.reps);
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !parse_list(flag, v, 0, 1024, &a.threads);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--json", NULL, &bad)) {
            a.json = true;
        } else if (tm_cli_kv_flag(argc, argv, &i, &a.kv, &bad)) {
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", flag);
            bad = true;
        }
    }
    if (!bad && count_tests(&a) > MAX_TESTS) {
        fprintf(stderr,
                "error: %d tests asked for (-p values, and -n values times depths), at most %d\n",
                count_tests(&a), MAX_TESTS);
        bad = true;
    }
    if (!bad && !a.model_path) {
        fprintf(stderr, "error: -m MODEL is required\n");
        bad = true;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    limit_probe probe = {0};
    const char *bw_env = tm_getenv("TM_MEMBW_GBS");
    if (bw_env && (!tm_parse_f64(bw_env, &probe.bw_fixed) || probe.bw_fixed <= 0))
        return tm_cli_error("TM_MEMBW_GBS='%s' is not a positive number", bw_env);
    tm_model *m = NULL;
    tm_model_params mp = tm_model_params_default();
    mp.n_threads = (int32_t)a.threads.v[0]; /* -t (its first value) covers the repacking too */
    tm_status st = tm_model_load(a.model_path, &mp, &m, &err);
    static test_result res[MAX_TESTS];
    int n_res = 0;
    if (a.prefix > 0 && !a.pp_tg_given)
        a.prompts.n = a.gens.n = 0;
    if (st == TM_OK) {
        probe.ranges = weight_ranges(m, &probe.n_ranges);
        if (!probe.ranges)
            st = tm_fail(&err, TM_E_NOMEM, "the list of weight matrices");
    }
    for (int ti = 0; ti < a.threads.n && st == TM_OK; ti++) {
        if (repeated(&a.threads, ti))
            continue; /* a count given twice is tested once */
        int64_t n_threads = a.threads.v[ti];
        int first = n_res;
        if (list_max(&a.prompts) > 0 || list_max(&a.gens) > 0)
            st = run_tests(&a, n_threads, m, &probe, res, &n_res, &err);
        if (st == TM_OK && a.prefix > 0)
            st = run_prefix_test(&a, n_threads, m, &res[n_res++], &err);
        for (int i = first; i < n_res; i++)
            res[i].threads = tm_membw_threads(n_threads);
    }
    uint64_t rss = tm_peak_rss_bytes();
    /* each test's limit from the median of its own readings; the run's figures (the JSON's
     * mem_bw_gbs, mac_peak_gmacs) the medians of all the readings of their kind; 0: none */
    double bw = 0, peak = 0;
    double *bw_all = tm_malloc(MAX_TESTS * MAX_REPS * sizeof *bw_all),
           *peak_all = tm_malloc(MAX_TESTS * MAX_REPS * sizeof *peak_all);
    int n_bw = 0, n_peak = 0;
    if (st == TM_OK && (!bw_all || !peak_all))
        st = tm_fail(&err, TM_E_NOMEM, "the bench's readings");
    for (int i = 0; i < n_res && st == TM_OK; i++) {
        bool tg = res[i].n_gen > 0, pp = !tg && !strncmp(res[i].name, "pp", 2);
        double machine = res[i].n > 0 ? median_of(res[i].machine, res[i].n) : 0;
        if (tg) {
            res[i].limit_tps = machine * 1e9 / (double)bytes_per_token(m, res[i].depth, &a.kv);
            memcpy(bw_all + n_bw, res[i].machine, (size_t)res[i].n * sizeof *bw_all);
            n_bw += res[i].n;
        } else if (pp && machine > 0) {
            res[i].limit_tps = machine / tm_prompt_macs_per_token(m, res[i].n_prompt);
            memcpy(peak_all + n_peak, res[i].machine, (size_t)res[i].n * sizeof *peak_all);
            n_peak += res[i].n;
        }
    }
    if (n_bw > 0)
        bw = median_sorting(bw_all, n_bw);
    if (n_peak > 0)
        peak = median_sorting(peak_all, n_peak);
    tm_free(bw_all);
    tm_free(peak_all);
    if (st == TM_OK)
        print_results(&a, m, res, n_res, bw, peak, rss);
    tm_free(probe.ranges);
    tm_model_free(m);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
