/* The reader of a streamed OpenAI-style chat completion: server-sent events (the WHATWG
 * HTML standard's event stream: lines end in LF, CRLF or CR; "data:" lines of one event are
 * joined by LF; a blank line ends the event; ":" lines are comments; other fields are
 * ignored), each event's data one JSON chunk, "[DONE]" the end.
 *
 * From each chunk it takes choices[0].delta.content (the reply's text),
 * choices[0].delta.reasoning_content (a reasoning model's thinking: counted as output, not
 * text), choices[0].finish_reason, and usage.prompt_tokens / usage.completion_tokens
 * when a chunk carries them; an "error" member is the server's error. The bytes come from
 * outside: every buffer is capped, malformed input is TM_E_FORMAT naming what and where
 * (fuzz/fuzz_suite_sse.c), never a crash. Pure: no I/O, no clock, so the client stamps the
 * first token's time when n_deltas first turns positive. */
#ifndef TM_APPS_SUITE_SSE_H
#define TM_APPS_SUITE_SSE_H

#include "base/base.h"

#define TM_SSE_MAX_EVENT_BYTES ((size_t)1 << 20) /* one event's data */
#define TM_SSE_MAX_TEXT_BYTES  ((size_t)1 << 20) /* the reply's text */

typedef struct tm_sse_reader {
    tm_buf line; /* the line being read */
    tm_buf data; /* the event being read: its data lines */
    tm_buf text; /* the reply so far */
    int64_t n_events;
    int64_t n_deltas;          /* chunks with content or reasoning */
    int64_t prompt_tokens;     /* usage; -1 until a chunk says */
    int64_t completion_tokens; /* usage; -1 until a chunk says */
    bool done;                 /* "[DONE]" arrived: later bytes are ignored */
    bool finished;             /* a finish_reason arrived */
    bool cr;                   /* the last byte was CR (a CRLF's LF ends nothing new) */
    char finish_reason[32];
} tm_sse_reader;

void tm_sse_init(tm_sse_reader *r);
void tm_sse_fini(tm_sse_reader *r);
/* Reads n more bytes of the stream. */
tm_status tm_sse_feed(tm_sse_reader *r, const char *bytes, size_t n, tm_err *err);
/* The stream ended: a last event without its blank line counts; a stream that neither sent
 * "[DONE]" nor a finish_reason was cut off (TM_E_FORMAT). */
tm_status tm_sse_finish(tm_sse_reader *r, tm_err *err);

/* The message of an error body ({"error": {"message": ...}} or {"error": "..."}, as OpenAI,
 * llama.cpp and Ollama send them), else the body's start, printable, in buf. */
void tm_sse_error_message(const char *body, size_t n, char *buf, size_t cap);

#endif
