/* llama2.c's tokenizer.bin: int32 max_token_len, then for each token a float score, an
 * int32 length and that many bytes. The vocabulary size is not stored: it is however many
 * records the file holds. Its exporter wrote the SentencePiece word-start mark U+2581 as a
 * plain space; we store U+2581 again, so both sources give the same vocabulary. */
#include "vocab_internal.h"

#include <inttypes.h>
#include <string.h>

#define MAX_PIECE_BYTES 4096

static const char g_mark[] = "\xe2\x96\x81"; /* U+2581, the word-start mark */

static bool read_i32(const uint8_t *p, size_t n_bytes, size_t *at, int32_t *out)
{
    if (n_bytes - *at < 4)
        return false;
    memcpy(out, p + *at, 4);
    *at += 4;
    return true;
}

/* One pass counts the tokens and the stored text size; the second fills the vocabulary. */
static tm_status scan(const uint8_t *p, size_t n_bytes, tm_vocab *v, int32_t *n_tokens,
                      uint64_t *text_bytes, tm_err *err)
{
    size_t at = 4;
    int32_t n = 0;
    uint64_t text = 0;
    while (at < n_bytes) {
        float score = 0;
        int32_t len = 0;
        size_t rec = at;
        if (n_bytes - at < 8)
            return tm_fail(err, TM_E_FORMAT,
                           "tokenizer.bin: token %" PRId32 " at byte %zu is truncated", n, rec);
        memcpy(&score, p + at, 4);
        at += 4;
        read_i32(p, n_bytes, &at, &len);
        if (len < 0 || len > MAX_PIECE_BYTES || (size_t)len > n_bytes - at)
            return tm_fail(err, TM_E_FORMAT,
                           "tokenizer.bin: token %" PRId32 " at byte %zu has length %" PRId32
                           ", %zu bytes remain",
                           n, rec, len, n_bytes - at);
        const uint8_t *piece = p + at;
        at += (size_t)len;
        if ((n == 1 || n == 2) && len >= 2 && piece[0] == '\n' && piece[len - 1] == '\n') {
            piece++; /* the exporter wrote BOS and EOS as "\n<s>\n" and "\n</s>\n" */
            len -= 2;
        }
        uint64_t stored = (uint64_t)len;
        for (int32_t i = 0; i < len; i++)
            stored += piece[i] == ' ' ? 2 : 0;
        if (v) {
            char *dst = v->text + text;
            for (int32_t i = 0; i < len; i++) {
                if (piece[i] == ' ') {
                    memcpy(dst, g_mark, 3);
                    dst += 3;
                } else {
                    *dst++ = (char)piece[i];
                }
            }
            v->offset[n + 1] = text + stored;
            v->scores[n] = score;
            bool byte = len == 6 && memcmp(piece, "<0x", 3) == 0 && piece[5] == '>';
            v->types[n] = n == 0   ? TM_TOKEN_UNKNOWN
                          : n <= 2 ? TM_TOKEN_CONTROL
                          : byte   ? TM_TOKEN_BYTE
                                   : TM_TOKEN_NORMAL;
        }
        text += stored;
        n++;
    }
    *n_tokens = n;
    *text_bytes = text;
    return TM_OK;
}

tm_status tm_vocab_from_llama2c(const void *data, size_t n_bytes, tm_vocab **out, tm_err *err)
{
    const uint8_t *p = data;
    int32_t max_len = 0, n = 0;
    size_t at = 0;
    if (!read_i32(p, n_bytes, &at, &max_len) || max_len <= 0 || max_len > MAX_PIECE_BYTES)
        return tm_fail(err, TM_E_FORMAT, "tokenizer.bin: bad header (max token length %" PRId32 ")",
                       max_len);
    uint64_t text_bytes = 0;
    tm_status st = scan(p, n_bytes, NULL, &n, &text_bytes, err);
    if (st != TM_OK)
        return st;
    if (n < 3)
        return tm_fail(err, TM_E_FORMAT, "tokenizer.bin holds %" PRId32 " tokens", n);
    tm_vocab *v = NULL;
    st = tm_vocab_alloc(n, text_bytes, &v, err);
    if (st != TM_OK)
        return st;
    st = scan(p, n_bytes, v, &n, &text_bytes, err);
    if (st == TM_OK) {
        v->text[text_bytes] = '\0';
        v->sp.unk = 0;
        v->sp.bos = 1;
        v->sp.eos = 2;
        st = tm_vocab_finish(v, err);
    }
    if (st != TM_OK) {
        tm_vocab_free(v);
        return st;
    }
    *out = v;
    return TM_OK;
}
