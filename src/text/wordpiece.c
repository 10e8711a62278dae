/* WordPiece (BERT): the text is normalized (Unicode NFD, accents removed, lower case),
 * split at whitespace and around punctuation, symbols and CJK ideographs, and each word is
 * cut greedily into the longest pieces the vocabulary has. GGUF vocabularies spell a
 * word-initial piece with U+2581 in front and a continuation without BERT's "##". A word
 * that cannot be cut whole becomes [UNK]. utf8proc supplies the Unicode data. */
#include "vocab_internal.h"

#include <stdlib.h>
#include <string.h>

#if TM_HAVE_UTF8PROC
#include <utf8proc.h>

static bool is_cjk(utf8proc_int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static bool is_space(utf8proc_int32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Cuts one word (U+2581 already in front) into pieces; [UNK] if it cannot be cut whole. */
static void encode_word(const tm_vocab *v, const char *w, size_t n, tm_token_sink *k)
{
    int32_t start = k->n;
    for (size_t i = 0; i < n;) {
        size_t j = n - i > v->max_piece_bytes ? i + v->max_piece_bytes : n;
        int32_t id = -1;
        for (; j > i; j--)
            if ((id = tm_vocab_find(v, w + i, j - i)) >= 0)
                break;
        if (id < 0) {
            k->n = start; /* discard the word's pieces */
            tm_sink_emit(k, v->sp.unk);
            return;
        }
        tm_sink_emit(k, id);
        i = j;
    }
}

tm_status tm_wpm_encode(const tm_vocab *v, const char *text, size_t len, tm_token_sink *k,
                        tm_err *err)
{
    if (len == 0)
        return TM_OK;
    if (len > (size_t)INT32_MAX / 8)
        return tm_fail(err, TM_E_LIMIT, "text of %zu bytes is too long to tokenize", len);
    /* NFD so accents become separate marks; invalid UTF-8 is read byte by byte as U+FFFD */
    utf8proc_uint8_t *nfd = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nfd,
                                      UTF8PROC_DECOMPOSE);
    const utf8proc_uint8_t *src = nfd ? nfd : (const utf8proc_uint8_t *)text;
    size_t src_len = n >= 0 ? (size_t)n : len;
    char *word = tm_malloc(src_len * 4 + 8);
    if (!word) {
        free(nfd);
        return tm_fail(err, TM_E_NOMEM, "tokenizing %zu bytes", len);
    }
    static const char mark[] = "\xe2\x96\x81";
    size_t w = 0; /* bytes in word after the mark; 0: no word open */
    memcpy(word, mark, 3);
    for (size_t i = 0; i < src_len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t step =
            n >= 0 ? utf8proc_iterate(src + i, (utf8proc_ssize_t)(src_len - i), &c) : -1;
        if (step <= 0) { /* invalid UTF-8 (only when NFD failed): skip the byte */
            c = 0xFFFD;
            step = 1;
        }
        i += (size_t)step;
        utf8proc_category_t cat = utf8proc_category(c);
        if (is_space(c)) {
            if (w)
                encode_word(v, word, 3 + w, k);
            w = 0;
            continue;
        }
        if (c == 0 || c == 0xFFFD || cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
            cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CS ||
            cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_MN)
            continue; /* controls and accents (nonspacing marks) go */
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(c), buf);
        bool alone = (cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO) ||
                     (c < 0x7F && cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO) ||
                     is_cjk(c);
        if (alone && w) {
            encode_word(v, word, 3 + w, k);
            w = 0;
        }
        memcpy(word + 3 + w, buf, (size_t)m);
        w += (size_t)m;
        if (alone) {
            encode_word(v, word, 3 + w, k);
            w = 0;
        }
    }
    if (w)
        encode_word(v, word, 3 + w, k);
    tm_free(word);
    free(nfd);
    return TM_OK;
}
#else
tm_status tm_wpm_encode(const tm_vocab *v, const char *text, size_t len, tm_token_sink *k,
                        tm_err *err)
{
    (void)v, (void)text, (void)len, (void)k;
    return tm_fail(err, TM_E_UNSUPPORTED, "WordPiece needs Unicode data (built without utf8proc)");
}
#endif
