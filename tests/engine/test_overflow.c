/* Overflow policies (src/engine/overflow.c): names, and fitting a prompt to the context:
 * untouched when it fits, an error naming both numbers by default, and otherwise the kept
 * start plus the prompt's end, with room left for generation. */
#include "test.h"

#include "temoto.h"

static void iota(tm_token *t, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        t[i] = i;
}

static void test_names_round_trip(void)
{
    tm_overflow o = TM_OVERFLOW_ERROR;
    const char *names[] = {"error", "truncate-left", "shift"};
    for (int i = 0; i < 3; i++) {
        TM_CHECK(tm_overflow_parse(names[i], &o));
        TM_CHECK_EQ_INT(o, i);
        TM_CHECK_EQ_STR(tm_overflow_name(o), names[i]);
    }
    TM_CHECK(!tm_overflow_parse("truncate", &o));
    TM_CHECK(!tm_overflow_parse("", &o));
    TM_CHECK(!tm_overflow_parse("Shift", &o));
    TM_CHECK_EQ_STR(tm_overflow_name((tm_overflow)7), "?");
}

static void test_fitting_prompt_is_untouched(void)
{
    tm_token t[64];
    for (int o = 0; o < 3; o++) {
        iota(t, 64);
        int32_t n = 64, dropped = -1;
        tm_err err = {0};
        TM_CHECK_OK(tm_prompt_fit((tm_overflow)o, 64, 1, 16, t, &n, &dropped, &err), &err);
        TM_CHECK_EQ_INT(n, 64);
        TM_CHECK_EQ_INT(dropped, 0);
        TM_CHECK_EQ_INT(t[63], 63);
    }
}

static void test_error_names_both_numbers(void)
{
    tm_token t[100];
    iota(t, 100);
    int32_t n = 100, dropped = -1;
    tm_err err = {0};
    TM_CHECK_STATUS(tm_prompt_fit(TM_OVERFLOW_ERROR, 64, 1, 16, t, &n, &dropped, &err), TM_E_LIMIT,
                    &err);
    TM_CHECK_EQ_STR(err.msg, "the prompt has 100 tokens, the context holds 64");
    TM_CHECK_EQ_INT(n, 100); /* out-parameters untouched on failure */
    TM_CHECK_EQ_INT(dropped, -1);
    TM_CHECK_EQ_INT(t[1], 1);
}

static void test_truncate_keeps_start_and_end(void)
{
    tm_token t[100];
    iota(t, 100);
    int32_t n = 100, dropped = 0;
    tm_err err = {0};
    /* 64 positions, 16 reserved: 48 kept = token 0, then the last 47 (53 .. 99) */
    TM_CHECK_OK(tm_prompt_fit(TM_OVERFLOW_TRUNCATE_LEFT, 64, 1, 16, t, &n, &dropped, &err), &err);
    TM_CHECK_EQ_INT(n, 48);
    TM_CHECK_EQ_INT(dropped, 52);
    TM_CHECK_EQ_INT(t[0], 0);
    for (int32_t i = 1; i < n; i++)
        TM_CHECK_EQ_INT(t[i], 52 + i);
}

static void test_shift_fits_prompts_like_truncate(void)
{
    tm_token a[100], b[100];
    iota(a, 100);
    iota(b, 100);
    int32_t na = 100, nb = 100, da = 0, db = 0;
    tm_err err = {0};
    TM_CHECK_OK(tm_prompt_fit(TM_OVERFLOW_TRUNCATE_LEFT, 50, 3, 5, a, &na, &da, &err), &err);
    TM_CHECK_OK(tm_prompt_fit(TM_OVERFLOW_SHIFT, 50, 3, 5, b, &nb, &db, &err), &err);
    TM_CHECK_EQ_INT(na, 45);
    TM_CHECK_EQ_INT(nb, na);
    TM_CHECK_EQ_INT(db, da);
    TM_CHECK(memcmp(a, b, (size_t)na * sizeof *a) == 0);
    TM_CHECK_EQ_INT(a[2], 2);
    TM_CHECK_EQ_INT(a[3], 58);
}

static void test_reserve_is_at_most_half(void)
{
    tm_token t[100];
    iota(t, 100);
    int32_t n = 100, dropped = 0;
    tm_err err = {0};
    TM_CHECK_OK(tm_prompt_fit(TM_OVERFLOW_TRUNCATE_LEFT, 64, 0, 1000, t, &n, &dropped, &err), &err);
    TM_CHECK_EQ_INT(n, 32); /* no kept start: the last 32 */
    TM_CHECK_EQ_INT(t[0], 68);
    TM_CHECK_EQ_INT(t[31], 99);
}

static void test_bad_arguments(void)
{
    tm_token t[100];
    iota(t, 100);
    int32_t n = 100, dropped = 0;
    tm_err err = {0};
    /* a kept start that fills the budget */
    TM_CHECK_STATUS(tm_prompt_fit(TM_OVERFLOW_SHIFT, 64, 48, 16, t, &n, &dropped, &err), TM_E_LIMIT,
                    &err);
    TM_CHECK(strstr(err.msg, "first 48 tokens") != NULL);
    TM_CHECK_STATUS(tm_prompt_fit(TM_OVERFLOW_SHIFT, 0, 1, 16, t, &n, &dropped, &err), TM_E_ARG,
                    &err);
    TM_CHECK_STATUS(tm_prompt_fit(TM_OVERFLOW_SHIFT, 64, -1, 16, t, &n, &dropped, &err), TM_E_ARG,
                    &err);
    TM_CHECK_STATUS(tm_prompt_fit((tm_overflow)9, 64, 1, 16, t, &n, &dropped, &err), TM_E_ARG,
                    &err);
    TM_CHECK_EQ_INT(n, 100);
}

int main(void)
{
    TM_RUN(test_names_round_trip);
    TM_RUN(test_fitting_prompt_is_untouched);
    TM_RUN(test_error_names_both_numbers);
    TM_RUN(test_truncate_keeps_start_and_end);
    TM_RUN(test_shift_fits_prompts_like_truncate);
    TM_RUN(test_reserve_is_at_most_half);
    TM_RUN(test_bad_arguments);
    return tm_test_result();
}
