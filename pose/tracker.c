/* tracker.c — one frame through MediaPipe's pose graph
 * (mediapipe/modules/pose_landmark/pose_landmark_cpu.pbtxt): the detector runs only when there
 * is no ROI carried over from the previous frame's landmarks (PreviousLoopbackCalculator +
 * GateCalculator); its best detection gives the ROI; the landmark model runs on that ROI; a
 * pose flag below 0.5 means no person, which drops the carried ROI so that the next frame runs
 * the detector again. Without tracking (single images, MediaPipe's static_image_mode) every
 * frame starts afresh. */
#include "pose.h"

#include <stdlib.h>

struct PoseTracker {
    PoseNet *detector, *landmark;
    PoseTrackerOptions opts;
    PoseDetectorPost *post;
    PoseSmoother *smoother;
    int have_roi;
    PoseRect next_roi;
    int frame_w, frame_h;
};

/* The output `name` of net with exactly `count` values, or NULL (with st filled). */
static const float *net_output(const PoseNet *net, const char *name, size_t count, Status *st)
{
    const Tensor *t = posenet_output(net, name);
    if (!t || !t->data) {
        status_fail(st, TK_EFORMAT, "%s model: output '%s' missing", posenet_kind(net), name);
        return NULL;
    }
    if (tensor_count(t) != count) {
        char shape[64];
        status_fail(st, TK_EFORMAT, "%s model: output '%s' is %s, expected %zu values",
                    posenet_kind(net), name, tensor_shape_str(t, shape, sizeof shape), count);
        return NULL;
    }
    return t->data;
}

static StatusCode check_input(const PoseNet *net, int size, Status *st)
{
    int h, w, c;
    posenet_input_shape(net, &h, &w, &c);
    if (h != size || w != size || c != 3)
        return status_fail(st, TK_EFORMAT, "%s model: input %dx%dx%d, expected %dx%dx3",
                           posenet_kind(net), h, w, c, size, size);
    return TK_OK;
}

StatusCode pose_tracker_new(PoseTracker **out, PoseNet *detector, PoseNet *landmark,
                            const PoseTrackerOptions *opts, Status *st)
{
    *out = NULL;
    StatusCode rc;
    if ((rc = check_input(detector, POSE_DET_SIZE, st)) != TK_OK ||
        (rc = check_input(landmark, POSE_LMK_SIZE, st)) != TK_OK)
        return rc;
    PoseTracker *t = calloc(1, sizeof *t);
    if (!t)
        return status_fail(st, TK_ENOMEM, "pose tracker: out of memory");
    t->detector = detector;
    t->landmark = landmark;
    t->opts = *opts;
    if ((rc = pose_detector_post_new(&t->post, st)) != TK_OK ||
        (rc = pose_smoother_new(&t->smoother, opts->smooth, st)) != TK_OK) {
        pose_tracker_free(t);
        return rc;
    }
    *out = t;
    return TK_OK;
}

void pose_tracker_free(PoseTracker *t)
{
    if (!t)
        return;
    pose_detector_post_free(t->post);
    pose_smoother_free(t->smoother);
    free(t);
}

void pose_tracker_reset(PoseTracker *t)
{
    t->have_roi = 0;
    pose_smoother_reset(t->smoother);
}

/* Detector on the letterboxed frame; *found = 0 when nothing scores 0.5. */
static StatusCode detect(PoseTracker *t, const Image *frame, PoseRect *roi, int *found,
                         Status *st)
{
    PoseLetterbox pad;
    StatusCode rc = pose_crop(frame, NULL, POSE_DET_SIZE, POSE_DET_SIZE, -1.0f, 1.0f,
                              POSE_BORDER_ZERO, posenet_input(t->detector), &pad, st);
    if (rc != TK_OK || (rc = posenet_run(t->detector, st)) != TK_OK)
        return rc;
    const float *boxes = net_output(t->detector, "Identity",
                                    (size_t)POSE_DET_ANCHORS * POSE_DET_COORDS, st);
    const float *scores = net_output(t->detector, "Identity_1", POSE_DET_ANCHORS, st);
    if (!boxes || !scores)
        return TK_EFORMAT;
    PoseDetection det;
    *found = pose_detect_decode(t->post, boxes, scores, &det, 1) > 0;
    if (*found) {
        pose_detection_remove_letterbox(&det, &pad);
        pose_roi_from_detection(&det, frame->width, frame->height, roi);
    }
    return TK_OK;
}

StatusCode pose_tracker_process(PoseTracker *t, const Image *frame, double time_s,
                                PoseFrameResult *out, Status *st)
{
    out->found = 0;
    out->ran_detector = 0;
    if (!t->opts.tracking || frame->width != t->frame_w || frame->height != t->frame_h)
        pose_tracker_reset(t);
    t->frame_w = frame->width;
    t->frame_h = frame->height;

    StatusCode rc;
    PoseRect roi = t->next_roi;
    if (!t->have_roi) {
        int found = 0;
        out->ran_detector = 1;
        if ((rc = detect(t, frame, &roi, &found, st)) != TK_OK)
            return rc;
        if (!found) {
            pose_tracker_reset(t);
            return TK_OK;
        }
    }
    out->roi = roi;

    PoseLetterbox pad;
    rc = pose_crop(frame, &roi, POSE_LMK_SIZE, POSE_LMK_SIZE, 0.0f, 1.0f, POSE_BORDER_REPLICATE,
                   posenet_input(t->landmark), &pad, st);
    if (rc != TK_OK || (rc = posenet_run(t->landmark, st)) != TK_OK)
        return rc;
    const float *raw = net_output(t->landmark, "Identity", POSE_LMK_ALL * 5, st);
    const float *flag = net_output(t->landmark, "Identity_1", 1, st);
    const float *heatmap = net_output(
        t->landmark, "Identity_3", (size_t)POSE_HEATMAP_SIZE * POSE_HEATMAP_SIZE * POSE_LMK_ALL, st);
    const float *world = net_output(t->landmark, "Identity_4", POSE_LMK_ALL * 3, st);
    if (!raw || !flag || !heatmap || !world)
        return TK_EFORMAT;
    if (!(flag[0] >= POSE_PRESENCE_MIN)) {
        pose_tracker_reset(t);
        return TK_OK;
    }
    pose_landmarks_decode(raw, heatmap, world, flag[0], &roi, &pad, &out->lm);
    pose_smoother_apply(t->smoother, time_s, frame->width, frame->height, &out->lm);
    out->found = 1;
    if (t->opts.tracking) {
        pose_roi_from_landmarks(&out->lm, frame->width, frame->height, &t->next_roi);
        t->have_roi = 1;
    }
    return TK_OK;
}
