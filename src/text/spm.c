/* SentencePiece-style encoding over a scored vocabulary (tokenizer.ggml.model "llama").
 *
 * The text is split into special-token fragments and plain text. Plain text gets the
 * word-start mark U+2581 in place of every space (and one in front when the vocabulary
 * asks for a space prefix and the fragment starts the text or follows a special token),
 * is cut into UTF-8 characters, and adjacent symbols are merged repeatedly: always the pair
 * whose merged text is the vocabulary piece with the highest score, leftmost on ties. A
 * heap of candidate pairs makes that O(n log n). A symbol left that is not a piece becomes
 * its bytes' <0xHH> tokens. This reproduces llama.cpp's and llama2.c's encoders. */
#include "vocab_internal.h"

#include <string.h>

typedef struct symbol {
    const char *text;
    int32_t n; /* bytes; 0 once merged into its left neighbour */
    int32_t prev, next;
} symbol;

typedef struct bigram {
    int32_t left, right;
    float score;
    int32_t n; /* bytes of the merged text when queued: stale if the symbols changed */
} bigram;

typedef struct heap {
    bigram *data;
    int32_t n, cap;
} heap;

static bool outranks(const bigram *a, const bigram *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(heap *h, bigram b)
{
    if (h->n == h->cap) {
        int32_t cap = h->cap ? h->cap * 2 : 64;
        bigram *d = tm_realloc(h->data, (size_t)cap * sizeof *d);
        if (!d)
            return false;
        h->data = d;
        h->cap = cap;
    }
    int32_t i = h->n++;
    while (i > 0 && outranks(&b, &h->data[(i - 1) / 2])) {
        h->data[i] = h->data[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->data[i] = b;
    return true;
}

static bigram heap_pop(heap *h)
{
    bigram top = h->data[0], last = h->data[--h->n];
    int32_t i = 0;
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && outranks(&h->data[c + 1], &h->data[c]))
            c++;
        if (!outranks(&h->data[c], &last))
            break;
        h->data[i] = h->data[c];
        i = c;
    }
    if (h->n > 0)
        h->data[i] = last;
    return top;
}

static bool try_pair(const tm_vocab *v, heap *h, const symbol *s, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    int32_t n = s[left].n + s[right].n;
    int32_t id = tm_vocab_find(v, s[left].text, (size_t)n);
    if (id < 0)
        return true;
    return heap_push(h, (bigram){left, right, v->scores[id], n});
}

static int32_t utf8_len(uint8_t c)
{
    static const int8_t len_by_high_nibble[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len_by_high_nibble[c >> 4];
}

typedef struct sink {
    int32_t *out;
    int32_t cap, n;
} sink;

static void emit(sink *k, int32_t id)
{
    if (k->n < k->cap)
        k->out[k->n] = id;
    k->n++;
}

static void emit_symbol(const tm_vocab *v, sink *k, const symbol *s)
{
    int32_t id = tm_vocab_find(v, s->text, (size_t)s->n);
    if (id >= 0) {
        emit(k, id);
        return;
    }
    for (int32_t i = 0; i < s->n; i++) {
        int32_t b = v->byte_id[(uint8_t)s->text[i]];
        if (b < 0)
            b = v->sp.unk;
        if (b >= 0)
            emit(k, b);
    }
}

/* Encodes already-escaped text (spaces replaced by the mark). */
static tm_status encode_escaped(const tm_vocab *v, const char *text, int32_t len, sink *k,
                                tm_err *err)
{
    if (len == 0)
        return TM_OK;
    symbol *s = tm_malloc((size_t)len * sizeof *s);
    heap h = {0};
    if (!s)
        return tm_fail(err, TM_E_NOMEM, "tokenizing %d bytes", len);
    int32_t n = 0;
    for (int32_t at = 0; at < len; n++) {
        int32_t cl = TM_MIN(utf8_len((uint8_t)text[at]), len - at);
        s[n] = (symbol){text + at, cl, n - 1, -1};
        if (n > 0)
            s[n - 1].next = n;
        at += cl;
    }
    bool ok = true;
    for (int32_t i = 1; i < n && ok; i++)
        ok = try_pair(v, &h, s, i - 1, i);
    while (ok && h.n > 0) {
        bigram b = heap_pop(&h);
        symbol *l = &s[b.left], *r = &s[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.n)
            continue; /* one side was merged elsewhere since this pair was queued */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            s[r->next].prev = b.left;
        ok = try_pair(v, &h, s, l->prev, b.left) && try_pair(v, &h, s, b.left, l->next);
    }
    if (ok)
        for (int32_t i = 0; i >= 0; i = s[i].next)
            emit_symbol(v, k, &s[i]);
    tm_free(s);
    tm_free(h.data);
    return ok ? TM_OK : tm_fail(err, TM_E_NOMEM, "tokenizing %d bytes", len);
}

static tm_status encode_plain(const tm_vocab *v, const char *text, size_t len, bool prefix, sink *k,
                              tm_err *err)
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

/* The special token spelled at text[0..], or -1. User-defined tokens always count;
 * control tokens only when the caller parses special tokens. */
static int32_t special_at(const tm_vocab *v, const char *text, size_t len, bool parse_special)
{
    for (int32_t i = 0; i < v->n_specials; i++) {
        int32_t id = v->specials[i];
        if (v->types[id] == TM_TOKEN_CONTROL && !parse_special)
            continue;
        size_t n;
        const char *t = tm_vocab_text(v, id, &n);
        if (n <= len && t[0] == text[0] && memcmp(t, text, n) == 0)
            return id;
    }
    return -1;
}

tm_status tm_vocab_encode(const tm_vocab *v, const char *text, size_t len, bool add_special,
                          bool parse_special, int32_t *out, int32_t cap, int32_t *n_out,
                          tm_err *err)
{
    sink k = {out, cap, 0};
    if (add_special && v->sp.add_bos && v->sp.bos >= 0)
        emit(&k, v->sp.bos);
    bool after_special = true; /* the first fragment counts as following one */
    size_t start = 0;
    tm_status st = TM_OK;
    for (size_t i = 0; i <= len && st == TM_OK; i++) {
        int32_t id =
            i < len && v->n_specials > 0 ? special_at(v, text + i, len - i, parse_special) : -1;
        if (id < 0 && i < len)
            continue;
        if (i > start) {
            st = encode_plain(v, text + start, i - start, v->sp.add_space_prefix && after_special,
                              &k, err);
            after_special = false;
        }
        if (id >= 0) {
            emit(&k, id);
            after_special = true;
            size_t n;
            tm_vocab_text(v, id, &n);
            i += n - 1;
            start = i + 1;
        }
    }
    if (st == TM_OK && add_special && v->sp.add_eos && v->sp.eos >= 0)
        emit(&k, v->sp.eos);
    if (st != TM_OK)
        return st;
    *n_out = k.n;
    if (k.n > cap)
        return tm_fail(err, TM_E_LIMIT, "the text has %d tokens, room for %d", k.n, cap);
    return TM_OK;
}
