/* bench_pose.c — `takt bench pose`: latency of the BlazePose networks (weights/) run by
 * takt's kernels, median of >= 50 runs after a warm-up, at 1 (pinned) and 2 threads, with
 * the work rate (GFLOP/s of the convolutions) beside the FMA peak. The anchor is ONNX Runtime
 * (npm onnxruntime-node) on the same models converted to ONNX, ../shared/bench/ort/run.js, on
 * the same CPU. The two take turns, three rounds each (takt's runs, then ONNX Runtime's, and
 * again), and each figure is the median of its three round medians: on a virtual machine the
 * speed of the second vCPU drifts over seconds, and one round each would compare the two in
 * different states of the host (measured: 2-thread latencies move 1.5x between such states).
 * GFLOP/s count every multiply-add of the dense operators, also the ones the detector's sparse
 * 1x1 convolutions skip (75 % zeros): its rate is dense-equivalent and can pass the peak.
 * The landmark models run without the segmentation branch, as the *_noseg anchors do. At one
 * thread a per-layer profile follows: milliseconds per run of each operator kind, and the
 * convolutions' GFLOP/s (with TAKT_BENCH_POSE_LAYERS set in the environment, also every
 * operator's, on stderr). Last, video_fps: the whole pipeline of `takt pose` on a video
 * (Y4M frame decode, the detector when tracking is lost, the landmark model, post-processing,
 * smoothing; tracking mode) over the squat clip of ../shared/pose/video, which ffmpeg turns
 * into a temporary Y4M; frames / wall seconds of the second pass over the clip. No anchor. */
#include "bench.h"
#include "../io/io.h"
#include "../pose/pose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#define POSE_BENCH_RUNS 60
#define POSE_BENCH_QUICK_RUNS 5
#define POSE_BENCH_WARMUP 10
#define POSE_BENCH_ROUNDS 3

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
    if (access(script, R_OK) || access(model, R_OK) || access(package, R_OK)) {
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

/* With TAKT_BENCH_POSE_LAYERS set: one note per operator (kind, graph line, shapes,
 * milliseconds per run, GFLOP/s of convolutions), to find the layers that lag the others. */
static void print_layers(const PoseNet *net, const char *model, int runs)
{
    const int n = posenet_profile_layers(net, NULL, 0);
    PoseNetLayerProfile *layers = malloc((size_t)n * sizeof *layers);
    if (!layers)
        return;
    posenet_profile_layers(net, layers, n);
    for (int i = 0; i < n; i++) {
        const PoseNetLayerProfile *l = &layers[i];
        char geom[32] = "";
        if (l->kernel > 0)
            snprintf(geom, sizeof geom, " k%d s%d%s%s", l->kernel, l->stride,
                     l->sparse ? " sparse" : "", l->residual ? " +res" : "");
        const double ms = l->seconds * 1e3 / runs;
        bench_note("pose %s layer %d line %d %s %dx%dx%d -> %dx%dx%d%s %.4f ms %.1f GFLOP/s",
                   model, i, l->line, l->name, l->in_shape[0], l->in_shape[1], l->in_shape[2],
                   l->out_shape[0], l->out_shape[1], l->out_shape[2], geom, ms,
                   l->flops > 0 && l->seconds > 0 ? l->flops * runs / l->seconds * 1e-9 : 0.0);
    }
    free(layers);
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
    if (rc == TK_OK && getenv("TAKT_BENCH_POSE_LAYERS"))
        print_layers(net, model, runs);
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

/* One pass of the whole pipeline over the clip: frames / wall seconds, from opening the Y4M
 * to the last frame processed. */
static StatusCode video_pass(PoseTracker *t, const char *y4m, double *fps, Status *st)
{
    pose_tracker_reset(t);
    const double t0 = time_now();
    VideoSource *v = NULL;
    StatusCode rc = video_open(&v, y4m, NULL, st);
    if (rc != TK_OK)
        return rc;
    const double rate = video_fps(v) > 0 ? video_fps(v) : 30.0;
    Image frame = {0};
    long frames = 0;
    for (;;) {
        VideoRead what;
        if ((rc = video_read(v, &frame, &what, st)) != TK_OK || what == VIDEO_END)
            break;
        if (what != VIDEO_FRAME)
            continue;
        PoseFrameResult r;
        if ((rc = pose_tracker_process(t, &frame, video_frame_index(v) / rate, &r, st)) != TK_OK)
            break;
        frames++;
    }
    const double seconds = time_now() - t0;
    image_free(&frame);
    video_close(v);
    *fps = frames > 0 && seconds > 0 ? frames / seconds : NAN;
    return rc;
}

/* video_fps rows: lite and full at 1 (pinned) and 2 threads; --quick: lite at 1 thread. */
static StatusCode bench_pose_video(const BenchConfig *cfg, int max_threads, Status *st)
{
    const char *shared = getenv("TAKT_SHARED") ? getenv("TAKT_SHARED") : "../shared";
    char mp4[1024];
    snprintf(mp4, sizeof mp4, "%s/pose/video/pose_squats.mp4", shared);
    if (access(mp4, R_OK) || strchr(mp4, '\'')) {
        bench_note("pose: no video_fps rows (needs %s)", mp4);
        return TK_OK;
    }
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        bench_note("pose: no video_fps rows (ffmpeg not installed: no Y4M of %s)", mp4);
        return TK_OK;
    }
    char dir[] = "/tmp/takt-bench-pose-XXXXXX", y4m[64], cmd[1200];
    if (!mkdtemp(dir)) {
        bench_note("pose: no video_fps rows (no temporary folder)");
        return TK_OK;
    }
    snprintf(y4m, sizeof y4m, "%s/squats.y4m", dir);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f yuv4mpegpipe '%s'", mp4, y4m);
    StatusCode rc = TK_OK;
    if (system(cmd) != 0) {
        bench_note("pose: no video_fps rows (ffmpeg failed to convert %s)", mp4);
    } else {
        static const char *const skip[] = {"Identity_2", NULL};
        static const char *const models[] = {"lite", "full"};
        const int n_models = cfg->quick ? 1 : 2;
        PoseNet *det = NULL;
        rc = posenet_load(&det, pose_models[0].weights, st);
        for (int k = 0; k < n_models && rc == TK_OK; k++) {
            PoseNet *lmk = NULL;
            PoseTracker *t = NULL;
            char weights[128], case_name[32];
            snprintf(weights, sizeof weights, "weights/pose_landmark_%s.tkw", models[k]);
            snprintf(case_name, sizeof case_name, "video_%s", models[k]);
            const PoseTrackerOptions opts = {1, 1}; /* tracking, smoothing: `takt pose` on video */
            rc = posenet_load_ex(&lmk, weights, skip, st);
            if (rc == TK_OK)
                rc = pose_tracker_new(&t, det, lmk, &opts, st);
            const int threads_hi = cfg->quick ? 1 : max_threads;
            for (int threads = 1; threads <= threads_hi && rc == TK_OK; threads++) {
                omp_set_num_threads(threads);
                if (threads == 1 && bench_pin_single_cpu() < 0)
                    bench_note("pose: cannot pin to one CPU; single-thread figures may be noisy");
                double fps = NAN;
                rc = video_pass(t, y4m, &fps, st); /* the first pass warms up */
                if (rc == TK_OK)
                    rc = video_pass(t, y4m, &fps, st);
                if (threads == 1)
                    bench_unpin();
                if (rc != TK_OK)
                    break;
                BenchRow row = {.bench = "pose", .case_name = case_name, .threads = threads,
                                .metric = "video_fps", .value = fps, .unit = "frames/s",
                                .peak = NAN, .anchor = NAN, .anchor_name = NULL,
                                .higher_is_better = 1};
                bench_print_row(cfg, &row);
            }
            omp_set_num_threads(threads_max());
            pose_tracker_free(t);
            posenet_free(lmk);
        }
        posenet_free(det);
    }
    remove(y4m);
    rmdir(dir);
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
            const int rounds = cfg->quick ? 1 : POSE_BENCH_ROUNDS;
            double round_ms[POSE_BENCH_ROUNDS], round_anchor[POSE_BENCH_ROUNDS];
            for (int r = 0; r < rounds && rc == TK_OK; r++) {
                round_ms[r] = median_ms(net, runs, st, &rc);
                round_anchor[r] = ort_median_ms(m, threads, cpu, runs, &anchor_broken);
            }
            if (rc == TK_OK && rounds > 1) {
                char ours[16 * POSE_BENCH_ROUNDS] = "", theirs[16 * POSE_BENCH_ROUNDS] = "";
                for (int r = 0, a = 0, b = 0; r < rounds; r++) {
                    a += snprintf(ours + a, sizeof ours - (size_t)a, " %.3f", round_ms[r]);
                    b += snprintf(theirs + b, sizeof theirs - (size_t)b, " %.3f",
                                  round_anchor[r]);
                }
                bench_note("pose %s %d thread(s), rounds: takt%s ms, ONNX Runtime%s ms", m->name,
                           threads, ours, theirs);
            }
            double ms = rc == TK_OK ? bench_median(round_ms, rounds) : NAN;
            double anchor = anchor_broken ? NAN : bench_median(round_anchor, rounds);
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
    return bench_pose_video(cfg, max_threads, st);
}
