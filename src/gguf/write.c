/* Writing GGUF version 3 files (see gguf.h). Metadata values are encoded into their file
 * bytes when set, so the header is a concatenation at begin(); tensor data is streamed
 * afterwards, so a model larger than memory is never held whole. The file is written under
 * a temporary name and renamed at finish(): a crash or error never leaves a truncated file
 * under the final name. */
#include "gguf.h"

#include "../tensor/tensor.h"
#include "limits.h"

#include <inttypes.h>
#include <string.h>

typedef struct wkv {
    char *key;
    tm_buf value; /* type + payload, as in the file */
} wkv;

typedef struct wtensor {
    char *name;
    uint32_t type;
    int32_t n_dims;
    int64_t ne[TM_GGUF_MAX_DIMS];
    uint64_t n_bytes, offset;
} wtensor;

struct tm_gguf_writer {
    wkv *kvs;
    int64_t n_kv, cap_kv;
    wtensor *tensors;
    int64_t n_tensors, cap_tensors;
    uint64_t alignment;
    FILE *f;
    char *path, *tmp_path;
    int64_t cur;          /* tensor whose data comes next */
    uint64_t cur_written; /* bytes of it written so far */
    bool finished;
};

#define MAX_VALUE_BYTES ((size_t)1 << 31)

tm_status tm_gguf_writer_create(tm_gguf_writer **out, tm_err *err)
{
    tm_gguf_writer *w = tm_calloc(1, sizeof *w);
    if (!w)
        return tm_fail(err, TM_E_NOMEM, "gguf writer");
    *out = w;
    return TM_OK;
}

void tm_gguf_writer_free(tm_gguf_writer *w)
{
    if (!w)
        return;
    if (w->f) {
        fclose(w->f);
        remove(w->tmp_path);
    }
    for (int64_t i = 0; i < w->n_kv; i++) {
        tm_free(w->kvs[i].key);
        tm_buf_fini(&w->kvs[i].value);
    }
    for (int64_t i = 0; i < w->n_tensors; i++)
        tm_free(w->tensors[i].name);
    tm_free(w->kvs);
    tm_free(w->tensors);
    tm_free(w->path);
    tm_free(w->tmp_path);
    tm_free(w);
}

/* ---- metadata ------------------------------------------------------------------------- */

static tm_status check_name(const char *what, const char *name, tm_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > TM_GGUF_MAX_NAME_BYTES)
        return tm_fail(err, TM_E_ARG, "%s of %zu bytes (1 to %d)", what, n, TM_GGUF_MAX_NAME_BYTES);
    return TM_OK;
}

/* The entry for key, created empty at the end if new, emptied if it exists. */
static tm_status entry_for(tm_gguf_writer *w, const char *key, tm_buf **out, tm_err *err)
{
    if (w->f)
        return tm_fail(err, TM_E_ARG, "metadata '%s' set after writing began", key);
    tm_status st = check_name("metadata key", key, err);
    if (st != TM_OK)
        return st;
    for (int64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kvs[i].key, key) == 0) {
            w->kvs[i].value.len = 0;
            *out = &w->kvs[i].value;
            return TM_OK;
        }
    if (w->n_kv == w->cap_kv) {
        int64_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *kvs = tm_realloc(w->kvs, (size_t)cap * sizeof *kvs);
        if (!kvs)
            return tm_fail(err, TM_E_NOMEM, "metadata '%s'", key);
        w->kvs = kvs;
        w->cap_kv = cap;
    }
    wkv *kv = &w->kvs[w->n_kv];
    kv->key = tm_strdup(key);
    if (!kv->key)
        return tm_fail(err, TM_E_NOMEM, "metadata '%s'", key);
    tm_buf_init(&kv->value, MAX_VALUE_BYTES);
    w->n_kv++;
    *out = &kv->value;
    return TM_OK;
}

static tm_status put_u32(tm_buf *b, uint32_t v, tm_err *err)
{
    return tm_buf_append(b, &v, 4, err);
}

static tm_status put_u64(tm_buf *b, uint64_t v, tm_err *err)
{
    return tm_buf_append(b, &v, 8, err);
}

static tm_status put_str(tm_buf *b, const char *s, uint64_t len, tm_err *err)
{
    tm_status st = put_u64(b, len, err);
    return st == TM_OK ? tm_buf_append(b, s, (size_t)len, err) : st;
}

static tm_status set_scalar(tm_gguf_writer *w, const char *key, tm_gguf_type type, const void *v,
                            size_t n, tm_err *err)
{
    tm_buf *b = NULL;
    tm_status st = entry_for(w, key, &b, err);
    if (st == TM_OK)
        st = put_u32(b, (uint32_t)type, err);
    if (st == TM_OK)
        st = tm_buf_append(b, v, n, err);
    return st;
}

tm_status tm_gguf_writer_set_u32(tm_gguf_writer *w, const char *key, uint32_t v, tm_err *err)
{
    return set_scalar(w, key, TM_GGUF_UINT32, &v, 4, err);
}

tm_status tm_gguf_writer_set_i32(tm_gguf_writer *w, const char *key, int32_t v, tm_err *err)
{
    return set_scalar(w, key, TM_GGUF_INT32, &v, 4, err);
}

tm_status tm_gguf_writer_set_u64(tm_gguf_writer *w, const char *key, uint64_t v, tm_err *err)
{
    return set_scalar(w, key, TM_GGUF_UINT64, &v, 8, err);
}

tm_status tm_gguf_writer_set_f32(tm_gguf_writer *w, const char *key, float v, tm_err *err)
{
    return set_scalar(w, key, TM_GGUF_FLOAT32, &v, 4, err);
}

tm_status tm_gguf_writer_set_bool(tm_gguf_writer *w, const char *key, bool v, tm_err *err)
{
    uint8_t b = v ? 1 : 0;
    return set_scalar(w, key, TM_GGUF_BOOL, &b, 1, err);
}

tm_status tm_gguf_writer_set_str(tm_gguf_writer *w, const char *key, const char *v, tm_err *err)
{
    tm_buf *b = NULL;
    tm_status st = entry_for(w, key, &b, err);
    if (st == TM_OK)
        st = put_u32(b, TM_GGUF_STRING, err);
    if (st == TM_OK)
        st = put_str(b, v, strlen(v), err);
    return st;
}

tm_status tm_gguf_writer_set_arr(tm_gguf_writer *w, const char *key, tm_gguf_type elem_type,
                                 const void *data, uint64_t n, tm_err *err)
{
    uint64_t size = tm_gguf_scalar_bytes(elem_type), total;
    if (size == 0)
        return tm_fail(err, TM_E_ARG, "'%s': arrays of %s take set_arr_str or copy_kv", key,
                       tm_gguf_type_name(elem_type));
    if (!tm_mul_u64(size, n, &total) || total > MAX_VALUE_BYTES)
        return tm_fail(err, TM_E_LIMIT, "'%s': array of %" PRIu64 " elements", key, n);
    tm_buf *b = NULL;
    tm_status st = entry_for(w, key, &b, err);
    if (st == TM_OK)
        st = put_u32(b, TM_GGUF_ARRAY, err);
    if (st == TM_OK)
        st = put_u32(b, (uint32_t)elem_type, err);
    if (st == TM_OK)
        st = put_u64(b, n, err);
    if (st == TM_OK)
        st = tm_buf_append(b, data, (size_t)total, err);
    return st;
}

tm_status tm_gguf_writer_set_arr_str(tm_gguf_writer *w, const char *key, const char *const *strs,
                                     const uint64_t *lens, uint64_t n, tm_err *err)
{
    tm_buf *b = NULL;
    tm_status st = entry_for(w, key, &b, err);
    if (st == TM_OK)
        st = put_u32(b, TM_GGUF_ARRAY, err);
    if (st == TM_OK)
        st = put_u32(b, TM_GGUF_STRING, err);
    if (st == TM_OK)
        st = put_u64(b, n, err);
    for (uint64_t i = 0; i < n && st == TM_OK; i++)
        st = put_str(b, strs[i], lens ? lens[i] : strlen(strs[i]), err);
    return st;
}

/* The payload of an array (element type, count, elements), nested arrays included. */
static tm_status put_array(tm_buf *b, const tm_gguf_array *a, tm_err *err)
{
    tm_status st = put_u32(b, (uint32_t)a->type, err);
    if (st == TM_OK)
        st = put_u64(b, a->n, err);
    if (st != TM_OK)
        return st;
    if (a->type == TM_GGUF_STRING) {
        for (uint64_t i = 0; i < a->n && st == TM_OK; i++)
            st = put_str(b, a->strs[i].ptr, a->strs[i].len, err);
    } else if (a->type == TM_GGUF_ARRAY) {
        for (uint64_t i = 0; i < a->n && st == TM_OK; i++)
            st = put_array(b, &a->arrays[i].v.arr, err);
    } else {
        uint64_t total;
        if (!tm_mul_u64(tm_gguf_scalar_bytes(a->type), a->n, &total) || total > MAX_VALUE_BYTES)
            return tm_fail(err, TM_E_LIMIT, "array of %" PRIu64 " elements", a->n);
        st = tm_buf_append(b, a->data, (size_t)total, err);
    }
    return st;
}

tm_status tm_gguf_writer_copy_kv(tm_gguf_writer *w, const tm_gguf_kv *kv, tm_err *err)
{
    const tm_gguf_value *v = &kv->value;
    tm_buf *b = NULL;
    tm_status st = entry_for(w, kv->key, &b, err);
    if (st == TM_OK)
        st = put_u32(b, (uint32_t)v->type, err);
    if (st != TM_OK)
        return st;
    switch (v->type) {
    case TM_GGUF_STRING:
        return put_str(b, v->v.str.ptr, v->v.str.len, err);
    case TM_GGUF_ARRAY:
        return put_array(b, &v->v.arr, err);
    case TM_GGUF_FLOAT32: {
        float f = (float)v->v.f64;
        return tm_buf_append(b, &f, 4, err);
    }
    case TM_GGUF_FLOAT64:
        return tm_buf_append(b, &v->v.f64, 8, err);
    default: {
        /* integers and bool: the low bytes of the widened value, little-endian */
        uint64_t bits = v->v.u64;
        return tm_buf_append(b, &bits, (size_t)tm_gguf_scalar_bytes(v->type), err);
    }
    }
}

tm_status tm_gguf_writer_remove_kv(tm_gguf_writer *w, const char *key, tm_err *err)
{
    if (w->f)
        return tm_fail(err, TM_E_ARG, "metadata '%s' removed after writing began", key);
    for (int64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kvs[i].key, key) == 0) {
            tm_free(w->kvs[i].key);
            tm_buf_fini(&w->kvs[i].value);
            memmove(&w->kvs[i], &w->kvs[i + 1], (size_t)(w->n_kv - i - 1) * sizeof *w->kvs);
            w->n_kv--;
            return TM_OK;
        }
    return TM_OK;
}

/* ---- tensors and the file --------------------------------------------------------------- */

tm_status tm_gguf_writer_add_tensor(tm_gguf_writer *w, const char *name, uint32_t type,
                                    int32_t n_dims, const int64_t *ne, tm_err *err)
{
    if (w->f)
        return tm_fail(err, TM_E_ARG, "tensor '%s' added after writing began", name);
    tm_status st = check_name("tensor name", name, err);
    if (st != TM_OK)
        return st;
    if (n_dims < 1 || n_dims > TM_GGUF_MAX_DIMS)
        return tm_fail(err, TM_E_ARG, "tensor '%s': %d dimensions", name, n_dims);
    uint64_t n_elems = 1, row_bytes;
    for (int d = 0; d < n_dims; d++)
        if (ne[d] <= 0 || !tm_mul_u64(n_elems, (uint64_t)ne[d], &n_elems))
            return tm_fail(err, TM_E_ARG, "tensor '%s': bad dimension %d", name, d);
    if (!tm_dtype_row_bytes(type, ne[0], &row_bytes))
        return tm_fail(err, TM_E_ARG, "tensor '%s': type %s cannot hold rows of %" PRId64, name,
                       tm_dtype_name(type), ne[0]);
    for (int64_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return tm_fail(err, TM_E_ARG, "tensor '%s' added twice", name);
    if (w->n_tensors == w->cap_tensors) {
        int64_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
        wtensor *t = tm_realloc(w->tensors, (size_t)cap * sizeof *t);
        if (!t)
            return tm_fail(err, TM_E_NOMEM, "tensor '%s'", name);
        w->tensors = t;
        w->cap_tensors = cap;
    }
    wtensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = tm_strdup(name);
    if (!t->name)
        return tm_fail(err, TM_E_NOMEM, "tensor '%s'", name);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < TM_GGUF_MAX_DIMS; d++)
        t->ne[d] = d < n_dims ? ne[d] : 1;
    t->n_bytes = row_bytes * (n_elems / (uint64_t)ne[0]);
    w->n_tensors++;
    return TM_OK;
}

static tm_status write_all(tm_gguf_writer *w, const void *data, size_t n, tm_err *err)
{
    if (n && fwrite(data, 1, n, w->f) != n)
        return tm_fail(err, TM_E_IO, "writing '%s' failed (disk full?)", w->tmp_path);
    return TM_OK;
}

static tm_status write_padding(tm_gguf_writer *w, uint64_t pos, tm_err *err)
{
    static const uint8_t zeros[64];
    uint64_t pad = tm_align_up_u64(pos, w->alignment) - pos;
    tm_status st = TM_OK;
    while (pad > 0 && st == TM_OK) {
        size_t n = (size_t)TM_MIN(pad, sizeof zeros);
        st = write_all(w, zeros, n, err);
        pad -= n;
    }
    return st;
}

static tm_status read_alignment(tm_gguf_writer *w, tm_err *err)
{
    w->alignment = TM_GGUF_DEFAULT_ALIGNMENT;
    for (int64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, "general.alignment") != 0)
            continue;
        uint32_t type, a;
        memcpy(&type, w->kvs[i].value.data, 4);
        if (type != TM_GGUF_UINT32)
            return tm_fail(err, TM_E_ARG, "general.alignment must be a uint32");
        memcpy(&a, w->kvs[i].value.data + 4, 4);
        if (a == 0 || (a & (a - 1)) != 0 || a > TM_GGUF_MAX_ALIGNMENT)
            return tm_fail(err, TM_E_ARG, "general.alignment %" PRIu32 " is not a power of two", a);
        w->alignment = a;
    }
    return TM_OK;
}

tm_status tm_gguf_writer_begin(tm_gguf_writer *w, const char *path, tm_err *err)
{
    if (w->f || w->finished)
        return tm_fail(err, TM_E_ARG, "writer already began");
    tm_status st = read_alignment(w, err);
    if (st != TM_OK)
        return st;
    uint64_t offset = 0;
    for (int64_t i = 0; i < w->n_tensors; i++) {
        w->tensors[i].offset = offset;
        if (!tm_add_u64(offset, w->tensors[i].n_bytes, &offset))
            return tm_fail(err, TM_E_LIMIT, "tensor data size overflows");
        offset = tm_align_up_u64(offset, w->alignment);
    }
    size_t n = strlen(path);
    w->path = tm_strdup(path);
    w->tmp_path = tm_malloc(n + 5);
    if (!w->path || !w->tmp_path)
        return tm_fail(err, TM_E_NOMEM, "writer path");
    memcpy(w->tmp_path, path, n);
    memcpy(w->tmp_path + n, ".tmp", 5);
    w->f = tm_fopen(w->tmp_path, "wb");
    if (!w->f)
        return tm_fail(err, TM_E_IO, "cannot create '%s'", w->tmp_path);

    tm_buf h;
    tm_buf_init(&h, SIZE_MAX);
    st = tm_buf_append(&h, "GGUF", 4, err);
    if (st == TM_OK)
        st = put_u32(&h, 3, err);
    if (st == TM_OK)
        st = put_u64(&h, (uint64_t)w->n_tensors, err);
    if (st == TM_OK)
        st = put_u64(&h, (uint64_t)w->n_kv, err);
    for (int64_t i = 0; i < w->n_kv && st == TM_OK; i++) {
        st = put_str(&h, w->kvs[i].key, strlen(w->kvs[i].key), err);
        if (st == TM_OK)
            st = tm_buf_append(&h, w->kvs[i].value.data, w->kvs[i].value.len, err);
    }
    for (int64_t i = 0; i < w->n_tensors && st == TM_OK; i++) {
        const wtensor *t = &w->tensors[i];
        st = put_str(&h, t->name, strlen(t->name), err);
        if (st == TM_OK)
            st = put_u32(&h, (uint32_t)t->n_dims, err);
        for (int d = 0; d < t->n_dims && st == TM_OK; d++)
            st = put_u64(&h, (uint64_t)t->ne[d], err);
        if (st == TM_OK)
            st = put_u32(&h, t->type, err);
        if (st == TM_OK)
            st = put_u64(&h, t->offset, err);
    }
    if (st == TM_OK)
        st = write_all(w, h.data, h.len, err);
    if (st == TM_OK)
        st = write_padding(w, h.len, err);
    tm_buf_fini(&h);
    w->cur = 0;
    w->cur_written = 0;
    return st;
}

tm_status tm_gguf_writer_write_data(tm_gguf_writer *w, const void *data, uint64_t n_bytes,
                                    tm_err *err)
{
    if (!w->f)
        return tm_fail(err, TM_E_ARG, "tensor data written before begin()");
    const uint8_t *p = data;
    while (n_bytes > 0) {
        if (w->cur >= w->n_tensors)
            return tm_fail(err, TM_E_ARG, "%" PRIu64 " bytes of data beyond the last tensor",
                           n_bytes);
        const wtensor *t = &w->tensors[w->cur];
        uint64_t n = TM_MIN(n_bytes, t->n_bytes - w->cur_written);
        tm_status st = write_all(w, p, (size_t)n, err);
        if (st != TM_OK)
            return st;
        p += n;
        n_bytes -= n;
        w->cur_written += n;
        if (w->cur_written == t->n_bytes) {
            st = write_padding(w, t->offset + t->n_bytes, err);
            if (st != TM_OK)
                return st;
            w->cur++;
            w->cur_written = 0;
        }
    }
    return TM_OK;
}

tm_status tm_gguf_writer_finish(tm_gguf_writer *w, tm_err *err)
{
    if (!w->f)
        return tm_fail(err, TM_E_ARG, "finish() before begin()");
    if (w->cur < w->n_tensors)
        return tm_fail(err, TM_E_ARG,
                       "tensor '%s' has %" PRIu64 " of its %" PRIu64 " bytes written",
                       w->tensors[w->cur].name, w->cur_written, w->tensors[w->cur].n_bytes);
    bool ok = fflush(w->f) == 0;
    ok = fclose(w->f) == 0 && ok;
    w->f = NULL;
    if (!ok) {
        remove(w->tmp_path);
        return tm_fail(err, TM_E_IO, "writing '%s' failed", w->tmp_path);
    }
    remove(w->path); /* Windows' rename does not replace an existing file */
    if (rename(w->tmp_path, w->path) != 0) {
        remove(w->tmp_path);
        return tm_fail(err, TM_E_IO, "cannot rename '%s' to '%s'", w->tmp_path, w->path);
    }
    w->finished = true;
    return TM_OK;
}
