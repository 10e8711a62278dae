/* Read bandwidth of DRAM: every thread sums its slice of a 1 GiB buffer (four times the
 * size at which reads stop hitting caches here) with the best kernel table's widest loads
 * (read_sum: a core's plain 8-byte loads can fall 10-30% short of what its kernels stream
 * when bandwidth per core is high), best of three passes. Run it after the
 * figures whose peak memory matters: the buffer raises the process's peak RSS. */
#include "membw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES ((size_t)1 << 30)

typedef struct read_job {
    tm_read_sum_fn read_sum;
    const uint8_t *data;
    uint64_t bytes;
    uint64_t sums[256];
} read_job;

static void read_task(void *arg, int ith, int nth)
{
    read_job *j = arg;
    uint64_t per = j->bytes / (uint64_t)nth / 64 * 64, lo = per * (uint64_t)ith;
    uint64_t hi = ith == nth - 1 ? j->bytes : lo + per;
    j->sums[ith % 256] = j->read_sum(j->data + lo, hi - lo); /* kept: the reads stay */
}

int tm_membw_threads(int64_t n_threads)
{
    if (n_threads > 0)
        return (int)n_threads;
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    return cpu.n_logical > 0 ? cpu.n_logical : 1;
}

/* $XDG_CACHE_HOME/temoto/membw.txt, ~/.cache/temoto/membw.txt or, on Windows,
 * %LOCALAPPDATA%\temoto\membw.txt; the folders are made when missing. */
static void cache_path(char *out, size_t cap)
{
    const char *xdg = tm_getenv("XDG_CACHE_HOME"), *home = tm_getenv("HOME");
    const char *local = tm_getenv("LOCALAPPDATA");
    char dir[900];
    out[0] = '\0';
    if (xdg)
        snprintf(dir, sizeof dir, "%s", xdg);
    else if (home)
        snprintf(dir, sizeof dir, "%s/.cache", home);
    else if (local)
        snprintf(dir, sizeof dir, "%s", local);
    else
        return;
    tm_mkdir(dir);
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/temoto");
    if (tm_mkdir(dir))
        snprintf(out, cap, "%s/membw.txt", dir);
}

/* The cache holds lines "threads<TAB>GB/s<TAB>key", the key the CPU's brand and the kernel
 * table whose loads read (figures read with other loads do not match). */
static bool cache_lookup(const char *path, int threads, const char *key, double *gbs)
{
    FILE *f = path[0] ? tm_fopen(path, "r") : NULL;
    if (!f)
        return false;
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        int t = 0;
        double v = 0;
        int at = 0;
        if (sscanf(line, "%d\t%lf\t%n", &t, &v, &at) == 2 && t == threads && v > 0) {
            line[strcspn(line, "\n")] = '\0';
            found = strcmp(line + at, key) == 0;
            *gbs = v;
        }
    }
    fclose(f);
    return found;
}

static void cache_store(const char *path, int threads, const char *key, double gbs)
{
    FILE *f = path[0] ? tm_fopen(path, "a") : NULL;
    if (!f)
        return; /* a cache: failing to write it is not an error */
    fprintf(f, "%d\t%.3f\t%s\n", threads, gbs, key);
    fclose(f);
}

tm_status tm_membw_measure(int n_threads, double *gbs, tm_err *err)
{
    const char *env = tm_getenv("TM_MEMBW_GBS");
    if (env) {
        if (!tm_parse_f64(env, gbs) || *gbs <= 0)
            return tm_fail(err, TM_E_ARG, "TM_MEMBW_GBS='%s' is not a positive number", env);
        return TM_OK;
    }
    int threads = tm_membw_threads(n_threads);
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    tm_kernels k;
    tm_status st = tm_kernels_init(&k, &cpu, NULL, err);
    if (st != TM_OK)
        return st;
    char path[1024], key[160];
    cache_path(path, sizeof path);
    snprintf(key, sizeof key, "%s (%s reads)", cpu.brand, k.isa);
    if (cache_lookup(path, threads, key, gbs))
        return TM_OK;
    tm_pool *pool = NULL;
    st = tm_pool_create(threads, &pool, err);
    if (st != TM_OK)
        return st;
    read_job *j = tm_calloc(1, sizeof *j);
    uint64_t *buf = tm_aligned_alloc(64, BUF_BYTES);
    if (!j || !buf) {
        tm_free(j);
        tm_aligned_free(buf);
        tm_pool_free(pool);
        return tm_fail(err, TM_E_NOMEM, "1 GiB to measure memory bandwidth");
    }
    memset(buf, 1, BUF_BYTES); /* touch every page before timing */
    j->read_sum = k.read_sum;
    j->data = (const uint8_t *)buf;
    j->bytes = BUF_BYTES;
    double best = 0;
    for (int pass = 0; pass < 3; pass++) {
        int64_t t0 = tm_time_us();
        tm_pool_run(pool, read_task, j);
        double s = (double)(tm_time_us() - t0) / 1e6;
        best = TM_MAX(best, (double)BUF_BYTES / s / 1e9);
    }
    tm_aligned_free(buf);
    tm_free(j);
    tm_pool_free(pool);
    *gbs = best;
    cache_store(path, threads, key, best);
    return TM_OK;
}

typedef struct ranges_job {
    tm_read_sum_fn read_sum;
    const tm_mem_range *r;
    int n;
    uint64_t total;
    uint64_t sums[256];
} ranges_job;

static void ranges_task(void *arg, int ith, int nth)
{
    ranges_job *j = arg;
    uint64_t lo = j->total / (uint64_t)nth * (uint64_t)ith;
    uint64_t hi = ith == nth - 1 ? j->total : j->total / (uint64_t)nth * (uint64_t)(ith + 1);
    uint64_t at = 0, sum = 0; /* at: where range k starts in the concatenation */
    for (int k = 0; k < j->n && at < hi; at += j->r[k].bytes, k++) {
        uint64_t a = TM_MAX(lo, at), b = TM_MIN(hi, at + j->r[k].bytes);
        if (a < b)
            sum += j->read_sum((const uint8_t *)j->r[k].p + (a - at), b - a);
    }
    j->sums[ith % 256] = sum; /* kept, so the reads are not optimised away */
}

double tm_membw_read(tm_pool *pool, const tm_mem_range *ranges, int n_ranges, int passes,
                     tm_read_sum_fn read_sum)
{
    ranges_job j = {.read_sum = read_sum ? read_sum : tm_read_sum_ref, .r = ranges, .n = n_ranges};
    for (int k = 0; k < n_ranges; k++)
        j.total += ranges[k].bytes;
    double best = 0;
    for (int pass = 0; pass < passes && j.total > 0; pass++) {
        int64_t t0 = tm_time_us();
        tm_pool_run(pool, ranges_task, &j);
        int64_t dt = TM_MAX(tm_time_us() - t0, 1);
        best = TM_MAX(best, (double)j.total / ((double)dt * 1e-6) / 1e9);
    }
    return best;
}
