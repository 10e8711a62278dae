/* Monotonic time, the local date, and peak memory. */
#define _GNU_SOURCE /* clock_gettime, madvise, sched_getaffinity under -std=c11 */
#include "base.h"

#ifdef _WIN32
#include <windows.h>

#include <psapi.h> /* after windows.h, which it needs */
#else
#include <sys/resource.h>
#endif
#include <time.h>

int64_t tm_time_us(void)
{
#ifdef _WIN32
    LARGE_INTEGER freq, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (int64_t)(now.QuadPart / freq.QuadPart * 1000000 +
                     now.QuadPart % freq.QuadPart * 1000000 / freq.QuadPart);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#endif
}

size_t tm_strftime_now(char *buf, size_t cap, const char *fmt)
{
    time_t now = time(NULL);
    struct tm local;
#ifdef _WIN32
    if (localtime_s(&local, &now) != 0)
        return 0;
#else
    if (!localtime_r(&now, &local))
        return 0;
#endif
    return strftime(buf, cap, fmt, &local);
}

uint64_t tm_peak_rss_bytes(void)
{
#ifdef _WIN32
    PROCESS_MEMORY_COUNTERS pmc;
    if (GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
        return (uint64_t)pmc.PeakWorkingSetSize;
    return 0;
#else
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
#ifdef __APPLE__
    return (uint64_t)ru.ru_maxrss; /* bytes on macOS */
#else
    return (uint64_t)ru.ru_maxrss * 1024; /* kilobytes on Linux */
#endif
#endif
}
