/* The functions, methods, filters and tests chat templates use, with Python's meaning
 * (Hugging Face renders templates with Python's Jinja): str.strip() strips Unicode
 * whitespace such as U+3000, tojson is json.dumps(ensure_ascii=False), and so on. A filter
 * or test we do not have is an error naming it, never a silent empty string. */
#include "jinja.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tm_status jinja_call_value(jctx *c, const jv *fn, const jargs *args, jv **out);

/* What every builtin needs: the render (arena, line) and where errors go. */
typedef struct bx {
    jctx *c;
    tm_arena *a;
    tm_err *err;
} bx;

static bx bx_of(jctx *c, tm_err *err)
{
    return (bx){c, jctx_arena(c), err};
}

static tm_status oom(bx *b)
{
    return tm_fail(b->err, TM_E_LIMIT, "template line %d: out of memory for rendering",
                   jctx_line(b->c));
}

static tm_status bad(bx *b, const char *what, const char *name)
{
    return tm_fail(b->err, TM_E_ARG, "template line %d: %s%s", jctx_line(b->c), what,
                   name ? name : "");
}

static tm_status done(bx *b, jv *v, jv **out)
{
    *out = v;
    return v ? TM_OK : oom(b);
}

static bool jstr_eq(jstr s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.s, lit, s.n) == 0;
}

/* ---- strings ----------------------------------------------------------------------------- */

/* Python's str.isspace() characters: a code point's length at s, 0 if not whitespace. */
static size_t space_at(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (n >= 2 && c == 0xC2 && ((unsigned char)s[1] == 0x85 || (unsigned char)s[1] == 0xA0))
        return 2;
    if (n >= 3) {
        uint32_t cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        if ((c & 0xF0) == 0xE0 && (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                                   cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000))
            return 3;
    }
    return 0;
}

/* Length of the whitespace code point ending at s + n, 0 if none. */
static size_t space_before(const char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (space_at(s + n - k, k) == k)
            return k;
    return 0;
}

static bool in_chars(jstr chars, const char *s, size_t len)
{
    for (size_t i = 0; i + len <= chars.n;) {
        size_t w = 1;
        while (i + w < chars.n && ((unsigned char)chars.s[i + w] & 0xC0) == 0x80)
            w++;
        if (w == len && memcmp(chars.s + i, s, len) == 0)
            return true;
        i += w;
    }
    return false;
}

static size_t char_len_at(const char *s, size_t n)
{
    size_t w = 1;
    while (w < n && ((unsigned char)s[w] & 0xC0) == 0x80)
        w++;
    return w;
}

static size_t char_len_before(const char *s, size_t n)
{
    size_t w = 1;
    while (w < n && ((unsigned char)s[n - w] & 0xC0) == 0x80)
        w++;
    return w;
}

/* strip / lstrip / rstrip: Unicode whitespace, or the characters of chars. */
static jstr strip(jstr s, const jv *chars, bool left, bool right)
{
    bool ws = !chars || chars->kind != JV_STR;
    while (left && s.n) {
        size_t k = ws ? space_at(s.s, s.n) : char_len_at(s.s, s.n);
        if (!k || (!ws && !in_chars(chars->u.str, s.s, k)))
            break;
        s.s += k;
        s.n -= k;
    }
    while (right && s.n) {
        size_t k = ws ? space_before(s.s, s.n) : char_len_before(s.s, s.n);
        if (!k || (!ws && !in_chars(chars->u.str, s.s + s.n - k, k)))
            break;
        s.n -= k;
    }
    return s;
}

static jv *str_map(bx *b, jstr s, int mode) /* 0 upper, 1 lower, 2 title, 3 capitalize */
{
    jv *v = jv_str(b->a, s.s, s.n);
    if (!v)
        return NULL;
    char *p = (char *)v->u.str.s;
    bool word_start = true;
    for (size_t i = 0; i < s.n; i++) {
        char ch = p[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        bool up = mode == 0 || (mode == 2 && word_start) || (mode == 3 && i == 0);
        if (alpha)
            p[i] = up ? (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch)
                      : (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        word_start = !alpha && !((unsigned char)ch >= 0x80) && !(ch >= '0' && ch <= '9');
    }
    return v;
}

static jv *str_replace(bx *b, jstr s, jstr from, jstr to, int64_t count)
{
    tm_buf out;
    tm_buf_init(&out, SIZE_MAX / 2);
    tm_status st = TM_OK;
    size_t i = 0;
    int64_t done_n = 0;
    while (i <= s.n && st == TM_OK) {
        bool match = (count < 0 || done_n < count) && i + from.n <= s.n &&
                     memcmp(s.s + i, from.s, from.n) == 0;
        if (match) {
            st = tm_buf_append(&out, to.s, to.n, b->err);
            done_n++;
            if (from.n == 0) { /* Python inserts between every character */
                if (i < s.n) {
                    size_t w = char_len_at(s.s + i, s.n - i);
                    st = tm_buf_append(&out, s.s + i, w, b->err);
                    i += w;
                } else
                    break;
            } else
                i += from.n;
        } else if (i < s.n) {
            st = tm_buf_append(&out, s.s + i, 1, b->err);
            i++;
        } else
            break;
    }
    jv *v = st == TM_OK ? jv_str(b->a, out.data ? out.data : "", out.len) : NULL;
    tm_buf_fini(&out);
    return v;
}

static jv *str_split(bx *b, jstr s, const jv *sep, int64_t maxsplit)
{
    jv *l = jv_new(b->a, JV_LIST);
    if (!l)
        return NULL;
    if (!sep || sep->kind != JV_STR) { /* runs of whitespace, no empty pieces */
        size_t i = 0;
        int64_t n_split = 0;
        for (;;) {
            while (i < s.n && space_at(s.s + i, s.n - i))
                i += space_at(s.s + i, s.n - i);
            if (i >= s.n)
                break;
            size_t start = i;
            if (maxsplit >= 0 && n_split >= maxsplit) {
                jstr rest = strip((jstr){s.s + start, s.n - start}, NULL, false, true);
                jv *piece = jv_str(b->a, rest.s, rest.n);
                return piece && jv_list_push(b->a, l, piece) ? l : NULL;
            }
            while (i < s.n && !space_at(s.s + i, s.n - i))
                i += char_len_at(s.s + i, s.n - i);
            jv *piece = jv_str(b->a, s.s + start, i - start);
            if (!piece || !jv_list_push(b->a, l, piece))
                return NULL;
            n_split++;
        }
        return l;
    }
    jstr d = sep->u.str;
    size_t start = 0;
    int64_t n_split = 0;
    for (size_t i = 0; d.n && i + d.n <= s.n;) {
        if ((maxsplit < 0 || n_split < maxsplit) && memcmp(s.s + i, d.s, d.n) == 0) {
            jv *piece = jv_str(b->a, s.s + start, i - start);
            if (!piece || !jv_list_push(b->a, l, piece))
                return NULL;
            i += d.n;
            start = i;
            n_split++;
        } else
            i++;
    }
    jv *piece = jv_str(b->a, s.s + start, s.n - start);
    return piece && jv_list_push(b->a, l, piece) ? l : NULL;
}

static bool affix(jstr s, const jv *p, bool prefix)
{
    if (p->kind == JV_LIST) { /* a tuple of candidates */
        for (size_t i = 0; i < p->u.list.n; i++)
            if (affix(s, p->u.list.items[i], prefix))
                return true;
        return false;
    }
    if (p->kind != JV_STR || p->u.str.n > s.n)
        return false;
    return memcmp(prefix ? s.s : s.s + s.n - p->u.str.n, p->u.str.s, p->u.str.n) == 0;
}

static jv *to_string(bx *b, const jv *v)
{
    if (v->kind == JV_STR)
        return (jv *)v;
    tm_buf out;
    tm_buf_init(&out, SIZE_MAX / 2);
    jv *r = jv_print(&out, v, false, b->err) == TM_OK
                ? jv_str(b->a, out.data ? out.data : "", out.len)
                : NULL;
    tm_buf_fini(&out);
    return r;
}

static jv *join(bx *b, const jv *list, jstr sep, const jv *attribute)
{
    tm_buf out;
    tm_buf_init(&out, SIZE_MAX / 2);
    tm_status st = TM_OK;
    for (size_t i = 0; i < list->u.list.n && st == TM_OK; i++) {
        const jv *item = list->u.list.items[i];
        if (attribute && attribute->kind == JV_STR && item->kind == JV_DICT) {
            item = jv_dict_get(item, attribute->u.str.s, attribute->u.str.n);
            if (!item)
                item = jv_undefined();
        }
        if (i)
            st = tm_buf_append(&out, sep.s, sep.n, b->err);
        if (st == TM_OK)
            st = jv_print(&out, item, false, b->err);
    }
    jv *r = st == TM_OK ? jv_str(b->a, out.data ? out.data : "", out.len) : NULL;
    tm_buf_fini(&out);
    return r;
}

/* ---- functions --------------------------------------------------------------------------- */

enum { F_RANGE, F_NAMESPACE, F_RAISE, F_STRFTIME, F_DICT, N_FUNCTIONS };
static const char *const g_functions[N_FUNCTIONS] = {"range", "namespace", "raise_exception",
                                                     "strftime_now", "dict"};

int jinja_find_function(const char *name, size_t n)
{
    for (int i = 0; i < N_FUNCTIONS; i++)
        if (strlen(g_functions[i]) == n && memcmp(g_functions[i], name, n) == 0)
            return i;
    return -1;
}

/* methods: builtin index METHOD_BASE + i */
#define METHOD_BASE 1000
static const struct {
    jv_kind kind;
    const char *name;
} g_methods[] = {
    {JV_STR, "strip"},      {JV_STR, "lstrip"},     {JV_STR, "rstrip"},     {JV_STR, "split"},
    {JV_STR, "startswith"}, {JV_STR, "endswith"},   {JV_STR, "upper"},      {JV_STR, "lower"},
    {JV_STR, "title"},      {JV_STR, "capitalize"}, {JV_STR, "replace"},    {JV_STR, "find"},
    {JV_STR, "count"},      {JV_STR, "join"},       {JV_DICT, "items"},     {JV_DICT, "keys"},
    {JV_DICT, "values"},    {JV_DICT, "get"},       {JV_STR, "splitlines"},
};
enum {
    M_STRIP,
    M_LSTRIP,
    M_RSTRIP,
    M_SPLIT,
    M_STARTSWITH,
    M_ENDSWITH,
    M_UPPER,
    M_LOWER,
    M_TITLE,
    M_CAPITALIZE,
    M_REPLACE,
    M_FIND,
    M_COUNT,
    M_JOIN,
    M_ITEMS,
    M_KEYS,
    M_VALUES,
    M_GET,
    M_SPLITLINES,
    N_METHODS
};

int jinja_find_method(jv_kind kind, const char *name, size_t n)
{
    for (int i = 0; i < N_METHODS; i++)
        if (g_methods[i].kind == kind && strlen(g_methods[i].name) == n &&
            memcmp(g_methods[i].name, name, n) == 0)
            return i;
    return -1;
}

jv *jinja_bind_method(tm_arena *a, jv *self, int method)
{
    jv *v = jv_new(a, JV_FUNC);
    if (v) {
        v->u.fn.builtin = METHOD_BASE + method;
        v->u.fn.self = self;
    }
    return v;
}

static jv *dict_items(bx *b, const jv *d, int which) /* 0 items, 1 keys, 2 values */
{
    jv *l = jv_new(b->a, JV_LIST);
    if (!l)
        return NULL;
    for (size_t i = 0; i < d->u.dict.n; i++) {
        jv *item = which == 1 ? d->u.dict.keys[i] : d->u.dict.vals[i];
        if (which == 0) {
            item = jv_new(b->a, JV_LIST);
            if (!item || !jv_list_push(b->a, item, d->u.dict.keys[i]) ||
                !jv_list_push(b->a, item, d->u.dict.vals[i]))
                return NULL;
        }
        if (!jv_list_push(b->a, l, item))
            return NULL;
    }
    return l;
}

static int64_t int_arg(const jargs *args, size_t pos, const char *kw, int64_t dflt)
{
    jv *v = jargs_get(args, pos, kw);
    return v && v->kind == JV_INT ? v->u.i : dflt;
}

static tm_status call_method(bx *b, jv *self, int m, const jargs *args, jv **out)
{
    jv *a0 = jargs_get(args, 0, NULL), *a1 = jargs_get(args, 1, NULL);
    if (self->kind == JV_DICT) {
        if (m == M_GET) {
            if (!a0)
                return bad(b, "get() needs a key", NULL);
            jv *v = jv_dict_getv(self, a0);
            *out = v ? v : a1 ? a1 : jv_none();
            return TM_OK;
        }
        return done(b, dict_items(b, self, m == M_ITEMS ? 0 : m == M_KEYS ? 1 : 2), out);
    }
    jstr s = self->u.str;
    switch (m) {
    case M_STRIP:
    case M_LSTRIP:
    case M_RSTRIP: {
        jstr r = strip(s, a0, m != M_RSTRIP, m != M_LSTRIP);
        return done(b, jv_str(b->a, r.s, r.n), out);
    }
    case M_SPLIT:
        return done(b, str_split(b, s, jargs_get(args, 0, "sep"), int_arg(args, 1, "maxsplit", -1)),
                    out);
    case M_SPLITLINES: {
        jv *l = jv_new(b->a, JV_LIST);
        if (!l)
            return oom(b);
        size_t start = 0;
        for (size_t i = 0; i < s.n; i++)
            if (s.s[i] == '\n' || s.s[i] == '\r') {
                jv *piece = jv_str(b->a, s.s + start, i - start);
                if (!piece || !jv_list_push(b->a, l, piece))
                    return oom(b);
                if (s.s[i] == '\r' && i + 1 < s.n && s.s[i + 1] == '\n')
                    i++;
                start = i + 1;
            }
        if (start < s.n) {
            jv *piece = jv_str(b->a, s.s + start, s.n - start);
            if (!piece || !jv_list_push(b->a, l, piece))
                return oom(b);
        }
        *out = l;
        return TM_OK;
    }
    case M_STARTSWITH:
    case M_ENDSWITH:
        if (!a0)
            return bad(b, "startswith()/endswith() need an argument", NULL);
        return done(b, jv_bool(b->a, affix(s, a0, m == M_STARTSWITH)), out);
    case M_UPPER:
    case M_LOWER:
    case M_TITLE:
    case M_CAPITALIZE:
        return done(b, str_map(b, s, m - M_UPPER), out);
    case M_REPLACE:
        if (!a0 || !a1 || a0->kind != JV_STR || a1->kind != JV_STR)
            return bad(b, "replace() needs two strings", NULL);
        return done(b, str_replace(b, s, a0->u.str, a1->u.str, int_arg(args, 2, "count", -1)), out);
    case M_FIND:
    case M_COUNT: {
        if (!a0 || a0->kind != JV_STR)
            return bad(b, "find()/count() need a string", NULL);
        jstr k = a0->u.str;
        int64_t found = -1, count = 0;
        for (size_t i = 0; i + k.n <= s.n; i++)
            if (memcmp(s.s + i, k.s, k.n) == 0) {
                if (found < 0)
                    found = (int64_t)jv_utf8_count(s.s, i);
                count++;
                if (k.n)
                    i += k.n - 1;
            }
        return done(b, jv_int(b->a, m == M_FIND ? found : count), out);
    }
    case M_JOIN:
        if (!a0 || a0->kind != JV_LIST)
            return bad(b, "join() needs a list", NULL);
        return done(b, join(b, a0, s, NULL), out);
    default:
        return bad(b, "unknown method", NULL);
    }
}

tm_status jinja_call_builtin(jctx *c, const jv *fn, const jargs *args, jv **out, tm_err *err)
{
    bx b = bx_of(c, err);
    int id = fn->u.fn.builtin;
    if (id >= METHOD_BASE)
        return call_method(&b, fn->u.fn.self, id - METHOD_BASE, args, out);
    switch (id) {
    case F_RANGE: {
        int64_t lo = 0, hi, stepv = 1;
        for (size_t i = 0; i < args->n_pos; i++)
            if (args->pos[i]->kind != JV_INT)
                return bad(&b, "range() needs integers", NULL);
        if (args->n_pos == 1)
            hi = args->pos[0]->u.i;
        else if (args->n_pos >= 2) {
            lo = args->pos[0]->u.i;
            hi = args->pos[1]->u.i;
            if (args->n_pos == 3)
                stepv = args->pos[2]->u.i;
        } else
            return bad(&b, "range() needs 1 to 3 arguments", NULL);
        if (stepv == 0)
            return bad(&b, "range() step cannot be zero", NULL);
        jv *l = jv_new(b.a, JV_LIST);
        if (!l)
            return oom(&b);
        int64_t count = 0;
        for (int64_t i = lo; stepv > 0 ? i < hi : i > hi; i += stepv) {
            if (++count > 1000000)
                return tm_fail(err, TM_E_LIMIT, "template line %d: range() of over 1M items",
                               jctx_line(c));
            jv *v = jv_int(b.a, i);
            if (!v || !jv_list_push(b.a, l, v))
                return oom(&b);
        }
        *out = l;
        return TM_OK;
    }
    case F_NAMESPACE:
    case F_DICT: {
        jv *d = jv_new(b.a, JV_DICT);
        if (!d)
            return oom(&b);
        d->is_namespace = id == F_NAMESPACE;
        if (args->n_pos == 1 && args->pos[0]->kind == JV_DICT)
            for (size_t i = 0; i < args->pos[0]->u.dict.n; i++)
                if (!jv_dict_set(b.a, d, args->pos[0]->u.dict.keys[i],
                                 args->pos[0]->u.dict.vals[i]))
                    return oom(&b);
        for (size_t i = 0; i < args->n_kw; i++) {
            jv *key = jv_str(b.a, args->kw_names[i].s, args->kw_names[i].n);
            if (!key || !jv_dict_set(b.a, d, key, args->kw[i]))
                return oom(&b);
        }
        *out = d;
        return TM_OK;
    }
    case F_RAISE: {
        jv *msg = args->n_pos ? to_string(&b, args->pos[0]) : NULL;
        return tm_fail(err, TM_E_ARG, "template line %d: raise_exception: %.*s", jctx_line(c),
                       msg ? (int)msg->u.str.n : 0, msg ? msg->u.str.s : "");
    }
    case F_STRFTIME: {
        jv *fmt = jargs_get(args, 0, NULL);
        if (!fmt || fmt->kind != JV_STR)
            return bad(&b, "strftime_now() needs a format string", NULL);
        char f[256], text[512];
        size_t n = fmt->u.str.n < sizeof f - 1 ? fmt->u.str.n : sizeof f - 1;
        memcpy(f, fmt->u.str.s, n);
        f[n] = 0;
        size_t len = tm_strftime_now(text, sizeof text, f);
        return done(&b, jv_str(b.a, text, len), out);
    }
    default:
        return bad(&b, "unknown function", NULL);
    }
}

/* ---- tests ------------------------------------------------------------------------------- */

tm_status jinja_test(jctx *c, const jstr *name, jv *v, const jargs *args, bool *out, tm_err *err)
{
    bx b = bx_of(c, err);
    jv *a0 = jargs_get(args, 0, NULL);
    jstr t = *name;
    jv_kind k = v->kind;
    if (jstr_eq(t, "defined"))
        *out = k != JV_UNDEFINED;
    else if (jstr_eq(t, "undefined"))
        *out = k == JV_UNDEFINED;
    else if (jstr_eq(t, "none"))
        *out = k == JV_NONE;
    else if (jstr_eq(t, "boolean"))
        *out = k == JV_BOOL;
    else if (jstr_eq(t, "true") || jstr_eq(t, "false"))
        *out = k == JV_BOOL && v->u.b == jstr_eq(t, "true");
    else if (jstr_eq(t, "integer"))
        *out = k == JV_INT;
    else if (jstr_eq(t, "float"))
        *out = k == JV_FLOAT;
    else if (jstr_eq(t, "number"))
        *out = k == JV_INT || k == JV_FLOAT;
    else if (jstr_eq(t, "string"))
        *out = k == JV_STR;
    else if (jstr_eq(t, "mapping"))
        *out = k == JV_DICT;
    else if (jstr_eq(t, "iterable"))
        *out = k == JV_LIST || k == JV_DICT || k == JV_STR;
    else if (jstr_eq(t, "sequence"))
        *out = k == JV_LIST || k == JV_STR || k == JV_DICT;
    else if (jstr_eq(t, "callable"))
        *out = k == JV_FUNC;
    else if (jstr_eq(t, "odd") || jstr_eq(t, "even")) {
        if (k != JV_INT)
            return bad(&b, "odd/even need an integer", NULL);
        *out = (v->u.i % 2 != 0) == jstr_eq(t, "odd");
    } else if (jstr_eq(t, "divisibleby")) {
        if (k != JV_INT || !a0 || a0->kind != JV_INT || a0->u.i == 0)
            return bad(&b, "divisibleby needs integers", NULL);
        *out = v->u.i % a0->u.i == 0;
    } else if (jstr_eq(t, "equalto") || jstr_eq(t, "eq") || jstr_eq(t, "sameas")) {
        *out = a0 && jv_equal(v, a0);
    } else if (jstr_eq(t, "ne")) {
        *out = !a0 || !jv_equal(v, a0);
    } else if (jstr_eq(t, "lt") || jstr_eq(t, "gt") || jstr_eq(t, "le") || jstr_eq(t, "ge")) {
        if (!a0 || !jv_is_number(v) || !jv_is_number(a0))
            return bad(&b, "comparison tests need numbers", NULL);
        double x = jv_as_double(v), y = jv_as_double(a0);
        *out = jstr_eq(t, "lt")   ? x < y
               : jstr_eq(t, "gt") ? x > y
               : jstr_eq(t, "le") ? x <= y
                                  : x >= y;
    } else if (jstr_eq(t, "in")) {
        *out = false;
        if (a0 && a0->kind == JV_LIST)
            for (size_t i = 0; i < a0->u.list.n && !*out; i++)
                *out = jv_equal(a0->u.list.items[i], v);
        else if (a0 && a0->kind == JV_DICT)
            *out = jv_dict_getv(a0, v) != NULL;
        else if (a0 && a0->kind == JV_STR && k == JV_STR)
            for (size_t i = 0; i + v->u.str.n <= a0->u.str.n && !*out; i++)
                *out = memcmp(a0->u.str.s + i, v->u.str.s, v->u.str.n) == 0;
    } else if (jstr_eq(t, "lower") || jstr_eq(t, "upper")) {
        *out = k == JV_STR;
        bool lower = jstr_eq(t, "lower");
        for (size_t i = 0; *out && i < v->u.str.n; i++) {
            char ch = v->u.str.s[i];
            *out = lower ? !(ch >= 'A' && ch <= 'Z') : !(ch >= 'a' && ch <= 'z');
        }
    } else
        return tm_fail(err, TM_E_UNSUPPORTED, "template line %d: unknown test '%.*s'", jctx_line(c),
                       (int)t.n, t.s);
    return TM_OK;
}

/* ---- filters ----------------------------------------------------------------------------- */

/* The value select/reject/map look at: the item, or its attribute. */
static jv *attribute_of(jv *item, const jv *attribute)
{
    if (!attribute || attribute->kind != JV_STR)
        return item;
    jv *v = NULL;
    if (item->kind == JV_DICT) {
        /* dotted paths: "function.name" */
        jstr path = attribute->u.str;
        v = item;
        while (v && path.n) {
            const char *dot = memchr(path.s, '.', path.n);
            size_t len = dot ? (size_t)(dot - path.s) : path.n;
            v = v->kind == JV_DICT ? jv_dict_get(v, path.s, len) : NULL;
            path.s += dot ? len + 1 : len;
            path.n -= dot ? len + 1 : len;
        }
    }
    return v ? v : jv_undefined();
}

static tm_status select_items(bx *b, jv *v, const jargs *args, bool by_attr, bool keep, jv **out)
{
    if (v->kind != JV_LIST)
        return bad(b, "select/reject need a list", NULL);
    jv *l = jv_new(b->a, JV_LIST);
    if (!l)
        return oom(b);
    size_t first = by_attr ? 1 : 0;
    jv *attribute = by_attr ? jargs_get(args, 0, NULL) : NULL;
    jv *test = jargs_get(args, first, NULL);
    jargs rest = {args->pos + (args->n_pos > first + 1 ? first + 1 : args->n_pos),
                  args->n_pos > first + 1 ? args->n_pos - first - 1 : 0, NULL, NULL, 0};
    for (size_t i = 0; i < v->u.list.n; i++) {
        jv *x = attribute_of(v->u.list.items[i], attribute);
        bool r;
        if (test && test->kind == JV_STR) {
            tm_status st = jinja_test(b->c, &test->u.str, x, &rest, &r, b->err);
            if (st != TM_OK)
                return st;
        } else
            r = jv_truthy(x);
        if (r == keep && !jv_list_push(b->a, l, v->u.list.items[i]))
            return oom(b);
    }
    *out = l;
    return TM_OK;
}

/* Orders values as Python's sort does for numbers and strings (other kinds by kind). */
static int compare_values(const jv *x, const jv *y)
{
    int r;
    if (jv_is_number(x) && jv_is_number(y))
        r = (jv_as_double(x) > jv_as_double(y)) - (jv_as_double(x) < jv_as_double(y));
    else if (x->kind == JV_STR && y->kind == JV_STR) {
        size_t n = x->u.str.n < y->u.str.n ? x->u.str.n : y->u.str.n;
        r = memcmp(x->u.str.s, y->u.str.s, n);
        if (!r)
            r = (x->u.str.n > y->u.str.n) - (x->u.str.n < y->u.str.n);
    } else
        r = (int)x->kind - (int)y->kind;
    return r;
}

static tm_status filter_json(bx *b, jv *v, const jargs *args, jv **out)
{
    jv *indent = jargs_get(args, 0, "indent");
    jv *sort = jargs_get(args, 99, "sort_keys");
    tm_buf buf;
    tm_buf_init(&buf, SIZE_MAX / 2);
    tm_status st = jv_to_json(&buf, v, indent && indent->kind == JV_INT ? (int)indent->u.i : -1,
                              sort && jv_truthy(sort), b->err);
    if (st == TM_OK)
        st = done(b, jv_str(b->a, buf.data ? buf.data : "", buf.len), out);
    tm_buf_fini(&buf);
    return st;
}

static tm_status filter_indent(bx *b, jv *v, const jargs *args, jv **out)
{
    jv *s = to_string(b, v);
    jv *width = jargs_get(args, 0, "width");
    bool first = jv_truthy(jargs_get(args, 1, "first") ? jargs_get(args, 1, "first") : jv_none());
    bool blank = jv_truthy(jargs_get(args, 2, "blank") ? jargs_get(args, 2, "blank") : jv_none());
    if (!s)
        return oom(b);
    char pad[256];
    size_t np = 4;
    if (width && width->kind == JV_INT)
        np = width->u.i < 0 ? 0 : width->u.i > 255 ? 255 : (size_t)width->u.i;
    else if (width && width->kind == JV_STR)
        np = width->u.str.n < 255 ? width->u.str.n : 255;
    if (width && width->kind == JV_STR)
        memcpy(pad, width->u.str.s, np);
    else
        memset(pad, ' ', np);
    tm_buf buf;
    tm_buf_init(&buf, SIZE_MAX / 2);
    tm_status st = TM_OK;
    jstr t = s->u.str;
    size_t line_start = 0;
    for (size_t i = 0; i <= t.n && st == TM_OK; i++) {
        if (i < t.n && t.s[i] != '\n')
            continue;
        bool is_first = line_start == 0;
        bool empty = i == line_start;
        if ((!is_first || first) && (!empty || blank))
            st = tm_buf_append(&buf, pad, np, b->err);
        if (st == TM_OK)
            st = tm_buf_append(&buf, t.s + line_start, i - line_start + (i < t.n), b->err);
        line_start = i + 1;
    }
    if (st == TM_OK)
        st = done(b, jv_str(b->a, buf.data ? buf.data : "", buf.len), out);
    tm_buf_fini(&buf);
    return st;
}

tm_status jinja_filter(jctx *c, const jstr *name, jv *v, const jargs *args, jv **out, tm_err *err)
{
    bx b = bx_of(c, err);
    jstr f = *name;
    jv *a0 = jargs_get(args, 0, NULL);
    if (jstr_eq(f, "default") || jstr_eq(f, "d")) {
        jv *boolean = jargs_get(args, 1, "boolean");
        bool use = v->kind == JV_UNDEFINED || (boolean && jv_truthy(boolean) && !jv_truthy(v));
        *out = use ? (a0 ? a0 : jv_str(b.a, "", 0)) : v;
        return *out ? TM_OK : oom(&b);
    }
    if (jstr_eq(f, "tojson"))
        return filter_json(&b, v, args, out);
    if (jstr_eq(f, "safe"))
        return done(&b, v, out);
    if (jstr_eq(f, "string"))
        return done(&b, to_string(&b, v), out);
    if (jstr_eq(f, "length") || jstr_eq(f, "count")) {
        int64_t n = v->kind == JV_STR    ? (int64_t)jv_utf8_count(v->u.str.s, v->u.str.n)
                    : v->kind == JV_LIST ? (int64_t)v->u.list.n
                    : v->kind == JV_DICT ? (int64_t)v->u.dict.n
                                         : -1;
        if (n < 0)
            return tm_fail(err, TM_E_ARG, "template line %d: length of a %s", jctx_line(c),
                           jv_kind_name(v->kind));
        return done(&b, jv_int(b.a, n), out);
    }
    if (jstr_eq(f, "int")) {
        if (v->kind == JV_STR) {
            char text[64];
            size_t n = v->u.str.n < 63 ? v->u.str.n : 63;
            memcpy(text, v->u.str.s, n);
            text[n] = 0;
            return done(&b, jv_int(b.a, strtoll(text, NULL, 10)), out);
        }
        return done(&b,
                    jv_int(b.a, v->kind == JV_FLOAT  ? (int64_t)v->u.f
                                : v->kind == JV_INT  ? v->u.i
                                : v->kind == JV_BOOL ? v->u.b
                                                     : 0),
                    out);
    }
    if (jstr_eq(f, "float")) {
        if (v->kind == JV_STR) {
            char text[64];
            size_t n = v->u.str.n < 63 ? v->u.str.n : 63;
            memcpy(text, v->u.str.s, n);
            text[n] = 0;
            return done(&b, jv_float(b.a, strtod(text, NULL)), out);
        }
        return done(&b, jv_float(b.a, jv_as_double(v)), out);
    }
    if (jstr_eq(f, "abs")) {
        if (v->kind == JV_INT)
            return done(&b, jv_int(b.a, v->u.i < 0 ? -v->u.i : v->u.i), out);
        return done(&b, jv_float(b.a, fabs(jv_as_double(v))), out);
    }
    if (jstr_eq(f, "round")) {
        int64_t prec = int_arg(args, 0, "precision", 0);
        double scale = pow(10, (double)prec), x = jv_as_double(v) * scale;
        jv *method = jargs_get(args, 1, "method");
        double r = method && method->kind == JV_STR && jstr_eq(method->u.str, "floor")  ? floor(x)
                   : method && method->kind == JV_STR && jstr_eq(method->u.str, "ceil") ? ceil(x)
                                                                                        : round(x);
        return done(&b, jv_float(b.a, r / scale), out);
    }
    if (jstr_eq(f, "items")) {
        if (v->kind != JV_DICT)
            return bad(&b, "items needs a mapping", NULL);
        return done(&b, dict_items(&b, v, 0), out);
    }
    if (jstr_eq(f, "dictsort")) {
        if (v->kind != JV_DICT)
            return bad(&b, "dictsort needs a mapping", NULL);
        jv *items = dict_items(&b, v, 0);
        if (!items)
            return oom(&b);
        /* sort the pairs by key: compare their first elements */
        for (size_t i = 1; i < items->u.list.n; i++)
            for (size_t j = i; j > 0; j--) {
                jv *x = items->u.list.items[j - 1]->u.list.items[0];
                jv *y = items->u.list.items[j]->u.list.items[0];
                if (compare_values(x, y) <= 0)
                    break;
                jv *tmp = items->u.list.items[j - 1];
                items->u.list.items[j - 1] = items->u.list.items[j];
                items->u.list.items[j] = tmp;
            }
        *out = items;
        return TM_OK;
    }
    if (jstr_eq(f, "select") || jstr_eq(f, "reject"))
        return select_items(&b, v, args, false, jstr_eq(f, "select"), out);
    if (jstr_eq(f, "selectattr") || jstr_eq(f, "rejectattr"))
        return select_items(&b, v, args, true, jstr_eq(f, "selectattr"), out);
    if (jstr_eq(f, "wordcount")) {
        jv *words = v->kind == JV_STR ? str_split(&b, v->u.str, NULL, -1) : NULL;
        return done(&b, words ? jv_int(b.a, (int64_t)words->u.list.n) : NULL, out);
    }
    if (jstr_eq(f, "indent"))
        return filter_indent(&b, v, args, out);
    /* the rest work on a string or a list */
    if (v->kind == JV_STR) {
        jstr s = v->u.str;
        if (jstr_eq(f, "trim")) {
            jstr r = strip(s, a0, true, true);
            return done(&b, jv_str(b.a, r.s, r.n), out);
        }
        if (jstr_eq(f, "upper") || jstr_eq(f, "lower") || jstr_eq(f, "title") ||
            jstr_eq(f, "capitalize"))
            return done(&b,
                        str_map(&b, s,
                                jstr_eq(f, "upper")   ? 0
                                : jstr_eq(f, "lower") ? 1
                                : jstr_eq(f, "title") ? 2
                                                      : 3),
                        out);
        if (jstr_eq(f, "replace")) {
            jv *a1 = jargs_get(args, 1, NULL);
            if (!a0 || !a1 || a0->kind != JV_STR || a1->kind != JV_STR)
                return bad(&b, "replace needs two strings", NULL);
            return done(&b, str_replace(&b, s, a0->u.str, a1->u.str, int_arg(args, 2, "count", -1)),
                        out);
        }
        if (jstr_eq(f, "escape") || jstr_eq(f, "e")) {
            jv *r = v;
            static const char *const pairs[][2] = {
                {"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&#34;"}, {"'", "&#39;"}};
            for (size_t i = 0; i < 5 && r; i++)
                r = str_replace(&b, r->u.str, (jstr){pairs[i][0], 1},
                                (jstr){pairs[i][1], strlen(pairs[i][1])}, -1);
            return done(&b, r, out);
        }
        if (jstr_eq(f, "first") || jstr_eq(f, "last")) {
            if (!s.n) {
                *out = jv_undefined();
                return TM_OK;
            }
            size_t w = jstr_eq(f, "first") ? char_len_at(s.s, s.n) : char_len_before(s.s, s.n);
            return done(&b, jv_str(b.a, jstr_eq(f, "first") ? s.s : s.s + s.n - w, w), out);
        }
        if (jstr_eq(f, "list") || jstr_eq(f, "reverse")) {
            jv *l = jv_new(b.a, JV_LIST);
            if (!l)
                return oom(&b);
            for (size_t i = 0; i < s.n;) {
                size_t w = char_len_at(s.s + i, s.n - i);
                jv *ch = jv_str(b.a, s.s + i, w);
                if (!ch || !jv_list_push(b.a, l, ch))
                    return oom(&b);
                i += w;
            }
            if (jstr_eq(f, "list"))
                return done(&b, l, out);
            jv_list *items = &l->u.list;
            for (size_t i = 0; i < items->n / 2; i++) {
                jv *t = items->items[i];
                items->items[i] = items->items[items->n - 1 - i];
                items->items[items->n - 1 - i] = t;
            }
            return done(&b, join(&b, l, (jstr){"", 0}, NULL), out);
        }
    }
    if (v->kind == JV_LIST || v->kind == JV_DICT) {
        jv *l = v;
        if (v->kind == JV_DICT) /* filters on a mapping see its keys */
            l = dict_items(&b, v, 1);
        if (!l)
            return oom(&b);
        jv_list *items = &l->u.list;
        if (jstr_eq(f, "first") || jstr_eq(f, "last")) {
            *out = items->n == 0 ? jv_undefined()
                                 : items->items[jstr_eq(f, "first") ? 0 : items->n - 1];
            return TM_OK;
        }
        if (jstr_eq(f, "join")) {
            jstr sep = a0 && a0->kind == JV_STR ? a0->u.str : (jstr){"", 0};
            return done(&b, join(&b, l, sep, jargs_get(args, 1, "attribute")), out);
        }
        if (jstr_eq(f, "list"))
            return done(&b, l, out);
        jv *copy = jv_new(b.a, JV_LIST);
        if (!copy)
            return oom(&b);
        if (jstr_eq(f, "reverse")) {
            for (size_t i = items->n; i-- > 0;)
                if (!jv_list_push(b.a, copy, items->items[i]))
                    return oom(&b);
            return done(&b, copy, out);
        }
        if (jstr_eq(f, "unique")) {
            for (size_t i = 0; i < items->n; i++) {
                bool seen = false;
                for (size_t j = 0; j < copy->u.list.n && !seen; j++)
                    seen = jv_equal(copy->u.list.items[j], items->items[i]);
                if (!seen && !jv_list_push(b.a, copy, items->items[i]))
                    return oom(&b);
            }
            return done(&b, copy, out);
        }
        if (jstr_eq(f, "map")) {
            jv *attribute = jargs_get(args, 99, "attribute");
            jv *dflt = jargs_get(args, 99, "default");
            for (size_t i = 0; i < items->n; i++) {
                jv *x;
                if (attribute) {
                    x = attribute_of(items->items[i], attribute);
                    if (x->kind == JV_UNDEFINED && dflt)
                        x = dflt;
                } else {
                    if (!a0 || a0->kind != JV_STR)
                        return bad(&b, "map needs a filter name or attribute=", NULL);
                    jargs rest = {args->pos + 1, args->n_pos ? args->n_pos - 1 : 0, NULL, NULL, 0};
                    tm_status st = jinja_filter(c, &a0->u.str, items->items[i], &rest, &x, err);
                    if (st != TM_OK)
                        return st;
                }
                if (!jv_list_push(b.a, copy, x))
                    return oom(&b);
            }
            return done(&b, copy, out);
        }
        if (jstr_eq(f, "sort") || jstr_eq(f, "min") || jstr_eq(f, "max") || jstr_eq(f, "sum")) {
            jv *attribute = jargs_get(args, jstr_eq(f, "sort") ? 2 : 99, "attribute");
            jv **keys = tm_arena_alloc(b.a, (items->n + 1) * 2 * sizeof *keys);
            if (!keys)
                return oom(&b);
            /* pairs (key, item) sorted by key: a stable insertion sort */
            for (size_t i = 0; i < items->n; i++) {
                keys[2 * i] = attribute_of(items->items[i], attribute);
                keys[2 * i + 1] = items->items[i];
            }
            if (jstr_eq(f, "sum")) {
                jv *total = jv_int(b.a, 0);
                for (size_t i = 0; i < items->n && total; i++) {
                    jv *x = keys[2 * i];
                    total = total->kind == JV_INT && x->kind == JV_INT
                                ? jv_int(b.a, total->u.i + x->u.i)
                                : jv_float(b.a, jv_as_double(total) + jv_as_double(x));
                }
                return done(&b, total, out);
            }
            jv *rev = jstr_eq(f, "sort") ? jargs_get(args, 0, "reverse") : NULL;
            int sign = rev && jv_truthy(rev) ? -1 : 1;
            for (size_t i = 1; i < items->n; i++)
                for (size_t j = i;
                     j > 0 && sign * compare_values(keys[2 * (j - 1)], keys[2 * j]) > 0; j--) {
                    jv *k = keys[2 * j - 2], *it = keys[2 * j - 1];
                    keys[2 * j - 2] = keys[2 * j];
                    keys[2 * j - 1] = keys[2 * j + 1];
                    keys[2 * j] = k;
                    keys[2 * j + 1] = it;
                }
            if (jstr_eq(f, "min") || jstr_eq(f, "max")) {
                *out =
                    items->n == 0 ? jv_undefined() : keys[jstr_eq(f, "min") ? 1 : 2 * items->n - 1];
                return TM_OK;
            }
            for (size_t i = 0; i < items->n; i++)
                if (!jv_list_push(b.a, copy, keys[2 * i + 1]))
                    return oom(&b);
            return done(&b, copy, out);
        }
    }
    static const char *const known[] = {"trim",    "upper",  "lower", "title", "capitalize",
                                        "replace", "first",  "last",  "join",  "list",
                                        "reverse", "unique", "map",   "sort",  "escape",
                                        "e",       "min",    "max",   "sum"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (jstr_eq(f, known[i]))
            return tm_fail(err, TM_E_ARG, "template line %d: filter '%.*s' on a %s", jctx_line(c),
                           (int)f.n, f.s, jv_kind_name(v->kind));
    return tm_fail(err, TM_E_UNSUPPORTED, "template line %d: unknown filter '%.*s'", jctx_line(c),
                   (int)f.n, f.s);
}
