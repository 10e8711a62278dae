/* temoto run: generate a continuation of a prompt. Only the generated text goes to stdout
 * (scripts pipe it), followed by one newline; loading messages and timings go to stderr.
 *
 * Context limits follow --overflow: by default a prompt longer than the context is an error
 * and generation stops when the context is full; truncate-left cuts the prompt's oldest
 * tokens (after --keep), leaving room for -n new tokens (at most half the context); shift
 * cuts prompts the same way and, when generation fills the context, drops the older half
 * after the kept start and goes on (tm_session_shift). */
#include "apps.h"
#include "cli.h"

#include "base/base.h"

#include <stdio.h>
#include <string.h>

#define MAX_PROMPT_BYTES (64u << 20)

typedef struct run_args {
    const char *model_path, *prompt, *prompt_file, *prompt_cache;
    int64_t n_predict, n_threads, n_ctx;
    tm_sampler_params sampling;
    tm_cli_kv kv;
    tm_overflow overflow;
    int64_t n_keep; /* -1: BOS only */
    bool ignore_eos, f32_act, verbose;
} run_args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto run -m MODEL.gguf -p PROMPT [options]\n"
            "\n"
            "Prints the model's continuation of PROMPT to stdout and stops at the end-of-\n"
            "generation token or after N new tokens. Timings go to stderr.\n"
            "\n"
            "  -m, --model FILE         GGUF model\n"
            "  -p, --prompt TEXT        the prompt (UTF-8)\n"
            "  -f, --file FILE          read the prompt from a file instead\n"
            "  -n, --n-predict N        new tokens at most (default 256)\n" TM_CLI_SAMPLING_HELP
            "  -c, --ctx-size N         context length (default: the model's, at most 4096)\n"
            "  -t, --threads N          threads (default: one per core)\n" TM_CLI_KV_HELP
            "  --overflow P             a prompt longer than the context, or generation that\n"
            "                           fills it: error (default: say so and stop),\n"
            "                           truncate-left (drop the prompt's oldest tokens, leaving\n"
            "                           room for N new ones, at most half the context), or shift\n"
            "                           (as truncate-left, and when generation fills the context\n"
            "                           drop the older half of it and go on)\n"
            "  --prompt-cache FILE      restore the keys and values of the prompt's start from\n"
            "                           FILE (saved by an earlier run of the same model and KV\n"
            "                           types) and save the prompt's there after evaluating it\n"
            "  --keep N                 tokens at the start that truncation and shifts keep\n"
            "                           (default: the BOS token only)\n"
            "  --ignore-eos             keep generating past end-of-generation tokens\n"
            "  --f32-act                exact float activations for quantized weights\n"
            "  -v, --verbose            print the prompt's token ids and the KV cache's blocks\n"
            "                           to stderr\n");
}

static bool parse_args(int argc, char **argv, run_args *a, int *exit_code)
{
    *a = (run_args){.n_predict = 256,
                    .sampling = tm_sampler_params_default(),
                    .kv = tm_cli_kv_default(),
                    .overflow = TM_OVERFLOW_ERROR,
                    .n_keep = -1};
    bool bad = false;
    const char *v = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        const char *flag = argv[i];
        if (tm_cli_is_help(flag)) {
            usage(stdout);
            *exit_code = 0;
            return false;
        } else if (tm_cli_flag(argc, argv, &i, "-m", "--model", &a->model_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-p", "--prompt", &a->prompt, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-f", "--file", &a->prompt_file, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--prompt-cache", &a->prompt_cache, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-n", "--n-predict", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, INT32_MAX, &a->n_predict);
        } else if (tm_cli_sampling_flag(argc, argv, &i, &a->sampling, &bad)) {
        } else if (tm_cli_kv_flag(argc, argv, &i, &a->kv, &bad)) {
        } else if (tm_cli_overflow_flag(argc, argv, &i, &a->overflow, &a->n_keep, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-c", "--ctx-size", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 1 << 24, &a->n_ctx);
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 1024, &a->n_threads);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--ignore-eos", NULL, &bad)) {
            a->ignore_eos = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--f32-act", NULL, &bad)) {
            a->f32_act = true;
        } else if (tm_cli_flag(argc, argv, &i, "-v", "--verbose", NULL, &bad)) {
            a->verbose = true;
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", flag);
            bad = true;
        }
    }
    if (!bad && !a->model_path) {
        fprintf(stderr, "error: -m MODEL is required\n");
        bad = true;
    }
    if (!bad && a->prompt && a->prompt_file) {
        fprintf(stderr, "error: give -p or -f, not both\n");
        bad = true;
    }
    if (bad) {
        usage(stderr);
        *exit_code = 2;
        return false;
    }
    return true;
}

/* Prints a token's bytes. After BOS a leading space is dropped, as SentencePiece
 * detokenizers do: the space is the word-start marker of the first word, not text. */
static void print_piece(const tm_model *model, tm_token prev, tm_token tok)
{
    char small[256];
    int32_t n = tm_token_to_piece(model, tok, false, small, (int32_t)sizeof small);
    if (n <= 0)
        return;
    const char *p = small;
    char *big = NULL;
    if (n > (int32_t)sizeof small) {
        big = tm_malloc((size_t)n);
        if (!big)
            return;
        tm_token_to_piece(model, tok, false, big, n);
        p = big;
    }
    if (prev == tm_model_bos(model) && prev >= 0 && p[0] == ' ') {
        p++;
        n--;
    }
    fwrite(p, 1, (size_t)n, stdout);
    fflush(stdout);
    tm_free(big);
}

static tm_status tokenize_prompt(const tm_model *model, const char *text, size_t len,
                                 tm_token **out, int32_t *n_out, tm_err *err)
{
    int32_t cap = (int32_t)TM_MIN(len + 8, (size_t)INT32_MAX / 2), n = 0;
    tm_token *ids = tm_malloc((size_t)cap * sizeof *ids);
    if (!ids)
        return tm_fail(err, TM_E_NOMEM, "prompt of %zu bytes", len);
    tm_status st = tm_tokenize(model, text, len, true, false, ids, cap, &n, err);
    if (st != TM_OK) {
        tm_free(ids);
        return st;
    }
    *out = ids;
    *n_out = n;
    return TM_OK;
}

/* Fits the prompt to the session's context as --overflow says (a note on stderr says what
 * was dropped); *n_keep: the kept start, for later shifts. */
static tm_status fit_prompt(const run_args *a, const tm_model *model, const tm_session *s,
                            tm_token *prompt, int32_t *n_prompt, int32_t *n_keep, tm_err *err)
{
    tm_token bos = tm_model_bos(model);
    if (a->n_keep >= 0)
        *n_keep = (int32_t)TM_MIN(a->n_keep, *n_prompt);
    else
        *n_keep = *n_prompt > 0 && bos >= 0 && prompt[0] == bos;
    int32_t n_ctx = tm_session_n_ctx(s), n_before = *n_prompt, dropped = 0;
    int32_t reserve = (int32_t)TM_MIN(a->n_predict, INT32_MAX);
    tm_status st =
        tm_prompt_fit(a->overflow, n_ctx, *n_keep, reserve, prompt, n_prompt, &dropped, err);
    if (st == TM_OK && dropped > 0)
        fprintf(stderr,
                "note: the prompt has %d tokens, the context holds %d: dropped %d tokens after "
                "the first %d, kept %d (--overflow %s)\n",
                n_before, n_ctx, dropped, *n_keep, *n_prompt, tm_overflow_name(a->overflow));
    return st;
}

/* --prompt-cache: restores the saved sequence and keeps the part the prompt starts with
 * (all but the prompt's last token at most: its logits are needed). Returns the positions
 * kept. A missing file is a first run; one that does not fit is a warning, not an error. */
static int32_t restore_prompt_cache(const char *path, tm_session *s, const tm_token *prompt,
                                    int32_t n_prompt)
{
    FILE *f = tm_fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "prompt cache: '%s' does not exist yet; it will be written\n", path);
        return 0;
    }
    fclose(f);
    tm_err err = {0};
    if (tm_session_load(s, path, &err) != TM_OK) {
        fprintf(stderr, "warning: prompt cache not used: %s\n", err.msg);
        tm_session_reset(s);
        return 0;
    }
    const tm_token *held = tm_session_tokens(s);
    int32_t n_held = tm_session_n_past(s), same = 0;
    while (same < n_held && same < n_prompt && held[same] == prompt[same])
        same++;
    if (same == n_prompt)
        same--;
    tm_session_truncate(s, same);
    fprintf(stderr, "prompt cache: %d of the prompt's %d tokens restored from '%s'\n", same,
            n_prompt, path);
    return same;
}

/* Makes room for one more token by a context shift: the older half after the kept start. */
static tm_status shift(tm_session *s, int32_t n_keep, int64_t *n_dropped, tm_err *err)
{
    int32_t n_past = tm_session_n_past(s), n_discard = (n_past - n_keep) / 2;
    if (n_discard < 1)
        return tm_fail(err, TM_E_LIMIT,
                       "cannot shift the context: keeping %d of its %d tokens leaves nothing to "
                       "drop (lower --keep)",
                       n_keep, n_past);
    *n_dropped += n_discard;
    return tm_session_shift(s, n_keep, n_discard, err);
}

static tm_status generate(const run_args *a, tm_model *model, tm_token *prompt, int32_t n_prompt,
                          tm_err *err)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = (int32_t)a->n_ctx;
    sp.n_threads = (int32_t)a->n_threads;
    tm_kv_cache *cache = NULL;
    tm_session *s = NULL;
    tm_sampler *sampler = NULL;
    float *logits = NULL;
    int32_t n_vocab = tm_model_n_vocab(model);
    tm_sampler_params smp = a->sampling;
    tm_status st = tm_cli_kv_setup(&a->kv, model, 1, &sp, &cache, err);
    if (st == TM_OK)
        st = tm_session_create(model, &sp, &s, err);
    if (st == TM_OK)
        st = tm_sampler_create(&smp, n_vocab, &sampler, err);
    if (st == TM_OK && !(logits = tm_malloc((size_t)n_vocab * sizeof *logits)))
        st = tm_fail(err, TM_E_NOMEM, "logits");
    int32_t n_keep = 0;
    if (st == TM_OK)
        st = fit_prompt(a, model, s, prompt, &n_prompt, &n_keep, err);
    int32_t n_restored = 0;
    if (st == TM_OK && a->prompt_cache)
        n_restored = restore_prompt_cache(a->prompt_cache, s, prompt, n_prompt);
    int64_t t0 = tm_time_us();
    if (st == TM_OK)
        st = tm_session_eval(s, prompt + n_restored, n_prompt - n_restored, logits, false, err);
    int64_t t1 = tm_time_us(), n_gen = 0;
    if (st == TM_OK && a->prompt_cache && n_restored < n_prompt - 1) {
        tm_err serr = {0};
        if (tm_session_save(s, a->prompt_cache, &serr) == TM_OK)
            fprintf(stderr, "prompt cache: saved %d positions to '%s'\n", n_prompt,
                    a->prompt_cache);
        else
            fprintf(stderr, "warning: prompt cache not saved: %s\n", serr.msg);
    }
    for (int32_t i = 0; st == TM_OK && i < n_prompt; i++)
        tm_sampler_accept(sampler, prompt[i]);
    tm_token prev = n_prompt > 0 ? prompt[n_prompt - 1] : -1;
    bool stopped_by_ctx = false;
    int64_t n_shifts = 0, n_shifted = 0;
    while (st == TM_OK && n_gen < a->n_predict) {
        tm_token tok = tm_sampler_sample(sampler, logits);
        if (tm_token_is_eog(model, tok) && !a->ignore_eos)
            break;
        tm_sampler_accept(sampler, tok);
        print_piece(model, prev, tok);
        prev = tok;
        n_gen++;
        if (n_gen == a->n_predict)
            break;
        if (tm_session_n_past(s) >= tm_session_n_ctx(s)) {
            if (a->overflow != TM_OVERFLOW_SHIFT) {
                stopped_by_ctx = true;
                break;
            }
            st = shift(s, n_keep, &n_shifted, err);
            n_shifts++;
        }
        if (st == TM_OK)
            st = tm_session_eval(s, &tok, 1, logits, false, err);
    }
    int64_t t2 = tm_time_us();
    if (st == TM_OK) {
        fputc('\n', stdout);
        fflush(stdout);
        if (stopped_by_ctx)
            fprintf(stderr,
                    "stopped: the context of %d tokens is full (--overflow shift goes on past "
                    "it)\n",
                    tm_session_n_ctx(s));
        if (n_shifts > 0)
            fprintf(stderr, "context shifts: %lld, %lld tokens dropped in all (--keep %d)\n",
                    (long long)n_shifts, (long long)n_shifted, n_keep);
        double pp_s = (double)(t1 - t0) / 1e6, tg_s = (double)(t2 - t1) / 1e6;
        fprintf(stderr,
                "prompt: %d tokens in %.3f s (%.1f t/s); generated: %lld tokens in %.3f s "
                "(%.1f t/s); kernels %s\n",
                n_prompt - n_restored, pp_s, pp_s > 0 ? (n_prompt - n_restored) / pp_s : 0.0,
                (long long)n_gen, tg_s, tg_s > 0 ? (double)n_gen / tg_s : 0.0,
                tm_model_kernels(model));
    }
    if (st == TM_OK && a->verbose) {
        tm_kv_cache_stats kv;
        tm_kv_cache_stats_get(tm_session_kv_cache(s), &kv);
        fprintf(stderr,
                "KV cache: %d blocks of %d positions: %d used, %d cached, %d free (%.1f "
                "MiB)\n",
                kv.n_blocks, kv.block_tokens, kv.used, kv.cached, kv.free,
                (double)kv.kv_bytes / 1048576.0);
    }
    tm_free(logits);
    tm_sampler_free(sampler);
    tm_session_free(s);
    tm_kv_cache_free(cache);
    return st;
}

int tm_app_run_main(int argc, char **argv)
{
    run_args a;
    int exit_code = 0;
    if (!parse_args(argc, argv, &a, &exit_code))
        return exit_code;
    tm_err err = {0};
    char *file_text = NULL;
    size_t len = 0;
    const char *text = a.prompt ? a.prompt : "";
    tm_status st = TM_OK;
    if (a.prompt_file) {
        st = tm_file_read_all(a.prompt_file, MAX_PROMPT_BYTES, &file_text, &len, &err);
        text = file_text;
    } else {
        len = strlen(text);
    }
    tm_model *model = NULL;
    tm_token *ids = NULL;
    int32_t n_ids = 0;
    tm_model_params mp = tm_model_params_default();
    mp.float_activations = a.f32_act;
    mp.n_threads = (int32_t)a.n_threads; /* -t covers the repacking at load too */
    if (st == TM_OK)
        st = tm_model_load(a.model_path, &mp, &model, &err);
    if (st == TM_OK)
        st = tokenize_prompt(model, text, len, &ids, &n_ids, &err);
    if (st == TM_OK && n_ids == 0)
        st = tm_fail(&err, TM_E_ARG, "the prompt is empty and the model adds no BOS token");
    if (st == TM_OK && a.verbose) {
        fprintf(stderr, "prompt ids:");
        for (int32_t i = 0; i < n_ids; i++)
            fprintf(stderr, " %d", ids[i]);
        fputc('\n', stderr);
    }
    if (st == TM_OK)
        st = generate(&a, model, ids, n_ids, &err);
    tm_free(ids);
    tm_free(file_text);
    tm_model_free(model);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
