/* Threads, mutexes and condition variables on POSIX (pthreads). */
#define _GNU_SOURCE /* clock_gettime, madvise, sched_getaffinity under -std=c11 */
#include "base.h"

#include <pthread.h>
#include <string.h>

struct tm_thread {
    pthread_t handle;
    void (*fn)(void *arg);
    void *arg;
};

struct tm_mutex {
    pthread_mutex_t m;
};

struct tm_cond {
    pthread_cond_t c;
};

static void *thread_main(void *p)
{
    tm_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

tm_status tm_thread_create(tm_thread **out, void (*fn)(void *arg), void *arg, tm_err *err)
{
    tm_thread *t = tm_calloc(1, sizeof *t);
    if (!t)
        return tm_fail(err, TM_E_NOMEM, "thread");
    t->fn = fn;
    t->arg = arg;
    int rc = pthread_create(&t->handle, NULL, thread_main, t);
    if (rc != 0) {
        tm_free(t);
        return tm_fail(err, TM_E_INTERNAL, "cannot start a thread: %s", strerror(rc));
    }
    *out = t;
    return TM_OK;
}

void tm_thread_join(tm_thread *t)
{
    if (!t)
        return;
    pthread_join(t->handle, NULL);
    tm_free(t);
}

tm_status tm_mutex_create(tm_mutex **out, tm_err *err)
{
    tm_mutex *m = tm_calloc(1, sizeof *m);
    if (!m)
        return tm_fail(err, TM_E_NOMEM, "mutex");
    pthread_mutex_init(&m->m, NULL);
    *out = m;
    return TM_OK;
}

void tm_mutex_free(tm_mutex *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->m);
    tm_free(m);
}

void tm_mutex_lock(tm_mutex *m)
{
    pthread_mutex_lock(&m->m);
}

void tm_mutex_unlock(tm_mutex *m)
{
    pthread_mutex_unlock(&m->m);
}

tm_status tm_cond_create(tm_cond **out, tm_err *err)
{
    tm_cond *c = tm_calloc(1, sizeof *c);
    if (!c)
        return tm_fail(err, TM_E_NOMEM, "condition variable");
    pthread_cond_init(&c->c, NULL);
    *out = c;
    return TM_OK;
}

void tm_cond_free(tm_cond *c)
{
    if (!c)
        return;
    pthread_cond_destroy(&c->c);
    tm_free(c);
}

void tm_cond_wait(tm_cond *c, tm_mutex *m)
{
    pthread_cond_wait(&c->c, &m->m);
}

void tm_cond_broadcast(tm_cond *c)
{
    pthread_cond_broadcast(&c->c);
}

void tm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
