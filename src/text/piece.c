/* From tokens back to bytes: pieces, and a UTF-8-safe stream for printing tokens as they
 * are generated (a character spelled by several byte tokens is printed whole). */
#include "vocab_internal.h"

#include <string.h>

static int32_t copy_out(char *buf, int32_t cap, int32_t at, const char *src, int32_t n)
{
    if (at < cap)
        memcpy(buf + at, src, (size_t)TM_MIN(n, cap - at));
    return at + n;
}

int32_t tm_vocab_piece(const tm_vocab *v, int32_t id, bool special, char *buf, int32_t cap)
{
    if (id < 0 || id >= v->n)
        return -1;
    size_t len;
    const char *t = tm_vocab_text(v, id, &len);
    switch (v->types[id]) {
    case TM_TOKEN_CONTROL:
    case TM_TOKEN_UNKNOWN:
        return special ? copy_out(buf, cap, 0, t, (int32_t)len) : 0;
    case TM_TOKEN_USER_DEFINED:
        return copy_out(buf, cap, 0, t, (int32_t)len);
    default:
        break;
    }
    if (v->kind == TM_VOCAB_BPE)
        return tm_bpe_decode_piece(t, len, buf, cap);
    switch (v->types[id]) {
    case TM_TOKEN_BYTE:
        for (int b = 0; b < 256; b++)
            if (v->byte_id[b] == id) {
                char c = (char)b;
                return copy_out(buf, cap, 0, &c, 1);
            }
        return copy_out(buf, cap, 0, t, (int32_t)len);
    default: {
        int32_t n = 0;
        for (size_t i = 0; i < len;) {
            if (len - i >= 3 && memcmp(t + i, "\xe2\x96\x81", 3) == 0) {
                n = copy_out(buf, cap, n, " ", 1);
                i += 3;
            } else {
                n = copy_out(buf, cap, n, t + i, 1);
                i++;
            }
        }
        return n;
    }
    }
}

/* Bytes a UTF-8 sequence starting with c needs: 1 for ASCII and for bytes that cannot
 * start a sequence (those pass through as they are). */
static int sequence_len(uint8_t c)
{
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    return 1;
}

static bool is_continuation(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

size_t tm_utf8_stream_push(tm_utf8_stream *s, const char *bytes, size_t n, char *out)
{
    size_t n_out = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)bytes[i];
        if (s->n_pending > 0 && !is_continuation(c)) { /* broken sequence: let it through */
            memcpy(out + n_out, s->pending, (size_t)s->n_pending);
            n_out += (size_t)s->n_pending;
            s->n_pending = 0;
        }
        s->pending[s->n_pending++] = (char)c;
        if (s->n_pending >= sequence_len((uint8_t)s->pending[0])) {
            memcpy(out + n_out, s->pending, (size_t)s->n_pending);
            n_out += (size_t)s->n_pending;
            s->n_pending = 0;
        }
    }
    return n_out;
}

size_t tm_utf8_stream_flush(tm_utf8_stream *s, char *out)
{
    size_t n = (size_t)s->n_pending;
    memcpy(out, s->pending, n);
    s->n_pending = 0;
    return n;
}
