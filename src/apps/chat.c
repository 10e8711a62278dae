/* temoto chat: a conversation in the terminal through the model's own chat template.
 *
 * Every turn renders the whole conversation with the template (so the prompt is exactly what
 * the model was trained on) and tokenizes it; the tokens the session already holds are kept
 * when they are a prefix of the new prompt, so a turn costs only its new tokens. Replies
 * stream to stdout as they are generated, never splitting a UTF-8 character; prompts and
 * messages go to stderr. Ctrl-C stops a reply (a second Ctrl-C quits).
 *
 * Context limits follow --overflow. By default a conversation longer than the context is an
 * error and a reply stops when the context is full. truncate-left and shift drop the oldest
 * turns (a user message and its reply together, so roles still alternate as templates
 * demand; the system message stays) until the conversation leaves room for a reply;
 * shift also makes room inside a reply that fills the context by dropping the older half of
 * the tokens after the first --keep (tm_session_shift). Cutting whole turns keeps every
 * prompt a rendering of the template, and the held prefix of the next turn still matches. */
#include "apps.h"
#include "cli.h"

#include "base/base.h"
#include "text/text.h"

#include <stdio.h>
#include <string.h>

#define MAX_LINE_BYTES    ((size_t)1 << 20)
#define MAX_HISTORY_BYTES ((size_t)64 << 20)

typedef struct chat_args {
    const char *model_path, *system, *message, *template_path, *prompt_cache;
    int64_t n_predict, n_threads, n_ctx;
    tm_sampler_params sampling;
    tm_cli_kv kv;
    tm_overflow overflow;
    int64_t n_keep; /* -1: BOS only */
    bool verbose, no_reuse;
} chat_args;

typedef struct chat {
    const chat_args *args;
    tm_model *model;
    tm_session *session;
    tm_sampler *sampler;
    char *template_src; /* --template, or NULL for the model's */
    char *system;       /* the system message, NULL for none */
    tm_buf history;     /* the messages after the system one, as JSON objects joined by "," */
    size_t *msg_at;     /* [n_msgs] where each message starts in history */
    int32_t n_msgs, cap_msgs;
    int32_t first_msg; /* the messages before it were dropped to fit the context */
    tm_token *held;    /* the tokens the session holds, in order */
    int32_t n_held, cap_held;
    float *logits;
    int64_t t_prompt_us, t_gen_us, n_prompt_tokens, n_gen_tokens;
    bool cache_saved; /* --prompt-cache: the first prompt was saved */
} chat;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto chat -m MODEL.gguf [--system TEXT] [--message TEXT] [options]\n"
            "\n"
            "Talks with the model through its chat template. Without --message it reads\n"
            "messages from standard input, one per line (end a line with \\ to continue it),\n"
            "and streams each reply; with --message it answers once and exits.\n"
            "Commands: /clear (forget the conversation), /system TEXT (new system message),\n"
            "/settings, /help, /exit. Ctrl-C stops a reply; at the prompt it quits.\n"
            "\n"
            "  -m, --model FILE         GGUF model\n"
            "  --system TEXT            system message\n"
            "  --message TEXT           answer this one message and exit\n"
            "  --template FILE          a Jinja chat template instead of the model's\n"
            "  -n, --n-predict N        new tokens per reply at most (default "
            "1024)\n" TM_CLI_SAMPLING_HELP
            "  -c, --ctx-size N         context length (default: the model's, at most 4096)\n"
            "  -t, --threads N          threads (default: one per core)\n" TM_CLI_KV_HELP
            "  --overflow P             a conversation longer than the context, or a reply that\n"
            "                           fills it: error (default: say so), truncate-left (drop\n"
            "                           the oldest turns until a reply of N tokens fits, at most\n"
            "                           half the context; the system message stays), or shift\n"
            "                           (as truncate-left, and a reply that fills the context\n"
            "                           drops the older half of it and goes on)\n"
            "  --keep N                 tokens at the start a shift keeps (default: BOS only)\n"
            "  --no-prefix-reuse        evaluate every prompt from the start (slower; for checks)\n"
            "  --prompt-cache FILE      restore the keys and values of the first prompt's start\n"
            "                           (the system message) from FILE, saved there by an\n"
            "                           earlier chat with the same model and KV types, and save\n"
            "                           the first prompt there\n"
            "  -v, --verbose            print each prompt's token ids and timings to stderr\n");
}

static bool parse_args(int argc, char **argv, chat_args *a, int *exit_code)
{
    *a = (chat_args){.n_predict = 1024,
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
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--system", &a->system, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--message", &a->message, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--template", &a->template_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--prompt-cache", &a->prompt_cache, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-n", "--n-predict", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, INT32_MAX, &a->n_predict);
        } else if (tm_cli_sampling_flag(argc, argv, &i, &a->sampling, &bad)) {
        } else if (tm_cli_kv_flag(argc, argv, &i, &a->kv, &bad)) {
        } else if (tm_cli_overflow_flag(argc, argv, &i, &a->overflow, &a->n_keep, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-c", "--ctx-size", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 1 << 24, &a->n_ctx);
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 1024, &a->n_threads);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--no-prefix-reuse", NULL, &bad)) {
            a->no_reuse = true;
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
    if (bad) {
        usage(stderr);
        *exit_code = 2;
        return false;
    }
    return true;
}

/* ---- the conversation -------------------------------------------------------------------- */

static tm_status add_message(chat *c, const char *role, const char *text, size_t n, tm_err *err)
{
    tm_status st = TM_OK;
    if (c->n_msgs == c->cap_msgs) {
        int32_t cap = TM_MAX(2 * c->cap_msgs, 16);
        size_t *more = tm_realloc(c->msg_at, (size_t)cap * sizeof *more);
        if (!more)
            return tm_fail(err, TM_E_NOMEM, "message list");
        c->msg_at = more;
        c->cap_msgs = cap;
    }
    if (c->history.len)
        st = tm_buf_append(&c->history, ", ", 2, err);
    if (st == TM_OK)
        c->msg_at[c->n_msgs++] = c->history.len;
    if (st == TM_OK)
        st = tm_buf_printf(&c->history, err, "{\"role\": \"%s\", \"content\": ", role);
    if (st == TM_OK)
        st = tm_buf_append_json_string(&c->history, text, n, err);
    if (st == TM_OK)
        st = tm_buf_append(&c->history, "}", 1, err);
    if (st == TM_E_LIMIT)
        tm_err_context(err, "the conversation is too long: /clear starts a new one");
    return st;
}

/* The prompt for the next reply: the conversation rendered by the template. */
static tm_status render(chat *c, char **out, size_t *n, tm_err *err)
{
    /* the messages still in the conversation: from first_msg on */
    size_t from = c->first_msg < c->n_msgs ? c->msg_at[c->first_msg] : c->history.len;
    const char *msgs = c->history.data + from;
    size_t n_msgs = c->history.len - from;
    tm_buf ctx;
    tm_buf_init(&ctx, 2 * MAX_HISTORY_BYTES);
    tm_status st = tm_buf_printf(&ctx, err, "{\"add_generation_prompt\": true, \"messages\": [");
    if (st == TM_OK && c->system) {
        st = tm_buf_printf(&ctx, err, "{\"role\": \"system\", \"content\": ");
        if (st == TM_OK)
            st = tm_buf_append_json_string(&ctx, c->system, strlen(c->system), err);
        if (st == TM_OK)
            st = tm_buf_printf(&ctx, err, "%s", n_msgs ? "}, " : "}");
    }
    if (st == TM_OK && n_msgs)
        st = tm_buf_append(&ctx, msgs, n_msgs, err);
    if (st == TM_OK)
        st = tm_buf_append(&ctx, "]}", 2, err);
    size_t cap = 4096;
    char *text = NULL;
    for (int attempt = 0; st == TM_OK && attempt < 2; attempt++) {
        tm_free(text);
        if (!(text = tm_malloc(cap))) {
            st = tm_fail(err, TM_E_NOMEM, "prompt");
            break;
        }
        st = tm_chat_render(c->model, c->template_src, ctx.data, ctx.len, text, cap, n, err);
        if (st != TM_E_LIMIT || *n <= cap)
            break;
        cap = *n; /* the exact size, once */
        st = TM_OK;
    }
    tm_buf_fini(&ctx);
    if (st != TM_OK) {
        tm_free(text);
        return st;
    }
    *out = text;
    return TM_OK;
}

/* Tokens of the rendered prompt: special tokens parsed; BOS in front when the vocabulary
 * wants it and the template did not write it. */
static tm_status tokenize(chat *c, const char *text, size_t n, tm_token **out, int32_t *n_out,
                          tm_err *err)
{
    tm_token bos = tm_model_bos(c->model);
    bool add_bos = false;
    if (tm_model_add_bos(c->model) && bos >= 0) {
        char piece[256];
        int32_t m = tm_token_to_piece(c->model, bos, true, piece, sizeof piece);
        add_bos = !(m > 0 && (size_t)m <= n && memcmp(text, piece, (size_t)m) == 0);
    }
    int32_t cap = (int32_t)TM_MIN(n + 8, (size_t)INT32_MAX / 2), count = 0;
    tm_token *ids = tm_malloc((size_t)cap * sizeof *ids);
    if (!ids)
        return tm_fail(err, TM_E_NOMEM, "prompt of %zu bytes", n);
    if (add_bos)
        ids[0] = bos;
    tm_status st = tm_tokenize(c->model, text, n, false, true, ids + add_bos, cap - 1, &count, err);
    if (st != TM_OK) {
        tm_free(ids);
        return st;
    }
    *out = ids;
    *n_out = count + add_bos;
    return TM_OK;
}

static tm_status hold(chat *c, const tm_token *ids, int32_t n, tm_err *err)
{
    if (c->n_held + n > c->cap_held) {
        int32_t cap = TM_MAX(c->cap_held * 2, c->n_held + n);
        tm_token *more = tm_realloc(c->held, (size_t)cap * sizeof *more);
        if (!more)
            return tm_fail(err, TM_E_NOMEM, "token history");
        c->held = more;
        c->cap_held = cap;
    }
    memcpy(c->held + c->n_held, ids, (size_t)n * sizeof *ids);
    c->n_held += n;
    return TM_OK;
}

/* Evaluates the prompt, reusing what the session holds when it is a prefix. */
static tm_status feed(chat *c, const tm_token *ids, int32_t n, tm_err *err)
{
    if (n == 0)
        return tm_fail(err, TM_E_ARG, "the chat template rendered an empty prompt");
    int32_t same = 0;
    while (!c->args->no_reuse && same < n && same < c->n_held && ids[same] == c->held[same])
        same++;
    if (same == n) /* nothing new: evaluate the last token again for its logits */
        same--;
    if (same < c->n_held) { /* the history was written differently: keep the common part */
        tm_session_truncate(c->session, same);
        c->n_held = same;
    }
    int32_t n_ctx = tm_session_n_ctx(c->session);
    if (n >= n_ctx)
        return tm_fail(err, TM_E_LIMIT,
                       "the conversation has %d tokens, the context holds %d: /clear starts a "
                       "new one (or raise -c)",
                       n, n_ctx);
    int64_t t0 = tm_time_us();
    tm_status st = tm_session_eval(c->session, ids + same, n - same, c->logits, false, err);
    c->t_prompt_us += tm_time_us() - t0;
    c->n_prompt_tokens += n - same;
    if (st == TM_OK)
        st = hold(c, ids + same, n - same, err);
    if (c->args->verbose)
        fprintf(stderr, "[prompt: %d tokens, %d reused]\n", n, same);
    if (st == TM_OK && c->args->prompt_cache && !c->cache_saved) {
        tm_err serr = {0};
        c->cache_saved = true;
        if (tm_session_save(c->session, c->args->prompt_cache, &serr) != TM_OK)
            fprintf(stderr, "warning: prompt cache not saved: %s\n", serr.msg);
    }
    return st;
}

/* --prompt-cache at start: the saved sequence becomes the held prefix the first prompt is
 * compared with (feed keeps what it shares). A missing file is a first run; one that does not
 * fit is a warning. */
static tm_status restore_prompt_cache(chat *c, tm_err *err)
{
    const char *path = c->args->prompt_cache;
    FILE *f = tm_fopen(path, "rb");
    if (!f)
        return TM_OK;
    fclose(f);
    tm_err lerr = {0};
    if (tm_session_load(c->session, path, &lerr) != TM_OK) {
        fprintf(stderr, "warning: prompt cache not used: %s\n", lerr.msg);
        tm_session_reset(c->session);
        return TM_OK;
    }
    if (c->args->verbose)
        fprintf(stderr, "[prompt cache: %d tokens restored from '%s']\n",
                tm_session_n_past(c->session), path);
    return hold(c, tm_session_tokens(c->session), tm_session_n_past(c->session), err);
}

/* Context shift inside a reply: the older half of the held tokens after the kept start go,
 * in the session and in the held copy alike. */
static tm_status shift(chat *c, tm_err *err)
{
    tm_token bos = tm_model_bos(c->model);
    int32_t keep = c->args->n_keep >= 0 ? (int32_t)TM_MIN(c->args->n_keep, c->n_held)
                                        : c->n_held > 0 && bos >= 0 && c->held[0] == bos;
    int32_t n_discard = (c->n_held - keep) / 2;
    if (n_discard < 1)
        return tm_fail(err, TM_E_LIMIT,
                       "cannot shift the context: keeping %d of its %d tokens leaves nothing to "
                       "drop (lower --keep)",
                       keep, c->n_held);
    tm_status st = tm_session_shift(c->session, keep, n_discard, err);
    if (st != TM_OK)
        return st;
    memmove(c->held + keep, c->held + keep + n_discard,
            (size_t)(c->n_held - keep - n_discard) * sizeof *c->held);
    c->n_held -= n_discard;
    fprintf(stderr, "\n[context shift: dropped %d tokens after the first %d]\n", n_discard, keep);
    return TM_OK;
}

/* Streams one reply to stdout; its text goes to *reply. */
static tm_status generate(chat *c, tm_buf *reply, tm_err *err)
{
    tm_utf8_stream stream = {0};
    tm_sampler_reset(c->sampler);
    for (int32_t i = 0; i < c->n_held; i++)
        tm_sampler_accept(c->sampler, c->held[i]);
    int32_t n_ctx = tm_session_n_ctx(c->session);
    int64_t t0 = tm_time_us();
    tm_status st = TM_OK;
    char piece[512], out[512 + 4];
    for (int64_t n = 0; st == TM_OK && n < c->args->n_predict; n++) {
        if (tm_interrupt_take()) {
            fputs("\n[stopped]", stderr);
            break;
        }
        tm_token tok = tm_sampler_sample(c->sampler, c->logits);
        if (tm_token_is_eog(c->model, tok))
            break;
        tm_sampler_accept(c->sampler, tok);
        int32_t m = tm_token_to_piece(c->model, tok, false, piece, sizeof piece);
        if (m > 0) {
            size_t k =
                tm_utf8_stream_push(&stream, piece, (size_t)TM_MIN(m, (int32_t)sizeof piece), out);
            fwrite(out, 1, k, stdout);
            fflush(stdout);
            st = tm_buf_append(reply, piece, (size_t)TM_MIN(m, (int32_t)sizeof piece), err);
        }
        c->n_gen_tokens++;
        if (st == TM_OK && c->n_held + 1 >= n_ctx) {
            if (c->args->overflow != TM_OVERFLOW_SHIFT) {
                fputs("\n[the context is full: /clear starts a new conversation, --overflow "
                      "shift goes on past it]",
                      stderr);
                break;
            }
            st = shift(c, err);
        }
        if (st == TM_OK)
            st = tm_session_eval(c->session, &tok, 1, c->logits, false, err);
        if (st == TM_OK)
            st = hold(c, &tok, 1, err);
    }
    size_t k = tm_utf8_stream_flush(&stream, out);
    fwrite(out, 1, k, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    c->t_gen_us += tm_time_us() - t0;
    return st;
}

/* The conversation rendered and tokenized: *ids (caller frees) and *n_ids. */
static tm_status prompt_ids(chat *c, tm_token **ids, int32_t *n_ids, tm_err *err)
{
    char *prompt = NULL;
    size_t n_prompt = 0;
    tm_status st = render(c, &prompt, &n_prompt, err);
    if (st == TM_OK)
        st = tokenize(c, prompt, n_prompt, ids, n_ids, err);
    tm_free(prompt);
    return st;
}

/* truncate-left and shift: a conversation that does not fit the context loses its oldest
 * turns until a reply of n_predict tokens (at most half the context) fits after it. */
static tm_status fit(chat *c, tm_token **ids, int32_t *n_ids, tm_err *err)
{
    int32_t n_ctx = tm_session_n_ctx(c->session), n_before = *n_ids, turns = 0;
    if (c->args->overflow == TM_OVERFLOW_ERROR || *n_ids < n_ctx)
        return TM_OK;
    int32_t budget = n_ctx - (int32_t)TM_MIN(c->args->n_predict, n_ctx / 2);
    tm_status st = TM_OK;
    /* the last message is the user's new one: a turn before it is two messages */
    while (st == TM_OK && *n_ids > budget && c->n_msgs - c->first_msg >= 3) {
        c->first_msg += 2;
        turns++;
        tm_free(*ids);
        *ids = NULL;
        st = prompt_ids(c, ids, n_ids, err);
    }
    if (st == TM_OK && *n_ids >= n_ctx)
        return tm_fail(err, TM_E_LIMIT,
                       "the message makes a prompt of %d tokens on its own, the context holds %d "
                       "(raise -c)",
                       *n_ids, n_ctx);
    if (st == TM_OK)
        fprintf(stderr,
                "[the conversation had %d tokens, the context holds %d: dropped the oldest %d "
                "turn%s, %d tokens left]\n",
                n_before, n_ctx, turns, turns == 1 ? "" : "s", *n_ids);
    return st;
}

/* One user message in, one reply out. */
static tm_status turn(chat *c, const char *text, size_t n, tm_err *err)
{
    size_t history_len = c->history.len;
    int32_t n_msgs = c->n_msgs, first_msg = c->first_msg;
    tm_token *ids = NULL;
    int32_t n_ids = 0;
    tm_buf reply;
    tm_buf_init(&reply, MAX_HISTORY_BYTES);
    tm_status st = add_message(c, "user", text, n, err);
    if (st == TM_OK)
        st = prompt_ids(c, &ids, &n_ids, err);
    if (st == TM_OK)
        st = fit(c, &ids, &n_ids, err);
    if (st == TM_OK && c->args->verbose) {
        fprintf(stderr, "[prompt ids:");
        for (int32_t i = 0; i < n_ids; i++)
            fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "]\n");
    }
    if (st == TM_OK)
        st = feed(c, ids, n_ids, err);
    if (st == TM_OK)
        st = generate(c, &reply, err);
    if (st == TM_OK)
        st = add_message(c, "assistant", reply.data ? reply.data : "", reply.len, err);
    if (st != TM_OK) { /* the failed message leaves no trace in the conversation */
        c->history.len = history_len;
        c->n_msgs = n_msgs;
        c->first_msg = first_msg;
    }
    tm_buf_fini(&reply);
    tm_free(ids);
    return st;
}

/* ---- the terminal ------------------------------------------------------------------------ */

static void clear(chat *c)
{
    c->history.len = 0;
    c->n_msgs = 0;
    c->first_msg = 0;
    tm_session_reset(c->session);
    c->n_held = 0;
}

static void show_settings(const chat *c)
{
    const tm_sampler_params *s = &c->args->sampling;
    fprintf(stderr,
            "model %s (%s), kernels %s, context %d tokens (%d used), overflow %s\n"
            "sampling: temp %g, top-k %d, top-p %g, min-p %g, repeat penalty %g over %d, "
            "seed %llu; at most %lld tokens per reply\n"
            "system: %s\n"
            "so far: prompt %lld tokens (%.1f t/s), generated %lld tokens (%.1f t/s)\n",
            c->args->model_path, tm_model_arch(c->model), tm_model_kernels(c->model),
            tm_session_n_ctx(c->session), c->n_held, tm_overflow_name(c->args->overflow),
            s->temperature, s->top_k, s->top_p, s->min_p, s->repeat_penalty, s->repeat_last_n,
            (unsigned long long)s->seed, (long long)c->args->n_predict,
            c->system ? c->system : "(none)", (long long)c->n_prompt_tokens,
            c->t_prompt_us ? (double)c->n_prompt_tokens * 1e6 / (double)c->t_prompt_us : 0.0,
            (long long)c->n_gen_tokens,
            c->t_gen_us ? (double)c->n_gen_tokens * 1e6 / (double)c->t_gen_us : 0.0);
    tm_kv_cache_stats kv;
    tm_kv_cache_stats_get(tm_session_kv_cache(c->session), &kv);
    fprintf(stderr,
            "KV cache: %d blocks of %d positions: %d used, %d cached, %d free (%.1f MiB); "
            "%llu positions reused\n",
            kv.n_blocks, kv.block_tokens, kv.used, kv.cached, kv.free,
            (double)kv.kv_bytes / 1048576.0, (unsigned long long)kv.reused_tokens);
}

/* Reads one message (lines ending in a backslash continue it). false at the end of input
 * or on Ctrl-C. */
static bool read_message(tm_buf *line, bool prompt)
{
    line->len = 0;
    if (line->data)
        line->data[0] = 0;
    if (prompt)
        fputs("> ", stderr);
    char chunk[4096];
    for (;;) {
        if (!fgets(chunk, sizeof chunk, stdin))
            return line->len > 0 && !tm_interrupt_take();
        size_t n = strlen(chunk);
        bool eol = n > 0 && chunk[n - 1] == '\n';
        if (eol)
            n--;
        if (n > 0 && chunk[n - 1] == '\r')
            n--;
        bool more = eol && n > 0 && chunk[n - 1] == '\\';
        if (more)
            n--;
        if (tm_buf_append(line, chunk, n, NULL) != TM_OK)
            return false;
        if (more) {
            tm_buf_append(line, "\n", 1, NULL);
            if (prompt)
                fputs(". ", stderr);
            continue;
        }
        if (eol || feof(stdin))
            return true;
    }
}

static bool command(chat *c, const char *line, bool *quit)
{
    if (line[0] != '/' || line[1] == '/')
        return false;
    if (strcmp(line, "/exit") == 0 || strcmp(line, "/quit") == 0)
        *quit = true;
    else if (strcmp(line, "/clear") == 0) {
        clear(c);
        fputs("[the conversation is cleared]\n", stderr);
    } else if (strncmp(line, "/system", 7) == 0 && (line[7] == ' ' || line[7] == 0)) {
        tm_free(c->system);
        c->system = line[7] && line[8] ? tm_strdup(line + 8) : NULL;
        clear(c);
        fprintf(stderr, "[system message %s; the conversation is cleared]\n",
                c->system ? "set" : "removed");
    } else if (strcmp(line, "/settings") == 0)
        show_settings(c);
    else
        fputs("commands: /clear, /system TEXT, /settings, /exit (start a message with // to "
              "send a leading /)\n",
              stderr);
    return true;
}

static tm_status run_chat(chat *c, tm_err *err)
{
    if (c->args->message)
        return turn(c, c->args->message, strlen(c->args->message), err);
    bool interactive = tm_stdin_is_terminal();
    if (interactive)
        fprintf(stderr,
                "temoto chat: %s. /help for commands, Ctrl-C stops a reply, Ctrl-D quits.\n",
                c->args->model_path);
    tm_buf line;
    tm_buf_init(&line, MAX_LINE_BYTES);
    tm_status st = TM_OK;
    bool quit = false;
    while (!quit && read_message(&line, interactive)) {
        const char *text = line.data ? line.data : "";
        if (line.len == 0 || command(c, text, &quit))
            continue;
        if (text[0] == '/') /* "//x" sends "/x" */
            text++;
        tm_err turn_err = {0};
        st = turn(c, text, strlen(text), &turn_err);
        if (st == TM_OK)
            continue;
        if (!interactive) { /* a script wants to know: the caller reports it */
            *err = turn_err;
            break;
        }
        /* a turn that fails (too long, a template error) is reported; the chat goes on */
        fprintf(stderr, "error: %s\n", turn_err.msg);
        st = TM_OK;
    }
    if (interactive)
        fputc('\n', stderr);
    tm_buf_fini(&line);
    return st;
}

int tm_app_chat_main(int argc, char **argv)
{
    chat_args a;
    int exit_code = 0;
    if (!parse_args(argc, argv, &a, &exit_code))
        return exit_code;
    chat c;
    memset(&c, 0, sizeof c);
    c.args = &a;
    tm_buf_init(&c.history, MAX_HISTORY_BYTES);
    tm_err err = {0};
    size_t n = 0;
    tm_status st = TM_OK;
    if (a.template_path)
        st = tm_file_read_all(a.template_path, 1u << 22, &c.template_src, &n, &err);
    if (st == TM_OK && a.system && !(c.system = tm_strdup(a.system)))
        st = tm_fail(&err, TM_E_NOMEM, "system message");
    if (st == TM_OK)
        st = tm_model_load(a.model_path, NULL, &c.model, &err);
    if (st == TM_OK && !a.template_path && !tm_model_chat_template(c.model))
        st = tm_fail(&err, TM_E_ARG,
                     "%s has no chat template (tokenizer.chat_template): give one with --template",
                     a.model_path);
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = (int32_t)a.n_ctx;
    sp.n_threads = (int32_t)a.n_threads;
    tm_kv_cache *cache = NULL;
    if (st == TM_OK)
        st = tm_cli_kv_setup(&a.kv, c.model, 1, &sp, &cache, &err);
    if (st == TM_OK)
        st = tm_session_create(c.model, &sp, &c.session, &err);
    if (st == TM_OK && a.prompt_cache)
        st = restore_prompt_cache(&c, &err);
    if (st == TM_OK)
        st = tm_sampler_create(&a.sampling, tm_model_n_vocab(c.model), &c.sampler, &err);
    if (st == TM_OK &&
        !(c.logits = tm_malloc((size_t)tm_model_n_vocab(c.model) * sizeof *c.logits)))
        st = tm_fail(&err, TM_E_NOMEM, "logits");
    if (st == TM_OK) {
        tm_interrupt_install();
        st = run_chat(&c, &err);
        if (a.verbose)
            show_settings(&c);
    }
    tm_free(c.logits);
    tm_free(c.held);
    tm_free(c.msg_at);
    tm_free(c.system);
    tm_free(c.template_src);
    tm_buf_fini(&c.history);
    tm_sampler_free(c.sampler);
    tm_session_free(c.session);
    tm_kv_cache_free(cache);
    tm_model_free(c.model);
    return st == TM_OK ? 0 : tm_cli_error("%s", err.msg);
}
