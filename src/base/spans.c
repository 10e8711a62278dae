/* Units of work shared by a pool's threads with stealing. Each thread owns one band and
 * takes it front to back in small chunks, so its reads stay one stream for the hardware
 * prefetchers; a thread whose band runs out takes the back half of the largest band left
 * and carries on with that as its own band, which others may split again. A decode step's
 * matrix products end when the slowest thread ends: with bands fixed up front (or a few
 * large chunks from a common counter), one thread slowed by the memory system or by the OS
 * left the other spinning for a quarter of a chunk at the 90th percentile, measured on the
 * 2-core machine. Stealing halves leaves at most one small chunk of difference.
 *
 * A band is one 64-bit word, its front in the low half and its end in the high half, so
 * the owner's take from the front and a thief's from the back are each one compare and
 * swap on the same word: both cannot take the same unit. (A word seen again with the same
 * value describes the same units, so a swap on a value that came back is still right.) */
#include "base.h"

#include <assert.h>
#include <stdatomic.h>

typedef struct band {
    _Alignas(64) atomic_ullong word; /* a line of its own: thieves touch it, owners often */
} band;

struct tm_spans {
    int n_threads; /* bands allocated */
    int nth;       /* bands in use since the last reset */
    band *bands;
};

static uint64_t pack(uint32_t front, uint32_t end)
{
    return (uint64_t)end << 32 | front;
}

uint64_t tm_spans_bytes(int n_threads)
{
    return sizeof(tm_spans) + (uint64_t)n_threads * sizeof(band);
}

tm_status tm_spans_create(int n_threads, tm_spans **out, tm_err *err)
{
    if (n_threads < 1 || n_threads > 1024)
        return tm_fail(err, TM_E_ARG, "%d threads, allowed 1..1024", n_threads);
    tm_spans *s = tm_calloc(1, sizeof *s);
    band *bands = tm_aligned_alloc(64, (size_t)n_threads * sizeof *bands);
    if (!s || !bands) {
        tm_free(s);
        tm_aligned_free(bands);
        return tm_fail(err, TM_E_NOMEM, "work spans for %d threads", n_threads);
    }
    s->n_threads = n_threads;
    s->bands = bands;
    for (int i = 0; i < n_threads; i++)
        atomic_init(&bands[i].word, 0);
    *out = s;
    return TM_OK;
}

void tm_spans_free(tm_spans *s)
{
    if (!s)
        return;
    tm_aligned_free(s->bands);
    tm_free(s);
}

void tm_spans_reset(tm_spans *s, int nth, uint32_t n_units)
{
    assert(nth >= 1 && nth <= s->n_threads);
    s->nth = nth;
    for (int i = 0; i < nth; i++) {
        uint32_t u0 = (uint32_t)((uint64_t)n_units * (uint64_t)i / (uint64_t)nth);
        uint32_t u1 = (uint32_t)((uint64_t)n_units * (uint64_t)(i + 1) / (uint64_t)nth);
        atomic_store_explicit(&s->bands[i].word, pack(u0, u1), memory_order_relaxed);
    }
}

/* Up to chunk units from the front of band i. */
static bool take_front(band *b, uint32_t chunk, uint32_t *u0, uint32_t *u1)
{
    uint64_t w = atomic_load_explicit(&b->word, memory_order_relaxed);
    for (;;) {
        uint32_t front = (uint32_t)w, end = (uint32_t)(w >> 32);
        if (front >= end)
            return false;
        uint32_t n = end - front < chunk ? end - front : chunk;
        if (atomic_compare_exchange_weak_explicit(&b->word, &w, pack(front + n, end),
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *u0 = front;
            *u1 = front + n;
            return true;
        }
    }
}

/* The back half (rounded up) of the largest band of another thread, made band ith. */
static bool steal(tm_spans *s, int ith)
{
    for (;;) {
        int victim = -1;
        uint32_t most = 0;
        uint64_t seen = 0;
        for (int i = 0; i < s->nth; i++) {
            if (i == ith)
                continue;
            uint64_t w = atomic_load_explicit(&s->bands[i].word, memory_order_relaxed);
            uint32_t front = (uint32_t)w, end = (uint32_t)(w >> 32);
            if (front < end && end - front > most) {
                most = end - front;
                victim = i;
                seen = w;
            }
        }
        if (victim < 0)
            return false;
        uint32_t front = (uint32_t)seen, end = (uint32_t)(seen >> 32);
        uint32_t n = (end - front + 1) / 2;
        if (atomic_compare_exchange_strong_explicit(&s->bands[victim].word, &seen,
                                                    pack(front, end - n), memory_order_relaxed,
                                                    memory_order_relaxed)) {
            /* ours is empty, so no thief can be taking from it while it is rewritten */
            atomic_store_explicit(&s->bands[ith].word, pack(end - n, end), memory_order_relaxed);
            return true;
        }
    }
}

bool tm_spans_next(tm_spans *s, int ith, uint32_t chunk, uint32_t *u0, uint32_t *u1)
{
    assert(ith >= 0 && ith < s->nth && chunk >= 1);
    do {
        if (take_front(&s->bands[ith], chunk, u0, u1))
            return true;
    } while (steal(s, ith));
    return false;
}
