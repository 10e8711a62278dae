/* Byte-level BPE (GPT-2 and the families after it: Llama 3, Qwen, DeepSeek, Falcon,
 * StarCoder...). Text is cut by the family's pre-tokenizer (pretok.c); each piece's bytes
 * are spelled in GPT-2's printable byte alphabet (every byte one character: "Ġ" is the
 * space), and adjacent symbols merge in the order of tokenizer.ggml.merges (earlier merges
 * first, leftmost on ties). The resulting symbols are vocabulary pieces. */
#include "vocab_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#if TM_HAVE_UTF8PROC
#include <utf8proc.h>
#endif

/* GPT-2's byte alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * for the code points 256, 257, ... in byte order. */
static uint16_t byte_char(uint8_t b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
        return b;
    int n = 0; /* bytes below b that are not printable */
    for (int c = 0; c < b; c++)
        n += !((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE);
    return (uint16_t)(256 + n);
}

static int put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2; /* the alphabet stays below 0x800 */
}

int32_t tm_bpe_decode_piece(const char *text, size_t len, char *buf, int32_t cap)
{
    int32_t n = 0;
    for (size_t i = 0; i < len;) {
        uint8_t c = (uint8_t)text[i];
        uint32_t cp = c;
        size_t w = 1;
        if ((c & 0xE0) == 0xC0 && i + 1 < len) {
            cp = (uint32_t)(c & 0x1F) << 6 | ((uint8_t)text[i + 1] & 0x3F);
            w = 2;
        }
        int byte = -1; /* the byte this character stands for */
        if (cp < 0x100 && byte_char((uint8_t)cp) == cp)
            byte = (int)cp;
        else if (cp >= 256 && cp < 256 + 68)
            for (int b = 0; b < 256 && byte < 0; b++)
                if (byte_char((uint8_t)b) == cp)
                    byte = b;
        if (byte >= 0) {
            if (n < cap)
                buf[n] = (char)byte;
            n++;
        } else { /* not of the alphabet (e.g. added tokens): as it is */
            for (size_t k = 0; k < w; k++, n++)
                if (n < cap)
                    buf[n] = text[i + k];
        }
        i += w;
    }
    return n;
}

/* ---- merges ---------------------------------------------------------------------------- */

static uint64_t merge_slot(const tm_vocab *v, const char *text, size_t len)
{
    return tm_text_slot(v->merge_index, v->merge_cap, v->merge_text, v->merge_off, text, len);
}

tm_status tm_bpe_load(const tm_gguf *g, tm_vocab *v, tm_err *err)
{
    v->kind = TM_VOCAB_BPE;
    v->sp.add_space_prefix = false;
    const tm_gguf_array *m = NULL;
    tm_status st = tm_gguf_get_arr(g, "tokenizer.ggml.merges", TM_GGUF_STRING, &m, err);
    if (st != TM_OK)
        return st;
    if (m->n > (1 << 24))
        return tm_fail(err, TM_E_FORMAT, "%" PRIu64 " merges", m->n);
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < m->n; i++)
        bytes += m->strs[i].len;
    v->n_merges = (int32_t)m->n;
    v->merge_text = tm_malloc((size_t)bytes + 1);
    v->merge_off = tm_calloc((size_t)m->n + 1, sizeof *v->merge_off);
    v->merge_cap = 16;
    while (v->merge_cap < 2 * m->n)
        v->merge_cap *= 2;
    v->merge_index = tm_calloc((size_t)v->merge_cap, sizeof *v->merge_index);
    if (!v->merge_text || !v->merge_off || !v->merge_index)
        return tm_fail(err, TM_E_NOMEM, "%" PRIu64 " merges", m->n);
    uint64_t at = 0;
    for (uint64_t i = 0; i < m->n; i++) {
        memcpy(v->merge_text + at, m->strs[i].ptr, (size_t)m->strs[i].len);
        at += m->strs[i].len;
        v->merge_off[i + 1] = at;
        uint64_t s = merge_slot(v, m->strs[i].ptr, (size_t)m->strs[i].len);
        if (v->merge_index[s] == 0) /* a repeated merge keeps its first rank */
            v->merge_index[s] = (uint32_t)i + 1;
    }
    tm_gguf_str pre = {"default", 7};
    if (tm_gguf_find_kv(g, "tokenizer.ggml.pre")) {
        st = tm_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err);
        if (st != TM_OK)
            return st;
    }
    /* Llama 3's tokenizer takes a whole pre-token that is a vocabulary piece as it is */
    v->ignore_merges = tm_gguf_str_eq(pre, "llama-bpe") || tm_gguf_str_eq(pre, "llama3");
    /* Qwen's tokenizer normalizes text to NFC first (a decomposed "が" is one character) */
    v->nfc = tm_gguf_str_eq(pre, "qwen2");
#if !TM_HAVE_UTF8PROC
    if (v->nfc)
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "the \"qwen2\" tokenizer needs Unicode normalization (built without "
                       "utf8proc)");
#endif
    return tm_pretok_create(pre.ptr, (size_t)pre.len, &v->pretok, err);
}

void tm_bpe_free(tm_vocab *v)
{
    tm_free(v->merge_text);
    tm_free(v->merge_off);
    tm_free(v->merge_index);
    tm_pretok_free(v->pretok);
}

/* A pair merges when "left right" is a merge; earlier merges rank higher. */
static bool bpe_pair_score(const void *ctx, const char *text, int32_t n_left, int32_t n_right,
                           float *score)
{
    const tm_vocab *v = ctx;
    char key[512];
    if (n_left + n_right + 1 > (int32_t)sizeof key)
        return false; /* no merge is that long */
    memcpy(key, text, (size_t)n_left);
    key[n_left] = ' ';
    memcpy(key + n_left + 1, text + n_left, (size_t)n_right);
    uint32_t e = v->merge_index[merge_slot(v, key, (size_t)(n_left + n_right + 1))];
    if (e == 0)
        return false;
    *score = -(float)(e - 1);
    return true;
}

typedef struct word_job {
    const tm_vocab *v;
    tm_token_sink *k;
    char *buf; /* room for 2 bytes per input byte */
} word_job;

static void emit(const tm_vocab *v, tm_token_sink *k, const char *text, int32_t n)
{
    int32_t id = tm_vocab_find(v, text, (size_t)n);
    if (id >= 0) {
        tm_sink_emit(k, id);
        return;
    }
    for (int32_t i = 0; i < n; i++) { /* as llama.cpp: each byte of the spelling alone */
        id = tm_vocab_find(v, text + i, 1);
        if (id >= 0)
            tm_sink_emit(k, id);
    }
}

static tm_status encode_word(void *ctx, const char *word, size_t len, tm_err *err)
{
    word_job *j = ctx;
    int32_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += put_utf8(byte_char((uint8_t)word[i]), j->buf + n);
    if (j->v->ignore_merges && tm_vocab_find(j->v, j->buf, (size_t)n) >= 0) {
        emit(j->v, j->k, j->buf, n);
        return TM_OK;
    }
    tm_pair_scorer sc = {bpe_pair_score, j->v};
    tm_symbol *s = NULL;
    tm_status st = tm_merge_symbols(j->buf, n, &sc, &s, err);
    if (st != TM_OK)
        return st;
    for (int32_t i = 0; i >= 0; i = s[i].next)
        emit(j->v, j->k, s[i].text, s[i].n);
    tm_free(s);
    return TM_OK;
}

#if TM_HAVE_UTF8PROC
/* NFC of text into *out (caller frees), or *out = NULL when text is not valid UTF-8: then it
 * is tokenized as it is, as bytes. */
static tm_status nfc(const char *text, size_t len, char **out, size_t *n_out, tm_err *err)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &dst,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    *out = NULL;
    if (n == UTF8PROC_ERROR_NOMEM)
        return tm_fail(err, TM_E_NOMEM, "normalizing %zu bytes", len);
    if (n < 0)
        return TM_OK;
    /* utf8proc allocates with malloc: copy into our allocator's memory */
    *out = tm_malloc((size_t)n + 1);
    if (*out)
        memcpy(*out, dst, (size_t)n);
    free(dst);
    if (!*out)
        return tm_fail(err, TM_E_NOMEM, "normalizing %zu bytes", len);
    *n_out = (size_t)n;
    return TM_OK;
}
#endif

tm_status tm_bpe_encode(const tm_vocab *v, const char *text, size_t len, tm_token_sink *k,
                        tm_err *err)
{
    if (len == 0)
        return TM_OK;
    char *normal = NULL;
#if TM_HAVE_UTF8PROC
    if (v->nfc) {
        tm_status st = nfc(text, len, &normal, &len, err);
        if (st != TM_OK)
            return st;
        if (normal)
            text = normal;
    }
#endif
    tm_status st = TM_OK;
    word_job j = {v, k, NULL};
    if (len > (size_t)INT32_MAX / 2)
        st = tm_fail(err, TM_E_LIMIT, "text of %zu bytes is too long to tokenize", len);
    else if (!(j.buf = tm_malloc(2 * len)))
        st = tm_fail(err, TM_E_NOMEM, "tokenizing %zu bytes", len);
    if (st == TM_OK)
        st = tm_pretok_split(v->pretok, text, len, encode_word, &j, err);
    tm_free(j.buf);
    tm_free(normal);
    return st;
}
