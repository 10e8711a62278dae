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
    if (cpu.dotprod)
        TM_CHECK(cpu.neon);
    fprintf(stderr, "cpu: '%s', %d logical, avx2 %d avx512 %d vnni %d amx %d neon %d\n", cpu.brand,
            cpu.n_logical, cpu.avx2, cpu.avx512f, cpu.avx512vnni, cpu.amx_int8, cpu.neon);
}

int main(void)
{
    TM_RUN(test_detects_something_consistent);
    return tm_test_result();
}
