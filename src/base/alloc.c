/* Allocation with failure injection: tests call tm_alloc_fail_after(n) so that the n-th
 * allocation fails, then check that every loader returns TM_E_NOMEM and leaks nothing.
 * The counter is the one piece of process-wide mutable state in the library; it exists only
 * for tests and costs one atomic add per allocation. */
#include "base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long g_alloc_count;        /* allocations since the last tm_alloc_fail_after */
static atomic_long g_alloc_fail_at = -1; /* the count that starts failing; -1: never */

long tm_alloc_fail_after(long n)
{
    long count = atomic_exchange(&g_alloc_count, 0);
    atomic_store(&g_alloc_fail_at, n < 0 ? -1 : n);
    return count;
}

static bool should_fail(void)
{
    long at = atomic_load_explicit(&g_alloc_fail_at, memory_order_relaxed);
    long count = atomic_fetch_add_explicit(&g_alloc_count, 1, memory_order_relaxed);
    return at >= 0 && count >= at;
}

void *tm_malloc(size_t n_bytes)
{
    if (should_fail())
        return NULL;
    return malloc(n_bytes ? n_bytes : 1);
}

void *tm_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *tm_realloc(void *p, size_t n_bytes)
{
    if (should_fail())
        return NULL;
    return realloc(p, n_bytes ? n_bytes : 1);
}

void tm_free(void *p)
{
    free(p);
}

/* The block is over-allocated by align bytes; the original pointer is kept just before the
 * aligned address, so no platform aligned allocator (they differ) is needed. */
void *tm_aligned_alloc(size_t align, size_t n_bytes)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return NULL;
    if (n_bytes > SIZE_MAX - align - sizeof(void *))
        return NULL;
    void *raw = tm_malloc(n_bytes + align + sizeof(void *));
    if (!raw)
        return NULL;
    uintptr_t start = (uintptr_t)raw + sizeof(void *);
    uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

void tm_aligned_free(void *p)
{
    if (p)
        free(((void **)p)[-1]);
}

char *tm_strndup(const char *s, size_t n)
{
    char *d = tm_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tm_strdup(const char *s)
{
    return tm_strndup(s, strlen(s));
}
