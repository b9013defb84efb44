/* fma_peak_avx2.c — 12 independent 256-bit FMA chains: enough to cover the FMA latency (4-5
 * cycles) times the number of FMA pipes (2) on current x86 cores, so the loop runs at the
 * throughput limit rather than the latency limit. */
#include "fma_peak.h"

#include <immintrin.h>

double fma_loop_avx2(long iters)
{
    __m256 acc[12];
    for (int i = 0; i < 12; i++)
        acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    /* Fully unrolled so that the twelve chains live in registers, not in the array. */
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++)
        s = _mm256_add_ps(s, acc[i]);
    volatile float sink = _mm256_cvtss_f32(s); /* keeps the loop from being optimised away */
    (void)sink;
    return (double)iters * 12 * 8 * 2;
}
