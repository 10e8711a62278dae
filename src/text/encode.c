/* Text to ids for every vocabulary kind: the text is cut at special tokens (user-defined ones
 * always, control ones when the caller parses special tokens), the plain fragments go to the
 * vocabulary's encoder, and BOS/EOS are added as the vocabulary asks. */
#include "vocab_internal.h"

#include <string.h>

/* The special token spelled at text[0..], or -1. */
static int32_t special_at(const tm_vocab *v, const char *text, size_t len, bool parse_special)
{
    for (int32_t i = 0; i < v->n_specials; i++) {
        int32_t id = v->specials[i];
        if (v->types[id] == TM_TOKEN_CONTROL && !parse_special)
            continue;
        size_t n;
        const char *t = tm_vocab_text(v, id, &n);
        if (n <= len && t[0] == text[0] && memcmp(t, text, n) == 0)
            return id;
    }
    return -1;
}

static tm_status encode_fragment(const tm_vocab *v, const char *text, size_t len,
                                 bool after_special, tm_token_sink *k, tm_err *err)
{
    if (v->kind == TM_VOCAB_BPE)
        return tm_bpe_encode(v, text, len, k, err);
    if (v->kind == TM_VOCAB_WPM)
        return tm_wpm_encode(v, text, len, k, err);
    /* SentencePiece: a fragment at the start or after a special token gets the mark */
    return tm_spm_encode(v, text, len, v->sp.add_space_prefix && after_special, k, err);
}

tm_status tm_vocab_encode(const tm_vocab *v, const char *text, size_t len, bool add_special,
                          bool parse_special, int32_t *out, int32_t cap, int32_t *n_out,
                          tm_err *err)
{
    tm_token_sink k = {out, cap, 0};
    if (add_special && v->sp.add_bos && v->sp.bos >= 0)
        tm_sink_emit(&k, v->sp.bos);
    bool after_special = true; /* the first fragment counts as following one */
    size_t start = 0;
    tm_status st = TM_OK;
    for (size_t i = 0; i <= len && st == TM_OK; i++) {
        int32_t id =
            i < len && v->n_specials > 0 ? special_at(v, text + i, len - i, parse_special) : -1;
        if (id < 0 && i < len)
            continue;
        if (i > start) {
            st = encode_fragment(v, text + start, i - start, after_special, &k, err);
            after_special = false;
        }
        if (id >= 0) {
            tm_sink_emit(&k, id);
            after_special = true;
            size_t n;
            tm_vocab_text(v, id, &n);
            i += n - 1;
            start = i + 1;
        }
    }
    if (st == TM_OK && add_special && v->sp.add_eos && v->sp.eos >= 0)
        tm_sink_emit(&k, v->sp.eos);
    if (st != TM_OK)
        return st;
    *n_out = k.n;
    if (k.n > cap)
        return tm_fail(err, TM_E_LIMIT, "the text has %d tokens, room for %d", k.n, cap);
    return TM_OK;
}
