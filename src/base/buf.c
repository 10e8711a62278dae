/* A growable byte buffer with a hard cap: every buffer fed by outside input has one, and
 * reaching it is TM_E_LIMIT rather than unbounded growth. */
#include "base.h"

#include <stdio.h>
#include <string.h>

void tm_buf_init(tm_buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
}

void tm_buf_fini(tm_buf *b)
{
    tm_free(b->data);
    tm_buf_init(b, b->max_bytes);
}

static tm_status reserve(tm_buf *b, size_t extra, tm_err *err)
{
    if (extra > b->max_bytes || b->len > b->max_bytes - extra)
        return tm_fail(err, TM_E_LIMIT, "buffer would exceed its limit of %zu bytes", b->max_bytes);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return TM_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = tm_realloc(b->data, cap);
    if (!p)
        return tm_fail(err, TM_E_NOMEM, "buffer of %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return TM_OK;
}

tm_status tm_buf_append(tm_buf *b, const void *data, size_t n, tm_err *err)
{
    tm_status st = reserve(b, n, err);
    if (st != TM_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return TM_OK;
}

tm_status tm_buf_printf(tm_buf *b, tm_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return tm_fail(err, TM_E_INTERNAL, "bad format string");
    tm_status st = reserve(b, (size_t)n, err);
    if (st != TM_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TM_OK;
}

tm_status tm_buf_append_json_string(tm_buf *b, const char *s, size_t n, tm_err *err)
{
    tm_status st = tm_buf_append(b, "\"", 1, err);
    size_t run = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < n && st == TM_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        st = tm_buf_append(b, s + i - run, run, err);
        run = 0;
        if (st != TM_OK)
            break;
        if (c == '"' || c == '\\')
            st = tm_buf_printf(b, err, "\\%c", c);
        else if (c == '\n')
            st = tm_buf_append(b, "\\n", 2, err);
        else if (c == '\t')
            st = tm_buf_append(b, "\\t", 2, err);
        else if (c == '\r')
            st = tm_buf_append(b, "\\r", 2, err);
        else
            st = tm_buf_printf(b, err, "\\u%04x", c);
    }
    if (st == TM_OK)
        st = tm_buf_append(b, s + n - run, run, err);
    return st == TM_OK ? tm_buf_append(b, "\"", 1, err) : st;
}
