/* test_posepipe.c — the pose pipeline around the networks, against MediaPipe:
 *   SSD anchors and weighted NMS on hand-made detector outputs;
 *   the real detector outputs for the yoga photo (TFLite, ../shared/pose/tensors) decode to a
 *   detection on the person MediaPipe found (reference/mediapipe_wasm);
 *   the real landmark outputs (lite, full) for a known crop project back onto MediaPipe's
 *   landmarks (MediaPipe's own crop differs slightly, so within a few thousandths);
 *   crop and projection invert each other under rotation; the letterboxed detector input;
 *   the One-Euro smoother;
 *   end to end with our networks (the .tkw files in weights/): every image in ../shared/pose/images against
 *   MediaPipe (mean |d| <= 0.005, same person / no person), the yoga photo within MediaPipe's
 *   own test limit (15 px), and the squat video in tracking mode (needs ffmpeg to make the Y4M)
 *   against MediaPipe's tracking run and, with smoothing, against MediaPipe Python's output;
 *   `takt pose` itself: exit codes, raw frames on stdin to CSV with a bad frame, overlays. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../pose/pose.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

/* Under AddressSanitizer (make test SANITIZE=1, about 10x slower) the video tests look at fewer
 * frames, to keep the whole suite within its time budget. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Moves *p past the next occurrence of key; 0 when absent. */
static int json_skip_to(const char **p, const char *key)
{
    const char *q = strstr(*p, key);
    if (!q)
        return 0;
    *p = q + strlen(key);
    return 1;
}

/* Reads the next n numbers from *p (skipping brackets, commas, blanks); 0 when a "null" or the
 * end comes first. */
static int json_numbers(const char **p, float *out, int n)
{
    const char *s = *p;
    for (int i = 0; i < n;) {
        if (!*s || !strncmp(s, "null", 4))
            return 0;
        if (strchr("-0123456789", *s)) {
            char *end;
            out[i++] = strtof(s, &end);
            s = end;
        } else {
            s++;
        }
    }
    *p = s;
    return 1;
}

static char *read_shared_text(const char *rel)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, rel))
        return NULL;
    size_t n = 0;
    return test_read_file(path, &n);
}

static float *read_shared_f32(const char *rel, size_t count)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, rel))
        return NULL;
    float *v = test_read_f32(path, count);
    cr_assert_not_null(v, "%s: not %zu float32 values", rel, count);
    return v;
}

/* MediaPipe's static-mode landmarks (33 x [x, y, z, visibility]) of `model` for an image, from
 * reference/mediapipe_wasm/<image>.json; returns 0 when MediaPipe found no pose. */
static int reference_landmarks(const char *json, const char *model, float ref[33 * 4])
{
    const char *p = json;
    char key[32];
    snprintf(key, sizeof key, "\"%s\": {", model);
    cr_assert(json_skip_to(&p, key) && json_skip_to(&p, "\"landmarks\":"), "no %s landmarks", model);
    return json_numbers(&p, ref, 33 * 4);
}

/* Mean over the 33 landmarks of |dx| and |dy| (normalised), and the largest single one. */
static double mean_abs_xy(const PoseLandmarks *lm, const float *ref, double *max)
{
    double sum = 0.0;
    *max = 0.0;
    for (int i = 0; i < POSE_LANDMARKS; i++) {
        const double dx = fabs(lm->landmarks[i].x - ref[4 * i]);
        const double dy = fabs(lm->landmarks[i].y - ref[4 * i + 1]);
        sum += dx + dy;
        *max = fmax(*max, fmax(dx, dy));
    }
    return sum / (2.0 * POSE_LANDMARKS);
}

/* ---------------------------------------------------------------- anchors, NMS */

Test(posepipe, anchors_follow_the_ssd_grid)
{
    PoseAnchor a[POSE_DET_ANCHORS];
    cr_assert_eq(pose_anchors(a, POSE_DET_ANCHORS - 1), 0);
    cr_assert_eq(pose_anchors(a, POSE_DET_ANCHORS), 2254);
    /* 28x28 cells x 2, then 14x14 x 2, then 7x7 x 6 (three stride-32 layers merged) */
    cr_assert_float_eq(a[0].x_center, 0.5f / 28, 1e-7);
    cr_assert_float_eq(a[1].y_center, 0.5f / 28, 1e-7);
    cr_assert_float_eq(a[2].x_center, 1.5f / 28, 1e-7);
    cr_assert_float_eq(a[56].y_center, 1.5f / 28, 1e-7);
    cr_assert_float_eq(a[1567].x_center, 27.5f / 28, 1e-6);
    cr_assert_float_eq(a[1568].x_center, 0.5f / 14, 1e-7);
    cr_assert_float_eq(a[1959].y_center, 13.5f / 14, 1e-6);
    for (int k = 1960; k < 1966; k++)
        cr_assert_float_eq(a[k].x_center, 0.5f / 7, 1e-7);
    cr_assert_float_eq(a[1966].x_center, 1.5f / 7, 1e-7);
    cr_assert_float_eq(a[2253].x_center, 6.5f / 7, 1e-6);
    cr_assert_float_eq(a[2253].y_center, 6.5f / 7, 1e-6);
    for (int i = 0; i < POSE_DET_ANCHORS; i++)
        cr_assert(a[i].w == 1.0f && a[i].h == 1.0f);
}

/* Raw outputs where only a few anchors score: anchors 0 and 1 (same cell) overlap and merge by
 * weighted average; anchor 1567 (the far corner of the 28x28 grid) stays separate; one below the
 * 0.5 threshold vanishes; a huge logit is clipped instead of overflowing. */
Test(posepipe, weighted_nms_on_synthetic_outputs)
{
    static float boxes[POSE_DET_ANCHORS * POSE_DET_COORDS], scores[POSE_DET_ANCHORS];
    for (int i = 0; i < POSE_DET_ANCHORS; i++)
        scores[i] = -1000.0f;
    const int a0 = 0, a1 = 1, far = 1567, weak = 700;
    const float w = 56.0f; /* box of 56/224 = 0.25 */
    float *b0 = boxes + a0 * 12, *b1 = boxes + a1 * 12, *bf = boxes + far * 12;
    b0[2] = b0[3] = w;
    b1[0] = 5.6f; /* shifted right by 0.025 */
    b1[2] = b1[3] = w;
    bf[2] = bf[3] = w;
    b0[4] = 0.0f;   /* keypoint 0 at the anchor centre */
    b1[4] = 11.2f;  /* keypoint 0 0.05 to the right */
    boxes[weak * 12 + 2] = boxes[weak * 12 + 3] = w;
    scores[a0] = 2.0f;
    scores[a1] = 0.0f; /* exactly 0.5: kept (>= threshold) */
    scores[far] = 1e6f;
    scores[weak] = -0.01f;

    PoseDetectorPost *post = NULL;
    Status st = {0};
    cr_assert_eq(pose_detector_post_new(&post, &st), TK_OK);
    PoseDetection d[8];
    int n = pose_detect_decode(post, boxes, scores, d, 8);
    cr_assert_eq(n, 2);
    cr_assert_float_eq(d[0].score, 1.0f, 1e-6, "clipped logit: sigmoid(100)");
    cr_assert_float_eq(d[0].xmin, 27.5f / 28 - 0.125f, 1e-6);
    const float s0 = 1.0f / (1.0f + expf(-2.0f)), s1 = 0.5f;
    const float c = 0.5f / 28;
    cr_assert_float_eq(d[1].score, s0, 1e-6);
    cr_assert_float_eq(d[1].xmin, (s0 * (c - 0.125f) + s1 * (c + 0.025f - 0.125f)) / (s0 + s1), 1e-6);
    cr_assert_float_eq(d[1].width, 0.25f, 1e-6);
    cr_assert_float_eq(d[1].keypoints[0][0], (s0 * c + s1 * (c + 0.05f)) / (s0 + s1), 1e-6);
    cr_assert_eq(pose_detect_decode(post, boxes, scores, d, 1), 1, "max_out respected");
    cr_assert_float_eq(d[0].score, 1.0f, 1e-6);

    /* letterbox removal maps the padded tensor back to the image */
    PoseLetterbox pad = {0.0f, 0.25f, 0.0f, 0.25f};
    PoseDetection t = {.xmin = 0.1f, .ymin = 0.5f, .width = 0.2f, .height = 0.25f};
    t.keypoints[0][1] = 0.75f;
    pose_detection_remove_letterbox(&t, &pad);
    cr_assert_float_eq(t.ymin, 0.5f, 1e-6);
    cr_assert_float_eq(t.height, 0.5f, 1e-6);
    cr_assert_float_eq(t.keypoints[0][1], 1.0f, 1e-6);
    cr_assert_float_eq(t.xmin, 0.1f, 1e-6);
    pose_detector_post_free(post);
}

/* ---------------------------------------------------------------- ROI, crop, projection */

Test(posepipe, roi_rotation_and_square_size)
{
    /* upright person: scale point straight above the hips -> no rotation */
    PoseRect r;
    pose_alignment_rect(0.5f, 0.6f, 0.5f, 0.4f, 640, 480, &r);
    cr_assert_float_eq(r.rotation, 0.0f, 1e-6);
    cr_assert_float_eq(r.width * 640, 2 * 0.2f * 480, 1e-3);
    pose_rect_expand(&r, 640, 480);
    cr_assert_float_eq(r.width * 640, r.height * 480, 1e-3, "square in pixels");
    cr_assert_float_eq(r.height * 480, 1.25f * 2 * 0.2f * 480, 1e-3);
    /* lying with the head to the right: the crop turns by +90 degrees */
    pose_alignment_rect(0.3f, 0.5f, 0.6f, 0.5f, 640, 480, &r);
    cr_assert_float_eq(r.rotation, (float)M_PI / 2, 1e-6);
    /* head down: +-180 degrees, normalised into [-pi, pi) */
    pose_alignment_rect(0.5f, 0.4f, 0.5f, 0.6f, 640, 480, &r);
    cr_assert_float_eq(fabsf(r.rotation), (float)M_PI, 1e-6);
}

/* A bright dot in a non-square image, cropped through a rotated ROI: where it lands in the
 * tensor, projected back as a landmark, is where it was. */
Test(posepipe, crop_and_projection_invert_each_other)
{
    Image img = {0};
    Status st = {0};
    const int W = 320, H = 200;
    cr_assert_eq(image_resize_buffer(&img, W, H, &st), TK_OK);
    memset(img.rgb, 0, (size_t)W * H * 3);
    const int dots[][2] = {{150, 60}, {200, 130}, {120, 110}};
    const PoseRect roi = {0.5f, 0.5f, 0.45f, 0.72f, 0.7f};
    static float tensor[POSE_LMK_SIZE * POSE_LMK_SIZE * 3];
    for (int k = 0; k < 3; k++) {
        memset(img.rgb, 0, (size_t)W * H * 3);
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
                memset(img.rgb + 3 * ((size_t)(dots[k][1] + dy) * W + dots[k][0] + dx), 255, 3);
        PoseLetterbox pad;
        cr_assert_eq(pose_crop(&img, &roi, POSE_LMK_SIZE, POSE_LMK_SIZE, 0.0f, 1.0f,
                               POSE_BORDER_REPLICATE, tensor, &pad, &st), TK_OK);
        cr_assert_float_eq(pad.left + pad.top, 0.0f, 1e-6, "square ROI: no padding");
        double sx = 0, sy = 0, sw = 0;
        for (int y = 0; y < POSE_LMK_SIZE; y++)
            for (int x = 0; x < POSE_LMK_SIZE; x++) {
                const float v = tensor[3 * (y * POSE_LMK_SIZE + x)];
                sx += v * (x + 0.5);
                sy += v * (y + 0.5);
                sw += v;
            }
        cr_assert_gt(sw, 0.0, "dot %d not in the crop", k);
        float raw[POSE_LMK_ALL * 5] = {0}, world[POSE_LMK_ALL * 3] = {0};
        raw[0] = (float)(sx / sw);
        raw[1] = (float)(sy / sw);
        PoseLandmarks lm;
        pose_landmarks_decode(raw, NULL, world, 1.0f, &roi, &pad, &lm);
        cr_assert_float_eq(lm.landmarks[0].x * W, dots[k][0] + 1.0f, 0.25, "dot %d x", k);
        cr_assert_float_eq(lm.landmarks[0].y * H, dots[k][1] + 1.0f, 0.25, "dot %d y", k);
    }
    /* world landmarks turn with the ROI */
    float raw[POSE_LMK_ALL * 5] = {0}, world[POSE_LMK_ALL * 3] = {0};
    world[0] = 1.0f;
    PoseLandmarks lm;
    const PoseLetterbox none = {0};
    pose_landmarks_decode(raw, NULL, world, 1.0f, &roi, &none, &lm);
    cr_assert_float_eq(lm.world[0].x, cosf(0.7f), 1e-6);
    cr_assert_float_eq(lm.world[0].y, sinf(0.7f), 1e-6);
    image_free(&img);
}

/* The whole yoga photo letterboxed into the detector input, against the reference pack's input
 * (made with Pillow, whose resize filters differently, so compared loosely; the padding rows
 * must be exactly -1). */
Test(posepipe, letterboxed_detector_input)
{
    char path[1024];
    float *ref = read_shared_f32("pose/tensors/det_input_yoga_warrior_beach.bin", 224 * 224 * 3);
    if (!ref || !test_shared_path(path, sizeof path, "pose/images/yoga_warrior_beach.png"))
        cr_skip_test("../shared not found (pose/tensors, pose/images)");
    Image img = {0};
    Status st = {0};
    cr_assert_eq(image_load(&img, path, &st), TK_OK, "%s", st.msg);
    static float in[224 * 224 * 3];
    PoseLetterbox pad;
    cr_assert_eq(pose_crop(&img, NULL, 224, 224, -1.0f, 1.0f, POSE_BORDER_ZERO, in, &pad, &st),
                 TK_OK);
    cr_assert_float_eq(pad.top, (1.0f - 667.0f / 1000.0f) / 2, 1e-6);
    cr_assert_float_eq(pad.bottom, pad.top, 1e-7);
    cr_assert_eq(pad.left, 0.0f);
    for (int i = 0; i < 36 * 224 * 3; i++) {
        cr_assert_eq(in[i], -1.0f, "top padding value %d", i);
        cr_assert_eq(in[224 * 224 * 3 - 1 - i], -1.0f, "bottom padding value %d", i);
    }
    double sum = 0;
    for (int i = 38 * 224 * 3; i < 185 * 224 * 3; i++)
        sum += fabs(in[i] - ref[i]);
    const double mean = sum / ((185 - 38) * 224 * 3);
    cr_assert_lt(mean, 0.06, "mean |ours - Pillow| = %.4f on [-1, 1]", mean);
    free(ref);
    image_free(&img);
}

/* ---------------------------------------------------------------- raw reference tensors */

Test(posepipe, detector_outputs_find_the_yoga_person)
{
    float *boxes = read_shared_f32("pose/tensors/detector__yoga_warrior_beach__out0_Identity.bin",
                                   POSE_DET_ANCHORS * POSE_DET_COORDS);
    float *scores = read_shared_f32(
        "pose/tensors/detector__yoga_warrior_beach__out1_Identity_1.bin", POSE_DET_ANCHORS);
    char *json = read_shared_text("pose/reference/mediapipe_wasm/yoga_warrior_beach.json");
    if (!boxes || !scores || !json)
        cr_skip_test("../shared not found (pose/tensors, pose/reference)");
    float ref[33 * 4];
    cr_assert(reference_landmarks(json, "full", ref));

    PoseDetectorPost *post = NULL;
    Status st = {0};
    cr_assert_eq(pose_detector_post_new(&post, &st), TK_OK);
    PoseDetection d[4];
    const int n = pose_detect_decode(post, boxes, scores, d, 4);
    cr_assert_eq(n, 1, "one person, %d detections", n);
    cr_assert_gt(d[0].score, 0.9f);
    /* the reference input was pasted at y = 37 with 149 rows (manifest recipe) */
    const PoseLetterbox pad = {0.0f, 37.0f / 224, 0.0f, 38.0f / 224};
    pose_detection_remove_letterbox(&d[0], &pad);
    /* keypoint 0 is the hip centre: MediaPipe's landmarks 23, 24 */
    const float hx = (ref[23 * 4] + ref[24 * 4]) / 2, hy = (ref[23 * 4 + 1] + ref[24 * 4 + 1]) / 2;
    cr_assert_float_eq(d[0].keypoints[0][0], hx, 0.01, "hip x %.4f vs %.4f", d[0].keypoints[0][0], hx);
    cr_assert_float_eq(d[0].keypoints[0][1], hy, 0.01, "hip y %.4f vs %.4f", d[0].keypoints[0][1], hy);
    /* the ROI made from it holds every landmark MediaPipe found */
    PoseRect roi;
    pose_roi_from_detection(&d[0], 1000, 667, &roi);
    cr_assert_lt(fabsf(roi.rotation), 0.1f, "standing person, rotation %.3f", roi.rotation);
    const float c = cosf(roi.rotation), s = sinf(roi.rotation);
    for (int i = 0; i < POSE_LANDMARKS; i++) {
        const float dx = (ref[4 * i] - roi.x_center) * 1000, dy = (ref[4 * i + 1] - roi.y_center) * 667;
        const float u = c * dx + s * dy, v = -s * dx + c * dy;
        cr_assert(fabsf(u) < roi.width * 1000 / 2 && fabsf(v) < roi.height * 667 / 2,
                  "landmark %d outside the ROI", i);
    }
    pose_detector_post_free(post);
    free(boxes);
    free(scores);
    free(json);
}

/* The landmark models' raw outputs for the crop (220,168)-(785,733) of the yoga photo (reference
 * pack recipe: axis-aligned, no rotation), decoded and projected to the image, against MediaPipe's
 * landmarks (measured: mean |d| 0.0024 lite, 0.0019 full; without the heatmap refinement 0.0058 and
 * 0.0031, so the refinement must help). */
Test(posepipe, landmark_outputs_project_onto_mediapipe_landmarks)
{
    char *json = read_shared_text("pose/reference/mediapipe_wasm/yoga_warrior_beach.json");
    if (!json)
        cr_skip_test("../shared not found (pose/reference)");
    const char *models[] = {"lite", "full"};
    const PoseRect roi = {(220 + 785) / 2.0f / 1000, (168 + 733) / 2.0f / 667, 565.0f / 1000,
                          565.0f / 667, 0.0f};
    const PoseLetterbox none = {0};
    for (int m = 0; m < 2; m++) {
        char rel[256];
        float *out[5];
        const size_t counts[5] = {195, 1, 0, 64 * 64 * 39, 117};
        for (int k = 0; k < 5; k++) {
            if (!counts[k])
                continue;
            if (k == 0)
                snprintf(rel, sizeof rel, "pose/tensors/%s__yoga_warrior_beach__out0_Identity.bin",
                         models[m]);
            else
                snprintf(rel, sizeof rel,
                         "pose/tensors/%s__yoga_warrior_beach__out%d_Identity_%d.bin", models[m],
                         k, k);
            out[k] = read_shared_f32(rel, counts[k]);
            if (!out[k])
                cr_skip_test("../shared not found (%s)", rel);
        }
        float ref[33 * 4], wref[33 * 4];
        cr_assert(reference_landmarks(json, models[m], ref));
        const char *p = strstr(json, models[m][0] == 'l' ? "\"lite\": {" : "\"full\": {");
        cr_assert(json_skip_to(&p, "\"world_landmarks\":") && json_numbers(&p, wref, 33 * 4));

        PoseLandmarks plain, refined;
        pose_landmarks_decode(out[0], NULL, out[4], out[1][0], &roi, &none, &plain);
        pose_landmarks_decode(out[0], out[3], out[4], out[1][0], &roi, &none, &refined);
        cr_assert_gt(refined.score, POSE_PRESENCE_MIN);
        double max_plain, max_refined;
        const double mean_plain = mean_abs_xy(&plain, ref, &max_plain);
        const double mean_refined = mean_abs_xy(&refined, ref, &max_refined);
        cr_assert_lt(mean_refined, 0.004, "%s: mean |d| %.5f", models[m], mean_refined);
        cr_assert_lt(max_refined, 0.02, "%s: max |d| %.5f", models[m], max_refined);
        cr_assert_lt(mean_refined, mean_plain, "%s: refinement should help (%.5f vs %.5f)",
                     models[m], mean_refined, mean_plain);
        double wmax = 0, vmax = 0;
        for (int i = 0; i < POSE_LANDMARKS; i++) {
            wmax = fmax(wmax, fabs(refined.world[i].x - wref[4 * i]));
            wmax = fmax(wmax, fabs(refined.world[i].y - wref[4 * i + 1]));
            wmax = fmax(wmax, fabs(refined.world[i].z - wref[4 * i + 2]));
            vmax = fmax(vmax, fabs(refined.landmarks[i].visibility - ref[4 * i + 3]));
            cr_assert_eq(refined.world[i].visibility, refined.landmarks[i].visibility);
        }
        cr_assert_lt(wmax, 0.1, "%s: world max |d| %.3f m", models[m], wmax);
        cr_assert_lt(vmax, 0.1, "%s: visibility max |d| %.3f", models[m], vmax);
        for (int k = 0; k < 5; k++)
            if (counts[k])
                free(out[k]);
    }
    free(json);
}

/* ---------------------------------------------------------------- smoothing */

static void fill_landmarks(PoseLandmarks *lm, float x, float y)
{
    memset(lm, 0, sizeof *lm);
    for (int i = 0; i < POSE_LMK_ALL; i++) {
        lm->landmarks[i] = (PoseLandmark){x + 0.001f * i, y, 0.0f, 0.9f, 0.9f};
        if (i < POSE_LANDMARKS)
            lm->world[i] = (PoseLandmark){x, y, 0.1f, 0.9f, 0.9f};
    }
    /* auxiliary landmarks: hips at (x, y), scale point 0.2 above */
    lm->landmarks[POSE_AUX_FIRST] = (PoseLandmark){x, y, 0.0f, 0.9f, 0.9f};
    lm->landmarks[POSE_AUX_FIRST + 1] = (PoseLandmark){x, y - 0.2f, 0.0f, 0.9f, 0.9f};
}

Test(posepipe, one_euro_smoothing)
{
    PoseSmoother *on = NULL, *off = NULL;
    Status st = {0};
    cr_assert_eq(pose_smoother_new(&on, 1, &st), TK_OK);
    cr_assert_eq(pose_smoother_new(&off, 0, &st), TK_OK);
    PoseLandmarks a, b;
    /* the first sample passes unchanged */
    fill_landmarks(&a, 0.5f, 0.5f);
    pose_smoother_apply(on, 0.0, 640, 480, &a);
    cr_assert_float_eq(a.landmarks[3].x, 0.503f, 1e-7);
    /* a still pose stays still */
    for (int k = 1; k <= 5; k++) {
        fill_landmarks(&a, 0.5f, 0.5f);
        pose_smoother_apply(on, k / 30.0, 640, 480, &a);
        cr_assert_float_eq(a.landmarks[3].x, 0.503f, 1e-6);
    }
    /* a jump is followed partly at once (high speed opens the filter), then fully */
    fill_landmarks(&a, 0.6f, 0.5f);
    pose_smoother_apply(on, 6 / 30.0, 640, 480, &a);
    const float first = a.landmarks[0].x;
    cr_assert(first > 0.5f && first < 0.6f, "after the jump x = %f", first);
    float prev = first;
    for (int k = 7; k < 40; k++) {
        fill_landmarks(&a, 0.6f, 0.5f);
        pose_smoother_apply(on, k / 30.0, 640, 480, &a);
        cr_assert_geq(a.landmarks[0].x, prev - 1e-6f);
        prev = a.landmarks[0].x;
    }
    cr_assert_float_eq(prev, 0.6f, 2e-3);
    cr_assert_lt(a.landmarks[0].visibility, 0.91f);
    /* a repeated timestamp leaves the sample as it is */
    fill_landmarks(&b, 0.3f, 0.5f);
    pose_smoother_apply(on, 39 / 30.0, 640, 480, &b);
    cr_assert_float_eq(b.landmarks[0].x, 0.3f, 1e-7);
    /* after a reset the history is gone */
    pose_smoother_reset(on);
    fill_landmarks(&b, 0.3f, 0.5f);
    pose_smoother_apply(on, 50.0, 640, 480, &b);
    cr_assert_float_eq(b.landmarks[0].x, 0.3f, 1e-7);

    /* disabled: body landmarks untouched, auxiliary ones still filtered (they carry the ROI) */
    fill_landmarks(&a, 0.5f, 0.5f);
    pose_smoother_apply(off, 0.0, 640, 480, &a);
    fill_landmarks(&a, 0.6f, 0.5f);
    pose_smoother_apply(off, 1 / 30.0, 640, 480, &a);
    cr_assert_float_eq(a.landmarks[0].x, 0.6f, 1e-7);
    cr_assert_float_eq(a.world[0].x, 0.6f, 1e-7);
    cr_assert_lt(a.landmarks[POSE_AUX_FIRST].x, 0.6f - 1e-3f);
    pose_smoother_free(on);
    pose_smoother_free(off);
}

/* ---------------------------------------------------------------- end to end */

typedef struct {
    PoseNet *det, *lmk;
} Nets;

/* Our networks from weights/ (the repository's), or a skip. One thread: the networks give the
 * same bytes with any thread count, and Criterion already runs tests side by side. */
static Nets load_nets(const char *model)
{
    omp_set_num_threads(1);
    char path[256];
    snprintf(path, sizeof path, "weights/pose_landmark_%s.tkw", model);
    FILE *fp = fopen(path, "rb");
    FILE *fd = fopen("weights/pose_detection.tkw", "rb");
    if (fp)
        fclose(fp);
    if (fd)
        fclose(fd);
    if (!fp || !fd)
        cr_skip_test("weights/pose_detection.tkw or %s not built", path);
    Nets n = {0};
    Status st = {0};
    cr_assert_eq(posenet_load(&n.det, "weights/pose_detection.tkw", &st), TK_OK, "%s", st.msg);
    cr_assert_eq(posenet_load(&n.lmk, path, &st), TK_OK, "%s", st.msg);
    return n;
}

static void free_nets(Nets *n)
{
    posenet_free(n->det);
    posenet_free(n->lmk);
}

/* Every image of the pack; under the sanitizers the first four (a full body, an upper body, a
 * video frame, nobody) stand for them. The yoga photo must stay first (external check). */
static const char *const IMAGES[] = {
    "yoga_warrior_beach", "business_woman_upper", "squat_video_f010", "cat_no_person",
    "businessman_standing", "yoga_tree_balcony", "grace_hopper_portrait", "obama_portrait",
    "astronaut_collins", "squat_video_f000", "squat_video_f035", "coffee_no_person"};
#define N_IMAGES (SANITIZED ? 4 : (int)(sizeof IMAGES / sizeof IMAGES[0]))

static void images_match_mediapipe(const char *model)
{
    if (!test_shared_dir())
        cr_skip_test("../shared not found");
    Nets nets = load_nets(model);
    PoseTracker *t = NULL;
    Status st = {0};
    const PoseTrackerOptions static_mode = {0, 0};
    cr_assert_eq(pose_tracker_new(&t, nets.det, nets.lmk, &static_mode, &st), TK_OK, "%s", st.msg);
    Image img = {0};
    for (int k = 0; k < N_IMAGES; k++) {
        char rel[256], path[1024];
        snprintf(rel, sizeof rel, "pose/images/%s.png", IMAGES[k]);
        cr_assert_not_null(test_shared_path(path, sizeof path, rel), "%s missing", rel);
        cr_assert_eq(image_load(&img, path, &st), TK_OK, "%s", st.msg);
        PoseFrameResult r;
        cr_assert_eq(pose_tracker_process(t, &img, 0.0, &r, &st), TK_OK, "%s", st.msg);
        cr_assert(r.ran_detector);
        snprintf(rel, sizeof rel, "pose/reference/mediapipe_wasm/%s.json", IMAGES[k]);
        char *json = read_shared_text(rel);
        cr_assert_not_null(json, "%s missing", rel);
        float ref[33 * 4];
        const int has_pose = reference_landmarks(json, model, ref);
        cr_assert_eq(r.found, has_pose, "%s %s: pose %d, MediaPipe %d", model, IMAGES[k], r.found,
                     has_pose);
        if (has_pose) {
            double max;
            const double mean = mean_abs_xy(&r.lm, ref, &max);
            cr_assert_leq(mean, 0.005, "%s %s: mean |d| %.5f (max %.5f)", model, IMAGES[k], mean,
                          max);
        }
        if (k == 0) {
            /* MediaPipe's pose_test.py: every landmark within 15 px of its expectation */
            char *ext = read_shared_text("pose/reference/external/yoga_warrior_beach_mediapipe_expected.json");
            cr_assert_not_null(ext);
            const char *p = ext;
            float px[33 * 2];
            cr_assert(json_skip_to(&p, "\"python_solution_expected_pixels\":") &&
                      json_numbers(&p, px, 33 * 2));
            for (int i = 0; i < POSE_LANDMARKS; i++) {
                cr_assert_lt(fabsf(r.lm.landmarks[i].x * img.width - px[2 * i]), 15.0f,
                             "%s landmark %d x", model, i);
                cr_assert_lt(fabsf(r.lm.landmarks[i].y * img.height - px[2 * i + 1]), 15.0f,
                             "%s landmark %d y", model, i);
            }
            free(ext);
        }
        free(json);
    }
    image_free(&img);
    pose_tracker_free(t);
    free_nets(&nets);
}

Test(posepipe, images_end_to_end_lite, .timeout = 120) { images_match_mediapipe("lite"); }
Test(posepipe, images_end_to_end_full, .timeout = 120) { images_match_mediapipe("full"); }

/* weights/pose_landmark_heavy.tkw is made by `make weights` only (27 MB, not committed). */
Test(posepipe, images_end_to_end_heavy, .timeout = 120)
{
    if (SANITIZED)
        cr_skip_test("heavy model: too slow under the sanitizers (lite and full cover the code)");
    images_match_mediapipe("heavy");
}

/* The squat video as Y4M (ffmpeg, at test time, into /tmp; remove_y4m deletes it). */
static const char *squat_y4m(int frames)
{
    char mp4[1024];
    if (!test_shared_path(mp4, sizeof mp4, "pose/video/pose_squats.mp4"))
        cr_skip_test("../shared not found (pose/video)");
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0)
        cr_skip_test("ffmpeg not installed: no Y4M of the squat video (apt-get install ffmpeg)");
    static char y4m[512];
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    snprintf(y4m, sizeof y4m, "%s/squats.y4m", dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -i '%s' -frames:v %d -f yuv4mpegpipe '%s'", mp4,
             frames, y4m);
    cr_assert_eq(system(cmd), 0, "ffmpeg failed");
    return y4m;
}

static void remove_y4m(const char *y4m)
{
    remove(y4m);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", y4m);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
}

/* MediaPipe's tracking run (reset once, smoothing off): the detector runs on frame 0 only and
 * every frame stays within 0.005 of MediaPipe (measured: mean 0.0018, worst frame 0.0034; all
 * 65 frames, 12 under the sanitizers). */
Test(posepipe, video_tracking_lite, .timeout = 180)
{
    char *json = read_shared_text("pose/reference/mediapipe_wasm/pose_squats_video.json");
    if (!json)
        cr_skip_test("../shared not found (pose/reference)");
    const int frames = SANITIZED ? 12 : 65;
    const char *y4m = squat_y4m(frames);
    Nets nets = load_nets("lite");
    PoseTracker *t = NULL;
    Status st = {0};
    const PoseTrackerOptions video = {1, 0};
    cr_assert_eq(pose_tracker_new(&t, nets.det, nets.lmk, &video, &st), TK_OK, "%s", st.msg);
    VideoSource *v = NULL;
    cr_assert_eq(video_open(&v, y4m, NULL, &st), TK_OK, "%s", st.msg);
    const char *p = json;
    cr_assert(json_skip_to(&p, "\"lite\": {") && json_skip_to(&p, "\"video_track\""));
    Image img = {0};
    double total = 0;
    int detector_runs = 0;
    for (int k = 0; k < frames; k++) {
        VideoRead what;
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(what, VIDEO_FRAME);
        PoseFrameResult r;
        cr_assert_eq(pose_tracker_process(t, &img, k / video_fps(v), &r, &st), TK_OK, "%s", st.msg);
        detector_runs += r.ran_detector;
        float ref[33 * 4];
        cr_assert(json_skip_to(&p, "\"landmarks\":") && json_numbers(&p, ref, 33 * 4));
        cr_assert(r.found, "frame %d: no pose", k);
        double max;
        const double mean = mean_abs_xy(&r.lm, ref, &max);
        cr_assert_leq(mean, 0.005, "frame %d: mean |d| %.5f", k, mean);
        total += mean;
    }
    cr_assert_eq(detector_runs, 1);
    cr_log_info("video tracking lite: mean |d| over %d frames %.5f", frames, total / frames);
    image_free(&img);
    video_close(v);
    remove_y4m(y4m);
    pose_tracker_free(t);
    free_nets(&nets);
    free(json);
}

/* With smoothing, against MediaPipe Python's own output for this video (full model, video mode,
 * smoothing on; tfjs-models checks it with 31 px): measured mean 3.9 px over 65 frames. At most
 * 1 % of coordinates beyond 31 px, none beyond 60, every frame's mean within 10 px. The first 30
 * frames (8 under the sanitizers) keep the test short. */
Test(posepipe, video_smoothed_full_vs_mediapipe_python, .timeout = 180)
{
    char *json = read_shared_text("pose/reference/external/pose_squats.full.json");
    if (!json)
        cr_skip_test("../shared not found (pose/reference/external)");
    const int frames = SANITIZED ? 8 : 30;
    const char *y4m = squat_y4m(frames);
    Nets nets = load_nets("full");
    PoseTracker *t = NULL;
    Status st = {0};
    const PoseTrackerOptions video = {1, 1};
    cr_assert_eq(pose_tracker_new(&t, nets.det, nets.lmk, &video, &st), TK_OK, "%s", st.msg);
    VideoSource *v = NULL;
    cr_assert_eq(video_open(&v, y4m, NULL, &st), TK_OK, "%s", st.msg);
    const char *p = json;
    Image img = {0};
    double total = 0, worst = 0;
    int far = 0;
    for (int k = 0; k < frames; k++) {
        VideoRead what;
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK, "%s", st.msg);
        PoseFrameResult r;
        cr_assert_eq(pose_tracker_process(t, &img, k / video_fps(v), &r, &st), TK_OK, "%s", st.msg);
        cr_assert(r.found, "frame %d: no pose", k);
        float px[33 * 3];
        cr_assert(json_numbers(&p, px, 33 * 3));
        double sum = 0;
        for (int i = 0; i < POSE_LANDMARKS; i++) {
            const double dx = fabs(r.lm.landmarks[i].x * img.width - px[3 * i]);
            const double dy = fabs(r.lm.landmarks[i].y * img.height - px[3 * i + 1]);
            far += (dx >= 31.0) + (dy >= 31.0);
            worst = fmax(worst, fmax(dx, dy));
            sum += dx + dy;
        }
        cr_assert_lt(sum / 66, 10.0, "frame %d: mean %.2f px", k, sum / 66);
        total += sum / 66;
    }
    /* MediaPipe's own wasm run against this file: 99.7 % within 31 px, max 50 px */
    cr_assert_leq(far, frames * 66 / 100, "%d of %d coordinates beyond 31 px", far, frames * 66);
    cr_assert_lt(worst, 60.0, "worst coordinate %.1f px", worst);
    cr_assert_lt(total / frames, 6.0, "mean %.2f px", total / frames);
    image_free(&img);
    video_close(v);
    remove_y4m(y4m);
    pose_tracker_free(t);
    free_nets(&nets);
    free(json);
}

/* ---------------------------------------------------------------- takt pose */

/* Runs `$TAKT_BIN pose <args>` with stdout and stderr into files of dir; returns the exit code
 * and leaves the captured text in out / err (malloc'ed). */
static int takt_pose(const char *dir, const char *args, char **out, char **err)
{
    const char *bin = getenv("TAKT_BIN");
    if (!bin || !bin[0])
        cr_skip_test("TAKT_BIN is not set (make test sets it to the built takt binary)");
    char cmd[4096], out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", dir);
    snprintf(cmd, sizeof cmd, "'%s' pose %s >'%s' 2>'%s'", bin, args, out_path, err_path);
    const int status = system(cmd);
    cr_assert(status != -1 && WIFEXITED(status), "could not run %s", cmd);
    size_t n;
    *out = test_read_file(out_path, &n);
    *err = test_read_file(err_path, &n);
    cr_assert(*out && *err);
    return WEXITSTATUS(status);
}

Test(posepipe, cli_usage_and_input_errors)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char *out, *err, args[1024];
    cr_assert_eq(takt_pose(dir, "in.y4m", &out, &err), 2);
    cr_assert(strstr(err, "-o"), "%s", err);
    free(out), free(err);
    cr_assert_eq(takt_pose(dir, "in.y4m -o k.csv --model huge", &out, &err), 2);
    cr_assert(strstr(err, "huge"), "%s", err);
    free(out), free(err);
    cr_assert_eq(takt_pose(dir, "- -o k.csv --size 64x48", &out, &err), 2);
    cr_assert(strstr(err, "--fps"), "%s", err);
    free(out), free(err);
    cr_assert_eq(takt_pose(dir, "- -o k.csv --size 64y48 --fps 5", &out, &err), 2);
    free(out), free(err);
    snprintf(args, sizeof args, "/nonexistent/clip.y4m -o %s/k.csv", dir);
    cr_assert_eq(takt_pose(dir, args, &out, &err), 1);
    cr_assert(strstr(err, "takt: /nonexistent/clip.y4m:"), "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "%s/k.csv", dir);
    cr_assert_eq(access(args, F_OK), -1, "no output after a failure");
    /* Raw frames of which the only one is cut short: an error, not an empty CSV. */
    if (access("weights/pose_detection.tkw", F_OK) ||
        access("weights/pose_landmark_lite.tkw", F_OK))
        cr_skip_test("weights/pose_detection.tkw or pose_landmark_lite.tkw not built");
    char raw[600];
    snprintf(raw, sizeof raw, "%s/cut.rgb", dir);
    FILE *fp = fopen(raw, "wb");
    cr_assert_not_null(fp);
    for (int i = 0; i < 1000; i++)
        fputc(i & 255, fp);
    fclose(fp);
    snprintf(args, sizeof args, "- -o %s/k.csv --model lite --size 64x48 --fps 5 < '%s'", dir,
             raw);
    cr_assert_eq(takt_pose(dir, args, &out, &err), 1, "%s", err);
    cr_assert(strstr(err, "frame 0 truncated") && strstr(err, "standard input: none of its 1 "),
              "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "%s/k.csv", dir);
    cr_assert_eq(access(args, F_OK), -1, "no CSV when no frame could be read");
}

/* Raw RGB24 frames on stdin (three copies of the yoga photo and a truncated fourth), tracked:
 * a CSV row per good frame, the bad one reported and counted, the detector run once, overlays
 * written, and the landmarks those of MediaPipe for this photo. */
Test(posepipe, cli_raw_frames_to_csv, .timeout = 120)
{
    char png[1024];
    char *json = read_shared_text("pose/reference/mediapipe_wasm/yoga_warrior_beach.json");
    if (!json || !test_shared_path(png, sizeof png, "pose/images/yoga_warrior_beach.png"))
        cr_skip_test("../shared not found (pose/images, pose/reference)");
    Nets nets = load_nets("lite"); /* skips when the weights are absent */
    free_nets(&nets);
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    Image img = {0};
    Status st = {0};
    cr_assert_eq(image_load(&img, png, &st), TK_OK, "%s", st.msg);
    char raw[600], csv[600], overlay[600], args[2048];
    snprintf(raw, sizeof raw, "%s/frames.rgb", dir);
    snprintf(csv, sizeof csv, "%s/k.csv", dir);
    snprintf(overlay, sizeof overlay, "%s/overlay", dir);
    FILE *fp = fopen(raw, "wb");
    cr_assert_not_null(fp);
    const size_t fb = (size_t)img.width * img.height * 3;
    for (int k = 0; k < 3; k++)
        cr_assert_eq(fwrite(img.rgb, 1, fb, fp), fb);
    cr_assert_eq(fwrite(img.rgb, 1, 1000, fp), 1000);
    fclose(fp);
    snprintf(args, sizeof args,
             "- -o '%s' --model lite --size %dx%d --fps 2 --threads 1 --json --overlay '%s' < '%s'",
             csv, img.width, img.height, overlay, raw);
    char *out, *err;
    cr_assert_eq(takt_pose(dir, args, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "frame 3 truncated"), "%s", err);
    cr_assert(strstr(out, "\"frames\":3") && strstr(out, "\"with_pose\":3") &&
                  strstr(out, "\"bad_frames\":1") && strstr(out, "\"detector_runs\":1"),
              "%s", out);

    CsvTable t;
    cr_assert_eq(csv_read(&t, csv, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(t.rows, 3);
    cr_assert_eq(t.cols, 3 + 4 * 33);
    cr_assert_str_eq(t.names[3], "x0");
    cr_assert_str_eq(t.names[3 + 4 * 32 + 3], "v32");
    float ref[33 * 4];
    cr_assert(reference_landmarks(json, "lite", ref));
    for (int r = 0; r < 3; r++) {
        const float *row = t.data + (size_t)r * t.cols;
        cr_assert_eq(row[0], (float)r);
        cr_assert_float_eq(row[1], r * 0.5f, 1e-6);
        cr_assert_eq(row[2], 1.0f);
        double sum = 0;
        for (int i = 0; i < 33; i++)
            sum += fabs(row[3 + 4 * i] - ref[4 * i]) + fabs(row[4 + 4 * i] - ref[4 * i + 1]);
        /* frame 0 is MediaPipe's static run; later frames track and smooth, so a little looser */
        cr_assert_lt(sum / 66, r == 0 ? 0.001 : 0.01, "row %d: mean |d| %.5f", r, sum / 66);
    }
    csv_free(&t);
    for (int k = 0; k < 3; k++) {
        char path[700];
        snprintf(path, sizeof path, "%s/frame_%06d.png", overlay, k);
        Image o = {0};
        cr_assert_eq(image_load(&o, path, &st), TK_OK, "%s", st.msg);
        cr_assert(o.width == img.width && o.height == img.height);
        cr_assert_neq(memcmp(o.rgb, img.rgb, fb), 0, "nothing drawn on overlay %d", k);
        image_free(&o);
        remove(path);
    }
    rmdir(overlay);
    remove(raw);
    remove(csv);
    free(out);
    free(err);
    image_free(&img);
    free(json);
}
