#include "test.h"

static void test_detects_something_consistent(void)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    TM_CHECK(cpu.n_logical >= 1);
    /* implications that hold on every real CPU and OS */
    if (cpu.avx512vnni)
        TM_CHECK(cpu.avx512f);
    if (cpu.avx512f)
        TM_CHECK(cpu.avx2 && cpu.avx);
    if (cpu.amx_int8)
        TM_CHECK(cpu.amx_tile);
    if (cpu.dotprod || cpu.i8mm || cpu.fp16)
        TM_CHECK(cpu.neon);
#if defined(__aarch64__) || defined(__arm64__) || defined(_M_ARM64)
    TM_CHECK(cpu.neon); /* mandatory in AArch64 */
    TM_CHECK(!cpu.avx2 && !cpu.sse3);
#else
    TM_CHECK(!cpu.neon && !cpu.dotprod && !cpu.i8mm && !cpu.fp16);
#endif
    fprintf(stderr,
            "cpu: '%s', %d logical, avx2 %d avx512 %d vnni %d amx %d neon %d dotprod %d i8mm %d "
            "fp16 %d\n",
            cpu.brand, cpu.n_logical, cpu.avx2, cpu.avx512f, cpu.avx512vnni, cpu.amx_int8, cpu.neon,
            cpu.dotprod, cpu.i8mm, cpu.fp16);
}

int main(void)
{
    TM_RUN(test_detects_something_consistent);
    return tm_test_result();
}
