/* The machine's memory read bandwidth, the denominator of every "fraction of the limit"
 * figure. Measured once per CPU model and thread count and cached in the user's cache folder
 * ($XDG_CACHE_HOME or ~/.cache, temoto/membw); TM_MEMBW_GBS overrides it. */
#ifndef TM_APPS_MEMBW_H
#define TM_APPS_MEMBW_H

#include "base/base.h"

/* n_threads 0: one per logical CPU. */
tm_status tm_membw_measure(int n_threads, double *gbs, tm_err *err);
int tm_membw_threads(int64_t n_threads); /* what 0 resolves to */

#endif
