/* Inside the text layer: the Jinja subset that chat templates use. Values (jinja_value.c),
 * syntax tree and parser (jinja_parse.c), evaluator (jinja_eval.c), filters, tests and
 * methods (jinja_builtins.c). Everything of one parse or one render lives in an arena. */
#ifndef TM_TEXT_JINJA_H
#define TM_TEXT_JINJA_H

#include "../base/base.h"

typedef struct jstr {
    const char *s;
    size_t n;
} jstr;

typedef enum jv_kind {
    JV_UNDEFINED,
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STR,
    JV_LIST,
    JV_DICT, /* insertion-ordered; also namespaces (mutable) and the loop object */
    JV_FUNC, /* a macro, a builtin function, or a method bound to its object */
} jv_kind;

typedef struct jv jv;
typedef struct jn jn;

typedef struct jv_list {
    jv **items;
    size_t n, cap;
} jv_list;

typedef struct jv_dict {
    jv **keys;
    jv **vals;
    size_t n, cap;
} jv_dict;

struct jv {
    jv_kind kind;
    bool is_namespace;
    union {
        bool b;
        int64_t i;
        double f;
        jstr str;
        jv_list list;
        jv_dict dict;
        struct {
            const jn *macro; /* or NULL for a builtin */
            int builtin;     /* index into the builtin function or method table */
            jv *self;        /* the object a method is bound to */
        } fn;
    } u;
};

/* ---- values (jinja_value.c) ---- */
jv *jv_new(tm_arena *a, jv_kind kind);
jv *jv_bool(tm_arena *a, bool b);
jv *jv_int(tm_arena *a, int64_t i);
jv *jv_float(tm_arena *a, double f);
jv *jv_str(tm_arena *a, const char *s, size_t n); /* copies */
jv *jv_undefined(void);                           /* shared constants */
jv *jv_none(void);
bool jv_list_push(tm_arena *a, jv *list, jv *item);
bool jv_dict_set(tm_arena *a, jv *dict, jv *key, jv *val);  /* replaces an equal key */
jv *jv_dict_get(const jv *dict, const char *key, size_t n); /* NULL if absent */
jv *jv_dict_getv(const jv *dict, const jv *key);
bool jv_truthy(const jv *v);
bool jv_equal(const jv *a, const jv *b);
bool jv_is_number(const jv *v);
double jv_as_double(const jv *v);
const char *jv_kind_name(jv_kind k);
/* Appends v as Jinja prints it (Python's str()); repr: strings quoted, as inside a list. */
tm_status jv_print(tm_buf *out, const jv *v, bool repr, tm_err *err);
/* JSON as Python's json.dumps(ensure_ascii=False): separators ", " and ": ", or with indent
 * >= 0 newlines and that many spaces per level ("," and ": "). sort_keys sorts dict keys. */
tm_status jv_to_json(tm_buf *out, const jv *v, int indent, bool sort_keys, tm_err *err);
/* Parses JSON text into values (objects keep their key order). */
tm_status jv_from_json(tm_arena *a, const char *text, size_t n, jv **out, tm_err *err);
/* Code points in a UTF-8 string (invalid bytes count one each). */
size_t jv_utf8_count(const char *s, size_t n);
/* Byte offset of code point i (clamped to n). */
size_t jv_utf8_offset(const char *s, size_t n, size_t i);

/* ---- syntax tree (jinja_parse.c) ---- */
typedef enum jn_kind {
    /* statements */
    JN_TEXT,   /* name = the text */
    JN_OUTPUT, /* a */
    JN_IF,     /* a = condition, body, orelse */
    JN_FOR,    /* targets, a = iterable, b = filter condition or NULL, body, orelse */
    JN_SET,    /* b = target (NAME, ATTR or TUPLE of NAMEs); a = value, or body when NULL */
    JN_MACRO,  /* name, args = parameters (NAME nodes), defaults in arg_vals, body */
    JN_BREAK,
    JN_CONTINUE,
    /* expressions */
    JN_LITERAL, /* lit */
    JN_NAME,    /* name */
    JN_ATTR,    /* a.name */
    JN_INDEX,   /* a[b] */
    JN_SLICE,   /* a[args[0]:args[1]:args[2]] (NULL entries for absent parts) */
    JN_CALL,    /* a(args), keyword names in arg_names */
    JN_FILTER,  /* a | name(args) */
    JN_TEST,    /* a is [not] name(args); op = 1 for "is not" */
    JN_UNARY,   /* op a: '-', '+', '!' (not) */
    JN_BINARY,  /* a op b */
    JN_AND,
    JN_OR,
    JN_COND,  /* b if a else c */
    JN_LIST,  /* args */
    JN_TUPLE, /* args */
    JN_DICT,  /* args: key, value, key, value ... */
} jn_kind;

/* binary operators beyond single characters */
enum { JOP_EQ = 256, JOP_NE, JOP_LE, JOP_GE, JOP_FLOORDIV, JOP_POW, JOP_IN, JOP_NOTIN };

typedef struct jn_list {
    jn **items;
    size_t n, cap;
} jn_list;

struct jn {
    jn_kind kind;
    int op;
    int line;
    jstr name;
    jv *lit;
    jn *a, *b, *c;
    jn_list args;
    jstr *arg_names; /* [args.n] for calls and filters: keyword names, {NULL, 0} positional */
    jn **arg_vals;   /* [args.n] macro parameter defaults (NULL when none) */
    jn_list body, orelse;
    jstr *targets; /* for-loop variables */
    size_t n_targets;
};

/* Parses template source (trim_blocks and lstrip_blocks on, one trailing newline dropped,
 * as Hugging Face renders chat templates). */
tm_status jinja_parse(tm_arena *a, const char *src, size_t n, jn **root, tm_err *err);
bool jn_push(tm_arena *a, jn_list *l, jn *n);

/* ---- evaluation (jinja_eval.c, jinja_builtins.c) ---- */
typedef struct jctx jctx;
/* Renders root with the variables of globals (a dict) into out. */
tm_status jinja_render(tm_arena *a, const jn *root, jv *globals, tm_buf *out, tm_err *err);

/* Builtins, called by the evaluator with evaluated arguments (kw names beside them). */
typedef struct jargs {
    jv **pos;
    size_t n_pos;
    jstr *kw_names;
    jv **kw;
    size_t n_kw;
} jargs;
int jinja_find_function(const char *name, size_t n); /* -1 if none */
int jinja_find_method(jv_kind kind, const char *name, size_t n);
jv *jinja_bind_method(tm_arena *a, jv *self, int method);
tm_status jinja_call_builtin(jctx *c, const jv *fn, const jargs *args, jv **out, tm_err *err);
tm_status jinja_filter(jctx *c, const jstr *name, jv *v, const jargs *args, jv **out, tm_err *err);
tm_status jinja_test(jctx *c, const jstr *name, jv *v, const jargs *args, bool *out, tm_err *err);
/* For builtins that call back into the evaluator (map, select, ...) and allocate. */
tm_arena *jctx_arena(jctx *c);
int jctx_line(jctx *c);
jv *jargs_get(const jargs *a, size_t pos, const char *kw); /* NULL if absent */

#endif
