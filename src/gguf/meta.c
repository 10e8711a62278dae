/* Typed lookups of metadata values, with errors that name the key and both types. Integer
 * getters accept any integer type whose value fits, because writers disagree on widths
 * (context_length is uint32 in one file and uint64 or int32 in another). */
#include "gguf.h"

#include <inttypes.h>
#include <string.h>

static tm_status find(const tm_gguf *g, const char *key, const tm_gguf_kv **out, tm_err *err)
{
    const tm_gguf_kv *kv = tm_gguf_find_kv(g, key);
    if (!kv)
        return tm_fail(err, TM_E_FORMAT, "missing key '%s'", key);
    *out = kv;
    return TM_OK;
}

static tm_status wrong_type(const char *key, tm_gguf_type found, const char *want, tm_err *err)
{
    return tm_fail(err, TM_E_FORMAT, "key '%s' has type %s, want %s", key, tm_gguf_type_name(found),
                   want);
}

static bool is_unsigned(tm_gguf_type t)
{
    return t == TM_GGUF_UINT8 || t == TM_GGUF_UINT16 || t == TM_GGUF_UINT32 || t == TM_GGUF_UINT64;
}

static bool is_signed(tm_gguf_type t)
{
    return t == TM_GGUF_INT8 || t == TM_GGUF_INT16 || t == TM_GGUF_INT32 || t == TM_GGUF_INT64;
}

tm_status tm_gguf_get_i64(const tm_gguf *g, const char *key, int64_t *out, tm_err *err)
{
    const tm_gguf_kv *kv = NULL;
    tm_status st = find(g, key, &kv, err);
    if (st != TM_OK)
        return st;
    if (is_signed(kv->value.type)) {
        *out = kv->value.v.i64;
        return TM_OK;
    }
    if (is_unsigned(kv->value.type)) {
        if (kv->value.v.u64 > (uint64_t)INT64_MAX)
            return tm_fail(err, TM_E_FORMAT, "key '%s' is %" PRIu64 ", too large", key,
                           kv->value.v.u64);
        *out = (int64_t)kv->value.v.u64;
        return TM_OK;
    }
    return wrong_type(key, kv->value.type, "an integer", err);
}

tm_status tm_gguf_get_u32(const tm_gguf *g, const char *key, uint32_t *out, tm_err *err)
{
    int64_t v = 0;
    tm_status st = tm_gguf_get_i64(g, key, &v, err);
    if (st != TM_OK)
        return st;
    if (v < 0 || v > (int64_t)UINT32_MAX)
        return tm_fail(err, TM_E_FORMAT, "key '%s' is %" PRId64 ", outside 0..%" PRIu32, key, v,
                       UINT32_MAX);
    *out = (uint32_t)v;
    return TM_OK;
}

tm_status tm_gguf_get_f64(const tm_gguf *g, const char *key, double *out, tm_err *err)
{
    const tm_gguf_kv *kv = NULL;
    tm_status st = find(g, key, &kv, err);
    if (st != TM_OK)
        return st;
    if (kv->value.type == TM_GGUF_FLOAT32 || kv->value.type == TM_GGUF_FLOAT64)
        *out = kv->value.v.f64;
    else if (is_signed(kv->value.type))
        *out = (double)kv->value.v.i64;
    else if (is_unsigned(kv->value.type))
        *out = (double)kv->value.v.u64;
    else
        return wrong_type(key, kv->value.type, "a number", err);
    return TM_OK;
}

tm_status tm_gguf_get_bool(const tm_gguf *g, const char *key, bool *out, tm_err *err)
{
    const tm_gguf_kv *kv = NULL;
    tm_status st = find(g, key, &kv, err);
    if (st != TM_OK)
        return st;
    if (kv->value.type != TM_GGUF_BOOL)
        return wrong_type(key, kv->value.type, "bool", err);
    *out = kv->value.v.u64 != 0;
    return TM_OK;
}

tm_status tm_gguf_get_str(const tm_gguf *g, const char *key, tm_gguf_str *out, tm_err *err)
{
    const tm_gguf_kv *kv = NULL;
    tm_status st = find(g, key, &kv, err);
    if (st != TM_OK)
        return st;
    if (kv->value.type != TM_GGUF_STRING)
        return wrong_type(key, kv->value.type, "string", err);
    *out = kv->value.v.str;
    return TM_OK;
}

tm_status tm_gguf_get_arr(const tm_gguf *g, const char *key, tm_gguf_type elem_type,
                          const tm_gguf_array **out, tm_err *err)
{
    const tm_gguf_kv *kv = NULL;
    tm_status st = find(g, key, &kv, err);
    if (st != TM_OK)
        return st;
    if (kv->value.type != TM_GGUF_ARRAY)
        return wrong_type(key, kv->value.type, "array", err);
    const tm_gguf_array *a = &kv->value.v.arr;
    if (elem_type != TM_GGUF_TYPE_COUNT && a->type != elem_type)
        return tm_fail(err, TM_E_FORMAT, "key '%s' is an array of %s, want an array of %s", key,
                       tm_gguf_type_name(a->type), tm_gguf_type_name(elem_type));
    *out = a;
    return TM_OK;
}

int64_t tm_gguf_arr_i64(const tm_gguf_array *a, uint64_t i)
{
    const uint8_t *p = a->data;
    switch (a->type) {
    case TM_GGUF_UINT8:
    case TM_GGUF_BOOL:
        return p[i];
    case TM_GGUF_INT8:
        return (int8_t)p[i];
    case TM_GGUF_UINT16: {
        uint16_t v;
        memcpy(&v, p + 2 * i, 2);
        return v;
    }
    case TM_GGUF_INT16: {
        int16_t v;
        memcpy(&v, p + 2 * i, 2);
        return v;
    }
    case TM_GGUF_UINT32: {
        uint32_t v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case TM_GGUF_INT32: {
        int32_t v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case TM_GGUF_UINT64: {
        uint64_t v;
        memcpy(&v, p + 8 * i, 8);
        return (int64_t)v;
    }
    case TM_GGUF_INT64: {
        int64_t v;
        memcpy(&v, p + 8 * i, 8);
        return v;
    }
    case TM_GGUF_FLOAT32:
    case TM_GGUF_FLOAT64: {
        double v = tm_gguf_arr_f64(a, i);
        /* out of range or NaN would be undefined behaviour in the conversion */
        return v >= -9.2e18 && v <= 9.2e18 ? (int64_t)v : 0;
    }
    default:
        return 0;
    }
}

double tm_gguf_arr_f64(const tm_gguf_array *a, uint64_t i)
{
    const uint8_t *p = a->data;
    switch (a->type) {
    case TM_GGUF_FLOAT32: {
        float v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case TM_GGUF_FLOAT64: {
        double v;
        memcpy(&v, p + 8 * i, 8);
        return v;
    }
    case TM_GGUF_UINT64: {
        uint64_t v;
        memcpy(&v, p + 8 * i, 8);
        return (double)v;
    }
    default:
        return (double)tm_gguf_arr_i64(a, i);
    }
}

bool tm_gguf_str_eq(tm_gguf_str a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && memcmp(a.ptr, s, n) == 0;
}
