/* bench_mtm.c — `takt bench mtm`: the MTM-2 classifiers as `takt mtm` runs them (min-max
 * scaling included) on ../shared/bench/mtm6_* (8,919 training rows, 10,000 queries), one
 * thread pinned, beside scikit-learn's MinMaxScaler + KNeighborsClassifier(1) / LinearSVC /
 * MLPClassifier(50, early stopping) run by anchors/mtm_sklearn.py on the same CPU in the same
 * run: fit_s, knn single-row predict (the seed claims <= 1 us), batched us/row, accuracy. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app/mtm.h"
#include "bench.h"

#define MTM6_TRAIN 8919
#define MTM6_TEST 10000

static void row(const BenchConfig *cfg, const char *case_name, const char *metric, double value,
                const char *unit, const char *anchor_out, int higher_is_better)
{
    char key[64];
    snprintf(key, sizeof key, "%s_%s", case_name, metric);
    const BenchRow r = {.bench = "mtm", .case_name = case_name, .threads = 1, .metric = metric,
                        .value = value, .unit = unit, .peak = NAN,
                        .anchor = anchor_out ? bench_anchor_value(anchor_out, key) : NAN,
                        .anchor_name = "sklearn", .higher_is_better = higher_is_better};
    bench_print_row(cfg, &r);
}

StatusCode bench_mtm(const BenchConfig *cfg, Status *st)
{
    char dir[1024];
    const char *shared = getenv("TAKT_SHARED");
    snprintf(dir, sizeof dir, "%s/bench", shared ? shared : "../shared");
    float *tx = bench_read_bin(dir, "mtm6_train_x", sizeof(float) * MTM6_TRAIN * 6);
    int *ty = bench_read_bin(dir, "mtm6_train_y", sizeof(int) * MTM6_TRAIN);
    float *qx = bench_read_bin(dir, "mtm6_test_x", sizeof(float) * MTM6_TEST * 6);
    int *qy = bench_read_bin(dir, "mtm6_test_y", sizeof(int) * MTM6_TEST);
    int *pred = malloc(sizeof(int) * MTM6_TEST);
    float *scratch = malloc(sizeof(float) * MTM6_TEST * 6);
    double *times = malloc(sizeof(double) * MTM6_TEST);
    StatusCode rc = TK_OK;
    if (!tx || !ty || !qx || !qy) {
        bench_note("mtm: mtm6 not found in %s; nothing to run", dir);
        goto done;
    }
    if (!pred || !scratch || !times) {
        rc = status_fail(st, TK_ENOMEM, "mtm: out of memory");
        goto done;
    }
    const int all = threads_max(), reps = cfg->quick ? 3 : 11;
    const int single = cfg->quick ? 300 : 2000;
    const int cpu = bench_pin_single_cpu();
    if (cpu < 0)
        bench_note("mtm: cannot pin to one CPU; figures may be noisy");
    omp_set_num_threads(1);
    char out[4096], args[1200];
    const char *anchor = NULL;
    snprintf(args, sizeof args, "'%s' %d %d", dir, single, reps);
    if (!cfg->no_anchor) {
        Status ast = {0};
        if (bench_run_anchor("mtm_sklearn.py", args, cpu, 1, out, sizeof out, &ast) == TK_OK)
            anchor = out;
        else
            bench_note("mtm: no anchor: %s", ast.msg);
    }
    for (int k = 0; k < 3 && !rc; k++) {
        MtmModel m;
        double start = time_now();
        rc = mtm_model_fit(&m, (MtmKind)k, tx, ty, MTM6_TRAIN, 6, 5, NULL, NULL, 0, st);
        const double fit_s = time_now() - start;
        if (rc)
            break;
        const char *name = mtm_kind_name((MtmKind)k);
        if (k == MTM_KNN) {
            for (int i = 0; i < MTM6_TEST && !rc; i++) {
                start = time_now();
                rc = mtm_model_predict(&m, qx + 6 * i, 1, scratch, pred + i, NULL, st);
                times[i] = time_now() - start;
            }
        }
        const double single_us = k == MTM_KNN ? bench_median(times, MTM6_TEST) * 1e6 : NAN;
        for (int r = 0; r < reps && !rc; r++) {
            start = time_now();
            rc = mtm_model_predict(&m, qx, MTM6_TEST, scratch, pred, NULL, st);
            times[r] = time_now() - start;
        }
        mtm_model_free(&m);
        if (rc)
            break;
        int right = 0;
        for (int i = 0; i < MTM6_TEST; i++)
            right += pred[i] == qy[i];
        row(cfg, name, "fit_s", fit_s, "s", anchor, 0);
        if (k == MTM_KNN)
            row(cfg, name, "single_us", single_us, "us", anchor, 0);
        row(cfg, name, "batch_us", bench_median(times, reps) / MTM6_TEST * 1e6, "us/row", anchor, 0);
        row(cfg, name, "accuracy", (double)right / MTM6_TEST, "", anchor, 1);
    }
    omp_set_num_threads(all);
    if (cpu >= 0)
        bench_unpin();
done:
    free(tx), free(ty), free(qx), free(qy), free(pred), free(scratch), free(times);
    return rc;
}
