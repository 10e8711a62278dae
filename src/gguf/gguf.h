/* gguf: reading and writing GGUF files (the format of llama.cpp / ggml models).
 *
 * Format (GGUF spec, ggml docs/gguf.md): magic "GGUF", uint32 version, tensor count, metadata
 * count, then metadata key/value pairs, tensor infos, padding to general.alignment (default
 * 32), and tensor data. Version 1 used 32-bit counts and string lengths, versions 2 and 3
 * 64-bit ones; all little-endian.
 *
 * The reader maps the file and validates everything before returning: every count, length,
 * type, offset and tensor extent is checked against the file size with overflow-safe
 * arithmetic. A bad file gives TM_E_FORMAT with a message naming what is wrong and where
 * (byte offset, key or tensor name). Strings point into the mapping and are not NUL-terminated
 * (tm_gguf_str); keys and tensor names are also copied NUL-terminated for lookups. */
#ifndef TM_GGUF_H
#define TM_GGUF_H

#include "../base/base.h"

typedef enum tm_gguf_type { /* numbers fixed by the GGUF spec */
                            TM_GGUF_UINT8 = 0,
                            TM_GGUF_INT8 = 1,
                            TM_GGUF_UINT16 = 2,
                            TM_GGUF_INT16 = 3,
                            TM_GGUF_UINT32 = 4,
                            TM_GGUF_INT32 = 5,
                            TM_GGUF_FLOAT32 = 6,
                            TM_GGUF_BOOL = 7,
                            TM_GGUF_STRING = 8,
                            TM_GGUF_ARRAY = 9,
                            TM_GGUF_UINT64 = 10,
                            TM_GGUF_INT64 = 11,
                            TM_GGUF_FLOAT64 = 12,
                            TM_GGUF_TYPE_COUNT
} tm_gguf_type;

#define TM_GGUF_MAX_DIMS          4
#define TM_GGUF_DEFAULT_ALIGNMENT 32

typedef struct tm_gguf_str {
    const char *ptr; /* into the mapping; not NUL-terminated */
    uint64_t len;
} tm_gguf_str;

typedef struct tm_gguf_value tm_gguf_value;

typedef struct tm_gguf_array {
    tm_gguf_type type; /* element type */
    uint64_t n;        /* element count */
    /* scalar elements: n packed little-endian values of the element type, possibly unaligned */
    const uint8_t *data;
    const tm_gguf_str *strs;     /* STRING elements: [n] */
    const tm_gguf_value *arrays; /* ARRAY elements (nested arrays): [n] */
} tm_gguf_array;

struct tm_gguf_value {
    tm_gguf_type type;
    union {
        uint64_t u64; /* UINT8..UINT64 and BOOL (0 or 1), widened */
        int64_t i64;  /* INT8..INT64, widened */
        double f64;   /* FLOAT32, FLOAT64, widened */
        tm_gguf_str str;
        tm_gguf_array arr;
    } v;
};

typedef struct tm_gguf_kv {
    const char *key; /* NUL-terminated copy */
    tm_gguf_value value;
} tm_gguf_kv;

typedef struct tm_gguf_tensor {
    const char *name; /* NUL-terminated copy */
    uint32_t type;  /* ggml type number (tensor/dtype.h: tm_dtype); may be one we cannot compute */
    int32_t n_dims; /* 1..4 */
    int64_t ne[TM_GGUF_MAX_DIMS]; /* elements per dimension, ne[0] fastest; unused dims are 1 */
    uint64_t offset;              /* from the start of the data section */
    uint64_t n_bytes;             /* size of its data */
    const void *data;             /* into the mapping */
} tm_gguf_tensor;

typedef struct tm_gguf tm_gguf;

/* Maps and validates a file. */
tm_status tm_gguf_open(const char *path, tm_gguf **out, tm_err *err);
/* Validates a file already in memory, for fuzzing and tests: data must outlive *out. */
tm_status tm_gguf_open_memory(const void *data, size_t n_bytes, tm_gguf **out, tm_err *err);
void tm_gguf_close(tm_gguf *g);

uint32_t tm_gguf_version(const tm_gguf *g);
uint64_t tm_gguf_file_bytes(const tm_gguf *g);
uint64_t tm_gguf_alignment(const tm_gguf *g);
uint64_t tm_gguf_data_offset(const tm_gguf *g); /* start of the tensor data section */
tm_mmap *tm_gguf_mapping(tm_gguf *g);           /* NULL for tm_gguf_open_memory */

int64_t tm_gguf_n_kv(const tm_gguf *g);
const tm_gguf_kv *tm_gguf_kv_at(const tm_gguf *g, int64_t i);
const tm_gguf_kv *tm_gguf_find_kv(const tm_gguf *g, const char *key); /* NULL if absent */

int64_t tm_gguf_n_tensors(const tm_gguf *g);
const tm_gguf_tensor *tm_gguf_tensor_at(const tm_gguf *g, int64_t i);
const tm_gguf_tensor *tm_gguf_find_tensor(const tm_gguf *g, const char *name); /* NULL if absent */

const char *tm_gguf_type_name(tm_gguf_type t); /* "uint32", ...; "?" for unknown */
/* Bytes of one value of a scalar type; 0 for STRING, ARRAY and unknown types. */
uint64_t tm_gguf_scalar_bytes(tm_gguf_type t);

/* ---- typed lookups (meta.c) -------------------------------------------------------------
 * A missing key is TM_E_FORMAT "missing key 'K'"; a value of the wrong type or out of range
 * is TM_E_FORMAT naming the key, the type found and the type wanted. Use tm_gguf_find_kv first
 * for optional keys. */
tm_status tm_gguf_get_i64(const tm_gguf *g, const char *key, int64_t *out, tm_err *err);
tm_status tm_gguf_get_u32(const tm_gguf *g, const char *key, uint32_t *out, tm_err *err);
tm_status tm_gguf_get_f64(const tm_gguf *g, const char *key, double *out, tm_err *err);
tm_status tm_gguf_get_bool(const tm_gguf *g, const char *key, bool *out, tm_err *err);
tm_status tm_gguf_get_str(const tm_gguf *g, const char *key, tm_gguf_str *out, tm_err *err);
/* elem_type: the wanted element type, or TM_GGUF_TYPE_COUNT for any */
tm_status tm_gguf_get_arr(const tm_gguf *g, const char *key, tm_gguf_type elem_type,
                          const tm_gguf_array **out, tm_err *err);
/* Element i of a numeric array, widened; i must be < n and the element type numeric. */
int64_t tm_gguf_arr_i64(const tm_gguf_array *a, uint64_t i);
double tm_gguf_arr_f64(const tm_gguf_array *a, uint64_t i);
/* Does a string equal the NUL-terminated s? */
bool tm_gguf_str_eq(tm_gguf_str a, const char *s);

/* ---- writer (write.c) -------------------------------------------------------------------
 * Collects metadata and tensor infos, then streams: tm_gguf_writer_begin writes the header,
 * each tensor's data follows with tm_gguf_writer_write_data in the order the tensors were
 * added, and tm_gguf_writer_finish closes the file. Tensors larger than memory are never
 * held whole. Writes version 3; alignment from a "general.alignment" u32 if set, else 32. */
typedef struct tm_gguf_writer tm_gguf_writer;

tm_status tm_gguf_writer_create(tm_gguf_writer **out, tm_err *err);
void tm_gguf_writer_free(tm_gguf_writer *w); /* also closes and removes an unfinished file */

/* Setting a key that exists replaces its value (and keeps its position). */
tm_status tm_gguf_writer_set_u32(tm_gguf_writer *w, const char *key, uint32_t v, tm_err *err);
tm_status tm_gguf_writer_set_i32(tm_gguf_writer *w, const char *key, int32_t v, tm_err *err);
tm_status tm_gguf_writer_set_u64(tm_gguf_writer *w, const char *key, uint64_t v, tm_err *err);
tm_status tm_gguf_writer_set_f32(tm_gguf_writer *w, const char *key, float v, tm_err *err);
tm_status tm_gguf_writer_set_bool(tm_gguf_writer *w, const char *key, bool v, tm_err *err);
tm_status tm_gguf_writer_set_str(tm_gguf_writer *w, const char *key, const char *v, tm_err *err);
/* Array of n scalars of elem_type, packed little-endian in data (copied). */
tm_status tm_gguf_writer_set_arr(tm_gguf_writer *w, const char *key, tm_gguf_type elem_type,
                                 const void *data, uint64_t n, tm_err *err);
/* Array of n strings; lens may be NULL for NUL-terminated strings (copied). */
tm_status tm_gguf_writer_set_arr_str(tm_gguf_writer *w, const char *key, const char *const *strs,
                                     const uint64_t *lens, uint64_t n, tm_err *err);
/* Copies a key/value pair (of any type, nested arrays included) from a reader. */
tm_status tm_gguf_writer_copy_kv(tm_gguf_writer *w, const tm_gguf_kv *kv, tm_err *err);
tm_status tm_gguf_writer_remove_kv(tm_gguf_writer *w, const char *key, tm_err *err);

/* Declares a tensor; n_bytes is computed from type and shape (unknown type: TM_E_ARG). */
tm_status tm_gguf_writer_add_tensor(tm_gguf_writer *w, const char *name, uint32_t type,
                                    int32_t n_dims, const int64_t *ne, tm_err *err);
tm_status tm_gguf_writer_begin(tm_gguf_writer *w, const char *path, tm_err *err);
/* The next tensor's data, exactly its n_bytes, possibly over several calls. */
tm_status tm_gguf_writer_write_data(tm_gguf_writer *w, const void *data, uint64_t n_bytes,
                                    tm_err *err);
tm_status tm_gguf_writer_finish(tm_gguf_writer *w, tm_err *err);

#endif
