/* Memory read bandwidth, the numerator of generation's limit. tm_membw_measure: the machine's,
 * for the planner, measured once per CPU model and thread count and cached in the user's
 * cache folder ($XDG_CACHE_HOME or ~/.cache, temoto/membw); TM_MEMBW_GBS overrides it.
 * tm_membw_read: of given memory at this moment, for bench. */
#ifndef TM_APPS_MEMBW_H
#define TM_APPS_MEMBW_H

#include "base/base.h"
#include "tensor/tensor.h"

/* n_threads 0: one per logical CPU. */
tm_status tm_membw_measure(int n_threads, double *gbs, tm_err *err);

/* A stretch of memory to read. */
typedef struct tm_mem_range {
    const void *p;
    uint64_t bytes;
} tm_mem_range;

/* The read bandwidth, in GB/s, of these ranges read once by every thread of pool together
 * (each thread a contiguous share of their concatenation) with read_sum (the model's kernel
 * table's, so with the loads its kernels use; NULL: the reference), best of `passes`. bench
 * reads a model's weight matrices this way between repetitions: the same memory, pages and
 * threads a generated token streams, at the same moment of a shared machine's drifting
 * bandwidth. */
double tm_membw_read(tm_pool *pool, const tm_mem_range *ranges, int n_ranges, int passes,
                     tm_read_sum_fn read_sum);
int tm_membw_threads(int64_t n_threads); /* what 0 resolves to */

#endif
