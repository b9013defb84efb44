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
/* DIR/NAME.bin (a raw array of ../shared/bench) read whole into a malloc'ed buffer; NULL unless
 * the file holds at least `bytes` bytes (only the first `bytes` are read). */
void *bench_read_bin(const char *dir, const char *name, size_t bytes);
/* The value of `key` in an anchor's "key value" output lines, NAN when absent. */
double bench_anchor_value(const char *out, const char *key);

StatusCode bench_gemm(const BenchConfig *cfg, Status *st);
/* BlazePose networks (the .tkw files in weights/) beside ONNX Runtime: bench_pose.c */
StatusCode bench_pose(const BenchConfig *cfg, Status *st);

/* Workload A's data set seqae_20k regenerated from its recipe (seqae_data.c): rows
 * [first, first+count) into out [count x 40 x 66]; the sha256 of all 20000 rows. */
#define SEQAE20K_N 20000
#define SEQAE20K_T 40
#define SEQAE20K_F 66
#define SEQAE20K_SHA256 "10fdcd4e2f2c56ea60452e91545f0b7c4231b86e3ee941e619f5b61bce9b658d"
void seqae20k_rows(int first, int count, float *out);
StatusCode seqae20k_sha256(char hex[65], Status *st);
/* Workloads A (SeqAE) and B (LSTM classifier) beside PyTorch (bench_seqae.c). */
StatusCode bench_seqae(const BenchConfig *cfg, Status *st);
StatusCode bench_harclf(const BenchConfig *cfg, Status *st);
/* Workload A's 30-epoch convergence run from seqae_init in seqae_perm30 order, and again from
 * seqae_init + 1 ulp (the spread of equivalent runs); writes the loss curves beside PyTorch's
 * to seqae30_loss.png (bench_seqae.c). */
StatusCode bench_seqae_converge(const BenchConfig *cfg, Status *st);

/* Workload C's clustering fits on blobs32 2k/20k/200k beside scikit-learn / fastcluster
 * (bench_cluster.c). */
StatusCode bench_kmeans(const BenchConfig *cfg, Status *st);
StatusCode bench_dbscan(const BenchConfig *cfg, Status *st);
StatusCode bench_meanshift(const BenchConfig *cfg, Status *st);
StatusCode bench_hierarchical(const BenchConfig *cfg, Status *st);

/* Workload C's t-SNE on blobs32 2k/20k and KNN / linear SVM on mtm6 beside scikit-learn
 * (bench_tsne_knn.c). */
StatusCode bench_tsne(const BenchConfig *cfg, Status *st);
StatusCode bench_knn(const BenchConfig *cfg, Status *st);
StatusCode bench_svm(const BenchConfig *cfg, Status *st);
StatusCode bench_csv(const BenchConfig *cfg, Status *st);
/* The MTM-2 classifiers of `takt mtm` on mtm6 beside scikit-learn (bench_mtm.c). */
StatusCode bench_mtm(const BenchConfig *cfg, Status *st);

#endif
