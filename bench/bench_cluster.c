/* bench_cluster.c — `takt bench kmeans|dbscan|meanshift|hierarchical`: workload C of
 * ../shared/bench/README.md (blobs32, 10 blobs in 32-D) at 2k / 20k / 200k rows, on one pinned
 * thread and on all threads, beside scikit-learn (fastcluster for Ward) run by
 * anchors/cluster_sklearn.py in the same run on the same CPUs. The anchor script also writes
 * the data (the make_blobs call that made ../shared's files, which it reproduces byte for
 * byte) to a temporary folder; without it the 2k and 20k sets are read from ../shared.
 * Rows: fit_s (median wall seconds of the fit), cpu_s (median process CPU seconds of the fit,
 * all threads: the figure that stays meaningful on a loaded machine) and ari (against the
 * blobs) for each case. */
#include "../cluster/cluster.h"
#include "bench.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *tag;
    int n;
} Size;

static const Size sizes[] = {{"2k", 2000}, {"20k", 20000}, {"200k", 200000}};

/* One of takt's fits; *bandwidth carries mean-shift's estimate from the warm-up call. */
typedef StatusCode (*FitFn)(const float *x, int n, int *labels, double *bandwidth, Status *st);

typedef struct {
    const char *bench;    /* takt bench NAME */
    const char *variant;  /* appended to the case name, or NULL */
    const char *anchor;   /* ALGO of cluster_sklearn.py */
    int max_size;         /* index into sizes of the largest case run by takt */
    int anchor_max_size;  /* ... and by the anchor (they are slow: ANCHORS.md) */
    FitFn fit;
} Workload;

static StatusCode fit_lloyd(const float *x, int n, int *labels, double *bw, Status *st)
{
    float centers[10 * 32];
    KMeansParams p = kmeans_params_default(10);
    KMeansResult r = {centers, labels, 0, 0};
    return kmeans_fit(x, n, 32, &p, &r, st);
}

static StatusCode fit_elkan(const float *x, int n, int *labels, double *bw, Status *st)
{
    float centers[10 * 32];
    KMeansParams p = kmeans_params_default(10);
    p.algorithm = KMEANS_ELKAN;
    KMeansResult r = {centers, labels, 0, 0};
    return kmeans_fit(x, n, 32, &p, &r, st);
}

static StatusCode fit_dbscan(const float *x, int n, int *labels, double *bw, Status *st)
{
    const DbscanParams p = {7.0, 10};
    return dbscan_fit(x, n, 32, &p, labels, NULL, NULL, st);
}

static StatusCode fit_meanshift(const float *x, int n, int *labels, double *bw, Status *st)
{
    StatusCode rc;
    if (isnan(*bw) &&
        (rc = meanshift_estimate_bandwidth(x, n, 32, 0.05, 500, 0, bw, st)) != TK_OK)
        return rc;
    const MeanShiftParams p = meanshift_params_default(*bw);
    float *centers = NULL;
    int k;
    rc = meanshift_fit(x, n, 32, &p, &centers, &k, labels, st);
    free(centers);
    return rc;
}

static StatusCode fit_ward(const float *x, int n, int *labels, double *bw, Status *st)
{
    double *Z = malloc((size_t)(n - 1) * 4 * sizeof *Z);
    if (!Z)
        return status_fail(st, TK_ENOMEM, "ward: cannot allocate the linkage of %d rows", n);
    StatusCode rc = hier_linkage(x, n, 32, LINKAGE_WARD, Z, st);
    if (rc == TK_OK)
        rc = hier_cut_k(Z, n, 10, labels, st);
    free(Z);
    return rc;
}

/* Reads the blobs of one size from dir (the anchor's temporary folder or ../shared/bench). */
static int load_set(const char *dir, const Size *s, float **x, int **y)
{
    char path[1200];
    *x = malloc((size_t)s->n * 32 * sizeof **x);
    *y = malloc((size_t)s->n * sizeof **y);
    int ok = *x && *y;
    for (int f = 0; f < 2 && ok; f++) {
        snprintf(path, sizeof path, "%s/blobs32_%s_%s.bin", dir, s->tag, f ? "y" : "x");
        FILE *fp = fopen(path, "rb");
        const size_t want = (size_t)s->n * (f ? 1 : 32);
        ok = fp && (f ? fread(*y, 4, want, fp) : fread(*x, 4, want, fp)) == want;
        if (fp)
            fclose(fp);
    }
    if (!ok) {
        free(*x);
        free(*y);
        *x = NULL;
        *y = NULL;
    }
    return ok;
}

/* CPU seconds used by this process, all threads. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Median wall and CPU seconds of our fit (after a warm-up), its ARI; *reps_out repetitions. */
static StatusCode time_ours(const Workload *w, const float *x, const int *y, int n,
                            double budget, int *labels, double *seconds, double *cpu_seconds,
                            double *ari, int *reps_out, Status *st)
{
    double bw = NAN, times[7], cpus[7];
    double start = time_now();
    StatusCode rc = w->fit(x, n, labels, &bw, st);
    if (rc != TK_OK)
        return rc;
    const double first = time_now() - start;
    int reps = first > 0 ? (int)(budget / first) : 7;
    reps = reps < 1 ? 1 : (reps > 7 ? 7 : reps);
    for (int r = 0; r < reps; r++) {
        start = time_now();
        const double cpu = cpu_now();
        if ((rc = w->fit(x, n, labels, &bw, st)) != TK_OK)
            return rc;
        times[r] = time_now() - start;
        cpus[r] = cpu_now() - cpu;
    }
    *seconds = bench_median(times, reps);
    *cpu_seconds = bench_median(cpus, reps);
    *reps_out = reps;
    return metric_ari(labels, y, n, ari, st);
}

static void anchor_fit(const Workload *w, const char *dir, const Size *s, int reps, int cpu,
                       int threads, double *seconds, double *cpu_seconds, double *ari,
                       char *name, size_t name_size, int *broken)
{
    *seconds = *cpu_seconds = *ari = NAN;
    if (*broken)
        return;
    char args[1400], out[4096];
    snprintf(args, sizeof args, "fit %s '%s' %s %d", w->anchor, dir, s->tag, reps);
    Status st = {0};
    if (bench_run_anchor("cluster_sklearn.py", args, cpu, threads, out, sizeof out, &st) !=
        TK_OK) {
        bench_note("%s: no anchor: %s", w->bench, st.msg);
        *broken = 1;
        return;
    }
    char who[64];
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        if (sscanf(line, "%lf %lf %lf %63s", seconds, cpu_seconds, ari, who) == 4) {
            snprintf(name, name_size, "%s", who);
            return;
        }
    *seconds = *cpu_seconds = *ari = NAN;
    bench_note("%s: the anchor printed no figure for %s", w->bench, s->tag);
}

static StatusCode run_workloads(const BenchConfig *cfg, const Workload *ws, int count,
                                Status *st)
{
    int max_size = 0;
    for (int i = 0; i < count; i++)
        max_size = ws[i].max_size > max_size ? ws[i].max_size : max_size;
    if (cfg->quick)
        max_size = 0;
    /* The data: written by the anchor script, else ../shared's 2k and 20k. */
    char tmp[] = "/tmp/takt-bench-cluster-XXXXXX", dir[1024], list[64] = "";
    int anchor_broken = cfg->no_anchor, have_tmp = mkdtemp(tmp) != NULL;
    for (int s = 0; s <= max_size; s++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", s ? "," : "",
                 sizes[s].tag);
    char args[1200], out[4096];
    snprintf(args, sizeof args, "data '%s' %s", tmp, list);
    Status ast = {0};
    if (have_tmp && !anchor_broken &&
        bench_run_anchor("cluster_sklearn.py", args, -1, 1, out, sizeof out, &ast) == TK_OK) {
        snprintf(dir, sizeof dir, "%s", tmp);
    } else {
        if (!anchor_broken)
            bench_note("%s: no anchor (%s); data from ../shared/bench, no anchor figures",
                       ws[0].bench, have_tmp ? ast.msg : "no temporary folder");
        anchor_broken = 1;
        const char *shared = getenv("TAKT_SHARED");
        snprintf(dir, sizeof dir, "%s/bench", shared ? shared : "../shared");
    }
    const int all_threads = threads_max();
    const int thread_counts[2] = {1, all_threads};
    StatusCode rc = TK_OK;
    for (int s = 0; s <= max_size && rc == TK_OK; s++) {
        float *x;
        int *y;
        if (!load_set(dir, &sizes[s], &x, &y)) {
            bench_note("%s: blobs32_%s not found in %s; case skipped", ws[0].bench,
                       sizes[s].tag, dir);
            continue;
        }
        int *labels = malloc((size_t)sizes[s].n * sizeof *labels);
        for (int wi = 0; wi < count && labels && rc == TK_OK; wi++) {
            const Workload *w = &ws[wi];
            if (s > w->max_size)
                continue;
            char case_name[64];
            snprintf(case_name, sizeof case_name, "%s%s%s", sizes[s].tag, w->variant ? "-" : "",
                     w->variant ? w->variant : "");
            for (int t = 0; t < (all_threads > 1 ? 2 : 1) && rc == TK_OK; t++) {
                const int threads = thread_counts[t];
                int cpu = -1;
                if (threads == 1 && (cpu = bench_pin_single_cpu()) < 0)
                    bench_note("%s: cannot pin to one CPU; single-thread figures may be noisy",
                               w->bench);
                omp_set_num_threads(threads);
                double seconds, cpu_seconds, ari, a_seconds = NAN, a_cpu = NAN, a_ari = NAN;
                int reps;
                rc = time_ours(w, x, y, sizes[s].n, cfg->quick ? 0.2 : 1.5, labels, &seconds,
                               &cpu_seconds, &ari, &reps, st);
                char name[64] = "sklearn";
                if (rc == TK_OK && s <= w->anchor_max_size)
                    anchor_fit(w, dir, &sizes[s], reps, cpu, threads, &a_seconds, &a_cpu,
                               &a_ari, name, sizeof name, &anchor_broken);
                omp_set_num_threads(all_threads);
                if (threads == 1)
                    bench_unpin();
                if (rc != TK_OK)
                    break;
                const BenchRow time_row = {.bench = w->bench, .case_name = case_name,
                                           .threads = threads, .metric = "fit_s",
                                           .value = seconds, .unit = "s", .peak = NAN,
                                           .anchor = a_seconds, .anchor_name = name,
                                           .higher_is_better = 0};
                const BenchRow cpu_row = {.bench = w->bench, .case_name = case_name,
                                          .threads = threads, .metric = "cpu_s",
                                          .value = cpu_seconds, .unit = "s", .peak = NAN,
                                          .anchor = a_cpu, .anchor_name = name,
                                          .higher_is_better = 0};
                const BenchRow ari_row = {.bench = w->bench, .case_name = case_name,
                                          .threads = threads, .metric = "ari", .value = ari,
                                          .unit = "", .peak = NAN, .anchor = a_ari,
                                          .anchor_name = name, .higher_is_better = 1};
                bench_print_row(cfg, &time_row);
                bench_print_row(cfg, &cpu_row);
                bench_print_row(cfg, &ari_row);
            }
        }
        free(labels);
        free(x);
        free(y);
    }
    if (have_tmp) {
        for (int s = 0; s <= max_size; s++)
            for (int f = 0; f < 2; f++) {
                char path[1200];
                snprintf(path, sizeof path, "%s/blobs32_%s_%s.bin", tmp, sizes[s].tag,
                         f ? "y" : "x");
                unlink(path);
            }
        rmdir(tmp);
    }
    return rc;
}

StatusCode bench_kmeans(const BenchConfig *cfg, Status *st)
{
    static const Workload ws[] = {{"kmeans", NULL, "kmeans", 2, 2, fit_lloyd},
                                  {"kmeans", "elkan", "elkan", 2, 2, fit_elkan}};
    return run_workloads(cfg, ws, 2, st);
}

StatusCode bench_dbscan(const BenchConfig *cfg, Status *st)
{
    /* scikit-learn needs 88-172 s and 13.7 GiB at 200k (ANCHORS.md): takt alone there. */
    static const Workload ws[] = {{"dbscan", NULL, "dbscan", 2, 1, fit_dbscan}};
    return run_workloads(cfg, ws, 1, st);
}

StatusCode bench_meanshift(const BenchConfig *cfg, Status *st)
{
    /* scikit-learn takes ~100 s at 20k (ANCHORS.md): anchored at 2k only. */
    static const Workload ws[] = {{"meanshift", NULL, "meanshift", 1, 0, fit_meanshift}};
    return run_workloads(cfg, ws, 1, st);
}

StatusCode bench_hierarchical(const BenchConfig *cfg, Status *st)
{
    static const Workload ws[] = {{"hierarchical", "ward", "ward", 1, 1, fit_ward}};
    return run_workloads(cfg, ws, 1, st);
}
