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

/* Control-group limits, on a tree of files made here as /sys/fs/cgroup would hold them. */
static void put(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", root, rel);
    tm_err err = {0};
    TM_CHECK_OK(tm_file_write_all(path, text, strlen(text), &err), &err);
}

static void test_cgroup_limits(void)
{
    const char *root = tm_test_tmp_path("cgroup");
    char d[1024];
    const char *dirs[] = {"", "/a", "/a/b", "/memory", "/memory/x", "/memory/x/y"};
    for (size_t i = 0; i < TM_ARRAY_LEN(dirs); i++) {
        snprintf(d, sizeof d, "%s%s", root, dirs[i]);
        TM_CHECK(tm_mkdir(d));
    }
    /* v2: no limit at the root or the group, 1 GiB (100 MiB used) on the parent */
    put(root, "/memory.max", "max\n");
    put(root, "/a/memory.max", "1073741824\n");
    put(root, "/a/memory.current", "104857600\n");
    put(root, "/a/b/memory.max", "max\n");
    put(root, "/a/b/memory.current", "5\n");
    uint64_t limit = 0, usage = 0;
    TM_CHECK(tm_sysmem_cgroup(root, "0::/a/b\n", &limit, &usage));
    TM_CHECK(limit == 1073741824ull && usage == 104857600ull);
    TM_CHECK(!tm_sysmem_cgroup(root, "0::/\n", &limit, &usage) && limit == 0);
    TM_CHECK(!tm_sysmem_cgroup(root, "0::/elsewhere\n", &limit, &usage)); /* no such group */
    /* a lower limit below wins */
    put(root, "/a/b/memory.max", "536870912\n");
    TM_CHECK(tm_sysmem_cgroup(root, "0::/a/b\n", &limit, &usage));
    TM_CHECK(limit == 536870912ull && usage == 5);
    /* v1, listed beside v2 (which then has no controllers): the memory hierarchy's file, and
     * its "unlimited" (the largest page-aligned 63-bit number) is none */
    put(root, "/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put(root, "/memory/x/memory.limit_in_bytes", "9223372036854771712\n");
    put(root, "/memory/x/y/memory.limit_in_bytes", "268435456\n");
    put(root, "/memory/x/y/memory.usage_in_bytes", "1000\n");
    const char *v1 = "5:cpu,cpuacct:/x\n4:memory:/x/y\n0::/\n";
    TM_CHECK(tm_sysmem_cgroup(root, v1, &limit, &usage));
    TM_CHECK(limit == 268435456ull && usage == 1000);
    TM_CHECK(!tm_sysmem_cgroup(root, "3:cpu:/x/y\n4:memory:/x\n", &limit, &usage));
    TM_CHECK(!tm_sysmem_cgroup(root, "", &limit, &usage));
    TM_CHECK(!tm_sysmem_cgroup(root, "garbage without colons", &limit, &usage));
    const char *files[] = {"/memory/x/y/memory.usage_in_bytes",
                           "/memory/x/y/memory.limit_in_bytes",
                           "/memory/x/memory.limit_in_bytes",
                           "/memory/memory.limit_in_bytes",
                           "/a/b/memory.current",
                           "/a/b/memory.max",
                           "/a/memory.current",
                           "/a/memory.max",
                           "/memory.max"};
    for (size_t i = 0; i < TM_ARRAY_LEN(files); i++) {
        snprintf(d, sizeof d, "%s%s", root, files[i]);
        remove(d);
    }
    for (size_t i = TM_ARRAY_LEN(dirs); i-- > 0;) { /* empty directories, deepest first */
        snprintf(d, sizeof d, "%s%s", root, dirs[i]);
        remove(d);
    }
    /* what the machine reports is within the limit of its own group, if any */
    tm_sysmem mem;
    if (tm_sysmem_get(&mem))
        TM_CHECK(mem.available_bytes <= mem.total_bytes);
}

int main(void)
{
    TM_RUN(test_machine_memory);
    TM_RUN(test_resident_set_follows_writes);
    TM_RUN(test_gpu_list);
    TM_RUN(test_cgroup_limits);
    return tm_test_result();
}
