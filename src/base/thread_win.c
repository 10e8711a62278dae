/* Threads, mutexes and condition variables on Windows (SRW locks, condition variables). */
#include "base.h"

#include <process.h>
#include <windows.h>

struct tm_thread {
    HANDLE handle;
    void (*fn)(void *arg);
    void *arg;
};

struct tm_mutex {
    SRWLOCK lock;
};

struct tm_cond {
    CONDITION_VARIABLE cv;
};

static unsigned __stdcall thread_main(void *p)
{
    tm_thread *t = p;
    t->fn(t->arg);
    return 0;
}

tm_status tm_thread_create(tm_thread **out, void (*fn)(void *arg), void *arg, tm_err *err)
{
    tm_thread *t = tm_calloc(1, sizeof *t);
    if (!t)
        return tm_fail(err, TM_E_NOMEM, "thread");
    t->fn = fn;
    t->arg = arg;
    t->handle = (HANDLE)_beginthreadex(NULL, 0, thread_main, t, 0, NULL);
    if (!t->handle) {
        tm_free(t);
        return tm_fail(err, TM_E_INTERNAL, "cannot start a thread");
    }
    *out = t;
    return TM_OK;
}

void tm_thread_join(tm_thread *t)
{
    if (!t)
        return;
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    tm_free(t);
}

tm_status tm_mutex_create(tm_mutex **out, tm_err *err)
{
    tm_mutex *m = tm_calloc(1, sizeof *m);
    if (!m)
        return tm_fail(err, TM_E_NOMEM, "mutex");
    InitializeSRWLock(&m->lock);
    *out = m;
    return TM_OK;
}

void tm_mutex_free(tm_mutex *m)
{
    tm_free(m);
}

void tm_mutex_lock(tm_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

void tm_mutex_unlock(tm_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

tm_status tm_cond_create(tm_cond **out, tm_err *err)
{
    tm_cond *c = tm_calloc(1, sizeof *c);
    if (!c)
        return tm_fail(err, TM_E_NOMEM, "condition variable");
    InitializeConditionVariable(&c->cv);
    *out = c;
    return TM_OK;
}

void tm_cond_free(tm_cond *c)
{
    tm_free(c);
}

void tm_cond_wait(tm_cond *c, tm_mutex *m)
{
    SleepConditionVariableSRW(&c->cv, &m->lock, INFINITE, 0);
}

void tm_cond_broadcast(tm_cond *c)
{
    WakeAllConditionVariable(&c->cv);
}

void tm_cpu_relax(void)
{
    YieldProcessor();
}
