#include "test.h"

#include <stdatomic.h>

#define MAX_UNITS 5000

typedef struct claim_job {
    tm_spans *spans;
    uint32_t chunk;
    atomic_int taken[MAX_UNITS]; /* how many times each unit was handed out */
    atomic_int by_thread[8];     /* units each thread processed */
    atomic_int too_big;          /* takes larger than the chunk */
    int slow_thread;             /* -1, or a thread that stalls before its first take */
    atomic_int others_done;      /* threads that ran out of units */
} claim_job;

static void claim_task(void *arg, int ith, int nth)
{
    claim_job *job = arg;
    if (ith == job->slow_thread) /* wait until every other thread has found nothing left */
        while (atomic_load(&job->others_done) < nth - 1)
            tm_cpu_relax();
    uint32_t u0, u1;
    while (tm_spans_next(job->spans, ith, job->chunk, &u0, &u1)) {
        if (u1 - u0 > job->chunk || u0 >= u1)
            atomic_fetch_add(&job->too_big, 1);
        for (uint32_t u = u0; u < u1 && u < MAX_UNITS; u++)
            atomic_fetch_add(&job->taken[u], 1);
        atomic_fetch_add(&job->by_thread[ith], (int)(u1 - u0));
    }
    if (ith != job->slow_thread)
        atomic_fetch_add(&job->others_done, 1);
}

static claim_job *new_job(tm_spans *spans, uint32_t chunk, int slow_thread)
{
    claim_job *job = tm_calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->spans = spans;
    job->chunk = chunk;
    job->slow_thread = slow_thread;
    for (int i = 0; i < MAX_UNITS; i++)
        atomic_init(&job->taken[i], 0);
    return job;
}

/* A pool and spans of n_threads; false (and nothing left allocated) if either failed. */
static bool open_pool(int n_threads, tm_pool **pool, tm_spans **spans)
{
    tm_err err = {0};
    *pool = NULL;
    *spans = NULL;
    TM_CHECK_OK(tm_pool_create(n_threads, pool, &err), &err);
    TM_CHECK_OK(tm_spans_create(n_threads, spans, &err), &err);
    if (*pool && *spans)
        return true;
    tm_spans_free(*spans);
    tm_pool_free(*pool);
    return false;
}

/* every unit exactly once, whatever the threads, units and chunk */
static void test_every_unit_once(void)
{
    for (int n_threads = 1; n_threads <= 4; n_threads++) {
        tm_pool *pool;
        tm_spans *spans;
        if (!open_pool(n_threads, &pool, &spans))
            return;
        for (int round = 0; round < 300; round++) {
            uint32_t n_units = (uint32_t)(round * 37 % MAX_UNITS);
            uint32_t chunk = 1 + (uint32_t)(round % 9);
            claim_job *job = new_job(spans, chunk, -1);
            TM_CHECK(job != NULL);
            if (!job)
                break;
            tm_spans_reset(spans, n_threads, n_units);
            tm_pool_run(pool, claim_task, job);
            int wrong = 0;
            for (uint32_t u = 0; u < MAX_UNITS; u++)
                wrong += atomic_load(&job->taken[u]) != (u < n_units);
            int total = 0;
            for (int t = 0; t < n_threads; t++)
                total += atomic_load(&job->by_thread[t]);
            TM_CHECK_MSG(wrong == 0 && total == (int)n_units && atomic_load(&job->too_big) == 0,
                         "%d threads, %u units, chunk %u: %d units taken other than once, %d in "
                         "all, %d takes too big",
                         n_threads, n_units, chunk, wrong, total, atomic_load(&job->too_big));
            tm_free(job);
            if (wrong)
                break;
        }
        tm_spans_free(spans);
        tm_pool_free(pool);
    }
}

/* one thread alone takes its band front to back, a chunk at a time */
static void test_one_thread_in_order(void)
{
    tm_err err = {0};
    tm_spans *spans = NULL;
    TM_CHECK_OK(tm_spans_create(3, &spans, &err), &err);
    if (!spans)
        return;
    tm_spans_reset(spans, 1, 10);
    uint32_t u0, u1, want = 0;
    while (tm_spans_next(spans, 0, 4, &u0, &u1)) {
        TM_CHECK_EQ_INT(u0, want);
        TM_CHECK_EQ_INT(u1, want + 4 > 10 ? 10 : want + 4);
        want = u1;
    }
    TM_CHECK_EQ_INT(want, 10);
    /* a reset serves again; no units: nothing */
    tm_spans_reset(spans, 1, 0);
    TM_CHECK(!tm_spans_next(spans, 0, 4, &u0, &u1));
    tm_spans_free(spans);
}

/* a thread that takes nothing until the others have run out: they must have taken its band */
static void test_a_stalled_thread_is_helped(void)
{
    for (int n_threads = 2; n_threads <= 4; n_threads++) {
        tm_pool *pool;
        tm_spans *spans;
        if (!open_pool(n_threads, &pool, &spans))
            return;
        claim_job *job = new_job(spans, 3, 0);
        if (!job) {
            TM_CHECK(false);
            tm_spans_free(spans);
            tm_pool_free(pool);
            return;
        }
        tm_spans_reset(spans, n_threads, 4000);
        tm_pool_run(pool, claim_task, job);
        int missing = 0;
        for (uint32_t u = 0; u < 4000; u++)
            missing += atomic_load(&job->taken[u]) != 1;
        TM_CHECK_EQ_INT(missing, 0);
        /* thread 0 waited for the others to find nothing: it got nothing */
        TM_CHECK_EQ_INT(atomic_load(&job->by_thread[0]), 0);
        tm_free(job);
        tm_spans_free(spans);
        tm_pool_free(pool);
    }
}

static void test_limits_and_allocation_failure(void)
{
    tm_err err = {0};
    tm_spans *spans = NULL;
    TM_CHECK_STATUS(tm_spans_create(0, &spans, &err), TM_E_ARG, &err);
    TM_CHECK_STATUS(tm_spans_create(100000, &spans, &err), TM_E_ARG, &err);
    TM_CHECK(tm_spans_bytes(4) >= 4 * 64);
    for (long n = 0; n < 4; n++) {
        tm_alloc_fail_after(n);
        tm_status st = tm_spans_create(4, &spans, &err);
        tm_alloc_fail_after(-1);
        if (st == TM_OK) {
            tm_spans_free(spans);
            break;
        }
        TM_CHECK_EQ_INT(st, TM_E_NOMEM);
    }
    tm_spans_free(NULL);
}

int main(void)
{
    TM_RUN(test_every_unit_once);
    TM_RUN(test_one_thread_in_order);
    TM_RUN(test_a_stalled_thread_is_helped);
    TM_RUN(test_limits_and_allocation_failure);
    return tm_test_result();
}
