/* temoto convert-llama2c: a llama2.c checkpoint and tokenizer to a llama GGUF (F32).
 *
 * Two checkpoint layouts exist. "Legacy" (run.c's format): 7 int32 (dim, hidden_dim,
 * n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate
 * classifier), then float32 tensors: token embedding, attention norms, wq, wk, wv, wo, FFN
 * norms, w1, w2, w3, final norm, two RoPE tables (unused), [classifier]. "Version 1"
 * (export.py): magic "ak42", version 1, the same 7 ints, a shared-classifier byte, padding to
 * 256 bytes, then norms first, embedding, wq, wk, wv, wo, w1, w2, w3, [classifier].
 * Matrices are row-major [out][in], which is GGUF's layout with ne = {in, out}; llama2.c's
 * RoPE rotates adjacent pairs, as llama.cpp's normal RoPE does, so nothing is permuted. */
#include "apps.h"
#include "cli.h"
#include "tensor_out.h"

#include "tensor/tensor.h"
#include "text/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_CHECKPOINT_BYTES ((size_t)1 << 36)

static void usage(FILE *out)
{
    fprintf(out, "usage: temoto convert-llama2c MODEL.bin TOKENIZER.bin OUT.gguf\n"
                 "\n"
                 "Converts a llama2.c checkpoint (legacy or version-1 export) and its\n"
                 "tokenizer.bin to a llama GGUF file (F32) that temoto and llama.cpp load.\n");
}

typedef struct config {
    int32_t dim, hidden, layers, heads, kv_heads, vocab, seq_len;
    bool shared_classifier;
    uint64_t header_bytes;
    int version; /* 0: legacy */
} config;

typedef struct part { /* one tensor per layer (or one in all) in the checkpoint */
    const char *name; /* "blk.%d.attn_q.weight" or "output_norm.weight" */
    int64_t ne0, ne1; /* ne1 = 1: a vector */
    bool per_layer;
} part;

static tm_status read_config(const uint8_t *p, uint64_t n, config *c, tm_err *err)
{
    int32_t h[9];
    memset(c, 0, sizeof *c);
    if (n >= 8 && memcmp(p, "24ka", 4) == 0) { /* 0x616b3432 little-endian */
        if (n < 256)
            return tm_fail(err, TM_E_FORMAT, "version-1 checkpoint header is truncated");
        memcpy(h, p, 36);
        if (h[1] != 1)
            return tm_fail(err, TM_E_UNSUPPORTED,
                           "llama2.c export version %" PRId32
                           " (only the legacy format and version 1 are supported)",
                           h[1]);
        c->version = 1;
        memmove(h, h + 2, 7 * sizeof *h);
        c->shared_classifier = p[36] != 0;
        c->header_bytes = 256;
    } else {
        if (n < 28)
            return tm_fail(err, TM_E_FORMAT, "checkpoint header is truncated");
        memcpy(h, p, 28);
        c->shared_classifier = h[5] > 0;
        if (h[5] < 0)
            h[5] = -h[5];
        c->header_bytes = 28;
    }
    c->dim = h[0], c->hidden = h[1], c->layers = h[2], c->heads = h[3], c->kv_heads = h[4];
    c->vocab = h[5], c->seq_len = h[6];
    if (c->dim <= 0 || c->hidden <= 0 || c->layers <= 0 || c->layers > 1024 || c->heads <= 0 ||
        c->kv_heads <= 0 || c->vocab <= 0 || c->seq_len <= 0 || c->dim % c->heads != 0 ||
        c->heads % c->kv_heads != 0 || (c->dim / c->heads) % 2 != 0 || c->dim > (1 << 16) ||
        c->hidden > (1 << 18) || c->vocab > (1 << 22) || c->seq_len > (1 << 22))
        return tm_fail(err, TM_E_FORMAT,
                       "checkpoint header is not a llama2.c model (dim %" PRId32 ", hidden %" PRId32
                       ", layers %" PRId32 ", heads %" PRId32 "/%" PRId32 ", vocab %" PRId32 ")",
                       c->dim, c->hidden, c->layers, c->heads, c->kv_heads, c->vocab);
    return TM_OK;
}

/* The checkpoint's tensors in file order; returns the count. The RoPE tables of the legacy
 * format appear as NULL-named parts to skip. */
static int list_parts(const config *c, part *out)
{
    int64_t dim = c->dim, kv = (int64_t)c->dim / c->heads * c->kv_heads, hid = c->hidden;
    int64_t rope = (int64_t)c->seq_len * (c->dim / c->heads) / 2;
    const part emb = {"token_embd.weight", dim, c->vocab, false};
    const part attn_norm = {"blk.%d.attn_norm.weight", dim, 1, true};
    const part ffn_norm = {"blk.%d.ffn_norm.weight", dim, 1, true};
    const part q = {"blk.%d.attn_q.weight", dim, dim, true};
    const part k = {"blk.%d.attn_k.weight", dim, kv, true};
    const part v = {"blk.%d.attn_v.weight", dim, kv, true};
    const part o = {"blk.%d.attn_output.weight", dim, dim, true};
    const part gate = {"blk.%d.ffn_gate.weight", dim, hid, true};
    const part down = {"blk.%d.ffn_down.weight", hid, dim, true};
    const part up = {"blk.%d.ffn_up.weight", dim, hid, true};
    const part final_norm = {"output_norm.weight", dim, 1, false};
    const part cls = {"output.weight", dim, c->vocab, false};
    int n = 0;
    if (c->version == 0) {
        const part order[] = {emb, attn_norm, q, k, v, o, ffn_norm, gate, down, up, final_norm};
        for (size_t i = 0; i < TM_ARRAY_LEN(order); i++)
            out[n++] = order[i];
        out[n++] = (part){NULL, rope, 2, false}; /* freq_cis_real and freq_cis_imag */
    } else {
        const part order[] = {attn_norm, ffn_norm, final_norm, emb, q, k, v, o, gate, down, up};
        for (size_t i = 0; i < TM_ARRAY_LEN(order); i++)
            out[n++] = order[i];
    }
    if (!c->shared_classifier)
        out[n++] = cls;
    return n;
}

static uint64_t part_floats(const config *c, const part *p)
{
    return (uint64_t)p->ne0 * (uint64_t)p->ne1 * (p->per_layer ? (uint64_t)c->layers : 1);
}

typedef struct rows_src {
    const float *data; /* the tensor's first float (may be unaligned in the file: copied) */
} rows_src;

static void copy_rows(void *ctx, int64_t first_row, int64_t n, int64_t ne0, float *dst)
{
    const rows_src *s = ctx;
    memcpy(dst, (const char *)s->data + (uint64_t)first_row * (uint64_t)ne0 * 4,
           (size_t)(n * ne0) * 4);
}

static tm_status set_tokenizer(tm_gguf_writer *w, const tm_vocab *v, tm_err *err)
{
    int32_t n = tm_vocab_n_tokens(v);
    const char **texts = tm_malloc((size_t)n * sizeof *texts);
    uint64_t *lens = tm_malloc((size_t)n * sizeof *lens);
    float *scores = tm_malloc((size_t)n * sizeof *scores);
    int32_t *types = tm_malloc((size_t)n * sizeof *types);
    tm_status st = texts && lens && scores && types ? TM_OK : tm_fail(err, TM_E_NOMEM, "tokens");
    for (int32_t i = 0; i < n && st == TM_OK; i++) {
        size_t len;
        texts[i] = tm_vocab_text(v, i, &len);
        lens[i] = len;
        scores[i] = tm_vocab_score(v, i);
        types[i] = (int32_t)tm_vocab_type(v, i);
    }
    if (st == TM_OK)
        st = tm_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", texts, lens, (uint64_t)n, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr(w, "tokenizer.ggml.scores", TM_GGUF_FLOAT32, scores,
                                    (uint64_t)n, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", TM_GGUF_INT32, types,
                                    (uint64_t)n, err);
    const tm_vocab_special *sp = tm_vocab_special_ids(v);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)sp->bos, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)sp->eos, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)sp->unk, err);
    tm_free(texts);
    tm_free(lens);
    tm_free(scores);
    tm_free(types);
    return st;
}

static tm_status set_hparams(tm_gguf_writer *w, const config *c, tm_err *err)
{
    const struct {
        const char *key;
        int32_t value;
    } u32s[] = {
        {"llama.context_length", c->seq_len},
        {"llama.embedding_length", c->dim},
        {"llama.block_count", c->layers},
        {"llama.feed_forward_length", c->hidden},
        {"llama.attention.head_count", c->heads},
        {"llama.attention.head_count_kv", c->kv_heads},
        {"llama.rope.dimension_count", c->dim / c->heads},
        {"llama.vocab_size", c->vocab},
        {"general.file_type", 0},
    };
    tm_status st = tm_gguf_writer_set_str(w, "general.architecture", "llama", err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_str(w, "general.name", "llama2.c checkpoint", err);
    for (size_t i = 0; i < TM_ARRAY_LEN(u32s) && st == TM_OK; i++)
        st = tm_gguf_writer_set_u32(w, u32s[i].key, (uint32_t)u32s[i].value, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, err);
    return st;
}

static tm_status convert(const char *model_path, const char *tok_path, const char *out, tm_err *err)
{
    tm_mmap *map = NULL;
    char *tok_data = NULL;
    size_t tok_bytes = 0;
    tm_vocab *vocab = NULL;
    tm_gguf_writer *w = NULL;
    tm_pool *pool = NULL;
    config c;
    part parts[16];
    tm_status st = tm_mmap_open(model_path, &map, err);
    if (st == TM_OK)
        st = read_config(tm_mmap_data(map), tm_mmap_size(map), &c, err);
    int n_parts = st == TM_OK ? list_parts(&c, parts) : 0;
    uint64_t want = st == TM_OK ? c.header_bytes : 0;
    for (int i = 0; i < n_parts; i++)
        want += 4 * part_floats(&c, &parts[i]);
    if (st == TM_OK && want != tm_mmap_size(map))
        st = tm_fail(err, TM_E_FORMAT,
                     "'%s' has %" PRIu64
                     " bytes; a %s llama2.c checkpoint of this shape has %" PRIu64,
                     model_path, tm_mmap_size(map), c.version ? "version-1" : "legacy", want);
    if (st == TM_OK)
        st = tm_file_read_all(tok_path, (size_t)1 << 30, &tok_data, &tok_bytes, err);
    if (st == TM_OK) {
        st = tm_vocab_from_llama2c(tok_data, tok_bytes, &vocab, err);
        if (st != TM_OK)
            tm_err_context(err, "'%s'", tok_path);
    }
    if (st == TM_OK && tm_vocab_n_tokens(vocab) != c.vocab)
        st = tm_fail(err, TM_E_FORMAT, "the tokenizer has %d tokens, the model %" PRId32,
                     tm_vocab_n_tokens(vocab), c.vocab);
    if (st == TM_OK)
        st = tm_gguf_writer_create(&w, err);
    if (st == TM_OK)
        st = set_hparams(w, &c, err);
    if (st == TM_OK)
        st = set_tokenizer(w, vocab, err);
    /* declare tensors in the file's order, one per layer */
    for (int i = 0; i < n_parts && st == TM_OK; i++) {
        if (!parts[i].name)
            continue;
        for (int l = 0; l < (parts[i].per_layer ? c.layers : 1) && st == TM_OK; l++) {
            char name[64];
            snprintf(name, sizeof name, parts[i].name, l);
            int64_t ne[2] = {parts[i].ne0, parts[i].ne1};
            st = tm_gguf_writer_add_tensor(w, name, TM_DTYPE_F32, parts[i].ne1 == 1 ? 1 : 2, ne,
                                           err);
        }
    }
    if (st == TM_OK)
        st = tm_pool_create(1, &pool, err);
    if (st == TM_OK)
        st = tm_gguf_writer_begin(w, out, err);
    uint64_t at = c.header_bytes;
    for (int i = 0; i < n_parts && st == TM_OK; i++) {
        if (!parts[i].name) {
            at += 4 * part_floats(&c, &parts[i]);
            continue;
        }
        for (int l = 0; l < (parts[i].per_layer ? c.layers : 1) && st == TM_OK; l++) {
            rows_src src = {(const float *)(tm_mmap_data(map) + at)};
            st = tm_write_rows(w, pool, TM_DTYPE_F32, parts[i].ne0, parts[i].ne1, copy_rows, &src,
                               err);
            at += 4 * (uint64_t)parts[i].ne0 * (uint64_t)parts[i].ne1;
        }
    }
    if (st == TM_OK)
        st = tm_gguf_writer_finish(w, err);
    if (st == TM_OK)
        fprintf(stderr,
                "%s: llama2.c %s checkpoint, dim %" PRId32 ", %" PRId32 " layers, vocab %" PRId32
                "\n",
                out, c.version ? "version-1" : "legacy", c.dim, c.layers, c.vocab);
    tm_pool_free(pool);
    tm_gguf_writer_free(w);
    tm_vocab_free(vocab);
    tm_free(tok_data);
    tm_mmap_close(map);
    return st;
}

int tm_app_convert_llama2c_main(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' || n_pos == 3) {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        pos[n_pos++] = argv[i];
    }
    if (n_pos != 3) {
        fprintf(stderr, "error: give MODEL.bin TOKENIZER.bin OUT.gguf\n");
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    if (convert(pos[0], pos[1], pos[2], &err) != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
