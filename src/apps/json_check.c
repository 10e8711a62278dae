/* The JSON of a model's reply against a schema (see json_check.h). jansson parses; the
 * schema walk is ours, over the subset the header lists. Paths in reasons are written as
 * "$", "$.owner", "$[2].due_date" so a reader finds the spot in the reply. */
#include "json_check.h"

#include <string.h>

bool tm_json_is_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

#if TM_HAVE_JANSSON
#include <jansson.h>

#define MAX_PATH 160

typedef struct check {
    char path[MAX_PATH];
    size_t n_path;
    char *reason;
    size_t cap;
} check;

static const char *const g_known[] = {
    "type",    "enum",     "properties", "required",    "additionalProperties",
    "items",   "minItems", "maxItems",   "minLength",   "maxLength",
    "minimum", "maximum",  "format",     "description", "title",
};
static const char *const g_types[] = {"object", "array",   "string", "integer",
                                      "number", "boolean", "null"};
static const char *const g_formats[] = {"date", "time", "email"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool bad_schema(tm_err *err, const char *path, const char *what)
{
    tm_fail(err, TM_E_ARG, "schema at %s: %s", path, what);
    return false;
}

static bool is_count(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* Every keyword known and well-typed, recursively. */
static bool schema_ok(const json_t *s, const char *path, int depth, tm_err *err)
{
    if (depth > 64)
        return bad_schema(err, path, "nested deeper than 64 levels");
    if (!json_is_object(s))
        return bad_schema(err, path, "not an object");
    const char *key;
    const json_t *v;
    char sub[MAX_PATH];
    json_object_foreach((json_t *)s, key, v)
    {
        if (!in_list(key, g_known, TM_ARRAY_LEN(g_known))) {
            tm_fail(err, TM_E_ARG, "schema at %s: keyword '%.40s' is outside the subset", path,
                    key);
            return false;
        }
        if (strcmp(key, "type") == 0) {
            if (json_is_string(v)) {
                if (!in_list(json_string_value(v), g_types, TM_ARRAY_LEN(g_types)))
                    return bad_schema(err, path, "unknown type name");
            } else if (json_is_array(v) && json_array_size(v) > 0) {
                for (size_t i = 0; i < json_array_size(v); i++) {
                    const json_t *t = json_array_get(v, i);
                    if (!json_is_string(t) ||
                        !in_list(json_string_value(t), g_types, TM_ARRAY_LEN(g_types)))
                        return bad_schema(err, path, "unknown type name in the type list");
                }
            } else
                return bad_schema(err, path, "type is neither a name nor a list of names");
        } else if (strcmp(key, "enum") == 0) {
            if (!json_is_array(v) || json_array_size(v) == 0)
                return bad_schema(err, path, "enum is not a non-empty list");
        } else if (strcmp(key, "properties") == 0) {
            if (!json_is_object(v))
                return bad_schema(err, path, "properties is not an object");
            const char *pk;
            const json_t *pv;
            json_object_foreach((json_t *)v, pk, pv)
            {
                snprintf(sub, sizeof sub, "%s.%.40s", path, pk);
                if (!schema_ok(pv, sub, depth + 1, err))
                    return false;
            }
        } else if (strcmp(key, "required") == 0) {
            if (!json_is_array(v))
                return bad_schema(err, path, "required is not a list");
            for (size_t i = 0; i < json_array_size(v); i++)
                if (!json_is_string(json_array_get(v, i)))
                    return bad_schema(err, path, "required lists a non-string");
        } else if (strcmp(key, "additionalProperties") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(sub, sizeof sub, "%s.*", path);
                if (!schema_ok(v, sub, depth + 1, err))
                    return false;
            }
        } else if (strcmp(key, "items") == 0) {
            snprintf(sub, sizeof sub, "%s[]", path);
            if (!schema_ok(v, sub, depth + 1, err))
                return false;
        } else if (strncmp(key, "min", 3) == 0 || strncmp(key, "max", 3) == 0) {
            bool counts = strcmp(key, "minimum") != 0 && strcmp(key, "maximum") != 0;
            if (counts ? !is_count(v) : !json_is_number(v))
                return bad_schema(err, path,
                                  counts ? "a min/max count is not a non-negative integer"
                                         : "minimum/maximum is not a number");
        } else if (strcmp(key, "format") == 0) {
            if (!json_is_string(v) ||
                !in_list(json_string_value(v), g_formats, TM_ARRAY_LEN(g_formats)))
                return bad_schema(err, path, "format is not one of date, time, email");
        } else if (!json_is_string(v)) { /* description, title */
            return bad_schema(err, path, "description/title is not a string");
        }
    }
    return true;
}

static void fail(check *c, const char *fmt, const char *a, const char *b)
{
    if (c->reason[0] == '\0')
        snprintf(c->reason, c->cap, "%s: %s%s%s", c->path, fmt, a ? a : "", b ? b : "");
}

/* A short readable picture of a value for reasons: a string quoted (cut at a character
 * boundary), else its JSON type. */
static void preview(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v), k = TM_MIN(n, (size_t)40);
        while (k > 0 && k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
        snprintf(buf, cap, "\"%.*s%s\"", (int)k, s, k < n ? "..." : "");
        return;
    }
    const char *name = json_is_object(v)    ? "an object"
                       : json_is_array(v)   ? "an array"
                       : json_is_integer(v) ? "an integer"
                       : json_is_real(v)    ? "a number"
                       : json_is_boolean(v) ? "a boolean"
                                            : "null";
    snprintf(buf, cap, "%s", name);
}

static bool type_is(const json_t *v, const char *t)
{
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "integer") == 0) /* 2.0 is an integer too (JSON Schema draft 6 on) */
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v));
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    return json_is_null(v);
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xc0) != 0x80;
    return k;
}

static bool is_time(const char *s, size_t n)
{
    if (n != 5 && n != 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (i % 3 == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    int sec = n == 8 ? (s[6] - '0') * 10 + (s[7] - '0') : 0;
    return h < 24 && m < 60 && sec < 60;
}

static bool is_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || at == s || memchr(at + 1, '@', n - (size_t)(at + 1 - s)))
        return false;
    const char *dom = at + 1, *end = s + n;
    const char *dot = memchr(dom, '.', (size_t)(end - dom));
    if (!dot || dot == dom || end[-1] == '.')
        return false;
    for (const char *p = s; p < end; p++)
        if ((unsigned char)*p <= ' ')
            return false;
    return true;
}

static bool format_ok(const char *f, const char *s, size_t n)
{
    if (strcmp(f, "date") == 0)
        return tm_json_is_date(s, n);
    if (strcmp(f, "time") == 0)
        return is_time(s, n);
    return is_email(s, n);
}

static bool check_value(check *c, const json_t *s, const json_t *v);

static bool check_object(check *c, const json_t *s, const json_t *v)
{
    const json_t *props = json_object_get(s, "properties");
    const json_t *req = json_object_get(s, "required");
    const json_t *extra = json_object_get(s, "additionalProperties");
    size_t n_path = c->n_path;
    for (size_t i = 0; req && i < json_array_size(req); i++) {
        const char *k = json_string_value(json_array_get(req, i));
        if (!json_object_get(v, k)) {
            fail(c, "the required member '", k, "' is missing");
            return false;
        }
    }
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)v, key, member)
    {
        const json_t *sub = props ? json_object_get(props, key) : NULL;
        if (!sub && json_is_false(extra)) {
            fail(c, "member '", key, "' is not in the schema");
            return false;
        }
        if (!sub && json_is_object(extra))
            sub = extra;
        if (!sub)
            continue;
        snprintf(c->path + n_path, sizeof c->path - n_path, ".%.40s", key);
        c->n_path = strlen(c->path);
        bool ok = check_value(c, sub, member);
        c->path[c->n_path = n_path] = '\0';
        if (!ok)
            return false;
    }
    return true;
}

static bool check_array(check *c, const json_t *s, const json_t *v)
{
    const json_t *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");
    char num[32];
    if (mn && json_array_size(v) < (size_t)json_integer_value(mn)) {
        snprintf(num, sizeof num, "%zu", json_array_size(v));
        fail(c, "too few items: ", num, "");
        return false;
    }
    if (mx && json_array_size(v) > (size_t)json_integer_value(mx)) {
        snprintf(num, sizeof num, "%zu", json_array_size(v));
        fail(c, "too many items: ", num, "");
        return false;
    }
    const json_t *items = json_object_get(s, "items");
    size_t n_path = c->n_path;
    for (size_t i = 0; items && i < json_array_size(v); i++) {
        snprintf(c->path + n_path, sizeof c->path - n_path, "[%zu]", i);
        c->n_path = strlen(c->path);
        bool ok = check_value(c, items, json_array_get(v, i));
        c->path[c->n_path = n_path] = '\0';
        if (!ok)
            return false;
    }
    return true;
}

static bool check_value(check *c, const json_t *s, const json_t *v)
{
    char pv[96];
    preview(v, pv, sizeof pv);
    const json_t *type = json_object_get(s, "type");
    if (type) {
        bool ok = false;
        if (json_is_string(type))
            ok = type_is(v, json_string_value(type));
        for (size_t i = 0; json_is_array(type) && i < json_array_size(type) && !ok; i++)
            ok = type_is(v, json_string_value(json_array_get(type, i)));
        if (!ok) {
            char want[96] = "";
            if (json_is_string(type))
                snprintf(want, sizeof want, "%s", json_string_value(type));
            for (size_t i = 0; json_is_array(type) && i < json_array_size(type); i++) {
                size_t at = strlen(want);
                snprintf(want + at, sizeof want - at, "%s%s", i ? " or " : "",
                         json_string_value(json_array_get(type, i)));
            }
            fail(c, pv, " is not of type ", want);
            return false;
        }
    }
    const json_t *en = json_object_get(s, "enum");
    if (en) {
        bool ok = false;
        for (size_t i = 0; i < json_array_size(en) && !ok; i++)
            ok = json_equal((json_t *)v, json_array_get(en, i));
        if (!ok) {
            fail(c, pv, " is not one of the enum's values", NULL);
            return false;
        }
    }
    if (json_is_object(v))
        return check_object(c, s, v);
    if (json_is_array(v))
        return check_array(c, s, v);
    if (json_is_string(v)) {
        const char *str = json_string_value(v);
        size_t n = json_string_length(v), k = utf8_len(str, n);
        const json_t *mn = json_object_get(s, "minLength"), *mx = json_object_get(s, "maxLength");
        if (mn && k < (size_t)json_integer_value(mn)) {
            fail(c, pv, " is too short", NULL);
            return false;
        }
        if (mx && k > (size_t)json_integer_value(mx)) {
            fail(c, pv, " is too long", NULL);
            return false;
        }
        const json_t *f = json_object_get(s, "format");
        if (f && !format_ok(json_string_value(f), str, n)) {
            fail(c, pv, " is not a ", json_string_value(f));
            return false;
        }
    }
    if (json_is_number(v)) {
        double x = json_number_value(v);
        const json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
        if ((mn && x < json_number_value(mn)) || (mx && x > json_number_value(mx))) {
            char num[48];
            snprintf(num, sizeof num, "%g", x);
            fail(c, num, " is out of range", NULL);
            return false;
        }
    }
    return true;
}

static json_t *load_schema(const char *schema_json, tm_err *err)
{
    json_error_t je;
    json_t *s = json_loads(schema_json, 0, &je);
    if (!s) {
        tm_fail(err, TM_E_ARG, "schema: %s at line %d, column %d", je.text, je.line, je.column);
        return NULL;
    }
    if (!schema_ok(s, "$", 0, err)) {
        json_decref(s);
        return NULL;
    }
    return s;
}

tm_status tm_json_schema_validate(const char *schema_json, tm_err *err)
{
    json_t *s = load_schema(schema_json, err);
    json_decref(s);
    return s ? TM_OK : TM_E_ARG;
}

/* Steps 1 and 2 of the rule: the fenced region if any, then its first '{' or '['. */
static const char *find_start(const char *reply, size_t n, const char **end)
{
    const char *from = reply, *to = reply + n;
    for (const char *p = reply; p + 3 <= to; p++)
        if (memcmp(p, "```", 3) == 0) {
            const char *nl = memchr(p + 3, '\n', (size_t)(to - p - 3));
            from = nl ? nl + 1 : to;
            for (const char *q = from; q + 3 <= to; q++)
                if (memcmp(q, "```", 3) == 0) {
                    to = q;
                    break;
                }
            break;
        }
    *end = to;
    for (const char *p = from; p < to; p++)
        if (*p == '{' || *p == '[')
            return p;
    return NULL;
}

tm_status tm_json_check(const char *schema_json, const char *reply, size_t n, tm_json_verdict *out,
                        tm_err *err)
{
    tm_json_verdict v;
    memset(&v, 0, sizeof v);
    json_t *schema = load_schema(schema_json, err);
    if (!schema)
        return TM_E_ARG;
    const char *end = NULL, *start = find_start(reply, n, &end);
    if (!start) {
        snprintf(v.reason, sizeof v.reason, "no JSON value: the reply has no '{' or '['");
        json_decref(schema);
        *out = v;
        return TM_OK;
    }
    v.found = true;
    json_error_t je;
    json_t *doc = json_loadb(start, (size_t)(end - start), JSON_DISABLE_EOF_CHECK, &je);
    if (!doc) {
        snprintf(v.reason, sizeof v.reason, "not JSON: %s at line %d, column %d", je.text, je.line,
                 je.column);
    } else {
        v.parsed = true;
        v.at = (size_t)(start - reply);
        v.len = je.position; /* with JSON_DISABLE_EOF_CHECK: the bytes the value took */
        check c = {"$", 1, v.reason, sizeof v.reason};
        v.valid = check_value(&c, schema, doc);
        json_decref(doc);
    }
    json_decref(schema);
    *out = v;
    return TM_OK;
}

#else /* without jansson */

tm_status tm_json_schema_validate(const char *schema_json, tm_err *err)
{
    (void)schema_json;
    return tm_fail(err, TM_E_UNSUPPORTED, "this build has no JSON parser (jansson)");
}

tm_status tm_json_check(const char *schema_json, const char *reply, size_t n, tm_json_verdict *out,
                        tm_err *err)
{
    (void)schema_json;
    (void)reply;
    (void)n;
    (void)out;
    return tm_fail(err, TM_E_UNSUPPORTED, "this build has no JSON parser (jansson)");
}

#endif
