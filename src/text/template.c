/* Chat templates: the public face of the Jinja interpreter. A parsed template owns a copy
 * of its source (the syntax tree points into it); each render gets an arena of its own, so
 * one template serves any number of renders, also at once from several threads. */
#include "jinja.h"
#include "text.h"

#include <string.h>

#define MAX_TEMPLATE_BYTES     ((size_t)1 << 22)
#define MAX_RENDER_ARENA_BYTES ((size_t)256 << 20)

struct tm_template {
    tm_arena arena;
    jn *root;
};

tm_status tm_template_parse(const char *src, size_t len, tm_template **out, tm_err *err)
{
    *out = NULL;
    if (len > MAX_TEMPLATE_BYTES)
        return tm_fail(err, TM_E_LIMIT, "chat template of %zu bytes (limit %zu)", len,
                       MAX_TEMPLATE_BYTES);
    tm_template *t = tm_calloc(1, sizeof *t);
    if (!t)
        return tm_fail(err, TM_E_NOMEM, "chat template");
    tm_arena_init(&t->arena, 64 * MAX_TEMPLATE_BYTES);
    char *copy = tm_arena_alloc(&t->arena, len + 1);
    tm_status st = copy ? TM_OK : tm_fail(err, TM_E_NOMEM, "chat template");
    if (st == TM_OK) {
        if (len)
            memcpy(copy, src, len);
        st = jinja_parse(&t->arena, copy, len, &t->root, err);
    }
    if (st != TM_OK) {
        tm_template_free(t);
        return st;
    }
    *out = t;
    return TM_OK;
}

void tm_template_free(tm_template *t)
{
    if (!t)
        return;
    tm_arena_fini(&t->arena);
    tm_free(t);
}

tm_status tm_template_render(const tm_template *t, const char *context_json, size_t len,
                             const char *defaults_json, tm_buf *out, tm_err *err)
{
    tm_arena a;
    tm_arena_init(&a, MAX_RENDER_ARENA_BYTES);
    jv *globals = NULL, *defaults = NULL;
    tm_status st = jv_from_json(&a, context_json, len, &globals, err);
    if (st == TM_OK && globals->kind != JV_DICT)
        st = tm_fail(err, TM_E_ARG, "the template context is not a JSON object");
    if (st == TM_OK && defaults_json)
        st = jv_from_json(&a, defaults_json, strlen(defaults_json), &defaults, err);
    if (st == TM_OK && defaults && defaults->kind != JV_DICT)
        st = tm_fail(err, TM_E_ARG, "the template defaults are not a JSON object");
    for (size_t i = 0; st == TM_OK && defaults && i < defaults->u.dict.n; i++)
        if (!jv_dict_getv(globals, defaults->u.dict.keys[i]) &&
            !jv_dict_set(&a, globals, defaults->u.dict.keys[i], defaults->u.dict.vals[i]))
            st = tm_fail(err, TM_E_LIMIT, "out of memory for the template context");
    if (st == TM_OK)
        st = jinja_render(&a, t->root, globals, out, err);
    if (st == TM_E_LIMIT && a.total_bytes + 64 * 1024 > a.max_bytes)
        tm_err_context(err, "rendering the chat template needed more than %zu MiB",
                       MAX_RENDER_ARENA_BYTES >> 20);
    tm_arena_fini(&a);
    return st;
}
