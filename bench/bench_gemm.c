/* bench_gemm.c — `takt bench gemm`: square SGEMM (C = A B, no transposes) for n = 256..2048 on
 * one pinned thread and on all threads, beside OpenBLAS through numpy (anchors/gemm_numpy.py)
 * measured in the same run on the same CPUs. GFLOP/s = 2 n^3 / median time. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_BENCH_MAX_REPS 2000

/* Median seconds of one n x n x n product, repeated to fill about `budget` seconds after a
 * warm-up (which also allocates the threads' packing buffers and pages in C); *reps_out says
 * how many repetitions that took, so that the anchor can run as many. */
static double median_seconds(int n, int threads, double budget, const float *A, const float *B,
                             float *C, int *reps_out)
{
    static double times[GEMM_BENCH_MAX_REPS];
    const SimdLevel level = simd_active();
    double start = time_now();
    sgemm_ex(level, threads, GEMM_N, GEMM_N, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
    const double first = time_now() - start;
    int reps = first > 0 ? (int)(budget / first) : GEMM_BENCH_MAX_REPS;
    if (reps < 3)
        reps = 3;
    if (reps > GEMM_BENCH_MAX_REPS)
        reps = GEMM_BENCH_MAX_REPS;
    for (int r = 0; r < reps; r++) {
        start = time_now();
        sgemm_ex(level, threads, GEMM_N, GEMM_N, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        times[r] = time_now() - start;
    }
    *reps_out = reps;
    return bench_median(times, reps);
}

/* Runs the anchor for one size; NAN (after a note, and no further anchor runs) when it cannot. */
static double anchor_gflops(int n, int reps, int cpu, int threads, char *name, size_t name_size,
                            int *anchor_broken)
{
    if (*anchor_broken)
        return NAN;
    char args[64], out[4096];
    snprintf(args, sizeof args, "--sizes %d --reps %d", n, reps);
    Status st = {0};
    if (bench_run_anchor("gemm_numpy.py", args, cpu, threads, out, sizeof out, &st) != TK_OK) {
        bench_note("gemm: no anchor: %s", st.msg);
        *anchor_broken = 1;
        return NAN;
    }
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        int size;
        double gflops;
        char blas[64];
        if (sscanf(line, "%d %lf %63s", &size, &gflops, blas) == 3 && size == n) {
            snprintf(name, name_size, "%s", blas);
            return gflops;
        }
    }
    bench_note("gemm: the anchor printed no figure for n = %d", n);
    return NAN;
}

StatusCode bench_gemm(const BenchConfig *cfg, Status *st)
{
    static const int full_sizes[] = {256, 512, 1024, 2048};
    static const int quick_sizes[] = {256, 512};
    const int *sizes = cfg->quick ? quick_sizes : full_sizes;
    const int size_count = cfg->quick ? 2 : 4;
    const int largest = sizes[size_count - 1];
    const double budget = cfg->quick ? 0.1 : 0.7;

    const size_t count = (size_t)largest * largest;
    float *A = aligned_alloc(64, count * sizeof(float));
    float *B = aligned_alloc(64, count * sizeof(float));
    float *C = aligned_alloc(64, count * sizeof(float));
    if (!A || !B || !C) {
        free(A);
        free(B);
        free(C);
        return status_fail(st, TK_ENOMEM, "gemm: cannot allocate 3 matrices of %dx%d", largest,
                           largest);
    }
    Rng rng;
    rng_seed(&rng, 42, 0);
    for (size_t i = 0; i < count; i++) {
        A[i] = rng_uniform(&rng) - 0.5f;
        B[i] = rng_uniform(&rng) - 0.5f;
    }

    const int all_threads = threads_max();
    const int thread_counts[2] = {1, all_threads};
    int anchor_broken = cfg->no_anchor;
    for (int t = 0; t < (all_threads > 1 ? 2 : 1); t++) {
        const int threads = thread_counts[t];
        /* One thread runs pinned, and its anchor on the same CPU, so that neither migrates. */
        int cpu = -1;
        if (threads == 1) {
            cpu = bench_pin_single_cpu();
            if (cpu < 0)
                bench_note("gemm: cannot pin to one CPU; single-thread figures may be noisy");
        }
        const double peak = bench_fma_peak(threads);
        for (int s = 0; s < size_count; s++) {
            const int n = sizes[s];
            int reps;
            const double seconds = median_seconds(n, threads, budget, A, B, C, &reps);
            char case_name[32], anchor_name[64] = "openblas";
            snprintf(case_name, sizeof case_name, "n=%d", n);
            const double anchor = anchor_gflops(n, reps, cpu, threads, anchor_name,
                                                sizeof anchor_name, &anchor_broken);
            const BenchRow row = {.bench = "gemm",
                                  .case_name = case_name,
                                  .threads = threads,
                                  .metric = "gflops",
                                  .value = 2.0 * n * n * (double)n / seconds * 1e-9,
                                  .unit = "GFLOP/s",
                                  .peak = peak,
                                  .anchor = anchor,
                                  .anchor_name = anchor_name,
                                  .higher_is_better = 1};
            bench_print_row(cfg, &row);
        }
        if (threads == 1)
            bench_unpin();
    }
    free(A);
    free(B);
    free(C);
    return TK_OK;
}
