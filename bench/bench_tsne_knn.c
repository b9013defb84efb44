/* bench_tsne_knn.c — `takt bench tsne|knn|svm`: workload C of ../shared/bench/README.md beside
 * scikit-learn (anchors/tsne_knn_sklearn.py) in the same run, on one pinned thread (the anchor
 * pinned to the same CPU) and on all threads.
 *   tsne  Barnes-Hut (theta 0.5, perplexity 30, 1000 iterations, PCA init) on blobs32 2k and,
 *         unless --quick, 20k (sklearn needs ~200 s there): fit_s, cpu_s (process CPU time,
 *         all threads), kl, nn1 (leave-one-out 1-NN accuracy of the blob labels in the
 *         embedding). One fit per case: each takes seconds.
 *   knn   k = 1 on mtm6 (8,919 x 6 training rows, 10,000 queries): fit_s, single_us (median
 *         of one-row predicts), batch_us (per row of a 10,000-row predict), accuracy.
 *   svm   on mtm6: LinearSVC's model (squared hinge, one-vs-rest) and SVC(kernel="linear")'s
 *         (hinge, one-vs-one), each beside its scikit-learn counterpart: fit_s, cpu_s,
 *         predict_us (per row), accuracy. */
#include "../cluster/cluster.h"
#include "bench.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds used by this process, all threads: on a loaded machine the wall time of a fit
 * says more about the other processes than about the fit. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ../shared/bench (or $TAKT_SHARED/bench), where the data sets live. */
static void data_dir(char *buf, size_t size)
{
    const char *shared = getenv("TAKT_SHARED");
    snprintf(buf, size, "%s/bench", shared ? shared : "../shared");
}

/* Runs the anchor; 0 (after a note, and no further anchor runs) when it cannot. */
static int run_anchor(const char *bench, const char *args, int cpu, int threads, char *out,
                      size_t size, int *broken)
{
    if (*broken)
        return 0;
    Status st = {0};
    if (bench_run_anchor("tsne_knn_sklearn.py", args, cpu, threads, out, size, &st) != TK_OK) {
        bench_note("%s: no anchor: %s", bench, st.msg);
        *broken = 1;
        return 0;
    }
    return 1;
}

static void print(const BenchConfig *cfg, const char *bench, const char *case_name, int threads,
                  const char *metric, double value, const char *unit, double anchor,
                  int higher_is_better)
{
    const BenchRow row = {.bench = bench, .case_name = case_name, .threads = threads,
                          .metric = metric, .value = value, .unit = unit, .peak = NAN,
                          .anchor = anchor, .anchor_name = "sklearn",
                          .higher_is_better = higher_is_better};
    bench_print_row(cfg, &row);
}

/* Pins for one thread (so does the anchor, on the same CPU); -1 when not pinned. */
static int enter_threads(const char *bench, int threads)
{
    int cpu = -1;
    if (threads == 1 && (cpu = bench_pin_single_cpu()) < 0)
        bench_note("%s: cannot pin to one CPU; single-thread figures may be noisy", bench);
    omp_set_num_threads(threads);
    return cpu;
}

static void leave_threads(int threads, int all)
{
    omp_set_num_threads(all);
    if (threads == 1)
        bench_unpin();
}

/* ---------------------------------------------------------------- t-SNE */

static double nn1_accuracy(const float *y, const int *labels, int n, Status *st)
{
    KnnClassifier knn;
    if (knn_fit(&knn, y, labels, n, 2, 2, KNN_UNIFORM, KNN_KDTREE, st) != TK_OK)
        return NAN;
    int *idx = malloc((size_t)n * 2 * sizeof(int));
    double acc = NAN;
    if (idx && knn_kneighbors(&knn, y, n, idx, NULL, st) == TK_OK) {
        int ok = 0;
        for (int i = 0; i < n; i++)
            ok += labels[idx[2 * i] == i ? idx[2 * i + 1] : idx[2 * i]] == labels[i];
        acc = (double)ok / n;
    }
    free(idx);
    knn_free(&knn);
    return acc;
}

StatusCode bench_tsne(const BenchConfig *cfg, Status *st)
{
    static const struct {
        const char *tag;
        int n;
    } sizes[] = {{"2k", 2000}, {"20k", 20000}};
    char dir[1024];
    data_dir(dir, sizeof dir);
    const int all = threads_max();
    int broken = cfg->no_anchor;
    for (int s = 0; s < (cfg->quick ? 1 : 2); s++) {
        const int n = sizes[s].n;
        char xname[64], yname[64];
        snprintf(xname, sizeof xname, "blobs32_%s_x", sizes[s].tag);
        snprintf(yname, sizeof yname, "blobs32_%s_y", sizes[s].tag);
        float *x = bench_read_bin(dir, xname, (size_t)n * 32 * sizeof(float));
        int *labels = bench_read_bin(dir, yname, (size_t)n * sizeof(int));
        float *y = malloc((size_t)n * 2 * sizeof(float));
        if (!x || !labels || !y) {
            bench_note("tsne: %s/%s.bin not found; case %s skipped", dir, xname, sizes[s].tag);
            free(x);
            free(labels);
            free(y);
            continue;
        }
        for (int t = 0; t < (all > 1 ? 2 : 1); t++) {
            const int threads = t ? all : 1;
            const int cpu = enter_threads("tsne", threads);
            TsneParams p = tsne_params_default();
            TsneResult r;
            const double start = time_now(), cpu_start = cpu_now();
            StatusCode rc = tsne_fit(x, n, 32, &p, y, &r, st);
            const double seconds = time_now() - start, cpu_seconds = cpu_now() - cpu_start;
            char args[2600], out[4096];
            double a_fit = NAN, a_cpu = NAN, a_kl = NAN, a_nn1 = NAN;
            snprintf(args, sizeof args, "tsne '%s/%s.bin' '%s/%s.bin' %d 32", dir, xname, dir,
                     yname, n);
            if (rc == TK_OK && run_anchor("tsne", args, cpu, threads, out, sizeof out, &broken)) {
                a_fit = bench_anchor_value(out, "fit_s");
                a_cpu = bench_anchor_value(out, "cpu_s");
                a_kl = bench_anchor_value(out, "kl");
                a_nn1 = bench_anchor_value(out, "nn1");
            }
            leave_threads(threads, all);
            if (rc != TK_OK) {
                free(x);
                free(labels);
                free(y);
                return rc;
            }
            print(cfg, "tsne", sizes[s].tag, threads, "fit_s", seconds, "s", a_fit, 0);
            print(cfg, "tsne", sizes[s].tag, threads, "cpu_s", cpu_seconds, "s", a_cpu, 0);
            print(cfg, "tsne", sizes[s].tag, threads, "kl", r.kl, "", a_kl, 0);
            print(cfg, "tsne", sizes[s].tag, threads, "nn1", nn1_accuracy(y, labels, n, st), "",
                  a_nn1, 1);
        }
        free(x);
        free(labels);
        free(y);
    }
    return TK_OK;
}

/* ---------------------------------------------------------------- KNN and SVM data */

typedef struct {
    float *tx, *qx;
    int *ty, *qy;
} Mtm6;

enum { MTM6_TRAIN = 8919, MTM6_TEST = 10000 };

static int load_mtm6(const char *dir, Mtm6 *m)
{
    m->tx = bench_read_bin(dir, "mtm6_train_x", MTM6_TRAIN * 6 * sizeof(float));
    m->ty = bench_read_bin(dir, "mtm6_train_y", MTM6_TRAIN * sizeof(int));
    m->qx = bench_read_bin(dir, "mtm6_test_x", MTM6_TEST * 6 * sizeof(float));
    m->qy = bench_read_bin(dir, "mtm6_test_y", MTM6_TEST * sizeof(int));
    return m->tx && m->ty && m->qx && m->qy;
}

static void free_mtm6(Mtm6 *m)
{
    free(m->tx);
    free(m->ty);
    free(m->qx);
    free(m->qy);
}

static double accuracy(const int *pred, const int *truth, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += pred[i] == truth[i];
    return (double)ok / n;
}

/* ---------------------------------------------------------------- KNN */

StatusCode bench_knn(const BenchConfig *cfg, Status *st)
{
    char dir[1024];
    data_dir(dir, sizeof dir);
    Mtm6 m;
    if (!load_mtm6(dir, &m)) {
        free_mtm6(&m);
        bench_note("knn: mtm6 not found in %s; nothing to run", dir);
        return TK_OK;
    }
    const int all = threads_max();
    const int reps = cfg->quick ? 3 : 15;
    const int single = cfg->quick ? 300 : 2000; /* the anchor's one-row predicts (~0.5 ms each) */
    int broken = cfg->no_anchor;
    int *pred = malloc(MTM6_TEST * sizeof(int));
    double *times = malloc(MTM6_TEST * sizeof(double));
    StatusCode rc = pred && times ? TK_OK : status_fail(st, TK_ENOMEM, "knn: out of memory");
    for (int t = 0; t < (all > 1 ? 2 : 1) && rc == TK_OK; t++) {
        const int threads = t ? all : 1;
        const int cpu = enter_threads("knn", threads);
        KnnClassifier knn;
        double start = time_now();
        rc = knn_fit(&knn, m.tx, m.ty, MTM6_TRAIN, 6, 1, KNN_UNIFORM, KNN_AUTO, st);
        const double fit_s = time_now() - start;
        double single_us = NAN, batch_us = NAN, acc = NAN;
        if (rc == TK_OK) {
            for (int i = 0; i < MTM6_TEST && rc == TK_OK; i++) {
                start = time_now();
                rc = knn_predict(&knn, m.qx + 6 * i, 1, pred + i, st);
                times[i] = time_now() - start;
            }
            single_us = bench_median(times, MTM6_TEST) * 1e6;
            for (int r = 0; r < reps && rc == TK_OK; r++) {
                start = time_now();
                rc = knn_predict(&knn, m.qx, MTM6_TEST, pred, st);
                times[r] = time_now() - start;
            }
            batch_us = bench_median(times, reps) / MTM6_TEST * 1e6;
            acc = accuracy(pred, m.qy, MTM6_TEST);
            knn_free(&knn);
        }
        char args[1200], out[4096];
        double a_fit = NAN, a_single = NAN, a_batch = NAN, a_acc = NAN;
        snprintf(args, sizeof args, "knn '%s' %d %d", dir, single, reps);
        if (rc == TK_OK && run_anchor("knn", args, cpu, threads, out, sizeof out, &broken)) {
            a_fit = bench_anchor_value(out, "fit_s");
            a_single = bench_anchor_value(out, "single_us");
            a_batch = bench_anchor_value(out, "batch_us");
            a_acc = bench_anchor_value(out, "accuracy");
        }
        leave_threads(threads, all);
        if (rc != TK_OK)
            break;
        print(cfg, "knn", "mtm6-k1", threads, "fit_s", fit_s, "s", a_fit, 0);
        print(cfg, "knn", "mtm6-k1", threads, "single_us", single_us, "us", a_single, 0);
        print(cfg, "knn", "mtm6-k1", threads, "batch_us", batch_us, "us/row", a_batch, 0);
        print(cfg, "knn", "mtm6-k1", threads, "accuracy", acc, "", a_acc, 1);
    }
    free(pred);
    free(times);
    free_mtm6(&m);
    return rc;
}

/* ---------------------------------------------------------------- SVM */

StatusCode bench_svm(const BenchConfig *cfg, Status *st)
{
    char dir[1024];
    data_dir(dir, sizeof dir);
    Mtm6 m;
    if (!load_mtm6(dir, &m)) {
        free_mtm6(&m);
        bench_note("svm: mtm6 not found in %s; nothing to run", dir);
        return TK_OK;
    }
    static const struct {
        const char *case_name, *anchor_key;
        SvmLoss loss;
        SvmMulticlass multiclass;
    } models[] = {{"mtm6-linearsvc", "linearsvc", SVM_SQUARED_HINGE, SVM_OVR},
                  {"mtm6-ovo-hinge", "svc", SVM_HINGE, SVM_OVO}};
    const int all = threads_max();
    const int reps = cfg->quick ? 3 : 7;
    int broken = cfg->no_anchor;
    int *pred = malloc(MTM6_TEST * sizeof(int));
    StatusCode rc = pred ? TK_OK : status_fail(st, TK_ENOMEM, "svm: out of memory");
    for (int t = 0; t < (all > 1 ? 2 : 1) && rc == TK_OK; t++) {
        const int threads = t ? all : 1;
        const int cpu = enter_threads("svm", threads);
        char args[1200], out[4096] = "";
        snprintf(args, sizeof args, "svm '%s' %d", dir, reps);
        const int have_anchor = run_anchor("svm", args, cpu, threads, out, sizeof out, &broken);
        for (int k = 0; k < 2 && rc == TK_OK; k++) {
            SvmParams p = svm_params_default();
            p.loss = models[k].loss;
            p.multiclass = models[k].multiclass;
            double fits[7], cpus[7], start;
            LinearSvm svm = {0};
            for (int r = 0; r < reps && rc == TK_OK; r++) {
                svm_free(&svm);
                start = time_now();
                const double cpu_start = cpu_now();
                rc = svm_fit(&svm, m.tx, m.ty, MTM6_TRAIN, 6, &p, st);
                fits[r] = time_now() - start;
                cpus[r] = cpu_now() - cpu_start;
            }
            if (rc != TK_OK)
                break;
            start = time_now();
            svm_predict(&svm, m.qx, MTM6_TEST, pred);
            const double predict_us = (time_now() - start) / MTM6_TEST * 1e6;
            svm_free(&svm);
            char key[64];
            double a[4] = {NAN, NAN, NAN, NAN};
            static const char *suffix[4] = {"fit_s", "us", "accuracy", "cpu_s"};
            for (int f = 0; f < 4 && have_anchor; f++) {
                snprintf(key, sizeof key, "%s_%s", models[k].anchor_key, suffix[f]);
                a[f] = bench_anchor_value(out, key);
            }
            print(cfg, "svm", models[k].case_name, threads, "fit_s", bench_median(fits, reps),
                  "s", a[0], 0);
            print(cfg, "svm", models[k].case_name, threads, "cpu_s", bench_median(cpus, reps),
                  "s", a[3], 0);
            print(cfg, "svm", models[k].case_name, threads, "predict_us", predict_us, "us/row",
                  a[1], 0);
            print(cfg, "svm", models[k].case_name, threads, "accuracy",
                  accuracy(pred, m.qy, MTM6_TEST), "", a[2], 1);
        }
        leave_threads(threads, all);
    }
    free(pred);
    free_mtm6(&m);
    return rc;
}
