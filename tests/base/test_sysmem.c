/* Memory of the machine and of this process (src/base/sysmem.c), and the GPU list
 * (src/base/gpu.c): the figures are consistent, and the resident set grows by what the
 * process writes. */
#include "test.h"

#include <stdlib.h>

static void test_machine_memory(void)
{
    tm_sysmem mem;
    bool known = tm_sysmem_get(&mem);
#if defined(__linux__) || defined(__APPLE__) || defined(_WIN32)
    TM_CHECK(known);
#endif
    if (!known)
        return;
    TM_CHECK(mem.total_bytes >= (64ull << 20));
    TM_CHECK(mem.available_bytes <= mem.total_bytes);
    fprintf(stderr, "memory: %llu bytes, %llu available\n", (unsigned long long)mem.total_bytes,
            (unsigned long long)mem.available_bytes);
}

static void test_resident_set_follows_writes(void)
{
    uint64_t before = tm_rss_bytes();
#if defined(__linux__) || defined(__APPLE__) || defined(_WIN32)
    TM_CHECK(before > 0);
#endif
    if (before == 0)
        return;
    size_t n = (size_t)64 << 20;
    char *p = tm_malloc(n);
    TM_CHECK(p != NULL);
    if (!p)
        return;
    memset(p, 1, n); /* pages become resident as they are written */
    uint64_t after = tm_rss_bytes();
    TM_CHECK_MSG(after >= before + n - (n / 16), "rss %llu -> %llu after writing %zu bytes",
                 (unsigned long long)before, (unsigned long long)after, n);
    TM_CHECK(tm_peak_rss_bytes() >= after - (after / 100)); /* the peak is at least now */
    volatile char sink = p[n - 1];
    (void)sink;
    tm_free(p);
}

static void test_gpu_list(void)
{
    tm_gpu gpus[4];
    int n = tm_gpu_list(gpus, 4);
    TM_CHECK(n >= 0);
    for (int i = 0; i < TM_MIN(n, 4); i++) {
        TM_CHECK(gpus[i].name[0] != '\0' && gpus[i].vendor[0] != '\0');
        fprintf(stderr, "gpu: %s (%s), %llu bytes%s\n", gpus[i].name, gpus[i].vendor,
                (unsigned long long)gpus[i].vram_bytes, gpus[i].unified ? ", unified" : "");
    }
    TM_CHECK_EQ_INT(tm_gpu_list(NULL, 0), n); /* counting only */
}

int main(void)
{
    TM_RUN(test_machine_memory);
    TM_RUN(test_resident_set_follows_writes);
    TM_RUN(test_gpu_list);
    return tm_test_result();
}
