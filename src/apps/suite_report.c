/* results.json and report.md of the bench suite. The JSON keys are a contract (docs/bench.md
 * lists them; new keys may be added, none renamed): unknown figures are null, never 0, so a
 * script can tell "not measured" from "zero". The Markdown says the same for a person, with
 * the charts beside it. Both are written from suite_results alone. */
#include "suite.h"

#include <string.h>

#define J(...)                                         \
    do {                                               \
        if (st == TM_OK)                               \
            st = tm_buf_printf(out, err, __VA_ARGS__); \
    } while (0)

static tm_status jstr(tm_buf *out, const char *s, tm_err *err)
{
    if (!s)
        return tm_buf_append(out, "null", 4, err);
    return tm_buf_append_json_string(out, s, strlen(s), err);
}

#define JS(s)                         \
    do {                              \
        if (st == TM_OK)              \
            st = jstr(out, (s), err); \
    } while (0)

/* A figure, or null when unknown (negative). */
static tm_status jnum(tm_buf *out, double x, tm_err *err)
{
    if (x < 0)
        return tm_buf_append(out, "null", 4, err);
    if (x == (double)(int64_t)x && x < 9e15) /* counts and bytes: every digit */
        return tm_buf_printf(out, err, "%.0f", x);
    return tm_buf_printf(out, err, "%.6g", x);
}

#define JN(x)                         \
    do {                              \
        if (st == TM_OK)              \
            st = jnum(out, (x), err); \
    } while (0)

static tm_status jstats(tm_buf *out, const double *x, int n, tm_err *err)
{
    suite_stats s;
    suite_stats_of(x, n, &s);
    tm_status st = TM_OK;
    if (s.n == 0)
        return tm_buf_append(out, "null", 4, err);
    J("{\"n\": %d, \"p50\": %.6g, \"p95\": %.6g, \"min\": %.6g, \"max\": %.6g, \"mean\": %.6g}",
      s.n, s.p50, s.p95, s.min, s.max, s.mean);
    return st;
}

/* One figure of every sample of a class, as a column. */
typedef enum { F_TTFT, F_E2E, F_PROMPT_TPS, F_GEN_TPS, F_N_PROMPT, F_N_GEN, F_REUSED } field;

static double value(const suite_sample *s, field f)
{
    switch (f) {
    case F_TTFT:
        return s->ttft_ms;
    case F_E2E:
        return s->e2e_ms;
    case F_PROMPT_TPS:
        return s->prompt_tps;
    case F_GEN_TPS:
        return s->gen_tps;
    case F_N_PROMPT:
        return s->n_prompt;
    case F_N_GEN:
        return s->n_gen;
    default:
        return s->n_reused;
    }
}

static int column(const suite_sample *s, int n, field f, double *x)
{
    for (int i = 0; i < n; i++)
        x[i] = value(&s[i], f);
    return n;
}

static tm_status jsample(tm_buf *out, const suite_sample *s, tm_err *err)
{
    tm_status st = TM_OK;
    J("{\"ttft_ms\": ");
    JN(s->ttft_ms);
    J(", \"e2e_ms\": ");
    JN(s->e2e_ms);
    J(", \"n_prompt\": ");
    JN(s->n_prompt);
    J(", \"n_gen\": %d, \"n_reused\": %d, \"prompt_tps\": ", s->n_gen, s->n_reused);
    JN(s->prompt_tps);
    J(", \"gen_tps\": ");
    JN(s->gen_tps);
    J(", \"n_prompt_exact\": %s, \"n_gen_exact\": %s}", s->n_prompt_exact ? "true" : "false",
      s->n_gen_exact ? "true" : "false");
    return st;
}

/* The figures of a class's samples: "ttft_ms": {...}, "e2e_ms": ..., "samples": [...]. */
static tm_status jclass_body(tm_buf *out, const suite_class *c, tm_err *err)
{
    static const struct {
        field f;
        const char *key;
    } keys[] = {{F_TTFT, "ttft_ms"},    {F_E2E, "e2e_ms"},        {F_PROMPT_TPS, "prompt_tps"},
                {F_GEN_TPS, "gen_tps"}, {F_N_PROMPT, "n_prompt"}, {F_N_GEN, "n_gen"},
                {F_REUSED, "n_reused"}};
    tm_status st = TM_OK;
    double x[SUITE_MAX_RUNS];
    J("\"runs\": %d", c->n);
    for (size_t k = 0; k < TM_ARRAY_LEN(keys); k++) {
        J(", \"%s\": ", keys[k].key);
        if (st == TM_OK)
            st = jstats(out, x, column(c->s, c->n, keys[k].f, x), err);
    }
    J(", \"samples\": [");
    for (int i = 0; i < c->n; i++) {
        J("%s", i ? ", " : "");
        if (st == TM_OK)
            st = jsample(out, &c->s[i], err);
    }
    J("]");
    return st;
}

static tm_status jparts(tm_buf *out, unsigned parts, tm_err *err)
{
    static const char *const names[] = {"short", "long", "prefix", "p1", "p2", "p3"};
    tm_status st = TM_OK;
    J("[");
    bool first = true;
    for (size_t i = 0; i < TM_ARRAY_LEN(names); i++)
        if (parts & (1u << i)) {
            J("%s\"%s\"", first ? "" : ", ", names[i]);
            first = false;
        }
    J("]");
    return st;
}

static tm_status jlog(tm_buf *out, const suite_results *r, tm_err *err)
{
    const suite_log *l = &r->log;
    const suite_args *a = r->args;
    bool local = a->model_path != NULL;
    tm_status st = TM_OK;
    J("{\"started\": ");
    JS(l->started);
    J(", \"wall_s\": %.3f, \"temoto\": {\"version\": ", r->wall_s);
    JS(l->version);
    J(", \"commit\": ");
    JS(l->commit);
    J("}, \"model\": ");
    if (local) {
        J("{\"path\": ");
        JS(l->model_path);
        J(", \"sha256\": ");
        JS(l->model_sha256[0] ? l->model_sha256 : NULL);
        J(", \"bytes\": %llu, \"quant\": ", (unsigned long long)l->model_bytes);
        JS(l->quant);
        J(", \"arch\": ");
        JS(l->arch);
        J(", \"n_params\": %llu, \"n_ctx_train\": %d, \"chat_template\": %s}",
          (unsigned long long)l->n_params, l->n_ctx_train, l->chat_template ? "true" : "false");
        J(", \"endpoint\": null");
    } else {
        J("null, \"endpoint\": {\"url\": ");
        JS(a->endpoint);
        J(", \"model\": ");
        JS(a->model_name);
        J("}");
    }
    J(", \"machine\": {\"cpu\": ");
    JS(l->cpu);
    J(", \"isa\": ");
    JS(l->isa);
    J(", \"logical_cpus\": %d, \"ram_bytes\": ", l->n_logical);
    JN(l->ram_bytes ? (double)l->ram_bytes : -1);
    J("}, \"threads\": ");
    JN(local ? l->n_threads : -1);
    J(", \"kernels\": ");
    JS(local ? l->kernels : NULL);
    J(", \"conditions\": {\"runs\": %lld, \"warmup\": %lld, \"max_tokens\": %lld, "
      "\"json_max_tokens\": %lld, \"temperature\": %g, \"top_p\": %g, ",
      (long long)a->runs, (long long)a->warmup, (long long)a->max_tokens,
      (long long)a->json_max_tokens, a->temperature, a->top_p);
    if (local)
        J("\"top_k\": 0, \"min_p\": 0, ");
    else
        J("\"top_k\": null, \"min_p\": null, ");
    J("\"seed\": %llu, \"seed_rule\": \"run i of a part samples with seed + i\", \"n_ctx\": ",
      (unsigned long long)a->seed);
    JN(r->n_ctx > 0 ? r->n_ctx : -1);
    J(", \"kv_type\": ");
    JS(local ? tm_kv_type_name(a->kv_type) : NULL);
    J(", \"prefix_tokens\": %lld, \"long_tokens\": [", (long long)a->prefix_tokens);
    for (int i = 0; i < a->n_long; i++)
        J("%s%d", i ? ", " : "", a->long_tokens[i]);
    J("], \"parts\": ");
    if (st == TM_OK)
        st = jparts(out, a->parts, err);
    J(", \"timeout_s\": ");
    JN(local ? -1 : (double)a->timeout_s);
    J("}}");
    return st;
}

static tm_status jtask(tm_buf *out, const suite_task_result *t, tm_err *err)
{
    tm_status st = TM_OK;
    int broken = suite_task_n_broken(t), unparsed = suite_task_n_unparsed(t);
    double n = t->n;
    J("{\"id\": \"%s\", \"title\": ", t->task->id);
    JS(t->task->title);
    J(", \"runs\": %d, \"parsed\": %d, \"valid\": %d, \"broken\": %d, \"breakage_rate\": %.4g, "
      "\"parse_failure_rate\": %.4g, \"schema_failure_rate\": %.4g, \"e2e_ms\": ",
      t->n, t->n - unparsed, t->n - broken, broken, broken / n, unparsed / n,
      (broken - unparsed) / n);
    double x[SUITE_MAX_RUNS];
    for (int i = 0; i < t->n; i++)
        x[i] = t->a[i].s.e2e_ms;
    if (st == TM_OK)
        st = jstats(out, x, t->n, err);
    J(", \"attempts\": [");
    for (int i = 0; i < t->n; i++) {
        const suite_attempt *at = &t->a[i];
        J("%s{\"run\": %d, \"parsed\": %s, \"valid\": %s, \"reason\": ", i ? ", " : "", i,
          at->parsed ? "true" : "false", at->valid ? "true" : "false");
        JS(at->valid ? NULL : at->reason);
        J(", \"output\": \"outputs/%s-%d.txt\", \"sample\": ", t->task->id, i);
        if (st == TM_OK)
            st = jsample(out, &at->s, err);
        J("}");
    }
    J("]}");
    return st;
}

static tm_status jskipped(tm_buf *out, const suite_results *r, tm_err *err)
{
    tm_status st = TM_OK;
    bool first = true;
    J("[");
    for (int i = 0; i < r->n_classes; i++)
        if (r->classes[i].skipped) {
            J("%s{\"name\": \"%s\", \"reason\": ", first ? "" : ", ", r->classes[i].name);
            JS(r->classes[i].reason);
            J("}");
            first = false;
        }
    if (r->prefix_on.skipped) {
        J("%s{\"name\": \"prefix\", \"reason\": ", first ? "" : ", ");
        JS(r->prefix_on.reason);
        J("}");
        first = false;
    }
    for (int i = 0; i < SUITE_N_TASKS; i++)
        if (r->tasks[i].skipped) {
            J("%s{\"name\": \"%s\", \"reason\": ", first ? "" : ", ", r->tasks[i].task->id);
            JS(r->tasks[i].reason);
            J("}");
            first = false;
        }
    J("]");
    return st;
}

tm_status suite_results_json(const suite_results *r, tm_buf *out, tm_err *err)
{
    tm_status st = TM_OK;
    J("{\"schema\": \"temoto-bench-suite/1\", \"mode\": \"%s\",\n\"run_log\": ", r->mode);
    if (st == TM_OK)
        st = jlog(out, r, err);
    J(",\n\"load_ms\": ");
    JN(r->load_ms);
    J(",\n\"cold\": ");
    if (r->have_cold && st == TM_OK)
        st = jsample(out, &r->cold, err);
    else
        J("null");
    J(",\n\"peak_rss_bytes\": ");
    JN(r->peak_rss_bytes ? (double)r->peak_rss_bytes : -1);
    J(",\n\"classes\": [");
    bool first = true;
    for (int i = 0; i < r->n_classes; i++) {
        const suite_class *c = &r->classes[i];
        if (c->skipped)
            continue;
        J("%s\n  {\"name\": \"%s\", \"target_tokens\": ", first ? "" : ",", c->name);
        JN(c->target_tokens > 0 ? c->target_tokens : -1);
        J(", ");
        if (st == TM_OK)
            st = jclass_body(out, c, err);
        J("}");
        first = false;
    }
    J("],\n\"prefix_cache\": ");
    if (r->prefix_on.n > 0 && r->prefix_off.n > 0) {
        double on[SUITE_MAX_RUNS], off[SUITE_MAX_RUNS];
        suite_stats son, soff;
        suite_stats_of(on, column(r->prefix_on.s, r->prefix_on.n, F_TTFT, on), &son);
        suite_stats_of(off, column(r->prefix_off.s, r->prefix_off.n, F_TTFT, off), &soff);
        J("{\"target_tokens\": %d, \"on\": {", r->prefix_on.target_tokens);
        if (st == TM_OK)
            st = jclass_body(out, &r->prefix_on, err);
        J("}, \"off\": {");
        if (st == TM_OK)
            st = jclass_body(out, &r->prefix_off, err);
        J("}, \"ttft_on_over_off\": ");
        JN(son.n && soff.n && soff.p50 > 0 ? son.p50 / soff.p50 : -1);
        J("}");
    } else
        J("null");
    J(",\n\"json_tasks\": [");
    first = true;
    int runs = 0, broken = 0;
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task_result *t = &r->tasks[i];
        if (t->n == 0)
            continue;
        J("%s\n  ", first ? "" : ",");
        if (st == TM_OK)
            st = jtask(out, t, err);
        first = false;
        runs += t->n;
        broken += suite_task_n_broken(t);
    }
    J("],\n\"breakage_rate\": ");
    JN(runs ? (double)broken / runs : -1);
    J(",\n\"skipped\": ");
    if (st == TM_OK)
        st = jskipped(out, r, err);
    J("}\n");
    return st;
}

/* ---- report.md ---------------------------------------------------------------------------- */

/* "12.3 ms", "4.56 s", or "-" when unknown. */
static void fmt_ms(double ms, char *buf, size_t cap)
{
    if (ms < 0)
        snprintf(buf, cap, "-");
    else if (ms < 1000)
        snprintf(buf, cap, "%.1f ms", ms);
    else
        snprintf(buf, cap, "%.2f s", ms / 1000);
}

static void fmt_num(double x, const char *fmt, char *buf, size_t cap)
{
    if (x < 0)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, fmt, x);
}

static void fmt_bytes(double b, char *buf, size_t cap)
{
    if (b <= 0)
        snprintf(buf, cap, "-");
    else if (b >= 1073741824.0)
        snprintf(buf, cap, "%.2f GiB", b / 1073741824.0);
    else
        snprintf(buf, cap, "%.1f MiB", b / 1048576.0);
}

static suite_stats stat_of(const suite_class *c, field f)
{
    double x[SUITE_MAX_RUNS];
    suite_stats s;
    suite_stats_of(x, column(c->s, c->n, f, x), &s);
    if (s.n == 0)
        s.p50 = s.p95 = s.min = s.max = s.mean = -1;
    return s;
}

static tm_status md_log(tm_buf *out, const suite_results *r, tm_err *err)
{
    const suite_log *l = &r->log;
    const suite_args *a = r->args;
    bool local = a->model_path != NULL;
    tm_status st = TM_OK;
    char b1[32], b2[32];
    J("## Run log\n\n| | |\n|---|---|\n");
    J("| started | %s (%.1f s in all) |\n", l->started, r->wall_s);
    J("| temoto | %s, commit %s |\n", l->version, l->commit);
    if (local) {
        fmt_bytes((double)l->model_bytes, b1, sizeof b1);
        J("| model | `%s` (%s, %s, %.1f M parameters, trained context %d) |\n", l->model_path,
          l->arch, b1, (double)l->n_params / 1e6, l->n_ctx_train);
        J("| model sha256 | `%s` |\n| quant | %s |\n", l->model_sha256[0] ? l->model_sha256 : "-",
          l->quant);
        J("| prompts | %s |\n", l->chat_template ? "the model's chat template"
                                                 : "raw text (the model has no chat template)");
        J("| kernels, threads | %s, %d |\n", l->kernels, l->n_threads);
        J("| KV cache | %s, context %d |\n", tm_kv_type_name(a->kv_type), r->n_ctx);
    } else {
        J("| endpoint | %s, model `%s` |\n", a->endpoint, a->model_name);
        J("| context | %s |\n", a->n_ctx > 0 ? "given with -c" : "unknown (the server's)");
    }
    fmt_bytes((double)l->ram_bytes, b2, sizeof b2);
    J("| machine | %s, %d logical CPUs, %s RAM |\n| ISA | %s |\n", l->cpu, l->n_logical, b2,
      l->isa[0] ? l->isa : "-");
    J("| conditions | %lld runs after %lld warm-up; max tokens %lld (tasks %lld); temperature "
      "%g, top_p %g%s; seed %llu + run |\n\n",
      (long long)a->runs, (long long)a->warmup, (long long)a->max_tokens,
      (long long)a->json_max_tokens, a->temperature, a->top_p,
      local ? ", top_k and min_p off" : " (top_k, min_p: the server's)",
      (unsigned long long)a->seed);
    return st;
}

static tm_status md_latency(tm_buf *out, const suite_results *r, tm_err *err)
{
    tm_status st = TM_OK;
    char c1[32], c2[32], c3[32], c4[32], c5[32], c6[32], c7[32];
    J("## Latency\n\nTime to first token (TTFT) and end to end (e2e), p50 and p95 over the runs; "
      "tokens/s of the prompt and of generation (p50).\n\n");
    J("| class | prompt tokens | runs | TTFT p50 | TTFT p95 | e2e p50 | e2e p95 | prompt tok/s | "
      "gen tok/s | tokens out |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fmt_ms(r->cold.ttft_ms, c1, sizeof c1);
    fmt_ms(r->cold.e2e_ms, c2, sizeof c2);
    fmt_num(r->cold.prompt_tps, "%.1f", c3, sizeof c3);
    fmt_num(r->cold.gen_tps, "%.1f", c4, sizeof c4);
    fmt_num(r->cold.n_prompt, "%.0f", c5, sizeof c5);
    if (r->have_cold)
        J("| cold (first request) | %s | 1 | %s | | %s | | %s | %s | %d |\n", c5, c1, c2, c3, c4,
          r->cold.n_gen);
    for (int i = 0; i < r->n_classes; i++) {
        const suite_class *c = &r->classes[i];
        if (c->skipped)
            continue;
        suite_stats t = stat_of(c, F_TTFT), e = stat_of(c, F_E2E), p = stat_of(c, F_PROMPT_TPS),
                    g = stat_of(c, F_GEN_TPS), np = stat_of(c, F_N_PROMPT),
                    ng = stat_of(c, F_N_GEN);
        fmt_ms(t.p50, c1, sizeof c1);
        fmt_ms(t.p95, c2, sizeof c2);
        fmt_ms(e.p50, c3, sizeof c3);
        fmt_ms(e.p95, c4, sizeof c4);
        fmt_num(p.p50, "%.1f", c5, sizeof c5);
        fmt_num(g.p50, "%.1f", c6, sizeof c6);
        fmt_num(np.p50, "%.0f", c7, sizeof c7);
        J("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %.0f |\n", c->name, c7, c->n, c1, c2, c3,
          c4, c5, c6, ng.p50);
    }
    J("\n![latency by prompt class](latency.svg)\n\n![tokens per second by context "
      "length](tps.svg)\n\n");
    fmt_ms(r->load_ms, c1, sizeof c1);
    fmt_ms(r->cold.ttft_ms, c2, sizeof c2);
    J("**Cold and warm.** Loading the model took %s; the first request after it (cold) had a "
      "TTFT of %s",
      c1, c2);
    for (int i = 0; i < r->n_classes; i++)
        if (strcmp(r->classes[i].name, "short") == 0 && r->classes[i].n > 0) {
            suite_stats t = stat_of(&r->classes[i], F_TTFT);
            fmt_ms(t.p50, c3, sizeof c3);
            J(", the same prompt warm %s (p50)", c3);
        }
    J(".%s\n\n", r->peak_rss_bytes ? "" : " Peak memory: the server's, not visible from here.");
    if (r->peak_rss_bytes) {
        fmt_bytes((double)r->peak_rss_bytes, c1, sizeof c1);
        J("**Peak RSS** of the process (model, KV caches, everything): %s.\n\n", c1);
    }
    return st;
}

static tm_status md_prefix(tm_buf *out, const suite_results *r, tm_err *err)
{
    tm_status st = TM_OK;
    if (r->prefix_on.n == 0 || r->prefix_off.n == 0)
        return st;
    char c1[32], c2[32], c3[32], c4[32];
    suite_stats on = stat_of(&r->prefix_on, F_TTFT), off = stat_of(&r->prefix_off, F_TTFT);
    suite_stats ron = stat_of(&r->prefix_on, F_REUSED), np = stat_of(&r->prefix_on, F_N_PROMPT);
    fmt_num(np.p50, "%.0f", c4, sizeof c4);
    J("## Prefix cache\n\nThe same document of %s tokens with a different final question each "
      "run: with the prefix cache (on) after one request that filled it, and without (off).\n\n",
      c4);
    J("| | TTFT p50 | TTFT p95 | positions reused (p50) |\n|---|---:|---:|---:|\n");
    fmt_ms(on.p50, c1, sizeof c1);
    fmt_ms(on.p95, c2, sizeof c2);
    fmt_num(ron.p50, "%.0f", c3, sizeof c3);
    J("| on | %s | %s | %s |\n", c1, c2, r->args->model_path ? c3 : "- (the server's)");
    fmt_ms(off.p50, c1, sizeof c1);
    fmt_ms(off.p95, c2, sizeof c2);
    J("| off | %s | %s | %s |\n\n", c1, c2, r->args->model_path ? "0" : "-");
    if (off.p50 > 0)
        J("On / off: **%.3f** of the time to first token.\n\n", on.p50 / off.p50);
    return st;
}

static tm_status md_tasks(tm_buf *out, const suite_results *r, tm_err *err)
{
    tm_status st = TM_OK;
    bool any = false;
    for (int i = 0; i < SUITE_N_TASKS; i++)
        any = any || r->tasks[i].n > 0;
    if (!any)
        return st;
    J("## JSON breakage (free generation)\n\nEach task asks for JSON only; the reply's first "
      "JSON value (inside a ``` fence if there is one) must parse and match the task's schema. "
      "Broken = did not parse + parsed but did not match; the rate is broken / runs. No "
      "constrained decoding: this is the model's own rate.\n\n");
    J("| task | runs | did not parse | failed the schema | breakage rate |\n"
      "|---|---:|---:|---:|---:|\n");
    int runs = 0, broken = 0;
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task_result *t = &r->tasks[i];
        if (t->n == 0)
            continue;
        int b = suite_task_n_broken(t), u = suite_task_n_unparsed(t);
        J("| %s %s | %d | %d | %d | **%.2f** |\n", t->task->id, t->task->title, t->n, u, b - u,
          (double)b / t->n);
        runs += t->n;
        broken += b;
    }
    J("| all | %d | | | **%.2f** |\n\n![JSON breakage by task](breakage.svg)\n\n", runs,
      (double)broken / runs);
    J("Why each broken reply broke (the replies are in `outputs/`):\n\n");
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task_result *t = &r->tasks[i];
        for (int k = 0; k < t->n; k++)
            if (!t->a[k].valid)
                J("- %s run %d: %s\n", t->task->id, k, t->a[k].reason);
    }
    J("\n");
    return st;
}

tm_status suite_report_md(const suite_results *r, tm_buf *out, tm_err *err)
{
    tm_status st = TM_OK;
    const suite_args *a = r->args;
    J("# temoto bench suite: %s\n\n", a->model_path ? r->log.model_path : a->endpoint);
    J("Mode: **%s**. The figures are explained in temoto's docs/bench.md (\"temoto bench "
      "suite\"); the raw numbers are in `results.json`, the prompts in `tasks/`.\n\n",
      r->mode);
    if (st == TM_OK)
        st = md_latency(out, r, err);
    if (st == TM_OK)
        st = md_prefix(out, r, err);
    if (st == TM_OK)
        st = md_tasks(out, r, err);
    bool head = false;
    for (int i = 0; i < r->n_classes + 1 + SUITE_N_TASKS; i++) {
        const char *name = NULL, *reason = NULL;
        if (i < r->n_classes && r->classes[i].skipped)
            name = r->classes[i].name, reason = r->classes[i].reason;
        else if (i == r->n_classes && r->prefix_on.skipped)
            name = "prefix", reason = r->prefix_on.reason;
        else if (i > r->n_classes && r->tasks[i - r->n_classes - 1].skipped)
            name = r->tasks[i - r->n_classes - 1].task->id,
            reason = r->tasks[i - r->n_classes - 1].reason;
        if (!name)
            continue;
        if (!head)
            J("## Skipped\n\n");
        head = true;
        J("- %s: %s\n", name, reason);
    }
    if (head)
        J("\n");
    if (st == TM_OK)
        st = md_log(out, r, err);
    return st;
}
