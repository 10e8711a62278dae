/* Jinja template source to a syntax tree. The lexer applies whitespace control as Hugging
 * Face renders chat templates: trim_blocks (the newline after a block or comment tag goes),
 * lstrip_blocks (spaces and tabs from the start of a line to a block or comment tag go),
 * "-" on a tag strips all whitespace on that side, and one trailing newline of the template
 * is dropped. Constructs beyond chat templates (include, extends, call blocks, raw) are
 * errors naming them. */
#include "jinja.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 200

typedef enum tk_kind {
    TK_TEXT,
    TK_VAR_BEGIN,
    TK_VAR_END,
    TK_BLOCK_BEGIN,
    TK_BLOCK_END,
    TK_NAME,
    TK_STRING,
    TK_INT,
    TK_FLOAT,
    TK_OP, /* op: a character or a JOP_* */
    TK_EOF,
} tk_kind;

typedef struct tk {
    tk_kind kind;
    int op;
    int line;
    jstr text; /* TEXT, NAME; STRING after unescaping */
    int64_t i;
    double f;
} tk;

typedef struct parser {
    tm_arena *a;
    tk *toks;
    size_t n, cap, at;
    tm_err *err;
    int depth;
} parser;

static tm_status oom(parser *p)
{
    return tm_fail(p->err, TM_E_LIMIT, "template: out of memory");
}

static tm_status push_tok(parser *p, tk t)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        tk *toks = tm_realloc(p->toks, cap * sizeof *toks);
        if (!toks)
            return oom(p);
        p->toks = toks;
        p->cap = cap;
    }
    p->toks[p->n++] = t;
    return TM_OK;
}

/* ---- lexer ------------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_name_char(char c, bool first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

static int count_lines(const char *s, const char *end)
{
    int n = 0;
    for (; s < end; s++)
        n += *s == '\n';
    return n;
}

/* A string literal starting at s[0] (the quote): unescaped into the arena. */
static tm_status lex_string(parser *p, const char **sp, const char *end, int line)
{
    const char *s = *sp;
    char quote = *s++;
    char *buf = tm_arena_alloc(p->a, (size_t)(end - s) + 1);
    if (!buf)
        return oom(p);
    size_t n = 0;
    for (; s < end && *s != quote; s++) {
        if (*s != '\\' || s + 1 >= end) {
            buf[n++] = *s;
            continue;
        }
        char e = *++s;
        switch (e) {
        case 'n':
            buf[n++] = '\n';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case '\\':
        case '\'':
        case '"':
            buf[n++] = e;
            break;
        default: /* Python keeps unknown escapes as written */
            buf[n++] = '\\';
            buf[n++] = e;
        }
    }
    if (s >= end)
        return tm_fail(p->err, TM_E_FORMAT, "template line %d: unterminated string", line);
    *sp = s + 1;
    return push_tok(p, (tk){.kind = TK_STRING, .line = line, .text = {buf, n}});
}

/* The tokens of one tag's inside, up to its closing "}}" or "%}" (returned in *close). */
static tm_status lex_tag(parser *p, const char **sp, const char *end, int *line, char close,
                         bool *strip_after)
{
    const char *s = *sp;
    int depth = 0; /* open brackets: "}}" inside {'a': {}} does not end the tag */
    for (;;) {
        while (s < end && is_space(*s)) {
            *line += *s == '\n';
            s++;
        }
        if (s >= end)
            return tm_fail(p->err, TM_E_FORMAT, "template line %d: unclosed tag", *line);
        /* the end of the tag, with or without "-" / "+" */
        if (depth > 0)
            ; /* inside brackets */
        else if ((*s == '-' || *s == '+') && end - s >= 3 && s[1] == close && s[2] == '}') {
            *strip_after = *s == '-';
            *sp = s + 3;
            return TM_OK;
        } else if (*s == close && end - s >= 2 && s[1] == '}') {
            *strip_after = false;
            *sp = s + 2;
            return TM_OK;
        }
        tm_status st = TM_OK;
        char c = *s;
        if (is_name_char(c, true)) {
            const char *b = s;
            while (s < end && is_name_char(*s, false))
                s++;
            st = push_tok(p, (tk){.kind = TK_NAME, .line = *line, .text = {b, (size_t)(s - b)}});
        } else if (c >= '0' && c <= '9') {
            const char *b = s;
            bool is_float = false;
            while (s < end &&
                   ((*s >= '0' && *s <= '9') || *s == '_' ||
                    (*s == '.' && !is_float && s + 1 < end && s[1] >= '0' && s[1] <= '9'))) {
                is_float |= *s == '.';
                s++;
            }
            /* an exponent: e or E, an optional sign, digits */
            if (s < end && (*s == 'e' || *s == 'E')) {
                const char *e = s + 1;
                if (e < end && (*e == '+' || *e == '-'))
                    e++;
                if (e < end && *e >= '0' && *e <= '9') {
                    while (e < end && *e >= '0' && *e <= '9')
                        e++;
                    s = e;
                    is_float = true;
                }
            }
            char text[64];
            size_t n = 0;
            for (const char *q = b; q < s && n < sizeof text - 1; q++)
                if (*q != '_')
                    text[n++] = *q;
            text[n] = 0;
            tk t = {.kind = is_float ? TK_FLOAT : TK_INT, .line = *line};
            if (is_float)
                t.f = strtod(text, NULL);
            else
                t.i = strtoll(text, NULL, 10);
            st = push_tok(p, t);
        } else if (c == '"' || c == '\'') {
            st = lex_string(p, &s, end, *line);
        } else {
            static const struct {
                const char *text;
                int op;
            } ops[] = {{"==", JOP_EQ}, {"!=", JOP_NE},       {"<=", JOP_LE},
                       {">=", JOP_GE}, {"//", JOP_FLOORDIV}, {"**", JOP_POW}};
            int op = 0;
            for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
                if (end - s >= 2 && memcmp(s, ops[i].text, 2) == 0) {
                    op = ops[i].op;
                    s += 2;
                    break;
                }
            if (!op) {
                if (!strchr("+-*/%~<>=()[]{},.:|", c))
                    return tm_fail(p->err, TM_E_FORMAT, "template line %d: unexpected '%c'", *line,
                                   c);
                op = c;
                s++;
                depth += c == '(' || c == '[' || c == '{';
                depth -= depth > 0 && (c == ')' || c == ']' || c == '}');
            }
            st = push_tok(p, (tk){.kind = TK_OP, .op = op, .line = *line});
        }
        if (st != TM_OK)
            return st;
    }
}

static tm_status lex(parser *p, const char *src, size_t n)
{
    if (n > 0 && src[n - 1] == '\n')
        n--; /* Jinja drops one trailing newline */
    const char *s = src, *end = src + n;
    int line = 1;
    bool strip_next = false; /* a "-" closed the previous tag */
    while (s < end) {
        /* the next tag */
        const char *t = s;
        while (t < end &&
               !(t[0] == '{' && t + 1 < end && (t[1] == '{' || t[1] == '%' || t[1] == '#')))
            t++;
        const char *text_begin = s, *text_end = t;
        char kind = t < end ? t[1] : 0;
        char modifier = t + 2 < end ? t[2] : 0;
        if (strip_next)
            while (text_begin < text_end && is_space(*text_begin))
                text_begin++;
        if (kind && modifier == '-') {
            while (text_end > text_begin && is_space(text_end[-1]))
                text_end--;
        } else if ((kind == '%' || kind == '#') && modifier != '+') {
            /* lstrip_blocks: spaces and tabs from the line's start to the tag */
            const char *q = t;
            while (q > src && (q[-1] == ' ' || q[-1] == '\t'))
                q--;
            if (q == src || q[-1] == '\n')
                text_end = q < text_begin ? text_begin : q;
        }
        if (text_end > text_begin) {
            tm_status st = push_tok(p, (tk){.kind = TK_TEXT,
                                            .line = line + count_lines(s, text_begin),
                                            .text = {text_begin, (size_t)(text_end - text_begin)}});
            if (st != TM_OK)
                return st;
        }
        line += count_lines(s, t);
        if (t >= end)
            break;
        s = t + 2 + (modifier == '-' || modifier == '+');
        bool strip_after = false;
        if (kind == '#') {
            const char *c = s;
            while (c + 1 < end && !(c[0] == '#' && c[1] == '}'))
                c++;
            if (c + 1 >= end)
                return tm_fail(p->err, TM_E_FORMAT, "template line %d: unclosed comment", line);
            strip_after = c > s && c[-1] == '-';
            line += count_lines(s, c);
            s = c + 2;
        } else {
            tm_status st = push_tok(
                p, (tk){.kind = kind == '{' ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, .line = line});
            if (st == TM_OK)
                st = lex_tag(p, &s, end, &line, kind == '{' ? '}' : '%', &strip_after);
            if (st == TM_OK)
                st = push_tok(p,
                              (tk){.kind = kind == '{' ? TK_VAR_END : TK_BLOCK_END, .line = line});
            if (st != TM_OK)
                return st;
        }
        strip_next = strip_after;
        if (!strip_after && kind != '{' && s < end && *s == '\n') { /* trim_blocks */
            s++;
            line++;
        }
    }
    return push_tok(p, (tk){.kind = TK_EOF, .line = line});
}

/* ---- parser ------------------------------------------------------------------------------ */

static tk *cur(parser *p)
{
    return &p->toks[p->at];
}

static bool is_op(parser *p, int op)
{
    return cur(p)->kind == TK_OP && cur(p)->op == op;
}

static bool is_name(parser *p, const char *name)
{
    tk *t = cur(p);
    return t->kind == TK_NAME && t->text.n == strlen(name) &&
           memcmp(t->text.s, name, t->text.n) == 0;
}

static bool jstr_is(jstr s, const char *name)
{
    return s.n == strlen(name) && memcmp(s.s, name, s.n) == 0;
}

static tm_status syntax(parser *p, const char *what)
{
    tk *t = cur(p);
    const char *got = t->kind == TK_EOF                                  ? "the end of the template"
                      : t->kind == TK_BLOCK_END || t->kind == TK_VAR_END ? "the end of the tag"
                                                                         : NULL;
    if (got)
        return tm_fail(p->err, TM_E_FORMAT, "template line %d: expected %s, found %s", t->line,
                       what, got);
    if (t->kind == TK_NAME)
        return tm_fail(p->err, TM_E_FORMAT, "template line %d: expected %s, found '%.*s'", t->line,
                       what, (int)t->text.n, t->text.s);
    return tm_fail(p->err, TM_E_FORMAT, "template line %d: expected %s", t->line, what);
}

static tm_status expect_op(parser *p, int op, const char *what)
{
    if (!is_op(p, op))
        return syntax(p, what);
    p->at++;
    return TM_OK;
}

static jn *node(parser *p, jn_kind kind)
{
    jn *n = tm_arena_alloc(p->a, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = cur(p)->line;
    }
    return n;
}

bool jn_push(tm_arena *a, jn_list *l, jn *n)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jn **items = tm_arena_alloc(a, cap * sizeof *items);
        if (!items)
            return false;
        if (l->n)
            memcpy(items, l->items, l->n * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = n;
    return true;
}

static tm_status parse_expr(parser *p, jn **out);
static tm_status parse_or(parser *p, jn **out);
static tm_status parse_unary(parser *p, jn **out);
static tm_status parse_primary(parser *p, jn **out);

/* Call arguments after "(": positional and name=value, up to ")". */
static tm_status parse_args(parser *p, jn *n)
{
    size_t cap = 0;
    jstr *names = NULL;
    while (!is_op(p, ')')) {
        jstr name = {NULL, 0};
        if (cur(p)->kind == TK_NAME && p->toks[p->at + 1].kind == TK_OP &&
            p->toks[p->at + 1].op == '=') {
            name = cur(p)->text;
            p->at += 2;
        }
        jn *arg = NULL;
        tm_status st = parse_expr(p, &arg);
        if (st != TM_OK)
            return st;
        if (!jn_push(p->a, &n->args, arg))
            return oom(p);
        if (n->args.n > cap) {
            size_t c = cap ? cap * 2 : 4;
            jstr *more = tm_arena_alloc(p->a, c * sizeof *more);
            if (!more)
                return oom(p);
            if (cap)
                memcpy(more, names, cap * sizeof *names);
            names = more;
            cap = c;
        }
        names[n->args.n - 1] = name;
        if (!is_op(p, ','))
            break;
        p->at++;
    }
    n->arg_names = names;
    return expect_op(p, ')', "')'");
}

static tm_status parse_postfix(parser *p, jn **io)
{
    for (;;) {
        if (is_op(p, '.')) {
            p->at++;
            if (cur(p)->kind != TK_NAME && cur(p)->kind != TK_INT)
                return syntax(p, "an attribute name");
            jn *n = node(p, JN_ATTR);
            if (!n)
                return oom(p);
            n->a = *io;
            if (cur(p)->kind == TK_INT) { /* x.0 is x[0] */
                n->kind = JN_INDEX;
                n->b = node(p, JN_LITERAL);
                if (!n->b || !(n->b->lit = jv_int(p->a, cur(p)->i)))
                    return oom(p);
            } else
                n->name = cur(p)->text;
            p->at++;
            *io = n;
        } else if (is_op(p, '[')) {
            p->at++;
            jn *parts[3] = {NULL, NULL, NULL};
            int n_colons = 0;
            for (;;) {
                if (!is_op(p, ':') && !is_op(p, ']')) {
                    tm_status st = parse_expr(p, &parts[n_colons]);
                    if (st != TM_OK)
                        return st;
                }
                if (is_op(p, ':') && n_colons < 2) {
                    n_colons++;
                    p->at++;
                    continue;
                }
                break;
            }
            tm_status st = expect_op(p, ']', "']'");
            if (st != TM_OK)
                return st;
            jn *n = node(p, n_colons ? JN_SLICE : JN_INDEX);
            if (!n)
                return oom(p);
            n->a = *io;
            if (n_colons) {
                for (int i = 0; i < 3; i++)
                    if (!jn_push(p->a, &n->args, parts[i]))
                        return oom(p);
            } else if (!parts[0])
                return syntax(p, "an index");
            else
                n->b = parts[0];
            *io = n;
        } else if (is_op(p, '(')) {
            p->at++;
            jn *n = node(p, JN_CALL);
            if (!n)
                return oom(p);
            n->a = *io;
            tm_status st = parse_args(p, n);
            if (st != TM_OK)
                return st;
            *io = n;
        } else
            return TM_OK;
    }
}

/* Filters ("| name(args)") and tests ("is [not] name [arg]") after a value. */
static tm_status parse_filters(parser *p, jn **io)
{
    for (;;) {
        bool filter = is_op(p, '|');
        if (!filter && !is_name(p, "is"))
            return TM_OK;
        p->at++;
        jn *n = node(p, filter ? JN_FILTER : JN_TEST);
        if (!n)
            return oom(p);
        if (!filter && is_name(p, "not")) {
            n->op = 1;
            p->at++;
        }
        if (cur(p)->kind != TK_NAME)
            return syntax(p, filter ? "a filter name" : "a test name");
        n->name = cur(p)->text;
        p->at++;
        /* dotted names such as "is sameas" stay single words; "none"/"true" are names too */
        n->a = *io;
        if (is_op(p, '(')) {
            p->at++;
            tm_status st = parse_args(p, n);
            if (st != TM_OK)
                return st;
        } else if (!filter) {
            tk *t = cur(p);
            bool arg = t->kind == TK_STRING || t->kind == TK_INT || t->kind == TK_FLOAT ||
                       (t->kind == TK_NAME && !is_name(p, "and") && !is_name(p, "or") &&
                        !is_name(p, "else") && !is_name(p, "if") && !is_name(p, "in") &&
                        !is_name(p, "not") && !is_name(p, "is"));
            if (arg) {
                jn *a = NULL;
                tm_status st = parse_primary(p, &a);
                if (st == TM_OK)
                    st = parse_postfix(p, &a);
                if (st != TM_OK)
                    return st;
                if (!jn_push(p->a, &n->args, a))
                    return oom(p);
                n->arg_names = tm_arena_alloc(p->a, sizeof *n->arg_names);
                if (!n->arg_names)
                    return oom(p);
            }
        }
        *io = n;
    }
}

static tm_status literal(parser *p, jv *v, jn **out)
{
    jn *n = node(p, JN_LITERAL);
    if (!n || !v)
        return oom(p);
    n->lit = v;
    p->at++;
    *out = n;
    return TM_OK;
}

/* "[a, b]", "(a, b)" or "{k: v}" after the opening bracket. */
static tm_status parse_collection(parser *p, jn_kind kind, int close, jn **out)
{
    jn *n = node(p, kind);
    if (!n)
        return oom(p);
    while (!is_op(p, close)) {
        jn *item = NULL;
        tm_status st = parse_expr(p, &item);
        if (st != TM_OK)
            return st;
        if (!jn_push(p->a, &n->args, item))
            return oom(p);
        if (kind == JN_DICT) {
            st = expect_op(p, ':', "':'");
            if (st == TM_OK)
                st = parse_expr(p, &item);
            if (st != TM_OK)
                return st;
            if (!jn_push(p->a, &n->args, item))
                return oom(p);
        }
        if (!is_op(p, ','))
            break;
        p->at++;
    }
    *out = n;
    return expect_op(p, close, close == ']' ? "']'" : close == ')' ? "')'" : "'}'");
}

static tm_status parse_primary(parser *p, jn **out)
{
    tk *t = cur(p);
    if (++p->depth > MAX_DEPTH)
        return tm_fail(p->err, TM_E_LIMIT, "template line %d: expression nested too deeply",
                       t->line);
    tm_status st;
    switch (t->kind) {
    case TK_STRING: {
        /* adjacent string literals join, as in Python */
        size_t n = 0;
        for (size_t i = p->at; p->toks[i].kind == TK_STRING; i++)
            n += p->toks[i].text.n;
        jv *v = jv_new(p->a, JV_STR);
        char *buf = tm_arena_alloc(p->a, n + 1);
        if (!v || !buf)
            return oom(p);
        n = 0;
        while (cur(p)->kind == TK_STRING && p->toks[p->at + 1].kind == TK_STRING) {
            memcpy(buf + n, cur(p)->text.s, cur(p)->text.n);
            n += cur(p)->text.n;
            p->at++;
        }
        memcpy(buf + n, cur(p)->text.s, cur(p)->text.n);
        n += cur(p)->text.n;
        v->u.str.s = buf;
        v->u.str.n = n;
        st = literal(p, v, out);
        break;
    }
    case TK_INT:
        st = literal(p, jv_int(p->a, t->i), out);
        break;
    case TK_FLOAT:
        st = literal(p, jv_float(p->a, t->f), out);
        break;
    case TK_NAME:
        if (is_name(p, "true") || is_name(p, "True"))
            st = literal(p, jv_bool(p->a, true), out);
        else if (is_name(p, "false") || is_name(p, "False"))
            st = literal(p, jv_bool(p->a, false), out);
        else if (is_name(p, "none") || is_name(p, "None"))
            st = literal(p, jv_none(), out);
        else {
            jn *n = node(p, JN_NAME);
            if (!n)
                return oom(p);
            n->name = t->text;
            p->at++;
            *out = n;
            st = TM_OK;
        }
        break;
    case TK_OP:
        if (t->op == '(') {
            p->at++;
            jn *first = NULL;
            if (is_op(p, ')')) { /* the empty tuple */
                p->at++;
                *out = node(p, JN_TUPLE);
                st = *out ? TM_OK : oom(p);
                break;
            }
            st = parse_expr(p, &first);
            if (st != TM_OK)
                break;
            if (is_op(p, ',')) { /* a tuple */
                p->at++;
                jn *rest = NULL;
                st = parse_collection(p, JN_TUPLE, ')', &rest);
                if (st == TM_OK) {
                    jn_list items = {0};
                    if (!jn_push(p->a, &items, first))
                        return oom(p);
                    for (size_t i = 0; i < rest->args.n; i++)
                        if (!jn_push(p->a, &items, rest->args.items[i]))
                            return oom(p);
                    rest->args = items;
                    *out = rest;
                }
                break;
            }
            *out = first;
            st = expect_op(p, ')', "')'");
            break;
        }
        if (t->op == '[' || t->op == '{') {
            p->at++;
            st = parse_collection(p, t->op == '[' ? JN_LIST : JN_DICT, t->op == '[' ? ']' : '}',
                                  out);
            break;
        }
        st = syntax(p, "a value");
        break;
    default:
        st = syntax(p, "a value");
    }
    p->depth--;
    return st;
}

static tm_status parse_unary(parser *p, jn **out)
{
    if (is_op(p, '-') || is_op(p, '+')) {
        jn *n = node(p, JN_UNARY);
        if (!n)
            return oom(p);
        n->op = cur(p)->op;
        p->at++;
        if (++p->depth > MAX_DEPTH)
            return tm_fail(p->err, TM_E_LIMIT, "template: expression nested too deeply");
        tm_status st = parse_unary(p, &n->a);
        p->depth--;
        *out = n;
        return st;
    }
    tm_status st = parse_primary(p, out);
    if (st == TM_OK)
        st = parse_postfix(p, out);
    if (st == TM_OK)
        st = parse_filters(p, out);
    return st;
}

/* Binary operators by precedence level, loosest first: (the level's operators) */
static tm_status parse_binary(parser *p, int level, jn **out);

static const int g_levels[][4] = {
    {'+', '-', 0, 0},
    {'~', 0, 0, 0},
    {'*', '/', JOP_FLOORDIV, '%'},
    {JOP_POW, 0, 0, 0},
};
#define N_LEVELS 4

static tm_status parse_binary(parser *p, int level, jn **out)
{
    if (level == N_LEVELS)
        return parse_unary(p, out);
    tm_status st = parse_binary(p, level + 1, out);
    while (st == TM_OK && cur(p)->kind == TK_OP) {
        int op = cur(p)->op;
        bool found = false;
        for (int i = 0; i < 4; i++)
            found |= g_levels[level][i] == op && op != 0;
        if (!found)
            break;
        p->at++;
        jn *n = node(p, JN_BINARY);
        if (!n)
            return oom(p);
        n->op = op;
        n->a = *out;
        st = parse_binary(p, level + 1, &n->b);
        *out = n;
    }
    return st;
}

static tm_status parse_compare(parser *p, jn **out)
{
    tm_status st = parse_binary(p, 0, out);
    for (;;) {
        if (st != TM_OK)
            return st;
        int op = 0;
        tk *t = cur(p);
        if (t->kind == TK_OP && (t->op == JOP_EQ || t->op == JOP_NE || t->op == '<' ||
                                 t->op == '>' || t->op == JOP_LE || t->op == JOP_GE)) {
            op = t->op;
            p->at++;
        } else if (is_name(p, "in")) {
            op = JOP_IN;
            p->at++;
        } else if (is_name(p, "not") && p->toks[p->at + 1].kind == TK_NAME &&
                   jstr_is(p->toks[p->at + 1].text, "in")) {
            op = JOP_NOTIN;
            p->at += 2;
        } else
            return TM_OK;
        jn *n = node(p, JN_BINARY);
        if (!n)
            return oom(p);
        n->op = op;
        n->a = *out;
        st = parse_binary(p, 0, &n->b);
        *out = n;
    }
}

static tm_status parse_not(parser *p, jn **out)
{
    if (is_name(p, "not")) {
        jn *n = node(p, JN_UNARY);
        if (!n)
            return oom(p);
        n->op = '!';
        p->at++;
        if (++p->depth > MAX_DEPTH)
            return tm_fail(p->err, TM_E_LIMIT, "template: expression nested too deeply");
        tm_status st = parse_not(p, &n->a);
        p->depth--;
        *out = n;
        return st;
    }
    return parse_compare(p, out);
}

static tm_status parse_logic(parser *p, bool is_or, jn **out)
{
    tm_status st = is_or ? parse_logic(p, false, out) : parse_not(p, out);
    while (st == TM_OK && is_name(p, is_or ? "or" : "and")) {
        p->at++;
        jn *n = node(p, is_or ? JN_OR : JN_AND);
        if (!n)
            return oom(p);
        n->a = *out;
        st = is_or ? parse_logic(p, false, &n->b) : parse_not(p, &n->b);
        *out = n;
    }
    return st;
}

static tm_status parse_or(parser *p, jn **out)
{
    return parse_logic(p, true, out);
}

static tm_status parse_expr(parser *p, jn **out)
{
    if (++p->depth > MAX_DEPTH)
        return tm_fail(p->err, TM_E_LIMIT, "template line %d: expression nested too deeply",
                       cur(p)->line);
    tm_status st = parse_or(p, out);
    if (st == TM_OK && is_name(p, "if")) {
        p->at++;
        jn *n = node(p, JN_COND);
        if (!n)
            return oom(p);
        n->b = *out;
        st = parse_or(p, &n->a);
        if (st == TM_OK && is_name(p, "else")) {
            p->at++;
            st = parse_expr(p, &n->c);
        }
        *out = n;
    }
    p->depth--;
    return st;
}

/* ---- statements -------------------------------------------------------------------------- */

static tm_status parse_body(parser *p, jn_list *body, const char *const *stops, size_t n_stops,
                            jstr *stopped);

static tm_status end_tag(parser *p)
{
    if (cur(p)->kind != TK_BLOCK_END)
        return syntax(p, "'%}'");
    p->at++;
    return TM_OK;
}

static tm_status parse_if(parser *p, jn *n)
{
    static const char *const stops[] = {"elif", "else", "endif"};
    tm_status st = parse_expr(p, &n->a);
    if (st == TM_OK)
        st = end_tag(p);
    jstr stop;
    if (st == TM_OK)
        st = parse_body(p, &n->body, stops, 3, &stop);
    if (st != TM_OK)
        return st;
    if (jstr_is(stop, "elif")) {
        jn *elif = node(p, JN_IF);
        if (!elif || !jn_push(p->a, &n->orelse, elif))
            return oom(p);
        return parse_if(p, elif);
    }
    if (jstr_is(stop, "else")) {
        static const char *const end[] = {"endif"};
        st = end_tag(p);
        if (st == TM_OK)
            st = parse_body(p, &n->orelse, end, 1, &stop);
    }
    return st == TM_OK ? end_tag(p) : st;
}

static tm_status parse_names(parser *p, jn *n)
{
    size_t cap = 4;
    n->targets = tm_arena_alloc(p->a, cap * sizeof *n->targets);
    if (!n->targets)
        return oom(p);
    bool paren = is_op(p, '(');
    if (paren)
        p->at++;
    for (;;) {
        if (cur(p)->kind != TK_NAME)
            return syntax(p, "a variable name");
        if (n->n_targets == cap)
            return tm_fail(p->err, TM_E_UNSUPPORTED, "template line %d: more than 4 loop variables",
                           cur(p)->line);
        n->targets[n->n_targets++] = cur(p)->text;
        p->at++;
        if (!is_op(p, ','))
            break;
        p->at++;
    }
    return paren ? expect_op(p, ')', "')'") : TM_OK;
}

static tm_status parse_for(parser *p, jn *n)
{
    static const char *const stops[] = {"else", "endfor"};
    tm_status st = parse_names(p, n);
    if (st != TM_OK)
        return st;
    if (!is_name(p, "in"))
        return syntax(p, "'in'");
    p->at++;
    st = parse_or(p, &n->a);
    if (st == TM_OK && is_name(p, "if")) {
        p->at++;
        st = parse_or(p, &n->b);
    }
    if (st == TM_OK && is_name(p, "recursive"))
        return tm_fail(p->err, TM_E_UNSUPPORTED, "template line %d: recursive loops", n->line);
    if (st == TM_OK)
        st = end_tag(p);
    jstr stop;
    if (st == TM_OK)
        st = parse_body(p, &n->body, stops, 2, &stop);
    if (st == TM_OK && jstr_is(stop, "else")) {
        st = end_tag(p);
        if (st == TM_OK)
            st = parse_body(p, &n->orelse, stops + 1, 1, &stop);
    }
    return st == TM_OK ? end_tag(p) : st;
}

static tm_status parse_set(parser *p, jn *n)
{
    if (cur(p)->kind != TK_NAME)
        return syntax(p, "a variable name");
    jn *target = node(p, JN_NAME);
    if (!target)
        return oom(p);
    target->name = cur(p)->text;
    p->at++;
    if (is_op(p, '.')) { /* namespace attribute */
        p->at++;
        if (cur(p)->kind != TK_NAME)
            return syntax(p, "an attribute name");
        jn *attr = node(p, JN_ATTR);
        if (!attr)
            return oom(p);
        attr->a = target;
        attr->name = cur(p)->text;
        p->at++;
        target = attr;
    } else if (is_op(p, ',')) { /* a, b = ... */
        jn *tuple = node(p, JN_TUPLE);
        if (!tuple || !jn_push(p->a, &tuple->args, target))
            return oom(p);
        while (is_op(p, ',')) {
            p->at++;
            if (cur(p)->kind != TK_NAME)
                return syntax(p, "a variable name");
            jn *name = node(p, JN_NAME);
            if (!name || !jn_push(p->a, &tuple->args, name))
                return oom(p);
            name->name = cur(p)->text;
            p->at++;
        }
        target = tuple;
    }
    n->b = target;
    if (is_op(p, '=')) {
        p->at++;
        tm_status st = parse_expr(p, &n->a);
        if (st == TM_OK && is_op(p, ',')) { /* set x = a, b: a tuple */
            jn *tuple = node(p, JN_TUPLE);
            if (!tuple || !jn_push(p->a, &tuple->args, n->a))
                return oom(p);
            while (st == TM_OK && is_op(p, ',')) {
                p->at++;
                jn *item = NULL;
                st = parse_expr(p, &item);
                if (st == TM_OK && !jn_push(p->a, &tuple->args, item))
                    return oom(p);
            }
            n->a = tuple;
        }
        return st == TM_OK ? end_tag(p) : st;
    }
    if (target->kind != JN_NAME)
        return syntax(p, "'='");
    /* {% set x %}...{% endset %} */
    static const char *const stops[] = {"endset"};
    jstr stop;
    tm_status st = end_tag(p);
    if (st == TM_OK)
        st = parse_body(p, &n->body, stops, 1, &stop);
    return st == TM_OK ? end_tag(p) : st;
}

static tm_status parse_macro(parser *p, jn *n)
{
    if (cur(p)->kind != TK_NAME)
        return syntax(p, "a macro name");
    n->name = cur(p)->text;
    p->at++;
    tm_status st = expect_op(p, '(', "'('");
    size_t cap = 0;
    while (st == TM_OK && !is_op(p, ')')) {
        if (cur(p)->kind != TK_NAME)
            return syntax(p, "a parameter name");
        jn *param = node(p, JN_NAME);
        if (!param || !jn_push(p->a, &n->args, param))
            return oom(p);
        param->name = cur(p)->text;
        p->at++;
        if (n->args.n > cap) {
            size_t c = cap ? cap * 2 : 4;
            jn **more = tm_arena_alloc(p->a, c * sizeof *more);
            if (!more)
                return oom(p);
            if (cap)
                memcpy(more, n->arg_vals, cap * sizeof *more);
            n->arg_vals = more;
            cap = c;
        }
        if (is_op(p, '=')) {
            p->at++;
            st = parse_expr(p, &n->arg_vals[n->args.n - 1]);
        }
        if (st == TM_OK && is_op(p, ','))
            p->at++;
        else
            break;
    }
    if (st == TM_OK)
        st = expect_op(p, ')', "')'");
    if (st == TM_OK)
        st = end_tag(p);
    static const char *const stops[] = {"endmacro"};
    jstr stop;
    if (st == TM_OK)
        st = parse_body(p, &n->body, stops, 1, &stop);
    return st == TM_OK ? end_tag(p) : st;
}

/* Statements until one of stops (returned in *stopped, its tag's name consumed) or, with
 * no stops, the end of the template. */
static tm_status parse_body(parser *p, jn_list *body, const char *const *stops, size_t n_stops,
                            jstr *stopped)
{
    if (++p->depth > MAX_DEPTH)
        return tm_fail(p->err, TM_E_LIMIT, "template line %d: blocks nested too deeply",
                       cur(p)->line);
    for (;;) {
        tk *t = cur(p);
        jn *n = NULL;
        tm_status st = TM_OK;
        if (t->kind == TK_EOF) {
            if (n_stops == 0)
                break;
            return tm_fail(p->err, TM_E_FORMAT, "template: missing {%% %s %%} at the end",
                           stops[n_stops - 1]);
        }
        if (t->kind == TK_TEXT) {
            n = node(p, JN_TEXT);
            if (!n)
                return oom(p);
            n->name = t->text;
            p->at++;
        } else if (t->kind == TK_VAR_BEGIN) {
            p->at++;
            n = node(p, JN_OUTPUT);
            if (!n)
                return oom(p);
            st = parse_expr(p, &n->a);
            if (st == TM_OK && cur(p)->kind != TK_VAR_END)
                st = syntax(p, "'}}'");
            p->at++;
        } else if (t->kind == TK_BLOCK_BEGIN) {
            p->at++;
            if (cur(p)->kind != TK_NAME)
                return syntax(p, "a statement");
            jstr word = cur(p)->text;
            for (size_t i = 0; i < n_stops; i++)
                if (jstr_is(word, stops[i])) {
                    p->at++;
                    *stopped = word;
                    p->depth--;
                    return TM_OK;
                }
            p->at++;
            if (jstr_is(word, "if")) {
                n = node(p, JN_IF);
                st = n ? parse_if(p, n) : oom(p);
            } else if (jstr_is(word, "for")) {
                n = node(p, JN_FOR);
                st = n ? parse_for(p, n) : oom(p);
            } else if (jstr_is(word, "set")) {
                n = node(p, JN_SET);
                st = n ? parse_set(p, n) : oom(p);
            } else if (jstr_is(word, "macro")) {
                n = node(p, JN_MACRO);
                st = n ? parse_macro(p, n) : oom(p);
            } else if (jstr_is(word, "break") || jstr_is(word, "continue")) {
                n = node(p, jstr_is(word, "break") ? JN_BREAK : JN_CONTINUE);
                st = n ? end_tag(p) : oom(p);
            } else if (jstr_is(word, "generation") || jstr_is(word, "endgeneration")) {
                st = end_tag(p); /* marks assistant text for training masks: no output */
            } else {
                return tm_fail(p->err, TM_E_UNSUPPORTED,
                               "template line %d: unsupported or misplaced statement '%.*s'",
                               t->line, (int)word.n, word.s);
            }
        } else
            return syntax(p, "text or a tag");
        if (st != TM_OK)
            return st;
        if (n && !jn_push(p->a, body, n))
            return oom(p);
    }
    p->depth--;
    return TM_OK;
}

tm_status jinja_parse(tm_arena *a, const char *src, size_t n, jn **root, tm_err *err)
{
    parser p = {.a = a, .err = err};
    tm_status st = lex(&p, src, n);
    jn *r = NULL;
    if (st == TM_OK) {
        r = node(&p, JN_IF); /* the root: an "if true" whose body is the template */
        st = r ? TM_OK : oom(&p);
    }
    if (st == TM_OK)
        st = parse_body(&p, &r->body, NULL, 0, NULL);
    tm_free(p.toks);
    *root = st == TM_OK ? r : NULL;
    return st;
}
