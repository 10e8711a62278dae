/* The filtering steps of the sampler chain over a candidate list. Top-k selects with a
 * partial quickselect before sorting the k survivors: a 150k vocabulary is never sorted
 * whole for k = 40. */
#include "sample.h"

#include <math.h>
#include <stdlib.h>

static int by_logit_desc(const void *a, const void *b)
{
    float x = ((const tm_candidate *)a)->logit, y = ((const tm_candidate *)b)->logit;
    if (x != y)
        return x > y ? -1 : 1;
    int32_t i = ((const tm_candidate *)a)->id, j = ((const tm_candidate *)b)->id;
    return (i > j) - (i < j); /* ties: lower id first, so results never depend on qsort */
}

static inline void swap(tm_candidate *a, tm_candidate *b)
{
    tm_candidate t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k best candidates (by by_logit_desc) to the front, in no particular order. */
static void select_top(tm_candidate *c, int32_t n, int32_t k)
{
    int32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        tm_candidate pivot = c[lo + (hi - lo) / 2];
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (by_logit_desc(&c[i], &pivot) < 0)
                i++;
            while (by_logit_desc(&c[j], &pivot) > 0)
                j--;
            if (i <= j)
                swap(&c[i++], &c[j--]);
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
}

void tm_cands_top_k(tm_cands *c, int32_t k)
{
    if (k > 0 && k < c->n) {
        select_top(c->data, c->n, k);
        c->n = k;
    }
    qsort(c->data, (size_t)c->n, sizeof *c->data, by_logit_desc);
    c->sorted = true;
}

void tm_cands_softmax(tm_cands *c)
{
    if (!c->sorted)
        tm_cands_top_k(c, 0);
    float max = c->data[0].logit;
    double sum = 0;
    for (int32_t i = 0; i < c->n; i++) {
        c->data[i].p = max == -INFINITY ? 0.0f : expf(c->data[i].logit - max);
        sum += c->data[i].p;
    }
    for (int32_t i = 0; i < c->n; i++)
        c->data[i].p = sum > 0 ? (float)(c->data[i].p / sum) : (i == 0 ? 1.0f : 0.0f);
}

static void renormalize(tm_cands *c)
{
    double sum = 0;
    for (int32_t i = 0; i < c->n; i++)
        sum += c->data[i].p;
    for (int32_t i = 0; i < c->n; i++)
        c->data[i].p = (float)(c->data[i].p / sum);
}

void tm_cands_top_p(tm_cands *c, float p)
{
    if (p >= 1.0f)
        return;
    double acc = 0;
    int32_t keep = c->n;
    for (int32_t i = 0; i < c->n; i++) {
        acc += c->data[i].p;
        if (acc >= p) {
            keep = i + 1;
            break;
        }
    }
    c->n = keep;
    renormalize(c);
}

void tm_cands_min_p(tm_cands *c, float min_p)
{
    if (min_p <= 0.0f)
        return;
    float cut = min_p * c->data[0].p; /* sorted: the first is the most likely */
    int32_t keep = 1;
    while (keep < c->n && c->data[keep].p >= cut)
        keep++;
    c->n = keep;
    renormalize(c);
}
