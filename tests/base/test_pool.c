#include "test.h"

#include <stdatomic.h>

typedef struct sum_job {
    const int64_t *values;
    int64_t n;
    int64_t partial[64];
    atomic_int calls;
} sum_job;

static void sum_task(void *arg, int ith, int nth)
{
    sum_job *job = arg;
    int64_t per = (job->n + nth - 1) / nth;
    int64_t r0 = ith * per, r1 = TM_MIN(r0 + per, job->n);
    int64_t s = 0;
    for (int64_t i = r0; i < r1; i++)
        s += job->values[i];
    job->partial[ith] = s;
    atomic_fetch_add(&job->calls, 1);
}

static void test_every_thread_runs_its_band_every_time(void)
{
    tm_err err = {0};
    for (int n_threads = 1; n_threads <= 4; n_threads++) {
        tm_pool *pool = NULL;
        TM_CHECK_OK(tm_pool_create(n_threads, &pool, &err), &err);
        if (!pool)
            return;
        TM_CHECK_EQ_INT(tm_pool_size(pool), n_threads);
        int64_t values[1000];
        for (int i = 0; i < 1000; i++)
            values[i] = i;
        for (int round = 0; round < 2000; round++) {
            sum_job job = {.values = values, .n = 1000 - round % 7};
            atomic_init(&job.calls, 0);
            tm_pool_run(pool, sum_task, &job);
            int64_t total = 0;
            for (int t = 0; t < n_threads; t++)
                total += job.partial[t];
            int64_t n = job.n;
            if (total != n * (n - 1) / 2 || atomic_load(&job.calls) != n_threads) {
                TM_CHECK_EQ_INT(total, n * (n - 1) / 2);
                TM_CHECK_EQ_INT(atomic_load(&job.calls), n_threads);
                break;
            }
        }
        tm_pool_free(pool);
    }
}

static void test_default_size_and_limits(void)
{
    tm_err err = {0};
    tm_pool *pool = NULL;
    TM_CHECK_OK(tm_pool_create(0, &pool, &err), &err);
    TM_CHECK(pool && tm_pool_size(pool) >= 1);
    tm_pool_free(pool);
    TM_CHECK_STATUS(tm_pool_create(100000, &pool, &err), TM_E_ARG, &err);
    tm_pool_free(NULL);
}

static void test_allocation_failure_leaks_nothing(void)
{
    tm_err err = {0};
    for (long n = 0; n < 8; n++) {
        tm_pool *pool = NULL;
        tm_alloc_fail_after(n);
        tm_status st = tm_pool_create(3, &pool, &err);
        tm_alloc_fail_after(-1);
        if (st == TM_OK) {
            tm_pool_free(pool);
            break;
        }
        TM_CHECK_EQ_INT(st, TM_E_NOMEM);
    }
}

int main(void)
{
    TM_RUN(test_every_thread_runs_its_band_every_time);
    TM_RUN(test_default_size_and_limits);
    TM_RUN(test_allocation_failure_leaks_nothing);
    return tm_test_result();
}
