/* Writing a tensor whose rows are produced as floats (dequantized from another file, or
 * generated) and converted to its type on every thread, a bounded chunk at a time: shared by
 * quantize, synth and convert-llama2c. */
#ifndef TM_APPS_TENSOR_OUT_H
#define TM_APPS_TENSOR_OUT_H

#include "base/base.h"
#include "gguf/gguf.h"

/* Fills n rows of ne0 floats, rows first_row.. of the tensor; called from several threads at
 * once for different rows, so it must only read shared state. */
typedef void (*tm_rows_fn)(void *ctx, int64_t first_row, int64_t n, int64_t ne0, float *dst);

tm_status tm_write_rows(tm_gguf_writer *w, tm_pool *pool, uint32_t type, int64_t ne0,
                        int64_t n_rows, tm_rows_fn fill, void *ctx, tm_err *err);

#endif
