/* temoto synth: writes a llama model with deterministic random weights and a synthetic
 * SentencePiece vocabulary, so tests and benchmarks never need a download. Shapes, metadata
 * and tensor names are those of real llama GGUF files; --type applies the quantizer's
 * recipe, so a synthetic Q4_K_M file has the byte mix of a downloaded one. Tensors are
 * generated and written a chunk of rows at a time: a 1B-shaped model never sits whole in
 * memory. Same arguments, same bytes. */
#include "apps.h"
#include "cli.h"
#include "recipe.h"
#include "tensor_out.h"

#include "tensor/tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct shape {
    int64_t dim, layers, heads, kv_heads, ffn, vocab, ctx;
    double rope_base;
    int64_t sliding_window; /* 0: none (Mistral-style local attention otherwise) */
} shape;

typedef struct preset {
    const char *name;
    shape s;
} preset;

static const preset g_presets[] = {
    {"tiny", {64, 2, 4, 2, 192, 512, 512, 10000, 0}},
    {"small", {512, 8, 8, 4, 1536, 8000, 2048, 10000, 0}},
    {"llama-1b-shape", {2048, 16, 32, 8, 8192, 32000, 4096, 500000, 0}},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto synth (--preset NAME | --dim D --layers L --heads H --kv-heads K\n"
            "                     --ffn F --vocab V [--ctx C] [--rope-base B]\n"
            "                     [--sliding-window W])\n"
            "                    [--type TYPE] [--seed S] [-t THREADS] -o OUT.gguf\n"
            "\n"
            "Writes a llama model with random weights (deterministic from --seed) and a\n"
            "synthetic SentencePiece vocabulary.\n"
            "  presets: tiny (dim 64, 2 layers, vocab 512), small (dim 512, 8 layers,\n"
            "           vocab 8000), llama-1b-shape (dim 2048, 16 layers, 32 heads, 8 kv\n"
            "           heads, ffn 8192, vocab 32000)\n"
            "  --type: F32 (default) or a quantize type: %s\n",
            tm_recipe_names());
}

/* ---- the vocabulary ---------------------------------------------------------------------- */

typedef struct vocab_out {
    char **pieces;
    float *scores;
    int32_t *types;
    int64_t n;
} vocab_out;

static const char *const g_words[] = {
    "the",   "and",    "to",     "of",   "a",     "in",     "is",     "it",    "you",   "that",
    "he",    "was",    "for",    "on",   "are",   "with",   "as",     "I",     "his",   "they",
    "be",    "at",     "one",    "have", "this",  "from",   "or",     "had",   "by",    "not",
    "word",  "but",    "what",   "some", "we",    "can",    "out",    "other", "were",  "all",
    "there", "when",   "up",     "use",  "your",  "how",    "said",   "an",    "each",  "she",
    "which", "do",     "their",  "time", "if",    "will",   "way",    "about", "many",  "then",
    "them",  "write",  "would",  "like", "so",    "these",  "her",    "long",  "make",  "thing",
    "see",   "him",    "two",    "has",  "look",  "more",   "day",    "could", "go",    "come",
    "did",   "number", "sound",  "no",   "most",  "people", "my",     "over",  "know",  "water",
    "than",  "call",   "first",  "who",  "may",   "down",   "side",   "been",  "now",   "find",
    "Once",  "upon",   "little", "girl", "boy",   "named",  "Lily",   "Tom",   "loved", "play",
    "park",  "big",    "red",    "ball", "happy", "sad",    "friend", "mom"};

/* Adds a piece unless one of the first check_upto pieces already is that text. */
static bool add_piece(vocab_out *v, int64_t cap, const char *text, int32_t type, int64_t check_upto)
{
    if (v->n >= cap)
        return false;
    for (int64_t i = 0; i < TM_MIN(v->n, check_upto); i++)
        if (strcmp(v->pieces[i], text) == 0)
            return true;
    v->pieces[v->n] = tm_strdup(text);
    if (!v->pieces[v->n])
        return false;
    v->scores[v->n] = type == 1 ? -(float)v->n : 0.0f;
    v->types[v->n] = type;
    v->n++;
    return true;
}

/* <unk> <s> </s>, the 256 byte tokens, single characters, then "▁word" pieces and letter
 * pairs and triples (with and without the word-start mark) until the size is reached.
 * Scores fall with the index, so merges prefer the earlier, shorter pieces' combinations. */
static tm_status make_vocab(vocab_out *v, int64_t n, tm_err *err)
{
    v->pieces = tm_calloc((size_t)n, sizeof *v->pieces);
    v->scores = tm_calloc((size_t)n, sizeof *v->scores);
    v->types = tm_calloc((size_t)n, sizeof *v->types);
    if (!v->pieces || !v->scores || !v->types)
        return tm_fail(err, TM_E_NOMEM, "vocabulary");
    const char *mark = "\xe2\x96\x81";
    char buf[64];
    int64_t all = INT64_MAX;
    add_piece(v, n, "<unk>", 2, all);
    add_piece(v, n, "<s>", 3, all);
    add_piece(v, n, "</s>", 3, all);
    for (int b = 0; b < 256; b++) {
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        add_piece(v, n, buf, 6, all);
    }
    add_piece(v, n, mark, 1, all);
    for (int c = 33; c < 127; c++) {
        buf[0] = (char)c;
        buf[1] = 0;
        add_piece(v, n, buf, 1, all);
    }
    for (size_t w = 0; w < TM_ARRAY_LEN(g_words); w++) {
        snprintf(buf, sizeof buf, "%s%s", mark, g_words[w]);
        add_piece(v, n, buf, 1, all);
    }
    /* fill: letter pairs, triples and quadruples, which never repeat among themselves, so
     * only the pieces above need checking */
    int64_t n_fixed = v->n;
    for (int len = 2; len <= 4 && v->n < n; len++)
        for (int with_mark = 1; with_mark >= 0 && v->n < n; with_mark--) {
            int64_t combos = 1;
            for (int i = 0; i < len; i++)
                combos *= 26;
            for (int64_t k = 0; k < combos && v->n < n; k++) {
                int at = with_mark ? snprintf(buf, sizeof buf, "%s", mark) : 0;
                int64_t x = k;
                for (int i = 0; i < len; i++, x /= 26)
                    buf[at + len - 1 - i] = (char)('a' + x % 26);
                buf[at + len] = 0;
                if (!add_piece(v, n, buf, 1, n_fixed))
                    return tm_fail(err, TM_E_NOMEM, "vocabulary");
            }
        }
    if (v->n < n)
        return tm_fail(err, TM_E_ARG, "vocabulary of %lld is too large to synthesize",
                       (long long)n);
    return TM_OK;
}

static void free_vocab(vocab_out *v)
{
    for (int64_t i = 0; v->pieces && i < v->n; i++)
        tm_free(v->pieces[i]);
    tm_free(v->pieces);
    tm_free(v->scores);
    tm_free(v->types);
}

/* ---- the weights -------------------------------------------------------------------------- */

typedef struct weights {
    uint64_t seed;
    uint64_t tensor; /* index: every tensor draws from its own stream */
    float scale;     /* uniform in [-scale, scale]; 0: all ones (norms) */
} weights;

/* Each row is seeded from (seed, tensor, row), so rows can be made on any thread in any
 * order and the file is the same. */
static void weight_rows(void *ctx, int64_t first_row, int64_t n, int64_t ne0, float *dst)
{
    const weights *w = ctx;
    for (int64_t r = 0; r < n; r++) {
        float *row = dst + r * ne0;
        if (w->scale == 0) {
            for (int64_t i = 0; i < ne0; i++)
                row[i] = 1.0f;
            continue;
        }
        uint64_t s =
            w->seed * 0x9E3779B97F4A7C15ull ^ (w->tensor << 40) ^ (uint64_t)(first_row + r);
        tm_rng rng;
        tm_rng_seed(&rng, tm_splitmix64(&s));
        for (int64_t i = 0; i < ne0; i++)
            row[i] = (float)(2.0 * tm_rng_uniform(&rng) - 1.0) * w->scale;
    }
}

typedef struct tensor_spec {
    char name[64];
    int64_t ne0, ne1; /* ne1 = 1: a vector */
    float scale;
} tensor_spec;

static int64_t list_tensors(const shape *s, tensor_spec *t)
{
    int64_t n = 0, hd = s->dim / s->heads, kv = hd * s->kv_heads;
    float in_dim = 1.0f / sqrtf((float)s->dim), in_ffn = 1.0f / sqrtf((float)s->ffn);
    /* uniform [-a, a] has standard deviation a / sqrt(3): rows keep unit-ish gain */
    float k = sqrtf(3.0f);
    t[n++] = (tensor_spec){"token_embd.weight", s->dim, s->vocab, k};
    for (int64_t l = 0; l < s->layers; l++) {
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.attn_norm.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = 1, t[n++].scale = 0;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.attn_q.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = s->dim, t[n++].scale = k * in_dim;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.attn_k.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = kv, t[n++].scale = k * in_dim;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.attn_v.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = kv, t[n++].scale = k * in_dim;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.attn_output.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = s->dim, t[n++].scale = k * in_dim;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.ffn_norm.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = 1, t[n++].scale = 0;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.ffn_gate.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = s->ffn, t[n++].scale = k * in_dim;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.ffn_up.weight", (long long)l);
        t[n].ne0 = s->dim, t[n].ne1 = s->ffn, t[n++].scale = k * in_dim;
        snprintf(t[n].name, sizeof t[n].name, "blk.%lld.ffn_down.weight", (long long)l);
        t[n].ne0 = s->ffn, t[n].ne1 = s->dim, t[n++].scale = k * in_ffn;
    }
    t[n++] = (tensor_spec){"output_norm.weight", s->dim, 1, 0};
    t[n++] = (tensor_spec){"output.weight", s->dim, s->vocab, k * in_dim};
    return n;
}

static tm_status set_metadata(tm_gguf_writer *w, const shape *s, const tm_recipe *r,
                              const vocab_out *v, tm_err *err)
{
    char name[96];
    snprintf(name, sizeof name, "synthetic llama dim %lld x %lld layers", (long long)s->dim,
             (long long)s->layers);
    tm_status st = tm_gguf_writer_set_str(w, "general.architecture", "llama", err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_str(w, "general.name", name, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "general.file_type", r->file_type, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "general.quantization_version", 2, err);
    const struct {
        const char *key;
        int64_t value;
    } u32s[] = {
        {"llama.context_length", s->ctx},
        {"llama.embedding_length", s->dim},
        {"llama.block_count", s->layers},
        {"llama.feed_forward_length", s->ffn},
        {"llama.attention.head_count", s->heads},
        {"llama.attention.head_count_kv", s->kv_heads},
        {"llama.rope.dimension_count", s->dim / s->heads},
        {"llama.vocab_size", s->vocab},
        {"tokenizer.ggml.bos_token_id", 1},
        {"tokenizer.ggml.eos_token_id", 2},
        {"tokenizer.ggml.unknown_token_id", 0},
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(u32s) && st == TM_OK; i++)
        st = tm_gguf_writer_set_u32(w, u32s[i].key, (uint32_t)u32s[i].value, err);
    if (st == TM_OK && s->sliding_window > 0)
        st = tm_gguf_writer_set_u32(w, "llama.attention.sliding_window",
                                    (uint32_t)s->sliding_window, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_f32(w, "llama.rope.freq_base", (float)s->rope_base, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->pieces,
                                        NULL, (uint64_t)v->n, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr(w, "tokenizer.ggml.scores", TM_GGUF_FLOAT32, v->scores,
                                    (uint64_t)v->n, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", TM_GGUF_INT32, v->types,
                                    (uint64_t)v->n, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", false, err);
    return st;
}

static tm_status synth(const shape *s, const tm_recipe *r, uint64_t seed, int n_threads,
                       const char *out, tm_err *err)
{
    if (s->dim <= 0 || s->layers <= 0 || s->heads <= 0 || s->kv_heads <= 0 || s->ffn <= 0 ||
        s->vocab < 260 || s->ctx <= 0 || s->dim % s->heads != 0 || s->heads % s->kv_heads != 0 ||
        (s->dim / s->heads) % 2 != 0 || s->layers > 512)
        return tm_fail(err, TM_E_ARG,
                       "bad shape: dim must split into heads of even size, heads into kv heads, "
                       "vocab >= 260, at most 512 layers");
    tensor_spec *specs = tm_malloc((size_t)(9 * s->layers + 3) * sizeof *specs);
    vocab_out v = {0};
    tm_gguf_writer *w = NULL;
    tm_pool *pool = NULL;
    tm_status st = specs ? TM_OK : tm_fail(err, TM_E_NOMEM, "tensor list");
    int64_t n = st == TM_OK ? list_tensors(s, specs) : 0;
    if (st == TM_OK)
        st = make_vocab(&v, s->vocab, err);
    if (st == TM_OK)
        st = tm_gguf_writer_create(&w, err);
    if (st == TM_OK)
        st = set_metadata(w, s, r, &v, err);
    tm_recipe_model m = {(int32_t)s->layers, (int32_t)s->heads, (int32_t)s->kv_heads, true};
    uint32_t *types = st == TM_OK ? tm_malloc((size_t)n * sizeof *types) : NULL;
    if (st == TM_OK && !types)
        st = tm_fail(err, TM_E_NOMEM, "tensor types");
    for (int64_t i = 0; i < n && st == TM_OK; i++) {
        int64_t ne[2] = {specs[i].ne0, specs[i].ne1};
        int32_t dims = specs[i].ne1 == 1 ? 1 : 2;
        types[i] = tm_recipe_tensor_type(r, &m, specs[i].name, dims, ne);
        st = tm_gguf_writer_add_tensor(w, specs[i].name, types[i], dims, ne, err);
    }
    if (st == TM_OK)
        st = tm_pool_create(n_threads, &pool, err);
    if (st == TM_OK)
        st = tm_gguf_writer_begin(w, out, err);
    int64_t t0 = tm_time_us();
    for (int64_t i = 0; i < n && st == TM_OK; i++) {
        weights wt = {seed, (uint64_t)i, specs[i].scale};
        st = tm_write_rows(w, pool, types[i], specs[i].ne0, specs[i].ne1, weight_rows, &wt, err);
    }
    if (st == TM_OK)
        st = tm_gguf_writer_finish(w, err);
    if (st == TM_OK)
        fprintf(stderr, "%s: %lld tensors (%s) in %.2f s\n", out, (long long)n, r->name,
                (double)(tm_time_us() - t0) / 1e6);
    tm_free(types);
    tm_pool_free(pool);
    tm_gguf_writer_free(w);
    free_vocab(&v);
    tm_free(specs);
    return st;
}

int tm_app_synth_main(int argc, char **argv)
{
    shape s = {0, 0, 0, 0, 0, 0, 2048, 10000, 0};
    const char *out = NULL, *type = "F32", *preset_name = NULL, *v = NULL;
    int64_t seed = 1, n_threads = 0;
    bool bad = false, custom = false;
    struct {
        const char *flag;
        int64_t *field;
    } ints[] = {{"--dim", &s.dim},     {"--layers", &s.layers},
                {"--heads", &s.heads}, {"--kv-heads", &s.kv_heads},
                {"--ffn", &s.ffn},     {"--vocab", &s.vocab},
                {"--ctx", &s.ctx},     {"--sliding-window", &s.sliding_window}};
    for (int i = 1; i < argc && !bad; i++) {
        bool matched = false;
        for (size_t k = 0; k < TM_ARRAY_LEN(ints) && !matched; k++)
            if (tm_cli_flag(argc, argv, &i, NULL, ints[k].flag, &v, &bad)) {
                matched = true;
                custom = true;
                bad = bad || !tm_cli_int(ints[k].flag, v, 1, 1 << 24, ints[k].field);
            }
        if (matched)
            continue;
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--preset", &preset_name, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--type", &type, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-o", "--out", &out, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--rope-base", &v, &bad)) {
            bad = bad || !tm_cli_float("--rope-base", v, 1, 1e9, &s.rope_base);
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--seed", &v, &bad)) {
            bad = bad || !tm_cli_int("--seed", v, 0, INT64_MAX, &seed);
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int("--threads", v, 0, 1024, &n_threads);
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", argv[i]);
            bad = true;
        }
    }
    if (!bad && preset_name) {
        const preset *p = NULL;
        for (size_t k = 0; k < TM_ARRAY_LEN(g_presets); k++)
            if (strcmp(g_presets[k].name, preset_name) == 0)
                p = &g_presets[k];
        if (!p) {
            fprintf(stderr, "error: unknown preset '%s' (tiny, small, llama-1b-shape)\n",
                    preset_name);
            bad = true;
        } else if (custom) {
            fprintf(stderr, "error: give --preset or the shape flags, not both\n");
            bad = true;
        } else {
            s = p->s;
        }
    }
    if (!bad && !preset_name && (!s.dim || !s.layers || !s.heads || !s.ffn || !s.vocab)) {
        fprintf(stderr, "error: give --preset NAME or --dim, --layers, --heads, --ffn, --vocab\n");
        bad = true;
    }
    if (!bad && !preset_name && !s.kv_heads)
        s.kv_heads = s.heads;
    tm_recipe r;
    if (!bad && !tm_recipe_find(type, &r)) {
        fprintf(stderr, "error: unknown type '%s' (one of %s)\n", type, tm_recipe_names());
        bad = true;
    }
    if (!bad && !out) {
        fprintf(stderr, "error: -o OUT.gguf is required\n");
        bad = true;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    if (synth(&s, &r, (uint64_t)seed, (int)n_threads, out, &err) != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
