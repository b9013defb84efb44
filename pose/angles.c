/* angles.c — the six joint angles of the MTM-2 method (elbows, shoulders, wrists) and the wrist
 * positions from one frame's 33 MediaPipe landmarks. Landmark indices are MediaPipe's pose
 * topology: 11/12 shoulders, 13/14 elbows, 15/16 wrists, 17/18 pinkies, 23/24 hips. */
#include <math.h>

#include "pose.h"

enum {
    LM_L_SHOULDER = 11, LM_R_SHOULDER = 12, LM_L_ELBOW = 13, LM_R_ELBOW = 14,
    LM_L_WRIST = 15, LM_R_WRIST = 16, LM_L_PINKY = 17, LM_R_PINKY = 18,
    LM_L_HIP = 23, LM_R_HIP = 24
};

static const char *const feature_names[POSE_ANGLE_FEATURES] = {
    "l_elbow", "r_elbow", "l_shoulder", "r_shoulder", "l_wrist", "r_wrist",
    "l_wrist_x", "l_wrist_y", "r_wrist_x", "r_wrist_y"};

static const int angle_joints[POSE_ANGLES][3] = {
    {LM_L_SHOULDER, LM_L_ELBOW, LM_L_WRIST}, {LM_R_SHOULDER, LM_R_ELBOW, LM_R_WRIST},
    {LM_L_HIP, LM_L_SHOULDER, LM_L_ELBOW},   {LM_R_HIP, LM_R_SHOULDER, LM_R_ELBOW},
    {LM_L_ELBOW, LM_L_WRIST, LM_L_PINKY},    {LM_R_ELBOW, LM_R_WRIST, LM_R_PINKY}};

const char *pose_angle_name(int i)
{
    return i >= 0 && i < POSE_ANGLE_FEATURES ? feature_names[i] : NULL;
}

void pose_angle_joints(PoseAngleId id, int *a, int *b, int *c)
{
    *a = angle_joints[id][0];
    *b = angle_joints[id][1];
    *c = angle_joints[id][2];
}

float pose_joint_angle(float ax, float ay, float bx, float by, float cx, float cy)
{
    const double ux = (double)ax - bx, uy = (double)ay - by;
    const double vx = (double)cx - bx, vy = (double)cy - by;
    if ((ux == 0.0 && uy == 0.0) || (vx == 0.0 && vy == 0.0))
        return NAN;
    /* atan2 of cross and dot stays accurate near 0 and 180 degrees, where acos of the
     * normalised dot product loses half its digits. */
    const double cross = ux * vy - uy * vx, dot = ux * vx + uy * vy;
    return (float)(atan2(fabs(cross), dot) * (180.0 / M_PI));
}

static int visible(const float *lm, int j, float min_visibility)
{
    return lm[4 * j + 3] >= min_visibility;
}

void pose_angles_compute(const float *lm, float min_visibility, PoseAngles *out)
{
    out->valid_mask = 0;
    for (int i = 0; i < POSE_ANGLES; i++) {
        const int a = angle_joints[i][0], b = angle_joints[i][1], c = angle_joints[i][2];
        float v = NAN;
        if (visible(lm, a, min_visibility) && visible(lm, b, min_visibility) &&
            visible(lm, c, min_visibility))
            v = pose_joint_angle(lm[4 * a], lm[4 * a + 1], lm[4 * b], lm[4 * b + 1], lm[4 * c],
                                 lm[4 * c + 1]);
        out->value[i] = v;
        if (!isnan(v))
            out->valid_mask |= 1u << i;
    }
    const int wrists[2] = {LM_L_WRIST, LM_R_WRIST};
    for (int s = 0; s < 2; s++) {
        const int w = wrists[s], f = POSE_ANGLES + 2 * s;
        const int ok = visible(lm, w, min_visibility);
        out->value[f] = ok ? lm[4 * w] : NAN;
        out->value[f + 1] = ok ? lm[4 * w + 1] : NAN;
        if (ok)
            out->valid_mask |= 3u << f;
    }
    out->valid = out->valid_mask == (1u << POSE_ANGLE_FEATURES) - 1;
}
