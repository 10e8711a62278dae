/* Pre-tokenizers of byte-level BPE vocabularies: before merges, text is cut into pieces by
 * the regular expressions of the model family (named by tokenizer.ggml.pre; the lists are
 * llama.cpp's, learned from its tokenizer code). Several expressions apply in order, each
 * cutting every piece the previous one left: matches become pieces and so does the text
 * between them. PCRE2 with Unicode properties runs them; invalid UTF-8 is matched as
 * single bytes rather than refused. */
#include "vocab_internal.h"

#include <string.h>

#if TM_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define MAX_EXPRS 6

struct tm_pretok {
    pcre2_code *codes[MAX_EXPRS];
    int n;
};

/* Shared pieces of the expressions. */
#define CONTRACTIONS_CI "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define GPT2_WORDS      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define LLAMA3_TAIL     "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

typedef struct pre_entry {
    const char *names; /* tokenizer.ggml.pre values, '|'-separated */
    const char *exprs[MAX_EXPRS];
} pre_entry;

static const pre_entry g_pres[] = {
    {"llama-bpe|llama3|dbrx|smaug-bpe",
     {CONTRACTIONS_CI "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" LLAMA3_TAIL}},
    {"qwen2|stablelm2", {CONTRACTIONS_CI "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" LLAMA3_TAIL}},
    {"gpt-2|gpt2|mpt|olmo|jais", {GPT2_WORDS}},
    {"starcoder|refact|command-r|smollm|codeshell|exaone", {"\\p{N}", GPT2_WORDS}},
    {"falcon", {"[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_WORDS, "[0-9][0-9][0-9]"}},
    {"deepseek-coder",
     {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
      "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"}},
    {"deepseek-llm",
     {"[\\r\\n]",
      "\\s?[A-Za-z\\x{00B5}\\x{00C0}-\\x{00D6}\\x{00D8}-\\x{00F6}\\x{00F8}-\\x{01BA}"
      "\\x{01BC}-\\x{01BF}\\x{01C4}-\\x{0293}\\x{0295}-\\x{02AF}\\x{0370}-\\x{0373}"
      "\\x{0376}\\x{0377}\\x{037B}-\\x{037D}\\x{037F}\\x{0386}\\x{0388}-\\x{038A}\\x{038C}"
      "\\x{038E}-\\x{03A1}\\x{03A3}-\\x{03F5}\\x{03F7}-\\x{0481}\\x{048A}-\\x{052F}"
      "\\x{0531}-\\x{0556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}"
      "\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
      "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}"
      "\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}"
      "\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
      "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"
      "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}"
      "\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
      "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}"
      "\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
      "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}"
      "\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}"
      "\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}"
      "\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
      "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
      "\\s+$", "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}+"}},
};

/* The expressions for names no table row lists: llama.cpp's default. */
static const char *const g_default[MAX_EXPRS] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_WORDS, "\\p{N}+",
                                                 "[0-9][0-9][0-9]"};

static bool name_in(const char *names, const char *pre, size_t n)
{
    for (const char *p = names; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && memcmp(p, pre, n) == 0)
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

void tm_pretok_free(tm_pretok *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        pcre2_code_free(p->codes[i]);
    tm_free(p);
}

tm_status tm_pretok_create(const char *pre, size_t pre_len, tm_pretok **out, tm_err *err)
{
    const char *const *exprs = g_default;
    for (size_t i = 0; i < TM_ARRAY_LEN(g_pres); i++)
        if (name_in(g_pres[i].names, pre, pre_len))
            exprs = g_pres[i].exprs;
    tm_pretok *p = tm_calloc(1, sizeof *p);
    if (!p)
        return tm_fail(err, TM_E_NOMEM, "pre-tokenizer");
    for (int i = 0; i < MAX_EXPRS && exprs[i]; i++) {
        int code = 0;
        PCRE2_SIZE at = 0;
        p->codes[i] =
            pcre2_compile((PCRE2_SPTR)exprs[i], PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code, &at, NULL);
        if (!p->codes[i]) {
            tm_pretok_free(p);
            return tm_fail(err, TM_E_INTERNAL,
                           "pre-tokenizer expression %d does not compile "
                           "(at %zu)",
                           i, (size_t)at);
        }
        p->n = i + 1;
    }
    *out = p;
    return TM_OK;
}

typedef struct piece {
    size_t at, n;
} piece;

typedef struct piece_list {
    piece *data;
    size_t n, cap;
} piece_list;

static bool push(piece_list *l, size_t at, size_t n)
{
    if (n == 0)
        return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        piece *d = tm_realloc(l->data, cap * sizeof *d);
        if (!d)
            return false;
        l->data = d;
        l->cap = cap;
    }
    l->data[l->n++] = (piece){at, n};
    return true;
}

/* Cuts each piece of in by one expression: matches and the gaps between them. */
static bool cut(const pcre2_code *code, pcre2_match_data *md, const char *text,
                const piece_list *in, piece_list *out)
{
    for (size_t i = 0; i < in->n; i++) {
        const char *s = text + in->data[i].at;
        size_t len = in->data[i].n, pos = 0, last = 0;
        while (pos <= len) {
            int rc = pcre2_match(code, (PCRE2_SPTR)s, len, pos, 0, md, NULL);
            if (rc < 0)
                break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[1] == ov[0]) { /* empty match: step over one byte */
                pos = ov[0] + 1;
                continue;
            }
            if (!push(out, in->data[i].at + last, ov[0] - last) ||
                !push(out, in->data[i].at + ov[0], ov[1] - ov[0]))
                return false;
            last = pos = ov[1];
        }
        if (!push(out, in->data[i].at + last, len - last))
            return false;
    }
    return true;
}

tm_status tm_pretok_split(const tm_pretok *p, const char *text, size_t len,
                          tm_status (*fn)(void *ctx, const char *piece, size_t n, tm_err *err),
                          void *ctx, tm_err *err)
{
    piece_list a = {0}, b = {0};
    tm_status st = TM_OK;
    if (!push(&a, 0, len))
        st = tm_fail(err, TM_E_NOMEM, "pre-tokenizing %zu bytes", len);
    for (int i = 0; i < p->n && st == TM_OK; i++) {
        pcre2_match_data *m = pcre2_match_data_create_from_pattern(p->codes[i], NULL);
        b.n = 0;
        if (!m || !cut(p->codes[i], m, text, &a, &b))
            st = tm_fail(err, TM_E_NOMEM, "pre-tokenizing %zu bytes", len);
        pcre2_match_data_free(m);
        piece_list t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < a.n && st == TM_OK; i++)
        st = fn(ctx, text + a.data[i].at, a.data[i].n, err);
    tm_free(a.data);
    tm_free(b.data);
    return st;
}

#else /* built without PCRE2 */

tm_status tm_pretok_create(const char *pre, size_t pre_len, tm_pretok **out, tm_err *err)
{
    (void)pre, (void)pre_len, (void)out;
    return tm_fail(err, TM_E_UNSUPPORTED,
                   "byte-level BPE tokenizers need PCRE2, which this build does not have");
}

void tm_pretok_free(tm_pretok *p)
{
    (void)p;
}

tm_status tm_pretok_split(const tm_pretok *p, const char *text, size_t len,
                          tm_status (*fn)(void *ctx, const char *piece, size_t n, tm_err *err),
                          void *ctx, tm_err *err)
{
    (void)p, (void)text, (void)len, (void)fn, (void)ctx;
    return tm_fail(err, TM_E_UNSUPPORTED, "built without PCRE2");
}

#endif
