/* temoto bench suite: a reproducible benchmark of what matters in practice, in-process on
 * temoto's engine (-m) or against any OpenAI-compatible server (--endpoint): latency of
 * short and long prompts (TTFT and end to end, p50 and p95), cold and warm, the prefix
 * cache on and off, tokens/s, peak memory, and the JSON breakage rate of three Japanese
 * tasks. Writes results.json, report.md and SVG charts into --out, with the exact prompts
 * (tasks/) and every task reply (outputs/). docs/bench.md explains every number. */
#include "suite.h"
#include "apps.h"

#include <stdio.h>
#include <string.h>

#define MAX_PATH_BYTES 4096

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto bench suite (-m MODEL.gguf | --endpoint URL --model NAME) [options]\n"
            "\n"
            "Latency (time to first token and end to end, p50/p95) of a short prompt and of\n"
            "long ones, cold and warm, with the prefix cache on and off; tokens/s of the\n"
            "prompt and of generation; peak memory; and the JSON breakage rate of three\n"
            "built-in Japanese tasks (P1 tasks from a memo, P2 decisions/issues/risks from a\n"
            "meeting, P3 tool-call arguments). Writes results.json, report.md and SVG charts\n"
            "to --out. In-process on temoto's engine, or against an OpenAI-compatible server\n"
            "(llama.cpp, Ollama, LM Studio) with --endpoint, on equal terms.\n"
            "\n"
            "  -m FILE                  GGUF model, run in this process\n"
            "  --endpoint URL           OpenAI-compatible server: http://127.0.0.1:8080, or\n"
            "                           .../v1, or .../v1/chat/completions\n"
            "  --model NAME             the model the server should use (with --endpoint)\n"
            "  --api-key KEY            sent as Authorization: Bearer KEY (with --endpoint)\n"
            "  --timeout S              seconds one request may take (default 600)\n"
            "  --out DIR                output folder (default bench-suite-<date>-<time>)\n"
            "  --runs N                 measured requests per class and task (default 5)\n"
            "  --warmup N               untimed requests after the cold one (default 1)\n"
            "  --tasks LIST             parts to run, comma-separated: short, long, prefix,\n"
            "                           p1, p2, p3, json (= p1,p2,p3), all (default)\n"
            "  --long N,N,...           long prompt sizes in tokens (default 4096,8192,32768);\n"
            "                           those that do not fit the context are skipped\n"
            "  --prefix-tokens N        the prefix test's document (default 2048)\n"
            "  --max-tokens N           new tokens per latency request (default 128)\n"
            "  --json-max-tokens N      new tokens per task request (default 1024)\n"
            "  --temp T                 temperature (default 0.7)\n"
            "  --top-p P                nucleus sampling (default 0.9); top-k and min-p are\n"
            "                           off in-process (a server applies its own)\n"
            "  --seed S                 run i of a part samples with S + i (default 42)\n"
            "  -c, --ctx-size N         context: in-process the most a request may use\n"
            "                           (default: the model's training context); with\n"
            "                           --endpoint the server's, to skip what cannot fit\n"
            "  -t, --threads N          threads (default: one per core)\n"
            "  --kv-type T              KV cache type: f16 (default), q8_0, q4_0, f32\n"
            "  -q, --quiet              no progress lines on stderr\n");
}

static bool parse_parts(const char *v, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {
        {"short", SUITE_PART_SHORT},
        {"long", SUITE_PART_LONG},
        {"prefix", SUITE_PART_PREFIX},
        {"p1", SUITE_PART_P1},
        {"p2", SUITE_PART_P2},
        {"p3", SUITE_PART_P3},
        {"json", SUITE_PART_P1 | SUITE_PART_P2 | SUITE_PART_P3},
        {"all", SUITE_PART_ALL},
    };
    unsigned parts = 0;
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < TM_ARRAY_LEN(names) && !found; i++)
            if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0) {
                parts |= names[i].bits;
                found = true;
            }
        if (!found) {
            fprintf(stderr,
                    "error: --tasks: '%.*s' is not a part (short, long, prefix, p1, p2, p3, "
                    "json, all)\n",
                    (int)n, p);
            return false;
        }
        p += n + (p[n] == ',');
    }
    if (!parts) {
        fprintf(stderr, "error: --tasks: no part given\n");
        return false;
    }
    *out = parts;
    return true;
}

static bool parse_long(const char *v, suite_args *a)
{
    a->n_long = 0;
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        char num[24];
        int64_t x = 0;
        snprintf(num, sizeof num, "%.*s", (int)TM_MIN(n, sizeof num - 1), p);
        if (n == 0 || n >= sizeof num || !tm_parse_i64(num, &x) || x < 16 || x > (1 << 20) ||
            a->n_long == SUITE_MAX_LONG) {
            fprintf(stderr,
                    "error: --long: '%s' is not a list of at most %d sizes in 16..1048576\n", v,
                    SUITE_MAX_LONG);
            return false;
        }
        a->long_tokens[a->n_long++] = (int32_t)x;
        p += n + (p[n] == ',');
    }
    return a->n_long > 0 || (fprintf(stderr, "error: --long: no size given\n"), false);
}

static bool parse_args(int argc, char **argv, suite_args *a, int *exit_code)
{
    *a = (suite_args){.runs = 5,
                      .warmup = 1,
                      .max_tokens = 128,
                      .json_max_tokens = 1024,
                      .prefix_tokens = 2048,
                      .timeout_s = 600,
                      .temperature = 0.7,
                      .top_p = 0.9,
                      .seed = 42,
                      .parts = SUITE_PART_ALL,
                      .long_tokens = {4096, 8192, 32768},
                      .n_long = 3,
                      .kv_type = TM_KV_F16};
    bool bad = false;
    const char *v = NULL;
    int64_t n = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *flag = argv[i];
        if (tm_cli_is_help(flag)) {
            usage(stdout);
            *exit_code = 0;
            return false;
        } else if (tm_cli_flag(argc, argv, &i, "-m", NULL, &a->model_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--endpoint", &a->endpoint, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--model", &a->model_name, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--api-key", &a->api_key, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--out", &a->out_dir, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--runs", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, SUITE_MAX_RUNS, &a->runs);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--warmup", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 100, &a->warmup);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--timeout", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, 86400, &a->timeout_s);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--tasks", &v, &bad)) {
            bad = bad || !parse_parts(v, &a->parts);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--long", &v, &bad)) {
            bad = bad || !parse_long(v, a);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--prefix-tokens", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 64, 1 << 20, &a->prefix_tokens);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--max-tokens", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, 1 << 16, &a->max_tokens);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--json-max-tokens", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, 1 << 16, &a->json_max_tokens);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--temp", &v, &bad)) {
            bad = bad || !tm_cli_float(flag, v, 0, 2, &a->temperature);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--top-p", &v, &bad)) {
            bad = bad || !tm_cli_float(flag, v, 1e-6, 1, &a->top_p);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--seed", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, INT64_MAX / 2, &n);
            a->seed = (uint64_t)n;
        } else if (tm_cli_flag(argc, argv, &i, "-c", "--ctx-size", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 64, 1 << 24, &a->n_ctx);
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 1024, &a->n_threads);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--kv-type", &v, &bad)) {
            if (!bad && !tm_kv_type_parse(v, &a->kv_type)) {
                fprintf(stderr,
                        "error: --kv-type: '%s' is not a KV cache type (f16, q8_0, "
                        "q4_0, f32)\n",
                        v);
                bad = true;
            }
        } else if (tm_cli_flag(argc, argv, &i, "-q", "--quiet", NULL, &bad)) {
            a->quiet = true;
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", flag);
            bad = true;
        }
    }
    const char *why = NULL;
    if (bad)
        ;
    else if (!a->model_path == !a->endpoint)
        why = "give -m MODEL.gguf or --endpoint URL (one of them)";
    else if (a->endpoint && !a->model_name)
        why = "--endpoint needs --model NAME (the model the server should answer with)";
    else if (a->model_name && !a->endpoint)
        why = "--model names a server's model (with --endpoint); a GGUF file is -m FILE";
    else if (a->api_key && !a->endpoint)
        why = "--api-key goes with --endpoint";
    else if (a->endpoint && strncmp(a->endpoint, "http://", 7) != 0 &&
             strncmp(a->endpoint, "https://", 8) != 0)
        why = "--endpoint: the URL must start with http:// or https://";
    if (why)
        fprintf(stderr, "error: %s\n", why);
    if (bad || why) {
        usage(stderr);
        *exit_code = 2;
        return false;
    }
    return true;
}

static tm_status write_file(const char *dir, const char *name, const char *data, size_t n,
                            tm_err *err)
{
    char path[MAX_PATH_BYTES];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return tm_fail(err, TM_E_ARG, "--out: the path is too long");
    return tm_file_write_all(path, data, n, err);
}

static tm_status make_dirs(const char *dir, tm_err *err)
{
    char path[MAX_PATH_BYTES];
    static const char *const subs[] = {"", "/tasks", "/outputs"};
    for (size_t i = 0; i < TM_ARRAY_LEN(subs); i++) {
        snprintf(path, sizeof path, "%s%s", dir, subs[i]);
        if (!tm_mkdir(path))
            return tm_fail(err, TM_E_IO, "cannot create the folder '%s'", path);
    }
    return TM_OK;
}

/* The exact prompts and schemas, so a run can be repeated or checked by hand. */
static tm_status write_tasks(const char *dir, tm_err *err)
{
    char name[64];
    const char *sp = suite_short_prompt();
    tm_status st = write_file(dir, "tasks/short.txt", sp, strlen(sp), err);
    for (int i = 0; i < SUITE_N_TASKS && st == TM_OK; i++) {
        const suite_task *t = suite_task_at(i);
        snprintf(name, sizeof name, "tasks/%s.txt", t->id);
        st = write_file(dir, name, t->prompt, strlen(t->prompt), err);
        snprintf(name, sizeof name, "tasks/%s.schema.json", t->id);
        if (st == TM_OK)
            st = write_file(dir, name, t->schema, strlen(t->schema), err);
    }
    return st;
}

static tm_status write_outputs(const char *dir, const suite_results *r, tm_err *err)
{
    typedef tm_status (*writer)(const suite_results *, tm_buf *, tm_err *);
    static const struct {
        const char *name;
        writer fn;
    } files[] = {
        {"results.json", suite_results_json}, {"report.md", suite_report_md},
        {"latency.svg", suite_svg_latency},   {"tps.svg", suite_svg_tps},
        {"breakage.svg", suite_svg_breakage},
    };
    tm_status st = TM_OK;
    for (size_t i = 0; i < TM_ARRAY_LEN(files) && st == TM_OK; i++) {
        tm_buf b;
        tm_buf_init(&b, (size_t)64 << 20);
        st = files[i].fn(r, &b, err);
        if (st == TM_OK)
            st = write_file(dir, files[i].name, b.data, b.len, err);
        tm_buf_fini(&b);
    }
    for (int i = 0; i < SUITE_N_TASKS && st == TM_OK; i++)
        for (int k = 0; k < r->tasks[i].n && st == TM_OK; k++) {
            char name[64];
            snprintf(name, sizeof name, "outputs/%s-%d.txt", r->tasks[i].task->id, k);
            const suite_attempt *at = &r->tasks[i].a[k];
            st = write_file(dir, name, at->text ? at->text : "", at->text_len, err);
        }
    return st;
}

/* A few lines on stdout: where the files are and the headline figures. */
static void print_summary(const char *dir, const suite_results *r)
{
    printf("bench suite (%s): %.1f s; results in %s/ (results.json, report.md, latency.svg, "
           "tps.svg, breakage.svg)\n",
           r->mode, r->wall_s, dir);
    printf("%-12s %8s %12s %12s %12s %12s\n", "class", "prompt", "ttft p50 ms", "ttft p95 ms",
           "e2e p50 ms", "gen tok/s");
    for (int i = 0; i < r->n_classes + 2; i++) {
        const suite_class *c = i < r->n_classes    ? &r->classes[i]
                               : i == r->n_classes ? &r->prefix_on
                                                   : &r->prefix_off;
        if (c->n == 0)
            continue;
        double t[SUITE_MAX_RUNS], e[SUITE_MAX_RUNS], g[SUITE_MAX_RUNS], p[SUITE_MAX_RUNS];
        for (int k = 0; k < c->n; k++) {
            t[k] = c->s[k].ttft_ms;
            e[k] = c->s[k].e2e_ms;
            g[k] = c->s[k].gen_tps;
            p[k] = c->s[k].n_prompt;
        }
        suite_stats st, se, sg, sp;
        suite_stats_of(t, c->n, &st);
        suite_stats_of(e, c->n, &se);
        suite_stats_of(g, c->n, &sg);
        suite_stats_of(p, c->n, &sp);
        printf("%-12s %8.0f %12.1f %12.1f %12.1f %12.1f\n", c->name, sp.n ? sp.p50 : -1,
               st.n ? st.p50 : -1, st.n ? st.p95 : -1, se.n ? se.p50 : -1, sg.n ? sg.p50 : -1);
    }
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task_result *t = &r->tasks[i];
        if (t->n > 0)
            printf("%s breakage rate %.2f (%d of %d runs broken, %d did not parse)\n", t->task->id,
                   (double)suite_task_n_broken(t) / t->n, suite_task_n_broken(t), t->n,
                   suite_task_n_unparsed(t));
        else if (t->skipped)
            printf("%s skipped: %s\n", t->task->id, t->reason);
    }
    for (int i = 0; i < r->n_classes; i++)
        if (r->classes[i].skipped)
            printf("%s skipped: %s\n", r->classes[i].name, r->classes[i].reason);
    if (r->prefix_on.skipped)
        printf("prefix skipped: %s\n", r->prefix_on.reason);
}

int tm_app_bench_suite_main(int argc, char **argv)
{
    suite_args a;
    int exit_code = 0;
    if (!parse_args(argc, argv, &a, &exit_code))
        return exit_code;
    char dir[MAX_PATH_BYTES];
    if (a.out_dir) {
        snprintf(dir, sizeof dir, "%s", a.out_dir);
    } else {
        char stamp[32];
        tm_strftime_now(stamp, sizeof stamp, "%Y%m%d-%H%M%S");
        snprintf(dir, sizeof dir, "bench-suite-%s", stamp);
    }
    suite_results *r = tm_calloc(1, sizeof *r); /* every sample of every class: ~150 KiB */
    if (!r)
        return tm_cli_error("out of memory: %zu bytes of results", sizeof *r);
    r->args = &a;
    r->load_ms = -1;
    tm_err err = {0};
    suite_backend b = {0};
    tm_status st = make_dirs(dir, &err);
    if (st == TM_OK)
        st = write_tasks(dir, &err);
    suite_log_machine(&r->log, a.n_threads);
    if (st == TM_OK)
        st = a.model_path ? suite_local_create(&a, r, &b, &err)
                          : suite_endpoint_create(&a, &b, &err);
    if (st == TM_OK) {
        r->mode = b.kind;
        r->n_ctx = b.n_ctx;
        if (!a.quiet)
            fprintf(stderr, "suite: %s, %s; %lld runs, %lld warm-up; output in %s/\n", b.kind,
                    a.model_path ? a.model_path : a.endpoint, (long long)a.runs,
                    (long long)a.warmup, dir);
        st = suite_run(&b, &a, r, &err);
    }
    if (st == TM_OK && a.model_path) {
        r->peak_rss_bytes = tm_peak_rss_bytes();
        st = suite_log_model_file(&r->log, a.model_path, &err); /* after: see suite_log.c */
    }
    if (b.free)
        b.free(b.self);
    if (st == TM_OK)
        st = write_outputs(dir, r, &err);
    if (st == TM_OK)
        print_summary(dir, r);
    suite_results_fini(r);
    tm_free(r);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
