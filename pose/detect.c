/* detect.c — the pose detector's post-processing, as MediaPipe's graph
 * mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt configures it:
 *   TensorsToDetectionsCalculator (mediapipe/calculators/tensor/tensors_to_detections_calculator.cc)
 *     with num_coords 12, keypoint_coord_offset 4, 4 keypoints, reverse_output_order (boxes are
 *     x_center, y_center, w, h; keypoints x, y), x/y/w/h_scale 224, no exponential on sizes,
 *     sigmoid scores with the logits clipped to +-100, min_score_thresh 0.5 (kept when >=),
 *     boxes with negative or NaN size dropped;
 *   NonMaxSuppressionCalculator (mediapipe/calculators/util/non_max_suppression_calculator.cc)
 *     with min_suppression_threshold 0.3, INTERSECTION_OVER_UNION, WEIGHTED: the best remaining
 *     detection absorbs every remaining one overlapping it by more than 0.3 (itself included),
 *     its box corners and keypoints becoming their score-weighted mean, its score unchanged;
 *   DetectionLetterboxRemovalCalculator for the padding of the letterboxed input. */
#include "pose.h"

#include <math.h>
#include <stdlib.h>

#define DET_SCALE 224.0f
#define DET_SCORE_CLIP 100.0f
#define DET_MIN_SCORE 0.5f
#define NMS_MIN_SUPPRESSION 0.3f

struct PoseDetectorPost {
    PoseAnchor anchors[POSE_DET_ANCHORS];
    PoseDetection cand[POSE_DET_ANCHORS];
    int order[POSE_DET_ANCHORS]; /* candidates still in play, best first */
    int rest[POSE_DET_ANCHORS];
    int n_anchors;
};

StatusCode pose_detector_post_new(PoseDetectorPost **p, Status *st)
{
    *p = calloc(1, sizeof **p);
    if (!*p)
        return status_fail(st, TK_ENOMEM, "pose detector: out of memory");
    (*p)->n_anchors = pose_anchors((*p)->anchors, POSE_DET_ANCHORS);
    return TK_OK;
}

void pose_detector_post_free(PoseDetectorPost *p) { free(p); }

/* Best score first; equal scores in anchor order, so that the result never depends on the
 * sorting algorithm. Insertion sort: a few dozen candidates usually pass the threshold, and
 * it needs neither memory nor a global for a comparison callback. */
static void sort_by_score(int *order, int n, const PoseDetection *cand)
{
    for (int i = 1; i < n; i++) {
        const int v = order[i];
        const float s = cand[v].score;
        int j = i - 1;
        while (j >= 0 && (cand[order[j]].score < s ||
                          (cand[order[j]].score == s && order[j] > v))) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
}

static float iou(const PoseDetection *a, const PoseDetection *b)
{
    const float ax1 = a->xmin + a->width, ay1 = a->ymin + a->height;
    const float bx1 = b->xmin + b->width, by1 = b->ymin + b->height;
    const float ix0 = fmaxf(a->xmin, b->xmin), iy0 = fmaxf(a->ymin, b->ymin);
    const float ix1 = fminf(ax1, bx1), iy1 = fminf(ay1, by1);
    if (ix1 < ix0 || iy1 < iy0)
        return 0.0f;
    const float inter = (ix1 - ix0) * (iy1 - iy0);
    const float uni = a->width * a->height + b->width * b->height - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

static int decode_candidates(PoseDetectorPost *p, const float *boxes, const float *scores)
{
    int n = 0;
    for (int i = 0; i < p->n_anchors; i++) {
        float logit = scores[i];
        logit = logit < -DET_SCORE_CLIP ? -DET_SCORE_CLIP : logit;
        logit = logit > DET_SCORE_CLIP ? DET_SCORE_CLIP : logit;
        const float score = 1.0f / (1.0f + expf(-logit));
        if (!(score >= DET_MIN_SCORE))
            continue;
        const float *r = boxes + (size_t)i * POSE_DET_COORDS;
        const PoseAnchor *a = &p->anchors[i];
        const float xc = r[0] / DET_SCALE * a->w + a->x_center;
        const float yc = r[1] / DET_SCALE * a->h + a->y_center;
        const float w = r[2] / DET_SCALE * a->w;
        const float h = r[3] / DET_SCALE * a->h;
        PoseDetection *d = &p->cand[n];
        const float xmin = xc - w / 2.0f, ymin = yc - h / 2.0f;
        d->score = score;
        d->xmin = xmin;
        d->ymin = ymin;
        d->width = (xc + w / 2.0f) - xmin;
        d->height = (yc + h / 2.0f) - ymin;
        if (!(d->width >= 0.0f) || !(d->height >= 0.0f))
            continue;
        for (int k = 0; k < POSE_DET_KEYPOINTS; k++) {
            d->keypoints[k][0] = r[4 + 2 * k] / DET_SCALE * a->w + a->x_center;
            d->keypoints[k][1] = r[4 + 2 * k + 1] / DET_SCALE * a->h + a->y_center;
        }
        p->order[n] = n;
        n++;
    }
    return n;
}

int pose_detect_decode(PoseDetectorPost *p, const float *boxes, const float *scores,
                       PoseDetection *out, int max_out)
{
    int remaining = decode_candidates(p, boxes, scores);
    sort_by_score(p->order, remaining, p->cand);
    int n_out = 0;
    while (remaining > 0 && n_out < max_out) {
        const PoseDetection *top = &p->cand[p->order[0]];
        float total = 0.0f, x0 = 0.0f, y0 = 0.0f, x1 = 0.0f, y1 = 0.0f;
        float kp[POSE_DET_KEYPOINTS][2] = {{0}};
        int n_rest = 0;
        for (int j = 0; j < remaining; j++) {
            const PoseDetection *c = &p->cand[p->order[j]];
            if (iou(c, top) > NMS_MIN_SUPPRESSION) {
                total += c->score;
                x0 += c->xmin * c->score;
                y0 += c->ymin * c->score;
                x1 += (c->xmin + c->width) * c->score;
                y1 += (c->ymin + c->height) * c->score;
                for (int k = 0; k < POSE_DET_KEYPOINTS; k++) {
                    kp[k][0] += c->keypoints[k][0] * c->score;
                    kp[k][1] += c->keypoints[k][1] * c->score;
                }
            } else {
                p->rest[n_rest++] = p->order[j];
            }
        }
        PoseDetection *d = &out[n_out++];
        *d = *top;
        if (total > 0.0f) {
            d->xmin = x0 / total;
            d->ymin = y0 / total;
            d->width = x1 / total - d->xmin;
            d->height = y1 / total - d->ymin;
            for (int k = 0; k < POSE_DET_KEYPOINTS; k++) {
                d->keypoints[k][0] = kp[k][0] / total;
                d->keypoints[k][1] = kp[k][1] / total;
            }
        }
        if (n_rest == remaining)
            break; /* nothing absorbed (a zero-area box): MediaPipe stops here too */
        for (int j = 0; j < n_rest; j++)
            p->order[j] = p->rest[j];
        remaining = n_rest;
    }
    return n_out;
}

void pose_detection_remove_letterbox(PoseDetection *det, const PoseLetterbox *pad)
{
    const float sx = 1.0f - pad->left - pad->right, sy = 1.0f - pad->top - pad->bottom;
    det->xmin = (det->xmin - pad->left) / sx;
    det->ymin = (det->ymin - pad->top) / sy;
    det->width /= sx;
    det->height /= sy;
    for (int k = 0; k < POSE_DET_KEYPOINTS; k++) {
        det->keypoints[k][0] = (det->keypoints[k][0] - pad->left) / sx;
        det->keypoints[k][1] = (det->keypoints[k][1] - pad->top) / sy;
    }
}
