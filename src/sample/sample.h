/* sample: choosing the next token from logits. The public tm_sampler (include/temoto.h) is
 * a fixed chain, as llama.cpp's default: repetition penalty, top-k, top-p, min-p,
 * temperature, then a draw from the softmax (or argmax at temperature 0). The steps are
 * exposed here over a candidate list so tests can check each one alone. */
#ifndef TM_SAMPLE_H
#define TM_SAMPLE_H

#include "../base/base.h"

typedef struct tm_candidate {
    int32_t id;
    float logit; /* after penalties and temperature; p is filled by tm_cands_softmax */
    float p;
} tm_candidate;

typedef struct tm_cands {
    tm_candidate *data; /* capacity: n_vocab */
    int32_t n;
    bool sorted; /* by logit, descending */
} tm_cands;

/* Keeps the k largest logits, sorted descending (k <= 0 or k >= n: sorts all). */
void tm_cands_top_k(tm_cands *c, int32_t k);
/* Fills p with the softmax of the logits (sorting first if needed). */
void tm_cands_softmax(tm_cands *c);
/* Keeps the smallest prefix whose probability reaches p (at least one); renormalizes. */
void tm_cands_top_p(tm_cands *c, float p);
/* Drops candidates whose probability is below min_p times the largest; renormalizes. */
void tm_cands_min_p(tm_cands *c, float min_p);

#endif
