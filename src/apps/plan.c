/* temoto plan: which model and context fit on this machine (or a chosen tier), and how fast
 * it will generate.
 *
 * The model is a file (-m: its own tensor bytes, and KV and scratch from the engine's
 * accounting, tm_memory_estimate_get) or a parameter count at some bits per weight with a
 * known shape (--params, --bits or --quant, --like: the same engine computation on the
 * shape's hyper-parameters, tm_plan_shape_memory). The answers: whether the session fits the
 * machine's usable memory and by how much, beside speech models too; the largest context that
 * fits per KV type (a binary search over the same estimate); the generation speed the memory
 * bandwidth allows (bandwidth / bytes read per token); and a table of common model sizes.
 * Every number is explained in docs/plan.md, which also holds the --json contract. */
#include "plan.h"
#include "apps.h"
#include "cli.h"
#include "machine.h"

#include "engine/engine.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define GIB                  (1024.0 * 1024.0 * 1024.0)
#define MAX_CTX              (1 << 24) /* the search's cap when the training context is unknown */
#define N_MAX_CTX_TYPES      3
#define N_SIZE_BITS          4
#define MAX_SIZES            16
/* kept free for speech models beside the LLM: whisper small (~0.85 GB in whisper.cpp's
 * table) and a small TTS voice with the audio buffers (docs/plan.md) */
#define SPEECH_RESERVE_BYTES (2ull << 30)

static const tm_kv_type g_max_ctx_types[N_MAX_CTX_TYPES] = {TM_KV_F16, TM_KV_Q8_0, TM_KV_Q4_0};
static const double g_size_bits[N_SIZE_BITS] = {4, 4.5, 8, 16};

typedef struct plan_args {
    const char *model_path, *params, *quant, *like, *machine;
    double bits; /* 0: not given */
    int64_t n_ctx, n_parallel, n_threads;
    tm_cli_kv kv;
    bool json, verify;
} plan_args;

/* What is planned: a file's model, or n_params at bits per weight with a shape. */
typedef struct plan_model {
    bool present, from_file;
    tm_model *model; /* -m: loaded without repacking (weights as in the file) */
    const tm_plan_shape *shape;
    bool shape_guessed; /* --like not given: the shape of the nearest common size */
    uint64_t n_params, weights_bytes;
    double bits;
    const char *quant; /* the --quant name, or NULL */
    int32_t n_ctx_train;
} plan_model;

typedef struct plan_answer {
    int32_t n_ctx; /* resolved */
    tm_memory_estimate e;
    bool fits, fits_speech;
    int64_t margin_bytes; /* usable - total: negative when it does not fit */
    int32_t max_ctx[N_MAX_CTX_TYPES];
    bool max_ctx_known[N_MAX_CTX_TYPES]; /* false: the heads cannot hold that type */
    int32_t ctx_cap;
    uint64_t decode_bytes;
    double gen_tps; /* 0: unknown bandwidth */
} plan_answer;

typedef struct size_cell {
    uint64_t weights_bytes, total_bytes;
    bool known, fits, fits_speech;
} size_cell;

typedef struct size_table {
    int32_t n_ctx;
    int n;
    size_cell cells[MAX_SIZES][N_SIZE_BITS];
} size_table;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto plan [-m M.gguf | --params 8B [--quant Q4_K_M | --bits 4.5]\n"
            "                   [--like SHAPE]] [--ctx N] [--kv-type T] [--parallel N]\n"
            "                   [--machine auto|TIER] [-t THREADS] [--json]\n"
            "       temoto plan --verify -m M.gguf [--ctx N] [--kv-type T] [-t THREADS] [--json]\n"
            "\n"
            "Which model and context fit this machine (or a tier) and how fast it generates:\n"
            "weights, KV cache and scratch of the session, whether they fit and by how much\n"
            "(also beside 2 GiB kept for speech models), the largest context per KV type, the\n"
            "generation speed memory bandwidth allows, and a table of common model sizes.\n"
            "\n"
            "  -m M.gguf                a model file (its own tensor bytes)\n"
            "  --params N               or a parameter count: 8B, 0.5B, 350M, 8e9\n"
            "  --quant NAME, --bits B   its bits per weight: %s\n"
            "                           (default Q4_K_M), or a number\n"
            "  --like SHAPE             the shape its KV cache follows (default: the nearest\n"
            "                           common size's):",
            tm_plan_quant_names());
    for (int i = 0; tm_plan_shape_at(i); i++)
        fprintf(out, "%s %s", i ? "," : "", tm_plan_shape_at(i)->name);
    fprintf(out,
            "\n"
            "  --ctx N, -c N            the context (default: the model's, at most 4096)\n"
            "  --kv-type T              KV cache type: f16 (default), q8_0, q4_0, f32\n"
            "                           (--kv-type-k, --kv-type-v for one of the two)\n"
            "  --parallel N             sessions, each with its own KV cache (default 1)\n"
            "  --machine M              auto (default: this machine, its available memory and\n"
            "                           measured bandwidth) or a tier: %s\n"
            "  -t THREADS               threads the scratch is sized for\n"
            "  --json                   one JSON object (docs/plan.md)\n"
            "  --verify                 load the model, fill the context, generate 16 tokens:\n"
            "                           predicted against measured peak RSS and tokens/s\n",
            tm_plan_tier_names());
}

static double gib(uint64_t bytes)
{
    return (double)bytes / GIB;
}

/* "8.03B", "1.44M": a parameter count as model names write it */
static const char *count_str(uint64_t n, char *buf, size_t cap)
{
    const struct {
        double unit;
        const char *suffix;
    } units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
    for (size_t i = 0; i < TM_ARRAY_LEN(units); i++)
        if ((double)n >= units[i].unit) {
            snprintf(buf, cap, "%.3g%s", (double)n / units[i].unit, units[i].suffix);
            return buf;
        }
    snprintf(buf, cap, "%llu", (unsigned long long)n);
    return buf;
}

/* "12.3 MB", "4.31 GB": bytes read per token, in the units bandwidth is quoted in */
static const char *decimal_bytes(uint64_t n, char *buf, size_t cap)
{
    if (n >= 1000000000ull)
        snprintf(buf, cap, "%.2f GB", (double)n / 1e9);
    else
        snprintf(buf, cap, "%.1f MB", (double)n / 1e6);
    return buf;
}

static tm_kv_type value_type(const tm_cli_kv *kv)
{
    return kv->type_v == TM_KV_SAME ? kv->type_k : kv->type_v;
}

/* "q8_0", or "q8_0/f16" when keys and values differ */
static const char *kv_name(const tm_cli_kv *kv, char *buf, size_t cap)
{
    if (value_type(kv) == kv->type_k)
        snprintf(buf, cap, "%s", tm_kv_type_name(kv->type_k));
    else
        snprintf(buf, cap, "%s/%s", tm_kv_type_name(kv->type_k), tm_kv_type_name(value_type(kv)));
    return buf;
}

static void print_json_str(const char *s)
{
    tm_buf b;
    tm_buf_init(&b, 1 << 16);
    if (s && tm_buf_append_json_string(&b, s, strlen(s), NULL) == TM_OK)
        fputs(b.data, stdout);
    else
        fputs("null", stdout);
    tm_buf_fini(&b);
}

/* ---- the estimate ------------------------------------------------------------------------- */

static tm_status estimate(const plan_model *pm, int32_t n_ctx, tm_kv_type type_k, tm_kv_type type_v,
                          int32_t n_parallel, int32_t n_threads, tm_memory_estimate *e, tm_err *err)
{
    tm_session_params sp = tm_session_params_default();
    sp.n_ctx = n_ctx;
    sp.n_threads = n_threads;
    sp.kv_type = type_k;
    sp.kv_type_v = type_v;
    if (pm->from_file)
        return tm_memory_estimate_get(pm->model, &sp, n_parallel, e, err);
    return tm_plan_shape_memory(pm->shape, pm->weights_bytes, &sp, n_parallel, e, err);
}

typedef struct fit_job {
    const plan_model *pm;
    tm_kv_type type;
    int32_t n_parallel, n_threads;
    uint64_t usable_bytes;
} fit_job;

static bool fits_at(int32_t n_ctx, void *arg)
{
    const fit_job *j = arg;
    tm_memory_estimate e;
    return estimate(j->pm, n_ctx, j->type, j->type, j->n_parallel, j->n_threads, &e, NULL) ==
               TM_OK &&
           e.total_bytes <= j->usable_bytes;
}

static tm_status answer(const plan_args *a, const plan_model *pm, const tm_machine *m,
                        plan_answer *out, tm_err *err)
{
    plan_answer r;
    memset(&r, 0, sizeof r);
    tm_status st = estimate(pm, (int32_t)a->n_ctx, a->kv.type_k, a->kv.type_v,
                            (int32_t)a->n_parallel, m->n_threads, &r.e, err);
    if (st != TM_OK)
        return st;
    r.n_ctx = r.e.n_ctx;
    r.fits = r.e.total_bytes <= m->usable_bytes;
    r.fits_speech = r.e.total_bytes <= m->usable_bytes &&
                    m->usable_bytes - r.e.total_bytes >= SPEECH_RESERVE_BYTES;
    r.margin_bytes = r.fits ? (int64_t)(m->usable_bytes - r.e.total_bytes)
                            : -(int64_t)TM_MIN(r.e.total_bytes - m->usable_bytes, INT64_MAX);
    r.ctx_cap = pm->n_ctx_train > 0 ? pm->n_ctx_train : MAX_CTX;
    for (int i = 0; i < N_MAX_CTX_TYPES; i++) {
        fit_job j = {pm, g_max_ctx_types[i], (int32_t)a->n_parallel, m->n_threads, m->usable_bytes};
        tm_memory_estimate e;
        tm_status s = estimate(pm, 1, j.type, j.type, j.n_parallel, j.n_threads, &e, NULL);
        r.max_ctx_known[i] = s != TM_E_UNSUPPORTED;
        r.max_ctx[i] = r.max_ctx_known[i] ? tm_plan_max_ctx(r.ctx_cap, fits_at, &j) : 0;
    }
    if (pm->from_file)
        r.decode_bytes =
            tm_plan_decode_bytes_model(pm->model, r.n_ctx, a->kv.type_k, value_type(&a->kv));
    else
        r.decode_bytes = tm_plan_decode_bytes_shape(pm->shape, pm->weights_bytes, pm->bits, r.n_ctx,
                                                    a->kv.type_k, value_type(&a->kv));
    if (m->bandwidth_gbs > 0 && r.decode_bytes > 0)
        r.gen_tps = m->bandwidth_gbs * 1e9 / (double)r.decode_bytes;
    *out = r;
    return TM_OK;
}

static void size_table_fill(const plan_args *a, const tm_machine *m, int32_t n_ctx, size_table *t)
{
    memset(t, 0, sizeof *t);
    t->n_ctx = n_ctx;
    for (int i = 0; tm_plan_size_at(i) && i < MAX_SIZES; i++, t->n++) {
        const tm_plan_size *size = tm_plan_size_at(i);
        plan_model pm = {.present = true, .shape = tm_plan_shape_find(size->shape)};
        for (int b = 0; b < N_SIZE_BITS && pm.shape; b++) {
            size_cell *c = &t->cells[i][b];
            tm_memory_estimate e;
            if (tm_plan_weights_bytes(size->n_params, g_size_bits[b], &pm.weights_bytes, NULL) !=
                    TM_OK ||
                estimate(&pm, n_ctx, a->kv.type_k, a->kv.type_v, (int32_t)a->n_parallel,
                         m->n_threads, &e, NULL) != TM_OK)
                continue;
            c->known = true;
            c->weights_bytes = pm.weights_bytes;
            c->total_bytes = e.total_bytes;
            c->fits = e.total_bytes <= m->usable_bytes;
            c->fits_speech = c->fits && m->usable_bytes - e.total_bytes >= SPEECH_RESERVE_BYTES;
        }
    }
}

/* ---- the model ---------------------------------------------------------------------------- */

static tm_status model_open(const plan_args *a, plan_model *pm, tm_err *err)
{
    memset(pm, 0, sizeof *pm);
    if (a->model_path) {
        tm_model_params mp = tm_model_params_default();
        mp.repack = false; /* the file's bytes; as info --memory counts them */
        tm_status st = tm_model_load(a->model_path, &mp, &pm->model, err);
        if (st != TM_OK)
            return st;
        pm->present = pm->from_file = true;
        pm->n_params = tm_model_n_params(pm->model);
        pm->weights_bytes = tm_model_weight_bytes(pm->model);
        pm->bits = pm->n_params ? 8.0 * (double)pm->weights_bytes / (double)pm->n_params : 0;
        pm->n_ctx_train = tm_model_n_ctx_train(pm->model);
        return TM_OK;
    }
    if (!a->params)
        return TM_OK; /* the machine and the sizes table only */
    tm_status st = tm_plan_params_parse(a->params, &pm->n_params, err);
    if (st != TM_OK)
        return st;
    pm->present = true;
    pm->quant = a->bits > 0 ? NULL : a->quant ? a->quant : "Q4_K_M";
    pm->bits = a->bits;
    if (pm->quant && !tm_plan_quant_bits(pm->quant, &pm->bits))
        return tm_fail(err, TM_E_ARG, "unknown quantization '%s' (%s)", pm->quant,
                       tm_plan_quant_names());
    pm->shape = a->like ? tm_plan_shape_find(a->like) : tm_plan_shape_nearest(pm->n_params);
    pm->shape_guessed = !a->like;
    if (!pm->shape)
        return tm_fail(err, TM_E_ARG, "unknown shape '%s' (see temoto plan --help)", a->like);
    pm->n_ctx_train = pm->shape->n_ctx_train;
    return tm_plan_weights_bytes(pm->n_params, pm->bits, &pm->weights_bytes, err);
}

/* ---- text --------------------------------------------------------------------------------- */

static void print_machine_text(const tm_machine *m)
{
    if (m->detected) {
        char isa[160];
        tm_machine_isa(&m->cpu, isa, sizeof isa);
        printf("machine  this one (nearest tier: %s, %s)\n", m->tier->name, m->tier->description);
        int brand_len = (int)strlen(m->cpu.brand);
        while (brand_len > 0 && m->cpu.brand[brand_len - 1] == ' ') /* padded by CPUID */
            brand_len--;
        printf("         %.*s, %d logical processors%s%s\n", brand_len ? brand_len : 3,
               brand_len ? m->cpu.brand : "CPU", m->cpu.n_logical, isa[0] ? ", " : "", isa);
        printf("         memory %.1f GiB, %.1f GiB available; GPUs: ", gib(m->mem.total_bytes),
               gib(m->mem.available_bytes));
        if (m->n_gpus == 0)
            printf("none reported");
        for (int i = 0; i < TM_MIN(m->n_gpus, TM_MACHINE_MAX_GPUS); i++) {
            printf("%s%s", i ? ", " : "", m->gpus[i].name);
            if (m->gpus[i].vram_bytes)
                printf(" (%.1f GiB)", gib(m->gpus[i].vram_bytes));
        }
        printf(" (temoto computes on the CPU)\n");
    } else {
        printf("machine  %s: %s\n", m->tier->name, m->tier->description);
    }
    printf("         usable %.1f GiB (%s); memory bandwidth %.1f GB/s (%s)\n", gib(m->usable_bytes),
           m->usable_rule, m->bandwidth_gbs, m->bandwidth_source ? m->bandwidth_source : "unknown");
}

static void print_model_text(const plan_args *a, const plan_model *pm)
{
    char n[32];
    if (pm->from_file)
        printf("model    %s: %s, %s parameters, %.2f bits per weight, training context %d\n",
               a->model_path, tm_model_arch(pm->model), count_str(pm->n_params, n, sizeof n),
               pm->bits, pm->n_ctx_train);
    else
        printf("model    %s parameters at %.4g bits per weight%s%s%s, shaped like %s%s, "
               "training context %d\n",
               count_str(pm->n_params, n, sizeof n), pm->bits, pm->quant ? " (" : "",
               pm->quant ? pm->quant : "", pm->quant ? ")" : "", pm->shape->name,
               pm->shape_guessed ? " (the nearest common size's; --like chooses)" : "",
               pm->n_ctx_train);
}

static void print_answer_text(const plan_args *a, const plan_model *pm, const tm_machine *m,
                              const plan_answer *r)
{
    char kv[32];
    printf("\nat context %d, %s KV cache, %lld session%s, %d thread%s:\n", r->n_ctx,
           kv_name(&a->kv, kv, sizeof kv), (long long)a->n_parallel, a->n_parallel == 1 ? "" : "s",
           r->e.n_threads, r->e.n_threads == 1 ? "" : "s");
    const char *names[] = {"weights", "KV cache", "scratch", "total"};
    uint64_t bytes[] = {r->e.weights_bytes, r->e.kv_bytes, r->e.scratch_bytes, r->e.total_bytes};
    for (int i = 0; i < 4; i++)
        printf("  %-9s %16" PRIu64 " bytes %9.2f GiB\n", names[i], bytes[i], gib(bytes[i]));
    printf("  (weights x 1.10, the reference tables' convention: %.1f GiB)\n",
           tm_plan_gib_with_overhead(r->e.weights_bytes));
    if (r->fits)
        printf("  fits: yes, %.2f GiB to spare; beside speech models (%.0f GiB kept): %s\n",
               gib((uint64_t)r->margin_bytes), gib(SPEECH_RESERVE_BYTES),
               r->fits_speech ? "yes" : "no");
    else
        printf("  fits: no, %.2f GiB short\n", gib((uint64_t)-r->margin_bytes));
    if (pm->n_ctx_train > 0 && r->n_ctx > pm->n_ctx_train)
        printf("  note: the context exceeds the model's training context (%d)\n", pm->n_ctx_train);
    char per_token[32];
    if (r->gen_tps > 0)
        printf("  generation: at most %.1f tokens/s with a full context (%.1f GB/s / %s read "
               "per token)\n",
               r->gen_tps, m->bandwidth_gbs,
               decimal_bytes(r->decode_bytes, per_token, sizeof per_token));
    printf("\nlargest context that fits (at most %s %d):",
           pm->n_ctx_train > 0 ? "the training "
                                 "context,"
                               : "",
           r->ctx_cap);
    for (int i = 0; i < N_MAX_CTX_TYPES; i++)
        if (r->max_ctx_known[i])
            printf("  %s %d", tm_kv_type_name(g_max_ctx_types[i]), r->max_ctx[i]);
        else
            printf("  %s -", tm_kv_type_name(g_max_ctx_types[i]));
    printf("\n");
}

static void print_sizes_text(const plan_args *a, const size_table *t)
{
    char kv[32];
    printf("\ncommon sizes at context %d, %s KV cache: total GiB; ++ fits beside speech, + fits,"
           " - does not\n",
           t->n_ctx, kv_name(&a->kv, kv, sizeof kv));
    printf("  %-5s %-13s", "size", "shaped like");
    for (int b = 0; b < N_SIZE_BITS; b++)
        printf(" %6g bit", g_size_bits[b]);
    printf("\n");
    for (int i = 0; i < t->n; i++) {
        const tm_plan_size *size = tm_plan_size_at(i);
        printf("  %-5s %-13s", size->label, size->shape);
        for (int b = 0; b < N_SIZE_BITS; b++) {
            const size_cell *c = &t->cells[i][b];
            if (c->known)
                printf(" %7.1f %-2s", gib(c->total_bytes),
                       c->fits_speech ? "++"
                       : c->fits      ? "+"
                                      : "-");
            else
                printf(" %7s %-2s", "?", "");
        }
        printf("\n");
    }
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void print_machine_json(const tm_machine *m)
{
    printf("\"machine\": {\"tier\": ");
    print_json_str(m->tier->name);
    printf(", \"source\": \"%s\", \"description\": ", m->detected ? "detected" : "chosen");
    print_json_str(m->tier->description);
    printf(", \"memory_bytes\": %" PRIu64 ", \"usable_bytes\": %" PRIu64 ", \"usable_rule\": ",
           m->memory_bytes, m->usable_bytes);
    print_json_str(m->usable_rule);
    printf(", \"bandwidth_gbs\": %.2f, \"bandwidth_source\": ", m->bandwidth_gbs);
    print_json_str(m->bandwidth_source);
    printf(", \"n_threads\": %d, \"system_bytes\": %" PRIu64 ", \"detected\": ", m->n_threads,
           m->detected ? m->mem.total_bytes : m->tier->system_bytes);
    if (!m->detected) {
        printf("null}");
        return;
    }
    char isa[160];
    tm_machine_isa(&m->cpu, isa, sizeof isa);
    printf("{\"total_bytes\": %" PRIu64 ", \"available_bytes\": %" PRIu64 ", \"cpu\": ",
           m->mem.total_bytes, m->mem.available_bytes);
    print_json_str(m->cpu.brand);
    printf(", \"n_cores\": %d, \"isa\": [", m->cpu.n_logical);
    for (char *p = isa, *sp; *p; p = sp + (*sp != '\0')) { /* space-separated names */
        sp = p + strcspn(p, " ");
        printf("%s\"%.*s\"", p == isa ? "" : ", ", (int)(sp - p), p);
    }
    printf("], \"gpus\": [");
    for (int i = 0; i < TM_MIN(m->n_gpus, TM_MACHINE_MAX_GPUS); i++) {
        printf("%s{\"vendor\": ", i ? ", " : "");
        print_json_str(m->gpus[i].vendor);
        printf(", \"name\": ");
        print_json_str(m->gpus[i].name);
        printf(", \"vram_bytes\": %" PRIu64 ", \"unified\": %s}", m->gpus[i].vram_bytes,
               m->gpus[i].unified ? "true" : "false");
    }
    printf("]}}");
}

static void print_model_json(const plan_args *a, const plan_model *pm)
{
    printf("\"model\": ");
    if (!pm->present) {
        printf("null");
        return;
    }
    printf("{\"source\": \"%s\", \"path\": ", pm->from_file ? "file" : "params");
    print_json_str(pm->from_file ? a->model_path : NULL);
    printf(", \"arch\": ");
    print_json_str(pm->from_file ? tm_model_arch(pm->model) : NULL);
    printf(", \"n_params\": %" PRIu64 ", \"bits_per_weight\": %.4f, \"quant\": ", pm->n_params,
           pm->bits);
    print_json_str(pm->quant);
    printf(", \"shape\": ");
    print_json_str(pm->shape ? pm->shape->name : NULL);
    printf(", \"shape_guessed\": %s, \"n_ctx_train\": %d}", pm->shape_guessed ? "true" : "false",
           pm->n_ctx_train);
}

static void print_json(const plan_args *a, const plan_model *pm, const tm_machine *m,
                       const plan_answer *r, const size_table *t)
{
    char kv[32];
    printf("{");
    print_machine_json(m);
    printf(", ");
    print_model_json(a, pm);
    printf(", \"kv_type\": \"%s\", \"n_parallel\": %lld, \"speech_reserve_bytes\": %llu",
           kv_name(&a->kv, kv, sizeof kv), (long long)a->n_parallel,
           (unsigned long long)SPEECH_RESERVE_BYTES);
    if (r) {
        printf(", \"n_ctx\": %d, \"n_threads\": %d, \"weights_bytes\": %" PRIu64
               ", \"weights_gib_with_overhead\": %.1f, \"kv_bytes\": %" PRIu64
               ", \"scratch_bytes\": %" PRIu64 ", \"total_bytes\": %" PRIu64
               ", \"fits\": %s, \"fits_with_speech\": %s, \"margin_bytes\": %" PRId64
               ", \"max_ctx\": {",
               r->n_ctx, r->e.n_threads, r->e.weights_bytes,
               tm_plan_gib_with_overhead(r->e.weights_bytes), r->e.kv_bytes, r->e.scratch_bytes,
               r->e.total_bytes, r->fits ? "true" : "false", r->fits_speech ? "true" : "false",
               r->margin_bytes);
        for (int i = 0; i < N_MAX_CTX_TYPES; i++) {
            printf("%s\"%s\": ", i ? ", " : "", tm_kv_type_name(g_max_ctx_types[i]));
            if (r->max_ctx_known[i])
                printf("%d", r->max_ctx[i]);
            else
                printf("null");
        }
        printf("}, \"max_ctx_cap\": %d, \"bytes_per_token\": %" PRIu64 ", \"gen_tps\": ",
               r->ctx_cap, r->decode_bytes);
        if (r->gen_tps > 0)
            printf("%.2f", r->gen_tps);
        else
            printf("null");
    } else {
        printf(", \"n_ctx\": null, \"n_threads\": %d, \"weights_bytes\": null, "
               "\"weights_gib_with_overhead\": null, \"kv_bytes\": null, \"scratch_bytes\": "
               "null, \"total_bytes\": null, \"fits\": null, \"fits_with_speech\": null, "
               "\"margin_bytes\": null, \"max_ctx\": null, \"max_ctx_cap\": null, "
               "\"bytes_per_token\": null, \"gen_tps\": null",
               m->n_threads);
    }
    printf(", \"sizes\": {\"n_ctx\": %d, \"bits\": [", t->n_ctx);
    for (int b = 0; b < N_SIZE_BITS; b++)
        printf("%s%g", b ? ", " : "", g_size_bits[b]);
    printf("], \"rows\": [");
    for (int i = 0; i < t->n; i++) {
        const tm_plan_size *size = tm_plan_size_at(i);
        printf("%s{\"size\": \"%s\", \"n_params\": %" PRIu64 ", \"shape\": \"%s\", \"cells\": [",
               i ? ", " : "", size->label, size->n_params, size->shape);
        for (int b = 0; b < N_SIZE_BITS; b++) {
            const size_cell *c = &t->cells[i][b];
            if (!c->known) {
                printf("%snull", b ? ", " : "");
                continue;
            }
            printf("%s{\"bits\": %g, \"weights_bytes\": %" PRIu64
                   ", \"weights_gib_with_overhead\": %.1f, \"total_bytes\": %" PRIu64
                   ", \"fits\": %s, \"fits_with_speech\": %s}",
                   b ? ", " : "", g_size_bits[b], c->weights_bytes,
                   tm_plan_gib_with_overhead(c->weights_bytes), c->total_bytes,
                   c->fits ? "true" : "false", c->fits_speech ? "true" : "false");
        }
        printf("]}");
    }
    printf("]}}\n");
}

/* ---- main --------------------------------------------------------------------------------- */

static bool parse_args(int argc, char **argv, plan_args *a, bool *help)
{
    const char *v = NULL;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        const char *flag = argv[i];
        if (tm_cli_is_help(flag)) {
            *help = true;
            return true;
        } else if (tm_cli_flag(argc, argv, &i, "-m", "--model", &a->model_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--params", &a->params, &bad)) {
            uint64_t n = 0;
            tm_err err = {0};
            if (!bad && tm_plan_params_parse(a->params, &n, &err) != TM_OK) {
                fprintf(stderr, "error: --params: %s\n", err.msg);
                bad = true;
            }
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--quant", &a->quant, &bad)) {
            double bits = 0;
            if (!bad && !tm_plan_quant_bits(a->quant, &bits)) {
                fprintf(stderr, "error: --quant: '%s' is not one of %s\n", a->quant,
                        tm_plan_quant_names());
                bad = true;
            }
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--bits", &v, &bad)) {
            bad = bad || !tm_cli_float(flag, v, 1, 32, &a->bits);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--like", &a->like, &bad)) {
            if (!bad && !tm_plan_shape_find(a->like)) {
                fprintf(stderr, "error: --like: unknown shape '%s' (see temoto plan --help)\n",
                        a->like);
                bad = true;
            }
        } else if (tm_cli_flag(argc, argv, &i, "-c", "--ctx", &v, &bad) ||
                   (!bad && tm_cli_flag(argc, argv, &i, NULL, "--ctx-size", &v, &bad))) {
            bad = bad || !tm_cli_int("--ctx", v, 1, MAX_CTX, &a->n_ctx);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--parallel", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 1, 1 << 16, &a->n_parallel);
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int(flag, v, 0, 1024, &a->n_threads);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--machine", &a->machine, &bad)) {
            if (!bad && strcmp(a->machine, "auto") != 0 && !tm_plan_tier_find(a->machine)) {
                fprintf(stderr, "error: --machine: '%s' is not auto or a tier (%s)\n", a->machine,
                        tm_plan_tier_names());
                bad = true;
            }
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--json", NULL, &bad)) {
            a->json = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--verify", NULL, &bad)) {
            a->verify = true;
        } else if (strcmp(flag, "--kv-mem") == 0 || strcmp(flag, "--no-prefix-cache") == 0) {
            fprintf(stderr, "error: %s is not a plan option: the KV cache is sized by --ctx\n",
                    flag);
            bad = true;
        } else if (tm_cli_kv_flag(argc, argv, &i, &a->kv, &bad)) {
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", flag);
            bad = true;
        }
    }
    const char *why = NULL;
    if (bad)
        return false;
    if (a->model_path && (a->params || a->quant || a->bits > 0 || a->like))
        why = "-m and --params/--quant/--bits/--like describe the model twice: choose one";
    else if (!a->params && (a->quant || a->bits > 0 || a->like))
        why = "--quant, --bits and --like describe a --params model";
    else if (a->quant && a->bits > 0)
        why = "--quant and --bits both give the bits per weight: choose one";
    else if (a->verify && !a->model_path)
        why = "--verify needs -m MODEL";
    else if (a->verify && (a->n_parallel != 1 || strcmp(a->machine, "auto") != 0))
        why = "--verify runs one session on this machine (no --parallel, no --machine)";
    if (why)
        fprintf(stderr, "error: %s\n", why);
    return why == NULL;
}

int tm_app_plan_main(int argc, char **argv)
{
    plan_args a = {.machine = "auto", .n_parallel = 1, .kv = tm_cli_kv_default()};
    bool help = false;
    if (!parse_args(argc, argv, &a, &help)) {
        usage(stderr);
        return 2;
    }
    if (help) {
        usage(stdout);
        return 0;
    }
    if (a.verify) {
        tm_plan_verify_args va = {a.model_path, a.n_ctx, a.n_threads, a.kv, a.json};
        return tm_plan_verify(&va);
    }
    tm_err err = {0};
    plan_model pm;
    tm_machine m;
    plan_answer r;
    static size_table t; /* a few KiB: off the stack */
    tm_status st = model_open(&a, &pm, &err);
    if (st == TM_OK)
        st = tm_machine_get(a.machine, a.n_threads, true, &m, &err);
    if (st == TM_OK && pm.present)
        st = answer(&a, &pm, &m, &r, &err);
    if (st == TM_OK) {
        int32_t n_ctx = pm.present ? r.n_ctx : a.n_ctx > 0 ? (int32_t)a.n_ctx : TM_DEFAULT_CTX;
        size_table_fill(&a, &m, n_ctx, &t);
        if (a.json) {
            print_json(&a, &pm, &m, pm.present ? &r : NULL, &t);
        } else {
            print_machine_text(&m);
            if (pm.present) {
                print_model_text(&a, &pm);
                print_answer_text(&a, &pm, &m, &r);
            }
            print_sizes_text(&a, &t);
        }
    }
    tm_model_free(pm.model);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
