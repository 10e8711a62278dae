/* Inside the text layer: the vocabulary's storage and the builder both loaders use. */
#ifndef TM_TEXT_VOCAB_INTERNAL_H
#define TM_TEXT_VOCAB_INTERNAL_H

#include "text.h"

struct tm_vocab {
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
};

/* Allocates a vocabulary of n tokens whose pieces total text_bytes. */
tm_status tm_vocab_alloc(int32_t n, uint64_t text_bytes, tm_vocab **out, tm_err *err);
/* After pieces, scores and types are set: builds the index, byte table and special list,
 * and checks the special ids. Duplicate pieces keep the first id (as SentencePiece does). */
tm_status tm_vocab_finish(tm_vocab *v, tm_err *err);

#endif
