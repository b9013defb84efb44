/* cpu.c — which SIMD level this CPU and OS can run, decided once by cpuid and xgetbv.
 *
 * A level is usable only if the CPU has the instructions (cpuid) AND the OS saves the wider
 * registers on context switch (XCR0 via xgetbv): Intel SDM vol. 1, 14.3 and 15.2. */
#include "core.h"

#include <cpuid.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static SimdLevel detect(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return SIMD_SCALAR;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx || !fma || !f16c)
        return SIMD_SCALAR;
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
        return SIMD_SCALAR;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return SIMD_SCALAR;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1;
    if (!avx2)
        return SIMD_SCALAR;
    if (avx512f && avx512dq && (xcr0 & 0xE6) == 0xE6) /* + opmask, ZMM_Hi256, Hi16_ZMM */
        return SIMD_AVX512;
    return SIMD_AVX2;
}

static _Atomic int detected_level = -1;
static _Atomic int active_level = -1;

SimdLevel simd_detected(void)
{
    int level = atomic_load(&detected_level);
    if (level < 0) {
        level = (int)detect();
        atomic_store(&detected_level, level);
    }
    return (SimdLevel)level;
}

static SimdLevel level_from_env(SimdLevel detected)
{
    const char *e = getenv("TAKT_SIMD");
    if (!e)
        return detected;
    SimdLevel want = detected;
    if (!strcmp(e, "scalar"))
        want = SIMD_SCALAR;
    else if (!strcmp(e, "avx2"))
        want = SIMD_AVX2;
    else if (!strcmp(e, "avx512"))
        want = SIMD_AVX512;
    return want < detected ? want : detected;
}

SimdLevel simd_active(void)
{
    int level = atomic_load(&active_level);
    if (level < 0) {
        level = (int)level_from_env(simd_detected());
        atomic_store(&active_level, level);
    }
    return (SimdLevel)level;
}

SimdLevel simd_force(SimdLevel level)
{
    SimdLevel detected = simd_detected();
    if (level > detected)
        level = detected;
    atomic_store(&active_level, (int)level);
    return level;
}

const char *simd_name(SimdLevel level)
{
    switch (level) {
    case SIMD_SCALAR: return "scalar";
    case SIMD_AVX2: return "avx2+fma";
    case SIMD_AVX512: return "avx512";
    }
    return "unknown";
}

int threads_max(void) { return omp_get_max_threads(); }
