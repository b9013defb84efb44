/* bench.c — what every benchmark shares: the row printer (table or JSON), the measured FMA
 * peak, CPU pinning, and running an anchor (numpy, PyTorch, scikit-learn) as a child process
 * on the same CPU. */
#include "bench.h"
#include "fma_peak.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------- printing */

static void print_json_number(double v)
{
    if (isnan(v) || isinf(v))
        printf("null");
    else
        printf("%.6g", v);
}

static void print_json_string(const char *s)
{
    if (!s) {
        printf("null");
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static double row_ratio(const BenchRow *r)
{
    if (isnan(r->anchor) || r->value <= 0 || r->anchor <= 0)
        return NAN;
    return r->higher_is_better ? r->value / r->anchor : r->anchor / r->value;
}

void bench_print_header(const BenchConfig *cfg)
{
    if (cfg->json)
        return;
    printf("%-8s %-16s %7s %-8s %12s %-10s %9s %12s %-10s %8s\n", "bench", "case", "threads",
           "metric", "value", "unit", "peak", "anchor", "anchor_of", "ratio");
}

void bench_print_row(const BenchConfig *cfg, const BenchRow *r)
{
    double ratio = row_ratio(r);
    if (cfg->json) {
        printf("{\"bench\":");
        print_json_string(r->bench);
        printf(", \"case\":");
        print_json_string(r->case_name);
        printf(", \"threads\":%d, \"metric\":", r->threads);
        print_json_string(r->metric);
        printf(", \"value\":");
        print_json_number(r->value);
        printf(", \"unit\":");
        print_json_string(r->unit);
        printf(", \"peak\":");
        print_json_number(r->peak);
        printf(", \"anchor\":");
        print_json_number(r->anchor);
        printf(", \"anchor_name\":");
        print_json_string(isnan(r->anchor) ? NULL : r->anchor_name);
        printf(", \"ratio\":");
        print_json_number(ratio);
        printf("}\n");
    } else {
        char peak[32] = "-", anchor[32] = "-", rat[32] = "-";
        if (!isnan(r->peak))
            snprintf(peak, sizeof peak, "%.1f", r->peak);
        if (!isnan(r->anchor))
            snprintf(anchor, sizeof anchor, "%.4g", r->anchor);
        if (!isnan(ratio))
            snprintf(rat, sizeof rat, "%.2fx", ratio);
        printf("%-8s %-16s %7d %-8s %12.4g %-10s %9s %12s %-10s %8s\n", r->bench, r->case_name,
               r->threads, r->metric, r->value, r->unit, peak, anchor,
               isnan(r->anchor) || !r->anchor_name ? "-" : r->anchor_name, rat);
    }
    fflush(stdout);
}

void bench_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("note: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

double bench_median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is a handful of repetitions */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void *bench_read_bin(const char *dir, const char *name, size_t bytes)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *fp = fopen(path, "rb");
    void *buf = malloc(bytes);
    const int ok = fp && buf && fread(buf, 1, bytes, fp) == bytes;
    if (fp)
        fclose(fp);
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

double bench_anchor_value(const char *out, const char *key)
{
    const size_t len = strlen(key);
    for (const char *line = out; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, key, len) == 0 && line[len] == ' ')
            return atof(line + len + 1);
    }
    return NAN;
}

/* ---------------------------------------------------------------- FMA peak */

static double fma_loop(long iters)
{
    switch (simd_detected()) {
    case SIMD_AVX512: return fma_loop_avx512(iters);
    case SIMD_AVX2: return fma_loop_avx2(iters);
    case SIMD_SCALAR: break;
    }
    return fma_loop_scalar(iters);
}

/* Twelve scalar chains; the baseline compiler may pair them into SSE, which is what a scalar
 * build of takt can reach anyway. */
double fma_loop_scalar(long iters)
{
    float acc[12];
    for (int i = 0; i < 12; i++)
        acc[i] = (float)i * 1e-3f;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++)
            acc[i] = acc[i] * 0.999999f + 1e-7f;
    volatile float sink = acc[0] + acc[11];
    (void)sink;
    return (double)iters * 12 * 2;
}

#define PEAK_CACHE 64

double bench_fma_peak(int threads)
{
    static double cache[PEAK_CACHE];
    if (threads < 1)
        threads = 1;
    if (threads < PEAK_CACHE && cache[threads] > 0)
        return cache[threads];
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) { /* best of 5: the peak is a ceiling, not a typical */
        double flops = 0, t0 = time_now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += fma_loop(iters);
        double gflops = flops / (time_now() - t0) * 1e-9;
        if (gflops > best)
            best = gflops;
    }
    if (threads < PEAK_CACHE)
        cache[threads] = best;
    return best;
}

/* ---------------------------------------------------------------- pinning */

static cpu_set_t saved_mask;
static int have_saved_mask;

int bench_pin_single_cpu(void)
{
    /* Start OpenMP's worker threads before narrowing the mask: threads created later inherit
     * the mask of their creator and would all share the one CPU. */
#pragma omp parallel
    {
        (void)0;
    }
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0)
        return -1;
    int cpu = -1;
    for (int c = CPU_SETSIZE - 1; c >= 0 && cpu < 0; c--)
        if (CPU_ISSET(c, &mask))
            cpu = c;
    if (cpu < 0)
        return -1;
    saved_mask = mask;
    have_saved_mask = 1;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        return -1;
    return cpu;
}

void bench_unpin(void)
{
    if (have_saved_mask)
        sched_setaffinity(0, sizeof saved_mask, &saved_mask);
    have_saved_mask = 0;
}

/* ---------------------------------------------------------------- anchors */

/* The anchors live in bench/anchors/ of the source tree, found from the binary's own path
 * (build/takt, build/san/takt) unless TAKT_BENCH_DIR names the bench/ folder. */
static int find_anchor(const char *script, char *path, size_t size)
{
    const char *dir = getenv("TAKT_BENCH_DIR");
    if (dir) {
        snprintf(path, size, "%s/anchors/%s", dir, script);
        return access(path, R_OK) == 0;
    }
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    static const char *const ups[] = {"..", "../..", "."};
    for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
        snprintf(path, size, "%s/%s/bench/anchors/%s", exe, ups[i], script);
        if (access(path, R_OK) == 0)
            return 1;
    }
    return 0;
}

StatusCode bench_run_anchor(const char *script, const char *args, int cpu, int threads,
                            char *out, size_t outsize, Status *st)
{
    const char *python = getenv("TAKT_PYTHON");
    if (!python)
        python = "/usr/bin/python3";
    if (access(python, X_OK) != 0)
        return status_fail(st, TK_EUNSUPPORTED, "%s not found (install python3)", python);
    char path[2400];
    if (!find_anchor(script, path, sizeof path))
        return status_fail(st, TK_EUNSUPPORTED, "anchor script %s not found next to the binary", script);
    char pin[64] = "";
    if (cpu >= 0 && access("/usr/bin/taskset", X_OK) == 0)
        snprintf(pin, sizeof pin, "/usr/bin/taskset -c %d ", cpu);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%senv OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d MKL_NUM_THREADS=%d %s '%s' %s 2>&1",
             pin, threads, threads, threads, python, path, args ? args : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        return status_fail(st, TK_EIO, "cannot start %s", script);
    size_t used = fread(out, 1, outsize - 1, p);
    out[used] = '\0';
    int rc = pclose(p);
    if (rc != 0) {
        char *last = out + used; /* the script's last line says why */
        while (last > out && (last[-1] == '\n'))
            *--last = '\0';
        char *nl = strrchr(out, '\n');
        return status_fail(st, TK_EUNSUPPORTED, "anchor %s failed (exit %d): %s", script,
                           WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, nl ? nl + 1 : out);
    }
    return TK_OK;
}

/* ---------------------------------------------------------------- the peak as a benchmark */

static StatusCode bench_peak(const BenchConfig *cfg, Status *st)
{
    int counts[2] = {1, threads_max()};
    for (int i = 0; i < (counts[1] > 1 ? 2 : 1); i++) {
        double peak = bench_fma_peak(counts[i]);
        BenchRow row = {.bench = "peak", .case_name = simd_name(simd_detected()),
                        .threads = counts[i], .metric = "gflops", .value = peak,
                        .unit = "GFLOP/s", .peak = peak, .anchor = NAN, .higher_is_better = 1};
        bench_print_row(cfg, &row);
    }
    return TK_OK;
}

const BenchEntry bench_registry[] = {
    {"peak", "FP32 FMA peak measured by independent FMA chains", bench_peak},
    {"gemm", "square SGEMM n = 256..2048 beside OpenBLAS (numpy)", bench_gemm},
    {"seqae", "workload A: SeqAE training and encoding beside PyTorch", bench_seqae},
    {"harclf", "workload B: LSTM classifier training beside PyTorch", bench_harclf},
    {"seqae30", "workload A: 30 epochs from seqae_init, train MSE beside PyTorch's", bench_seqae_converge},
    {"pose", "BlazePose detector, lite, full latency beside ONNX Runtime", bench_pose},
    {"kmeans", "workload C: k-means (Lloyd, Elkan) on blobs32 beside scikit-learn", bench_kmeans},
    {"dbscan", "workload C: DBSCAN eps 7 on blobs32 beside scikit-learn", bench_dbscan},
    {"meanshift", "workload C: mean-shift (quantile 0.05) on blobs32 beside scikit-learn", bench_meanshift},
    {"hierarchical", "workload C: Ward linkage on blobs32 beside fastcluster", bench_hierarchical},
    {"tsne", "workload C: Barnes-Hut t-SNE on blobs32 2k/20k beside scikit-learn", bench_tsne},
    {"knn", "workload C: 1-NN on mtm6, single-row and batched, beside scikit-learn", bench_knn},
    {"svm", "workload C: linear SVMs on mtm6 beside LinearSVC and SVC(linear)", bench_svm},
    {"csv", "CSV reader on a keypoints file, whole and streamed, beside numpy.loadtxt", bench_csv},
    {"mtm", "MTM-2 classifiers (min-max + KNN/SVM/MLP) on mtm6 beside scikit-learn", bench_mtm},
};
const int bench_registry_count = sizeof bench_registry / sizeof bench_registry[0];
