/* Inside the text layer: the vocabulary's storage and the builder both loaders use. */
#ifndef TM_TEXT_VOCAB_INTERNAL_H
#define TM_TEXT_VOCAB_INTERNAL_H

#include "text.h"

#include <string.h>

typedef enum tm_vocab_kind {
    TM_VOCAB_SPM, /* SentencePiece: scored merges of characters, byte fallback */
    TM_VOCAB_BPE, /* byte-level BPE: regex pre-tokenizer, ranked merges (GPT-2 style) */
    TM_VOCAB_WPM, /* WordPiece (BERT): greedy longest pieces of normalized words */
} tm_vocab_kind;

typedef struct tm_pretok tm_pretok; /* compiled pre-tokenizer regexes (pretok.c) */

struct tm_vocab {
    tm_vocab_kind kind;
    int32_t n;
    char *text;       /* every piece, back to back */
    uint64_t *offset; /* [n + 1]: piece i is text[offset[i] .. offset[i + 1]) */
    float *scores;
    uint8_t *types;
    uint32_t *index; /* open addressing: id + 1, 0 empty; capacity index_cap (power of 2) */
    uint64_t index_cap;
    int32_t byte_id[256]; /* the <0xHH> tokens, -1 where absent */
    int32_t *specials;    /* control and user-defined ids, longest text first */
    int32_t n_specials;
    tm_vocab_special sp;
    /* BPE: the merges "left right", rank = index, found through an open-addressing table */
    char *merge_text;
    uint64_t *merge_off; /* [n_merges + 1] */
    int32_t n_merges;
    uint32_t *merge_index; /* rank + 1, 0 empty */
    uint64_t merge_cap;
    tm_pretok *pretok;
    bool ignore_merges;     /* a pre-token that is a whole piece skips the merges (Llama 3) */
    bool nfc;               /* text is normalized to Unicode NFC before pre-tokenizing (Qwen) */
    size_t max_piece_bytes; /* the longest piece (WordPiece's search bound) */
};

/* Where encoders put ids: at most cap are written, all are counted. */
typedef struct tm_token_sink {
    int32_t *out;
    int32_t cap, n;
} tm_token_sink;

static inline void tm_sink_emit(tm_token_sink *k, int32_t id)
{
    if (k->n < k->cap)
        k->out[k->n] = id;
    k->n++;
}

/* A symbol of the merge loop: text[0..n) (n = 0 once merged into its left neighbour). */
typedef struct tm_symbol {
    const char *text;
    int32_t n;
    int32_t prev, next;
} tm_symbol;

/* Ranks the pair of symbols at text (n_left then n_right bytes): false if it cannot merge,
 * else *score (higher merges first). */
typedef struct tm_pair_scorer {
    bool (*score)(const void *ctx, const char *text, int32_t n_left, int32_t n_right, float *score);
    const void *ctx;
} tm_pair_scorer;

/* Cuts text into UTF-8 characters and merges them (merge.c). *out (caller frees) is the
 * symbol array; the remaining symbols are chained from index 0 by next. len >= 1. */
tm_status tm_merge_symbols(const char *text, int32_t len, const tm_pair_scorer *sc, tm_symbol **out,
                           tm_err *err);
int32_t tm_utf8_len(uint8_t first_byte); /* 1..4 from the lead byte; 1 for others */

/* Plain text (no special tokens) to ids. SPM: prefix adds the word-start mark in front. */
tm_status tm_spm_encode(const tm_vocab *v, const char *text, size_t len, bool prefix,
                        tm_token_sink *k, tm_err *err);
tm_status tm_bpe_encode(const tm_vocab *v, const char *text, size_t len, tm_token_sink *k,
                        tm_err *err);
tm_status tm_wpm_encode(const tm_vocab *v, const char *text, size_t len, tm_token_sink *k,
                        tm_err *err);
/* BPE: reads tokenizer.ggml.merges and the pre-tokenizer named by tokenizer.ggml.pre. */
tm_status tm_bpe_load(const tm_gguf *g, tm_vocab *v, tm_err *err);
void tm_bpe_free(tm_vocab *v);
/* The bytes of a byte-level BPE piece (each character stands for one byte); returns the
 * count, writing at most cap. Characters outside the byte alphabet pass through. */
int32_t tm_bpe_decode_piece(const char *text, size_t len, char *buf, int32_t cap);

/* Pre-tokenizers: the regexes llama.cpp applies for a tokenizer.ggml.pre name, applied in
 * order, each splitting the pieces the previous left. */
tm_status tm_pretok_create(const char *pre, size_t pre_len, tm_pretok **out, tm_err *err);
void tm_pretok_free(tm_pretok *p);
/* Calls fn for each piece of text, in order. */
tm_status tm_pretok_split(const tm_pretok *p, const char *text, size_t len,
                          tm_status (*fn)(void *ctx, const char *piece, size_t n, tm_err *err),
                          void *ctx, tm_err *err);

/* An open-addressing table over strings stored back to back (string i is
 * text[off[i] .. off[i + 1])): index holds i + 1, 0 for empty; cap is a power of two.
 * Returns the slot holding key, or the empty slot where it would go. */
static inline uint64_t tm_text_slot(const uint32_t *index, uint64_t cap, const char *text,
                                    const uint64_t *off, const char *key, size_t len)
{
    uint64_t h = tm_hash_bytes(key, len) & (cap - 1);
    for (;;) {
        uint32_t e = index[h];
        if (e == 0)
            return h;
        if ((size_t)(off[e] - off[e - 1]) == len && memcmp(text + off[e - 1], key, len) == 0)
            return h;
        h = (h + 1) & (cap - 1);
    }
}

/* Allocates a vocabulary of n tokens whose pieces total text_bytes. */
tm_status tm_vocab_alloc(int32_t n, uint64_t text_bytes, tm_vocab **out, tm_err *err);
/* After pieces, scores and types are set: builds the index, byte table and special list,
 * and checks the special ids. Duplicate pieces keep the first id (as SentencePiece does). */
tm_status tm_vocab_finish(tm_vocab *v, tm_err *err);

#endif
