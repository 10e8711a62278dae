/* Memory of the machine (total and available) and of this process (resident now).
 *
 * Linux: /proc/meminfo's MemTotal and MemAvailable (the kernel's estimate of what can be
 * allocated without swapping: free pages plus the page cache and reclaimable slabs it would
 * drop); before Linux 3.14 there is no MemAvailable and MemFree stands in. The process's
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
