/* The merge loop both BPE kinds share: text is cut into UTF-8 characters, and adjacent
 * symbols are merged repeatedly, always the pair the vocabulary ranks best (highest score,
 * leftmost on ties). A heap of candidate pairs makes it O(n log n); a queued pair whose
 * sides changed since is skipped when it comes up. */
#include "vocab_internal.h"

#include <string.h>

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

static bool try_pair(const tm_pair_scorer *sc, heap *h, const tm_symbol *s, int32_t left,
                     int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    float score;
    if (!sc->score(sc->ctx, s[left].text, s[left].n, s[right].n, &score))
        return true;
    return heap_push(h, (bigram){left, right, score, s[left].n + s[right].n});
}

int32_t tm_utf8_len(uint8_t c)
{
    static const int8_t len_by_high_nibble[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len_by_high_nibble[c >> 4];
}

tm_status tm_merge_symbols(const char *text, int32_t len, const tm_pair_scorer *sc, tm_symbol **out,
                           tm_err *err)
{
    tm_symbol *s = tm_malloc((size_t)TM_MAX(len, 1) * sizeof *s);
    heap h = {0};
    if (!s)
        return tm_fail(err, TM_E_NOMEM, "tokenizing %d bytes", len);
    int32_t n = 0;
    for (int32_t at = 0; at < len; n++) {
        int32_t cl = TM_MIN(tm_utf8_len((uint8_t)text[at]), len - at);
        s[n] = (tm_symbol){text + at, cl, n - 1, -1};
        if (n > 0)
            s[n - 1].next = n;
        at += cl;
    }
    bool ok = true;
    for (int32_t i = 1; i < n && ok; i++)
        ok = try_pair(sc, &h, s, i - 1, i);
    while (ok && h.n > 0) {
        bigram b = heap_pop(&h);
        tm_symbol *l = &s[b.left], *r = &s[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.n)
            continue; /* one side was merged elsewhere since this pair was queued */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            s[r->next].prev = b.left;
        ok = try_pair(sc, &h, s, l->prev, b.left) && try_pair(sc, &h, s, b.left, l->next);
    }
    tm_free(h.data);
    if (!ok) {
        tm_free(s);
        return tm_fail(err, TM_E_NOMEM, "tokenizing %d bytes", len);
    }
    *out = s;
    return TM_OK;
}
