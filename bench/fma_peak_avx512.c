/* fma_peak_avx512.c — the AVX-512 twin of fma_peak_avx2.c: 12 independent 512-bit chains
 * (latency 4 × 2 FMA units on Ice Lake-SP / Skylake-SP needs at least 8). */
#include "fma_peak.h"

#include <immintrin.h>

double fma_loop_avx512(long iters)
{
    __m512 acc[12];
    for (int i = 0; i < 12; i++)
        acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    /* Fully unrolled so that the twelve chains live in registers, not in the array. */
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 s = acc[0];
    for (int i = 1; i < 12; i++)
        s = _mm512_add_ps(s, acc[i]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return (double)iters * 12 * 16 * 2;
}
