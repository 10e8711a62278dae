/* libFuzzer target for the bench suite's reader of streamed chat completions
 * (src/apps/suite_sse.c): any bytes, fed whole and again in pieces whose sizes come from the
 * input, either fail with a message or give the same text, counts and end state both ways
 * (an event split across reads reads as one). Every buffer stays under its cap. */
#include "apps/suite_sse.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tm_status read_all(const uint8_t *data, size_t size, size_t piece, tm_sse_reader *r,
                          tm_err *err)
{
    tm_sse_init(r);
    tm_status st = TM_OK;
    for (size_t at = 0; at < size && st == TM_OK; at += piece)
        st = tm_sse_feed(r, (const char *)data + at, TM_MIN(piece, size - at), err);
    if (st == TM_OK)
        st = tm_sse_finish(r, err);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_err e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    tm_sse_reader a, b;
    size_t piece = size ? 1 + data[0] % 13 : 1;
    tm_status s1 = read_all(data, size, size ? size : 1, &a, &e1);
    tm_status s2 = read_all(data, size, piece, &b, &e2);
    if ((s1 != TM_OK && e1.msg[0] == '\0') || (s2 != TM_OK && e2.msg[0] == '\0'))
        abort(); /* every failure says why */
    if (s1 != s2)
        abort();
    if (s1 == TM_OK && (a.text.len != b.text.len || a.n_deltas != b.n_deltas || a.done != b.done ||
                        a.prompt_tokens != b.prompt_tokens ||
                        (a.text.len && memcmp(a.text.data, b.text.data, a.text.len) != 0)))
        abort();
    if (a.text.len > TM_SSE_MAX_TEXT_BYTES || a.data.len > TM_SSE_MAX_EVENT_BYTES)
        abort();
    char msg[64];
    tm_sse_error_message((const char *)data, size, msg, sizeof msg);
    tm_sse_fini(&a);
    tm_sse_fini(&b);
    return 0;
}
