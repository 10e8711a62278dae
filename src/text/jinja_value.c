/* Jinja values: constructors, truth and equality, printing as Python prints them (a chat
 * template that prints a list or a float shows what Hugging Face's Python would), and JSON
 * in (the render context) and out (the tojson filter, as Python's json.dumps). */
#include "jinja.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static jv g_undefined = {.kind = JV_UNDEFINED};
static jv g_none = {.kind = JV_NONE};

jv *jv_undefined(void)
{
    return &g_undefined;
}

jv *jv_none(void)
{
    return &g_none;
}

jv *jv_new(tm_arena *a, jv_kind kind)
{
    jv *v = tm_arena_alloc(a, sizeof *v);
    if (v)
        v->kind = kind;
    return v;
}

jv *jv_bool(tm_arena *a, bool b)
{
    jv *v = jv_new(a, JV_BOOL);
    if (v)
        v->u.b = b;
    return v;
}

jv *jv_int(tm_arena *a, int64_t i)
{
    jv *v = jv_new(a, JV_INT);
    if (v)
        v->u.i = i;
    return v;
}

jv *jv_float(tm_arena *a, double f)
{
    jv *v = jv_new(a, JV_FLOAT);
    if (v)
        v->u.f = f;
    return v;
}

jv *jv_str(tm_arena *a, const char *s, size_t n)
{
    jv *v = jv_new(a, JV_STR);
    char *copy = tm_arena_alloc(a, n + 1);
    if (!v || !copy)
        return NULL;
    if (n)
        memcpy(copy, s, n);
    v->u.str.s = copy;
    v->u.str.n = n;
    return v;
}

static bool grow(tm_arena *a, void **items, size_t elem, size_t n, size_t *cap)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = tm_arena_alloc(a, c * elem);
    if (!p)
        return false;
    if (n)
        memcpy(p, *items, n * elem);
    *items = p;
    *cap = c;
    return true;
}

bool jv_list_push(tm_arena *a, jv *list, jv *item)
{
    jv_list *l = &list->u.list;
    if (!grow(a, (void **)&l->items, sizeof *l->items, l->n, &l->cap))
        return false;
    l->items[l->n++] = item;
    return true;
}

jv *jv_dict_getv(const jv *dict, const jv *key)
{
    const jv_dict *d = &dict->u.dict;
    for (size_t i = d->n; i-- > 0;)
        if (jv_equal(d->keys[i], key))
            return d->vals[i];
    return NULL;
}

jv *jv_dict_get(const jv *dict, const char *key, size_t n)
{
    const jv_dict *d = &dict->u.dict;
    for (size_t i = 0; i < d->n; i++) {
        const jv *k = d->keys[i];
        if (k->kind == JV_STR && k->u.str.n == n && memcmp(k->u.str.s, key, n) == 0)
            return d->vals[i];
    }
    return NULL;
}

bool jv_dict_set(tm_arena *a, jv *dict, jv *key, jv *val)
{
    jv_dict *d = &dict->u.dict;
    for (size_t i = 0; i < d->n; i++)
        if (jv_equal(d->keys[i], key)) {
            d->vals[i] = val;
            return true;
        }
    size_t cap = d->cap;
    if (!grow(a, (void **)&d->keys, sizeof *d->keys, d->n, &cap))
        return false;
    if (!grow(a, (void **)&d->vals, sizeof *d->vals, d->n, &d->cap))
        return false;
    d->keys[d->n] = key;
    d->vals[d->n++] = val;
    return true;
}

bool jv_is_number(const jv *v)
{
    return v->kind == JV_INT || v->kind == JV_FLOAT || v->kind == JV_BOOL;
}

double jv_as_double(const jv *v)
{
    switch (v->kind) {
    case JV_INT:
        return (double)v->u.i;
    case JV_FLOAT:
        return v->u.f;
    case JV_BOOL:
        return v->u.b;
    default:
        return 0;
    }
}

bool jv_truthy(const jv *v)
{
    switch (v->kind) {
    case JV_UNDEFINED:
    case JV_NONE:
        return false;
    case JV_BOOL:
        return v->u.b;
    case JV_INT:
        return v->u.i != 0;
    case JV_FLOAT:
        return v->u.f != 0;
    case JV_STR:
        return v->u.str.n > 0;
    case JV_LIST:
        return v->u.list.n > 0;
    case JV_DICT:
        return v->is_namespace || v->u.dict.n > 0;
    case JV_FUNC:
        return true;
    }
    return false;
}

bool jv_equal(const jv *a, const jv *b)
{
    if (jv_is_number(a) && jv_is_number(b)) {
        if (a->kind != JV_FLOAT && b->kind != JV_FLOAT)
            return (a->kind == JV_INT ? a->u.i : a->u.b) == (b->kind == JV_INT ? b->u.i : b->u.b);
        return jv_as_double(a) == jv_as_double(b);
    }
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case JV_UNDEFINED:
    case JV_NONE:
        return true;
    case JV_STR:
        return a->u.str.n == b->u.str.n && memcmp(a->u.str.s, b->u.str.s, a->u.str.n) == 0;
    case JV_LIST:
        if (a->u.list.n != b->u.list.n)
            return false;
        for (size_t i = 0; i < a->u.list.n; i++)
            if (!jv_equal(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case JV_DICT:
        if (a->u.dict.n != b->u.dict.n)
            return false;
        for (size_t i = 0; i < a->u.dict.n; i++) {
            const jv *other = jv_dict_getv(b, a->u.dict.keys[i]);
            if (!other || !jv_equal(a->u.dict.vals[i], other))
                return false;
        }
        return true;
    default:
        return a == b;
    }
}

const char *jv_kind_name(jv_kind k)
{
    static const char *const names[] = {"undefined", "none", "bool", "int",     "float",
                                        "str",       "list", "dict", "function"};
    return names[k];
}

size_t jv_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

size_t jv_utf8_offset(const char *s, size_t n, size_t i)
{
    size_t at = 0;
    for (size_t seen = 0; at < n; at++) {
        if (((unsigned char)s[at] & 0xC0) != 0x80) {
            if (seen == i)
                return at;
            seen++;
        }
    }
    return n;
}

/* ---- printing ---------------------------------------------------------------------------- */

/* Python's repr of a float: the shortest text that reads back the same, with ".0" on
 * integral values. */
static tm_status print_float(tm_buf *out, double f, tm_err *err)
{
    if (isnan(f))
        return tm_buf_append(out, "nan", 3, err);
    if (isinf(f))
        return tm_buf_append(out, f < 0 ? "-inf" : "inf", f < 0 ? 4 : 3, err);
    char text[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, f);
        if (strtod(text, NULL) == f)
            break;
    }
    if (!strpbrk(text, ".en"))
        strcat(text, ".0");
    return tm_buf_append(out, text, strlen(text), err);
}

static tm_status print_repr_str(tm_buf *out, jstr s, tm_err *err)
{
    bool has_single = memchr(s.s, '\'', s.n) != NULL, has_double = memchr(s.s, '"', s.n) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    tm_status st = tm_buf_append(out, &quote, 1, err);
    for (size_t i = 0; i < s.n && st == TM_OK; i++) {
        unsigned char c = (unsigned char)s.s[i];
        if (c == '\\' || c == (unsigned char)quote)
            st = tm_buf_printf(out, err, "\\%c", c);
        else if (c == '\n')
            st = tm_buf_append(out, "\\n", 2, err);
        else if (c == '\r')
            st = tm_buf_append(out, "\\r", 2, err);
        else if (c == '\t')
            st = tm_buf_append(out, "\\t", 2, err);
        else if (c < 0x20 || c == 0x7f)
            st = tm_buf_printf(out, err, "\\x%02x", c);
        else
            st = tm_buf_append(out, &s.s[i], 1, err);
    }
    if (st == TM_OK)
        st = tm_buf_append(out, &quote, 1, err);
    return st;
}

tm_status jv_print(tm_buf *out, const jv *v, bool repr, tm_err *err)
{
    tm_status st = TM_OK;
    switch (v->kind) {
    case JV_UNDEFINED:
        return repr ? tm_buf_append(out, "None", 4, err) : TM_OK;
    case JV_NONE:
        return tm_buf_append(out, "None", 4, err);
    case JV_BOOL:
        return tm_buf_append(out, v->u.b ? "True" : "False", v->u.b ? 4 : 5, err);
    case JV_INT:
        return tm_buf_printf(out, err, "%lld", (long long)v->u.i);
    case JV_FLOAT:
        return print_float(out, v->u.f, err);
    case JV_STR:
        return repr ? print_repr_str(out, v->u.str, err)
                    : tm_buf_append(out, v->u.str.s, v->u.str.n, err);
    case JV_LIST:
        st = tm_buf_append(out, "[", 1, err);
        for (size_t i = 0; i < v->u.list.n && st == TM_OK; i++) {
            if (i)
                st = tm_buf_append(out, ", ", 2, err);
            if (st == TM_OK)
                st = jv_print(out, v->u.list.items[i], true, err);
        }
        return st == TM_OK ? tm_buf_append(out, "]", 1, err) : st;
    case JV_DICT:
        st = tm_buf_append(out, "{", 1, err);
        for (size_t i = 0; i < v->u.dict.n && st == TM_OK; i++) {
            if (i)
                st = tm_buf_append(out, ", ", 2, err);
            if (st == TM_OK)
                st = jv_print(out, v->u.dict.keys[i], true, err);
            if (st == TM_OK)
                st = tm_buf_append(out, ": ", 2, err);
            if (st == TM_OK)
                st = jv_print(out, v->u.dict.vals[i], true, err);
        }
        return st == TM_OK ? tm_buf_append(out, "}", 1, err) : st;
    case JV_FUNC:
        return tm_buf_append(out, "<function>", 10, err);
    }
    return st;
}

/* ---- JSON out ---------------------------------------------------------------------------- */

static tm_status json_string(tm_buf *out, jstr s, tm_err *err)
{
    tm_status st = tm_buf_append(out, "\"", 1, err);
    size_t run = 0; /* bytes copied as they are, flushed before an escape */
    for (size_t i = 0; i < s.n && st == TM_OK; i++) {
        unsigned char c = (unsigned char)s.s[i];
        const char *esc = NULL;
        char u[8];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(u, sizeof u, "\\u%04x", c);
            esc = u;
        }
        if (!esc) {
            run++;
            continue;
        }
        st = tm_buf_append(out, s.s + i - run, run, err);
        run = 0;
        if (st == TM_OK)
            st = tm_buf_append(out, esc, strlen(esc), err);
    }
    if (st == TM_OK)
        st = tm_buf_append(out, s.s + s.n - run, run, err);
    return st == TM_OK ? tm_buf_append(out, "\"", 1, err) : st;
}

static tm_status newline_indent(tm_buf *out, int indent, int depth, tm_err *err)
{
    tm_status st = tm_buf_append(out, "\n", 1, err);
    for (int i = 0; i < indent * depth && st == TM_OK; i++)
        st = tm_buf_append(out, " ", 1, err);
    return st;
}

static int compare_keys(const void *pa, const void *pb)
{
    const jv *a = *(jv *const *)pa, *b = *(jv *const *)pb;
    if (a->kind != JV_STR || b->kind != JV_STR)
        return (int)a->kind - (int)b->kind;
    size_t n = a->u.str.n < b->u.str.n ? a->u.str.n : b->u.str.n;
    int c = memcmp(a->u.str.s, b->u.str.s, n);
    return c ? c : (a->u.str.n > b->u.str.n) - (a->u.str.n < b->u.str.n);
}

static tm_status to_json(tm_buf *out, const jv *v, int indent, bool sort_keys, int depth,
                         tm_err *err)
{
    if (depth > 256)
        return tm_fail(err, TM_E_LIMIT, "tojson: nesting deeper than 256");
    tm_status st = TM_OK;
    const char *sep = indent >= 0 ? "," : ", ";
    switch (v->kind) {
    case JV_UNDEFINED:
    case JV_NONE:
        return tm_buf_append(out, "null", 4, err);
    case JV_BOOL:
        return tm_buf_append(out, v->u.b ? "true" : "false", v->u.b ? 4 : 5, err);
    case JV_INT:
    case JV_FLOAT:
        if (v->kind == JV_FLOAT && isnan(v->u.f))
            return tm_buf_append(out, "NaN", 3, err);
        if (v->kind == JV_FLOAT && isinf(v->u.f))
            return tm_buf_append(out, v->u.f < 0 ? "-Infinity" : "Infinity", v->u.f < 0 ? 9 : 8,
                                 err);
        return jv_print(out, v, false, err);
    case JV_STR:
        return json_string(out, v->u.str, err);
    case JV_LIST:
        if (v->u.list.n == 0)
            return tm_buf_append(out, "[]", 2, err);
        st = tm_buf_append(out, "[", 1, err);
        for (size_t i = 0; i < v->u.list.n && st == TM_OK; i++) {
            if (i)
                st = tm_buf_append(out, sep, strlen(sep), err);
            if (st == TM_OK && indent >= 0)
                st = newline_indent(out, indent, depth + 1, err);
            if (st == TM_OK)
                st = to_json(out, v->u.list.items[i], indent, sort_keys, depth + 1, err);
        }
        if (st == TM_OK && indent >= 0)
            st = newline_indent(out, indent, depth, err);
        return st == TM_OK ? tm_buf_append(out, "]", 1, err) : st;
    case JV_DICT: {
        size_t n = v->u.dict.n;
        if (n == 0)
            return tm_buf_append(out, "{}", 2, err);
        jv **keys = tm_malloc(n * sizeof *keys);
        if (!keys)
            return tm_fail(err, TM_E_NOMEM, "tojson");
        memcpy(keys, v->u.dict.keys, n * sizeof *keys);
        if (sort_keys)
            qsort(keys, n, sizeof *keys, compare_keys);
        st = tm_buf_append(out, "{", 1, err);
        for (size_t i = 0; i < n && st == TM_OK; i++) {
            if (i)
                st = tm_buf_append(out, sep, strlen(sep), err);
            if (st == TM_OK && indent >= 0)
                st = newline_indent(out, indent, depth + 1, err);
            if (st == TM_OK && keys[i]->kind == JV_STR)
                st = json_string(out, keys[i]->u.str, err);
            else if (st == TM_OK) { /* Python writes other keys as their string */
                tm_buf b;
                tm_buf_init(&b, out->max_bytes);
                st = jv_print(&b, keys[i], false, err);
                if (st == TM_OK)
                    st = json_string(out, (jstr){b.data ? b.data : "", b.len}, err);
                tm_buf_fini(&b);
            }
            if (st == TM_OK)
                st = tm_buf_append(out, ": ", 2, err);
            if (st == TM_OK)
                st = to_json(out, jv_dict_getv(v, keys[i]), indent, sort_keys, depth + 1, err);
        }
        tm_free(keys);
        if (st == TM_OK && indent >= 0)
            st = newline_indent(out, indent, depth, err);
        return st == TM_OK ? tm_buf_append(out, "}", 1, err) : st;
    }
    case JV_FUNC:
        return tm_fail(err, TM_E_ARG, "tojson: a function is not JSON");
    }
    return st;
}

tm_status jv_to_json(tm_buf *out, const jv *v, int indent, bool sort_keys, tm_err *err)
{
    return to_json(out, v, indent, sort_keys, 0, err);
}

/* ---- JSON in ----------------------------------------------------------------------------- */

typedef struct json_in {
    tm_arena *a;
    const char *p, *end, *start;
    tm_err *err;
} json_in;

static tm_status json_error(json_in *j, const char *what)
{
    return tm_fail(j->err, TM_E_FORMAT, "JSON: %s at byte %zu", what, (size_t)(j->p - j->start));
}

static void skip_ws(json_in *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = tm_hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static tm_status json_str(json_in *j, jv **out)
{
    j->p++; /* the opening quote */
    const char *s = j->p;
    while (j->p < j->end && *j->p != '"') {
        if (*j->p == '\\')
            j->p++;
        j->p++;
    }
    if (j->p >= j->end)
        return json_error(j, "unterminated string");
    size_t cap = (size_t)(j->p - s);
    char *buf = tm_arena_alloc(j->a, cap + 1);
    jv *v = jv_new(j->a, JV_STR);
    if (!buf || !v)
        return tm_fail(j->err, TM_E_LIMIT, "JSON: out of memory for the template");
    size_t n = 0;
    for (const char *q = s; q < j->p; q++) {
        if ((unsigned char)*q < 0x20)
            return json_error(j, "control character in a string");
        if (*q != '\\') {
            buf[n++] = *q;
            continue;
        }
        char e = *++q;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = e ? strchr(from, e) : NULL;
        if (k) {
            buf[n++] = to[k - from];
            continue;
        }
        if (e != 'u' || j->p - q < 5)
            return json_error(j, "bad escape");
        int cp = hex4(q + 1);
        q += 4;
        if (cp < 0)
            return json_error(j, "bad \\u escape");
        if (cp >= 0xD800 && cp < 0xDC00 && j->p - q >= 7 && q[1] == '\\' && q[2] == 'u') {
            int lo = hex4(q + 3);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
        }
        if (cp >= 0xD800 && cp < 0xE000)
            cp = 0xFFFD; /* a lone surrogate: the replacement character */
        /* an escape is 6+ bytes of input and at most 4 of output: it fits */
        n += put_utf8(buf + n, (uint32_t)cp);
    }
    j->p++;
    v->u.str.s = buf;
    v->u.str.n = n;
    *out = v;
    return TM_OK;
}

static tm_status json_value(json_in *j, int depth, jv **out);

static tm_status json_container(json_in *j, int depth, jv **out)
{
    bool is_list = *j->p == '[';
    jv *v = jv_new(j->a, is_list ? JV_LIST : JV_DICT);
    if (!v)
        return tm_fail(j->err, TM_E_LIMIT, "JSON: out of memory for the template");
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == (is_list ? ']' : '}')) {
        j->p++;
        *out = v;
        return TM_OK;
    }
    for (;;) {
        jv *key = NULL, *item = NULL;
        skip_ws(j);
        if (!is_list) {
            if (j->p >= j->end || *j->p != '"')
                return json_error(j, "expected a string key");
            tm_status st = json_str(j, &key);
            if (st != TM_OK)
                return st;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return json_error(j, "expected ':'");
            j->p++;
        }
        tm_status st = json_value(j, depth + 1, &item);
        if (st != TM_OK)
            return st;
        bool ok = is_list ? jv_list_push(j->a, v, item) : jv_dict_set(j->a, v, key, item);
        if (!ok)
            return tm_fail(j->err, TM_E_LIMIT, "JSON: out of memory for the template");
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (is_list ? ']' : '}')) {
            j->p++;
            *out = v;
            return TM_OK;
        }
        return json_error(j, is_list ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static tm_status json_value(json_in *j, int depth, jv **out)
{
    if (depth > 256)
        return json_error(j, "nesting deeper than 256");
    skip_ws(j);
    if (j->p >= j->end)
        return json_error(j, "unexpected end");
    char c = *j->p;
    if (c == '{' || c == '[')
        return json_container(j, depth, out);
    if (c == '"')
        return json_str(j, out);
    static const struct {
        const char *word;
        int kind;
    } words[] = {{"true", 1}, {"false", 0}, {"null", -1}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i].word, n) == 0) {
            j->p += n;
            *out = words[i].kind < 0 ? jv_none() : jv_bool(j->a, words[i].kind == 1);
            return *out ? TM_OK : tm_fail(j->err, TM_E_LIMIT, "JSON: out of memory");
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        const char *s = j->p;
        bool is_float = false;
        while (j->p < j->end && strchr("+-0123456789.eE", *j->p)) {
            is_float |= *j->p == '.' || *j->p == 'e' || *j->p == 'E';
            j->p++;
        }
        char text[64];
        size_t n = (size_t)(j->p - s);
        if (n >= sizeof text)
            return json_error(j, "number too long");
        memcpy(text, s, n);
        text[n] = 0;
        char *end = NULL;
        if (!is_float) {
            long long i = strtoll(text, &end, 10);
            if (*end == 0 && !(i == LLONG_MAX || i == LLONG_MIN)) {
                *out = jv_int(j->a, i);
                return *out ? TM_OK : tm_fail(j->err, TM_E_LIMIT, "JSON: out of memory");
            }
        }
        double f = strtod(text, &end);
        if (*end != 0)
            return json_error(j, "bad number");
        *out = jv_float(j->a, f);
        return *out ? TM_OK : tm_fail(j->err, TM_E_LIMIT, "JSON: out of memory");
    }
    return json_error(j, "unexpected character");
}

tm_status jv_from_json(tm_arena *a, const char *text, size_t n, jv **out, tm_err *err)
{
    json_in j = {a, text, text + n, text, err};
    tm_status st = json_value(&j, 0, out);
    if (st != TM_OK)
        return st;
    skip_ws(&j);
    return j.p == j.end ? TM_OK : json_error(&j, "text after the value");
}
