/* Evaluates a Jinja syntax tree. Scoping follows Jinja: a for loop's body has its own
 * scope (a "set" inside does not leak out; namespaces exist for that), a macro sees the
 * template's top level and its parameters. Work is bounded (steps, macro depth, output
 * bytes, arena bytes), so a hostile template ends in an error, not a hang. */
#include "jinja.h"

#include <math.h>
#include <string.h>

#define MAX_STEPS      20000000
#define MAX_CALL_DEPTH 64

typedef struct frame {
    jv *vars; /* a dict */
    struct frame *parent;
} frame;

typedef enum flow { FLOW_NONE, FLOW_BREAK, FLOW_CONTINUE } flow;

struct jctx {
    tm_arena *a;
    tm_buf *out;
    tm_err *err;
    frame *scope, *globals;
    int64_t steps;
    int call_depth;
    int line;
    flow flow;
};

tm_arena *jctx_arena(jctx *c)
{
    return c->a;
}

int jctx_line(jctx *c)
{
    return c->line;
}

static tm_status oom(jctx *c)
{
    return tm_fail(c->err, TM_E_LIMIT, "template line %d: out of memory for rendering", c->line);
}

static tm_status fail(jctx *c, const char *what, const char *detail)
{
    return tm_fail(c->err, TM_E_ARG, "template line %d: %s%s", c->line, what, detail ? detail : "");
}

static tm_status step(jctx *c, const jn *n)
{
    c->line = n->line;
    if (++c->steps > MAX_STEPS)
        return tm_fail(c->err, TM_E_LIMIT, "template line %d: more than %d evaluation steps",
                       c->line, MAX_STEPS);
    return TM_OK;
}

static jv *key_of(jctx *c, jstr name)
{
    return jv_str(c->a, name.s, name.n);
}

static jv *lookup(jctx *c, jstr name)
{
    for (frame *f = c->scope; f; f = f->parent) {
        jv *v = jv_dict_get(f->vars, name.s, name.n);
        if (v)
            return v;
    }
    int fn = jinja_find_function(name.s, name.n);
    if (fn >= 0) {
        jv *v = jv_new(c->a, JV_FUNC);
        if (v)
            v->u.fn.builtin = fn;
        return v;
    }
    return jv_undefined();
}

static tm_status assign(jctx *c, jstr name, jv *v)
{
    jv *key = key_of(c, name);
    if (!key || !jv_dict_set(c->a, c->scope->vars, key, v))
        return oom(c);
    return TM_OK;
}

static tm_status eval(jctx *c, const jn *n, jv **out);
static tm_status exec_body(jctx *c, const jn_list *body);

/* ---- calls ------------------------------------------------------------------------------- */

jv *jargs_get(const jargs *a, size_t pos, const char *kw)
{
    if (kw)
        for (size_t i = 0; i < a->n_kw; i++)
            if (a->kw_names[i].n == strlen(kw) &&
                memcmp(a->kw_names[i].s, kw, a->kw_names[i].n) == 0)
                return a->kw[i];
    return pos < a->n_pos ? a->pos[pos] : NULL;
}

/* Evaluates call arguments (n->args, keyword names in n->arg_names). */
static tm_status eval_args(jctx *c, const jn *n, jargs *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = n->args.n ? n->args.n : 1;
    out->pos = tm_arena_alloc(c->a, cap * sizeof *out->pos);
    out->kw = tm_arena_alloc(c->a, cap * sizeof *out->kw);
    out->kw_names = tm_arena_alloc(c->a, cap * sizeof *out->kw_names);
    if (!out->pos || !out->kw || !out->kw_names)
        return oom(c);
    for (size_t i = 0; i < n->args.n; i++) {
        jv *v = NULL;
        tm_status st = eval(c, n->args.items[i], &v);
        if (st != TM_OK)
            return st;
        if (n->arg_names && n->arg_names[i].s) {
            out->kw_names[out->n_kw] = n->arg_names[i];
            out->kw[out->n_kw++] = v;
        } else
            out->pos[out->n_pos++] = v;
    }
    return TM_OK;
}

static tm_status call_macro(jctx *c, const jv *fn, const jargs *args, jv **out)
{
    const jn *m = fn->u.fn.macro;
    if (c->call_depth >= MAX_CALL_DEPTH)
        return tm_fail(c->err, TM_E_LIMIT, "template line %d: macros nested deeper than %d",
                       c->line, MAX_CALL_DEPTH);
    if (args->n_pos > m->args.n)
        return fail(c, "too many arguments to a macro", NULL);
    frame f = {jv_new(c->a, JV_DICT), c->globals};
    if (!f.vars)
        return oom(c);
    frame *saved_scope = c->scope;
    c->scope = &f;
    tm_status st = TM_OK;
    for (size_t i = 0; i < m->args.n && st == TM_OK; i++) {
        jstr name = m->args.items[i]->name;
        jv *v = i < args->n_pos ? args->pos[i] : NULL;
        for (size_t k = 0; k < args->n_kw && !v; k++)
            if (args->kw_names[k].n == name.n && memcmp(args->kw_names[k].s, name.s, name.n) == 0)
                v = args->kw[k];
        if (!v && m->arg_vals && m->arg_vals[i])
            st = eval(c, m->arg_vals[i], &v);
        if (st == TM_OK)
            st = assign(c, name, v ? v : jv_undefined());
    }
    tm_buf body, *saved_out = c->out;
    tm_buf_init(&body, saved_out->max_bytes);
    c->out = &body;
    c->call_depth++;
    if (st == TM_OK)
        st = exec_body(c, &m->body);
    c->call_depth--;
    c->out = saved_out;
    c->scope = saved_scope;
    c->flow = FLOW_NONE;
    if (st == TM_OK) {
        *out = jv_str(c->a, body.data ? body.data : "", body.len);
        if (!*out)
            st = oom(c);
    }
    tm_buf_fini(&body);
    return st;
}

static tm_status call(jctx *c, const jn *n, jv **out)
{
    jv *fn = NULL;
    tm_status st = eval(c, n->a, &fn);
    if (st != TM_OK)
        return st;
    jargs args;
    st = eval_args(c, n, &args);
    if (st != TM_OK)
        return st;
    c->line = n->line;
    if (fn->kind != JV_FUNC) {
        if (n->a->kind == JN_NAME || n->a->kind == JN_ATTR)
            return tm_fail(c->err, TM_E_ARG, "template line %d: '%.*s' is not callable (%s)",
                           c->line, (int)n->a->name.n, n->a->name.s, jv_kind_name(fn->kind));
        return fail(c, "calling a value that is not a function", NULL);
    }
    if (fn->u.fn.macro)
        return call_macro(c, fn, &args, out);
    return jinja_call_builtin(c, fn, &args, out, c->err);
}

/* ---- operators --------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static tm_status arith(jctx *c, int op, jv *x, jv *y, jv **out)
{
    if (!jv_is_number(x) || !jv_is_number(y))
        return tm_fail(c->err, TM_E_ARG,
                       "template line %d: unsupported operand types for '%s': %s and %s", c->line,
                       op == '+'            ? "+"
                       : op == '-'          ? "-"
                       : op == '*'          ? "*"
                       : op == '/'          ? "/"
                       : op == JOP_FLOORDIV ? "//"
                       : op == '%'          ? "%"
                                            : "**",
                       jv_kind_name(x->kind), jv_kind_name(y->kind));
    bool ints = x->kind != JV_FLOAT && y->kind != JV_FLOAT;
    /* a float's union member is not a bool: read only the member the kind says */
    int64_t a = x->kind == JV_INT ? x->u.i : x->kind == JV_BOOL ? (int64_t)x->u.b : 0;
    int64_t b = y->kind == JV_INT ? y->u.i : y->kind == JV_BOOL ? (int64_t)y->u.b : 0;
    double fa = jv_as_double(x), fb = jv_as_double(y);
    if ((op == '/' || op == JOP_FLOORDIV || op == '%') && fb == 0)
        return fail(c, "division by zero", NULL);
    switch (op) {
    case '+':
        *out = ints ? jv_int(c->a, (int64_t)((uint64_t)a + (uint64_t)b)) : jv_float(c->a, fa + fb);
        break;
    case '-':
        *out = ints ? jv_int(c->a, (int64_t)((uint64_t)a - (uint64_t)b)) : jv_float(c->a, fa - fb);
        break;
    case '*':
        *out = ints ? jv_int(c->a, (int64_t)((uint64_t)a * (uint64_t)b)) : jv_float(c->a, fa * fb);
        break;
    case '/':
        *out = jv_float(c->a, fa / fb);
        break;
    case JOP_FLOORDIV:
        *out = ints && !(a == INT64_MIN && b == -1) ? jv_int(c->a, floor_div(a, b))
                                                    : jv_float(c->a, floor(fa / fb));
        break;
    case '%':
        if (ints && !(a == INT64_MIN && b == -1)) {
            int64_t r = a % b;
            *out = jv_int(c->a, (r != 0 && ((r < 0) != (b < 0))) ? r + b : r);
        } else {
            double r = fmod(fa, fb);
            *out = jv_float(c->a, (r != 0 && ((r < 0) != (fb < 0))) ? r + fb : r);
        }
        break;
    default: /* ** */
        if (ints && b >= 0 && b < 64) {
            int64_t r = 1;
            for (int64_t i = 0; i < b; i++)
                r = (int64_t)((uint64_t)r * (uint64_t)a);
            *out = jv_int(c->a, r);
        } else
            *out = jv_float(c->a, pow(fa, fb));
    }
    return *out ? TM_OK : oom(c);
}

static tm_status concat(jctx *c, jv *x, jv *y, jv **out)
{
    tm_buf b;
    tm_buf_init(&b, c->out->max_bytes);
    tm_status st = jv_print(&b, x, false, c->err);
    if (st == TM_OK)
        st = jv_print(&b, y, false, c->err);
    if (st == TM_OK && !(*out = jv_str(c->a, b.data ? b.data : "", b.len)))
        st = oom(c);
    tm_buf_fini(&b);
    return st;
}

static int compare(jctx *c, jv *x, jv *y, bool *ok)
{
    *ok = true;
    if (jv_is_number(x) && jv_is_number(y)) {
        double a = jv_as_double(x), b = jv_as_double(y);
        if (x->kind == JV_INT && y->kind == JV_INT)
            return (x->u.i > y->u.i) - (x->u.i < y->u.i);
        return (a > b) - (a < b);
    }
    if (x->kind == JV_STR && y->kind == JV_STR) {
        size_t n = x->u.str.n < y->u.str.n ? x->u.str.n : y->u.str.n;
        int r = memcmp(x->u.str.s, y->u.str.s, n);
        return r ? (r > 0) - (r < 0) : (x->u.str.n > y->u.str.n) - (x->u.str.n < y->u.str.n);
    }
    (void)c;
    *ok = false;
    return 0;
}

static tm_status contains(jctx *c, jv *item, jv *in, bool *out)
{
    *out = false;
    if (in->kind == JV_STR) {
        if (item->kind != JV_STR)
            return fail(c, "'in <string>' needs a string on the left", NULL);
        jstr h = in->u.str, k = item->u.str;
        if (k.n == 0) {
            *out = true;
            return TM_OK;
        }
        for (size_t i = 0; i + k.n <= h.n && !*out; i++)
            *out = memcmp(h.s + i, k.s, k.n) == 0;
        return TM_OK;
    }
    if (in->kind == JV_LIST) {
        for (size_t i = 0; i < in->u.list.n && !*out; i++)
            *out = jv_equal(in->u.list.items[i], item);
        return TM_OK;
    }
    if (in->kind == JV_DICT) {
        *out = jv_dict_getv(in, item) != NULL;
        return TM_OK;
    }
    if (in->kind == JV_UNDEFINED || in->kind == JV_NONE)
        return TM_OK;
    return tm_fail(c->err, TM_E_ARG, "template line %d: 'in' on a %s", c->line,
                   jv_kind_name(in->kind));
}

static tm_status binary(jctx *c, const jn *n, jv **out)
{
    jv *x = NULL, *y = NULL;
    tm_status st = eval(c, n->a, &x);
    if (st == TM_OK)
        st = eval(c, n->b, &y);
    if (st != TM_OK)
        return st;
    c->line = n->line;
    bool r, ok;
    switch (n->op) {
    case JOP_EQ:
    case JOP_NE:
        *out = jv_bool(c->a, jv_equal(x, y) == (n->op == JOP_EQ));
        return *out ? TM_OK : oom(c);
    case '<':
    case '>':
    case JOP_LE:
    case JOP_GE: {
        int cmp = compare(c, x, y, &ok);
        if (!ok)
            return tm_fail(c->err, TM_E_ARG, "template line %d: cannot compare %s with %s", c->line,
                           jv_kind_name(x->kind), jv_kind_name(y->kind));
        r = n->op == '<' ? cmp < 0 : n->op == '>' ? cmp > 0 : n->op == JOP_LE ? cmp <= 0 : cmp >= 0;
        *out = jv_bool(c->a, r);
        return *out ? TM_OK : oom(c);
    }
    case JOP_IN:
    case JOP_NOTIN:
        st = contains(c, x, y, &r);
        if (st == TM_OK && !(*out = jv_bool(c->a, r == (n->op == JOP_IN))))
            st = oom(c);
        return st;
    case '~':
        return concat(c, x, y, out);
    case '+':
        if (x->kind == JV_STR && y->kind == JV_STR)
            return concat(c, x, y, out);
        if (x->kind == JV_LIST && y->kind == JV_LIST) {
            jv *l = jv_new(c->a, JV_LIST);
            if (!l)
                return oom(c);
            for (size_t i = 0; i < x->u.list.n; i++)
                if (!jv_list_push(c->a, l, x->u.list.items[i]))
                    return oom(c);
            for (size_t i = 0; i < y->u.list.n; i++)
                if (!jv_list_push(c->a, l, y->u.list.items[i]))
                    return oom(c);
            *out = l;
            return TM_OK;
        }
        break;
    case '*':
        if ((x->kind == JV_STR && y->kind == JV_INT) || (x->kind == JV_INT && y->kind == JV_STR)) {
            jv *s = x->kind == JV_STR ? x : y;
            int64_t times = x->kind == JV_INT ? x->u.i : y->u.i;
            if (times < 0)
                times = 0;
            if (s->u.str.n && (uint64_t)times > c->out->max_bytes / s->u.str.n)
                return tm_fail(c->err, TM_E_LIMIT, "template line %d: string repeated too often",
                               c->line);
            tm_buf b;
            tm_buf_init(&b, c->out->max_bytes);
            for (int64_t i = 0; i < times && st == TM_OK; i++)
                st = tm_buf_append(&b, s->u.str.s, s->u.str.n, c->err);
            if (st == TM_OK && !(*out = jv_str(c->a, b.data ? b.data : "", b.len)))
                st = oom(c);
            tm_buf_fini(&b);
            return st;
        }
        break;
    default:
        break;
    }
    return arith(c, n->op, x, y, out);
}

/* ---- attribute, index, slice --------------------------------------------------------------- */

static tm_status attr(jctx *c, const jn *n, jv **out)
{
    jv *obj = NULL;
    tm_status st = eval(c, n->a, &obj);
    if (st != TM_OK)
        return st;
    *out = NULL;
    if (obj->kind == JV_DICT)
        *out = jv_dict_get(obj, n->name.s, n->name.n);
    if (!*out) {
        int m = jinja_find_method(obj->kind, n->name.s, n->name.n);
        if (m >= 0 && !obj->is_namespace) {
            *out = jinja_bind_method(c->a, obj, m);
            if (!*out)
                return oom(c);
        }
    }
    if (!*out)
        *out = jv_undefined();
    return TM_OK;
}

static tm_status index_value(jctx *c, jv *obj, jv *key, jv **out)
{
    *out = jv_undefined();
    if (obj->kind == JV_DICT) {
        jv *v = jv_dict_getv(obj, key);
        if (v)
            *out = v;
        return TM_OK;
    }
    if ((obj->kind == JV_LIST || obj->kind == JV_STR) && key->kind == JV_INT) {
        int64_t i = key->u.i;
        if (obj->kind == JV_LIST) {
            int64_t n = (int64_t)obj->u.list.n;
            if (i < 0)
                i += n;
            if (i >= 0 && i < n)
                *out = obj->u.list.items[i];
            return TM_OK;
        }
        int64_t n = (int64_t)jv_utf8_count(obj->u.str.s, obj->u.str.n);
        if (i < 0)
            i += n;
        if (i >= 0 && i < n) {
            size_t b = jv_utf8_offset(obj->u.str.s, obj->u.str.n, (size_t)i);
            size_t e = jv_utf8_offset(obj->u.str.s, obj->u.str.n, (size_t)i + 1);
            *out = jv_str(c->a, obj->u.str.s + b, e - b);
            if (!*out)
                return oom(c);
        }
        return TM_OK;
    }
    if (obj->kind == JV_DICT || obj->kind == JV_UNDEFINED || obj->kind == JV_NONE)
        return TM_OK;
    if (key->kind == JV_STR) { /* x['name'] also finds methods, as x.name does */
        int m = jinja_find_method(obj->kind, key->u.str.s, key->u.str.n);
        if (m >= 0 && !(*out = jinja_bind_method(c->a, obj, m)))
            return oom(c);
    }
    return TM_OK;
}

/* Python's slice indices for a sequence of n: start, stop and step resolved. */
static tm_status slice_bounds(jctx *c, jv *parts[3], int64_t n, int64_t *start, int64_t *stop,
                              int64_t *stepv)
{
    for (int i = 0; i < 3; i++)
        if (parts[i] && parts[i]->kind != JV_INT && parts[i]->kind != JV_NONE)
            return fail(c, "slice indices must be integers", NULL);
    int64_t s = parts[2] && parts[2]->kind == JV_INT ? parts[2]->u.i : 1;
    if (s == 0)
        return fail(c, "slice step cannot be zero", NULL);
    int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? n : n - 1;
    int64_t a = s > 0 ? 0 : n - 1, b = s > 0 ? n : -1;
    if (parts[0] && parts[0]->kind == JV_INT) {
        a = parts[0]->u.i < 0 ? parts[0]->u.i + n : parts[0]->u.i;
        a = a < lo ? lo : a > hi ? hi : a;
    }
    if (parts[1] && parts[1]->kind == JV_INT) {
        b = parts[1]->u.i < 0 ? parts[1]->u.i + n : parts[1]->u.i;
        b = b < lo ? lo : b > hi ? hi : b;
    }
    *start = a;
    *stop = b;
    *stepv = s;
    return TM_OK;
}

static tm_status slice(jctx *c, const jn *n, jv **out)
{
    jv *obj = NULL, *parts[3] = {NULL, NULL, NULL};
    tm_status st = eval(c, n->a, &obj);
    for (int i = 0; i < 3 && st == TM_OK; i++)
        if (n->args.items[i])
            st = eval(c, n->args.items[i], &parts[i]);
    if (st != TM_OK)
        return st;
    if (obj->kind != JV_LIST && obj->kind != JV_STR)
        return tm_fail(c->err, TM_E_ARG, "template line %d: slicing a %s", n->line,
                       jv_kind_name(obj->kind));
    bool is_str = obj->kind == JV_STR;
    int64_t len =
        is_str ? (int64_t)jv_utf8_count(obj->u.str.s, obj->u.str.n) : (int64_t)obj->u.list.n;
    int64_t a = 0, b = 0, s = 1;
    st = slice_bounds(c, parts, len, &a, &b, &s);
    if (st != TM_OK)
        return st;
    if (is_str) {
        tm_buf buf;
        tm_buf_init(&buf, c->out->max_bytes);
        for (int64_t i = a; (s > 0 ? i < b : i > b) && st == TM_OK; i += s) {
            size_t from = jv_utf8_offset(obj->u.str.s, obj->u.str.n, (size_t)i);
            size_t to = jv_utf8_offset(obj->u.str.s, obj->u.str.n, (size_t)i + 1);
            st = tm_buf_append(&buf, obj->u.str.s + from, to - from, c->err);
        }
        if (st == TM_OK && !(*out = jv_str(c->a, buf.data ? buf.data : "", buf.len)))
            st = oom(c);
        tm_buf_fini(&buf);
        return st;
    }
    jv *l = jv_new(c->a, JV_LIST);
    if (!l)
        return oom(c);
    for (int64_t i = a; s > 0 ? i < b : i > b; i += s)
        if (!jv_list_push(c->a, l, obj->u.list.items[i]))
            return oom(c);
    *out = l;
    return TM_OK;
}

/* ---- expressions ------------------------------------------------------------------------- */

static tm_status eval(jctx *c, const jn *n, jv **out)
{
    tm_status st = step(c, n);
    if (st != TM_OK)
        return st;
    jv *x = NULL;
    switch (n->kind) {
    case JN_LITERAL:
        *out = n->lit;
        return TM_OK;
    case JN_NAME:
        *out = lookup(c, n->name);
        return *out ? TM_OK : oom(c);
    case JN_ATTR:
        return attr(c, n, out);
    case JN_INDEX: {
        jv *key = NULL;
        st = eval(c, n->a, &x);
        if (st == TM_OK)
            st = eval(c, n->b, &key);
        return st == TM_OK ? index_value(c, x, key, out) : st;
    }
    case JN_SLICE:
        return slice(c, n, out);
    case JN_CALL:
        return call(c, n, out);
    case JN_FILTER:
    case JN_TEST: {
        jargs args;
        st = eval(c, n->a, &x);
        if (st == TM_OK)
            st = eval_args(c, n, &args);
        if (st != TM_OK)
            return st;
        c->line = n->line;
        if (n->kind == JN_FILTER)
            return jinja_filter(c, &n->name, x, &args, out, c->err);
        bool r = false;
        st = jinja_test(c, &n->name, x, &args, &r, c->err);
        if (st == TM_OK && !(*out = jv_bool(c->a, r != (n->op == 1))))
            st = oom(c);
        return st;
    }
    case JN_UNARY:
        st = eval(c, n->a, &x);
        if (st != TM_OK)
            return st;
        if (n->op == '!')
            *out = jv_bool(c->a, !jv_truthy(x));
        else if (!jv_is_number(x))
            return tm_fail(c->err, TM_E_ARG, "template line %d: unary '%c' on a %s", n->line, n->op,
                           jv_kind_name(x->kind));
        else if (n->op == '+')
            *out = x;
        else
            *out = x->kind == JV_FLOAT ? jv_float(c->a, -x->u.f)
                                       : jv_int(c->a, -(x->kind == JV_INT ? x->u.i : x->u.b));
        return *out ? TM_OK : oom(c);
    case JN_BINARY:
        return binary(c, n, out);
    case JN_AND:
    case JN_OR:
        st = eval(c, n->a, &x);
        if (st != TM_OK)
            return st;
        if (jv_truthy(x) == (n->kind == JN_OR)) {
            *out = x;
            return TM_OK;
        }
        return eval(c, n->b, out);
    case JN_COND:
        st = eval(c, n->a, &x);
        if (st != TM_OK)
            return st;
        if (jv_truthy(x))
            return eval(c, n->b, out);
        if (n->c)
            return eval(c, n->c, out);
        *out = jv_undefined();
        return TM_OK;
    case JN_LIST:
    case JN_TUPLE:
    case JN_DICT: {
        jv *v = jv_new(c->a, n->kind == JN_DICT ? JV_DICT : JV_LIST);
        if (!v)
            return oom(c);
        for (size_t i = 0; i < n->args.n && st == TM_OK; i++) {
            jv *item = NULL;
            st = eval(c, n->args.items[i], &item);
            if (st != TM_OK)
                break;
            if (n->kind != JN_DICT) {
                if (!jv_list_push(c->a, v, item))
                    return oom(c);
                continue;
            }
            jv *val = NULL;
            st = eval(c, n->args.items[++i], &val);
            if (st == TM_OK && !jv_dict_set(c->a, v, item, val))
                return oom(c);
        }
        *out = v;
        return st;
    }
    default:
        return fail(c, "a statement where a value belongs", NULL);
    }
}

/* ---- statements -------------------------------------------------------------------------- */

/* The items a for loop walks: a list's items, a dict's keys, a string's characters. */
static tm_status iterate(jctx *c, jv *v, jv **out)
{
    if (v->kind == JV_LIST) {
        *out = v;
        return TM_OK;
    }
    jv *l = jv_new(c->a, JV_LIST);
    if (!l)
        return oom(c);
    *out = l;
    if (v->kind == JV_DICT) {
        for (size_t i = 0; i < v->u.dict.n; i++)
            if (!jv_list_push(c->a, l, v->u.dict.keys[i]))
                return oom(c);
        return TM_OK;
    }
    if (v->kind == JV_STR) {
        size_t n = jv_utf8_count(v->u.str.s, v->u.str.n);
        for (size_t i = 0; i < n; i++) {
            size_t b = jv_utf8_offset(v->u.str.s, v->u.str.n, i);
            size_t e = jv_utf8_offset(v->u.str.s, v->u.str.n, i + 1);
            jv *ch = jv_str(c->a, v->u.str.s + b, e - b);
            if (!ch || !jv_list_push(c->a, l, ch))
                return oom(c);
        }
        return TM_OK;
    }
    if (v->kind == JV_UNDEFINED || v->kind == JV_NONE)
        return TM_OK;
    return tm_fail(c->err, TM_E_ARG, "template line %d: a %s is not iterable", c->line,
                   jv_kind_name(v->kind));
}

static tm_status bind_targets(jctx *c, const jn *n, jv *item)
{
    if (n->n_targets == 1)
        return assign(c, n->targets[0], item);
    if (item->kind != JV_LIST || item->u.list.n != n->n_targets)
        return tm_fail(c->err, TM_E_ARG,
                       "template line %d: cannot unpack a %s into %zu loop variables", n->line,
                       jv_kind_name(item->kind), n->n_targets);
    tm_status st = TM_OK;
    for (size_t i = 0; i < n->n_targets && st == TM_OK; i++)
        st = assign(c, n->targets[i], item->u.list.items[i]);
    return st;
}

static tm_status set_loop_field(jctx *c, jv *loop, const char *name, jv *v)
{
    jv *key = jv_str(c->a, name, strlen(name));
    if (!key || !v || !jv_dict_set(c->a, loop, key, v))
        return oom(c);
    return TM_OK;
}

static tm_status exec_for(jctx *c, const jn *n)
{
    jv *seq = NULL, *items = NULL;
    tm_status st = eval(c, n->a, &seq);
    if (st == TM_OK)
        st = iterate(c, seq, &items);
    if (st != TM_OK)
        return st;
    frame f = {NULL, c->scope};
    frame *saved = c->scope;
    c->scope = &f;
    if (n->b) { /* "for x in xs if cond": the loop sees only the items that pass */
        jv *kept = jv_new(c->a, JV_LIST);
        if (!kept)
            st = oom(c);
        for (size_t i = 0; st == TM_OK && i < items->u.list.n; i++) {
            jv *ok = NULL;
            if (!(f.vars = jv_new(c->a, JV_DICT)))
                st = oom(c);
            if (st == TM_OK)
                st = bind_targets(c, n, items->u.list.items[i]);
            if (st == TM_OK)
                st = eval(c, n->b, &ok);
            if (st == TM_OK && jv_truthy(ok) && !jv_list_push(c->a, kept, items->u.list.items[i]))
                st = oom(c);
        }
        items = kept;
    }
    size_t len = st == TM_OK ? items->u.list.n : 0;
    for (size_t i = 0; i < len && st == TM_OK; i++) {
        jv *loop = jv_new(c->a, JV_DICT);
        if (!(f.vars = jv_new(c->a, JV_DICT)) || !loop)
            st = oom(c);
        if (st == TM_OK)
            st = bind_targets(c, n, items->u.list.items[i]);
        if (st == TM_OK)
            st = set_loop_field(c, loop, "index", jv_int(c->a, (int64_t)i + 1));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "index0", jv_int(c->a, (int64_t)i));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "revindex", jv_int(c->a, (int64_t)(len - i)));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "revindex0", jv_int(c->a, (int64_t)(len - i - 1)));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "first", jv_bool(c->a, i == 0));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "last", jv_bool(c->a, i + 1 == len));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "length", jv_int(c->a, (int64_t)len));
        if (st == TM_OK)
            st = set_loop_field(c, loop, "previtem",
                                i > 0 ? items->u.list.items[i - 1] : jv_undefined());
        if (st == TM_OK)
            st = set_loop_field(c, loop, "nextitem",
                                i + 1 < len ? items->u.list.items[i + 1] : jv_undefined());
        if (st == TM_OK)
            st = assign(c, (jstr){"loop", 4}, loop);
        if (st == TM_OK)
            st = exec_body(c, &n->body);
        if (c->flow == FLOW_BREAK) {
            c->flow = FLOW_NONE;
            break;
        }
        c->flow = FLOW_NONE;
    }
    c->scope = saved;
    if (st == TM_OK && len == 0 && n->orelse.n)
        st = exec_body(c, &n->orelse);
    return st;
}

static tm_status exec_set(jctx *c, const jn *n)
{
    jv *v = NULL;
    tm_status st = TM_OK;
    if (n->a)
        st = eval(c, n->a, &v);
    else { /* {% set x %}body{% endset %} */
        tm_buf body, *saved = c->out;
        tm_buf_init(&body, saved->max_bytes);
        c->out = &body;
        st = exec_body(c, &n->body);
        c->out = saved;
        if (st == TM_OK && !(v = jv_str(c->a, body.data ? body.data : "", body.len)))
            st = oom(c);
        tm_buf_fini(&body);
    }
    if (st != TM_OK)
        return st;
    const jn *t = n->b;
    if (t->kind == JN_NAME)
        return assign(c, t->name, v);
    if (t->kind == JN_ATTR) {
        jv *ns = lookup(c, t->a->name);
        if (ns->kind != JV_DICT || !ns->is_namespace)
            return tm_fail(c->err, TM_E_ARG,
                           "template line %d: cannot set an attribute of '%.*s' (not a namespace)",
                           n->line, (int)t->a->name.n, t->a->name.s);
        jv *key = key_of(c, t->name);
        return key && jv_dict_set(c->a, ns, key, v) ? TM_OK : oom(c);
    }
    /* a, b = value */
    if (v->kind != JV_LIST || v->u.list.n != t->args.n)
        return tm_fail(c->err, TM_E_ARG, "template line %d: cannot unpack into %zu names", n->line,
                       t->args.n);
    for (size_t i = 0; i < t->args.n && st == TM_OK; i++)
        st = assign(c, t->args.items[i]->name, v->u.list.items[i]);
    return st;
}

static tm_status exec_body(jctx *c, const jn_list *body)
{
    for (size_t i = 0; i < body->n && c->flow == FLOW_NONE; i++) {
        const jn *n = body->items[i];
        tm_status st = step(c, n);
        jv *v = NULL;
        if (st != TM_OK)
            return st;
        switch (n->kind) {
        case JN_TEXT:
            st = tm_buf_append(c->out, n->name.s, n->name.n, c->err);
            break;
        case JN_OUTPUT:
            st = eval(c, n->a, &v);
            if (st == TM_OK)
                st = jv_print(c->out, v, false, c->err);
            break;
        case JN_IF:
            st = eval(c, n->a, &v);
            if (st == TM_OK)
                st = exec_body(c, jv_truthy(v) ? &n->body : &n->orelse);
            break;
        case JN_FOR:
            st = exec_for(c, n);
            break;
        case JN_SET:
            st = exec_set(c, n);
            break;
        case JN_MACRO:
            v = jv_new(c->a, JV_FUNC);
            if (!v)
                return oom(c);
            v->u.fn.macro = n;
            st = assign(c, n->name, v);
            break;
        case JN_BREAK:
            c->flow = FLOW_BREAK;
            break;
        case JN_CONTINUE:
            c->flow = FLOW_CONTINUE;
            break;
        default:
            st = fail(c, "a value where a statement belongs", NULL);
        }
        if (st != TM_OK) {
            if (st == TM_E_LIMIT && c->out->len >= c->out->max_bytes / 2)
                tm_err_context(c->err, "template output");
            return st;
        }
    }
    return TM_OK;
}

tm_status jinja_render(tm_arena *a, const jn *root, jv *globals, tm_buf *out, tm_err *err)
{
    frame g = {globals, NULL};
    jctx c = {.a = a, .out = out, .err = err, .scope = &g, .globals = &g, .line = 1};
    return exec_body(&c, &root->body);
}

/* The evaluator's calls for builtins that take callables (map with a macro, ...). */
tm_status jinja_call_value(jctx *c, const jv *fn, const jargs *args, jv **out);
tm_status jinja_call_value(jctx *c, const jv *fn, const jargs *args, jv **out)
{
    if (fn->kind != JV_FUNC)
        return fail(c, "calling a value that is not a function", NULL);
    return fn->u.fn.macro ? call_macro(c, fn, args, out)
                          : jinja_call_builtin(c, fn, args, out, c->err);
}
