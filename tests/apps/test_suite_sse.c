/* The reader of streamed chat completions (src/apps/suite_sse.c): line endings, events split
 * anywhere across reads, usage, [DONE], errors in the stream, malformed chunks, caps, and a
 * stream cut off before its end. */
#include "apps/suite_sse.h"
#include "test.h"

static const char *const g_stream =
    ": a comment\n"
    "data: {\"choices\": [{\"index\": 0, \"delta\": {\"role\": \"assistant\"}}]}\n\n"
    "data: {\"choices\": [{\"delta\": {\"content\": \"[{\\\"title\\\": \"}}]}\n\n"
    "event: message\r\n"
    "data: {\"choices\": [{\"delta\": {\"content\": \"\\\"資料\\\"}]\"}}]}\r\n\r\n"
    "data: {\"choices\": [{\"delta\": {}, \"finish_reason\": \"stop\"}]}\r\r"
    "data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 57, \"completion_tokens\": 9}}\n\n"
    "data: [DONE]\n\n"
    "data: this is after the end and never read\n\n";

static tm_status feed_in_pieces(tm_sse_reader *r, const char *s, size_t piece, tm_err *err)
{
    size_t n = strlen(s);
    tm_status st = TM_OK;
    for (size_t at = 0; at < n && st == TM_OK; at += piece)
        st = tm_sse_feed(r, s + at, TM_MIN(piece, n - at), err);
    if (st == TM_OK)
        st = tm_sse_finish(r, err);
    return st;
}

static void test_stream_in_any_pieces(void)
{
    static const size_t pieces[] = {1, 2, 3, 7, 64, 100000};
    for (size_t i = 0; i < TM_ARRAY_LEN(pieces); i++) {
        tm_sse_reader r;
        tm_sse_init(&r);
        tm_err err = {0};
        TM_CHECK_OK(feed_in_pieces(&r, g_stream, pieces[i], &err), &err);
        TM_CHECK_EQ_STR(r.text.data, "[{\"title\": \"資料\"}]");
        TM_CHECK_EQ_INT(r.n_deltas, 2);
        TM_CHECK_EQ_INT(r.n_events, 6);
        TM_CHECK_EQ_INT(r.prompt_tokens, 57);
        TM_CHECK_EQ_INT(r.completion_tokens, 9);
        TM_CHECK(r.done && r.finished);
        TM_CHECK_EQ_STR(r.finish_reason, "stop");
        tm_sse_fini(&r);
    }
}

static tm_status run(const char *s, tm_sse_reader *r, tm_err *err)
{
    tm_sse_init(r);
    return feed_in_pieces(r, s, 5, err);
}

static void test_ends(void)
{
    tm_sse_reader r;
    tm_err err = {0};
    /* a finish_reason without [DONE], and a last event without its blank line: complete */
    TM_CHECK_OK(run("data: {\"choices\": [{\"delta\": {\"content\": \"ok\"}, \"finish_reason\": "
                    "\"length\"}]}",
                    &r, &err),
                &err);
    TM_CHECK_EQ_STR(r.text.data, "ok");
    TM_CHECK_EQ_INT(r.prompt_tokens, -1);
    tm_sse_fini(&r);
    /* cut off: neither */
    TM_CHECK_EQ_INT(run("data: {\"choices\": [{\"delta\": {\"content\": \"o\"}}]}\n\n", &r, &err),
                    TM_E_FORMAT);
    TM_CHECK(strstr(err.msg, "cut off") != NULL);
    tm_sse_fini(&r);
    /* not an event stream at all */
    TM_CHECK_EQ_INT(run("<html><body>hello</body></html>", &r, &err), TM_E_FORMAT);
    TM_CHECK(strstr(err.msg, "no server-sent events") != NULL);
    tm_sse_fini(&r);
    /* a reasoning delta counts as output, not as text */
    TM_CHECK_OK(run("data: {\"choices\": [{\"delta\": {\"reasoning_content\": \"hmm\"}}]}\n\n"
                    "data: [DONE]\n\n",
                    &r, &err),
                &err);
    TM_CHECK_EQ_INT(r.n_deltas, 1);
    TM_CHECK_EQ_INT(r.text.len, 0);
    tm_sse_fini(&r);
}

static void test_malformed(void)
{
    static const struct {
        const char *stream;
        tm_status st;
        const char *msg;
    } cases[] = {
        {"data: {\"choices\": [{\"delta\": {\"content\": \"x\"\n\n", TM_E_FORMAT, "not JSON"},
        {"data: [1, 2]\n\n", TM_E_FORMAT, "not a JSON object"},
        {"data: {\"choices\": 3}\n\n", TM_E_FORMAT, "'choices' is not a list"},
        {"data: {\"choices\": [{\"delta\": {\"content\": 5}}]}\n\n", TM_E_FORMAT,
         "delta.content is not a string"},
        {"data: {\"error\": {\"message\": \"model not loaded\"}}\n\n", TM_E_IO, "model not loaded"},
        {"data: {\"error\": \"overloaded\"}\n\n", TM_E_IO, "overloaded"},
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(cases); i++) {
        tm_sse_reader r;
        tm_err err = {0};
        tm_status st = run(cases[i].stream, &r, &err);
        TM_CHECK_MSG(st == cases[i].st && strstr(err.msg, cases[i].msg),
                     "case %zu: status %d, '%s'", i, (int)st, err.msg);
        tm_sse_fini(&r);
    }
}

static void test_caps(void)
{
    /* a line longer than an event may be: TM_E_LIMIT, however it arrives */
    size_t n = TM_SSE_MAX_EVENT_BYTES + 10;
    char *big = tm_malloc(n + 1);
    TM_CHECK(big != NULL);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'a', n - 6);
    big[n] = '\0';
    tm_sse_reader r;
    tm_err err = {0};
    TM_CHECK_EQ_INT(run(big, &r, &err), TM_E_LIMIT);
    tm_sse_fini(&r);
    tm_free(big);
}

static void test_error_message(void)
{
    char buf[128];
    const char *body = "{\"error\": {\"code\": 400, \"message\": \"the request exceeds the "
                       "available context size\", \"type\": \"exceed_context_size_error\"}}";
    tm_sse_error_message(body, strlen(body), buf, sizeof buf);
    TM_CHECK_EQ_STR(buf, "the request exceeds the available context size");
    tm_sse_error_message("Internal Server Error\n", 22, buf, sizeof buf);
    TM_CHECK_EQ_STR(buf, "Internal Server Error?");
    tm_sse_error_message("", 0, buf, sizeof buf);
    TM_CHECK_EQ_STR(buf, "");
}

int main(void)
{
    TM_RUN(test_stream_in_any_pieces);
    TM_RUN(test_ends);
    TM_RUN(test_malformed);
    TM_RUN(test_caps);
    TM_RUN(test_error_message);
    return tm_test_result();
}
