#include "test.h"

static void test_append_and_printf(void)
{
    tm_err err = {0};
    tm_buf b;
    tm_buf_init(&b, 1000);
    TM_CHECK_OK(tm_buf_append(&b, "ab", 2, &err), &err);
    TM_CHECK_OK(tm_buf_printf(&b, &err, "-%d-", 42), &err);
    TM_CHECK_EQ_STR(b.data, "ab-42-");
    TM_CHECK_EQ_INT(b.len, 6);
    tm_buf_fini(&b);
}

static void test_cap_is_a_limit_not_growth(void)
{
    tm_err err = {0};
    tm_buf b;
    tm_buf_init(&b, 10);
    TM_CHECK_OK(tm_buf_append(&b, "0123456789", 10, &err), &err);
    TM_CHECK_STATUS(tm_buf_append(&b, "x", 1, &err), TM_E_LIMIT, &err);
    TM_CHECK_EQ_INT(b.len, 10);
    TM_CHECK_STATUS(tm_buf_printf(&b, &err, "%s", "y"), TM_E_LIMIT, &err);
    tm_buf_fini(&b);
}

static void test_out_of_memory_is_reported(void)
{
    tm_err err = {0};
    tm_buf b;
    tm_buf_init(&b, 1000);
    tm_alloc_fail_after(0);
    tm_status st = tm_buf_append(&b, "abc", 3, &err);
    tm_alloc_fail_after(-1);
    TM_CHECK_EQ_INT(st, TM_E_NOMEM);
    TM_CHECK(b.data == NULL);
    tm_buf_fini(&b);
}

int main(void)
{
    TM_RUN(test_append_and_printf);
    TM_RUN(test_cap_is_a_limit_not_growth);
    TM_RUN(test_out_of_memory_is_reported);
    return tm_test_result();
}
