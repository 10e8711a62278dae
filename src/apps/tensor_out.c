/* See tensor_out.h. Chunks hold about 16 Mi floats per pass, so converting a 2048 x 32000
 * embedding needs 64 MiB of scratch, not the whole tensor. */
#include "tensor_out.h"

#include "tensor/tensor.h"

#define CHUNK_FLOATS ((int64_t)1 << 24)

typedef struct job {
    tm_rows_fn fill;
    void *ctx;
    const tm_type_traits *tr;
    int64_t ne0, first_row, n_rows;
    uint64_t row_bytes;
    float *rows; /* [n_threads] scratch rows of ne0 */
    uint8_t *out;
} job;

static void convert_task(void *arg, int ith, int nth)
{
    job *j = arg;
    float *row = j->rows + (int64_t)ith * j->ne0;
    for (int64_t r = ith; r < j->n_rows; r += nth) {
        j->fill(j->ctx, j->first_row + r, 1, j->ne0, row);
        j->tr->quantize(row, j->out + (uint64_t)r * j->row_bytes, j->ne0);
    }
}

tm_status tm_write_rows(tm_gguf_writer *w, tm_pool *pool, uint32_t type, int64_t ne0,
                        int64_t n_rows, tm_rows_fn fill, void *ctx, tm_err *err)
{
    const tm_type_traits *tr = tm_type_traits_get(type);
    uint64_t row_bytes;
    if (!tr || !tm_dtype_row_bytes(type, ne0, &row_bytes))
        return tm_fail(err, TM_E_UNSUPPORTED, "cannot write rows of %lld as %s", (long long)ne0,
                       tm_dtype_name(type));
    int64_t chunk_rows = TM_MAX(1, TM_MIN(n_rows, CHUNK_FLOATS / ne0));
    int nth = tm_pool_size(pool);
    job j = {fill, ctx, tr, ne0, 0, 0, row_bytes, NULL, NULL};
    j.rows = tm_malloc((size_t)nth * (size_t)ne0 * sizeof(float));
    j.out = tm_malloc((size_t)chunk_rows * row_bytes);
    tm_status st = j.rows && j.out ? TM_OK : tm_fail(err, TM_E_NOMEM, "conversion scratch");
    for (int64_t r0 = 0; r0 < n_rows && st == TM_OK; r0 += chunk_rows) {
        j.first_row = r0;
        j.n_rows = TM_MIN(chunk_rows, n_rows - r0);
        tm_pool_run(pool, convert_task, &j);
        st = tm_gguf_writer_write_data(w, j.out, (uint64_t)j.n_rows * row_bytes, err);
    }
    tm_free(j.rows);
    tm_free(j.out);
    return st;
}
