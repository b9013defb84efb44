/* bench_pose.c — `takt bench pose`: latency of the BlazePose networks (weights/) run by
 * takt's kernels, median of >= 50 runs after a warm-up, at 1 (pinned) and 2 threads, with
 * the work rate (GFLOP/s of the convolutions) beside the FMA peak. The anchor is ONNX Runtime
 * (npm onnxruntime-node) on the same models converted to ONNX, ../shared/bench/ort/run.js,
 * started right after takt's round for the same model and thread count, on the same CPU.
 * The landmark models run without the segmentation branch, as the *_noseg anchors do. At one
 * thread a per-layer profile follows: milliseconds per run of each operator kind, and the
 * convolutions' GFLOP/s. */
#include "bench.h"
#include "../pose/pose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <omp.h>

#define POSE_BENCH_RUNS 60
#define POSE_BENCH_QUICK_RUNS 5
#define POSE_BENCH_WARMUP 10

typedef struct {
    const char *name;
    const char *weights;
    const char *onnx; /* in ../shared/bench/ort */
} PoseBenchModel;

static const PoseBenchModel pose_models[] = {
    {"detector", "weights/pose_detection.tkw", "pose_detection.onnx"},
    {"lite", "weights/pose_landmark_lite.tkw", "pose_landmark_lite_noseg.onnx"},
    {"full", "weights/pose_landmark_full.tkw", "pose_landmark_full_noseg.onnx"},
};

static double median_ms(PoseNet *net, int runs, Status *st, StatusCode *rc)
{
    double times[POSE_BENCH_RUNS];
    for (int i = 0; i < POSE_BENCH_WARMUP && *rc == TK_OK; i++)
        *rc = posenet_run(net, st);
    for (int i = 0; i < runs && *rc == TK_OK; i++) {
        double t0 = time_now();
        *rc = posenet_run(net, st);
        times[i] = (time_now() - t0) * 1e3;
    }
    return *rc == TK_OK ? bench_median(times, runs) : NAN;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ONNX Runtime's median for one model, or NAN (with a note the first time) when node, the
 * package or ../shared is missing. */
static double ort_median_ms(const PoseBenchModel *m, int threads, int cpu, int runs,
                            int *broken)
{
    if (*broken)
        return NAN;
    const char *shared = getenv("TAKT_SHARED") ? getenv("TAKT_SHARED") : "../shared";
    const char *home = getenv("HOME") ? getenv("HOME") : "/root";
    char script[1024], model[1024], modules[1024];
    snprintf(script, sizeof script, "%s/bench/ort/run.js", shared);
    snprintf(model, sizeof model, "%s/bench/ort/%s", shared, m->onnx);
    snprintf(modules, sizeof modules, "%s/.cache/takt-ort/node_modules", home);
    char package[1100];
    snprintf(package, sizeof package, "%s/onnxruntime-node", modules);
    if (!file_exists(script) || !file_exists(model) || !file_exists(package)) {
        bench_note("pose: no ONNX Runtime anchor (needs %s, %s and %s; see "
                   "../shared/bench/ort/README.md)", script, model, package);
        *broken = 1;
        return NAN;
    }
    char cmd[4096], pin[32] = "";
    if (cpu >= 0)
        snprintf(pin, sizeof pin, "taskset -c %d ", cpu);
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s' %snode '%s' '%s' %d %d 2>&1", modules, pin, script,
             model, threads, runs);
    FILE *p = popen(cmd, "r");
    if (!p) {
        *broken = 1;
        return NAN;
    }
    char out[4096];
    size_t used = fread(out, 1, sizeof out - 1, p);
    out[used] = '\0';
    int status = pclose(p);
    const char *key = strstr(out, "\"median_ms\":");
    if (status != 0 || !key) {
        bench_note("pose: ONNX Runtime anchor failed: %.200s", out);
        *broken = 1;
        return NAN;
    }
    return atof(key + strlen("\"median_ms\":"));
}

/* Per-layer profile at one thread: time per run of each operator kind, and GFLOP/s of the
 * convolutions beside the peak. */
static StatusCode print_profile(const BenchConfig *cfg, PoseNet *net, const char *model, int runs,
                                Status *st)
{
    StatusCode rc = TK_OK;
    posenet_profile(net, 1);
    for (int i = 0; i < runs && rc == TK_OK; i++)
        rc = posenet_run(net, st);
    PoseNetProfile prof[POSENET_PROFILE_KINDS];
    int n = posenet_profile_get(net, prof);
    posenet_profile(net, 0);
    for (int k = 0; k < n && rc == TK_OK; k++) {
        char metric[64];
        snprintf(metric, sizeof metric, "ms_%s", prof[k].name);
        BenchRow row = {.bench = "pose", .case_name = model, .threads = 1, .metric = metric,
                        .value = prof[k].seconds * 1e3 / runs, .unit = "ms", .peak = NAN,
                        .anchor = NAN, .higher_is_better = 0};
        bench_print_row(cfg, &row);
        if (prof[k].flops > 0) {
            snprintf(metric, sizeof metric, "gflops_%s", prof[k].name);
            BenchRow rate = {.bench = "pose", .case_name = model, .threads = 1, .metric = metric,
                             .value = prof[k].flops / prof[k].seconds * 1e-9, .unit = "GFLOP/s",
                             .peak = bench_fma_peak(1), .anchor = NAN, .higher_is_better = 1};
            bench_print_row(cfg, &rate);
        }
    }
    return rc;
}

StatusCode bench_pose(const BenchConfig *cfg, Status *st)
{
    const int runs = cfg->quick ? POSE_BENCH_QUICK_RUNS : POSE_BENCH_RUNS;
    const char *skip[] = {"Identity_2", NULL};
    int anchor_broken = cfg->no_anchor;
    int max_threads = threads_max() < 2 ? threads_max() : 2;
    for (size_t k = 0; k < sizeof pose_models / sizeof pose_models[0]; k++) {
        const PoseBenchModel *m = &pose_models[k];
        PoseNet *net = NULL;
        StatusCode rc = posenet_load_ex(&net, m->weights, skip, st);
        if (rc != TK_OK)
            return rc;
        int h, w, c;
        posenet_input_shape(net, &h, &w, &c);
        float *x = posenet_input(net);
        Rng rng;
        rng_seed(&rng, 1, 0);
        for (size_t i = 0; i < (size_t)h * w * c; i++)
            x[i] = rng_uniform(&rng);
        const double gflop = posenet_flops(net) * 1e-9;
        for (int threads = 1; threads <= max_threads; threads++) {
            int cpu = -1;
            omp_set_num_threads(threads);
            if (threads == 1) {
                cpu = bench_pin_single_cpu();
                if (cpu < 0)
                    bench_note("pose: cannot pin to one CPU; single-thread figures may be noisy");
            }
            double ms = median_ms(net, runs, st, &rc);
            double anchor = ort_median_ms(m, threads, cpu, runs, &anchor_broken);
            if (threads == 1 && rc == TK_OK)
                rc = print_profile(cfg, net, m->name, runs, st);
            if (threads == 1)
                bench_unpin();
            if (rc != TK_OK)
                break;
            BenchRow row = {.bench = "pose", .case_name = m->name, .threads = threads,
                            .metric = "latency_ms", .value = ms, .unit = "ms", .peak = NAN,
                            .anchor = anchor,
                            .anchor_name = isnan(anchor) ? NULL : "onnxruntime-node 1.30.0",
                            .higher_is_better = 0};
            bench_print_row(cfg, &row);
            BenchRow rate = {.bench = "pose", .case_name = m->name, .threads = threads,
                             .metric = "gflops", .value = gflop / (ms * 1e-3), .unit = "GFLOP/s",
                             .peak = bench_fma_peak(threads), .anchor = NAN,
                             .higher_is_better = 1};
            if (!isnan(anchor)) {
                rate.anchor = gflop / (anchor * 1e-3);
                rate.anchor_name = "onnxruntime-node 1.30.0";
            }
            bench_print_row(cfg, &rate);
        }
        omp_set_num_threads(threads_max());
        posenet_free(net);
        if (rc != TK_OK)
            return rc;
    }
    return TK_OK;
}
