/* temoto bench suite: the types its files share.
 *
 * suite.c          the command: options, the order of the parts, the output folder
 * suite_run.c      the measurements: cold request, warm-up, prompt classes, prefix cache, tasks
 * suite_local.c    the in-process backend (the engine through the public API)
 * suite_endpoint.c the OpenAI-compatible backend (libcurl, streamed SSE)
 * suite_sse.c      the reader of a streamed chat completion (outside input: fuzzed)
 * suite_tasks.c    the three built-in Japanese tasks, their schemas, the short prompt
 * suite_transcript.c  P2's meeting transcript (also the filler of the long prompts)
 * suite_stats.c    percentiles
 * suite_log.c      the run log: model file, build, machine
 * suite_report.c   results.json and report.md
 * suite_svg.c      the charts
 *
 * A backend answers one request (a user message, max tokens, a seed) with the reply's text
 * and its timings; the run loop knows nothing of how. Everything a report needs is in
 * suite_results, filled by the run loop and read by the writers. */
#ifndef TM_APPS_SUITE_H
#define TM_APPS_SUITE_H

#include "base/base.h"
#include "cli.h"

#define SUITE_MAX_RUNS    100
#define SUITE_MAX_LONG    8
#define SUITE_MAX_CLASSES (1 + SUITE_MAX_LONG)
#define SUITE_N_TASKS     3
#define SUITE_MAX_REPLY   ((size_t)1 << 20) /* bytes of a reply kept; more is TM_E_LIMIT */

/* ---- what a request is and what it gives ------------------------------------------------- */

typedef struct suite_request {
    const char *user; /* the user message, UTF-8 */
    size_t user_len;
    int32_t max_tokens;
    uint64_t seed;
    bool prefix_cache; /* in-process: on the KV cache that keeps and reuses prefixes */
} suite_request;

/* One answered request. -1 (or a negative time) is "not known". */
typedef struct suite_sample {
    double ttft_ms;    /* request start to the first generated token */
    double e2e_ms;     /* request start to the last */
    double prompt_tps; /* prompt tokens computed / the prompt's time */
    double gen_tps;    /* tokens after the first / the time after the first */
    int32_t n_prompt;  /* the prompt's tokens (usage, or estimated: see n_prompt_exact) */
    int32_t n_gen;     /* tokens generated */
    int32_t n_reused;  /* prompt positions taken from the KV cache (in-process) */
    bool n_prompt_exact, n_gen_exact;
} suite_sample;

typedef struct suite_reply {
    tm_buf text; /* the generated text, capped at SUITE_MAX_REPLY */
    suite_sample s;
} suite_reply;

typedef struct suite_backend {
    void *self;
    const char *kind; /* "in-process" or "endpoint" */
    /* Answers rq. A request the backend or server refuses as too long (context) is
     * TM_E_LIMIT; other refusals (HTTP 4xx) TM_E_ARG; failures TM_E_IO and others. */
    tm_status (*complete)(void *self, const suite_request *rq, suite_reply *out, tm_err *err);
    /* Exact prompt tokens of a user message, or -1 when the backend cannot tell. */
    int32_t (*count_tokens)(void *self, const char *user, size_t len);
    /* Makes room for requests of up to n_ctx positions (prompt and reply) on the kind of KV
     * cache prefix_cache names, before the first one is timed. */
    tm_status (*reserve)(void *self, int32_t n_ctx, bool prefix_cache, tm_err *err);
    void (*free)(void *self);
    int32_t n_ctx; /* positions a request may use; 0: unknown (ask the server) */
} suite_backend;

tm_status suite_backend_complete(suite_backend *b, const suite_request *rq, suite_reply *out,
                                 tm_err *err);

/* ---- options ------------------------------------------------------------------------------ */

enum { /* --tasks bits */
       SUITE_PART_SHORT = 1,
       SUITE_PART_LONG = 2,
       SUITE_PART_PREFIX = 4,
       SUITE_PART_P1 = 8,
       SUITE_PART_P2 = 16,
       SUITE_PART_P3 = 32,
       SUITE_PART_ALL = 63,
};

typedef struct suite_args {
    const char *model_path;            /* in-process */
    const char *endpoint, *model_name; /* endpoint */
    const char *api_key, *out_dir;     /* out_dir NULL: bench-suite-<time> */
    int64_t runs, warmup, n_threads, n_ctx, max_tokens, json_max_tokens, prefix_tokens;
    int64_t timeout_s;
    double temperature, top_p;
    uint64_t seed;
    unsigned parts;
    int32_t long_tokens[SUITE_MAX_LONG];
    int n_long;
    tm_kv_type kv_type;
    bool quiet;
} suite_args;

/* ---- results ------------------------------------------------------------------------------ */

typedef struct suite_stats {
    int n;
    double min, max, mean, p50, p95;
} suite_stats;

/* Percentiles by linear interpolation between the closest ranks (R's type 7, NumPy's
 * default): p of n sorted values is x[h] + (h - floor h) (x[h+1] - x[h]) at h = (n - 1) p.
 * Negative values (unknown) are left out; n = 0 when none is left. */
void suite_stats_of(const double *x, int n, suite_stats *out);
double suite_percentile(const double *sorted, int n, double p);

typedef struct suite_class {
    char name[32];         /* "short", "long4k" */
    int32_t target_tokens; /* 0 for short */
    suite_sample s[SUITE_MAX_RUNS];
    int n;
    bool skipped;
    char reason[256]; /* why it was skipped */
} suite_class;

typedef struct suite_attempt {
    suite_sample s;
    bool parsed, valid;
    char reason[256]; /* why it broke; "" when valid */
    char *text;       /* the reply (tm_malloc'd; suite_results_fini frees it) */
    size_t text_len;
} suite_attempt;

typedef struct suite_task {
    const char *id;     /* "P1" */
    const char *title;  /* "task extraction from a memo" */
    const char *prompt; /* the user message, instructions and input */
    const char *schema; /* JSON Schema (the subset json_check.c knows) */
} suite_task;

typedef struct suite_task_result {
    const suite_task *task;
    suite_attempt a[SUITE_MAX_RUNS];
    int n;
    bool skipped;
    char reason[256];
} suite_task_result;

typedef struct suite_log {
    char version[32], commit[48];
    char model_path[512], model_sha256[65], quant[32], arch[32];
    uint64_t model_bytes, n_params;
    int32_t n_ctx_train;
    bool chat_template; /* the model's own template rendered the prompts (else raw text) */
    char kernels[16];
    char cpu[64], isa[256];
    int n_logical;
    uint64_t ram_bytes;
    int32_t n_threads;
    char started[32]; /* local time, ISO 8601 */
} suite_log;

typedef struct suite_results {
    const suite_args *args;
    const char *mode; /* "in-process" or "endpoint" */
    suite_log log;
    double load_ms; /* in-process: tm_model_load; -1 unknown */
    suite_sample cold;
    bool have_cold;
    uint64_t peak_rss_bytes; /* 0: unknown (endpoint: the server's is not ours) */
    int32_t n_ctx;           /* the context requests could use; 0 unknown */
    suite_class classes[SUITE_MAX_CLASSES];
    int n_classes;
    suite_class prefix_on, prefix_off; /* name "prefix"; skipped together */
    suite_task_result tasks[SUITE_N_TASKS];
    double wall_s; /* the whole suite */
} suite_results;

void suite_results_fini(suite_results *r);

/* ---- the parts ---------------------------------------------------------------------------- */

/* The built-in tasks (P1, P2, P3), the short prompt, the long prompts' filler and the
 * prefix test's questions (suite_tasks.c, suite_transcript.c). */
const suite_task *suite_task_at(int i);
const char *suite_short_prompt(void);
const char *suite_transcript(void);       /* P2's input: a meeting transcript */
extern const char suite_p2_prompt[];      /* P2's instructions, then the transcript */
const char *suite_prefix_question(int i); /* different final questions, any i >= 0 */
const char *suite_long_instruction(void); /* what to do with a long document */

/* Runs every chosen part (suite_run.c). Progress lines go to stderr unless quiet. Fatal
 * errors (the first request fails, a later one fails for a reason other than its length)
 * return their status; parts that do not fit are marked skipped with the reason. */
tm_status suite_run(suite_backend *b, const suite_args *a, suite_results *r, tm_err *err);

/* Backends (suite_local.c, suite_endpoint.c). The in-process one fills r->load_ms and the
 * model's part of the log. */
tm_status suite_local_create(const suite_args *a, suite_results *r, suite_backend *out,
                             tm_err *err);
tm_status suite_endpoint_create(const suite_args *a, suite_backend *out, tm_err *err);

/* The run log (suite_log.c): build and machine now; the model file's sha256 and quant. */
void suite_log_machine(suite_log *log, int64_t n_threads);
void suite_log_model(suite_log *log, const char *path, const tm_model *m);
tm_status suite_log_model_file(suite_log *log, const char *path, tm_err *err);
const char *suite_quant_name(uint32_t file_type); /* general.file_type; NULL if unknown */

/* The writers (suite_report.c, suite_svg.c): each returns the text in *out (caller frees). */
tm_status suite_results_json(const suite_results *r, tm_buf *out, tm_err *err);
tm_status suite_report_md(const suite_results *r, tm_buf *out, tm_err *err);
tm_status suite_svg_latency(const suite_results *r, tm_buf *out, tm_err *err);
tm_status suite_svg_tps(const suite_results *r, tm_buf *out, tm_err *err);
tm_status suite_svg_breakage(const suite_results *r, tm_buf *out, tm_err *err);

/* Breakage of a task: attempts that did not parse or did not match the schema. */
int suite_task_n_broken(const suite_task_result *t);
int suite_task_n_unparsed(const suite_task_result *t);

#endif
