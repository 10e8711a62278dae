/* Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json) to GGUF tokenizer
 * metadata (tokenizer.ggml.*), the form real model files carry.
 *
 * Two kinds of BPE tokenizer.json are understood:
 * - byte-level BPE (a ByteLevel pre-tokenizer or decoder: GPT-2, Llama 3, Qwen): written as
 *   tokenizer.ggml.model "gpt2" with the merges, and tokenizer.ggml.pre named after the
 *   Split regex (a regex we do not know is an error naming it, never a silent guess);
 * - SentencePiece-style BPE (byte_fallback, spaces replaced by U+2581: Llama 2, Gemma):
 *   written as "llama", whose merge order is a score per piece. HF files keep the merges,
 *   not the scores; a piece's score is minus the rank of the first merge producing it, so
 *   the score order is the merge order.
 * Added tokens keep their ids: special ones become control tokens, the others
 * user-defined. BOS/EOS come from tokenizer_config.json; whether to add them from the
 * post-processor's template (else the config's add_bos_token/add_eos_token). The chat
 * template is copied as it is (a list of named templates becomes tokenizer.chat_template
 * and tokenizer.chat_template.NAME). */
#include "text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#if TM_HAVE_JANSSON
#include <jansson.h>

#define MAX_TOKENS (1 << 24)

typedef struct conv {
    int32_t n;           /* tokens: the largest id + 1 */
    const char **texts;  /* [n], NULL for an id nothing names */
    uint64_t *lens;      /* [n] */
    int32_t *types;      /* [n] */
    float *scores;       /* [n] (SentencePiece style only) */
    const char **merges; /* "left right" strings (byte-level only), owned */
    int64_t n_merges;
    char *pads; /* placeholder names for ids nothing names */
    bool byte_level;
    bool space_prefix;
    const char *pre; /* byte-level pre-tokenizer name */
} conv;

static void conv_free(conv *c)
{
    for (int64_t i = 0; i < c->n_merges; i++)
        tm_free((void *)c->merges[i]);
    tm_free(c->merges);
    tm_free(c->texts);
    tm_free(c->lens);
    tm_free(c->types);
    tm_free(c->scores);
    tm_free(c->pads);
}

/* The type of a json node, or "" for anything else. */
static const char *node_type(const json_t *j)
{
    const char *t = json_string_value(json_object_get(j, "type"));
    return t ? t : "";
}

/* Calls visit for j and, for a "Sequence", each member of its list (named by list_key). */
static bool any_node(const json_t *j, const char *list_key,
                     bool (*visit)(const json_t *node, void *ctx), void *ctx)
{
    if (!json_is_object(j))
        return false;
    if (strcmp(node_type(j), "Sequence") == 0) {
        const json_t *list = json_object_get(j, list_key);
        size_t i;
        const json_t *m;
        json_array_foreach(list, i, m) if (any_node(m, list_key, visit, ctx)) return true;
        return false;
    }
    return visit(j, ctx);
}

static bool is_byte_level(const json_t *node, void *ctx)
{
    (void)ctx;
    return strcmp(node_type(node), "ByteLevel") == 0;
}

/* The Split regex of a pre-tokenizer (stored in *(const char **)ctx). */
static bool find_split_regex(const json_t *node, void *ctx)
{
    if (strcmp(node_type(node), "Split") != 0)
        return false;
    const char *re = json_string_value(json_object_get(json_object_get(node, "pattern"), "Regex"));
    if (re)
        *(const char **)ctx = re;
    return re != NULL;
}

/* Does the normalizer or pre-tokenizer put U+2581 in front of the text? */
static bool prepends_space(const json_t *node, void *ctx)
{
    (void)ctx;
    const char *t = node_type(node);
    if (strcmp(t, "Prepend") == 0) {
        const char *prepend = json_string_value(json_object_get(node, "prepend"));
        return prepend && strcmp(prepend, "\xe2\x96\x81") == 0;
    }
    if (strcmp(t, "Metaspace") == 0) {
        const char *scheme = json_string_value(json_object_get(node, "prepend_scheme"));
        if (scheme)
            return strcmp(scheme, "never") != 0;
        return json_is_true(json_object_get(node, "add_prefix_space"));
    }
    return false;
}

/* Known pre-tokenizer regexes (the Split of byte-level tokenizers) and the names
 * tokenizer.ggml.pre gives them. */
static const struct {
    const char *name, *regex;
} g_known_pre[] = {
    {"llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                  "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
              "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
};

static tm_status detect_kind(const json_t *tok, conv *c, tm_err *err)
{
    const json_t *pre = json_object_get(tok, "pre_tokenizer");
    const json_t *norm = json_object_get(tok, "normalizer");
    const json_t *model = json_object_get(tok, "model");
    c->byte_level = any_node(pre, "pretokenizers", is_byte_level, NULL) ||
                    any_node(json_object_get(tok, "decoder"), "decoders", is_byte_level, NULL);
    if (!c->byte_level) {
        if (!json_is_true(json_object_get(model, "byte_fallback")))
            return tm_fail(err, TM_E_UNSUPPORTED,
                           "a BPE tokenizer that is neither byte-level nor byte-fallback "
                           "(SentencePiece style)");
        c->space_prefix = any_node(norm, "normalizers", prepends_space, NULL) ||
                          any_node(pre, "pretokenizers", prepends_space, NULL);
        return TM_OK;
    }
    const char *regex = NULL;
    any_node(pre, "pretokenizers", find_split_regex, &regex);
    if (!regex) { /* ByteLevel's own regex (use_regex) is GPT-2's */
        c->pre = "gpt2";
        return TM_OK;
    }
    for (size_t i = 0; i < sizeof g_known_pre / sizeof g_known_pre[0]; i++)
        if (strcmp(regex, g_known_pre[i].regex) == 0) {
            c->pre = g_known_pre[i].name;
            return TM_OK;
        }
    return tm_fail(err, TM_E_UNSUPPORTED, "unknown pre-tokenizer regex %s", regex);
}

/* A token named in the config: a string or an object with "content". */
static const char *config_token(const json_t *config, const char *key)
{
    const json_t *t = json_object_get(config, key);
    if (json_is_object(t))
        t = json_object_get(t, "content");
    return json_string_value(t);
}

static int32_t find_token(const conv *c, const char *text)
{
    if (!text)
        return -1;
    size_t len = strlen(text);
    for (int32_t i = 0; i < c->n; i++)
        if (c->texts[i] && c->lens[i] == len && memcmp(c->texts[i], text, len) == 0)
            return i;
    return -1;
}

static tm_status set_id(tm_gguf_writer *w, const char *key, int32_t id, tm_err *err)
{
    return id < 0 ? TM_OK : tm_gguf_writer_set_u32(w, key, (uint32_t)id, err);
}

/* Reads vocab and added_tokens into c->texts/types. */
static tm_status read_tokens(const json_t *tok, conv *c, tm_err *err)
{
    const json_t *vocab = json_object_get(json_object_get(tok, "model"), "vocab");
    const json_t *added = json_object_get(tok, "added_tokens");
    if (!json_is_object(vocab))
        return tm_fail(err, TM_E_FORMAT, "model.vocab is not an object");
    int64_t max_id = -1;
    const char *key;
    const json_t *val;
    size_t i;
    json_object_foreach((json_t *)vocab, key, val)
    {
        if (!json_is_integer(val) || json_integer_value(val) < 0 ||
            json_integer_value(val) >= MAX_TOKENS)
            return tm_fail(err, TM_E_FORMAT, "vocab entry \"%s\" has no valid id", key);
        if (json_integer_value(val) > max_id)
            max_id = json_integer_value(val);
    }
    json_array_foreach(added, i, val)
    {
        json_int_t id = json_integer_value(json_object_get(val, "id"));
        if (!json_is_string(json_object_get(val, "content")) || id < 0 || id >= MAX_TOKENS)
            return tm_fail(err, TM_E_FORMAT, "added_tokens[%zu] has no valid id or content", i);
        if (id > max_id)
            max_id = id;
    }
    if (max_id < 0)
        return tm_fail(err, TM_E_FORMAT, "the vocabulary is empty");
    c->n = (int32_t)max_id + 1;
    c->texts = tm_calloc((size_t)c->n, sizeof *c->texts);
    c->lens = tm_calloc((size_t)c->n, sizeof *c->lens);
    c->types = tm_calloc((size_t)c->n, sizeof *c->types);
    c->scores = tm_calloc((size_t)c->n, sizeof *c->scores);
    if (!c->texts || !c->lens || !c->types || !c->scores)
        return tm_fail(err, TM_E_NOMEM, "%" PRId32 " tokens", c->n);
    json_object_foreach((json_t *)vocab, key, val)
    {
        int32_t id = (int32_t)json_integer_value(val);
        c->texts[id] = key;
        c->lens[id] = strlen(key);
        c->types[id] = TM_TOKEN_NORMAL;
        if (!c->byte_level && strlen(key) == 6 && memcmp(key, "<0x", 3) == 0 && key[5] == '>')
            c->types[id] = TM_TOKEN_BYTE;
    }
    json_array_foreach(added, i, val)
    {
        int32_t id = (int32_t)json_integer_value(json_object_get(val, "id"));
        const json_t *content = json_object_get(val, "content");
        c->texts[id] = json_string_value(content);
        c->lens[id] = json_string_length(content);
        c->types[id] = json_is_true(json_object_get(val, "special")) ? TM_TOKEN_CONTROL
                                                                     : TM_TOKEN_USER_DEFINED;
    }
    /* ids nothing names get placeholders "[PAD<id>]", as Hugging Face's converters write */
    int32_t n_gaps = 0;
    for (int32_t id = 0; id < c->n; id++)
        n_gaps += c->texts[id] == NULL;
    if (n_gaps > 0) {
        c->pads = tm_malloc((size_t)n_gaps * 24);
        if (!c->pads)
            return tm_fail(err, TM_E_NOMEM, "%" PRId32 " placeholders", n_gaps);
        char *at = c->pads;
        for (int32_t id = 0; id < c->n; id++)
            if (!c->texts[id]) {
                int len = snprintf(at, 24, "[PAD%" PRId32 "]", id);
                c->texts[id] = at;
                c->lens[id] = (uint64_t)len;
                c->types[id] = TM_TOKEN_UNUSED;
                at += len + 1;
            }
    }
    const char *unk =
        json_string_value(json_object_get(json_object_get(tok, "model"), "unk_token"));
    int32_t unk_id = find_token(c, unk);
    if (unk_id >= 0)
        c->types[unk_id] = TM_TOKEN_UNKNOWN;
    return TM_OK;
}

static bool plain_string(const json_t *j) /* a string without NUL bytes */
{
    return json_is_string(j) && strlen(json_string_value(j)) == json_string_length(j);
}

/* merges[i] as "left right" (older files store the string, newer a two-element list). */
static char *merge_string(const json_t *m)
{
    if (json_is_string(m))
        return plain_string(m) ? tm_strdup(json_string_value(m)) : NULL;
    if (json_array_size(m) != 2 || !plain_string(json_array_get(m, 0)) ||
        !plain_string(json_array_get(m, 1)))
        return NULL;
    size_t a = json_string_length(json_array_get(m, 0));
    size_t b = json_string_length(json_array_get(m, 1));
    char *s = tm_malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, json_string_value(json_array_get(m, 0)), a);
    s[a] = ' ';
    memcpy(s + a + 1, json_string_value(json_array_get(m, 1)), b);
    s[a + b + 1] = 0;
    return s;
}

/* Merges: kept as strings (byte-level) or turned into scores (SentencePiece style). */
static tm_status read_merges(const json_t *tok, conv *c, tm_err *err)
{
    const json_t *model = json_object_get(tok, "model");
    const json_t *vocab = json_object_get(model, "vocab");
    const json_t *merges = json_object_get(model, "merges");
    if (!json_is_array(merges))
        return tm_fail(err, TM_E_FORMAT, "model.merges is not a list");
    size_t n = json_array_size(merges);
    if (n >= MAX_TOKENS * 4u)
        return tm_fail(err, TM_E_FORMAT, "%zu merges", n);
    c->merges = tm_calloc(n ? n : 1, sizeof *c->merges);
    bool *scored = tm_calloc((size_t)c->n, 1);
    tm_status st = c->merges && scored ? TM_OK : tm_fail(err, TM_E_NOMEM, "%zu merges", n);
    for (size_t i = 0; i < n && st == TM_OK; i++) {
        char *s = merge_string(json_array_get(merges, i));
        if (!s) {
            st = tm_fail(err, TM_E_FORMAT, "merges[%zu] is not a pair of strings", i);
            break;
        }
        c->merges[c->n_merges++] = s;
        const json_t *m = json_array_get(merges, i);
        char *sp = strchr(s, ' ');
        if (json_is_string(m) && (!sp || sp == s || !sp[1])) {
            st = tm_fail(err, TM_E_FORMAT, "merges[%zu] (%s) is not \"left right\"", i, s);
            break;
        }
        if (c->byte_level)
            continue;
        /* the piece the merge makes: left and right joined */
        size_t left =
            json_is_string(m) ? (size_t)(sp - s) : json_string_length(json_array_get(m, 0));
        char *piece = tm_strdup(s);
        if (!piece) {
            st = tm_fail(err, TM_E_NOMEM, "merges");
            break;
        }
        memmove(piece + left, piece + left + 1, strlen(piece + left + 1) + 1);
        const json_t *id = json_object_get(vocab, piece);
        tm_free(piece);
        if (!id) {
            st = tm_fail(err, TM_E_FORMAT, "merges[%zu] (%s) makes a piece not in the vocabulary",
                         i, s);
            break;
        }
        int32_t t = (int32_t)json_integer_value(id);
        if (!scored[t]) {
            c->scores[t] = -(float)i;
            scored[t] = true;
        }
    }
    /* pieces no merge makes (characters, bytes, added tokens) rank below every merge */
    for (int32_t t = 0; st == TM_OK && !c->byte_level && t < c->n; t++)
        if (!scored[t])
            c->scores[t] = -(float)n - 1.0f;
    tm_free(scored);
    return st;
}

/* add_bos / add_eos: the post-processor's template for one sequence when there is one (its
 * special tokens also name BOS/EOS when the config does not), else the config's flags. */
static void special_adds(const json_t *tok, const json_t *config, bool *bos, bool *eos,
                         const char **bos_name, const char **eos_name)
{
    const json_t *post = json_object_get(tok, "post_processor");
    if (strcmp(node_type(post), "Sequence") == 0) {
        size_t i;
        const json_t *m;
        json_array_foreach(json_object_get(post, "processors"), i, m)
        {
            if (strcmp(node_type(m), "TemplateProcessing") == 0)
                post = m;
        }
    }
    *bos_name = config_token(config, "bos_token");
    *eos_name = config_token(config, "eos_token");
    const json_t *single = json_object_get(post, "single");
    if (strcmp(node_type(post), "TemplateProcessing") == 0 && json_array_size(single) > 0) {
        const json_t *first = json_object_get(json_array_get(single, 0), "SpecialToken");
        const json_t *last =
            json_object_get(json_array_get(single, json_array_size(single) - 1), "SpecialToken");
        *bos = first != NULL;
        *eos = last != NULL;
        if (first && !*bos_name)
            *bos_name = json_string_value(json_object_get(first, "id"));
        if (last && !*eos_name)
            *eos_name = json_string_value(json_object_get(last, "id"));
        return;
    }
    *bos = json_is_true(json_object_get(config, "add_bos_token"));
    *eos = json_is_true(json_object_get(config, "add_eos_token"));
}

/* The token that ends a chat turn, by the spellings chat models use. */
static int32_t end_of_turn(const conv *c)
{
    static const char *const names[] = {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>",
                                        "<|END_OF_TURN_TOKEN|>"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int32_t id = find_token(c, names[i]);
        if (id >= 0 && c->types[id] == TM_TOKEN_CONTROL)
            return id;
    }
    return -1;
}

static tm_status set_chat_templates(tm_gguf_writer *w, const json_t *config, tm_err *err)
{
    const json_t *t = json_object_get(config, "chat_template");
    if (json_is_string(t))
        return tm_gguf_writer_set_str(w, "tokenizer.chat_template", json_string_value(t), err);
    size_t i;
    const json_t *m;
    tm_status st = TM_OK;
    json_array_foreach(t, i, m)
    {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *text = json_string_value(json_object_get(m, "template"));
        if (!name || !text)
            return tm_fail(err, TM_E_FORMAT, "chat_template[%zu] has no name or template", i);
        char key[256];
        if (strcmp(name, "default") == 0)
            snprintf(key, sizeof key, "tokenizer.chat_template");
        else
            snprintf(key, sizeof key, "tokenizer.chat_template.%s", name);
        st = tm_gguf_writer_set_str(w, key, text, err);
        if (st != TM_OK)
            return st;
    }
    return st;
}

static tm_status set_metadata(const conv *c, const json_t *tok, const json_t *config,
                              tm_gguf_writer *w, tm_err *err)
{
    bool add_bos, add_eos;
    const char *bos_name, *eos_name;
    special_adds(tok, config, &add_bos, &add_eos, &bos_name, &eos_name);
    tm_status st = TM_OK;
    if (st == TM_OK)
        st = tm_gguf_writer_set_str(w, "tokenizer.ggml.model", c->byte_level ? "gpt2" : "llama",
                                    err);
    if (st == TM_OK && c->byte_level)
        st = tm_gguf_writer_set_str(w, "tokenizer.ggml.pre", c->pre, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", c->texts, c->lens,
                                        (uint64_t)c->n, err);
    if (st == TM_OK && !c->byte_level)
        st = tm_gguf_writer_set_arr(w, "tokenizer.ggml.scores", TM_GGUF_FLOAT32, c->scores,
                                    (uint64_t)c->n, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", TM_GGUF_INT32, c->types,
                                    (uint64_t)c->n, err);
    if (st == TM_OK && c->byte_level) {
        uint64_t *lens = tm_malloc((size_t)(c->n_merges ? c->n_merges : 1) * sizeof *lens);
        if (!lens)
            st = tm_fail(err, TM_E_NOMEM, "merges");
        for (int64_t i = 0; st == TM_OK && i < c->n_merges; i++)
            lens[i] = strlen(c->merges[i]);
        if (st == TM_OK)
            st = tm_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", c->merges, lens,
                                            (uint64_t)c->n_merges, err);
        tm_free(lens);
    }
    if (st == TM_OK)
        st = set_id(w, "tokenizer.ggml.bos_token_id", find_token(c, bos_name), err);
    if (st == TM_OK)
        st = set_id(w, "tokenizer.ggml.eos_token_id", find_token(c, eos_name), err);
    if (st == TM_OK)
        st = set_id(w, "tokenizer.ggml.unknown_token_id",
                    find_token(c, config_token(config, "unk_token")), err);
    if (st == TM_OK)
        st = set_id(w, "tokenizer.ggml.padding_token_id",
                    find_token(c, config_token(config, "pad_token")), err);
    if (st == TM_OK)
        st = set_id(w, "tokenizer.ggml.eot_token_id", end_of_turn(c), err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", add_bos, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", add_eos, err);
    if (st == TM_OK && !c->byte_level)
        st = tm_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", c->space_prefix, err);
    if (st == TM_OK)
        st = set_chat_templates(w, config, err);
    return st;
}

/* flags: JSON_DECODE_INT_AS_REAL for tokenizer_config.json, whose model_max_length may be
 * 1e30 written as an integer (beyond what jansson keeps as one) */
static tm_status load_json(const char *what, const char *text, size_t len, size_t flags,
                           json_t **out, tm_err *err)
{
    json_error_t je;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | flags, &je);
    if (!*out)
        return tm_fail(err, TM_E_FORMAT, "%s:%d:%d: %s", what, je.line, je.column, je.text);
    if (!json_is_object(*out))
        return tm_fail(err, TM_E_FORMAT, "%s: not a JSON object", what);
    return TM_OK;
}

tm_status tm_hf_tokenizer_to_gguf(const char *tokenizer_json, size_t tokenizer_len,
                                  const char *config_json, size_t config_len, tm_gguf_writer *w,
                                  tm_err *err)
{
    json_t *tok = NULL, *config = NULL;
    conv c;
    memset(&c, 0, sizeof c);
    tm_status st = load_json("tokenizer.json", tokenizer_json, tokenizer_len, 0, &tok, err);
    if (st == TM_OK && config_json)
        st = load_json("tokenizer_config.json", config_json, config_len, JSON_DECODE_INT_AS_REAL,
                       &config, err);
    if (st == TM_OK && strcmp(node_type(json_object_get(tok, "model")), "BPE") != 0)
        st = tm_fail(err, TM_E_UNSUPPORTED, "tokenizer model type \"%s\" (BPE is supported)",
                     node_type(json_object_get(tok, "model")));
    if (st == TM_OK)
        st = detect_kind(tok, &c, err);
    if (st == TM_OK)
        st = read_tokens(tok, &c, err);
    if (st == TM_OK)
        st = read_merges(tok, &c, err);
    if (st == TM_OK)
        st = set_metadata(&c, tok, config, w, err);
    conv_free(&c);
    json_decref(tok);
    json_decref(config);
    return st;
}
#else
tm_status tm_hf_tokenizer_to_gguf(const char *tokenizer_json, size_t tokenizer_len,
                                  const char *config_json, size_t config_len, tm_gguf_writer *w,
                                  tm_err *err)
{
    (void)tokenizer_json, (void)tokenizer_len, (void)config_json, (void)config_len, (void)w;
    return tm_fail(err, TM_E_UNSUPPORTED, "this build reads no JSON (built without jansson)");
}
#endif
