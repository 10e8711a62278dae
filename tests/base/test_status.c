#include "test.h"

static tm_status inner(tm_err *err)
{
    return tm_fail(err, TM_E_FORMAT, "tensor '%s' ends at byte %d", "w", 42);
}

static void test_fail_fills_message_and_context_prefixes_it(void)
{
    tm_err err = {0};
    TM_CHECK_EQ_INT(inner(&err), TM_E_FORMAT);
    TM_CHECK_EQ_INT(err.status, TM_E_FORMAT);
    TM_CHECK_EQ_STR(err.msg, "tensor 'w' ends at byte 42");
    tm_err_context(&err, "loading '%s'", "x.gguf");
    TM_CHECK_EQ_STR(err.msg, "loading 'x.gguf': tensor 'w' ends at byte 42");
}

static void test_null_err_is_allowed(void)
{
    TM_CHECK_EQ_INT(inner(NULL), TM_E_FORMAT);
    tm_err_context(NULL, "nothing");
}

static void test_long_messages_are_truncated_not_overflowed(void)
{
    tm_err err = {0};
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tm_fail(&err, TM_E_ARG, "%s", big);
    TM_CHECK_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
    tm_err_context(&err, "%s", big);
    TM_CHECK_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
}

static void test_status_strings(void)
{
    TM_CHECK_EQ_STR(tm_status_str(TM_OK), "ok");
    TM_CHECK_EQ_STR(tm_status_str(TM_E_NOMEM), "out of memory");
    TM_CHECK_EQ_STR(tm_status_str((tm_status)999), "unknown status");
    TM_CHECK_EQ_INT(tm_version_num(), TM_VERSION_NUM);
}

int main(void)
{
    TM_RUN(test_fail_fills_message_and_context_prefixes_it);
    TM_RUN(test_null_err_is_allowed);
    TM_RUN(test_long_messages_are_truncated_not_overflowed);
    TM_RUN(test_status_strings);
    return tm_test_result();
}
