/* The machine a plan is made for: this one (detected, classified into the nearest tier) or a
 * tier chosen by name, with the memory the plan may use and the bandwidth that reads it. */
#ifndef TM_APPS_MACHINE_H
#define TM_APPS_MACHINE_H

#include "engine/engine.h"

#define TM_MACHINE_MAX_GPUS 8

typedef struct tm_machine {
    const tm_plan_tier *tier; /* chosen, or the nearest to this machine */
    bool detected;            /* this machine's own numbers (--machine auto) */
    uint64_t memory_bytes;    /* where the model lives: RAM, unified memory or VRAM */
    uint64_t usable_bytes;    /* what the plan may fill */
    const char *usable_rule;  /* how usable_bytes was chosen, for the reader */
    double bandwidth_gbs;
    const char *bandwidth_source; /* "measured", "TM_MEMBW_GBS" or "nominal" */
    int32_t n_threads;            /* the thread count the estimates assume */
    /* detected only */
    tm_cpu cpu;
    tm_sysmem mem;
    tm_gpu gpus[TM_MACHINE_MAX_GPUS];
    int n_gpus; /* found; at most TM_MACHINE_MAX_GPUS are listed */
} tm_machine;

/* name: "auto" (detect this machine, measure or read its cached bandwidth unless
 * measure_bandwidth is false) or a tier name. n_threads 0: the tier's cores, or this machine's
 * logical processors. An unknown name is TM_E_ARG; memory the system does not report is
 * TM_E_UNSUPPORTED. */
tm_status tm_machine_get(const char *name, int64_t n_threads, bool measure_bandwidth,
                         tm_machine *out, tm_err *err);

/* "avx2 avx512f ..." or "neon dotprod ...": the ISA flags of tm_cpu that are set. Writes at
 * most cap bytes, NUL-terminated. */
void tm_machine_isa(const tm_cpu *cpu, char *buf, size_t cap);

#endif
