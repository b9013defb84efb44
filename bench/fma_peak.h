/* fma_peak.h — private to bench/: the FMA throughput loops, one per SIMD level. Each runs
 * `iters` iterations of 12 independent FMA chains on one thread and returns the flops done. */
#ifndef TAKT_FMA_PEAK_H
#define TAKT_FMA_PEAK_H

double fma_loop_scalar(long iters);
double fma_loop_avx2(long iters);
double fma_loop_avx512(long iters);

#endif
