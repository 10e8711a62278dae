/* The persistent worker pool. tm_pool_run publishes a task by bumping a generation counter;
 * workers spin on it for a short while (a decode step runs hundreds of small tasks per
 * token, and waking a sleeping thread costs more than most of them) and then sleep on a
 * condition variable. The caller is thread 0 and waits for the others by counting. */
#include "base.h"

#include <stdatomic.h>

#define SPIN_ROUNDS 20000 /* pause instructions before a worker sleeps: roughly a millisecond */

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
    tm_mutex *mutex; /* guards sleeping on wake; generation itself is atomic */
    tm_cond *wake;
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
        atomic_fetch_add_explicit(&pool->n_done, 1, memory_order_release);
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
    tm_status st = tm_mutex_create(&pool->mutex, err);
    if (st == TM_OK)
        st = tm_cond_create(&pool->wake, err);
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
    while (atomic_load_explicit(&pool->n_done, memory_order_acquire) != pool->n_threads - 1)
        tm_cpu_relax();
}
