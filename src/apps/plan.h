/* temoto plan's two halves: the estimate (plan.c) and --verify (plan_verify.c), which runs
 * a model at a context and compares its peak memory and speed with what was predicted. */
#ifndef TM_APPS_PLAN_H
#define TM_APPS_PLAN_H

#include "cli.h"

typedef struct tm_plan_verify_args {
    const char *model_path;
    int64_t n_ctx;     /* 0: the model's default context */
    int64_t n_threads; /* 0: one per logical processor */
    tm_cli_kv kv;
    bool json;
} tm_plan_verify_args;

/* Runs the check and prints it; returns the exit status (0 whether or not the prediction
 * was within 10%, 1 when the run failed). */
int tm_plan_verify(const tm_plan_verify_args *args);

#endif
