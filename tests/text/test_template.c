/* Chat template interpreter: Python Jinja's meaning where JavaScript renderers differ (the
 * parity test against @huggingface/jinja covers the rest), whitespace control, errors that
 * name what is wrong, and limits that stop hostile templates. */
#include "test.h"
#include "text/text.h"

#include <string.h>

static const char g_ctx[] =
    "{\"messages\": [{\"role\": \"user\", \"content\": \" hi \"}], \"flag\": true, \"n\": null}";

/* Renders src with ctx; returns the text (static buffer) or NULL, with the error in err. */
static const char *render_ctx(const char *src, const char *ctx, tm_err *err)
{
    static char text[4096];
    tm_template *t = NULL;
    tm_buf out;
    tm_buf_init(&out, 1 << 20);
    const char *r = NULL;
    if (tm_template_parse(src, strlen(src), &t, err) == TM_OK &&
        tm_template_render(t, ctx, strlen(ctx), NULL, &out, err) == TM_OK) {
        size_t n = out.len < sizeof text - 1 ? out.len : sizeof text - 1;
        memcpy(text, out.data ? out.data : "", n);
        text[n] = 0;
        r = text;
    }
    tm_template_free(t);
    tm_buf_fini(&out);
    return r;
}

static void check(const char *src, const char *want)
{
    tm_err err = {0};
    const char *got = render_ctx(src, g_ctx, &err);
    TM_CHECK_MSG(got != NULL, "%s: %s", src, err.msg);
    if (got)
        TM_CHECK_MSG(strcmp(got, want) == 0, "%s: got [%s], want [%s]", src, got, want);
}

static void check_error(const char *src, const char *fragment)
{
    tm_err err = {0};
    const char *got = render_ctx(src, g_ctx, &err);
    TM_CHECK_MSG(got == NULL, "%s: rendered [%s], want an error", src, got ? got : "");
    TM_CHECK_MSG(strstr(err.msg, fragment) != NULL, "%s: error [%s] lacks [%s]", src, err.msg,
                 fragment);
}

static void test_python_semantics(void)
{
    check("{{ true }} {{ false }} {{ none }} {{ n }} {{ flag }}", "True False None None True");
    check("{{ 1.0 }} {{ 0.1 }} {{ 10 / 4 }} {{ 1e20 }} {{ 3 // 2 }}", "1.0 0.1 2.5 1e+20 1");
    check("{{ -7 % 3 }} {{ 7 % -3 }} {{ -7 // 2 }}", "2 -2 -4");
    check("{{ 'hELLO wORLD'|capitalize }}|{{ 'xxabcxx'.strip('x') }}|{{ 'x' * 3 }}",
          "Hello world|abc|xxx");
    check("{{ [1, 'a', none, true] }} {{ {'k': 'v'} }}", "[1, 'a', None, True] {'k': 'v'}");
    check("{{ 9 is divisibleby 3 }} {{ {'a': 1} is iterable }} {{ 'ab' ~ none }}",
          "True True abNone");
    /* str.strip() strips Unicode whitespace: U+3000 (ideographic space) too */
    check("[{{ '\xe3\x80\x80 \xe6\x97\xa5 \xe3\x80\x80'|trim }}]", "[\xe6\x97\xa5]");
    check("{{ '\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e'|length }} {{ '\xe6\x97\xa5\xe6\x9c\xac'[1] }}",
          "3 \xe6\x9c\xac");
    check("{{ {'b': 1, 'a': [1, 2]}|tojson }}|{{ 'x\"\\n\xe6\x97\xa5'|tojson }}",
          "{\"b\": 1, \"a\": [1, 2]}|\"x\\\"\\n\xe6\x97\xa5\"");
    check("{{ {'b': 1, 'a': {}}|tojson(indent=2) }}", "{\n  \"b\": 1,\n  \"a\": {}\n}");
}

static void test_whitespace(void)
{
    /* trim_blocks and lstrip_blocks as Hugging Face sets them, one trailing newline dropped */
    check("a\n  {% if true %}\n  b\n  {% endif %}\nc\n", "a\n  b\nc");
    check("a  {{- ' b ' -}}  c", "a b c");
    check("{# comment #}\nx", "x");
    check("x {%- if true -%} \n y {%- endif %}", "xy");
    check("{% for m in messages %}\n{{ m.role }}\n{% endfor %}", "user\n");
}

static void test_scoping(void)
{
    check("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1");
    check("{% set ns = namespace(x=1) %}{% for i in [1] %}{% set ns.x = 2 %}{% endfor %}{{ ns.x }}",
          "2");
    check("{% macro m(a, b=2) %}{{ a }}{{ b }}{{ flag }}{% endmacro %}{{ m(1) }}{{ m(3, b=4) }}",
          "12True34True");
    check("{% set s %}in{{ 1 }}{% endset %}[{{ s }}]", "[in1]");
}

static void test_errors(void)
{
    check_error("{{ raise_exception('roles must alternate') }}", "roles must alternate");
    check_error("{{ x | nosuchfilter }}", "unknown filter 'nosuchfilter'");
    check_error("{% if x is nosuchtest %}{% endif %}", "unknown test 'nosuchtest'");
    check_error("{% include 'other.jinja' %}", "unsupported or misplaced statement 'include'");
    check_error("{% if true %}never closed", "missing {% endif %}");
    check_error("{{ 1 + }}", "line 1: expected a value");
    check_error("line one\n{{ 'a' + 1 }}", "line 2: unsupported operand types for '+'");
    check_error("{% set x.y = 1 %}", "not a namespace");
    check_error("{{ 'unterminated }}", "unterminated string");
    check_error("{{ messages.nope() }}", "not callable");
}

static void test_limits(void)
{
    check_error("{% for i in range(100000000) %}{% endfor %}", "range() of over 1M items");
    /* work grows until a limit stops it: steps, or the render's memory */
    tm_err err = {0};
    TM_CHECK(render_ctx("{% for i in range(1000000) %}{% for j in range(1000) %}{% endfor %}"
                        "{% endfor %}",
                        g_ctx, &err) == NULL);
    TM_CHECK_MSG(err.status == TM_E_LIMIT, "%s", err.msg);
    check_error("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "macros nested deeper");
    char deep[2200];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{{ ");
    for (int i = 0; i < 1000; i++)
        deep[n++] = '(';
    deep[n++] = '1';
    for (int i = 0; i < 1000; i++)
        deep[n++] = ')';
    n += (size_t)snprintf(deep + n, sizeof deep - n, " }}");
    check_error(deep, "nested too deeply");
    TM_CHECK(render_ctx("{{ x }}", "[1, 2]", &err) == NULL);
    TM_CHECK(strstr(err.msg, "not a JSON object") != NULL);
    TM_CHECK(render_ctx("{{ x }}", "{\"x\": [1, }", &err) == NULL);
    TM_CHECK(strstr(err.msg, "JSON") != NULL);
}

int main(void)
{
    TM_RUN(test_python_semantics);
    TM_RUN(test_whitespace);
    TM_RUN(test_scoping);
    TM_RUN(test_errors);
    TM_RUN(test_limits);
    return tm_test_result();
}
