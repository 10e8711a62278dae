/* Reading and validating a GGUF file (see gguf.h for the format).
 *
 * The file is hostile until proven otherwise: every count is checked against the bytes left
 * before anything is allocated for it, every length and offset with overflow-checked
 * arithmetic, and every error names what is wrong and the byte offset where it was found.
 * Allocations are bounded by the file size (an array of n strings needs at least 8n bytes
 * of file), so a small file cannot ask for a huge allocation. */
#include "gguf.h"

#include "../tensor/tensor.h"
#include "limits.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- a chunked bump allocator: everything a parsed file owns, freed at once ----------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct arena {
    chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n_bytes)
{
    n_bytes = (n_bytes + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n_bytes) {
        size_t cap = TM_MAX(n_bytes, (size_t)64 * 1024);
        if (cap > SIZE_MAX - sizeof(chunk))
            return NULL;
        chunk *c = tm_malloc(sizeof(chunk) + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n_bytes;
    return p;
}

static void arena_free(arena *a)
{
    for (chunk *c = a->head; c;) {
        chunk *next = c->next;
        tm_free(c);
        c = next;
    }
    a->head = NULL;
}

/* ---- the parsed file ------------------------------------------------------------------- */

struct tm_gguf {
    tm_mmap *map; /* NULL when opened from memory */
    const uint8_t *bytes;
    uint64_t n_bytes;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    tm_gguf_kv *kvs;
    int64_t n_tensors;
    tm_gguf_tensor *tensors;
    /* open-addressing hash tables of indices + 1 (0: empty), power-of-two sizes */
    uint32_t *kv_index;
    uint64_t kv_index_cap;
    uint32_t *tensor_index;
    uint64_t tensor_index_cap;
    arena mem;
};

typedef struct reader {
    const uint8_t *p;
    uint64_t size;
    uint64_t pos;
    uint32_t version;
    tm_gguf *g;
    tm_err *err;
} reader;

static tm_status truncated(reader *r, const char *what, uint64_t need)
{
    return tm_fail(r->err, TM_E_FORMAT,
                   "truncated file: %s needs %" PRIu64 " bytes at offset %" PRIu64
                   ", file has %" PRIu64,
                   what, need, r->pos, r->size);
}

static tm_status read_bytes(reader *r, void *dst, uint64_t n, const char *what)
{
    if (r->size - r->pos < n)
        return truncated(r, what, n);
    memcpy(dst, r->p + r->pos, (size_t)n);
    r->pos += n;
    return TM_OK;
}

/* GGUF is little-endian; so is every platform we build for. A big-endian port would swap
 * here, in one place. */
static tm_status read_u32(reader *r, uint32_t *out, const char *what)
{
    return read_bytes(r, out, 4, what);
}

static tm_status read_u64(reader *r, uint64_t *out, const char *what)
{
    return read_bytes(r, out, 8, what);
}

/* Counts and lengths: 32-bit in version 1, 64-bit since version 2. */
static tm_status read_count(reader *r, uint64_t *out, const char *what)
{
    if (r->version == 1) {
        uint32_t v = 0;
        tm_status st = read_u32(r, &v, what);
        *out = v;
        return st;
    }
    return read_u64(r, out, what);
}

static uint64_t count_bytes(const reader *r)
{
    return r->version == 1 ? 4 : 8;
}

static tm_status read_str(reader *r, tm_gguf_str *out, const char *what)
{
    uint64_t at = r->pos, len = 0;
    tm_status st = read_count(r, &len, what);
    if (st != TM_OK)
        return st;
    if (len > r->size - r->pos) {
        r->pos = at;
        return tm_fail(r->err, TM_E_FORMAT,
                       "%s at offset %" PRIu64 " has length %" PRIu64 " but only %" PRIu64
                       " bytes remain",
                       what, at, len, r->size - r->pos - count_bytes(r));
    }
    out->ptr = (const char *)r->p + r->pos;
    out->len = len;
    r->pos += len;
    return TM_OK;
}

/* A key or tensor name: copied NUL-terminated, so it must hold no NUL and be short. */
static tm_status read_name(reader *r, const char **out, const char *what)
{
    uint64_t at = r->pos;
    tm_gguf_str s = {NULL, 0};
    tm_status st = read_str(r, &s, what);
    if (st != TM_OK)
        return st;
    if (s.len == 0)
        return tm_fail(r->err, TM_E_FORMAT, "empty %s at offset %" PRIu64, what, at);
    if (s.len > TM_GGUF_MAX_NAME_BYTES)
        return tm_fail(r->err, TM_E_FORMAT,
                       "%s at offset %" PRIu64 " is %" PRIu64 " bytes long (limit %d)", what, at,
                       s.len, TM_GGUF_MAX_NAME_BYTES);
    if (memchr(s.ptr, 0, (size_t)s.len))
        return tm_fail(r->err, TM_E_FORMAT, "%s at offset %" PRIu64 " contains a NUL byte", what,
                       at);
    char *copy = arena_alloc(&r->g->mem, (size_t)s.len + 1);
    if (!copy)
        return tm_fail(r->err, TM_E_NOMEM, "%s at offset %" PRIu64, what, at);
    memcpy(copy, s.ptr, (size_t)s.len);
    copy[s.len] = '\0';
    *out = copy;
    return TM_OK;
}

uint64_t tm_gguf_scalar_bytes(tm_gguf_type t)
{
    switch (t) {
    case TM_GGUF_UINT8:
    case TM_GGUF_INT8:
    case TM_GGUF_BOOL:
        return 1;
    case TM_GGUF_UINT16:
    case TM_GGUF_INT16:
        return 2;
    case TM_GGUF_UINT32:
    case TM_GGUF_INT32:
    case TM_GGUF_FLOAT32:
        return 4;
    case TM_GGUF_UINT64:
    case TM_GGUF_INT64:
    case TM_GGUF_FLOAT64:
        return 8;
    default:
        return 0; /* STRING, ARRAY, unknown */
    }
}

/* Little-endian scalar at p of type t, widened into v. */
static void decode_scalar(tm_gguf_type t, const uint8_t *p, tm_gguf_value *v)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
    switch (t) {
    case TM_GGUF_UINT8:
    case TM_GGUF_BOOL:
        memcpy(&u8, p, 1);
        v->v.u64 = u8;
        break;
    case TM_GGUF_INT8:
        memcpy(&u8, p, 1);
        v->v.i64 = (int8_t)u8;
        break;
    case TM_GGUF_UINT16:
        memcpy(&u16, p, 2);
        v->v.u64 = u16;
        break;
    case TM_GGUF_INT16:
        memcpy(&u16, p, 2);
        v->v.i64 = (int16_t)u16;
        break;
    case TM_GGUF_UINT32:
        memcpy(&u32, p, 4);
        v->v.u64 = u32;
        break;
    case TM_GGUF_INT32:
        memcpy(&u32, p, 4);
        v->v.i64 = (int32_t)u32;
        break;
    case TM_GGUF_FLOAT32:
        memcpy(&f32, p, 4);
        v->v.f64 = f32;
        break;
    case TM_GGUF_UINT64:
        memcpy(&u64, p, 8);
        v->v.u64 = u64;
        break;
    case TM_GGUF_INT64:
        memcpy(&u64, p, 8);
        v->v.i64 = (int64_t)u64;
        break;
    case TM_GGUF_FLOAT64:
        memcpy(&f64, p, 8);
        v->v.f64 = f64;
        break;
    default:
        break;
    }
}

static tm_status read_value(reader *r, tm_gguf_type type, tm_gguf_value *out, int depth,
                            const char *key);

static tm_status read_type(reader *r, tm_gguf_type *out, const char *key)
{
    uint64_t at = r->pos;
    uint32_t t = 0;
    tm_status st = read_u32(r, &t, "value type");
    if (st != TM_OK)
        return st;
    if (t >= TM_GGUF_TYPE_COUNT)
        return tm_fail(r->err, TM_E_FORMAT,
                       "key '%s': unknown value type %" PRIu32 " at offset %" PRIu64, key, t, at);
    *out = (tm_gguf_type)t;
    return TM_OK;
}

static tm_status read_array(reader *r, tm_gguf_array *a, int depth, const char *key)
{
    if (depth >= TM_GGUF_MAX_ARRAY_DEPTH)
        return tm_fail(r->err, TM_E_LIMIT,
                       "key '%s': arrays nested deeper than %d at offset %" PRIu64, key,
                       TM_GGUF_MAX_ARRAY_DEPTH, r->pos);
    tm_status st = read_type(r, &a->type, key);
    if (st != TM_OK)
        return st;
    uint64_t at = r->pos;
    st = read_count(r, &a->n, "array length");
    if (st != TM_OK)
        return st;
    /* The least each element occupies in the file bounds n before we allocate for it. */
    uint64_t elem_min = tm_gguf_scalar_bytes(a->type);
    if (a->type == TM_GGUF_STRING)
        elem_min = count_bytes(r);
    else if (a->type == TM_GGUF_ARRAY)
        elem_min = 4 + count_bytes(r);
    uint64_t need;
    if (!tm_mul_u64(a->n, elem_min, &need) || need > r->size - r->pos)
        return tm_fail(r->err, TM_E_FORMAT,
                       "key '%s': array of %" PRIu64 " %s at offset %" PRIu64
                       " cannot fit in the %" PRIu64 " bytes that remain",
                       key, a->n, tm_gguf_type_name(a->type), at, r->size - r->pos);
    a->data = NULL;
    a->strs = NULL;
    a->arrays = NULL;
    if (a->type == TM_GGUF_STRING) {
        tm_gguf_str *strs = arena_alloc(&r->g->mem, (size_t)(a->n * sizeof *strs));
        if (!strs && a->n)
            return tm_fail(r->err, TM_E_NOMEM, "key '%s': %" PRIu64 " strings", key, a->n);
        for (uint64_t i = 0; i < a->n; i++) {
            st = read_str(r, &strs[i], "string element");
            if (st != TM_OK) {
                tm_err_context(r->err, "key '%s' element %" PRIu64, key, i);
                return st;
            }
        }
        a->strs = strs;
    } else if (a->type == TM_GGUF_ARRAY) {
        tm_gguf_value *arrs = arena_alloc(&r->g->mem, (size_t)(a->n * sizeof *arrs));
        if (!arrs && a->n)
            return tm_fail(r->err, TM_E_NOMEM, "key '%s': %" PRIu64 " arrays", key, a->n);
        for (uint64_t i = 0; i < a->n; i++) {
            arrs[i].type = TM_GGUF_ARRAY;
            st = read_array(r, &arrs[i].v.arr, depth + 1, key);
            if (st != TM_OK)
                return st;
        }
        a->arrays = arrs;
    } else {
        a->data = r->p + r->pos;
        if (a->type == TM_GGUF_BOOL)
            for (uint64_t i = 0; i < a->n; i++)
                if (a->data[i] > 1)
                    return tm_fail(r->err, TM_E_FORMAT,
                                   "key '%s': bool element %" PRIu64 " is %u, not 0 or 1", key, i,
                                   a->data[i]);
        r->pos += need;
    }
    return TM_OK;
}

static tm_status read_value(reader *r, tm_gguf_type type, tm_gguf_value *out, int depth,
                            const char *key)
{
    out->type = type;
    if (type == TM_GGUF_STRING)
        return read_str(r, &out->v.str, "string value");
    if (type == TM_GGUF_ARRAY)
        return read_array(r, &out->v.arr, depth, key);
    uint64_t n = tm_gguf_scalar_bytes(type);
    if (r->size - r->pos < n)
        return truncated(r, "value", n);
    if (type == TM_GGUF_BOOL && r->p[r->pos] > 1)
        return tm_fail(r->err, TM_E_FORMAT,
                       "key '%s': bool value is %u at offset %" PRIu64 ", not 0 or 1", key,
                       r->p[r->pos], r->pos);
    decode_scalar(type, r->p + r->pos, out);
    r->pos += n;
    return TM_OK;
}

/* ---- name lookups ------------------------------------------------------------------------ */

static uint64_t table_cap_for(int64_t n)
{
    uint64_t cap = 16;
    while (cap < (uint64_t)n * 2)
        cap *= 2;
    return cap;
}

/* Index of name in the table, or the empty slot where it would go. */
static uint64_t table_slot(const uint32_t *table, uint64_t cap, const char *name,
                           const char *(*name_at)(const tm_gguf *, uint32_t), const tm_gguf *g)
{
    uint64_t h = tm_hash_bytes(name, strlen(name)) & (cap - 1);
    while (table[h] != 0 && strcmp(name_at(g, table[h] - 1), name) != 0)
        h = (h + 1) & (cap - 1);
    return h;
}

static const char *kv_name_at(const tm_gguf *g, uint32_t i)
{
    return g->kvs[i].key;
}

static const char *tensor_name_at(const tm_gguf *g, uint32_t i)
{
    return g->tensors[i].name;
}

/* ---- header, metadata, tensor infos ------------------------------------------------------- */

static tm_status read_kvs(reader *r, uint64_t n_kv)
{
    tm_gguf *g = r->g;
    g->kvs = arena_alloc(&g->mem, (size_t)(n_kv * sizeof *g->kvs));
    g->kv_index_cap = table_cap_for((int64_t)n_kv);
    g->kv_index = arena_alloc(&g->mem, (size_t)(g->kv_index_cap * sizeof *g->kv_index));
    if ((!g->kvs && n_kv) || !g->kv_index)
        return tm_fail(r->err, TM_E_NOMEM, "%" PRIu64 " metadata entries", n_kv);
    memset(g->kv_index, 0, (size_t)(g->kv_index_cap * sizeof *g->kv_index));
    for (uint64_t i = 0; i < n_kv; i++) {
        tm_gguf_kv *kv = &g->kvs[i];
        uint64_t at = r->pos;
        tm_status st = read_name(r, &kv->key, "metadata key");
        if (st != TM_OK)
            return st;
        g->n_kv = (int64_t)i; /* entries before i are complete: the lookup may read them */
        uint64_t slot = table_slot(g->kv_index, g->kv_index_cap, kv->key, kv_name_at, g);
        if (g->kv_index[slot] != 0)
            return tm_fail(r->err, TM_E_FORMAT, "duplicate metadata key '%s' at offset %" PRIu64,
                           kv->key, at);
        tm_gguf_type type = TM_GGUF_UINT8;
        st = read_type(r, &type, kv->key);
        if (st == TM_OK)
            st = read_value(r, type, &kv->value, 0, kv->key);
        if (st != TM_OK)
            return st;
        g->kv_index[slot] = (uint32_t)i + 1;
    }
    g->n_kv = (int64_t)n_kv;
    return TM_OK;
}

static tm_status read_alignment(reader *r)
{
    tm_gguf *g = r->g;
    g->alignment = TM_GGUF_DEFAULT_ALIGNMENT;
    const tm_gguf_kv *kv = tm_gguf_find_kv(g, "general.alignment");
    if (!kv)
        return TM_OK;
    /* The spec says uint32; accept any unsigned or non-negative integer of sane size. */
    uint64_t a;
    switch (kv->value.type) {
    case TM_GGUF_UINT8:
    case TM_GGUF_UINT16:
    case TM_GGUF_UINT32:
    case TM_GGUF_UINT64:
        a = kv->value.v.u64;
        break;
    case TM_GGUF_INT8:
    case TM_GGUF_INT16:
    case TM_GGUF_INT32:
    case TM_GGUF_INT64:
        a = kv->value.v.i64 < 0 ? 0 : (uint64_t)kv->value.v.i64;
        break;
    default:
        return tm_fail(r->err, TM_E_FORMAT, "general.alignment has type %s, not an integer",
                       tm_gguf_type_name(kv->value.type));
    }
    if (a == 0 || (a & (a - 1)) != 0 || a > TM_GGUF_MAX_ALIGNMENT)
        return tm_fail(r->err, TM_E_FORMAT,
                       "general.alignment is %" PRIu64 ", not a power of two up to %d", a,
                       TM_GGUF_MAX_ALIGNMENT);
    g->alignment = a;
    return TM_OK;
}

static tm_status read_tensor_info(reader *r, tm_gguf_tensor *t)
{
    uint64_t at = r->pos;
    tm_status st = read_name(r, &t->name, "tensor name");
    if (st != TM_OK)
        return st;
    uint32_t n_dims = 0;
    st = read_u32(r, &n_dims, "tensor dimension count");
    if (st != TM_OK)
        return st;
    if (n_dims == 0 || n_dims > TM_GGUF_MAX_DIMS)
        return tm_fail(r->err, TM_E_FORMAT, "tensor '%s' has %" PRIu32 " dimensions (1 to %d)",
                       t->name, n_dims, TM_GGUF_MAX_DIMS);
    t->n_dims = (int32_t)n_dims;
    uint64_t n_elems = 1;
    for (int d = 0; d < TM_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if ((uint32_t)d < n_dims) {
            st = read_count(r, &ne, "tensor dimension");
            if (st != TM_OK)
                return st;
            if (ne == 0 || ne > (uint64_t)INT64_MAX)
                return tm_fail(r->err, TM_E_FORMAT, "tensor '%s' dimension %d is %" PRIu64, t->name,
                               d, ne);
        }
        if (!tm_mul_u64(n_elems, ne, &n_elems) || n_elems > (uint64_t)INT64_MAX)
            return tm_fail(r->err, TM_E_FORMAT, "tensor '%s': element count overflows", t->name);
        t->ne[d] = (int64_t)ne;
    }
    st = read_u32(r, &t->type, "tensor type");
    if (st == TM_OK)
        st = read_u64(r, &t->offset, "tensor offset");
    if (st != TM_OK)
        return st;
    const tm_dtype_info *info = tm_dtype_info_get(t->type);
    if (!info)
        return tm_fail(r->err, TM_E_FORMAT, "tensor '%s' has unknown type %" PRIu32, t->name,
                       t->type);
    if (t->ne[0] % info->block_size != 0)
        return tm_fail(r->err, TM_E_FORMAT,
                       "tensor '%s': row of %" PRId64 " elements is not a whole number of %s"
                       " blocks (%" PRId32 ")",
                       t->name, t->ne[0], info->name, info->block_size);
    uint64_t row_bytes, rows = n_elems / (uint64_t)t->ne[0];
    if (!tm_dtype_row_bytes(t->type, t->ne[0], &row_bytes) ||
        !tm_mul_u64(row_bytes, rows, &t->n_bytes))
        return tm_fail(r->err, TM_E_FORMAT,
                       "tensor '%s' at offset %" PRIu64 ": byte size overflows", t->name, at);
    return TM_OK;
}

static int compare_by_offset(const void *a, const void *b)
{
    const tm_gguf_tensor *x = *(const tm_gguf_tensor *const *)a;
    const tm_gguf_tensor *y = *(const tm_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Places every tensor in the data section: aligned, inside the file, no overlaps. */
static tm_status place_tensors(reader *r)
{
    tm_gguf *g = r->g;
    uint64_t data_bytes = g->data_offset <= g->n_bytes ? g->n_bytes - g->data_offset : 0;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        tm_gguf_tensor *t = &g->tensors[i];
        uint64_t end;
        if (t->offset % g->alignment != 0)
            return tm_fail(r->err, TM_E_FORMAT,
                           "tensor '%s': data offset %" PRIu64 " is not a multiple of the "
                           "alignment %" PRIu64,
                           t->name, t->offset, g->alignment);
        if (!tm_add_u64(t->offset, t->n_bytes, &end) || end > data_bytes)
            return tm_fail(r->err, TM_E_FORMAT,
                           "tensor '%s' (%" PRIu64 " bytes at data offset %" PRIu64
                           ") ends past the end of the file (data section has %" PRIu64 " bytes)",
                           t->name, t->n_bytes, t->offset, data_bytes);
        t->data = g->bytes + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2)
        return TM_OK;
    const tm_gguf_tensor **order = tm_malloc((size_t)g->n_tensors * sizeof *order);
    if (!order)
        return tm_fail(r->err, TM_E_NOMEM, "sorting %" PRId64 " tensors", g->n_tensors);
    for (int64_t i = 0; i < g->n_tensors; i++)
        order[i] = &g->tensors[i];
    qsort(order, (size_t)g->n_tensors, sizeof *order, compare_by_offset);
    tm_status st = TM_OK;
    for (int64_t i = 1; i < g->n_tensors && st == TM_OK; i++) {
        const tm_gguf_tensor *a = order[i - 1], *b = order[i];
        if (a->offset + a->n_bytes > b->offset)
            st = tm_fail(r->err, TM_E_FORMAT, "tensors '%s' and '%s' overlap in the data section",
                         a->name, b->name);
    }
    tm_free((void *)order);
    return st;
}

static tm_status read_tensors(reader *r, uint64_t n_tensors)
{
    tm_gguf *g = r->g;
    g->tensors = arena_alloc(&g->mem, (size_t)(n_tensors * sizeof *g->tensors));
    g->tensor_index_cap = table_cap_for((int64_t)n_tensors);
    g->tensor_index = arena_alloc(&g->mem, (size_t)(g->tensor_index_cap * sizeof *g->tensor_index));
    if ((!g->tensors && n_tensors) || !g->tensor_index)
        return tm_fail(r->err, TM_E_NOMEM, "%" PRIu64 " tensor infos", n_tensors);
    memset(g->tensor_index, 0, (size_t)(g->tensor_index_cap * sizeof *g->tensor_index));
    for (uint64_t i = 0; i < n_tensors; i++) {
        tm_gguf_tensor *t = &g->tensors[i];
        memset(t, 0, sizeof *t);
        tm_status st = read_tensor_info(r, t);
        if (st != TM_OK) {
            tm_err_context(r->err, "tensor info %" PRIu64, i);
            return st;
        }
        g->n_tensors = (int64_t)i;
        uint64_t slot =
            table_slot(g->tensor_index, g->tensor_index_cap, t->name, tensor_name_at, g);
        if (g->tensor_index[slot] != 0)
            return tm_fail(r->err, TM_E_FORMAT, "duplicate tensor name '%s'", t->name);
        g->tensor_index[slot] = (uint32_t)i + 1;
    }
    g->n_tensors = (int64_t)n_tensors;
    return TM_OK;
}

static tm_status parse(tm_gguf *g, tm_err *err)
{
    reader r = {g->bytes, g->n_bytes, 0, 0, g, err};
    char magic[4];
    tm_status st = read_bytes(&r, magic, 4, "magic");
    if (st != TM_OK)
        return st;
    if (memcmp(magic, "GGUF", 4) != 0)
        return tm_fail(err, TM_E_FORMAT,
                       "not a GGUF file (magic is %02x %02x %02x %02x, want "
                       "'GGUF')",
                       (uint8_t)magic[0], (uint8_t)magic[1], (uint8_t)magic[2], (uint8_t)magic[3]);
    st = read_u32(&r, &r.version, "version");
    if (st != TM_OK)
        return st;
    if (r.version < 1 || r.version > 3)
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "GGUF version %" PRIu32 " is not supported "
                       "(1 to 3)",
                       r.version);
    g->version = r.version;
    uint64_t n_tensors = 0, n_kv = 0;
    st = read_count(&r, &n_tensors, "tensor count");
    if (st == TM_OK)
        st = read_count(&r, &n_kv, "metadata count");
    if (st != TM_OK)
        return st;
    /* A metadata entry takes at least a key length, one key byte and a type; a tensor info a
     * name length, a name byte, n_dims, one dimension, a type and an offset. */
    uint64_t left = r.size - r.pos;
    uint64_t kv_min = count_bytes(&r) + 1 + 4 + 1;
    uint64_t tensor_min = count_bytes(&r) + 1 + 4 + count_bytes(&r) + 4 + 8;
    if (n_kv > left / kv_min || n_kv > TM_GGUF_MAX_KV)
        return tm_fail(err, TM_E_FORMAT,
                       "metadata count %" PRIu64 " cannot fit in the %" PRIu64 " bytes that remain",
                       n_kv, left);
    if (n_tensors > left / tensor_min || n_tensors > TM_GGUF_MAX_TENSORS)
        return tm_fail(err, TM_E_FORMAT,
                       "tensor count %" PRIu64 " cannot fit in the %" PRIu64 " bytes that remain",
                       n_tensors, left);
    st = read_kvs(&r, n_kv);
    if (st == TM_OK)
        st = read_alignment(&r);
    if (st == TM_OK)
        st = read_tensors(&r, n_tensors);
    if (st != TM_OK)
        return st;
    g->data_offset = tm_align_up_u64(r.pos, g->alignment);
    return place_tensors(&r);
}

static tm_status open_bytes(tm_gguf *g, tm_gguf **out, tm_err *err)
{
    tm_status st = parse(g, err);
    if (st != TM_OK) {
        tm_gguf_close(g);
        return st;
    }
    *out = g;
    return TM_OK;
}

tm_status tm_gguf_open_memory(const void *data, size_t n_bytes, tm_gguf **out, tm_err *err)
{
    tm_gguf *g = tm_calloc(1, sizeof *g);
    if (!g)
        return tm_fail(err, TM_E_NOMEM, "gguf reader");
    g->bytes = data;
    g->n_bytes = n_bytes;
    return open_bytes(g, out, err);
}

tm_status tm_gguf_open(const char *path, tm_gguf **out, tm_err *err)
{
    tm_gguf *g = tm_calloc(1, sizeof *g);
    if (!g)
        return tm_fail(err, TM_E_NOMEM, "gguf reader");
    tm_status st = tm_mmap_open(path, &g->map, err);
    if (st != TM_OK) {
        tm_free(g);
        return st;
    }
    g->bytes = tm_mmap_data(g->map);
    g->n_bytes = tm_mmap_size(g->map);
    st = open_bytes(g, out, err);
    if (st != TM_OK)
        tm_err_context(err, "'%s'", path);
    return st;
}

void tm_gguf_close(tm_gguf *g)
{
    if (!g)
        return;
    arena_free(&g->mem);
    tm_mmap_close(g->map);
    tm_free(g);
}

uint32_t tm_gguf_version(const tm_gguf *g)
{
    return g->version;
}

uint64_t tm_gguf_file_bytes(const tm_gguf *g)
{
    return g->n_bytes;
}

uint64_t tm_gguf_alignment(const tm_gguf *g)
{
    return g->alignment;
}

uint64_t tm_gguf_data_offset(const tm_gguf *g)
{
    return g->data_offset;
}

tm_mmap *tm_gguf_mapping(tm_gguf *g)
{
    return g->map;
}

int64_t tm_gguf_n_kv(const tm_gguf *g)
{
    return g->n_kv;
}

const tm_gguf_kv *tm_gguf_kv_at(const tm_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_kv ? &g->kvs[i] : NULL;
}

const tm_gguf_kv *tm_gguf_find_kv(const tm_gguf *g, const char *key)
{
    if (!g->kv_index)
        return NULL;
    uint64_t slot = table_slot(g->kv_index, g->kv_index_cap, key, kv_name_at, g);
    return g->kv_index[slot] ? &g->kvs[g->kv_index[slot] - 1] : NULL;
}

int64_t tm_gguf_n_tensors(const tm_gguf *g)
{
    return g->n_tensors;
}

const tm_gguf_tensor *tm_gguf_tensor_at(const tm_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const tm_gguf_tensor *tm_gguf_find_tensor(const tm_gguf *g, const char *name)
{
    if (!g->tensor_index)
        return NULL;
    uint64_t slot = table_slot(g->tensor_index, g->tensor_index_cap, name, tensor_name_at, g);
    return g->tensor_index[slot] ? &g->tensors[g->tensor_index[slot] - 1] : NULL;
}

const char *tm_gguf_type_name(tm_gguf_type t)
{
    static const char *const names[TM_GGUF_TYPE_COUNT] = {
        "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
        "bool",  "string", "array",  "uint64", "int64",  "float64"};
    return (unsigned)t < TM_GGUF_TYPE_COUNT ? names[t] : "?";
}
