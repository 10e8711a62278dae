/* The suite's measurements, in this order, on any backend:
 *
 *   cold      the first request after the model was loaded (the short prompt)
 *   warm-up   --warmup untimed requests of the short prompt
 *   short     --runs requests of the short prompt
 *   longN     --runs requests of a document of about N tokens and a question, for each
 *             --long N whose prompt and reply fit the context (others: skipped, and why)
 *   prefix    a document of --prefix-tokens and a question: one untimed request fills the
 *             cache, then --runs requests with other questions on the prefix cache (on),
 *             then --runs without it (off)
 *   P1 P2 P3  --runs requests of each task, every reply checked (json_check.h)
 *
 * Every prompt but the prefix test's "on" runs begins with a line naming its request
 * ("ID: short-3"): no two requests share more than the chat template's first tokens, so a
 * server's prefix cache cannot turn a latency figure into a cache hit; in-process those run
 * on a KV cache without prefix reuse anyway. Run i of a part samples with seed + i. */
#include "suite.h"

#include "json_check.h"

#include <stdarg.h>
#include <string.h>

#define FALLBACK_BYTES_PER_TOKEN 2.5 /* Japanese UTF-8 without a tokenizer: docs/bench.md */
/* Positions reserved beyond a long prompt's target: the ID line, questions of different
 * lengths, the 1% the sizing may miss by. */
#define SLACK                    256
#define ID_TOKENS                32 /* the "ID: ..." line, spelt in bytes by the smallest vocabularies */

typedef struct run {
    suite_backend *b;
    const suite_args *a;
    suite_results *r;
    double tokens_per_byte; /* of the document, with the template: sizes long prompts */
    bool ratio_exact;
} run;

static void progress(const run *u, const char *fmt, ...) TM_PRINTF(2, 3);

static void progress(const run *u, const char *fmt, ...)
{
    if (u->a->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("suite: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

tm_status suite_backend_complete(suite_backend *b, const suite_request *rq, suite_reply *out,
                                 tm_err *err)
{
    tm_buf_init(&out->text, SUITE_MAX_REPLY);
    memset(&out->s, 0, sizeof out->s);
    out->s.ttft_ms = out->s.e2e_ms = out->s.prompt_tps = out->s.gen_tps = -1;
    tm_status st = b->complete(b->self, rq, out, err);
    if (st != TM_OK)
        tm_buf_fini(&out->text);
    return st;
}

/* A failure a part survives: the request was too long for the server or engine. */
static bool skippable(tm_status st)
{
    return st == TM_E_LIMIT || st == TM_E_ARG;
}

/* ---- prompts ------------------------------------------------------------------------------ */

/* "ID: <tag>\n\n" and then the body. */
static tm_status with_id(const char *tag, const char *body, size_t n, tm_buf *out, tm_err *err)
{
    tm_buf_init(out, n + 256);
    tm_status st = TM_OK;
    if (tag)
        st = tm_buf_printf(out, err, "ID: %s\n\n", tag);
    if (st == TM_OK)
        st = tm_buf_append(out, body, n, err);
    return st;
}

/* A document of doc_bytes (the transcript over and over, cut after a whole character), the
 * instruction and a question. */
static tm_status long_body(size_t doc_bytes, int question, tm_buf *out, tm_err *err)
{
    const char *t = suite_transcript();
    size_t tn = strlen(t);
    tm_buf_init(out, doc_bytes + tn + 4096);
    tm_status st = TM_OK;
    for (size_t at = 0; st == TM_OK && at < doc_bytes;) {
        size_t take = TM_MIN(tn, doc_bytes - at);
        while (take < tn && take > 0 && ((unsigned char)t[take] & 0xc0) == 0x80)
            take--; /* whole characters (lines are too coarse for byte-level vocabularies) */
        if (take == 0)
            break;
        st = tm_buf_append(out, t, take, err);
        at += take;
    }
    if (st == TM_OK)
        st = tm_buf_printf(out, err, "%s%s", suite_long_instruction(),
                           suite_prefix_question(question));
    return st;
}

/* The text of a long request: the ID line (tag not NULL), the document of doc_bytes and
 * the question. */
static tm_status long_text(const char *tag, size_t doc_bytes, int question, tm_buf *out,
                           tm_err *err)
{
    tm_buf body;
    tm_status st = long_body(doc_bytes, question, &body, err);
    if (st == TM_OK)
        st = with_id(tag, body.data, body.len, out, err);
    else
        tm_buf_init(out, 0);
    tm_buf_fini(&body);
    return st;
}

/* The document's size for a long prompt of about `target` tokens: from the tokens per byte
 * of the document, then (when the backend counts tokens) corrected twice from the real
 * count. *n_tokens: the prompt's tokens (estimated when the backend cannot count). */
static tm_status long_size(run *u, int32_t target, size_t *doc_bytes, int32_t *n_tokens,
                           tm_err *err)
{
    tm_buf empty; /* the instruction and question around the document */
    tm_status est = long_text(NULL, 0, 0, &empty, err);
    double around = (double)empty.len;
    tm_buf_fini(&empty);
    if (est != TM_OK)
        return est;
    size_t bytes = (size_t)TM_MAX(target / u->tokens_per_byte - around, 64.0);
    for (int pass = 0; pass < 3; pass++) {
        tm_buf text;
        tm_status st = long_text(NULL, bytes, 0, &text, err);
        int32_t n = st == TM_OK ? u->b->count_tokens(u->b->self, text.data, text.len) : -1;
        size_t len = text.len;
        tm_buf_fini(&text);
        if (st != TM_OK)
            return st;
        if (n <= 0) {
            *n_tokens = (int32_t)((double)len * u->tokens_per_byte);
            break; /* estimated */
        }
        *n_tokens = n;
        if (pass == 2 || TM_MAX(n, target) - TM_MIN(n, target) <= target / 100)
            break;
        bytes = (size_t)((double)bytes * target / n);
    }
    *doc_bytes = bytes;
    return TM_OK;
}

/* Tokens per byte of the document: counted by the backend, or reported by the server for a
 * calibration request (the document's first 4 KiB and 1 new token, untimed), or a fallback
 * (then every long prompt's size is an estimate). A server that refuses the calibration is
 * not an error: the fallback stands. */
static tm_status calibrate(run *u, tm_err *err)
{
    tm_buf body;
    tm_status st = long_body(4096, 0, &body, err);
    int32_t n = st == TM_OK ? u->b->count_tokens(u->b->self, body.data, body.len) : -1;
    if (st == TM_OK && n > 0) {
        u->tokens_per_byte = (double)n / (double)body.len;
        u->ratio_exact = true;
    } else if (st == TM_OK) {
        suite_request rq = {body.data, body.len, 1, u->a->seed, true};
        suite_reply rep;
        st = suite_backend_complete(u->b, &rq, &rep, err);
        if (st == TM_OK) {
            if (rep.s.n_prompt_exact && rep.s.n_prompt > 0) {
                u->tokens_per_byte = (double)rep.s.n_prompt / (double)body.len;
                u->ratio_exact = true;
            }
            tm_buf_fini(&rep.text);
        } else if (skippable(st)) {
            progress(u, "calibration request refused: %s", err->msg);
            st = TM_OK;
        } else
            tm_err_context(err, "calibration request (4 KiB of the document, 1 token)");
        if (st == TM_OK)
            progress(u, "calibration: %.3f tokens per byte of the document (%s)",
                     u->tokens_per_byte,
                     u->ratio_exact ? "the server's usage" : "no usage: estimated");
    }
    tm_buf_fini(&body);
    return st;
}

/* ---- parts -------------------------------------------------------------------------------- */

static bool fits(const run *u, int32_t n_prompt, int32_t max_tokens, char *why, size_t cap)
{
    int32_t n_ctx = u->b->n_ctx;
    if (n_ctx <= 0 || (int64_t)n_prompt + max_tokens <= n_ctx)
        return true;
    snprintf(why, cap, "needs %d positions (%d prompt + %d new), the context is %d%s",
             n_prompt + max_tokens, n_prompt, max_tokens, n_ctx,
             u->a->n_ctx > 0 ? " (-c)" : " (the model's; -c sets it)");
    return false;
}

static tm_status one(run *u, const char *tag, const char *body, size_t n, int32_t max_tokens,
                     uint64_t seed, bool prefix, suite_reply *rep, tm_err *err)
{
    tm_buf text;
    tm_status st = with_id(tag, body, n, &text, err);
    suite_request rq = {text.data, text.len, max_tokens, seed, prefix};
    if (st == TM_OK)
        st = suite_backend_complete(u->b, &rq, rep, err);
    tm_buf_fini(&text);
    if (st != TM_OK && tag)
        tm_err_context(err, "request %s", tag);
    return st;
}

static void note_sample(const run *u, const char *tag, const suite_sample *s)
{
    progress(u, "%-10s ttft %9.1f ms, e2e %9.1f ms, %5d prompt + %4d tokens", tag, s->ttft_ms,
             s->e2e_ms, s->n_prompt, s->n_gen);
}

static tm_status run_class(run *u, suite_class *c, const char *body, size_t n, tm_err *err)
{
    tm_status st = TM_OK;
    for (int i = 0; i < u->a->runs && st == TM_OK; i++) {
        char tag[48];
        snprintf(tag, sizeof tag, "%s-%d", c->name, i);
        suite_reply rep;
        st = one(u, tag, body, n, (int32_t)u->a->max_tokens, u->a->seed + (uint64_t)i, false, &rep,
                 err);
        if (st == TM_OK) {
            c->s[c->n++] = rep.s;
            note_sample(u, tag, &rep.s);
            tm_buf_fini(&rep.text);
        }
    }
    return st;
}

static tm_status run_long(run *u, int32_t target, tm_err *err)
{
    suite_class *c = &u->r->classes[u->r->n_classes++];
    snprintf(c->name, sizeof c->name, "long%dk", (target + 512) / 1024);
    if (target % 1024 != 0)
        snprintf(c->name, sizeof c->name, "long%d", target);
    c->target_tokens = target;
    /* longN fills a context of N: its prompt leaves room for the ID line, the reply and the
     * sizing's miss (2%), so long4k runs on a model of 4096 positions */
    int32_t prompt_target =
        TM_MAX(target - (int32_t)u->a->max_tokens - ID_TOKENS - target / 50, 64);
    if (u->b->n_ctx > 0 && target > u->b->n_ctx) { /* not worth sizing the prompt */
        c->skipped = true;
        snprintf(c->reason, sizeof c->reason, "fills %d positions, the context is %d%s", target,
                 u->b->n_ctx, u->a->n_ctx > 0 ? " (-c)" : " (the model's; -c sets it)");
        progress(u, "%s skipped: %s", c->name, c->reason);
        return TM_OK;
    }
    tm_buf text;
    int32_t n_tokens = 0;
    size_t bytes = 0;
    tm_status st = long_size(u, prompt_target, &bytes, &n_tokens, err);
    if (st == TM_OK)
        st = long_text(NULL, bytes, 1, &text, err);
    if (st != TM_OK)
        return st;
    if (!fits(u, n_tokens + ID_TOKENS, (int32_t)u->a->max_tokens, c->reason, sizeof c->reason)) {
        c->skipped = true;
        progress(u, "%s skipped: %s", c->name, c->reason);
    } else {
        st = run_class(u, c, text.data, text.len, err);
        if (skippable(st)) {
            c->skipped = true;
            c->n = 0;
            snprintf(c->reason, sizeof c->reason, "%s", err->msg);
            progress(u, "%s skipped: %s", c->name, c->reason);
            st = TM_OK;
        }
    }
    tm_buf_fini(&text);
    return st;
}

static tm_status run_prefix(run *u, tm_err *err)
{
    suite_class *on = &u->r->prefix_on, *off = &u->r->prefix_off;
    snprintf(on->name, sizeof on->name, "prefix-on");
    snprintf(off->name, sizeof off->name, "prefix-off");
    on->target_tokens = off->target_tokens = (int32_t)u->a->prefix_tokens;
    int32_t max_tokens = (int32_t)u->a->max_tokens, n_tokens = 0;
    size_t bytes = 0; /* one document for every request: they share it to the byte */
    tm_status st = long_size(u, (int32_t)u->a->prefix_tokens, &bytes, &n_tokens, err);
    for (int i = -1; i < 2 * u->a->runs && st == TM_OK; i++) {
        bool is_on = i < u->a->runs; /* the fill (-1) and the runs on the cache first */
        int run_i = is_on ? i : i - (int)u->a->runs;
        char tag[48];
        snprintf(tag, sizeof tag, "%s-%d", is_on ? "prefix-on" : "prefix-off", run_i);
        tm_buf text;
        st = long_text(is_on ? NULL : tag, bytes, run_i + 1, &text, err);
        if (st == TM_OK && i == -1 &&
            !fits(u, n_tokens + ID_TOKENS, max_tokens, on->reason, sizeof on->reason)) {
            tm_buf_fini(&text);
            break;
        }
        suite_request rq = {text.data, text.len, max_tokens,
                            u->a->seed + (uint64_t)TM_MAX(run_i, 0), is_on};
        suite_reply rep;
        if (st == TM_OK)
            st = suite_backend_complete(u->b, &rq, &rep, err);
        tm_buf_fini(&text);
        if (st != TM_OK) {
            tm_err_context(err, "request %s", i == -1 ? "prefix-fill" : tag);
            break;
        }
        if (i >= 0) {
            suite_class *c = is_on ? on : off;
            c->s[c->n++] = rep.s;
            note_sample(u, tag, &rep.s);
        }
        tm_buf_fini(&rep.text);
    }
    if (on->reason[0] || skippable(st)) {
        if (!on->reason[0])
            snprintf(on->reason, sizeof on->reason, "%s", err->msg);
        on->skipped = off->skipped = true;
        on->n = off->n = 0;
        snprintf(off->reason, sizeof off->reason, "%s", on->reason);
        progress(u, "prefix skipped: %s", on->reason);
        st = TM_OK;
    }
    return st;
}

static tm_status run_task(run *u, suite_task_result *t, tm_err *err)
{
    const suite_task *task = t->task;
    size_t n = strlen(task->prompt);
    tm_err serr = {0};
    if (tm_json_schema_validate(task->schema, &serr) != TM_OK) {
        t->skipped = true;
        snprintf(t->reason, sizeof t->reason, "%s", serr.msg);
        progress(u, "%s skipped: %s", task->id, t->reason);
        return serr.status == TM_E_UNSUPPORTED ? TM_OK : tm_fail(err, serr.status, "%s", serr.msg);
    }
    int32_t n_tokens = u->b->count_tokens(u->b->self, task->prompt, n);
    if (n_tokens > 0 && !fits(u, n_tokens + ID_TOKENS, (int32_t)u->a->json_max_tokens, t->reason,
                              sizeof t->reason)) {
        t->skipped = true;
        progress(u, "%s skipped: %s", task->id, t->reason);
        return TM_OK;
    }
    tm_status st = TM_OK;
    for (int i = 0; i < u->a->runs && st == TM_OK; i++) {
        char tag[48];
        snprintf(tag, sizeof tag, "%s-%d", task->id, i);
        suite_reply rep;
        st = one(u, tag, task->prompt, n, (int32_t)u->a->json_max_tokens, u->a->seed + (uint64_t)i,
                 false, &rep, err);
        if (st != TM_OK)
            break;
        suite_attempt *at = &t->a[t->n++];
        at->s = rep.s;
        tm_json_verdict v;
        st = tm_json_check(task->schema, rep.text.data ? rep.text.data : "", rep.text.len, &v, err);
        at->parsed = v.parsed;
        at->valid = v.valid;
        snprintf(at->reason, sizeof at->reason, "%s", v.valid ? "" : v.reason);
        at->text = rep.text.data; /* the attempt keeps the reply */
        at->text_len = rep.text.len;
        rep.text.data = NULL;
        tm_buf_fini(&rep.text);
        progress(u, "%-10s %s%s%s (%d tokens, %.1f ms)", tag, v.valid ? "valid" : "broken",
                 v.valid ? "" : ": ", at->reason, at->s.n_gen, at->s.e2e_ms);
    }
    if (skippable(st)) {
        t->skipped = true;
        snprintf(t->reason, sizeof t->reason, "%s", err->msg);
        progress(u, "%s skipped: %s", task->id, t->reason);
        st = TM_OK;
    }
    return st;
}

/* The context the chosen parts need, so the backend can make room once, before timing. */
static tm_status reserve(run *u, tm_err *err)
{
    if (!u->b->reserve)
        return TM_OK;
    const suite_args *a = u->a;
    int32_t short_n =
        u->b->count_tokens(u->b->self, suite_short_prompt(), strlen(suite_short_prompt()));
    int64_t need = (int64_t)TM_MAX(short_n, 0) + ID_TOKENS + a->max_tokens;
    if (a->parts & SUITE_PART_LONG)
        for (int i = 0; i < a->n_long; i++)
            need = TM_MAX(need, (int64_t)a->long_tokens[i]);
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task *t = suite_task_at(i);
        if (!(a->parts & (SUITE_PART_P1 << i)))
            continue;
        int32_t n = u->b->count_tokens(u->b->self, t->prompt, strlen(t->prompt));
        need = TM_MAX(need, (int64_t)n + ID_TOKENS + a->json_max_tokens);
    }
    need = TM_MIN(need, (int64_t)u->b->n_ctx);
    tm_status st = u->b->reserve(u->b->self, (int32_t)need, false, err);
    u->r->n_ctx = (int32_t)need;
    if (st == TM_OK && (a->parts & SUITE_PART_PREFIX)) {
        int64_t pn =
            TM_MIN(a->prefix_tokens * 102 / 100 + SLACK + a->max_tokens, (int64_t)u->b->n_ctx);
        st = u->b->reserve(u->b->self, (int32_t)pn, true, err);
    }
    return st;
}

tm_status suite_run(suite_backend *b, const suite_args *a, suite_results *r, tm_err *err)
{
    run u = {b, a, r, 1.0 / FALLBACK_BYTES_PER_TOKEN, false};
    int64_t t_start = tm_time_us();
    for (int i = 0; i < SUITE_N_TASKS; i++)
        r->tasks[i].task = suite_task_at(i);
    tm_status st = reserve(&u, err);
    const char *sp = suite_short_prompt();
    size_t sn = strlen(sp);
    suite_reply rep;
    if (st == TM_OK)
        st = one(&u, "cold", sp, sn, (int32_t)a->max_tokens, a->seed, false, &rep, err);
    if (st == TM_OK) {
        r->cold = rep.s;
        r->have_cold = true;
        note_sample(&u, "cold", &rep.s);
        tm_buf_fini(&rep.text);
    }
    for (int i = 0; i < a->warmup && st == TM_OK; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "warmup-%d", i);
        st = one(&u, tag, sp, sn, (int32_t)a->max_tokens, a->seed + (uint64_t)i, false, &rep, err);
        if (st == TM_OK)
            tm_buf_fini(&rep.text);
    }
    if (st == TM_OK && (a->parts & (SUITE_PART_LONG | SUITE_PART_PREFIX)))
        st = calibrate(&u, err);
    if (st == TM_OK && (a->parts & SUITE_PART_SHORT)) {
        suite_class *c = &r->classes[r->n_classes++];
        snprintf(c->name, sizeof c->name, "short");
        st = run_class(&u, c, sp, sn, err);
    }
    for (int i = 0; i < a->n_long && st == TM_OK && (a->parts & SUITE_PART_LONG); i++)
        st = run_long(&u, a->long_tokens[i], err);
    if (st == TM_OK && (a->parts & SUITE_PART_PREFIX))
        st = run_prefix(&u, err);
    for (int i = 0; i < SUITE_N_TASKS && st == TM_OK; i++)
        if (a->parts & (SUITE_PART_P1 << i))
            st = run_task(&u, &r->tasks[i], err);
    r->wall_s = (double)(tm_time_us() - t_start) / 1e6;
    return st;
}

int suite_task_n_unparsed(const suite_task_result *t)
{
    int k = 0;
    for (int i = 0; i < t->n; i++)
        k += !t->a[i].parsed;
    return k;
}

int suite_task_n_broken(const suite_task_result *t)
{
    int k = 0;
    for (int i = 0; i < t->n; i++)
        k += !t->a[i].valid;
    return k;
}

void suite_results_fini(suite_results *r)
{
    for (int i = 0; i < SUITE_N_TASKS; i++)
        for (int k = 0; k < r->tasks[i].n; k++) {
            tm_free(r->tasks[i].a[k].text);
            r->tasks[i].a[k].text = NULL;
        }
}
