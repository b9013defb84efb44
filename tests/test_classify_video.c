/* test_classify_video.c — skeleton-sequence classifiers on video: per-frame features through
 * the pose pipeline (33 landmarks x 4, or the landmark model's pooled backbone map, 288 for
 * the full model) from the first frames of ../shared's squat clip, and `takt classify` trained
 * on a video cut by segments and predicting a video. Skipped without ../shared or ffmpeg. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "../app/classify.h"

enum { FRAMES = 2 };

static const char *dir;
static char y4m[512];
static char out[16384], err[8192];

#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

/* The first FRAMES frames of the squat clip as Y4M in the scratch folder. */
static void squat_clip(void)
{
    char mp4[1024];
    if (!test_shared_path(mp4, sizeof mp4, "pose/video/pose_squats.mp4"))
        cr_skip_test("../shared not found (pose/video)");
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0)
        cr_skip_test("ffmpeg not installed: no Y4M of the squat video");
    snprintf(y4m, sizeof y4m, "%s/squats.y4m", dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -frames:v %d -f yuv4mpegpipe '%s'", mp4,
             FRAMES, y4m);
    cr_assert_eq(system(cmd), 0, "ffmpeg failed");
}

static void begin(void)
{
    test_scratch_begin();
    dir = test_scratch_dir();
}

TestSuite(classify_video, .init = begin, .fini = test_scratch_end);

static void features(const char *kind, int want_f, float **x)
{
    int *frame, n, F, bad;
    Status st = {0};
    const PoseSourceOptions opts = {0};
    cr_assert_eq(clf_video_features(y4m, kind, 0, &opts, x, &frame, &n, &F, &bad, &st), TK_OK,
                 "%s", st.msg);
    cr_assert_eq(n, FRAMES, "%s: %d frames", kind, n);
    cr_assert_eq(F, want_f, "%s: %d features per frame", kind, F);
    cr_assert_eq(bad, 0);
    for (int i = 0; i < n; i++)
        cr_assert_eq(frame[i], i);
    free(frame);
}

Test(classify_video, landmarks_and_backbone_give_their_per_frame_sizes)
{
    squat_clip();
    float *lm, *bb;
    features("landmarks", 33 * 4, &lm);
    features("backbone", 288, &bb);
    for (int f = 0; f < FRAMES; f++) {
        /* The squatting person is found in every frame: normalised coordinates, visibility
         * in [0, 1], and a backbone map after RELU6, so pooled values in [0, 6], not all 0. */
        const float *row = lm + (size_t)f * 33 * 4;
        for (int j = 0; j < 33; j++)
            cr_assert(row[4 * j + 3] >= 0 && row[4 * j + 3] <= 1, "frame %d landmark %d", f, j);
        cr_assert(row[0] > 0 && row[0] < 1 && row[1] > 0 && row[1] < 1, "frame %d nose %g %g",
                  f, row[0], row[1]);
        double sum = 0;
        for (int c = 0; c < 288; c++) {
            const float v = bb[(size_t)f * 288 + c];
            cr_assert(v >= 0 && v <= 6, "frame %d channel %d: %g", f, c, v);
            sum += v;
        }
        cr_assert_gt(sum, 1.0, "frame %d: backbone features all near 0", f);
    }
    free(lm);
    free(bb);
    float *x;
    int *frame, n, F, bad;
    Status st = {0};
    const PoseSourceOptions opts = {0};
    cr_assert_eq(clf_video_features(y4m, "csv", 0, &opts, &x, &frame, &n, &F, &bad, &st),
                 TK_EINVAL);
    cr_assert(strstr(st.msg, "csv features"), "%s", st.msg);
}

Test(classify_video, train_on_a_video_cut_by_segments_and_predict_it)
{
    squat_clip();
    char seg[512];
    snprintf(seg, sizeof seg, "%s/seg.csv", dir);
    FILE *fp = fopen(seg, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "start_frame,end_frame,label\n0,0,down\n1,1,up\n");
    fclose(fp);
    cr_assert_eq(takt("classify train %s --segments %s --features landmarks -o %s/m.tkw "
                      "--val 0 --time-steps 4 --hidden 8 --epochs 3 --seed 1",
                      y4m, seg, dir),
                 0, "%s", err);
    cr_assert(strstr(err, "132 features"), "%s", err);
    cr_assert_eq(takt("classify predict %s/m.tkw %s --json", dir, y4m), 0, "%s", err);
    cr_assert(strstr(out, "\"class\":\"down\"") || strstr(out, "\"class\":\"up\""), "%s", out);
    /* The model remembers its pose model (full, the default) and refuses another one. */
    cr_assert_eq(takt("weights info %s/m.tkw", dir), 0, "%s", err);
    cr_assert(strstr(out, "pose_model") && strstr(out, "full"), "%s", out);
    cr_assert_eq(takt("classify predict %s/m.tkw %s --model lite", dir, y4m), 2);
    cr_assert(strstr(err, "full pose model"), "%s", err);
    /* Backbone features come from video only. */
    char kp[512];
    snprintf(kp, sizeof kp, "%s/kp.csv", dir);
    fp = fopen(kp, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "frame,time_s,pose,x0,y0,z0,v0\n0,0,1,0.5,0.5,0,1\n1,0.03,1,0.5,0.6,0,1\n");
    fclose(fp);
    cr_assert_eq(takt("classify train %s --segments %s --features backbone -o %s/b.tkw", kp,
                      seg, dir),
                 1);
    cr_assert(strstr(err, "backbone features come from a video"), "%s", err);
}
