/* Vocabulary storage, lookups, and loading from GGUF metadata (tokenizer.ggml.*). Every
 * array length, id and string is checked: the metadata is outside input like the rest of
 * the file. */
#include "vocab_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS     (1 << 24)
#define MAX_TEXT_BYTES ((uint64_t)1 << 30)

tm_status tm_vocab_alloc(int32_t n, uint64_t text_bytes, tm_vocab **out, tm_err *err)
{
    if (n <= 0 || n > MAX_TOKENS)
        return tm_fail(err, TM_E_FORMAT, "vocabulary of %" PRId32 " tokens (1 to %d)", n,
                       MAX_TOKENS);
    if (text_bytes > MAX_TEXT_BYTES)
        return tm_fail(err, TM_E_FORMAT, "vocabulary text of %" PRIu64 " bytes", text_bytes);
    tm_vocab *v = tm_calloc(1, sizeof *v);
    if (!v)
        return tm_fail(err, TM_E_NOMEM, "vocabulary");
    v->n = n;
    v->text = tm_malloc((size_t)text_bytes + 1);
    v->offset = tm_calloc((size_t)n + 1, sizeof *v->offset);
    v->scores = tm_calloc((size_t)n, sizeof *v->scores);
    v->types = tm_calloc((size_t)n, sizeof *v->types);
    v->index_cap = 16;
    while (v->index_cap < (uint64_t)n * 2)
        v->index_cap *= 2;
    v->index = tm_calloc((size_t)v->index_cap, sizeof *v->index);
    v->specials = tm_malloc((size_t)n * sizeof *v->specials);
    if (!v->text || !v->offset || !v->scores || !v->types || !v->index || !v->specials) {
        tm_vocab_free(v);
        return tm_fail(err, TM_E_NOMEM, "vocabulary of %" PRId32 " tokens", n);
    }
    v->sp = (tm_vocab_special){-1, -1, -1, -1, -1, -1, true, false, true};
    *out = v;
    return TM_OK;
}

void tm_vocab_free(tm_vocab *v)
{
    if (!v)
        return;
    tm_free(v->text);
    tm_free(v->offset);
    tm_free(v->scores);
    tm_free(v->types);
    tm_free(v->index);
    tm_free(v->specials);
    tm_bpe_free(v);
    tm_free(v);
}

static uint64_t slot_of(const tm_vocab *v, const char *text, size_t len)
{
    return tm_text_slot(v->index, v->index_cap, v->text, v->offset, text, len);
}

int32_t tm_vocab_find(const tm_vocab *v, const char *text, size_t len)
{
    uint32_t e = v->index[slot_of(v, text, len)];
    return e ? (int32_t)e - 1 : -1;
}

typedef struct sized_id {
    uint64_t len;
    int32_t id;
} sized_id;

static int by_length_desc(const void *a, const void *b)
{
    const sized_id *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Longest first, so partitioning text into special tokens prefers "<|im_end|>" to "<". */
static tm_status sort_specials(tm_vocab *v, tm_err *err)
{
    if (v->n_specials < 2)
        return TM_OK;
    sized_id *tmp = tm_malloc((size_t)v->n_specials * sizeof *tmp);
    if (!tmp)
        return tm_fail(err, TM_E_NOMEM, "special tokens");
    for (int32_t i = 0; i < v->n_specials; i++) {
        int32_t id = v->specials[i];
        tmp[i] = (sized_id){v->offset[id + 1] - v->offset[id], id};
    }
    qsort(tmp, (size_t)v->n_specials, sizeof *tmp, by_length_desc);
    for (int32_t i = 0; i < v->n_specials; i++)
        v->specials[i] = tmp[i].id;
    tm_free(tmp);
    return TM_OK;
}

static tm_status check_id(const tm_vocab *v, const char *what, int32_t id, tm_err *err)
{
    if (id < -1 || id >= v->n)
        return tm_fail(err, TM_E_FORMAT,
                       "%s token id %" PRId32 " is outside the vocabulary of %" PRId32, what, id,
                       v->n);
    return TM_OK;
}

/* Spellings of the token that ends a chat turn (Llama 3, ChatML, Gemma, Phi-3, Command R). */
static const char *const g_end_of_turn[] = {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>",
                                            "<|END_OF_TURN_TOKEN|>"};

/* The first control token spelled as one of names, or -1. */
static int32_t control_named(const tm_vocab *v, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t id = tm_vocab_find(v, names[i], strlen(names[i]));
        if (id >= 0 && v->types[id] == TM_TOKEN_CONTROL)
            return id;
    }
    return -1;
}

tm_status tm_vocab_finish(tm_vocab *v, tm_err *err)
{
    for (int i = 0; i < 256; i++)
        v->byte_id[i] = -1;
    v->n_specials = 0;
    for (int32_t id = 0; id < v->n; id++) {
        size_t len;
        const char *t = tm_vocab_text(v, id, &len);
        uint64_t s = slot_of(v, t, len);
        if (v->index[s] == 0)
            v->index[s] = (uint32_t)id + 1;
        if (v->types[id] == TM_TOKEN_BYTE && len == 6 && memcmp(t, "<0x", 3) == 0 && t[5] == '>') {
            /* two hex digits exactly: strtol would also take a sign or a space ("<0x-2>") */
            int hi = tm_hex_digit(t[3]), lo = tm_hex_digit(t[4]);
            if (hi >= 0 && lo >= 0 && v->byte_id[hi * 16 + lo] < 0)
                v->byte_id[hi * 16 + lo] = id;
        }
        if ((v->types[id] == TM_TOKEN_CONTROL || v->types[id] == TM_TOKEN_USER_DEFINED) && len > 0)
            v->specials[v->n_specials++] = id;
    }
    tm_status st = sort_specials(v, err);
    /* Files that do not name the end-of-turn token still spell it as chat models do; a chat
     * that missed it would run on past the end of the reply. */
    if (v->sp.eot < 0)
        v->sp.eot = control_named(v, g_end_of_turn, sizeof g_end_of_turn / sizeof *g_end_of_turn);
    if (v->sp.eom < 0) {
        static const char *const eom[] = {"<|eom_id|>"};
        v->sp.eom = control_named(v, eom, 1);
    }
    if (st == TM_OK)
        st = check_id(v, "BOS", v->sp.bos, err);
    if (st == TM_OK)
        st = check_id(v, "EOS", v->sp.eos, err);
    if (st == TM_OK)
        st = check_id(v, "unknown", v->sp.unk, err);
    if (st == TM_OK)
        st = check_id(v, "padding", v->sp.pad, err);
    if (st == TM_OK)
        st = check_id(v, "end-of-turn", v->sp.eot, err);
    if (st == TM_OK)
        st = check_id(v, "end-of-message", v->sp.eom, err);
    return st;
}

int32_t tm_vocab_n_tokens(const tm_vocab *v)
{
    return v->n;
}

const char *tm_vocab_text(const tm_vocab *v, int32_t id, size_t *len)
{
    *len = (size_t)(v->offset[id + 1] - v->offset[id]);
    return v->text + v->offset[id];
}

float tm_vocab_score(const tm_vocab *v, int32_t id)
{
    return v->scores[id];
}

tm_token_type tm_vocab_type(const tm_vocab *v, int32_t id)
{
    return (tm_token_type)v->types[id];
}

const tm_vocab_special *tm_vocab_special_ids(const tm_vocab *v)
{
    return &v->sp;
}

bool tm_vocab_is_eog(const tm_vocab *v, int32_t id)
{
    return id >= 0 && (id == v->sp.eos || id == v->sp.eot || id == v->sp.eom);
}

/* ---- from GGUF --------------------------------------------------------------------------- */

static tm_status optional_id(const tm_gguf *g, const char *key, int32_t *out, tm_err *err)
{
    if (!tm_gguf_find_kv(g, key))
        return TM_OK;
    int64_t v = 0;
    tm_status st = tm_gguf_get_i64(g, key, &v, err);
    if (st != TM_OK)
        return st;
    if (v < -1 || v > INT32_MAX)
        return tm_fail(err, TM_E_FORMAT, "%s is %" PRId64, key, v);
    *out = (int32_t)v;
    return TM_OK;
}

static tm_status optional_bool(const tm_gguf *g, const char *key, bool *out, tm_err *err)
{
    if (!tm_gguf_find_kv(g, key))
        return TM_OK;
    return tm_gguf_get_bool(g, key, out, err);
}

static tm_status read_special(const tm_gguf *g, tm_vocab *v, tm_err *err)
{
    tm_status st = optional_id(g, "tokenizer.ggml.bos_token_id", &v->sp.bos, err);
    if (st == TM_OK)
        st = optional_id(g, "tokenizer.ggml.eos_token_id", &v->sp.eos, err);
    if (st == TM_OK)
        st = optional_id(g, "tokenizer.ggml.unknown_token_id", &v->sp.unk, err);
    if (st == TM_OK)
        st = optional_id(g, "tokenizer.ggml.padding_token_id", &v->sp.pad, err);
    if (st == TM_OK)
        st = optional_id(g, "tokenizer.ggml.eot_token_id", &v->sp.eot, err);
    if (st == TM_OK)
        st = optional_id(g, "tokenizer.ggml.eom_token_id", &v->sp.eom, err);
    if (st == TM_OK)
        st = optional_bool(g, "tokenizer.ggml.add_bos_token", &v->sp.add_bos, err);
    if (st == TM_OK)
        st = optional_bool(g, "tokenizer.ggml.add_eos_token", &v->sp.add_eos, err);
    if (st == TM_OK)
        st = optional_bool(g, "tokenizer.ggml.add_space_prefix", &v->sp.add_space_prefix, err);
    return st;
}

static tm_status read_arrays(const tm_gguf *g, const tm_gguf_array *tokens, tm_vocab *v,
                             tm_err *err)
{
    uint64_t at = 0;
    for (int32_t i = 0; i < v->n; i++) {
        memcpy(v->text + at, tokens->strs[i].ptr, (size_t)tokens->strs[i].len);
        at += tokens->strs[i].len;
        v->offset[i + 1] = at;
        v->types[i] = TM_TOKEN_NORMAL;
    }
    v->text[at] = '\0';
    const tm_gguf_array *a = NULL;
    if (tm_gguf_find_kv(g, "tokenizer.ggml.scores")) {
        tm_status st = tm_gguf_get_arr(g, "tokenizer.ggml.scores", TM_GGUF_FLOAT32, &a, err);
        if (st != TM_OK)
            return st;
        if (a->n != (uint64_t)v->n)
            return tm_fail(err, TM_E_FORMAT,
                           "tokenizer.ggml.scores has %" PRIu64 " entries for %" PRId32 " tokens",
                           a->n, v->n);
        for (int32_t i = 0; i < v->n; i++)
            v->scores[i] = (float)tm_gguf_arr_f64(a, (uint64_t)i);
    }
    if (tm_gguf_find_kv(g, "tokenizer.ggml.token_type")) {
        tm_status st = tm_gguf_get_arr(g, "tokenizer.ggml.token_type", TM_GGUF_INT32, &a, err);
        if (st != TM_OK)
            return st;
        if (a->n != (uint64_t)v->n)
            return tm_fail(err, TM_E_FORMAT,
                           "tokenizer.ggml.token_type has %" PRIu64 " entries for %" PRId32
                           " tokens",
                           a->n, v->n);
        for (int32_t i = 0; i < v->n; i++) {
            int64_t t = tm_gguf_arr_i64(a, (uint64_t)i);
            if (t < 0 || t > TM_TOKEN_BYTE)
                return tm_fail(err, TM_E_FORMAT, "token %" PRId32 " has type %" PRId64, i, t);
            v->types[i] = (uint8_t)t;
        }
    }
    return TM_OK;
}

/* BERT: [CLS] text [SEP] (tokenizer.ggml.cls_token_id and the key llama.cpp spells
 * "seperator_token_id") unless BOS/EOS are named; the longest piece bounds the search. */
static tm_status wordpiece_setup(const tm_gguf *g, tm_vocab *v, tm_err *err)
{
    v->kind = TM_VOCAB_WPM;
    v->sp.add_space_prefix = false;
    tm_status st = TM_OK;
    if (v->sp.bos < 0) {
        st = optional_id(g, "tokenizer.ggml.cls_token_id", &v->sp.bos, err);
        v->sp.add_bos = v->sp.bos >= 0;
    }
    if (st == TM_OK && v->sp.eos < 0) {
        st = optional_id(g, "tokenizer.ggml.seperator_token_id", &v->sp.eos, err);
        if (st == TM_OK && v->sp.eos < 0)
            st = optional_id(g, "tokenizer.ggml.separator_token_id", &v->sp.eos, err);
        v->sp.add_eos = v->sp.eos >= 0;
    }
    if (st == TM_OK)
        st = optional_bool(g, "tokenizer.ggml.add_bos_token", &v->sp.add_bos, err);
    if (st == TM_OK)
        st = optional_bool(g, "tokenizer.ggml.add_eos_token", &v->sp.add_eos, err);
    if (st == TM_OK && v->sp.unk < 0)
        return tm_fail(err, TM_E_FORMAT, "a WordPiece vocabulary needs an unknown token");
    for (int32_t i = 0; i < v->n; i++) {
        size_t len;
        tm_vocab_text(v, i, &len);
        if (len > v->max_piece_bytes)
            v->max_piece_bytes = len;
    }
    return st;
}

tm_status tm_vocab_from_gguf(const tm_gguf *g, tm_vocab **out, tm_err *err)
{
    tm_gguf_str model = {0};
    tm_status st = tm_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (st != TM_OK)
        return st;
    bool bpe = tm_gguf_str_eq(model, "gpt2"), wpm = tm_gguf_str_eq(model, "bert");
    if (!tm_gguf_str_eq(model, "llama") && !bpe && !wpm)
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "tokenizer model '%.*s' is not supported yet (supported: llama, gpt2, bert)",
                       (int)TM_MIN(model.len, 64), model.ptr);
    const tm_gguf_array *tokens = NULL;
    st = tm_gguf_get_arr(g, "tokenizer.ggml.tokens", TM_GGUF_STRING, &tokens, err);
    if (st != TM_OK)
        return st;
    if (tokens->n == 0 || tokens->n > MAX_TOKENS)
        return tm_fail(err, TM_E_FORMAT, "tokenizer.ggml.tokens has %" PRIu64 " entries",
                       tokens->n);
    uint64_t text_bytes = 0;
    for (uint64_t i = 0; i < tokens->n; i++)
        if (!tm_add_u64(text_bytes, tokens->strs[i].len, &text_bytes))
            return tm_fail(err, TM_E_FORMAT, "vocabulary text size overflows");
    tm_vocab *v = NULL;
    st = tm_vocab_alloc((int32_t)tokens->n, text_bytes, &v, err);
    if (st != TM_OK)
        return st;
    if (bpe) /* byte-level BPE adds no BOS unless the file says so */
        v->sp.add_bos = false;
    st = read_arrays(g, tokens, v, err);
    if (st == TM_OK && bpe)
        st = tm_bpe_load(g, v, err);
    if (st == TM_OK)
        st = read_special(g, v, err);
    if (st == TM_OK && wpm)
        st = wordpiece_setup(g, v, err);
    if (st == TM_OK)
        st = tm_vocab_finish(v, err);
    if (st != TM_OK) {
        tm_vocab_free(v);
        return st;
    }
    *out = v;
    return TM_OK;
}
