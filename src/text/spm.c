/* SentencePiece-style encoding over a scored vocabulary (tokenizer.ggml.model "llama").
 *
 * The text is split into special-token fragments and plain text. Plain text gets the
 * word-start mark U+2581 in place of every space (and one in front when the vocabulary
 * asks for a space prefix and the fragment starts the text or follows a special token),
 * is cut into UTF-8 characters, and adjacent symbols are merged repeatedly (merge.c):
 * always the pair whose merged text is the vocabulary piece with the highest score,
 * leftmost on ties. A symbol left that is not a piece becomes its bytes' <0xHH> tokens. This
 * reproduces llama.cpp's and llama2.c's encoders. */
#include "vocab_internal.h"

#include <string.h>

static void emit_symbol(const tm_vocab *v, tm_token_sink *k, const tm_symbol *s)
{
    int32_t id = tm_vocab_find(v, s->text, (size_t)s->n);
    if (id >= 0) {
        tm_sink_emit(k, id);
        return;
    }
    for (int32_t i = 0; i < s->n; i++) {
        int32_t b = v->byte_id[(uint8_t)s->text[i]];
        if (b < 0)
            b = v->sp.unk;
        if (b >= 0)
            tm_sink_emit(k, b);
    }
}

/* A pair merges when its joined text is a vocabulary piece; the piece's score ranks it. */
static bool spm_pair_score(const void *ctx, const char *text, int32_t n_left, int32_t n_right,
                           float *score)
{
    const tm_vocab *v = ctx;
    int32_t id = tm_vocab_find(v, text, (size_t)(n_left + n_right));
    if (id < 0)
        return false;
    *score = v->scores[id];
    return true;
}

/* Encodes already-escaped text (spaces replaced by the mark). */
static tm_status encode_escaped(const tm_vocab *v, const char *text, int32_t len, tm_token_sink *k,
                                tm_err *err)
{
    if (len == 0)
        return TM_OK;
    tm_pair_scorer sc = {spm_pair_score, v};
    tm_symbol *s = NULL;
    tm_status st = tm_merge_symbols(text, len, &sc, &s, err);
    if (st != TM_OK)
        return st;
    for (int32_t i = 0; i >= 0; i = s[i].next)
        emit_symbol(v, k, &s[i]);
    tm_free(s);
    return TM_OK;
}

tm_status tm_spm_encode(const tm_vocab *v, const char *text, size_t len, bool prefix,
                        tm_token_sink *k, tm_err *err)
{
    if (len == 0)
        return TM_OK;
    if (len > (size_t)INT32_MAX / 3 - 3)
        return tm_fail(err, TM_E_LIMIT, "text of %zu bytes is too long to tokenize", len);
    char *esc = tm_malloc(3 * len + 3);
    if (!esc)
        return tm_fail(err, TM_E_NOMEM, "tokenizing %zu bytes", len);
    size_t n = 0;
    if (prefix) {
        memcpy(esc, "\xe2\x96\x81", 3);
        n = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(esc + n, "\xe2\x96\x81", 3);
            n += 3;
        } else {
            esc[n++] = text[i];
        }
    }
    tm_status st = encode_escaped(v, esc, (int32_t)n, k, err);
    tm_free(esc);
    return st;
}
