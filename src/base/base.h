/* base: the platform layer. Errors, allocation, buffers, files, mmap, threads and the worker
 * pool, clocks, CPU features, random numbers, hashing, strict number parsing. Everything that
 * differs between Linux, macOS and Windows lives in this folder and nowhere else. */
#ifndef TM_BASE_H
#define TM_BASE_H

#include "temoto.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TM_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define TM_MAX(a, b)    ((a) > (b) ? (a) : (b))
#define TM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__MINGW32__) /* with __USE_MINGW_ANSI_STDIO the C99 formats (%zu) work */
#define TM_PRINTF(fmt_index, first_arg) __attribute__((format(gnu_printf, fmt_index, first_arg)))
#elif defined(__GNUC__) || defined(__clang__)
#define TM_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define TM_PRINTF(fmt_index, first_arg)
#endif

/* ---- errors (status.c) ------------------------------------------------------------------ */

/* Fills err (if not NULL) with status and a formatted one-line message; returns status, so
 * callers write `return tm_fail(err, TM_E_FORMAT, "...", ...)`. Allocates nothing. */
tm_status tm_fail(tm_err *err, tm_status status, const char *fmt, ...) TM_PRINTF(3, 4);
/* Prefixes err's message with "<context>: " on the way up. */
void tm_err_context(tm_err *err, const char *fmt, ...) TM_PRINTF(2, 3);

/* ---- allocation (alloc.c) --------------------------------------------------------------- */

/* All library allocations go through these, so tests can fail the n-th call. */
void *tm_malloc(size_t n_bytes);
void *tm_calloc(size_t n, size_t size);
void *tm_realloc(void *p, size_t n_bytes);
void tm_free(void *p);
/* align: a power of two, at least sizeof(void *). Free with tm_aligned_free. */
void *tm_aligned_alloc(size_t align, size_t n_bytes);
void tm_aligned_free(void *p);
char *tm_strdup(const char *s);
char *tm_strndup(const char *s, size_t n);
/* Test hook: the n-th allocation from now (0 = the next one) and all after it fail;
 * n < 0 turns failure injection off. Returns the number of allocations since the last call. */
long tm_alloc_fail_after(long n);

/* ---- overflow-checked arithmetic -------------------------------------------------------- */

static inline bool tm_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b)
        return false;
    *out = a + b;
    return true;
}

static inline bool tm_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

static inline uint64_t tm_align_up_u64(uint64_t n, uint64_t align) /* align: power of two */
{
    return (n + align - 1) & ~(align - 1);
}

/* ---- growable byte buffer with a hard cap (buf.c) --------------------------------------- */

typedef struct tm_buf {
    char *data;       /* always NUL-terminated after a successful append */
    size_t len;       /* bytes used, without the terminator */
    size_t cap;       /* bytes allocated */
    size_t max_bytes; /* appends that would exceed it fail with TM_E_LIMIT */
} tm_buf;

void tm_buf_init(tm_buf *b, size_t max_bytes);
void tm_buf_fini(tm_buf *b);
tm_status tm_buf_append(tm_buf *b, const void *data, size_t n, tm_err *err);
tm_status tm_buf_printf(tm_buf *b, tm_err *err, const char *fmt, ...) TM_PRINTF(3, 4);
/* Appends s (n bytes of UTF-8) as a quoted JSON string. */
tm_status tm_buf_append_json_string(tm_buf *b, const char *s, size_t n, tm_err *err);

/* ---- arena (arena.c) ------------------------------------------------------------------- */

typedef struct tm_arena_chunk tm_arena_chunk;
typedef struct tm_arena {
    tm_arena_chunk *head;
    size_t total_bytes; /* allocated from the system so far */
    size_t max_bytes;   /* allocations beyond it fail (NULL) */
} tm_arena;

void tm_arena_init(tm_arena *a, size_t max_bytes);
void tm_arena_fini(tm_arena *a); /* frees everything allocated from a */
/* n zeroed bytes aligned for any type, or NULL past the budget or out of memory. */
void *tm_arena_alloc(tm_arena *a, size_t n);

/* ---- interrupts (interrupt.c) ----------------------------------------------------------- */

/* Ctrl-C sets a request instead of killing the process (a second one before the first is
 * taken still kills it). tm_interrupt_take returns whether one arrived, and clears it. */
void tm_interrupt_install(void);
bool tm_interrupt_take(void);
bool tm_stdin_is_terminal(void);

/* ---- files (file.c) --------------------------------------------------------------------- */

/* Reads a whole file into a new tm_malloc'd buffer (NUL-terminated, *n_bytes excludes it).
 * Files above max_bytes are TM_E_LIMIT. */
tm_status tm_file_read_all(const char *path, size_t max_bytes, char **out, size_t *n_bytes,
                           tm_err *err);
/* Writes the whole buffer, replacing the file. */
tm_status tm_file_write_all(const char *path, const void *data, size_t n_bytes, tm_err *err);
/* Renames from to to, replacing a file at to (atomically where the system allows: a reader
 * sees the old file or the new one, never a part). */
tm_status tm_file_replace(const char *from, const char *to, tm_err *err);
/* Creates one directory (not its parents); true if it exists afterwards. */
bool tm_mkdir(const char *path);
/* fopen that understands UTF-8 paths on Windows too. */
FILE *tm_fopen(const char *path, const char *mode);

/* ---- read-only file mappings (mmap_posix.c / mmap_win.c) -------------------------------- */

typedef struct tm_mmap tm_mmap;

/* Maps a whole file read-only. An empty file maps to size 0 and a non-NULL data pointer. */
tm_status tm_mmap_open(const char *path, tm_mmap **out, tm_err *err);
void tm_mmap_close(tm_mmap *m);
const uint8_t *tm_mmap_data(const tm_mmap *m);
uint64_t tm_mmap_size(const tm_mmap *m);
/* Tells the OS that [offset, offset + n_bytes) will not be read again (e.g. weights that were
 * repacked into another layout), so its pages can leave memory. A hint: may do nothing. */
void tm_mmap_release(tm_mmap *m, uint64_t offset, uint64_t n_bytes);
/* Asks the OS to read ahead the whole mapping. A hint. */
void tm_mmap_prefetch(tm_mmap *m);
/* Asks the OS to back [p, p + n_bytes) with huge pages (Linux transparent huge pages): a
 * stream through gigabytes of weights then takes a TLB miss per 2 MiB, not per 4 KiB. A hint;
 * p should be 2 MiB-aligned. */
void tm_mem_advise_huge(void *p, uint64_t n_bytes);
#define TM_HUGE_PAGE_BYTES ((size_t)2 << 20)

/* ---- threads (thread_posix.c / thread_win.c) -------------------------------------------- */

typedef struct tm_thread tm_thread;
typedef struct tm_mutex tm_mutex;
typedef struct tm_cond tm_cond;

tm_status tm_thread_create(tm_thread **out, void (*fn)(void *arg), void *arg, tm_err *err);
void tm_thread_join(tm_thread *t); /* waits for the thread and frees t */

tm_status tm_mutex_create(tm_mutex **out, tm_err *err);
void tm_mutex_free(tm_mutex *m);
void tm_mutex_lock(tm_mutex *m);
void tm_mutex_unlock(tm_mutex *m);

tm_status tm_cond_create(tm_cond **out, tm_err *err);
void tm_cond_free(tm_cond *c);
void tm_cond_wait(tm_cond *c, tm_mutex *m);
void tm_cond_broadcast(tm_cond *c);

void tm_cpu_relax(void); /* a pause hint inside spin loops */

/* Asks for the bytes [p, p + n) to be brought into the core's L2 cache ahead of their use (a
 * hint: no effect on results, no fault on any address). For streams the hardware prefetchers
 * cannot foresee, such as the next block of a block table. */
#if defined(__GNUC__) || defined(__clang__)
static inline void tm_prefetch_l2(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i += 64)
        __builtin_prefetch((const char *)p + i, 0, 2);
}
#else
void tm_prefetch_l2(const void *p, size_t n);
#endif

/* ---- the worker pool (pool.c) ----------------------------------------------------------- */

/* A task runs on every thread of the pool at once: ith in [0, nth). The calling thread is
 * thread 0. Tasks split their work by ith and must not block on each other. */
typedef void (*tm_task_fn)(void *arg, int ith, int nth);
typedef struct tm_pool tm_pool;

/* n_threads <= 0: one per logical CPU. Threads persist until tm_pool_free. */
tm_status tm_pool_create(int n_threads, tm_pool **out, tm_err *err);
/* The size tm_pool_create(n_threads) gives a pool (memory estimates need it beforehand). */
int tm_pool_threads_for(int n_threads);
void tm_pool_free(tm_pool *pool);
int tm_pool_size(const tm_pool *pool);
/* Runs fn on all threads and returns when every one has finished. Not reentrant: one
 * caller at a time (the pool's owner). */
void tm_pool_run(tm_pool *pool, tm_task_fn fn, void *arg);
/* fn(ctx, i0, i1) over [0, n), cut into one contiguous range per thread; with fewer than
 * min_n items, on the calling thread alone (waking the pool costs more than small work). */
typedef void (*tm_range_fn)(void *ctx, int64_t i0, int64_t i1);
void tm_pool_for(tm_pool *pool, int64_t n, int64_t min_n, tm_range_fn fn, void *ctx);

/* ---- work shared with stealing (spans.c) ------------------------------------------------ */

/* Units [0, n) of one tm_pool_run split into a band per thread. A thread takes its band
 * front to back a chunk at a time, then steals the back half of the largest band left
 * (which becomes its band, to be split again): every unit is handed out exactly once, the
 * threads end within about a chunk of each other, and each reads mostly one stream. */
typedef struct tm_spans tm_spans;
/* The bytes tm_spans_create allocates (memory estimates count them). */
uint64_t tm_spans_bytes(int n_threads);
tm_status tm_spans_create(int n_threads, tm_spans **out, tm_err *err);
void tm_spans_free(tm_spans *s);
/* Before a run, by one thread: n_units in nth (<= the created n_threads) even bands. */
void tm_spans_reset(tm_spans *s, int nth, uint32_t n_units);
/* Thread ith's next units [*u0, *u1), at most chunk of them; false when none are left. */
bool tm_spans_next(tm_spans *s, int ith, uint32_t chunk, uint32_t *u0, uint32_t *u1);

/* ---- clocks (clock.c) ------------------------------------------------------------------- */

int64_t tm_time_us(void); /* monotonic microseconds */
/* The local date and time formatted by strftime's fmt; returns the length (0 if it does
 * not fit). */
size_t tm_strftime_now(char *buf, size_t cap, const char *fmt);
uint64_t tm_peak_rss_bytes(void); /* peak resident memory of this process, 0 if unknown */

/* ---- CPU (cpu.c) ------------------------------------------------------------------------ */

typedef struct tm_cpu {
    char brand[64]; /* "Intel(R) Xeon(R) ..." or "" */
    int n_logical;  /* logical processors usable by this process */
    /* x86-64: instruction set flags, each already and-ed with the OS's register saving */
    bool sse3, ssse3, avx, avx2, fma, f16c;
    bool avx512f, avx512bw, avx512dq, avx512vl, avx512vnni, avx512bf16, avx_vnni;
    bool amx_tile, amx_int8, amx_bf16; /* usable: on Linux the permission was granted */
    /* arm64: NEON (always), SDOT/UDOT (FEAT_DotProd), SMMLA/USDOT (FEAT_I8MM), half-precision
     * vector arithmetic (FEAT_FP16), each as the OS reports it */
    bool neon, dotprod, i8mm, fp16;
} tm_cpu;

/* Probes the CPU once per call (cheap). */
void tm_cpu_detect(tm_cpu *cpu);

/* ---- memory of the machine and of this process (sysmem.c) ------------------------------ */

typedef struct tm_sysmem {
    uint64_t total_bytes;     /* physical memory */
    uint64_t available_bytes; /* what can be allocated now without swapping, as the OS
                                 estimates it (Linux MemAvailable); 0 when unknown */
} tm_sysmem;

/* Fills out; false when the system does not say (out is zeroed then). On Linux a memory
 * limit of the process's control group below the machine's memory is the total. */
bool tm_sysmem_get(tm_sysmem *out);
/* The memory limit of a Linux control group (tm_sysmem_get's, exposed for its tests): the
 * lowest on the path of the group that `self` (the text of /proc/self/cgroup) names, under
 * root (/sys/fs/cgroup): v2's memory.max, or v1's memory/.../memory.limit_in_bytes; *usage:
 * what that limiting group uses. False, and zeros, when no limit is set. */
bool tm_sysmem_cgroup(const char *root, const char *self, uint64_t *limit, uint64_t *usage);
uint64_t tm_rss_bytes(void); /* resident memory of this process now, 0 if unknown */

/* ---- GPUs (gpu.c) ----------------------------------------------------------------------- */

typedef struct tm_gpu {
    char vendor[16];     /* "nvidia", "amd", "apple" */
    char name[96];       /* "NVIDIA GeForce RTX 4090", or the vendor's when not reported */
    uint64_t vram_bytes; /* dedicated memory; 0: unknown (NVIDIA without NVML) or unified */
    bool unified;        /* shares the system's memory (Apple Silicon) */
} tm_gpu;

/* The GPUs the system reports without vendor libraries: writes up to cap of them and returns
 * how many there are (which may exceed cap). A report only: nothing computes on them. */
int tm_gpu_list(tm_gpu *out, int cap);

/* ---- random numbers (rng.c) ------------------------------------------------------------- */

typedef struct tm_rng {
    uint64_t s[4]; /* xoshiro256** state */
} tm_rng;

uint64_t tm_splitmix64(uint64_t *state);
void tm_rng_seed(tm_rng *rng, uint64_t seed);
uint64_t tm_rng_next(tm_rng *rng);
double tm_rng_uniform(tm_rng *rng); /* [0, 1) with 53 random bits */

/* ---- hashing (sha256.c) ----------------------------------------------------------------- */

typedef struct tm_sha256 {
    uint32_t h[8];
    uint64_t n_bytes;
    uint8_t block[64];
    uint32_t n_block;
} tm_sha256;

void tm_sha256_init(tm_sha256 *s);
void tm_sha256_update(tm_sha256 *s, const void *data, size_t n);
void tm_sha256_final(tm_sha256 *s, uint8_t digest[32]);

/* FNV-1a, for hash tables of names. */
static inline uint64_t tm_hash_bytes(const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- strict parsing of numbers (parse.c) ------------------------------------------------ */

/* The whole string must be a number in range; no sign for unsigned, no trailing text. */
bool tm_parse_i64(const char *s, int64_t *out);
bool tm_parse_f64(const char *s, double *out);
bool tm_parse_u64(const char *s, uint64_t *out);
int tm_hex_digit(char c); /* the value of a hexadecimal digit, or -1 */

/* ---- environment (env.c) ---------------------------------------------------------------- */

const char *tm_getenv(const char *name); /* NULL when unset or empty */

#endif
