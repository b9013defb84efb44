/* roi.c — the region the landmark model looks at, as MediaPipe computes it:
 *   mediapipe/modules/pose_landmark/pose_detection_to_roi.pbtxt (from a detection) and
 *   pose_landmarks_to_roi.pbtxt (from the previous frame's auxiliary landmarks): an
 *   AlignmentPointsRectsCalculator (mediapipe/calculators/util/alignment_points_to_rects_calculator.cc,
 *   rotation from detections_to_rects_calculator.cc) with start keypoint 0, end keypoint 1,
 *   target angle 90 degrees, then a RectTransformationCalculator
 *   (mediapipe/calculators/util/rect_transformation_calculator.cc) with scale 1.25, square_long,
 *   no shift. All in pixels, so that a non-square image gives a square ROI. */
#include "pose.h"

#include <math.h>

#define ROI_TARGET_ANGLE ((float)M_PI / 2.0f)
#define ROI_SCALE 1.25f

/* MediaPipe's NormalizeRadians: into [-pi, pi). */
static float normalize_radians(float a)
{
    return a - 2.0f * (float)M_PI * floorf((a + (float)M_PI) / (2.0f * (float)M_PI));
}

void pose_alignment_rect(float x0, float y0, float x1, float y1, int img_w, int img_h,
                         PoseRect *rect)
{
    const float w = (float)img_w, h = (float)img_h;
    const float xc = x0 * w, yc = y0 * h, xs = x1 * w, ys = y1 * h;
    const float size = sqrtf((xs - xc) * (xs - xc) + (ys - yc) * (ys - yc)) * 2.0f;
    rect->x_center = xc / w;
    rect->y_center = yc / h;
    rect->width = size / w;
    rect->height = size / h;
    rect->rotation = normalize_radians(ROI_TARGET_ANGLE - atan2f(-(ys - yc), xs - xc));
}

void pose_rect_expand(PoseRect *rect, int img_w, int img_h)
{
    const float w = (float)img_w, h = (float)img_h;
    const float long_side = fmaxf(rect->width * w, rect->height * h);
    rect->width = long_side / w * ROI_SCALE;
    rect->height = long_side / h * ROI_SCALE;
}

void pose_roi_from_detection(const PoseDetection *det, int img_w, int img_h, PoseRect *roi)
{
    pose_alignment_rect(det->keypoints[0][0], det->keypoints[0][1], det->keypoints[1][0],
                        det->keypoints[1][1], img_w, img_h, roi);
    pose_rect_expand(roi, img_w, img_h);
}

void pose_roi_from_landmarks(const PoseLandmarks *lm, int img_w, int img_h, PoseRect *roi)
{
    const PoseLandmark *a = &lm->landmarks[POSE_AUX_FIRST], *b = &lm->landmarks[POSE_AUX_FIRST + 1];
    pose_alignment_rect(a->x, a->y, b->x, b->y, img_w, img_h, roi);
    pose_rect_expand(roi, img_w, img_h);
}
