/* temoto plan --verify: runs a model at a context and sets what the plan predicts beside what
 * happened. The model is loaded as a run loads it (repacked where the kernels want it); one
 * session of the context evaluates pseudo-random token ids that fill it up to 16 positions
 * (in batches of 512), then generates 16 tokens greedily, so every block of the KV cache has
 * been written and every weight read.
 *
 * Predicted peak RSS = the process before loading (program, C library, shared libraries:
 * measured, not modelled) + the weights as loaded + KV + scratch (tm_session_memory, equal
 * to the estimate) + this check's own token and logit buffers. Not predicted, so part of the
 * error: the vocabulary, the GGUF metadata (parsed, and its mapped pages), thread stacks,
 * allocator overhead; and the embedding rows of tokens never seen stay on disk (a mapping
 * counts only the pages read). Predicted tokens/s = the measured bandwidth (membw.c) / the
 * bytes one token reads at the generation's mean depth: an upper limit, which decode
 * reaches a fraction of, so its error says how far from the limit the kernels are. */
#include "cli.h"
#include "membw.h"
#include "plan.h"

#include "engine/engine.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define VERIFY_GEN   16
#define VERIFY_BATCH 512
#define MIB          (1024.0 * 1024.0)

typedef struct verify_result {
    int32_t n_ctx, n_prompt, n_gen, n_threads;
    uint64_t baseline, buffers, predicted_rss, measured_rss;
    tm_memory_estimate mem;
    double bw_gbs, predicted_tps, measured_tps;
    uint64_t decode_bytes;
} verify_result;

static tm_token argmax(const float *x, int32_t n)
{
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static tm_status run(const tm_plan_verify_args *a, tm_model *m, verify_result *r, tm_err *err)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = (int32_t)a->n_ctx;
    sp.n_threads = (int32_t)a->n_threads;
    sp.n_batch = VERIFY_BATCH;
    sp.kv_type = a->kv.type_k;
    sp.kv_type_v = a->kv.type_v;
    tm_session *s = NULL;
    tm_status st = tm_session_create(m, &sp, &s, err);
    if (st != TM_OK)
        return st;
    int32_t n_vocab = tm_model_n_vocab(m);
    r->n_ctx = tm_session_n_ctx(s);
    r->n_gen = TM_MIN(VERIFY_GEN, r->n_ctx - 1);
    r->n_prompt = r->n_ctx - r->n_gen;
    r->buffers = (uint64_t)r->n_prompt * sizeof(tm_token) + (uint64_t)n_vocab * sizeof(float);
    tm_token *tokens = tm_malloc((size_t)r->n_prompt * sizeof *tokens);
    float *logits = tm_malloc((size_t)n_vocab * sizeof *logits);
    if (!tokens || !logits)
        st = tm_fail(err, TM_E_NOMEM, "%d tokens and %d logits", r->n_prompt, n_vocab);
    if (st == TM_OK) { /* ids spread over the vocabulary, as bench makes them */
        tm_rng rng;
        tm_rng_seed(&rng, 1);
        for (int32_t i = 0; i < r->n_prompt; i++)
            tokens[i] = (tm_token)(tm_rng_next(&rng) % (uint64_t)n_vocab);
    }
    for (int32_t at = 0; st == TM_OK && at < r->n_prompt; at += VERIFY_BATCH) {
        int32_t n = TM_MIN(VERIFY_BATCH, r->n_prompt - at);
        st = tm_session_eval(s, tokens + at, n, at + n == r->n_prompt ? logits : NULL, false, err);
    }
    int64_t t0 = tm_time_us();
    for (int32_t k = 0; st == TM_OK && k < r->n_gen; k++) {
        tm_token next = argmax(logits, n_vocab);
        st = tm_session_eval(s, &next, 1, logits, false, err);
    }
    double dt = (double)(tm_time_us() - t0) / 1e6;
    if (st == TM_OK) {
        r->measured_rss = tm_peak_rss_bytes();
        r->measured_tps = r->n_gen > 0 && dt > 0 ? r->n_gen / dt : 0;
        tm_session_memory(s, &r->mem);
        r->n_threads = r->mem.n_threads;
        r->decode_bytes =
            tm_plan_decode_bytes_model(m, r->n_prompt + r->n_gen / 2, a->kv.type_k, a->kv.type_v);
    }
    tm_free(tokens);
    tm_free(logits);
    tm_session_free(s);
    return st;
}

static double rel_error(double predicted, double measured)
{
    return measured > 0 ? (predicted - measured) / measured : 0;
}

static void print(const tm_plan_verify_args *a, const verify_result *r)
{
    double rss_err = rel_error((double)r->predicted_rss, (double)r->measured_rss);
    double tps_err = rel_error(r->predicted_tps, r->measured_tps);
    bool rss_ok = fabs(rss_err) <= 0.10, tps_ok = fabs(tps_err) <= 0.10;
    char kv[32];
    tm_kv_type tv = a->kv.type_v == TM_KV_SAME ? a->kv.type_k : a->kv.type_v;
    snprintf(kv, sizeof kv, "%s%s%s", tm_kv_type_name(a->kv.type_k), tv == a->kv.type_k ? "" : "/",
             tv == a->kv.type_k ? "" : tm_kv_type_name(tv));
    if (a->json) {
        tm_buf path;
        tm_buf_init(&path, 1 << 16);
        tm_buf_append_json_string(&path, a->model_path, strlen(a->model_path), NULL);
        printf("{\"model\": %s, \"n_ctx\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"kv_type\": "
               "\"%s\", \"n_threads\": %d, \"rss\": {\"baseline_bytes\": %" PRIu64
               ", \"weights_bytes\": %" PRIu64 ", \"kv_bytes\": %" PRIu64
               ", \"scratch_bytes\": %" PRIu64 ", \"buffers_bytes\": %" PRIu64
               ", \"predicted_bytes\": %" PRIu64 ", \"measured_peak_bytes\": %" PRIu64
               ", \"rel_error\": %.4f, \"within_10pct\": %s}, \"gen_tps\": {\"bandwidth_gbs\": "
               "%.2f, \"bytes_per_token\": %" PRIu64 ", \"predicted\": %.2f, \"measured\": %.2f, "
               "\"rel_error\": %.4f, \"within_10pct\": %s}, \"within_10pct\": %s}\n",
               path.data ? path.data : "null", r->n_ctx, r->n_prompt, r->n_gen, kv, r->n_threads,
               r->baseline, r->mem.weights_bytes, r->mem.kv_bytes, r->mem.scratch_bytes, r->buffers,
               r->predicted_rss, r->measured_rss, rss_err, rss_ok ? "true" : "false", r->bw_gbs,
               r->decode_bytes, r->predicted_tps, r->measured_tps, tps_err,
               tps_ok ? "true" : "false", rss_ok ? "true" : "false");
        tm_buf_fini(&path);
        return;
    }
    printf("verify    %s at context %d (%d prompt tokens, %d generated), %s KV cache, %d "
           "threads\n",
           a->model_path, r->n_ctx, r->n_prompt, r->n_gen, kv, r->n_threads);
    printf("peak RSS  predicted %.1f MiB = process before loading %.1f + weights %.1f + KV %.1f "
           "+ scratch %.1f + buffers %.1f\n",
           (double)r->predicted_rss / MIB, (double)r->baseline / MIB,
           (double)r->mem.weights_bytes / MIB, (double)r->mem.kv_bytes / MIB,
           (double)r->mem.scratch_bytes / MIB, (double)r->buffers / MIB);
    printf("          measured  %.1f MiB: error %+.1f%% (within 10%%: %s)\n",
           (double)r->measured_rss / MIB, 100 * rss_err, rss_ok ? "yes" : "no");
    printf("tokens/s  predicted %.1f (%.1f GB/s / %.2f MB per token: the limit), measured %.1f: "
           "error %+.1f%% (within 10%%: %s)\n",
           r->predicted_tps, r->bw_gbs, (double)r->decode_bytes / 1e6, r->measured_tps,
           100 * tps_err, tps_ok ? "yes" : "no");
}

int tm_plan_verify(const tm_plan_verify_args *a)
{
    verify_result r;
    memset(&r, 0, sizeof r);
    r.baseline = tm_rss_bytes(); /* before the model: the program and its libraries */
    tm_err err = {0};
    tm_model *m = NULL;
    tm_model_params mp = tm_model_params_default();
    tm_status st = tm_model_load(a->model_path, &mp, &m, &err);
    if (st == TM_OK)
        st = run(a, m, &r, &err);
    /* after the peak was read: the measurement's buffer would raise it */
    if (st == TM_OK)
        st = tm_membw_measure(r.n_threads, &r.bw_gbs, &err);
    if (st == TM_OK) {
        r.predicted_rss = r.baseline + r.mem.total_bytes + r.buffers;
        r.predicted_tps = r.decode_bytes ? r.bw_gbs * 1e9 / (double)r.decode_bytes : 0;
        print(a, &r);
    }
    tm_model_free(m);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
