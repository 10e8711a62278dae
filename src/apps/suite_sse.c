/* Streamed chat completions (see suite_sse.h). Bytes are split into lines as they come; a
 * blank line hands the event's data to jansson. The reply's text only grows by whole
 * chunks, so a cap hit mid-chunk leaves it as it was before that chunk. */
#include "suite_sse.h"

#include <string.h>

#if TM_HAVE_JANSSON
#include <jansson.h>
#endif

void tm_sse_init(tm_sse_reader *r)
{
    memset(r, 0, sizeof *r);
    tm_buf_init(&r->line, TM_SSE_MAX_EVENT_BYTES);
    tm_buf_init(&r->data, TM_SSE_MAX_EVENT_BYTES);
    tm_buf_init(&r->text, TM_SSE_MAX_TEXT_BYTES);
    r->prompt_tokens = r->completion_tokens = -1;
}

void tm_sse_fini(tm_sse_reader *r)
{
    tm_buf_fini(&r->line);
    tm_buf_fini(&r->data);
    tm_buf_fini(&r->text);
}

/* Printable ASCII of at most 80 bytes of s, for messages. */
static void printable(const char *s, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap && k < 80; i++)
        buf[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[k] = '\0';
}

#if TM_HAVE_JANSSON

static int64_t usage_count(const json_t *usage, const char *key)
{
    const json_t *v = json_object_get(usage, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

static tm_status chunk(tm_sse_reader *r, const char *data, size_t n, tm_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(data, n, 0, &je);
    char pv[96];
    if (!j) {
        printable(data, n, pv, sizeof pv);
        return tm_fail(err, TM_E_FORMAT, "event %lld is not JSON (%s): '%s'",
                       (long long)r->n_events, je.text, pv);
    }
    tm_status st = TM_OK;
    const json_t *e = json_object_get(j, "error");
    if (!json_is_object(j)) {
        st = tm_fail(err, TM_E_FORMAT, "event %lld is not a JSON object", (long long)r->n_events);
    } else if (e) {
        const json_t *m = json_is_object(e) ? json_object_get(e, "message") : e;
        const char *s = json_is_string(m) ? json_string_value(m) : "(no message)";
        printable(s, strlen(s), pv, sizeof pv);
        st = tm_fail(err, TM_E_IO, "the server sent an error in the stream: %s", pv);
    }
    const json_t *choices = json_object_get(j, "choices");
    const json_t *c0 = json_is_array(choices) ? json_array_get(choices, 0) : NULL;
    if (st == TM_OK && choices && !json_is_array(choices))
        st = tm_fail(err, TM_E_FORMAT, "event %lld: 'choices' is not a list",
                     (long long)r->n_events);
    const json_t *delta = json_is_object(c0) ? json_object_get(c0, "delta") : NULL;
    const json_t *content = json_object_get(delta, "content");
    const json_t *reasoning = json_object_get(delta, "reasoning_content");
    if (st == TM_OK && content && !json_is_string(content) && !json_is_null(content))
        st = tm_fail(err, TM_E_FORMAT, "event %lld: delta.content is not a string",
                     (long long)r->n_events);
    bool counted = false;
    if (st == TM_OK && json_is_string(content) && json_string_length(content) > 0) {
        st = tm_buf_append(&r->text, json_string_value(content), json_string_length(content), err);
        if (st == TM_E_LIMIT)
            tm_err_context(err, "the reply is longer than %zu bytes", TM_SSE_MAX_TEXT_BYTES);
        counted = true;
    }
    if (st == TM_OK && json_is_string(reasoning) && json_string_length(reasoning) > 0)
        counted = true;
    r->n_deltas += st == TM_OK && counted;
    const json_t *fin = json_is_object(c0) ? json_object_get(c0, "finish_reason") : NULL;
    if (st == TM_OK && json_is_string(fin)) {
        r->finished = true;
        snprintf(r->finish_reason, sizeof r->finish_reason, "%s", json_string_value(fin));
    }
    const json_t *usage = json_object_get(j, "usage");
    if (st == TM_OK && json_is_object(usage)) {
        int64_t p = usage_count(usage, "prompt_tokens"),
                c = usage_count(usage, "completion_tokens");
        if (p >= 0)
            r->prompt_tokens = p;
        if (c >= 0)
            r->completion_tokens = c;
    }
    json_decref(j);
    return st;
}

#else

static tm_status chunk(tm_sse_reader *r, const char *data, size_t n, tm_err *err)
{
    (void)r;
    (void)data;
    (void)n;
    return tm_fail(err, TM_E_UNSUPPORTED, "this build has no JSON parser (jansson)");
}

#endif

/* A blank line: the event's data is complete. */
static tm_status dispatch(tm_sse_reader *r, tm_err *err)
{
    if (r->data.len == 0)
        return TM_OK; /* comments only, or an event without data */
    r->n_events++;
    tm_status st = TM_OK;
    const char *d = r->data.data;
    size_t n = r->data.len;
    if (n && d[n - 1] == '\n') /* the LF after the last data line is not data */
        n--;
    if (n == 6 && memcmp(d, "[DONE]", 6) == 0)
        r->done = true;
    else
        st = chunk(r, d, n, err);
    r->data.len = 0;
    r->data.data[0] = '\0';
    return st;
}

static tm_status line(tm_sse_reader *r, tm_err *err)
{
    const char *s = r->line.data ? r->line.data : "";
    size_t n = r->line.len;
    tm_status st = TM_OK;
    if (n == 0)
        st = dispatch(r, err);
    else if (n >= 5 && memcmp(s, "data:", 5) == 0) {
        size_t skip = 5 + (n > 5 && s[5] == ' ');
        st = tm_buf_append(&r->data, s + skip, n - skip, err);
        if (st == TM_OK)
            st = tm_buf_append(&r->data, "\n", 1, err);
        if (st == TM_E_LIMIT)
            tm_err_context(err, "event %lld is longer than %zu bytes", (long long)r->n_events + 1,
                           TM_SSE_MAX_EVENT_BYTES);
    } /* else a comment (":"), or a field we do not use (event, id, retry) */
    r->line.len = 0;
    return st;
}

tm_status tm_sse_feed(tm_sse_reader *r, const char *bytes, size_t n, tm_err *err)
{
    for (size_t i = 0; i < n && !r->done; i++) {
        char ch = bytes[i];
        bool was_cr = r->cr;
        r->cr = ch == '\r';
        if (ch == '\n' && was_cr)
            continue; /* the LF of a CRLF */
        tm_status st = TM_OK;
        if (ch == '\n' || ch == '\r')
            st = line(r, err);
        else {
            /* a run of plain bytes at once: lines are long, bytes many */
            size_t j = i;
            while (j < n && bytes[j] != '\n' && bytes[j] != '\r')
                j++;
            st = tm_buf_append(&r->line, bytes + i, j - i, err);
            if (st == TM_E_LIMIT)
                tm_err_context(err, "a line of the stream is longer than %zu bytes",
                               TM_SSE_MAX_EVENT_BYTES);
            i = j - 1;
        }
        if (st != TM_OK)
            return st;
    }
    return TM_OK;
}

tm_status tm_sse_finish(tm_sse_reader *r, tm_err *err)
{
    if (r->done)
        return TM_OK;
    tm_status st = TM_OK;
    if (r->line.len)
        st = line(r, err);
    if (st == TM_OK)
        st = dispatch(r, err);
    if (st == TM_OK && !r->done && !r->finished && r->n_events > 0)
        st = tm_fail(err, TM_E_FORMAT,
                     "the stream ended after %lld events without a finish_reason or [DONE] "
                     "(cut off?)",
                     (long long)r->n_events);
    else if (st == TM_OK && !r->done && !r->finished)
        st = tm_fail(err, TM_E_FORMAT,
                     "the response has no server-sent events: is this an OpenAI-compatible "
                     "/v1/chat/completions?");
    return st;
}

void tm_sse_error_message(const char *body, size_t n, char *buf, size_t cap)
{
#if TM_HAVE_JANSSON
    json_error_t je;
    json_t *j = n ? json_loadb(body, n, 0, &je) : NULL;
    const json_t *e = json_object_get(j, "error");
    const json_t *m = json_is_object(e) ? json_object_get(e, "message") : e;
    if (json_is_string(m)) {
        printable(json_string_value(m), json_string_length(m), buf, cap);
        json_decref(j);
        return;
    }
    json_decref(j);
#endif
    printable(body, n, buf, cap);
}
