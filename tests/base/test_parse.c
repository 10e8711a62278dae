#include "test.h"

static void test_integers_must_be_whole_strings(void)
{
    int64_t v = 0;
    TM_CHECK(tm_parse_i64("42", &v) && v == 42);
    TM_CHECK(tm_parse_i64("-7", &v) && v == -7);
    TM_CHECK(!tm_parse_i64("", &v));
    TM_CHECK(!tm_parse_i64("12x", &v));
    TM_CHECK(!tm_parse_i64("99999999999999999999999", &v));
    TM_CHECK(!tm_parse_i64(NULL, &v));
    uint64_t u = 0;
    TM_CHECK(tm_parse_u64("18446744073709551615", &u) && u == UINT64_MAX);
    TM_CHECK(!tm_parse_u64("-1", &u));
}

static void test_floats(void)
{
    double d = 0;
    TM_CHECK(tm_parse_f64("0.5", &d) && d == 0.5);
    TM_CHECK(tm_parse_f64("1e-3", &d) && d == 1e-3);
    TM_CHECK(!tm_parse_f64("nan", &d));
    TM_CHECK(!tm_parse_f64("inf", &d));
    TM_CHECK(!tm_parse_f64("0.5.", &d));
}

static void test_hex_digits(void)
{
    TM_CHECK(tm_hex_digit('0') == 0 && tm_hex_digit('9') == 9);
    TM_CHECK(tm_hex_digit('a') == 10 && tm_hex_digit('F') == 15);
    TM_CHECK(tm_hex_digit('g') == -1 && tm_hex_digit('-') == -1 && tm_hex_digit(' ') == -1);
    TM_CHECK(tm_hex_digit('\0') == -1 && tm_hex_digit((char)0xC0) == -1);
}

int main(void)
{
    TM_RUN(test_integers_must_be_whole_strings);
    TM_RUN(test_floats);
    TM_RUN(test_hex_digits);
    return tm_test_result();
}
