#include "test.h"

#include <stdint.h>

static void test_fail_after_n_fails_that_call_and_later_ones(void)
{
    tm_alloc_fail_after(2);
    void *a = tm_malloc(8), *b = tm_malloc(8), *c = tm_malloc(8), *d = tm_calloc(1, 8);
    tm_alloc_fail_after(-1);
    TM_CHECK(a != NULL);
    TM_CHECK(b != NULL);
    TM_CHECK(c == NULL);
    TM_CHECK(d == NULL);
    tm_free(a);
    tm_free(b);
    void *e = tm_malloc(8);
    TM_CHECK(e != NULL);
    tm_free(e);
}

static void test_aligned_alloc_is_aligned(void)
{
    for (size_t align = 8; align <= 4096; align *= 2) {
        void *p = tm_aligned_alloc(align, 100);
        TM_CHECK(p != NULL);
        TM_CHECK(((uintptr_t)p & (align - 1)) == 0);
        memset(p, 1, 100);
        tm_aligned_free(p);
    }
    TM_CHECK(tm_aligned_alloc(3, 10) == NULL);
    TM_CHECK(tm_aligned_alloc(64, SIZE_MAX - 10) == NULL);
    tm_aligned_free(NULL);
}

static void test_strdup(void)
{
    char *s = tm_strndup("hello world", 5);
    TM_CHECK_EQ_STR(s, "hello");
    tm_free(s);
}

static void test_overflow_helpers(void)
{
    uint64_t r = 0;
    TM_CHECK(tm_add_u64(1, 2, &r) && r == 3);
    TM_CHECK(!tm_add_u64(UINT64_MAX, 1, &r));
    TM_CHECK(tm_mul_u64(1ull << 31, 1ull << 31, &r) && r == 1ull << 62);
    TM_CHECK(!tm_mul_u64(1ull << 32, 1ull << 32, &r));
    TM_CHECK(tm_mul_u64(0, UINT64_MAX, &r) && r == 0);
    TM_CHECK_EQ_INT(tm_align_up_u64(33, 32), 64);
    TM_CHECK_EQ_INT(tm_align_up_u64(64, 32), 64);
}

int main(void)
{
    TM_RUN(test_fail_after_n_fails_that_call_and_later_ones);
    TM_RUN(test_aligned_alloc_is_aligned);
    TM_RUN(test_strdup);
    TM_RUN(test_overflow_helpers);
    return tm_test_result();
}
