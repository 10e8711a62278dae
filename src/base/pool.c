/* The persistent worker pool. tm_pool_run publishes a task by bumping a generation counter;
 * workers spin on it for a short while (a decode step runs hundreds of small tasks per
 * token, and waking a sleeping thread costs more than most of them) and then sleep on a
 * condition variable. The caller is thread 0 and waits for the others by counting: it too
 * spins a while, then sleeps until the last worker wakes it. Without that sleep, a machine
 * with more runnable threads than cores loses a whole time slice whenever the caller spins
 * while the worker it waits for is not running (measured on the 2-core machine with both
 * cores busy elsewhere: 64-token prompts of a small model ran 9x slower on 2 threads than
 * on 1). */
#include "base.h"

#include <stdatomic.h>

#define SPIN_ROUNDS 20000 /* pause instructions before a worker sleeps: roughly a millisecond */
#define CALLER_SPIN 4000  /* before the caller sleeps: a fifth of that */

typedef struct worker {
    struct tm_pool *pool;
    int ith;
    tm_thread *thread;
} worker;

struct tm_pool {
    int n_threads;
    worker *workers; /* [n_threads]; workers[0] is the caller and has no thread */
    tm_task_fn fn;   /* the current task: written before generation is bumped */
    void *arg;
    atomic_uint generation; /* bumped once per task */
    atomic_int n_done;      /* workers (not the caller) finished with the current task */
    atomic_bool stop;
    atomic_bool caller_asleep; /* the caller sleeps on done until n_done is complete */
    tm_mutex *mutex;           /* guards sleeping on wake and done; the counters are atomic */
    tm_cond *wake;
    tm_cond *done;
};

static void worker_main(void *p)
{
    worker *w = p;
    tm_pool *pool = w->pool;
    unsigned seen = 0; /* the generation at creation: the thread may start after a first run */
    for (;;) {
        unsigned gen = seen;
        for (int i = 0; i < SPIN_ROUNDS; i++) {
            gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
            if (gen != seen || atomic_load_explicit(&pool->stop, memory_order_relaxed))
                break;
            tm_cpu_relax();
        }
        if (gen == seen && !atomic_load(&pool->stop)) {
            tm_mutex_lock(pool->mutex);
            while ((gen = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
                tm_cond_wait(pool->wake, pool->mutex);
            tm_mutex_unlock(pool->mutex);
        }
        if (atomic_load(&pool->stop))
            return;
        seen = gen;
        pool->fn(pool->arg, w->ith, pool->n_threads);
        /* The last worker looks at caller_asleep under the mutex, which the caller holds from
         * setting it to its wait: either the caller then sees n_done complete, or this sees it
         * asleep. (A lock-free look, ordered against the caller's only by sequential
         * consistency, was seen to lose the wakeup under QEMU, arm64 on an x86 host: each side
         * missed the other's write, which sequential consistency forbids, and the caller
         * slept forever.) */
        int done = atomic_fetch_add(&pool->n_done, 1) + 1;
        if (done == pool->n_threads - 1) {
            tm_mutex_lock(pool->mutex);
            if (atomic_load(&pool->caller_asleep))
                tm_cond_broadcast(pool->done);
            tm_mutex_unlock(pool->mutex);
        }
    }
}

int tm_pool_threads_for(int n_threads)
{
    if (n_threads > 0)
        return n_threads;
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    return cpu.n_logical > 0 ? cpu.n_logical : 1;
}

void tm_pool_free(tm_pool *pool)
{
    if (!pool)
        return;
    if (pool->mutex && pool->wake) {
        tm_mutex_lock(pool->mutex);
        atomic_store(&pool->stop, true);
        tm_cond_broadcast(pool->wake);
        tm_mutex_unlock(pool->mutex);
    }
    if (pool->workers)
        for (int i = 1; i < pool->n_threads; i++)
            tm_thread_join(pool->workers[i].thread);
    tm_free(pool->workers);
    tm_cond_free(pool->wake);
    tm_cond_free(pool->done);
    tm_mutex_free(pool->mutex);
    tm_free(pool);
}

tm_status tm_pool_create(int n_threads, tm_pool **out, tm_err *err)
{
    n_threads = tm_pool_threads_for(n_threads);
    if (n_threads > 1024)
        return tm_fail(err, TM_E_ARG, "%d threads requested, at most 1024 allowed", n_threads);
    tm_pool *pool = tm_calloc(1, sizeof *pool);
    if (!pool)
        return tm_fail(err, TM_E_NOMEM, "thread pool");
    pool->n_threads = 1; /* grows as threads start, so a failure frees only what started */
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->n_done, 0);
    atomic_init(&pool->stop, false);
    atomic_init(&pool->caller_asleep, false);
    tm_status st = tm_mutex_create(&pool->mutex, err);
    if (st == TM_OK)
        st = tm_cond_create(&pool->wake, err);
    if (st == TM_OK)
        st = tm_cond_create(&pool->done, err);
    if (st == TM_OK) {
        pool->workers = tm_calloc((size_t)n_threads, sizeof *pool->workers);
        if (!pool->workers)
            st = tm_fail(err, TM_E_NOMEM, "thread pool of %d", n_threads);
    }
    for (int i = 1; st == TM_OK && i < n_threads; i++) {
        pool->workers[i].pool = pool;
        pool->workers[i].ith = i;
        st = tm_thread_create(&pool->workers[i].thread, worker_main, &pool->workers[i], err);
        if (st == TM_OK)
            pool->n_threads = i + 1;
    }
    if (st != TM_OK) {
        tm_pool_free(pool);
        return st;
    }
    *out = pool;
    return TM_OK;
}

int tm_pool_size(const tm_pool *pool)
{
    return pool->n_threads;
}

void tm_pool_run(tm_pool *pool, tm_task_fn fn, void *arg)
{
    if (pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->n_done, 0, memory_order_relaxed);
    tm_mutex_lock(pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    tm_cond_broadcast(pool->wake);
    tm_mutex_unlock(pool->mutex);
    fn(arg, 0, pool->n_threads);
    int want = pool->n_threads - 1;
    for (int i = 0; i < CALLER_SPIN; i++) {
        if (atomic_load_explicit(&pool->n_done, memory_order_acquire) == want)
            return;
        tm_cpu_relax();
    }
    tm_mutex_lock(pool->mutex);
    atomic_store(&pool->caller_asleep, true);
    while (atomic_load(&pool->n_done) != want)
        tm_cond_wait(pool->done, pool->mutex);
    atomic_store(&pool->caller_asleep, false);
    tm_mutex_unlock(pool->mutex);
}

typedef struct range_job {
    tm_range_fn fn;
    void *ctx;
    int64_t n;
} range_job;

static void range_task(void *arg, int ith, int nth)
{
    const range_job *job = arg;
    int64_t per = (job->n + nth - 1) / nth, i0 = ith * per, i1 = i0 + per;
    if (i1 > job->n)
        i1 = job->n;
    if (i0 < i1)
        job->fn(job->ctx, i0, i1);
}

void tm_pool_for(tm_pool *pool, int64_t n, int64_t min_n, tm_range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (n < min_n || pool->n_threads == 1) {
        fn(ctx, 0, n);
        return;
    }
    range_job job = {fn, ctx, n};
    tm_pool_run(pool, range_task, &job);
}
