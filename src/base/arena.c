/* A bump allocator for data that lives and dies together (one template render, one parse):
 * no per-object frees, one tm_arena_fini. A byte budget bounds what hostile input can make
 * it hold. */
#include "base.h"

#include <string.h>

struct tm_arena_chunk {
    struct tm_arena_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

void tm_arena_init(tm_arena *a, size_t max_bytes)
{
    a->head = NULL;
    a->total_bytes = 0;
    a->max_bytes = max_bytes;
}

void tm_arena_fini(tm_arena *a)
{
    for (tm_arena_chunk *c = a->head; c;) {
        tm_arena_chunk *next = c->next;
        tm_free(c);
        c = next;
    }
    a->head = NULL;
    a->total_bytes = 0;
}

void *tm_arena_alloc(tm_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    tm_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 64 * 1024 ? n : 64 * 1024;
        if (a->total_bytes + cap > a->max_bytes || cap > SIZE_MAX - sizeof *c)
            return NULL;
        c = tm_malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
        a->total_bytes += cap;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}
