/* The compute limit of prompt processing: the kernel table's multiply-add peak (its
 * mac_peak) measured on every thread at once, and the multiply-adds one prompt token takes. */
#ifndef TM_APPS_MACPEAK_H
#define TM_APPS_MACPEAK_H

#include "engine/engine.h"

/* Multiply-adds per second of the pool's threads together; 0 when the model's kernel table
 * has no figure. */
double tm_macpeak_measure(const tm_model *m, tm_pool *pool);
/* Multiply-adds per token of a prompt of n tokens: every layer's matrices once, and the
 * attention's scores and values over the (n + 1) / 2 positions a token sees on average. */
double tm_prompt_macs_per_token(const tm_model *m, int64_t n);

#endif
