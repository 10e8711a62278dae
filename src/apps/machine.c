/* The machine of a plan (see machine.h). A chosen tier is its nominal figures
 * (engine/plan_tiers.c). Detected: total and available memory, the CPU, the GPUs the system
 * lists, and the bandwidth membw.c measured (or cached, or TM_MEMBW_GBS); the plan may fill
 * the memory available now (Linux MemAvailable), since the rest is already taken. The
 * machine is also classified into the nearest tier by name, for the reader: its numbers are
 * not used then. */
#include "machine.h"

#include "membw.h"

#include <stdio.h>
#include <string.h>

void tm_machine_isa(const tm_cpu *cpu, char *buf, size_t cap)
{
    const struct {
        bool on;
        const char *name;
    } flags[] = {
        {cpu->avx2, "avx2"},
        {cpu->fma, "fma"},
        {cpu->f16c, "f16c"},
        {cpu->avx512f, "avx512f"},
        {cpu->avx512bw, "avx512bw"},
        {cpu->avx512vnni, "avx512vnni"},
        {cpu->avx512bf16, "avx512bf16"},
        {cpu->avx_vnni, "avxvnni"},
        {cpu->amx_int8, "amx_int8"},
        {cpu->amx_bf16, "amx_bf16"},
        {cpu->neon, "neon"},
        {cpu->dotprod, "dotprod"},
        {cpu->i8mm, "i8mm"},
        {cpu->fp16, "fp16"},
    };
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < TM_ARRAY_LEN(flags); i++)
        if (flags[i].on && at < cap)
            at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? " " : "", flags[i].name);
}

static bool is_apple_silicon(void)
{
#if defined(__APPLE__) && (defined(__aarch64__) || defined(__arm64__))
    return true;
#else
    return false;
#endif
}

tm_status tm_machine_get(const char *name, int64_t n_threads, bool measure_bandwidth,
                         tm_machine *out, tm_err *err)
{
    tm_machine m;
    memset(&m, 0, sizeof m);
    if (strcmp(name, "auto") != 0) {
        m.tier = tm_plan_tier_find(name);
        if (!m.tier)
            return tm_fail(err, TM_E_ARG, "unknown machine '%s' (auto, %s)", name,
                           tm_plan_tier_names());
        m.memory_bytes = m.tier->memory_bytes;
        m.usable_bytes = tm_plan_tier_usable_bytes(m.tier);
        m.usable_rule = m.tier->apple ? "the macOS GPU working set of the unified memory"
                        : m.tier->gpu ? "the VRAM less the driver's and the display's share"
                                      : "the RAM less a quarter for the system and desktop";
        m.bandwidth_gbs = m.tier->bandwidth_gbs;
        m.bandwidth_source = "nominal";
        m.n_threads = n_threads > 0 ? (int32_t)n_threads : m.tier->n_cores;
        *out = m;
        return TM_OK;
    }
    m.detected = true;
    tm_cpu_detect(&m.cpu);
    if (!tm_sysmem_get(&m.mem))
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "this system does not report its memory: choose a tier with --machine "
                       "(%s)",
                       tm_plan_tier_names());
    m.n_gpus = tm_gpu_list(m.gpus, TM_MACHINE_MAX_GPUS);
    m.memory_bytes = m.mem.total_bytes;
    m.usable_bytes = m.mem.available_bytes;
    m.usable_rule = "the memory available now";
    m.n_threads = (int32_t)tm_membw_threads(n_threads);
    m.tier = tm_plan_tier_nearest(is_apple_silicon(), m.mem.total_bytes, m.cpu.n_logical);
    if (measure_bandwidth) {
        tm_status st = tm_membw_measure(m.n_threads, &m.bandwidth_gbs, err);
        if (st != TM_OK)
            return st;
        m.bandwidth_source = tm_getenv("TM_MEMBW_GBS") ? "TM_MEMBW_GBS" : "measured";
    }
    *out = m;
    return TM_OK;
}
