/* Memory of the machine (total and available) and of this process (resident now).
 *
 * Linux: /proc/meminfo's MemTotal and MemAvailable (the kernel's estimate of what can be
 * allocated without swapping: free pages plus the page cache and reclaimable slabs it would
 * drop); before Linux 3.14 there is no MemAvailable and MemFree stands in. A process in a
 * control group with a memory limit (a container started with --memory, a systemd slice)
 * cannot use more than that limit, whatever the machine has: the lowest limit on its group's
 * path is the total, and the limit less that group's usage caps the available. The process's
 * resident set: /proc/self/statm. macOS: sysctl hw.memsize; available is an approximation
 * from host_statistics64 (free + inactive + purgeable + speculative pages: what the system
 * can hand out without compressing or swapping); resident: task_info. Windows:
 * GlobalMemoryStatusEx (ullTotalPhys, ullAvailPhys) and the working set. Other systems:
 * unknown (false, 0). */
#define _GNU_SOURCE /* sysconf under -std=c11 */
#include "base.h"

#include <string.h>

#if defined(_WIN32)
#include <windows.h>

#include <psapi.h> /* after windows.h, which it needs */
#elif defined(__APPLE__)
#include <mach/mach.h>
#include <sys/sysctl.h>
#include <unistd.h>
#elif defined(__linux__)
#include <unistd.h>
#endif

#if defined(__linux__)
/* The value of "Key:   123 kB" in /proc/meminfo, in bytes; false when absent. */
static bool meminfo_field(const char *text, const char *key, uint64_t *out)
{
    size_t n = strlen(key);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, n) != 0 || line[n] != ':')
            continue;
        unsigned long long kib = 0;
        if (sscanf(line + n + 1, "%llu", &kib) != 1 || kib > UINT64_MAX / 1024)
            return false;
        *out = (uint64_t)kib * 1024;
        return true;
    }
    return false;
}
#endif

/* A number in the file dir/name (a cgroup's memory.max or the like): false when the file is
 * missing or holds no number ("max": no limit). */
static bool cgroup_number(const char *dir, const char *name, uint64_t *out)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    unsigned long long v = 0;
    bool ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    *out = (uint64_t)v;
    return ok;
}

/* cgroup v1 writes "no limit" as the largest page-aligned 63-bit number */
#define CGROUP_V1_UNLIMITED (1ull << 62)

bool tm_sysmem_cgroup(const char *root, const char *self, uint64_t *limit, uint64_t *usage)
{
    *limit = *usage = 0;
    /* the hierarchy's line: "0::/path" (v2), or one naming the memory controller (v1) */
    const char *path = NULL, *sub = "", *limit_file = "memory.max", *usage_file = "memory.current";
    for (const char *line = self; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        const char *end = strchr(line, '\n');
        if (!c2 || (end && c2 > end))
            continue;
        size_t names = (size_t)(c2 - c1 - 1);
        bool v2 = names == 0 && line[0] == '0' && c1 == line + 1;
        bool v1 = false;
        for (const char *n = c1 + 1; n < c2 && !v1;) { /* "memory" among the names */
            const char *comma = memchr(n, ',', (size_t)(c2 - n));
            const char *stop = comma ? comma : c2;
            v1 = stop - n == 6 && memcmp(n, "memory", 6) == 0;
            n = stop + 1;
        }
        if (v1) { /* preferred: where both are listed, v1 holds the memory controller */
            path = c2 + 1;
            sub = "/memory";
            limit_file = "memory.limit_in_bytes";
            usage_file = "memory.usage_in_bytes";
            break;
        }
        if (v2)
            path = c2 + 1;
    }
    if (!path)
        return false;
    char dir[1024];
    size_t len = strcspn(path, "\n");
    int head = snprintf(dir, sizeof dir, "%s%s", root, sub);
    if (head < 0 || (size_t)head + len >= sizeof dir)
        return false;
    memcpy(dir + head, path, len);
    dir[head + len] = '\0';
    /* from the group up to the root: the lowest limit, and the usage where it is set */
    for (;;) {
        uint64_t l = 0, u = 0;
        if (cgroup_number(dir, limit_file, &l) && l > 0 && l < CGROUP_V1_UNLIMITED &&
            (*limit == 0 || l < *limit)) {
            *limit = l;
            *usage = cgroup_number(dir, usage_file, &u) ? u : 0;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash < dir + head)
            break;
        *slash = '\0';
    }
    return *limit > 0;
}

bool tm_sysmem_get(tm_sysmem *out)
{
    memset(out, 0, sizeof *out);
#if defined(_WIN32)
    MEMORYSTATUSEX ms;
    ms.dwLength = sizeof ms;
    if (!GlobalMemoryStatusEx(&ms))
        return false;
    out->total_bytes = (uint64_t)ms.ullTotalPhys;
    out->available_bytes = (uint64_t)ms.ullAvailPhys;
    return out->total_bytes > 0;
#elif defined(__APPLE__)
    uint64_t total = 0;
    size_t n = sizeof total;
    if (sysctlbyname("hw.memsize", &total, &n, NULL, 0) != 0 || total == 0)
        return false;
    out->total_bytes = total;
    vm_statistics64_data_t vm;
    mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
    vm_size_t page = 0;
    if (host_page_size(mach_host_self(), &page) == KERN_SUCCESS &&
        host_statistics64(mach_host_self(), HOST_VM_INFO64, (host_info64_t)&vm, &count) ==
            KERN_SUCCESS) {
        uint64_t pages =
            (uint64_t)vm.free_count + vm.inactive_count + vm.purgeable_count + vm.speculative_count;
        out->available_bytes = TM_MIN(pages * (uint64_t)page, total);
    }
    return true;
#elif defined(__linux__)
    char text[8192];
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return false;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (!meminfo_field(text, "MemTotal", &out->total_bytes) || out->total_bytes == 0)
        return false;
    if (!meminfo_field(text, "MemAvailable", &out->available_bytes))
        meminfo_field(text, "MemFree", &out->available_bytes);
    char self[4096];
    f = fopen("/proc/self/cgroup", "r");
    if (f) {
        n = fread(self, 1, sizeof self - 1, f);
        fclose(f);
        self[n] = '\0';
        uint64_t limit = 0, usage = 0;
        if (tm_sysmem_cgroup("/sys/fs/cgroup", self, &limit, &usage) && limit < out->total_bytes) {
            out->total_bytes = limit;
            out->available_bytes = TM_MIN(out->available_bytes, limit - TM_MIN(usage, limit));
        }
    }
    out->available_bytes = TM_MIN(out->available_bytes, out->total_bytes);
    return true;
#else
    return false;
#endif
}

uint64_t tm_rss_bytes(void)
{
#if defined(_WIN32)
    PROCESS_MEMORY_COUNTERS pmc;
    if (GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
        return (uint64_t)pmc.WorkingSetSize;
    return 0;
#elif defined(__APPLE__)
    mach_task_basic_info_data_t info;
    mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
    if (task_info(mach_task_self(), MACH_TASK_BASIC_INFO, (task_info_t)&info, &count) !=
        KERN_SUCCESS)
        return 0;
    return (uint64_t)info.resident_size;
#elif defined(__linux__)
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int got = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return got == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
#else
    return 0;
#endif
}
