/* CPU feature detection. x86-64: CPUID, and-ed with what the OS saves on a context switch
 * (XGETBV), plus the Linux permission request that AMX tile data needs before first use.
 * arm64: NEON is part of every AArch64 CPU; the optional dot product (SDOT, FEAT_DotProd),
 * 8-bit matrix multiply (SMMLA, FEAT_I8MM) and half-precision arithmetic (FEAT_FP16) come
 * from the OS, which knows whether it saves and enables them: the kernel's hardware
 * capability bits (Linux), sysctl (macOS), IsProcessorFeaturePresent (Windows). User-space
 * reads of the ID registers are avoided: only Linux emulates them. */
#define _GNU_SOURCE /* clock_gettime, madvise, sched_getaffinity under -std=c11 */
#include "base.h"

#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define TM_CPU_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#else
#include <unistd.h>
#endif

#ifdef TM_CPU_X86
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
#if defined(_MSC_VER)
    int regs[4];
    __cpuidex(regs, (int)leaf, (int)sub);
    for (int i = 0; i < 4; i++)
        r[i] = (uint32_t)regs[i];
#else
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

static uint64_t xgetbv0(void)
{
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
#endif
}

/* Linux keeps AMX tile data off until a process asks (arch_prctl ARCH_REQ_XCOMP_PERM for
 * XFEATURE_XTILEDATA, kernel 5.16+); without it the first tile load is SIGILL. */
static bool request_amx_permission(void)
{
#if defined(__linux__)
    const long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
#else
    return true; /* other systems enable it with the XCR0 bits checked by the caller */
#endif
}

static void detect_x86(tm_cpu *cpu)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    cpuid(1, 0, r);
    uint32_t ecx1 = r[2];
    bool osxsave = (ecx1 >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    bool os_ymm = (xcr0 & 0x6) == 0x6;
    bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
    bool os_amx = (xcr0 & 0x60000) == 0x60000;
    cpu->sse3 = ecx1 & 1;
    cpu->ssse3 = (ecx1 >> 9) & 1;
    cpu->fma = os_ymm && ((ecx1 >> 12) & 1);
    cpu->avx = os_ymm && ((ecx1 >> 28) & 1);
    cpu->f16c = os_ymm && ((ecx1 >> 29) & 1);
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        uint32_t ebx7 = r[1], ecx7 = r[2], edx7 = r[3], max_sub = r[0];
        cpu->avx2 = os_ymm && ((ebx7 >> 5) & 1);
        cpu->avx512f = os_zmm && ((ebx7 >> 16) & 1);
        cpu->avx512dq = os_zmm && ((ebx7 >> 17) & 1);
        cpu->avx512bw = os_zmm && ((ebx7 >> 30) & 1);
        cpu->avx512vl = os_zmm && ((ebx7 >> 31) & 1);
        cpu->avx512vnni = os_zmm && ((ecx7 >> 11) & 1);
        bool amx_tile = (edx7 >> 24) & 1;
        if (amx_tile && os_amx && request_amx_permission()) {
            cpu->amx_tile = true;
            cpu->amx_int8 = (edx7 >> 25) & 1;
            cpu->amx_bf16 = (edx7 >> 22) & 1;
        }
        if (max_sub >= 1) {
            cpuid(7, 1, r);
            cpu->avx_vnni = os_ymm && ((r[0] >> 4) & 1);
            cpu->avx512bf16 = os_zmm && ((r[0] >> 5) & 1);
        }
    }
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        uint32_t words[12];
        for (uint32_t i = 0; i < 3; i++)
            cpuid(0x80000002u + i, 0, &words[i * 4]);
        memcpy(cpu->brand, words, 48);
        cpu->brand[48] = '\0';
        /* the brand string is often padded with leading spaces */
        size_t lead = strspn(cpu->brand, " ");
        memmove(cpu->brand, cpu->brand + lead, strlen(cpu->brand + lead) + 1);
    }
}
#endif

#if defined(__APPLE__) && (defined(__aarch64__) || defined(__arm64__))
/* A hw.optional.arm.FEAT_* key (macOS 12 and later); if_missing answers for older systems. */
static bool sysctl_flag(const char *name, bool if_missing)
{
    int v = 0;
    size_t n = sizeof v;
    if (sysctlbyname(name, &v, &n, NULL, 0) != 0)
        return if_missing;
    return v != 0;
}
#endif

static void detect_arm(tm_cpu *cpu)
{
#if defined(__aarch64__) || defined(__arm64__) || defined(_M_ARM64)
    cpu->neon = true; /* Advanced SIMD is mandatory in AArch64 */
#if defined(__linux__)
    /* bit numbers of the Linux uapi <asm/hwcap.h>, written out: older C libraries lack the
     * names (HWCAP2_I8MM arrived in Linux 5.10) */
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    cpu->dotprod = (hw >> 20) & 1; /* HWCAP_ASIMDDP */
    cpu->fp16 = (hw >> 10) & 1;    /* HWCAP_ASIMDHP: vector half-precision arithmetic */
    cpu->i8mm = (hw2 >> 13) & 1;   /* HWCAP2_I8MM */
#elif defined(__APPLE__)
    /* every arm64 Mac has the dot product (M1 onward); the M1 lacks I8MM */
    cpu->dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd", true);
    cpu->i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM", false);
    cpu->fp16 = sysctl_flag("hw.optional.arm.FEAT_FP16", true);
    size_t n = sizeof cpu->brand;
    if (sysctlbyname("machdep.cpu.brand_string", cpu->brand, &n, NULL, 0) != 0)
        cpu->brand[0] = '\0';
#elif defined(_WIN32)
    /* PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE (43), PF_ARM_V82_I8MM_INSTRUCTIONS_AVAILABLE (66),
     * PF_ARM_V82_FP16_INSTRUCTIONS_AVAILABLE (67) of winnt.h, by number: older SDKs lack the
     * names, and Windows versions that predate a feature's number answer FALSE */
    cpu->dotprod = IsProcessorFeaturePresent(43) != 0;
    cpu->i8mm = IsProcessorFeaturePresent(66) != 0;
    cpu->fp16 = IsProcessorFeaturePresent(67) != 0;
#endif
#else
    (void)cpu;
#endif
}

static int count_logical(void)
{
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
#elif defined(_WIN32)
    return (int)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
#else
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
#endif
}

void tm_cpu_detect(tm_cpu *cpu)
{
    memset(cpu, 0, sizeof *cpu);
#ifdef TM_CPU_X86
    detect_x86(cpu);
#endif
    detect_arm(cpu);
    cpu->n_logical = count_logical();
    if (cpu->n_logical < 1)
        cpu->n_logical = 1;
}

#if !defined(__GNUC__) && !defined(__clang__)
/* MSVC: base.h has no inline prefetch for it */
#if defined(_M_X64) || defined(_M_IX86)
#include <xmmintrin.h>
#endif
void tm_prefetch_l2(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i += 64) {
#if defined(_M_X64) || defined(_M_IX86)
        _mm_prefetch((const char *)p + i, _MM_HINT_T1);
#else
        (void)p; /* a hint: nothing is lost without it */
#endif
    }
}
#endif
