/* bench — the programs behind `takt bench NAME [--json]` (and `make bench`).
 *
 * Every benchmark prints rows of one shape, as a table for people or, with --json, as one JSON
 * object per line:
 *   {"bench","case","threads","metric","value","unit","peak","anchor","anchor_name","ratio"}
 * peak   = the measured FMA peak (GFLOP/s) for that thread count where the metric is a rate of
 *          floating-point work, null otherwise;
 * anchor = the same workload run by the anchor (numpy/OpenBLAS, PyTorch, scikit-learn, ONNX
 *          Runtime) in the same run, or null when the anchor is not installed;
 * ratio  = how many times better than the anchor: value/anchor for rates, anchor/value for times.
 * Anchors run as separate processes (scripts in bench/anchors/) pinned to the same CPU as takt.
 */
#ifndef TAKT_BENCH_H
#define TAKT_BENCH_H

#include "../core/core.h"

typedef struct {
    int json;        /* one JSON object per line instead of a table */
    int quick;       /* fewer sizes and repetitions (used by tests and `make demo`) */
    int no_anchor;   /* do not run the anchors */
} BenchConfig;

typedef struct {
    const char *bench;
    const char *case_name;
    int threads;
    const char *metric;
    double value;
    const char *unit;
    double peak;             /* NAN = null */
    double anchor;           /* NAN = null */
    const char *anchor_name; /* NULL = null */
    int higher_is_better;    /* 1 for rates, 0 for times */
} BenchRow;

typedef StatusCode (*BenchFn)(const BenchConfig *cfg, Status *st);

typedef struct {
    const char *name;
    const char *what;
    BenchFn run;
} BenchEntry;

extern const BenchEntry bench_registry[];
extern const int bench_registry_count;

void bench_print_header(const BenchConfig *cfg);
void bench_print_row(const BenchConfig *cfg, const BenchRow *row);
/* A note for people (skipped anchor, pinning): to stderr, so that --json stdout stays clean. */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* FP32 FMA peak in GFLOP/s measured by independent FMA chains on the widest SIMD level this
 * CPU has, with `threads` threads (cached per thread count). */
double bench_fma_peak(int threads);

/* Pins the calling thread (and so a single-threaded benchmark) to one CPU, the same one the
 * anchor is then started on; returns that CPU, or -1 when pinning is not possible. */
int bench_pin_single_cpu(void);
void bench_unpin(void);

/* Runs `/usr/bin/python3 bench/anchors/SCRIPT ARGS` (pinned to `cpu` when >= 0, with
 * OMP/OPENBLAS/MKL thread variables set to `threads`), capturing stdout into out.
 * Returns TK_EUNSUPPORTED with a reason when python3 or a module it needs is missing. */
StatusCode bench_run_anchor(const char *script, const char *args, int cpu, int threads,
                            char *out, size_t outsize, Status *st);

/* Median of n values (sorts v). */
double bench_median(double *v, int n);

StatusCode bench_gemm(const BenchConfig *cfg, Status *st);

#endif
