/* landmarks.c — the landmark model's outputs into landmarks on the image, as MediaPipe's
 * mediapipe/modules/pose_landmark/tensors_to_pose_landmarks_and_segmentation.pbtxt and
 * pose_landmarks_and_segmentation_inverse_projection.pbtxt chain the calculators:
 *   TensorsToLandmarksCalculator (tensor/tensors_to_landmarks_calculator.cc): 39 landmarks of
 *     5 values in 256-pixel units; x, y, z divided by 256; visibility and presence through a
 *     sigmoid;
 *   RefineLandmarksFromHeatmapCalculator (util/refine_landmarks_from_heatmap_calculator.cc),
 *     kernel_size 7, min_confidence_to_refine 0.5 (its default): the 7x7 window of the 64x64
 *     heatmap around each landmark, through a sigmoid, gives a confidence-weighted mean
 *     position — col / 64, without a half-pixel offset, exactly as the calculator does —
 *     used when the window's largest confidence reaches 0.5;
 *   LandmarkLetterboxRemovalCalculator, then LandmarkProjectionCalculator with the ROI alone
 *     (util/landmark_projection_calculator.cc): rotate about the crop centre, scale by the ROI
 *     size, z scaled as x;
 *   TensorsToLandmarksCalculator on the world tensor (39 x 3, metres), the first 33 kept,
 *     WorldLandmarkProjectionCalculator (util/world_landmark_projection_calculator.cc) rotating
 *     x and y by the ROI rotation, VisibilityCopyCalculator copying visibility and presence. */
#include "pose.h"

#include <math.h>

#define HEATMAP_KERNEL 7
#define HEATMAP_MIN_CONFIDENCE 0.5f

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static void refine_from_heatmap(PoseLandmark *lm, const float *heatmap)
{
    const int size = POSE_HEATMAP_SIZE, ch = POSE_LMK_ALL, half = (HEATMAP_KERNEL - 1) / 2;
    for (int i = 0; i < POSE_LMK_ALL; i++) {
        /* Truncation toward zero, as the calculator's float-to-int conversion. */
        const float fcol = lm[i].x * (float)size, frow = lm[i].y * (float)size;
        if (!(fcol > -1.0f && fcol < (float)size && frow > -1.0f && frow < (float)size))
            continue;
        const int col = (int)fcol, row = (int)frow;
        const int c0 = col - half > 0 ? col - half : 0;
        const int c1 = col + half + 1 < size ? col + half + 1 : size;
        const int r0 = row - half > 0 ? row - half : 0;
        const int r1 = row + half + 1 < size ? row + half + 1 : size;
        float sum = 0.0f, wcol = 0.0f, wrow = 0.0f, best = 0.0f;
        for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++) {
                const float conf = sigmoid(heatmap[((size_t)r * size + c) * ch + i]);
                sum += conf;
                best = fmaxf(best, conf);
                wcol += (float)c * conf;
                wrow += (float)r * conf;
            }
        if (best >= HEATMAP_MIN_CONFIDENCE && sum > 0.0f) {
            lm[i].x = wcol / (float)size / sum;
            lm[i].y = wrow / (float)size / sum;
        }
    }
}

void pose_landmarks_decode(const float *raw, const float *heatmap, const float *world,
                           float score, const PoseRect *roi, const PoseLetterbox *pad,
                           PoseLandmarks *out)
{
    const float in = (float)POSE_LMK_SIZE;
    out->score = score;
    PoseLandmark *lm = out->landmarks;
    for (int i = 0; i < POSE_LMK_ALL; i++) {
        const float *r = raw + 5 * i;
        lm[i].x = r[0] / in;
        lm[i].y = r[1] / in;
        lm[i].z = r[2] / in;
        lm[i].visibility = sigmoid(r[3]);
        lm[i].presence = sigmoid(r[4]);
    }
    if (heatmap)
        refine_from_heatmap(lm, heatmap);
    const float sx = 1.0f - pad->left - pad->right, sy = 1.0f - pad->top - pad->bottom;
    const float c = cosf(roi->rotation), s = sinf(roi->rotation);
    for (int i = 0; i < POSE_LMK_ALL; i++) {
        const float x = (lm[i].x - pad->left) / sx - 0.5f;
        const float y = (lm[i].y - pad->top) / sy - 0.5f;
        lm[i].x = (c * x - s * y) * roi->width + roi->x_center;
        lm[i].y = (s * x + c * y) * roi->height + roi->y_center;
        lm[i].z = lm[i].z / sx * roi->width;
    }
    for (int i = 0; i < POSE_LANDMARKS; i++) {
        const float *w = world + 3 * i;
        out->world[i].x = c * w[0] - s * w[1];
        out->world[i].y = s * w[0] + c * w[1];
        out->world[i].z = w[2];
        out->world[i].visibility = lm[i].visibility;
        out->world[i].presence = lm[i].presence;
    }
}
